"""The tracker API every command uses: open, read, upsert, save.

Reading uses fastexcel (the Rust calamine reader) on the Referrals sheet, with
columns found by their heading. Writing never goes through a spreadsheet
library: ``save`` streams a patch of the Referrals sheet part and its Table
part and raw-copies every other part of the package (``xlsxpatch.py``),
through the atomic, backed-up, locked save of ``safety.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker import derived, safety
from cstracker.config import Config, Settings
from cstracker.convert import EXCEL_EPOCH, convert, is_blank, looks_like_formula, parse_date
from cstracker.errors import TrackerError, TrackerLayoutError
from cstracker.layout import Layout, col_letters, read_layout
from cstracker.rules import Record, convert_record
from cstracker.schema import CodeLists, Field, Kind
from cstracker.workbook import SHEET_REFERRALS, create_tracker
from cstracker.xlsxpatch import Cell, SheetPatcher, patch_table, rewrite_package

_SEQ_ID = re.compile(r"^([A-Z][A-Z0-9]*)-(\d{4})-(\d+)$")
_FASTEXCEL_TYPE = {Kind.DATE: "datetime", Kind.DATETIME: "datetime", Kind.INT: "float"}


@dataclass
class TrackerRow:
    """One non-blank row: its sheet row number, values as stored, and each field's cell ("F12")."""

    row: int
    raw: dict[str, Any]
    cells: dict[str, str]


@dataclass
class UpsertResult:
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def init_tracker(path: str | Path, config: Config, overwrite: bool = False) -> Path:
    """Create a new tracker at ``path`` atomically; an existing file is refused unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise TrackerError(
            f"{path}: a file is already there; use --overwrite to replace it (a backup is kept)"
        )
    if path.suffix.lower() != ".xlsx":
        raise TrackerError(f"{path}: a tracker must be an .xlsx file")
    if not path.parent.exists():
        raise TrackerError(f"{path}: the folder {path.parent} does not exist")
    with safety.tracker_lock(path):
        if path.exists():
            safety.check_not_open_elsewhere(path)
        safety.atomic_write(
            path,
            lambda tmp: create_tracker(tmp, config),
            check_parts=("xl/workbook.xml",),
            keep_backups=max(1, config.settings.backups_kept),
        )
    return path


def excel_serial(value: dt.date) -> int | float:
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return round(delta.days + delta.seconds / 86400, 8)
    return (value - EXCEL_EPOCH).days


class Tracker:
    """An open tracker. ``open`` reads; ``open_for_update`` also locks and allows ``upsert``/``save``."""

    def __init__(self, path: Path, layout: Layout, writable: bool = False):
        self.path = path
        self.layout = layout
        self.writable = writable
        self._frame: Any = None
        self._numbers: list[int] = []
        #: sheet row -> raw values of rows added or updated in this session
        self._touched: dict[int, dict[str, Any]] = {}
        self._by_id: dict[str, int] = {}
        self._seq: dict[tuple[str, int], int] = {}
        self._updates: dict[int, dict[str, Any]] = {}
        self._last_row = 0

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> Tracker:
        path = Path(path)
        return cls(path, read_layout(path))

    @classmethod
    @contextmanager
    def open_for_update(cls, path: str | Path, force: bool = False) -> Iterator[Tracker]:
        path = Path(path)
        with safety.tracker_lock(path):
            safety.check_not_open_elsewhere(path, force)
            t = cls(path, read_layout(path), writable=True)
            yield t

    @property
    def settings(self) -> Settings:
        return self.layout.settings

    @property
    def lists(self) -> CodeLists:
        return self.layout.lists

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.layout.fields

    # -- reading ---------------------------------------------------------------------------------
    def _load(self, typed: bool):
        """The Referrals sheet, our columns only, as a pandas frame keyed by field key."""
        import fastexcel

        lay = self.layout
        by_col = {col: lay.fields_by_key[key] for key, col in lay.columns.items()}
        dtypes = {
            lay.headers[col]: (_FASTEXCEL_TYPE.get(f.kind, "string") if typed else "string")
            for col, f in by_col.items()
        }
        if typed:
            dtypes[lay.headers[lay.columns["follow_up_due"]]] = "datetime"
        try:
            reader = fastexcel.read_excel(str(self.path))
            sheet = reader.load_sheet_by_name(
                SHEET_REFERRALS,
                header_row=lay.header_row - 1,
                use_columns=lambda c: c.absolute_index + 1 in by_col,
                dtypes=dtypes,
            )
            frame = sheet.to_pandas()
            names = {c.name: by_col[c.absolute_index + 1].key for c in sheet.selected_columns}
        except Exception as e:  # fastexcel raises its own error types per problem
            raise TrackerError(f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e})") from None
        frame = frame.rename(columns=names)
        missing = [lay.fields_by_key[k].label for k in lay.columns if k not in frame.columns]
        if missing:
            raise TrackerLayoutError(
                f"{self.path}: sheet {SHEET_REFERRALS}: the heading row does not match the Table's columns "
                f"({', '.join(missing)}); put the Table's header in row {lay.header_row}"
            )
        return frame

    def _blank_mask(self, frame):
        keys = [f.key for f in self.fields if f.kind is not Kind.FORMULA]
        mask = None
        for key in keys:
            col = frame[key]
            blank = col.isna()
            if col.dtype == object or str(col.dtype).startswith(("str", "string")):
                blank = blank | (col.astype("string").str.strip() == "").fillna(True)
            mask = blank if mask is None else (mask & blank)
        return mask

    def _index(self) -> None:
        """Read the rows once (as stored, text) and index the non-blank ones by Referral ID."""
        if self._frame is not None:
            return
        frame = self._load(typed=False)
        first = self.layout.header_row + 1
        blank = self._blank_mask(frame).to_numpy() if len(frame) else []
        self._frame = frame
        self._numbers = [first + i for i in range(len(frame)) if not blank[i]]
        self._last_row = max([self.layout.table_ref[3], *self._numbers[-1:]])
        ids = frame["referral_id"].astype("string").str.strip().str.upper().tolist()
        self._by_id = {}
        for number in reversed(self._numbers):
            rid = ids[number - first]
            if isinstance(rid, str) and rid:
                self._by_id[rid] = number
        self._seq = {}
        for rid in self._by_id:
            self._note_id(rid)

    def _note_id(self, rid: str) -> None:
        m = _SEQ_ID.match(rid)
        if m:
            key = (m[1], int(m[2]))
            self._seq[key] = max(self._seq.get(key, 0), int(m[3]))

    def _raw(self, number: int) -> dict[str, Any]:
        if number in self._touched:
            return self._touched[number]
        assert self._frame is not None
        i = number - (self.layout.header_row + 1)
        values = self._frame.iloc[i].tolist()
        return {
            k: (None if v is None or v != v else v) for k, v in zip(self._frame.columns, values, strict=True)
        }

    def _row(self, number: int) -> TrackerRow:
        letters = {k: col_letters(c) for k, c in self.layout.columns.items()}
        return TrackerRow(number, self._raw(number), {k: f"{letters[k]}{number}" for k in letters})

    def rows(self) -> list[TrackerRow]:
        """Every row with something in cstracker's columns, values as stored (text), in sheet order."""
        self._index()
        assert self._frame is not None
        keys = list(self._frame.columns)
        letters = {k: col_letters(self.layout.columns[k]) for k in keys}
        first = self.layout.header_row + 1
        columns = [self._frame[k].astype(object).where(self._frame[k].notna(), None).tolist() for k in keys]
        out = []
        for number in sorted({*self._numbers, *self._touched}):
            if number in self._touched:
                raw = self._touched[number]
            else:
                i = number - first
                raw = {k: columns[j][i] for j, k in enumerate(keys)}
            out.append(TrackerRow(number, raw, {k: f"{letters[k]}{number}" for k in keys}))
        return out

    def _typed(self, row: TrackerRow) -> Record:
        record, _ = convert_record(row.raw, self.lists, self.fields)
        due = parse_date(row.raw.get("follow_up_due")) if not is_blank(row.raw.get("follow_up_due")) else None
        record["follow_up_due"] = due.value if due is not None and due.ok else None
        status = row.raw.get("status")
        record["status"] = status if isinstance(status, str) and status.strip() else None
        return record

    def records(self) -> list[Record]:
        """Typed records of the non-blank rows; values that do not convert are left out (validate reports them)."""
        return [self._typed(r) for r in self.rows()]

    def dataframe(self):
        """pandas: one column per field key, dates datetime64, ints Int64, flags bool, plus "_row"."""
        import pandas as pd

        frame = self._load(typed=True)
        frame["_row"] = range(self.layout.header_row + 1, self.layout.header_row + 1 + len(frame))
        if len(frame):
            frame = frame[~self._blank_mask(frame).to_numpy()]
        from cstracker.schema import TICK_VALUES

        for f in self.fields:
            col = frame[f.key]
            if f.kind is Kind.FLAG:
                frame[f.key] = col.astype("string").str.strip().str.lower().isin(TICK_VALUES).fillna(False)
            elif f.kind is Kind.INT:
                whole = col.where(col == col.round())
                frame[f.key] = whole.astype("Int64")
            elif f.kind in (Kind.DATE, Kind.DATETIME) or f.key == "follow_up_due":
                frame[f.key] = pd.to_datetime(col)
        order = [f.key for f in self.fields] + ["_row"]
        return frame[order].reset_index(drop=True)

    def find(
        self,
        referral_id: str | None = None,
        mosaic_id: str | None = None,
        date_received: dt.date | None = None,
    ) -> Record | None:
        """The first record matching every criterion given (Referral ID, or Mosaic ID + date received)."""
        self._index()
        if referral_id:
            number = self._by_id.get(str(referral_id).strip().upper())
            return self._typed(self._row(number)) if number else None
        if mosaic_id is None and date_received is None:
            return None
        for row in self.rows():
            rec = self._typed(row)
            if mosaic_id is not None and rec.get("mosaic_id") != str(mosaic_id).strip():
                continue
            if date_received is not None and rec.get("date_received") != date_received:
                continue
            return rec
        return None

    def next_referral_id(self, date_received: dt.date | None = None) -> str:
        """The next free ``PREFIX-YEAR-NNNN`` for the year of ``date_received`` (today when None)."""
        self._index()
        year = (date_received or dt.date.today()).year
        prefix = self.settings.referral_id_prefix
        return f"{prefix}-{year}-{self._seq.get((prefix, year), 0) + 1:04d}"

    # -- writing ---------------------------------------------------------------------------------
    def _clean(self, record: Mapping[str, Any], where: str) -> dict[str, Any]:
        fields = self.layout.fields_by_key
        out: dict[str, Any] = {}
        for key, value in record.items():
            if key.startswith("_") or key in derived.FORMULAS:
                continue
            f = fields.get(key)
            if f is None:
                raise TrackerError(f"{self.path}: {where}: '{key}' is not a column of this tracker")
            got = convert(f, value, self.lists)
            if not got.ok:
                shown = "" if f.sensitive else f" {str(value)[:40]!r}"
                raise TrackerError(f"{self.path}: {where}: {f.label}{shown} {got.error}")
            out[key] = got.value
        return out

    def upsert(
        self,
        records: Iterable[Mapping[str, Any]],
        source: str | None = None,
        today: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> UpsertResult:
        """Add or update rows keyed on Referral ID; a record without one gets the next free ID."""
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        self._index()
        now = (now or dt.datetime.now()).replace(microsecond=0)
        result = UpsertResult()
        placeholder = self._placeholder_row()
        for n, incoming in enumerate(records, start=1):
            rid = str(incoming.get("referral_id") or "").strip().upper()
            new = self._clean(incoming, f"record {n}" + (f" ({rid})" if rid else ""))
            if source is not None and "source" not in new:
                new["source"] = source
            existing = self._by_id.get(rid) if rid else None
            if existing is None:
                if not rid:
                    rid = self.next_referral_id(new.get("date_received"))
                new["referral_id"] = rid
                new["last_updated"] = now
                number = placeholder or self._last_row + 1
                placeholder = None
                self._last_row = max(self._last_row, number)
                merged = {f.key: (False if f.kind is Kind.FLAG else None) for f in self.fields}
                merged.update(new)
                self._stage(number, new, merged, today)
                self._touched[number] = {**merged, **self._computed(merged, today)}
                self._by_id[rid] = number
                self._note_id(rid)
                result.added.append(rid)
                continue
            old = self._typed(self._row(existing))
            changed = [k for k, v in new.items() if k not in ("source", "last_updated") and old.get(k) != v]
            if not changed:
                result.unchanged.append(rid)
                continue
            new["last_updated"] = now
            merged = {**old, **new}
            self._stage(existing, new, merged, today)
            self._touched[existing] = {**self._raw(existing), **new, **self._computed(merged, today)}
            result.updated[rid] = changed
        return result

    def _placeholder_row(self) -> int | None:
        """The new tracker's one empty Table row, reused by the first row added."""
        c1, r1, c2, r2 = self.layout.table_ref
        if self._numbers or self._touched or r2 != r1 + 1:
            return None
        return r2

    def _computed(self, record: Mapping[str, Any], today: dt.date | None) -> dict[str, Any]:
        return derived.computed_values(dict(record), self.settings.follow_up_days, today)

    def _stage(self, number: int, new: dict[str, Any], merged: dict[str, Any], today: dt.date | None) -> None:
        values = self._updates.setdefault(number, {})
        values.update(new)
        values.update(self._computed(merged, today))

    def _cell(self, f: Field, value: Any) -> Cell:
        if f.key in derived.FORMULAS:
            cached = excel_serial(value) if isinstance(value, dt.date) else (value or "")
            return Cell("f", cached, derived.FORMULAS[f.key]())
        if value is None or value is False:
            return Cell("")
        if value is True:
            return Cell("s", self.lists.codes("tick")[0])
        if isinstance(value, dt.date):
            return Cell("n", excel_serial(value))
        if isinstance(value, int):
            return Cell("n", value)
        text = str(value)
        return Cell("s", text, style=self.layout.quote_prefix_style if looks_like_formula(text) else None)

    def save(self) -> Path | None:
        """Write the staged rows: atomic, backed up, only the Referrals sheet and Table parts change."""
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        if not self._updates:
            return None
        lay = self.layout
        if lay.totals_row:
            raise TrackerLayoutError(
                f"{self.path}: sheet {SHEET_REFERRALS}: the Table has a Total Row; turn it off "
                "(Table Design > Total Row) so rows can be added below the last one"
            )
        fields = lay.fields_by_key
        updates = {
            number: {lay.columns[k]: self._cell(fields[k], v) for k, v in values.items()}
            for number, values in self._updates.items()
        }
        last = max(updates)
        patches = {
            lay.sheet_part: SheetPatcher(updates, lay.quote_prefix_style),
            lay.table_part: lambda src, dst: dst.write(patch_table(src.read(), last)),
        }
        backup = safety.atomic_write(
            self.path,
            lambda tmp: rewrite_package(self.path, tmp, patches),
            # The sheet part's new rows are checked as they are written (SheetPatcher); a full parse
            # of a 100,000-row sheet would double the time of a save.
            check_parts=(lay.table_part,),
            keep_backups=self.settings.backups_kept,
        )
        c1, r1, c2, r2 = lay.table_ref
        lay.table_ref = (c1, r1, c2, max(r2, last))
        self._updates = {}
        return backup
