"""What validate needs to know about the Referrals table beyond a reader's text view, in one stream.

``Tracker`` reads the table column-wise (fastexcel's text view, Arrow, then
``reading.read_column`` per column); that view cannot tell a number from a number
stored as text, a date typed as text from a real date, nor a formula from its
value. This module finds, in one pass over the sheet XML, the cells where that
matters: formulas in the value columns and cells stored as a type other than the
one cstracker writes for their column (``odd_cells``). Only their rows are then
read cell by cell (``stored_rows``), with the values a spreadsheet reader gives:
numbers in a date-formatted cell as dates, as python-calamine reads them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from cstracker.core.convert import DATE1904_OFFSET
from cstracker.xlsx.cells import CELL as _CELL
from cstracker.xlsx.cells import CELL_REF as _CELL_R
from cstracker.xlsx.cells import ROW as _ROW
from cstracker.xlsx.cells import ROW_REF as _ROW_R
from cstracker.xlsx.cells import STYLE as _S
from cstracker.xlsx.cells import TYPE as _ATTR_T
from cstracker.xlsx.cells import SharedStrings, cell_value
from cstracker.xlsx.cells import text as _text
from cstracker.xlsx.parts import PartTooBig, col_index, col_letters, read_part
from cstracker.xlsx.sheetscan import has_all_refs, sheet_data_regions

if TYPE_CHECKING:
    from cstracker.xlsx.cellscan import Located

#: Excel's built-in date and time number formats
_BUILTIN_DATES = {*range(14, 23), *range(45, 48)}
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_EXCEL_ZERO = dt.datetime(1899, 12, 30)


class NotColumnWise(Exception):
    """The sheet XML is not in the shape the pass relies on (a cell without its reference)."""


class OddCells:
    """``odd_cells``' search, one piece of the sheet XML at a time, for a pass that streams the sheet
    anyway (``sheetslices.read_in_slices``' ``inspect``): call it with each piece (whole rows) and
    its located cells, then read ``formulas`` and ``odd``.

    A piece in the plain shape is answered from its located cells (``cellscan``: no search per
    cell): the rows are a superset where that is safe (a row read cell by cell gives what the
    column-wise read would), and each formula is confirmed and its text taken with the pattern.
    """

    def __init__(
        self,
        text_cols: Collection[int],
        number_cols: Collection[int],
        first_row: int,
        date_cols: Collection[int] = (),
        whole_cols: Collection[int] = (),
    ):
        self.first_row = first_row
        #: formula text by (row, column) of the value columns
        self.formulas: dict[tuple[int, int], str] = {}
        #: rows with a cell stored as another type than cstracker writes for its column
        self.odd: set[int] = set()
        #: False once a piece had a cell or row without its reference (the column-wise read cannot vouch)
        self.column_wise = True
        import numpy as np

        # per column, bits: 1 text, 2 number, 4 date, 8 whole (cells beyond three letters are column 0)
        self._kind = np.zeros(18_279, np.int8)
        for bit, cols in ((1, text_cols), (2, number_cols), (4, date_cols), (8, whole_cols)):
            self._kind[[c for c in cols if c < len(self._kind)]] |= bit
        # One pattern matching only the cells that matter, so a clean chunk costs one search: column
        # letters as a trie (a candidate fails on its first letter, not after trying every column),
        # then a formula in a value column (first: its row is read whole anyway), a text column's
        # cell stored as anything but text, a number column's cell stored as anything but a number,
        # and numbers the text view shows otherwise than a reader (``odd_cells``).
        self._formula = re.compile(
            rb'<c r="('
            + _letters([*text_cols, *number_cols])
            + rb')(\d+)"[^>]*>\s*<f\b[^>]*?(?:/>|>(.*?)</f>)',
            re.S,
        )
        branches = [self._formula.pattern[len(b'<c r="') :]]
        if text_cols:
            branches.append(_letters(text_cols) + rb'(\d+)"(?![^>]*?\bt="(?:s|inlineStr)")(?![^>]*/>)')
        if number_cols:
            branches.append(_letters(number_cols) + rb'(\d+)"[^>]*?\bt="(?!n")')
            branches.append(_letters(number_cols) + rb'(\d+)"[^>]*>\s*<v>-?(?:\d{8}|[\d.]+[eE])')
        if date_cols:
            branches.append(_letters(date_cols) + rb'(\d+)"[^>]*>\s*<v>(?:-|0[.<])')
        if whole_cols:
            branches.append(_letters(whole_cols) + rb'(\d+)"[^>]*>\s*<v>-?\d*\.')
        self._pattern = re.compile(rb'<c r="(?:' + b"|".join(branches) + rb")", re.S)

    def __call__(self, region: bytes, located: Located | None) -> None:
        if not self.column_wise:
            return
        if located is None:
            if not has_all_refs(region):
                self.column_wise = False
                return
            self._search(region)
            return
        import numpy as np

        from cstracker.xlsx.cellscan import TYPE_INLINE, TYPE_N, TYPE_NONE, TYPE_S

        kind = self._kind[located.col]
        text, number = (kind & 1) != 0, (kind & 2) != 0
        odd = (text & ~located.empty & ~np.isin(located.type, (TYPE_S, TYPE_INLINE))) | (
            number & ~np.isin(located.type, (TYPE_NONE, TYPE_N))
        )
        odd |= self._odd_numbers(located, kind)
        for i in np.flatnonzero(located.formula & ((kind & 3) != 0)).tolist():
            m = self._formula.match(region, int(located.start[i]))
            if m:
                odd[i] = False  # as the pattern: a formula cell is a formula, whatever its type
                row = int(m[2])
                if row >= self.first_row:
                    self.formulas[(row, col_index(m[1].decode()))] = _text(m[3] or b"")
        if odd.any():
            rows = located.row_of(np.flatnonzero(odd))
            self.odd.update(int(r) for r in rows[rows >= self.first_row])

    def _odd_numbers(self, located: Located, kind: Any) -> Any:
        """The number columns' cells whose value (``<v>`` right after the start tag) the text view
        shows otherwise than a reader: the patterns' last three branches, on a window of the value's
        first 24 bytes (a value running past it counts as odd: a wider net, never a narrower one)."""
        import numpy as np

        from cstracker.xlsx.cellscan import value_window

        odd = np.zeros(len(kind), bool)
        at = np.flatnonzero(((kind & 2) != 0) & ~located.empty)
        if not at.size:
            return odd
        w, has_v = value_window(located, at, 24)
        at, w = at[has_v], w[has_v]
        neg = w[:, 0] == ord("-")
        digit = (w - 48) < 10
        dot = w == ord(".")
        width = w.shape[1]

        def run(mask):
            """Leading run of ``mask`` from the value's first byte after an optional '-'."""
            going = np.ones(len(w), bool)
            count = np.zeros(len(w), np.int64)
            for k in range(width - 1):
                cur = np.where(neg, mask[:, min(k + 1, width - 1)], mask[:, k])
                going &= cur
                count += going
            return count

        rows = np.arange(len(w))
        digits, numeric = run(digit), run(digit | dot)
        end = np.minimum(neg + numeric, width - 1)
        after_digits = np.minimum(neg + digits, width - 1)
        full = neg + numeric >= width - 1  # the run reaches the window's end
        hit = (digits >= 8) | ((numeric >= 1) & np.isin(w[rows, end], (ord("e"), ord("E")))) | full
        date = (kind[at] & 4) != 0
        hit |= date & (neg | ((w[:, 0] == ord("0")) & np.isin(w[:, 1], (ord("."), ord("<")))))
        whole = (kind[at] & 8) != 0
        hit |= whole & ((w[rows, after_digits] == ord(".")) | (neg + digits >= width - 1))
        odd[at[hit]] = True
        return odd

    def _search(self, region: bytes) -> None:
        for m in self._pattern.finditer(region):
            if m[1]:
                row = int(m[2])
                if row >= self.first_row:
                    self.formulas[(row, col_index(m[1].decode()))] = _text(m[3] or b"")
                continue
            row = int(next(g for g in m.groups()[3:] if g))
            if row >= self.first_row:
                self.odd.add(row)


def odd_cells(
    zf: zipfile.ZipFile,
    part: str,
    text_cols: Collection[int],
    number_cols: Collection[int],
    first_row: int,
    far: tuple[Any, Callable[[str], Exception]] | None = None,
    date_cols: Collection[int] = (),
    whole_cols: Collection[int] = (),
) -> tuple[dict[tuple[int, int], str], set[int]]:
    """(formula text by (row, column) of the value columns, rows with a cell stored as another type).

    ``text_cols`` hold text when canonical (shared or inline strings); ``number_cols`` numbers
    (no type, or ``n``). Raises NotColumnWise for a chunk whose cells lack their references (after
    the whole pass). ``far``: (``extent.FarCells``, the error for what it finds): this pass is also
    the check for cells far outside the sheet's area, before any reader sees it. A pass that
    streams the sheet anyway uses ``OddCells`` on its own pieces instead.

    Numbers the text view shows otherwise than a reader of the cell gives them are odd too: in any
    number column one of 8 digits or more or in exponent form (as a date the text view shows it as
    no date or nothing at all); in ``date_cols`` one below 1 (a time of day, no date: ``as_date``);
    in ``whole_cols`` (a count, a date without a time) one with a fraction (the text view rounds it
    to 9 decimals: 0.9999999999 shows as 1).

    """
    from cstracker.xlsx.cellscan import locate

    search = OddCells(text_cols, number_cols, first_row, date_cols, whole_cols)
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            located = locate(region)
            if far is not None:
                found = far[0].find(region, located)
                if found:
                    raise far[1](found)
            search(region, located)  # the far-cell check still sees every piece after a NotColumnWise one
    if not search.column_wise:
        raise NotColumnWise("a row or cell without its reference")
    return search.formulas, search.odd


def _letters(columns: Collection[int]) -> bytes:
    """A regex for exactly these columns' letters, as a trie: "A[BC]?|B[AE]?|C"."""
    by_first: dict[str, set[str]] = {}
    for c in columns:
        letters = col_letters(c)
        by_first.setdefault(letters[0], set()).add(letters[1:])
    out = []
    for head, tails in sorted(by_first.items()):
        longer = sorted(t for t in tails if t)
        if not longer:
            out.append(head)
            continue
        if all(len(t) == 1 for t in longer):
            rest = "[" + "".join(longer) + "]"
        else:
            rest = "(?:" + "|".join(re.escape(t) for t in sorted(longer, key=len, reverse=True)) + ")"
        out.append(head + rest + ("?" if "" in tails else ""))
    return ("(?:" + "|".join(out) + ")").encode()


def date_styles(zf: zipfile.ZipFile) -> set[int]:
    """The cell style indexes whose number format shows a date or time (a reader gives those cells as dates)."""
    try:
        root = SafeET.fromstring(read_part(zf, "xl/styles.xml"), forbid_dtd=True)
    except (KeyError, ET.ParseError, PartTooBig, DefusedXmlException):
        return set()  # no styles to go by (none, damaged, absurdly large, or with a DTD): no date cells
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    custom = {}
    for fmt in root.iter(f"{ns}numFmt"):
        code = _QUOTED.sub("", fmt.get("formatCode", "")).lower()
        custom[int(fmt.get("numFmtId", "0"))] = any(ch in code for ch in "dmyhs") and code != "general"
    out = set()
    xfs = root.find(f"{ns}cellXfs")
    for i, xf in enumerate(xfs if xfs is not None else []):
        fmt = int(xf.get("numFmtId", "0") or 0)
        if fmt in _BUILTIN_DATES or custom.get(fmt, False):
            out.add(i)
    return out


_DAY_MS = 86_400_000
#: the readers' calendar: from chrono's first day (01/01/-262143; a time of day is still read below 1) to
#: 31/12/9999, in milliseconds after 30/12/1899 (outside it a serial is the number itself)
_CALENDAR_MS = (-96_439_723 * _DAY_MS, 2_958_466 * _DAY_MS)


def as_date(serial: float, date1904: bool) -> Any:
    """A number in a date-formatted cell as python-calamine gives it, and so as validate reads it.

    From 1 up to 31/12/9999: a date (a whole number) or a date-time. Below 1 it is a time of day and no
    date (the time in the day the serial falls in, to the millisecond): Excel shows 00/01/1900 for a
    0.5 and ####### for a negative number in a date cell, no calendar day. Beyond the calendar, and
    infinity or NaN: the number itself. Counted as calamine counts: days after 30/12/1899 (a 1904
    serial shifted by 1,462 days first), to the millisecond rounded half away from zero.
    """
    if not math.isfinite(serial):
        return serial
    days = serial + (DATE1904_OFFSET if date1904 else 0)  # days after 30/12/1899
    if days < 60:
        # Excel's 1900 system counts a 29/02/1900 that never was (serial 60): before it, serial 1 is
        # 01/01/1900, a day later than the count from 30/12/1899 gives (calamine reads 60 as 28/02/1900).
        days += 1
    whole = math.floor(days)
    if serial < 1:  # the time in the day (its day may be before the year 1, which Python has no date for)
        if whole * _DAY_MS < _CALENDAR_MS[0]:
            return serial
        in_day = math.floor((days - whole) * _DAY_MS + 0.5)
        return (dt.datetime.min + dt.timedelta(milliseconds=in_day % _DAY_MS)).time()
    ms = math.floor(days * _DAY_MS + 0.5)
    if ms >= _CALENDAR_MS[1]:
        return serial
    when = _EXCEL_ZERO + dt.timedelta(milliseconds=ms)
    if float(serial).is_integer():
        return when.date()
    return (
        when  # a fraction of a day, even one that rounds to midnight, is a date-time (as calamine gives it)
    )


def stored_rows(
    zf: zipfile.ZipFile,
    part: str,
    numbers: Collection[int],
    columns: Collection[int],
    date1904: bool = False,
) -> dict[int, dict[int, Any]]:
    """The cells of ``columns`` in the sheet rows ``numbers``: (row -> column -> value) as a reader gives them."""
    wanted = sorted(numbers)
    if not wanted:
        return {}
    want, cols = set(wanted), set(columns)
    shared = SharedStrings(zf)
    dates = date_styles(zf)
    out: dict[int, dict[int, Any]] = {}
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            first = _ROW_R.search(region, region.find(b"<row"))
            last_at = region.rfind(b"<row")
            last = _ROW_R.search(region, last_at) if last_at >= 0 else None
            if first is None or last is None:
                continue
            at = bisect.bisect_left(wanted, int(first[1]))
            if at >= len(wanted) or wanted[at] > int(last[1]):
                continue
            for row in _ROW.finditer(region):
                r = _ROW_R.search(row[1])
                number = int(r[1]) if r else 0
                if number not in want:
                    continue
                values: dict[int, Any] = {}
                for c in _CELL.finditer(row[2] or b""):
                    ref = _CELL_R.search(c[1])
                    col = col_index(ref[1].decode()) if ref else 0
                    if col not in cols:
                        continue
                    t = _ATTR_T.search(c[1])
                    # an error value (#N/A pasted as a value, a formula's cached #DIV/0!) reads as an empty
                    # cell, as python-calamine and fastexcel read it
                    value = None if t is not None and t[1] == b"e" else cell_value(c[1], c[2], shared)
                    if (
                        isinstance(value, str)
                        and not value.strip()
                        and b'xml:space="preserve"' not in (c[2] or b"")
                    ):
                        value = ""  # a reader drops a text of only spaces unless the XML says to keep them
                    if isinstance(value, float) and (t is None or t[1] == b"n"):
                        s = _S.search(c[1])
                        if s is not None and int(s[1]) in dates:
                            value = as_date(value, date1904)
                    if value is not None and value != "":
                        values[col] = value
                out[number] = values
    return out
