"""The tracker's one index of "the same referral", and the Referral IDs issued (next free ID).

``_same`` (``identity.SameReferral`` of sheet row numbers) is what ``find`` and ``upsert`` look
rows up in and what ``row_index`` hands ingest and import a copy of; validate groups its rows
with the same class, so every way in compares Referral IDs, Form IDs and people alike. By
Referral ID it is read as cheaply as possible: a stream of the sheet XML for the IDs in use
(``sheetscan.py``) unless the rows were read anyway; by Form ID and Mosaic ID + date received
once ``row_index`` (``_keyed``) has read those columns.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from cstracker.core import identity
from cstracker.core.convert import DATE1904_OFFSET, SERIAL_RANGE
from cstracker.core.errors import REPAIR, TrackerError
from cstracker.core.rules import Record
from cstracker.core.schema import Kind
from cstracker.tracker.create import SHEET_REFERRALS
from cstracker.tracker.state import TrackerState
from cstracker.xlsx import encryption
from cstracker.xlsx.sheetscan import SheetScan, scan_sheet

_EXCEL_ZERO = dt.datetime(1899, 12, 30)
#: what "the same referral" is found by (``identity.SameReferral``, ``Tracker.row_index``)
_KEY_COLUMNS = ("referral_id", "form_id", "mosaic_id", "date_received")


@dataclass
class RowIndex:
    """``Tracker.row_index()``: the tracker's rows as "the same referral" finds them (sheet row numbers),
    and their typed records, fetched for many rows at once (``prefetch``) or one by one."""

    same: identity.SameReferral[int]
    tracker: TrackerIndex
    records: dict[int, Record] = field(default_factory=dict)

    def prefetch(self, numbers: Iterable[int | None]) -> None:
        wanted = {n for n in numbers if n is not None and n not in self.records}
        if wanted:
            self.records.update(self.tracker._fetch_rows(wanted))

    def record(self, number: int | None) -> Record | None:
        if number is None:
            return None
        if number not in self.records:
            self.prefetch([number])
        return self.records[number]


class TrackerIndex(TrackerState):
    """The row index (``_same``), the IDs issued, ``find``, ``row_index``, ``next_referral_id``."""

    def _index(self) -> None:
        """Read the rows once (as stored, text); index the non-blank ones by Referral ID unless a scan did."""
        if self._rows_read:
            return
        lay = self.layout
        if lay.table_ref[3] == lay.header_row + 1:
            # A new tracker (one empty Table row): a scan says so without loading a spreadsheet reader.
            self._ensure_index()
            if self._file_empty:
                self._numbers, self._rows_read = [], True
                return
        frame = self._load(typed=False)
        first = self.layout.header_row + 1
        blank = self._blank_mask(frame).to_numpy() if len(frame) else []
        self._frame = frame
        self._numbers = [first + i for i in range(len(frame)) if not blank[i]]
        self._rows_read = True
        if self._indexed:
            return
        self._last_row = max([self.layout.table_ref[3], *self._numbers[-1:]])
        self._any_rows = bool(self._numbers)
        ids = frame["referral_id"].astype(object).where(frame["referral_id"].notna(), None).tolist()
        self._index_ids((ids[number - first], number) for number in self._numbers)
        self._indexed = True

    def _scan(self, wanted: Collection[str], rows: Collection[int] = (), keys: bool = False) -> SheetScan:
        lay = self.layout
        used = [c for k, c in lay.columns.items() if lay.fields_by_key[k].kind is not Kind.FORMULA]
        try:
            with encryption.open_zip(encryption.source(self.path)) as zf:
                return scan_sheet(
                    zf,
                    lay.sheet_part,
                    id_col=lay.columns["referral_id"],
                    columns=list(lay.columns.values()),
                    used_cols=used,
                    first_row=lay.header_row + 1,
                    tail_from=lay.table_ref[3],
                    wanted=wanted,
                    wanted_rows=rows,
                    key_cols=[lay.columns[k] for k in _KEY_COLUMNS] if keys else (),
                )
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, ET.ParseError, EOFError) as e:
            raise TrackerError(
                f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
            ) from None

    def _keep_fetched(self, found: SheetScan) -> None:
        columns = self.layout.columns
        stamps = [f.key for f in self.fields if f.kind is Kind.DATETIME]
        shift = DATE1904_OFFSET if self.layout.date1904 else 0
        for number, values in found.rows.items():
            raw = {k: values.get(c) for k, c in columns.items()}
            for key in stamps:
                # A date-time serial is stored to 8 decimals of a day: round to the second, as readers do.
                serial = raw[key] + shift if isinstance(raw[key], float) else None
                if serial is not None and SERIAL_RANGE[0] <= serial <= SERIAL_RANGE[1]:
                    raw[key] = _EXCEL_ZERO + dt.timedelta(seconds=round(serial * 86400))
            self._fetched[number] = raw

    def _ensure_index(
        self, wanted: Collection[str] = (), rows: Collection[int] = (), keys: bool = False
    ) -> None:
        """The IDs in use and the last row used, plus the rows of the ``wanted`` IDs and the sheet
        ``rows`` (and with ``keys`` every value of the columns ``row_index`` needs), read as cheaply
        as possible."""
        if keys and self._indexed and self._key_values is None and not self._all_keys:
            self._indexed = False  # read again, with the key columns this time
        if not self._indexed:
            found = self._scan(wanted, rows, keys)
            self._key_values = found.keys if keys else None
            self._index_ids(found.ids.items())  # in sheet order: the first row of an ID first
            self._last_row = max(self.layout.table_ref[3], found.last_used)
            # Rows strictly inside the Table are not checked for content by the scan; this only
            # matters for the new tracker's single empty row, where there are none.
            self._any_rows = bool(found.ids) or found.last_used > 0
            self._file_empty = not self._any_rows and self.layout.table_ref[3] == self.layout.header_row + 1
            self._keep_fetched(found)
            self._indexed = True
        if self._frame is not None:
            return
        # The rows of the wanted IDs not fetched yet: an ID stored otherwise than it was asked for
        # ("CS-2026- 0001") is the same referral (``identity.referral_key``), found by its row.
        held = (self._fetched, self._touched, self._new)
        numbers = {*rows, *(self._same.referral(rid) for rid in wanted)} - {None}
        missing = {n for n in numbers if not any(n in h for h in held)}
        if missing:
            self._keep_fetched(self._scan((), missing))

    def _index_ids(self, pairs: Iterable[tuple[Any, int]]) -> None:
        """The one index by Referral ID from (stored ID, sheet row) pairs in sheet order, and the count
        of IDs issued (the settings' record and every ID in the file)."""
        same = identity.SameReferral.of_ids(pairs)
        self._same, self._all_keys = same, False
        self._ids = self._issued()
        for rid in same.by_id:
            self._ids.note(rid)

    def _issued(self) -> identity.ReferralIds:
        """The highest number ever issued per (prefix, year), as the settings keep it (retention removes rows)."""
        return identity.ReferralIds.from_text(
            self.settings.referral_id_prefix, self.settings.referral_ids_issued
        )

    def issued_ids_text(self) -> str:
        """The highest Referral ID issued per prefix and year, IDs in the file included: "CS-2019-0042, ..."."""
        self._ensure_index()
        return self._ids.text()

    def referral_ids(self) -> identity.ReferralIds:
        """A copy of the count of Referral IDs issued (IDs in the file included), to plan new IDs with."""
        self._ensure_index()
        return self._ids.copy()

    def find(
        self,
        referral_id: str | None = None,
        mosaic_id: str | None = None,
        date_received: dt.date | None = None,
    ) -> Record | None:
        """The first record matching every criterion given (Referral ID, or Mosaic ID + date received)."""
        if referral_id:
            self._ensure_index({identity.referral_key(referral_id) or ""} - {""})
            number = self._same.referral(referral_id)
            return self._typed(self._row(number)) if number else None
        if mosaic_id is None and date_received is None:
            return None
        if mosaic_id is not None and date_received is not None and not (self._new or self._touched):
            number = self._keyed().person(mosaic_id, date_received)
            return self._typed(self._row(number)) if number is not None else None
        for row in self.rows():
            rec = self._typed(row)
            if mosaic_id is not None and identity.mosaic_key(rec.get("mosaic_id")) != identity.mosaic_key(
                mosaic_id
            ):
                continue
            if date_received is not None and rec.get("date_received") != date_received:
                continue
            return rec
        return None

    def row_index(self) -> RowIndex:
        """Every row by Referral ID, Form ID and Mosaic ID + date received (``identity.SameReferral``),
        as sheet row numbers; the typed records of the rows a batch matches are fetched in one scan.

        A copy of the tracker's own index (``_keyed``), for a batch to add its own rows to.
        """
        records: dict[int, Record] = {}
        return RowIndex(self._keyed(records).copy(), self, records)

    def _keyed(self, records: dict[int, Record] | None = None) -> identity.SameReferral[int]:
        """The one index with all its keys: by Referral ID, Form ID and Mosaic ID + date received.

        Read in the one scan of the sheet a write needs anyway (``sheetscan``): the four key
        columns only, each distinct value read once (``reading.read_cell``), never whole rows.
        With rows staged in this session, made from the rows as they now stand (their typed
        records go into ``records``).
        """
        from cstracker.core.reading import read_stored

        if self._new or self._touched or self._removed:
            same: identity.SameReferral[int] = identity.SameReferral()
            for row in self.rows():
                if row.row not in self._removed:
                    rec = self._typed(row)
                    if records is not None:
                        records[row.row] = rec
                    same.add(
                        row.row,
                        rec.get("referral_id"),
                        rec.get("form_id"),
                        rec.get("mosaic_id"),
                        rec.get("date_received"),
                    )
            return same
        self._ensure_index(keys=True)
        if self._all_keys:
            return self._same
        lay = self.layout
        stored_by_col = self._key_values or {}
        columns: dict[str, dict[int, Any]] = {}
        numbers: set[int] = set()
        for key in _KEY_COLUMNS:
            column = columns[key] = {}
            stored = stored_by_col.get(lay.columns[key], {})
            # each value through the one reading of a cell, column-wise (``reading.read_stored``)
            readings = read_stored(lay.fields_by_key[key], stored.values(), self.lists, lay.date1904)
            for number, got in zip(stored, readings, strict=True):
                if got.readable and got.value is not None:
                    column[number] = got.value
                    numbers.add(number)
        same = identity.SameReferral()
        for number in sorted(numbers):
            same.add(
                number,
                columns["referral_id"].get(number),
                columns["form_id"].get(number),
                columns["mosaic_id"].get(number),
                columns["date_received"].get(number),
            )
        self._same, self._all_keys = same, True
        self._key_values = None  # read into the index: not needed again
        return same

    def _fetch_rows(self, numbers: Collection[int]) -> dict[int, Record]:
        """The typed records of these sheet rows, read in one scan of the sheet."""
        self._ensure_index(rows=numbers)
        return {n: self._typed(self._row(n)) for n in numbers}

    def next_referral_id(self, date_received: dt.date | None = None) -> str:
        """The next free ``PREFIX-YEAR-NNNN`` for the year of ``date_received`` (today when None)."""
        self._ensure_index()
        return self._ids.next(date_received)
