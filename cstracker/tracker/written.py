"""What each form and each import row last wrote, so a coordinator's own edits are never overwritten.

The three-way rule (``merge``): when a form (or a source row) comes in again, a
field it did not change since its last version is left as the tracker has it,
whatever the coordinator did since; a field it changed goes in when the tracker
still holds the last version's value (or nothing); a field changed on both
sides keeps the tracker's value and is reported as a conflict, unless the
caller prefers the incoming value. With no last version (a blank form's first
ingest, a source row seen for the first time) blanks on the tracker are filled
and a different value already there is a conflict.

The record is kept per origin -- ``form F-3F9A12C07B4E``, or ``import: old.csv
row 12`` -- never per sheet row, since coordinators sort. It lives in the hidden
sheet ``_cstracker_written`` (written by ``ownsheets.py``), which survives
Excel and LibreOffice saving the tracker. Each value is kept as a short
fingerprint (a BLAKE2 digest of its canonical text, a tick as 1), not
as the value: compact, and no second copy of a child's details to look after.
A pre-filled form carries the fingerprints of what it was pre-filled with in
its own hidden sheet, so its first ingest has a last version too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cstracker.core.identity import mosaic_key, referral_key

SHEET = "_cstracker_written"
TITLE = (
    "What each consultation form and import row last wrote to the Referrals sheet, as fingerprints "
    "(no values); cstracker uses it so that your own edits win. Written by cstracker: do not edit."
)
KEYS_LABEL = "fields"
#: fingerprints per record in the packed cell: one per key, in the keys row's order
_SEP = ","


_blake2b = hashlib.blake2b


def fingerprint(key: str, value: Any) -> str | None:
    """A short, stable stand-in for a field's value; None for a blank (nothing, an unticked box).

    Ten hex digits of a BLAKE2 digest of the value's canonical text (40 bits: two different values
    of one field look the same about once in a million million comparisons); a tick is "1". Called
    for every value an import writes, so the common cases come first.
    """
    kind = type(value)
    if kind is str:
        text = mosaic_key(value) or "" if key == "mosaic_id" else value.strip()
        if "\r" in text:
            text = text.replace("\r\n", "\n")
    elif value is None or value is False:
        return None
    elif value is True:
        return "1"
    elif key == "mosaic_id":
        text = mosaic_key(value) or ""
    elif kind is dt.datetime:
        text = value.isoformat(sep=" ")
    elif kind is dt.date:
        text = value.isoformat()
    elif kind is float and value.is_integer():
        text = str(int(value))
    else:
        text = str(value).strip()
    if not text:
        return None
    return _blake2b(text.encode(), digest_size=5).hexdigest()


def fingerprints(record: Mapping[str, Any], keys: Iterable[str] | None = None) -> dict[str, str]:
    """Fingerprints of the non-blank values of ``record`` (of ``keys`` only, when given)."""
    wanted = record.keys() if keys is None else keys
    out = {}
    for k in wanted:
        fp = fingerprint(k, record.get(k))
        if fp is not None:
            out[k] = fp
    return out


def pack(fps: Mapping[str, str]) -> str:
    """Fingerprints as one cell's text (for a form's hidden sheet): compact JSON."""
    return json.dumps(dict(sorted(fps.items())), separators=(",", ":"), ensure_ascii=False)


def unpack(text: Any) -> dict[str, str] | None:
    """The inverse of ``pack``; None for anything that is not what ``pack`` wrote."""
    if not isinstance(text, str):
        return None
    try:
        got = json.loads(text)
    except ValueError:
        return None
    if not isinstance(got, dict) or not all(isinstance(v, str) for v in got.values()):
        return None
    return {str(k): v for k, v in got.items()}


# ---------------------------------------------------------------------------
# the three-way rule
# ---------------------------------------------------------------------------


@dataclass
class Merge:
    """What one incoming record does to one tracker row."""

    #: key -> the incoming value to write
    take: dict[str, Any] = field(default_factory=dict)
    #: keys changed on both sides (or, with no last version, different values): the tracker keeps its own
    conflicts: list[str] = field(default_factory=list)
    #: the record to remember for this origin from now on
    remember: dict[str, str] = field(default_factory=dict)


def merge(
    incoming: Mapping[str, Any],
    tracker: Mapping[str, Any],
    base: Mapping[str, str] | None,
    *,
    prefer_incoming: bool = False,
    clears: bool = True,
    never_cleared: Iterable[str] = (),
) -> Merge:
    """Apply the three-way rule to every key of ``incoming`` (see the module's docstring).

    ``base``: the fingerprints of the origin's last version, or None when there is none.
    ``clears``: a blank incoming value may clear the tracker's (a form's own correction); an
    import never blanks. Keys in ``never_cleared`` are never blanked either.
    """
    out = Merge()
    never = set(never_cleared)
    for key, value in incoming.items():
        new, now = fingerprint(key, value), fingerprint(key, tracker.get(key))
        if base is None:
            if new is None or new == now:
                last = new
            elif now is None or prefer_incoming:
                out.take[key] = value
                last = new
            else:
                out.conflicts.append(key)
                last = None
        else:
            last = base.get(key)
            if new == last:
                pass  # not changed on this side since its last version: the tracker's value stands
            elif new is None and (not clears or key in never or now != last):
                last = new  # a blank is not a value to set over the tracker's
            elif now in (last, new) or now is None or prefer_incoming:
                if now != new:
                    out.take[key] = value
                last = new
            else:
                out.conflicts.append(key)  # changed on both sides: the tracker's value stands
        if last is not None:
            out.remember[key] = last
    return out


# ---------------------------------------------------------------------------
# the record in the tracker
# ---------------------------------------------------------------------------


class Written:
    """The records of the hidden sheet: origin -> (Referral ID of the row it wrote, packed fingerprints).

    Each record is held packed, as its cell holds it (one fingerprint per key of ``keys``, comma
    separated): an import of 50,000 rows then costs a string per row, not a dictionary.
    """

    def __init__(self, rows: list[list[Any]] | None = None) -> None:
        self.keys: list[str] = []
        self._at: dict[str, int] = {}
        self.records: dict[str, tuple[str, str]] = {}
        self.dirty = False
        if rows:
            self._parse(rows)

    @classmethod
    def load(cls, tracker: Any) -> Written:
        return cls(tracker.own_sheet(SHEET))

    def _parse(self, rows: list[list[Any]]) -> None:
        keys: list[str] = []
        for row in rows:
            cells = [c if isinstance(c, str) else "" for c in row[:3]] + [""] * (3 - len(row[:3]))
            origin, second, third = cells
            if origin == KEYS_LABEL:
                try:
                    got = json.loads(second)
                except ValueError:
                    got = []
                keys = [k for k in got if isinstance(k, str)] if isinstance(got, list) else []
                continue
            if not origin or not keys or origin == TITLE:
                continue
            self.records[origin] = (second, third)
        self.keys = keys
        self._at = {k: i for i, k in enumerate(keys)}

    def pack(self, fps: Mapping[str, str]) -> str:
        """Fingerprints as the record's cell holds them (keys new to the sheet are added to ``keys``)."""
        at = self._at
        for k in fps:
            if k not in at:
                at[k] = len(self.keys)
                self.keys.append(k)
        parts = [""] * (max((at[k] for k in fps), default=-1) + 1)
        for k, fp in fps.items():
            parts[at[k]] = fp
        return _SEP.join(parts)

    def last(self, origin: str, referral_id: str | None) -> dict[str, str] | None:
        """The origin's last version, if it went into the row with ``referral_id``."""
        got = self.records.get(origin)
        if got is None or not referral_id or referral_key(got[0]) != referral_key(referral_id):
            return None
        return {k: fp for k, fp in zip(self.keys, got[1].split(_SEP), strict=False) if fp}

    def put(self, origin: str, referral_id: str, fps: Mapping[str, str] | str) -> None:
        """Remember ``fps`` (a mapping, or what ``pack`` made of one) for ``origin``."""
        value = (referral_id, fps if isinstance(fps, str) else self.pack(fps))
        if self.records.get(origin) != value:
            self.records[origin] = value
            self.dirty = True

    def forget(self, referral_ids: Iterable[str]) -> int:
        """Drop the records of the rows with these Referral IDs (retention removed them): a record's
        fingerprints must not outlive the referral. Returns how many were dropped."""
        gone = {referral_key(r) for r in referral_ids if r}
        drop = [origin for origin, (rid, _) in self.records.items() if rid and referral_key(rid) in gone]
        for origin in drop:
            del self.records[origin]
        if drop:
            self.dirty = True
        return len(drop)

    def rows(self) -> list[list[Any]]:
        out: list[list[Any]] = [[TITLE], [KEYS_LABEL, json.dumps(self.keys, ensure_ascii=False)]]
        out.extend([origin, rid, packed] for origin, (rid, packed) in self.records.items())
        return out

    def stage(self, tracker: Any) -> None:
        """Hand the records to the tracker's next save, when anything changed."""
        if self.dirty:
            tracker.stage_own_sheet(SHEET, self.rows())
            self.dirty = False


def form_origin(form_id: str) -> str:
    return f"form {form_id}"
