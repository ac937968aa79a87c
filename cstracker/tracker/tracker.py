"""The tracker API every command uses: open, read, upsert, save.

Reading uses fastexcel (the Rust calamine reader) on the Referrals sheet, with
columns found by their heading. Writing never goes through a spreadsheet
library: ``save`` streams a patch of the Referrals sheet part and its Table
part and raw-copies every other part of the package (``xlsxpatch.py``),
through the atomic, backed-up, locked save of ``safety.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cstracker.core import derived, identity
from cstracker.core.config import Config, Settings
from cstracker.core.convert import DATE1904_OFFSET, SERIAL_RANGE, convert, is_blank, parse_date
from cstracker.core.errors import REPAIR, SaveError, TrackerError, TrackerLayoutError
from cstracker.core.rules import Record
from cstracker.core.schema import ROW_STAMPS, CodeLists, Field, Kind
from cstracker.tracker import ownsheets
from cstracker.tracker.create import SHEET_REFERRALS, create_tracker
from cstracker.tracker.layout import Layout, read_layout
from cstracker.tracker.newrows import NewRows, already_clean, excel_serial
from cstracker.tracker.ownparts import patch_table_formulas
from cstracker.xlsx import encryption, safety
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.patch import Cell, SheetPatcher, patch_table, rewrite_package
from cstracker.xlsx.reader_errors import calamine_errors, fastexcel_errors
from cstracker.xlsx.sheetscan import SheetScan, scan_sheet
from cstracker.xlsx.sheetslices import NotSliceable, read_in_slices

_EXCEL_ZERO = dt.datetime(1899, 12, 30)
#: what "the same referral" is found by (``identity.SameReferral``, ``Tracker.row_index``)
_KEY_COLUMNS = ("referral_id", "form_id", "mosaic_id", "date_received")
_FASTEXCEL_TYPE = {Kind.DATE: "datetime", Kind.DATETIME: "datetime", Kind.INT: "float"}
#: ``dataframe`` reads a Table of more rows than this a slice at a time (the reader would hold
#: every cell: about 400 MB at 100,000 rows); smaller ones in one read, which is faster.
SLICED_FROM_ROWS = 30_000
SLICE_ROWS = 20_000


@dataclass
class TrackerRow:
    """One non-blank row: its sheet row number, values as stored, and each field's cell ("F12")."""

    row: int
    raw: dict[str, Any]
    cells: dict[str, str]


@dataclass
class RowIndex:
    """``Tracker.row_index()``: the tracker's rows as "the same referral" finds them (sheet row numbers),
    and their typed records, fetched for many rows at once (``prefetch``) or one by one."""

    same: identity.SameReferral[int]
    tracker: Tracker
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


@dataclass
class UpsertResult:
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    #: Referral ID -> why nothing was written for that record (another young person's Mosaic ID)
    refused: dict[str, str] = field(default_factory=dict)


def init_tracker(
    path: str | Path,
    config: Config,
    overwrite: bool = False,
    encrypt: bool = False,
    config_file: str | Path | None = None,
) -> Path:
    """Create a new tracker at ``path`` atomically; an existing file is refused unless ``overwrite``.

    ``encrypt``: password-protected (``encryption.py``), built in memory and encrypted before the write.
    The audit trail starts with the init itself (and ``config_file``, when one was given).
    """
    from cstracker.tracker.audit import AuditEntry, SourceFile, new_sheet_rows

    given = Path(path)
    path = safety.real_path(given)  # a link stays a link; the real file is replaced and backed up
    if given.suffix.lower() != ".xlsx":
        raise TrackerError(f"{given}: a tracker must be an .xlsx file")
    if path.exists() and not overwrite:
        raise TrackerError(
            f"{given}: a file is already there; use --overwrite to replace it (a backup is kept)"
        )
    if not path.parent.exists():
        raise TrackerError(f"{given}: the folder {path.parent} does not exist")
    now = dt.datetime.now().replace(microsecond=0)
    sources = [SourceFile(Path(config_file))] if config_file else []
    audit = new_sheet_rows([AuditEntry("init", sources=sources, when=now)])
    with safety.tracker_lock(path):
        if path.exists():
            safety.check_not_open_elsewhere(path, also=given)
        if encrypt:
            password = encryption.password_for(path, new=True)
            buf = io.BytesIO()
            create_tracker(buf, config, created=now, audit_rows=audit)
            plain = buf.getvalue()
            encryption.check_zip_bytes(plain, ("xl/workbook.xml",))
            sealed = encryption.encrypt_bytes(plain, password)
            safety.atomic_write(
                path,
                lambda tmp: tmp.write_bytes(sealed),
                keep_backups=max(1, config.settings.backups_kept),
                verify=False,
            )
            encryption.keep_plain(path, plain)
            return path
        safety.atomic_write(
            path,
            lambda tmp: create_tracker(tmp, config, created=now, audit_rows=audit),
            check_parts=("xl/workbook.xml",),
            keep_backups=max(1, config.settings.backups_kept),
        )
        encryption.drop_plain(path)
    return given


class Tracker:
    """An open tracker. ``open`` reads; ``open_for_update`` also locks and allows ``upsert``/``save``.

    Reading rows (``rows``, ``records``, ``dataframe``) loads the sheet with fastexcel. Adding or
    updating rows needs much less (the IDs in use, the last row used and the rows being updated),
    so when nothing has been read yet ``upsert`` streams the sheet XML for just that
    (``sheetscan.py``) instead of holding every cell of a large tracker in memory.
    """

    def __init__(self, path: Path, layout: Layout, writable: bool = False):
        self.path = path
        self.layout = layout
        self.writable = writable
        self._keys = tuple(f.key for f in layout.fields)
        self._pos = {k: i for i, k in enumerate(self._keys)}
        self._blank = tuple(False if f.kind is Kind.FLAG else None for f in layout.fields)
        self._checks: list | None = None
        #: a tracker made before the tracker_start setting: it and the new formulas go in at the next save
        self._needs_start = False
        #: open list key -> codes added in this session (written to the Lists sheet by save)
        self._added_codes: dict[str, list[str]] = {}
        self._lists_on_file: CodeLists | None = None
        #: one line per thing a save did besides the rows (said to the user by the command)
        self.notes: list[str] = []
        #: True / False: the next save writes the tracker encrypted / plain (``encrypt``/``decrypt``);
        #: None: as it is now
        self.seal: bool | None = None
        self._forget()

    def _forget(self) -> None:
        """Drop everything read or staged (after a save the file itself holds it)."""
        self._frame: Any = None
        #: the non-blank rows of the file (valid once _rows_read)
        self._numbers: list[int] = []
        self._rows_read = False
        self._indexed = False
        self._file_empty = False
        self._by_id: dict[str, int] = {}
        #: the stored values of the row index's key columns (column -> {row: value}), when scanned
        self._key_values: dict[int, dict[int, Any]] | None = None
        #: the Referral IDs issued, so the next free one (``identity.ReferralIds``)
        self._ids = identity.ReferralIds(self.settings.referral_id_prefix)
        self._last_row = 0
        self._any_rows = False
        #: sheet row -> raw values of rows the scan fetched for updating
        self._fetched: dict[int, dict[str, Any]] = {}
        #: sheet row -> values in field order of rows added in this session
        self._new: dict[int, tuple[Any, ...]] = {}
        #: sheet row -> raw values of existing rows updated in this session
        self._touched: dict[int, dict[str, Any]] = {}
        #: sheet row -> {key: value} to write into existing rows
        self._updates: dict[int, dict[str, Any]] = {}
        #: sheet rows whose referral is removed (retention): every Table cell of the row cleared
        self._removed: set[int] = set()
        #: settings to change at the next save (``settings_store.py``)
        self._settings: dict[str, str | int | None] = {}
        #: the tool's own hidden sheets to write whole at the next save (``ownsheets.py``)
        self._sheets: dict[str, list[list[Any]]] = {}

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, far_cells_later: bool = False) -> Tracker:
        """Read-only. ``far_cells_later``: the caller's own first pass over the Referrals sheet checks
        it for far cells before any reader sees it (``Layout.referrals_far_cells``)."""
        path = Path(path)
        return cls(path, read_layout(path, far_cells_later=far_cells_later))

    @classmethod
    @contextmanager
    def open_for_update(cls, path: str | Path, force: bool = False) -> Iterator[Tracker]:
        given = Path(path)
        # Two names for one file (a symlink) must share one lock and one owner-file check, and a
        # save must replace the real file, not the link: work on the real file.
        path = safety.real_path(given)
        with safety.tracker_lock(path):
            safety.check_not_open_elsewhere(path, force, also=given)
            t = cls(path, read_layout(path), writable=True)
            t._plan_start_date()
            yield t

    def _plan_start_date(self) -> None:
        """A tracker made before the tracker_start setting gets it (its creation date) when next saved."""
        if self.layout.settings.tracker_start is not None:
            return
        start = self.layout.created() or dt.date.today()
        self.layout.settings = replace(self.layout.settings, tracker_start=start)
        self._needs_start = True

    @property
    def settings(self) -> Settings:
        return self.layout.settings

    def add_codes(self, list_key: str, codes: Iterable[str]) -> list[str]:
        """Grow an open code list (on the Lists sheet, when saved); returns the codes that were new."""
        from cstracker.core.schema import normalise_token

        have = {normalise_token(c) for c in self.lists.codes(list_key)}
        new = []
        for code in codes:
            if normalise_token(code) not in have:
                have.add(normalise_token(code))
                new.append(code)
        if new:
            self._lists_on_file = self._lists_on_file or self.layout.lists
            grown = dict(self.lists.lists)
            grown[list_key] = (*grown[list_key], *new)
            self.layout.lists = CodeLists(lists=grown, extra_synonyms=self.lists.extra_synonyms)
            self._added_codes.setdefault(list_key, []).extend(new)
            self._checks = None
        return new

    @property
    def lists(self) -> CodeLists:
        return self.layout.lists

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.layout.fields

    # -- reading ---------------------------------------------------------------------------------
    def _load(self, typed: bool, sliced: bool = False, keys: Collection[str] | None = None):
        """The Referrals sheet, our columns only, as a pandas frame keyed by field key.

        ``sliced``: read a large sheet a slice of rows at a time (``sheetslices.py``) to hold
        one slice's cells in the reader instead of the whole sheet's; the frame then also has
        "_row", since blank rows between slices are not in it.
        """
        import fastexcel

        lay = self.layout
        by_col = {
            col: lay.fields_by_key[key] for key, col in lay.columns.items() if keys is None or key in keys
        }
        dtypes = {
            lay.headers[col]: (_FASTEXCEL_TYPE.get(f.kind, "string") if typed else "string")
            for col, f in by_col.items()
        }
        if typed and "follow_up_due" in {f.key for f in by_col.values()}:
            dtypes[lay.headers[lay.columns["follow_up_due"]]] = "datetime"
        selected = sorted(by_col)

        def read(path: str, header_row: int):
            reader = fastexcel.read_excel(path)
            # eager: straight into Arrow, without the reader's own copy of the sheet alongside;
            # at 100,000 rows this peaks about 80 MB lower than loading a sheet object first.
            return reader.load_sheet(
                SHEET_REFERRALS,
                header_row=header_row,
                use_columns=lambda c: c.absolute_index + 1 in by_col,
                dtypes=dtypes,
                eager=True,
            )

        rows = None
        src = encryption.source(self.path)
        try:
            # slices are files: an encrypted tracker is read whole, from memory, so none touches the disk
            slices = self._slices(read) if sliced and not isinstance(src, bytes) else None
            if not slices:
                self._check_far_cells(src)  # before the reader sizes its grid by them
            if slices:
                import numpy as np
                import pyarrow as pa

                table = pa.concat_tables(
                    [pa.Table.from_batches([t]) for t, _ in slices], promote_options="default"
                )
                rows = np.concatenate([np.arange(at + 1, at + 1 + t.num_rows) for t, at in slices])
                del slices
            else:
                table = read(encryption.for_fastexcel(src), lay.header_row - 1)
        except TrackerError:
            raise
        except fastexcel_errors() as e:
            raise TrackerError(
                f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
            ) from None
        # columns come back in sheet order: the i-th is the i-th of ours from the left
        names = dict(zip(table.schema.names, (by_col[c].key for c in selected), strict=False))
        if len(table.schema.names) != len(selected):
            names = {}
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
        del table
        frame = frame.rename(columns=names)
        missing = [
            lay.fields_by_key[k].label
            for k in lay.columns
            if k not in frame.columns and (keys is None or k in keys)
        ]
        if missing:
            raise TrackerLayoutError(
                f"{self.path}: sheet {SHEET_REFERRALS}: the heading row does not match the Table's columns "
                f"({', '.join(missing)}); put the Table's header in row {lay.header_row}"
            )
        if rows is not None:
            frame["_row"] = rows
        return frame

    def _slices(self, read) -> list | None:
        """The sheet read slice by slice; None when its XML is not in the shape slicing needs."""
        lay = self.layout
        try:
            # the slicing pass checks for far cells itself (when the layout left that to it)
            far = lay.referrals_far_cells()
            args = (self.path, lay.sheet_part, SHEET_REFERRALS, lay.header_row, SLICE_ROWS, read)
            return read_in_slices(*args, far=far) if far is not None else read_in_slices(*args)
        except NotSliceable:
            return None
        except (zipfile.BadZipFile, OSError, KeyError, ET.ParseError, EOFError) as e:
            raise TrackerError(
                f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
            ) from None

    def _check_far_cells(self, src: Any) -> None:
        """The far-cell check ``Tracker.open(far_cells_later=True)`` left to the first pass over the sheet."""
        far = self.layout.referrals_far_cells()
        if far is None:
            return
        finder, error = far
        try:
            with encryption.open_zip(src) as zf, zf.open(self.layout.sheet_part) as fh:
                tail = b""
                while chunk := fh.read(1 << 22):
                    found = finder.find(tail + chunk)
                    if found:
                        raise error(found)
                    tail = chunk[-512:]
        except (zipfile.BadZipFile, OSError, KeyError, EOFError, zlib.error) as e:
            raise TrackerError(
                f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
            ) from None
        self.layout.far_cells_later = None

    def _blank_mask(self, frame):
        """True for rows with nothing in cstracker's own columns (spaces count as nothing)."""
        keys = [f.key for f in self.fields if f.kind is not Kind.FORMULA]
        blank = ~frame[keys].notna().any(axis=1)
        # A row whose only values are texts of spaces is blank too: rare, so look only at rows
        # that hold nothing but text, and only at their text columns.
        texts = [
            k for k in keys if frame[k].dtype == object or str(frame[k].dtype).startswith(("str", "string"))
        ]
        others = [k for k in keys if k not in texts]
        maybe = ~blank & ~frame[others].notna().any(axis=1) if others else ~blank
        if maybe.any():
            sub = frame.loc[maybe, texts]
            spaces = sub.apply(lambda col: col.astype("string").str.strip().fillna("") == "").all(axis=1)
            blank = blank | spaces.reindex(frame.index, fill_value=False)
        return blank

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
        ids = frame["referral_id"].astype("string").str.strip().str.upper().tolist()
        self._by_id = {}
        for number in reversed(self._numbers):
            rid = ids[number - first]
            if isinstance(rid, str) and rid:
                self._by_id[rid] = number
        self._ids = self._issued()
        for rid in self._by_id:
            self._ids.note(rid)
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
        if keys and self._indexed and self._key_values is None:
            self._indexed = False  # read again, with the key columns this time
        if not self._indexed:
            found = self._scan(wanted, rows, keys)
            self._key_values = found.keys if keys else None
            self._by_id = found.ids
            self._ids = self._issued()
            for rid in self._by_id:
                self._ids.note(rid)
            self._last_row = max(self.layout.table_ref[3], found.last_used)
            # Rows strictly inside the Table are not checked for content by the scan; this only
            # matters for the new tracker's single empty row, where there are none.
            self._any_rows = bool(found.ids) or found.last_used > 0
            self._file_empty = not self._any_rows and self.layout.table_ref[3] == self.layout.header_row + 1
            self._keep_fetched(found)
            self._indexed = True
            return
        if self._frame is not None:
            return
        held = (self._fetched, self._touched, self._new)
        missing = {
            rid for rid in wanted if rid in self._by_id and not any(self._by_id[rid] in h for h in held)
        }
        numbers = {n for n in rows if not any(n in h for h in held)}
        if missing or numbers:
            self._keep_fetched(self._scan(missing, numbers))

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

    def _raw(self, number: int) -> dict[str, Any]:
        if number in self._new:
            return dict(zip(self._keys, self._new[number], strict=True))
        if number in self._touched:
            return self._touched[number]
        if number in self._fetched:
            return self._fetched[number]
        self._index()
        if self._frame is None:  # the file has no rows
            return dict.fromkeys(self.layout.columns)
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
        frame = self._frame
        by_col = sorted(self.layout.columns, key=self.layout.columns.__getitem__)
        keys = list(frame.columns) if frame is not None else by_col
        letters = {k: col_letters(self.layout.columns[k]) for k in keys}
        first = self.layout.header_row + 1
        columns = (
            [frame[k].astype(object).where(frame[k].notna(), None).tolist() for k in keys]
            if keys and frame is not None
            else []
        )
        out = []
        for number in sorted({*self._numbers, *self._touched, *self._new}):
            if number in self._new or number in self._touched:
                raw = self._raw(number)
            else:
                i = number - first
                raw = {k: columns[j][i] for j, k in enumerate(keys)}
            out.append(TrackerRow(number, raw, {k: f"{letters[k]}{number}" for k in keys}))
        return out

    def _typed(self, row: TrackerRow) -> Record:
        """A row as every reader reads it (``reading.read_record``): readable values as what they mean."""
        from cstracker.core.reading import read_record

        # the scan gives the workbook's own serial numbers, in its own date system
        record = read_record(row.raw, self.lists, self.fields, self.layout.date1904)
        due_raw = row.raw.get("follow_up_due")
        due = parse_date(due_raw, self.layout.date1904) if not is_blank(due_raw) else None
        record["follow_up_due"] = due.value if due is not None and due.ok else None
        status = row.raw.get("status")
        record["status"] = status if isinstance(status, str) and status.strip() else None
        return record

    def records(self) -> list[Record]:
        """Typed records of the non-blank rows; values that do not convert are left out (validate reports them)."""
        return [self._typed(r) for r in self.rows()]

    def dataframe(self):
        """pandas: one column per field key, dates datetime64, ints Int64, flags bool, plus "_row".

        Every cell is read as ``reading.read_column`` reads it (the one reading validate and
        the report share): ``F`` counts as Female, ``x`` as a tick, a date typed as text as that
        date. Per field with any, bool columns ``_nc:<key>`` (readable but not canonical),
        ``_new:<key>`` (not yet on its open list) and ``_bad:<key>`` (unreadable, read as blank);
        ``_outside`` marks rows below the Table (when there are any).
        """
        import pandas as pd

        from cstracker.core.reading import read_column

        lay = self.layout
        frame = self._load(typed=False, sliced=lay.table_ref[3] - lay.header_row > SLICED_FROM_ROWS)
        if "_row" not in frame.columns:
            frame["_row"] = range(lay.header_row + 1, lay.header_row + 1 + len(frame))
        if len(frame):
            blank = self._blank_mask(frame).to_numpy()
            if blank.any():  # filtering copies every column: only when there is something to drop
                frame = frame[~blank]
        frame = frame.reset_index(drop=True)
        out: dict[str, Any] = {}
        marks: dict[str, Any] = {}
        for f in self.fields:
            got = read_column(f, frame[f.key], self.lists, lay.date1904)
            out[f.key] = (
                got.values.reset_index(drop=True) if hasattr(got.values, "reset_index") else got.values
            )
            for prefix, mask in (
                ("_nc:", got.not_canonical),
                ("_new:", got.new_value),
                ("_bad:", got.unreadable),
            ):
                if mask.any():
                    marks[prefix + f.key] = mask
        out["_row"] = frame["_row"].to_numpy()
        result = pd.DataFrame(out)
        self._mark_stored_types(result, marks)
        for name, mask in marks.items():
            result[name] = mask
        outside = result["_row"].to_numpy() > lay.table_ref[3]
        if outside.any():
            result["_outside"] = outside
        return result

    def _mark_stored_types(self, frame, marks: dict[str, Any]) -> None:
        """Add to ``marks`` what the text view cannot see: a number stored as text (whole-number
        columns) and a Mosaic ID or Referral ID stored as a number; both readable, not canonical."""
        import numpy as np

        from cstracker.xlsx.sheetscan import rows_stored_as

        lay = self.layout
        wanted = {lay.columns[f.key]: f for f in self.fields if f.kind in (Kind.INT, Kind.MOSAIC, Kind.ID)}
        if not len(frame) or not wanted:
            return
        odd_kind = {c: ("text" if f.kind is Kind.INT else "number") for c, f in wanted.items()}
        try:
            with encryption.open_zip(encryption.source(self.path)) as zf:  # an encrypted tracker too
                found = rows_stored_as(zf, lay.sheet_part, odd_kind, lay.header_row + 1)
        except (zipfile.BadZipFile, OSError, KeyError, EOFError) as e:
            raise TrackerError(f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e})") from None
        rows = frame["_row"].to_numpy()
        for col, f in wanted.items():
            odd = found[col]
            if not odd:
                continue
            mask = np.isin(rows, np.fromiter(odd, dtype=np.int64, count=len(odd)))
            bad = marks.get("_bad:" + f.key)
            if bad is not None:
                mask &= ~bad
            if mask.any():
                marks["_nc:" + f.key] = marks.get("_nc:" + f.key, np.zeros(len(rows), bool)) | mask

    def find(
        self,
        referral_id: str | None = None,
        mosaic_id: str | None = None,
        date_received: dt.date | None = None,
    ) -> Record | None:
        """The first record matching every criterion given (Referral ID, or Mosaic ID + date received)."""
        if referral_id:
            rid = str(referral_id).strip().upper()
            self._ensure_index({rid})
            number = self._by_id.get(rid)
            return self._typed(self._row(number)) if number else None
        if mosaic_id is None and date_received is None:
            return None
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

        Read in the one scan of the sheet a write needs anyway (``sheetscan``): the four key
        columns only, each distinct value read once (``reading.read_cell``), never whole rows.
        """
        from cstracker.core.reading import read_stored

        same: identity.SameReferral[int] = identity.SameReferral()
        index = RowIndex(same, self)
        if self._new or self._touched or self._removed:  # rows staged in this session: as they now stand
            for row in self.rows():
                if row.row not in self._removed:
                    rec = index.records[row.row] = self._typed(row)
                    same.add(
                        row.row,
                        rec.get("referral_id"),
                        rec.get("form_id"),
                        rec.get("mosaic_id"),
                        rec.get("date_received"),
                    )
            return index
        lay = self.layout
        keys = _KEY_COLUMNS
        self._ensure_index(keys=True)
        stored_by_col = self._key_values or {}
        columns: dict[str, dict[int, Any]] = {}
        numbers: set[int] = set()
        for key in keys:
            column = columns[key] = {}
            stored = stored_by_col.get(lay.columns[key], {})
            # each value through the one reading of a cell, column-wise (``reading.read_stored``)
            readings = read_stored(lay.fields_by_key[key], stored.values(), self.lists, lay.date1904)
            for number, got in zip(stored, readings, strict=True):
                if got.readable and got.value is not None:
                    column[number] = got.value
                    numbers.add(number)
        for number in sorted(numbers):
            same.add(
                number,
                columns["referral_id"].get(number),
                columns["form_id"].get(number),
                columns["mosaic_id"].get(number),
                columns["date_received"].get(number),
            )
        return index

    def _fetch_rows(self, numbers: Collection[int]) -> dict[int, Record]:
        """The typed records of these sheet rows, read in one scan of the sheet."""
        self._ensure_index(rows=numbers)
        return {n: self._typed(self._row(n)) for n in numbers}

    def next_referral_id(self, date_received: dt.date | None = None) -> str:
        """The next free ``PREFIX-YEAR-NNNN`` for the year of ``date_received`` (today when None)."""
        self._ensure_index()
        return self._ids.next(date_received)

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
            existing = self._by_id.get(rid) if rid else None
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
                self._by_id[rid] = number
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

    def _atomic_write(self, write: Any, **kwargs: Any) -> Path | None:
        """safety.atomic_write; a damaged workbook found while rewriting it is one SaveError (file untouched)."""
        try:
            return safety.atomic_write(self.path, write, **kwargs)
        except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, xml.parsers.expat.ExpatError) as e:
            raise _save_failed(self.path, e) from None

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

    def save(self, backup_label: str = "") -> Path | None:
        """Write the staged rows: atomic, backed up, only the Referrals sheet and Table parts change.

        Removed rows, changed settings and the tool's hidden sheets go into the same save (the
        settings sheet and, for a setting the tracker did not have yet, workbook.xml's defined
        names; a hidden sheet's part and, for a sheet not there yet, the workbook's sheet list).
        So do new codes of open lists (the Lists sheet and the list's defined name) and, for a
        tracker made before the tracker_start setting, the setting and the new formulas.
        """
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        if not (
            self._updates or self._new or self._removed or self._settings or self._sheets or self._added_codes
        ):
            return None
        lay = self.layout
        c1, r1, c2, r2 = lay.table_ref
        last = r2
        patches: dict[str, Any] = {}
        if self._needs_start:
            self._stage_new_formulas(today=None)
            # the setting itself: a date serial the formulas compare with (settings_store adds the
            # row and its defined name cs_tracker_start)
            self._settings["tracker_start"] = excel_serial(self.settings.tracker_start)
        if self._updates or self._new or self._removed:
            if lay.totals_row:
                raise TrackerLayoutError(
                    f"{self.path}: sheet {SHEET_REFERRALS}: the Table has a Total Row; turn it off "
                    "(Table Design > Total Row) so rows can be added below the last one"
                )
            new_rows = NewRows(self._new, lay, self.lists.codes("tick")[0])
            fields = lay.fields_by_key
            updates = {
                number: {lay.columns[k]: new_rows.cell(fields[k], v) for k, v in values.items()}
                for number, values in self._updates.items()
            }
            for number in self._removed:
                updates[number] = {col: Cell("") for col in range(c1, c2 + 1)}
            if self._needs_start:
                # every row's own formula elements are replaced (not kept, as an update keeps them)
                for cells in updates.values():
                    for col, cell in cells.items():
                        if cell.kind == "f":
                            cells[col] = replace(cell, replace_formula=True)
            last = max([*updates, *self._new, r2])
            patches[lay.sheet_part] = SheetPatcher(
                updates, lay.quote_prefix_style, new_rows if self._new else None
            )
            steps = [lambda xml: patch_table(xml, last)]
            if self._needs_start:
                formulas = {fields[k].label: make() for k, make in derived.FORMULAS.items()}
                steps.append(lambda xml: patch_table_formulas(xml, formulas))
            patches[lay.table_part] = _chain(steps)
        if self._settings:
            from cstracker.tracker.settings_store import settings_patches

            try:
                with encryption.open_zip(encryption.source(self.path)) as zf:
                    patches.update(settings_patches(zf, lay, self._settings))
            except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
                raise TrackerError(f"{self.path}: the settings cannot be updated ({e})") from None
        if self._added_codes:
            from cstracker.tracker.lists_sheet import grow_lists

            # the lists as the file has them: add_codes already grew the ones this session converts with
            before = replace(lay, lists=self._lists_on_file or lay.lists)
            growth = grow_lists(self.path, before, self._added_codes)
            for part, patch in growth.patches.items():
                if part == lay.sheet_part or (part in patches and part != "xl/workbook.xml"):
                    raise TrackerLayoutError(
                        f"{self.path}: the Lists sheet is also another sheet cstracker writes"
                    )
                patches[part] = ownsheets.then(patches[part], patch) if part in patches else patch
        added = self.own_sheet_patches(patches)
        backup = self.write_package(
            patches,
            # The sheet part's new rows are checked as they are written (SheetPatcher); a full parse
            # of a 100,000-row sheet would double the time of a save.
            check_parts=(*(p for p in patches if p != lay.sheet_part), *added),
            add=added,
            backup_label=backup_label,
        )
        if self._settings or added or self._added_codes:
            self.layout = read_layout(self.path, written_by_us=True)
            lay = self.layout
        lay.table_ref = (c1, r1, c2, max(r2, last))
        if self._needs_start:
            self.notes.append(
                f"{self.path.name}: now has a tracker start date ({self.settings.tracker_start:%d/%m/%Y}, "
                f"the day it was made): consultations before it show '{derived.HISTORIC}', with no "
                "follow-up expected."
            )
        self._needs_start = False
        self._added_codes = {}
        self._lists_on_file = None
        # The file now holds every staged row; later reads and upserts start from it.
        self._forget()
        return backup

    def own_sheet_patches(self, patches: dict[str, Any]) -> dict[str, Any]:
        """Merge the staged hidden sheets' patches into ``patches``; the new parts to add (``ownsheets.py``)."""
        if not self._sheets:
            return {}
        try:
            with encryption.open_zip(encryption.source(self.path)) as zf:
                own, added, _ = ownsheets.plan(zf, self.layout.sheet_parts, self._sheets)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
            raise TrackerError(f"{self.path}: the workbook cannot be updated ({e})") from None
        for part, patch in own.items():
            patches[part] = ownsheets.then(patches[part], patch) if part in patches else patch
        return added

    def write_package(
        self,
        patches: dict[str, Any],
        check_parts: tuple[str, ...],
        backup_label: str = "",
        add: dict[str, bytes] | None = None,
    ) -> Path | None:
        """The package with ``patches`` applied, through the one atomic write; encrypted trackers stay so.

        An encrypted tracker's new package is built and checked in memory and only its
        encrypted bytes are written: no plaintext reaches the disk, temporary file included.
        """
        src = encryption.source(self.path)
        sealed_out = isinstance(src, bytes) if self.seal is None else self.seal
        if not isinstance(src, bytes) and not sealed_out:
            return self._atomic_write(
                lambda tmp: rewrite_package(self.path, tmp, patches, add=add),
                check_parts=check_parts,
                keep_backups=self.settings.backups_kept,
                backup_label=backup_label,
            )
        buf = io.BytesIO()
        try:
            rewrite_package(encryption.as_file(src), buf, patches, add=add)
        except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, xml.parsers.expat.ExpatError) as e:
            raise _save_failed(self.path, e) from None
        plain = buf.getvalue()
        encryption.check_zip_bytes(plain, check_parts)
        if not sealed_out:  # decrypt: the plain package, written as any plain save is
            backup = self._atomic_write(
                lambda tmp: tmp.write_bytes(plain),
                check_parts=check_parts,
                keep_backups=self.settings.backups_kept,
                backup_label=backup_label,
            )
            encryption.drop_plain(self.path)
            return backup
        sealed = encryption.encrypt_bytes(plain, encryption.password_for(self.path, new=True))
        backup = self._atomic_write(
            lambda tmp: tmp.write_bytes(sealed),
            keep_backups=self.settings.backups_kept,
            backup_label=backup_label,
            verify=False,
        )
        encryption.keep_plain(self.path, plain)
        return backup


def _save_failed(path: Path, e: BaseException) -> SaveError:
    return SaveError(
        f"{path}: cannot be saved, its workbook is damaged ({e}); nothing was changed. Open it in Excel "
        "or LibreOffice and save it again, or restore it from its backups folder"
    )


def _chain(steps: list) -> Any:
    """One part patch that applies each ``bytes -> bytes`` step in turn."""

    def patch(src, dst) -> None:
        xml = src.read()
        for step in steps:
            xml = step(xml)
        dst.write(xml)

    return patch


def _id_key(record: Mapping[str, Any]) -> str:
    return str(record.get("referral_id") or "").strip().upper()
