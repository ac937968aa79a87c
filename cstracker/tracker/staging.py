"""Staging edits to an open tracker: upserted rows, removed rows, settings, hidden sheets, new codes.

Nothing is written until ``save`` (``saving.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cstracker.core import derived, identity
from cstracker.core.convert import convert
from cstracker.core.errors import REPAIR, TrackerError
from cstracker.core.schema import ROW_STAMPS, CodeLists
from cstracker.tracker import ownsheets
from cstracker.tracker.newrows import already_clean
from cstracker.tracker.state import TrackerState
from cstracker.xlsx.reader_errors import calamine_errors


@dataclass
class UpsertResult:
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    #: Referral ID -> why nothing was written for that record (another young person's Mosaic ID)
    refused: dict[str, str] = field(default_factory=dict)


class TrackerStaging(TrackerState):
    """``upsert``, ``remove_rows``, ``stage_settings``, ``stage_own_sheet``, ``add_codes``."""

    def add_codes(self, list_key: str, codes: Iterable[str]) -> list[str]:
        """Grow an open code list (on the Lists sheet, when saved); returns the codes that were new."""
        new = self.lists.not_listed(list_key, codes)
        if new:
            self._lists_on_file = self._lists_on_file or self.layout.lists
            grown = dict(self.lists.lists)
            grown[list_key] = (*grown[list_key], *new)
            self.layout.lists = CodeLists(lists=grown, extra_synonyms=self.lists.extra_synonyms)
            self._added_codes.setdefault(list_key, []).extend(new)
            self._checks = None
        return new

    # -- removing and settings -------------------------------------------------------------------
    def remove_rows(self, numbers: Iterable[int]) -> None:
        """Clear these sheet rows at the next save: every cell of the Table's columns (retention).

        The row itself stays (an empty Table row, skipped by every reader): moving the rows
        below up would move what a coordinator anchored to them (comments, pictures), which
        live in parts cstracker does not own.
        """
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        self._ensure_index()
        # the removed IDs stay "issued": they are never given again
        self._settings["referral_ids_issued"] = self.issued_ids_text()
        for number in numbers:
            self._removed.add(number)
            self._updates.pop(number, None)

    def stage_settings(self, values: Mapping[str, str | int | None]) -> None:
        """Change settings of the tracker at the next save."""
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        self._settings.update(values)

    # -- the tool's own hidden sheets --------------------------------------------------------------
    def own_sheet(self, name: str) -> list[list[Any]] | None:
        """The rows of one of the tool's hidden sheets (as staged, else as saved); None when there is none."""
        if name in self._sheets:
            return [list(r) for r in self._sheets[name]]
        if name not in self.layout.sheet_parts:
            return None
        try:
            return ownsheets.read_rows(self.path, name)
        except calamine_errors() as e:
            raise TrackerError(f"{self.path}: sheet {name} cannot be read ({e}); {REPAIR}") from None

    def stage_own_sheet(self, name: str, rows: list[list[Any]]) -> None:
        """Write ``rows`` as the whole of the hidden sheet ``name`` at the next ``save`` (added when missing)."""
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        self._sheets[name] = rows  # held as given until the save (a large record is not copied)

    # -- writing ---------------------------------------------------------------------------------
    def _value(self, i: int, value: Any, where: str) -> Any:
        """One incoming value for field number ``i``, converted (unless it is already what convert gives)."""
        if value is None:
            return self._blank[i]
        if self._checks is None:
            self._checks = already_clean(self.fields, self.lists)
        if self._checks[i](value):
            return value
        f = self.fields[i]
        got = convert(f, value, self.lists)
        if not got.ok:
            shown = "" if f.sensitive else f" {str(value)[:40]!r}"
            raise TrackerError(f"{self.path}: {where}: {f.label}{shown} {got.error}")
        return got.value

    def _position(self, key: str, where: str) -> int | None:
        """The field number of ``key``; None for keys cstracker computes or callers' own (``_...``)."""
        if key.startswith("_") or key in derived.FORMULAS:
            return None
        i = self._pos.get(key)
        if i is None:
            raise TrackerError(f"{self.path}: {where}: '{key}' is not a column of this tracker")
        return i

    def _clean(self, record: Mapping[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in record.items():
            i = self._position(key, where)
            if i is not None:
                out[key] = self._value(i, value, where)
        return out

    def _clean_new(self, record: Mapping[str, Any], where: str) -> list[Any]:
        """A new row's values in field order, blanks for the keys the record leaves out."""
        values = list(self._blank)
        for key, value in record.items():
            i = self._position(key, where)
            if i is not None:
                values[i] = self._value(i, value, where)
        return values

    def upsert(
        self,
        records: Iterable[Mapping[str, Any]],
        source: str | None = None,
        today: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> UpsertResult:
        """Add or update rows keyed on Referral ID; a record without one gets the next free ID.

        A record whose Mosaic ID names another young person than the row with its Referral ID
        is refused (``identity.py``): nothing is written for it and ``result.refused`` says why.
        """
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        records = records if isinstance(records, list | tuple) else list(records)
        self._ensure_index({_id_key(r) for r in records} - {""})
        now = (now or dt.datetime.now()).replace(microsecond=0)
        result = UpsertResult()
        placeholder = self._placeholder_row()
        pos = self._pos
        for n, incoming in enumerate(records, start=1):
            rid = _id_key(incoming)
            where = f"record {n}" + (f" ({rid})" if rid else "")
            existing = self._same.referral(rid) if rid else None
            if existing is None:
                values = self._clean_new(incoming, where)
                if source is not None and "source" not in incoming:
                    values[pos["source"]] = source
                if not rid:
                    self._ensure_index()
                    rid = self._ids.next(values[pos["date_received"]])
                values[pos["referral_id"]] = rid
                values[pos["last_updated"]] = now
                row = dict(zip(self._keys, values, strict=True))
                for key, value in self._computed(row, today).items():
                    values[pos[key]] = value
                number = placeholder or self._last_row + 1
                placeholder = None
                self._last_row = max(self._last_row, number)
                self._new[number] = tuple(values)
                self._any_rows = True
                self._same.add(
                    number,
                    rid,
                    values[pos["form_id"]],
                    values[pos["mosaic_id"]],
                    values[pos["date_received"]],
                )
                self._ids.note(rid)
                result.added.append(rid)
                continue
            new = self._clean(incoming, where)
            if source is not None and "source" not in new:
                new["source"] = source
            old = self._typed(self._row(existing))
            if identity.different_person(old.get("mosaic_id"), new.get("mosaic_id")):
                result.refused[rid] = identity.refusal(rid, "record")
                continue
            changed = [k for k, v in new.items() if k not in ROW_STAMPS and old.get(k) != v]
            if not changed:
                result.unchanged.append(rid)
                continue
            new["last_updated"] = now
            computed = self._computed({**old, **new}, today)
            if existing in self._new:
                row = {**self._raw(existing), **new, **computed}
                self._new[existing] = tuple(row[k] for k in self._keys)
            else:
                self._updates.setdefault(existing, {}).update({**new, **computed})
                self._touched[existing] = {**self._raw(existing), **new, **computed}
            result.updated[rid] = changed
        return result

    def _stage_new_formulas(self, today: dt.date | None) -> None:
        """Every Table row gets the new Status and Follow-up due formulas (with values worked out now)."""
        lay = self.layout
        first, last = lay.header_row + 1, lay.table_ref[3]
        self._index()
        for number in range(first, last + 1):
            if number in self._new:
                continue
            if number in self._updates:
                continue
            record = self._typed(self._row(number)) if number in self._numbers else {}
            self._updates[number] = self._computed(record, today)

    def _placeholder_row(self) -> int | None:
        """The new tracker's one empty Table row, reused by the first row added."""
        c1, r1, c2, r2 = self.layout.table_ref
        if self._any_rows or self._touched or self._new or r2 != r1 + 1:
            return None
        return r2

    def _computed(self, record: Mapping[str, Any], today: dt.date | None) -> dict[str, Any]:
        return derived.computed_values(
            dict(record), self.settings.follow_up_days, today, self.settings.tracker_start
        )


def _id_key(record: Mapping[str, Any]) -> str:
    """The record's Referral ID as the index compares it (``identity.referral_key``); "" when none."""
    return identity.referral_key(record.get("referral_id")) or ""
