"""Read just what adding rows needs from the Referrals sheet XML, in a stream.

Before it adds or updates rows, the tracker needs the Referral IDs already
used, the last row with something in cstracker's columns and the values of the
rows being updated; not the whole sheet in memory. A spreadsheet reader holds
every cell of a 100,000-row sheet at once (about 430 MB); this scan holds one
chunk of XML plus the IDs (about 20 MB) and takes about the time of unzipping
the part.

Rows strictly inside the Table are searched for the Referral ID cell only; the
rows from the Table's last row down (usually none or a few) are parsed whole to
find the last one used. A chunk whose rows or cells lack ``r=`` attributes is
parsed whole, counting positions as a spreadsheet program does.
"""

from __future__ import annotations

import bisect
import re
import zipfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from cstracker.core.identity import referral_key
from cstracker.xlsx.cells import (
    CELL,
    CELL_REF,
    FORMULA,
    ROW,
    ROW_REF,
    SharedStrings,
    cell_value,
    text,
)
from cstracker.xlsx.cells import TYPE as _ATTR_T
from cstracker.xlsx.parts import col_index, col_letters

CHUNK = 1 << 20


@dataclass
class SheetScan:
    #: Referral ID (trimmed, upper case) -> the first sheet row that holds it
    ids: dict[str, int] = field(default_factory=dict)
    #: the last row at or below ``tail_from`` with something in cstracker's columns (0: none)
    last_used: int = 0
    #: rows whose ID was wanted: sheet row -> {column: value as stored}
    rows: dict[int, dict[int, Any]] = field(default_factory=dict)
    #: with ``key_cols``: column -> {sheet row: value as stored} of every non-empty cell of those columns
    keys: dict[int, dict[int, Any]] = field(default_factory=dict)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def id_text(value: Any) -> str:
    """A Referral ID cell as the tracker's index compares it (``identity.referral_key``); "" for none.

    The scan picks the rows of the IDs asked for by this key, so an ID stored otherwise
    ("CS-2026- 0001", "cs-2026-0001.0") is found in the same pass as the index finds it.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return referral_key(value) or ""


def sheet_data_regions(src: IO[bytes]) -> Iterator[bytes]:
    """The sheetData content in pieces that hold whole rows only."""
    buf = b""
    started = False
    while chunk := src.read(CHUNK):
        buf += chunk
        if not started:
            i = buf.find(b"<sheetData")
            j = buf.find(b">", i) if i >= 0 else -1
            if j < 0:
                continue
            if buf[j - 1 : j] == b"/":
                return
            buf, started = buf[j + 1 :], True
        end = buf.find(b"</sheetData>")
        if end >= 0:
            yield buf[:end]
            return
        cut = buf.rfind(b"</row>")
        if cut >= 0:
            yield buf[: cut + 6]
            buf = buf[cut + 6 :]
    if started and buf.strip():
        yield buf


#: a row or cell whose first attribute is not its position (one search is cheaper than counting tags)
_NO_REF_FIRST = re.compile(rb'<(?:c|row)(?:>|/>|\s(?!r="))')


def has_all_refs(region: bytes) -> bool:
    return _NO_REF_FIRST.search(region) is None


class _Scanner:
    def __init__(
        self,
        shared: Callable[[int], str],
        id_col: int,
        columns: set[int],
        used_cols: set[int],
        first_row: int,
        tail_from: int,
        wanted: set[str],
        wanted_rows: Collection[int] = (),
        key_cols: Collection[int] = (),
    ):
        self.shared = shared
        self.found = SheetScan()
        self.key_cols = [c for c in key_cols if c != id_col]
        self.found.keys = {c: {} for c in key_cols}
        self.key_cells = [
            (
                c,
                re.compile(
                    rb'<c r="' + re.escape(col_letters(c).encode()) + rb'(\d+)"([^>]*?)(?:/>|>(.*?)</c>)',
                    re.S,
                ),
            )
            for c in self.key_cols
        ]
        self.wanted_rows = sorted(wanted_rows)
        self.wanted_set = set(wanted_rows)
        self.id_col = id_col
        self.columns = columns | {id_col}
        self.used_cols = used_cols
        self.first_row = first_row
        self.tail_from = tail_from
        self.wanted = wanted
        self.current = 0
        letters = re.escape(col_letters(id_col).encode())
        self.id_cell = re.compile(rb'<c r="' + letters + rb'(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)

    def region(self, region: bytes) -> None:
        last = region.rfind(b"<row")
        m = ROW_REF.search(region, last, region.find(b">", last)) if last >= 0 else None
        if (
            m
            and int(m[1]) < self.tail_from
            and has_all_refs(region)
            and not self._has_wanted_row(region, int(m[1]))
        ):
            self._ids_only(region)
            self.current = int(m[1])
        else:
            for row in ROW.finditer(region):
                self._row(row)

    def _has_wanted_row(self, region: bytes, last: int) -> bool:
        """Whether a row asked for by number may be in this region (rows first to ``last``)."""
        if not self.wanted_rows:
            return False
        start = region.find(b"<row")
        m = ROW_REF.search(region, start, region.find(b">", start)) if start >= 0 else None
        first = int(m[1]) if m else 0
        at = bisect.bisect_left(self.wanted_rows, first)
        return at < len(self.wanted_rows) and self.wanted_rows[at] <= last

    def _note(self, number: int, rid: str) -> bool:
        if number < self.first_row or not rid:
            return False
        self.found.ids.setdefault(rid, number)
        return rid in self.wanted

    def _ids_only(self, region: bytes) -> None:
        # the key columns' cells, each found by its own reference (one pattern per column)
        for col, pattern in self.key_cells:
            into = self.found.keys[col]
            for m in pattern.finditer(region):
                number = int(m[1])
                value = cell_value(m[2], m[3], self.shared)
                if number >= self.first_row and value is not None and value != "":
                    into[number] = value
        ids = self.found.keys.get(self.id_col)
        for m in self.id_cell.finditer(region):
            number = int(m[1])
            value = cell_value(m[2], m[3], self.shared)
            if ids is not None and number >= self.first_row and value is not None and value != "":
                ids[number] = value
            if self._note(number, id_text(value)):
                start = region.rfind(b"<row", 0, m.start())
                row = ROW.match(region, start)
                if row:
                    self._row(row, keep=True)

    def _row(self, row: re.Match[bytes], keep: bool = False) -> None:
        r = ROW_REF.search(row[1])
        number = int(r[1]) if r else self.current + 1
        self.current = number
        if number < self.first_row:
            return
        values: dict[int, Any] = {}
        col = 0
        for c in CELL.finditer(row[2] or b""):
            ref = CELL_REF.search(c[1])
            col = col_index(ref[1].decode()) if ref else col + 1
            if col in self.columns:
                values[col] = cell_value(c[1], c[2], self.shared)
        if number >= self.tail_from and any(
            not is_blank(v) for c, v in values.items() if c in self.used_cols
        ):
            self.found.last_used = max(self.found.last_used, number)
        for col, into in self.found.keys.items():
            value = values.get(col)
            if value is not None and value != "":
                into[number] = value
        noted = self._note(number, id_text(values.get(self.id_col)))
        if keep or noted or number in self.wanted_set:
            self.found.rows[number] = values


def scan_sheet(
    zf: zipfile.ZipFile,
    part: str,
    *,
    id_col: int,
    columns: Collection[int],
    used_cols: Collection[int],
    first_row: int,
    tail_from: int,
    wanted: Collection[str] = (),
    wanted_rows: Collection[int] = (),
    key_cols: Collection[int] = (),
) -> SheetScan:
    """IDs of rows from ``first_row``, the last used row from ``tail_from``, and the rows of ``wanted``
    IDs and of the ``wanted_rows`` numbers; with ``key_cols``, every value of those columns (``keys``).

    A row is used when one of ``used_cols`` (cstracker's columns but the formula
    ones) holds something; a fetched row holds the values of ``columns``.
    """
    scanner = _Scanner(
        SharedStrings(zf),
        id_col,
        set(columns),
        set(used_cols),
        first_row,
        tail_from,
        set(wanted),
        wanted_rows,
        key_cols,
    )
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            scanner.region(region)
    return scanner.found


_FORMULA = re.compile(rb"<f\b")
_CELL_START = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"')


def formula_texts(
    zf: zipfile.ZipFile, part: str, columns: Collection[int], first_row: int
) -> dict[tuple[int, int], str]:
    """(row, column) -> formula text (without '='; "" for a shared formula's later cells) of cells
    in ``columns`` from ``first_row`` down that hold a formula."""
    wanted = set(columns)
    found: dict[tuple[int, int], str] = {}
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            for m in _FORMULA.finditer(region):
                start = region.rfind(b"<c", 0, m.start())
                cell = _CELL_START.match(region, start) if start >= 0 else None
                if cell is None:
                    continue
                col, row = col_index(cell[1].decode()), int(cell[2])
                if col in wanted and row >= first_row:
                    f = FORMULA.match(region, m.start())
                    found[(row, col)] = text(f[1] or b"") if f else ""
    return found


def typed_rows(
    zf: zipfile.ZipFile, part: str, columns: Collection[int], first_row: int
) -> Iterator[tuple[int, dict[int, Any]]]:
    """Every row from ``first_row`` down with its cells in ``columns`` exactly as stored.

    Values are str, float, bool or ``reading.Formula`` (formula text and cached
    value): the types a spreadsheet reader's text view hides, which say whether a
    value is canonical (a date typed as text, a number stored as text, ``=TRUE()``).
    Rows with no cell in ``columns`` are left out.
    """
    from cstracker.core.reading import Formula

    wanted = set(columns)
    shared = SharedStrings(zf)
    current = 0
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            for row in ROW.finditer(region):
                r = ROW_REF.search(row[1])
                number = int(r[1]) if r else current + 1
                current = number
                if number < first_row or not row[2]:
                    continue
                values: dict[int, Any] = {}
                col = 0
                for c in CELL.finditer(row[2]):
                    ref = CELL_REF.search(c[1])
                    col = col_index(ref[1].decode()) if ref else col + 1
                    if col not in wanted or c[2] is None:
                        continue
                    value = cell_value(c[1], c[2], shared)
                    f = FORMULA.search(c[2])
                    if f is not None:
                        value = Formula(text(f[1] or b""), value)
                    if value is not None:
                        values[col] = value
                if values:
                    yield number, values


class StoredAs:
    """``rows_stored_as``' search, one piece of the sheet XML at a time, for a pass that streams the
    sheet anyway (``sheetslices.read_in_slices``' ``inspect``): call it with each piece (whole rows)
    and its located cells (``cellscan.locate``; None: another shape), then read ``found``."""

    def __init__(self, columns: dict[int, str], first_row: int):
        self.columns, self.first_row = columns, first_row
        #: per column, the rows whose cell is stored as ``columns[col]``
        self.found: dict[int, set[int]] = {c: set() for c in columns}
        letters = b"|".join(re.escape(col_letters(c).encode()) for c in columns) or b"(?!)"
        self._cell = re.compile(rb'<c r="(' + letters + rb')(\d+)"([^>]*?)(/?)>')
        self._want_text = {col_letters(c).encode(): kind == "text" for c, kind in columns.items()}
        self._index = {col_letters(c).encode(): c for c in columns}

    def __call__(self, region: bytes, located: Any = None) -> None:
        if not self.columns:
            return
        if located is None:
            for m in self._cell.finditer(region):
                self._note(m)
            return
        import numpy as np

        from cstracker.xlsx.cellscan import TYPE_INLINE, TYPE_N, TYPE_NONE, TYPE_S, TYPE_SEVERAL, TYPE_STR

        wanted = np.isin(located.col, list(self.columns)) & located.whole_ref & ~located.empty
        if not wanted.any():
            return
        at = np.flatnonzero(wanted)
        kind, col = located.type[at], located.col[at]
        rows = located.row_of(at)
        is_text = np.isin(kind, (TYPE_S, TYPE_INLINE, TYPE_STR))
        is_number = np.isin(kind, (TYPE_NONE, TYPE_N))
        for c, want in self.columns.items():
            hit = (col == c) & (is_text if want == "text" else is_number) & (rows >= self.first_row)
            self.found[c].update(rows[hit].tolist())
        # a t attribute the located codes do not settle: that cell read with the pattern
        for start in located.start[at[kind == TYPE_SEVERAL]].tolist():
            m = self._cell.match(region, start)
            if m:
                self._note(m)

    def _note(self, m: re.Match[bytes]) -> None:
        if m[4]:
            return  # an empty cell
        t = _ATTR_T.search(m[3])
        is_text = t is not None and t[1] in (b"s", b"inlineStr", b"str")
        is_number = t is None or t[1] == b"n"
        if (is_text if self._want_text[m[1]] else is_number) and int(m[2]) >= self.first_row:
            self.found[self._index[m[1]]].add(int(m[2]))


def rows_stored_as(
    zf: zipfile.ZipFile, part: str, columns: dict[int, str], first_row: int
) -> dict[int, set[int]]:
    """Per column, the rows from ``first_row`` down whose cell is stored as ``columns[col]``
    ("number" or "text"): what a reader's text view hides (``14`` and ``'14`` look alike).

    A pass that streams the sheet anyway uses ``StoredAs`` on its own pieces instead.
    """
    from cstracker.xlsx.cellscan import locate

    search = StoredAs(columns, first_row)
    if not columns:
        return search.found
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            search(region, locate(region))
    return search.found
