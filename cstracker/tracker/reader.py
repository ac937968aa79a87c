"""Reading the Referrals sheet: column-wise with fastexcel (sliced when large), rows as stored, typed records and the frame."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from cstracker.core.convert import is_blank, parse_date
from cstracker.core.errors import REPAIR, TrackerError, TrackerLayoutError
from cstracker.core.rules import Record
from cstracker.core.schema import Kind
from cstracker.tracker.create import SHEET_REFERRALS
from cstracker.tracker.state import TrackerState
from cstracker.xlsx import encryption
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.reader_errors import fastexcel_errors
from cstracker.xlsx.sheetslices import NotSliceable, read_in_slices

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


class TrackerReading(TrackerState):
    """Reading rows (``rows``, ``records``, ``dataframe``): the sheet loaded with fastexcel.

    ``_index`` (``rowindex.py``) reads the rows once; ``_raw`` sees rows staged in this session.
    """

    def _load(
        self,
        typed: bool,
        sliced: bool = False,
        keys: Collection[str] | None = None,
        inspect: Callable[[bytes, Any], None] | None = None,
    ):
        """The Referrals sheet, our columns only, as a pandas frame keyed by field key.

        ``sliced``: read a large sheet a slice of rows at a time (``sheetslices.py``) to hold
        one slice's cells in the reader instead of the whole sheet's; the frame then also has
        "_row", since blank rows between slices are not in it. ``inspect(piece, located)``:
        a caller's own search of the sheet XML (``table_cells.OddCells``, ``sheetscan.StoredAs``),
        given every piece in the pass this read makes anyway (the slicing, or the far-cell check
        before a whole read): one stream of the sheet, not two. A piece may come twice (after a
        slicing that gave up); what it gathers must not mind.
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
            slices = self._slices(read, inspect) if sliced and not isinstance(src, bytes) else None
            if not slices:
                self._check_far_cells(src, inspect)  # before the reader sizes its grid by them
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

    def _slices(self, read, inspect: Callable[[bytes, Any], None] | None = None) -> list | None:
        """The sheet read slice by slice; None when its XML is not in the shape slicing needs."""
        lay = self.layout
        try:
            # the slicing pass checks for far cells itself (when the layout left that to it)
            far = lay.referrals_far_cells()
            args = (self.path, lay.sheet_part, SHEET_REFERRALS, lay.header_row, SLICE_ROWS, read)
            extra = {k: v for k, v in (("far", far), ("inspect", inspect)) if v is not None}
            return read_in_slices(*args, **extra)
        except NotSliceable:
            return None
        except (zipfile.BadZipFile, OSError, KeyError, ET.ParseError, EOFError) as e:
            raise TrackerError(
                f"{self.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
            ) from None

    def _check_far_cells(self, src: Any, inspect: Callable[[bytes, Any], None] | None = None) -> None:
        """The far-cell check ``Tracker.open(far_cells_later=True)`` left to the first pass over the
        sheet, and ``inspect`` (``_load``) given each piece of it in the same pass."""
        far = self.layout.referrals_far_cells()
        if far is None and inspect is None:
            return
        finder, error = far if far is not None else (None, None)
        try:
            with encryption.open_zip(src) as zf, zf.open(self.layout.sheet_part) as fh:
                pieces = 0
                if inspect is not None:
                    from cstracker.xlsx.cellscan import locate
                    from cstracker.xlsx.sheetscan import sheet_data_regions

                    for region in sheet_data_regions(fh):
                        pieces += 1
                        located = locate(region)
                        found = finder.find(region, located) if finder is not None else None
                        if found:
                            raise error(found)
                        inspect(region, located)
                if finder is not None and not pieces:
                    # no sheetData in the shape the pieces need (a namespace prefix, say): the whole
                    # part, as it is, chunk by chunk
                    with encryption.open_zip(src) as again, again.open(self.layout.sheet_part) as raw:
                        tail = b""
                        while chunk := raw.read(1 << 22):
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
        import pandas as pd

        keys = [f.key for f in self.fields if f.kind is not Kind.FORMULA]
        blank = ~frame[keys].notna().any(axis=1)
        # A row whose only values are texts of spaces is blank too: rare, so look only at rows
        # that hold nothing but text, and only at their text columns.
        texts = [
            k for k in keys if frame[k].dtype == object or str(frame[k].dtype).startswith(("str", "string"))
        ]
        others = [k for k in keys if k not in texts]
        maybe = ~blank & ~frame[others].notna().any(axis=1) if others else ~blank
        # column by column, each looking only at the rows no column before showed something in (most
        # rows show it in the first): the rows left have nothing but spaces
        import numpy as np

        undecided = np.flatnonzero(maybe.to_numpy(dtype=bool))
        for k in texts:
            if not len(undecided):
                break
            values = frame[k].iloc[undecided].astype("string").str.strip().fillna("")
            undecided = undecided[(values == "").to_numpy(dtype=bool)]
        if len(undecided):
            spaces = np.zeros(len(frame), bool)
            spaces[undecided] = True
            blank = blank | pd.Series(spaces, index=frame.index)
        return blank

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
        from cstracker.xlsx.sheetscan import StoredAs

        lay = self.layout
        # what the text view hides (a number stored as text, an ID stored as a number), found in the
        # read's own pass over the sheet
        stored = StoredAs(
            {
                lay.columns[f.key]: ("text" if f.kind is Kind.INT else "number")
                for f in self.fields
                if f.kind in (Kind.INT, Kind.MOSAIC, Kind.ID)
            },
            lay.header_row + 1,
        )
        frame = self._load(
            typed=False, sliced=lay.table_ref[3] - lay.header_row > SLICED_FROM_ROWS, inspect=stored
        )
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
        self._mark_stored_types(result, marks, stored.found)
        for name, mask in marks.items():
            result[name] = mask
        outside = result["_row"].to_numpy() > lay.table_ref[3]
        if outside.any():
            result["_outside"] = outside
        return result

    def _mark_stored_types(self, frame, marks: dict[str, Any], found: dict[int, set[int]]) -> None:
        """Add to ``marks`` what the text view cannot see: a number stored as text (whole-number
        columns) and a Mosaic ID or Referral ID stored as a number; both readable, not canonical.
        ``found``: ``sheetscan.StoredAs``' rows by column."""
        import numpy as np

        lay = self.layout
        wanted = {lay.columns[f.key]: f for f in self.fields if f.kind in (Kind.INT, Kind.MOSAIC, Kind.ID)}
        if not len(frame) or not wanted:
            return
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
