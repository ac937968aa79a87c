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
from typing import Any

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

#: Excel's built-in date and time number formats
_BUILTIN_DATES = {*range(14, 23), *range(45, 48)}
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_EXCEL_ZERO = dt.datetime(1899, 12, 30)


class NotColumnWise(Exception):
    """The sheet XML is not in the shape the pass relies on (a cell without its reference)."""


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
    (no type, or ``n``). Both patterns match only the odd cells, so a clean sheet costs one
    search per chunk. Raises NotColumnWise for a chunk whose cells lack their references (after
    the whole pass). ``far``: (``extent.FarCells``, the error for what it finds): this pass is also
    the check for cells far outside the sheet's area, before any reader sees it.

    Numbers the text view shows otherwise than a reader of the cell gives them are odd too: in any
    number column one of 8 digits or more or in exponent form (as a date the text view shows it as
    no date or nothing at all); in ``date_cols`` one below 1 (a time of day, no date: ``as_date``);
    in ``whole_cols`` (a count, a date without a time) one with a fraction (the text view rounds it
    to 9 decimals: 0.9999999999 shows as 1).
    """
    formulas: dict[tuple[int, int], str] = {}
    odd: set[int] = set()
    # One pattern matching only the cells that matter, so a clean chunk costs one search: column
    # letters as a trie (a candidate fails on its first letter, not after trying every column),
    # then a formula in a value column (first: its row is read whole anyway), a text column's
    # cell stored as anything but text, a number column's cell stored as anything but a number.
    branches = [
        rb"(" + _letters([*text_cols, *number_cols]) + rb')(\d+)"[^>]*>\s*<f\b[^>]*?(?:/>|>(.*?)</f>)'
    ]
    if text_cols:
        branches.append(_letters(text_cols) + rb'(\d+)"(?![^>]*?\bt="(?:s|inlineStr)")(?![^>]*/>)')
    if number_cols:
        branches.append(_letters(number_cols) + rb'(\d+)"[^>]*?\bt="(?!n")')
        branches.append(_letters(number_cols) + rb'(\d+)"[^>]*>\s*<v>-?(?:\d{8}|[\d.]+[eE])')
    if date_cols:
        branches.append(_letters(date_cols) + rb'(\d+)"[^>]*>\s*<v>(?:-|0[.<])')
    if whole_cols:
        branches.append(_letters(whole_cols) + rb'(\d+)"[^>]*>\s*<v>-?\d*\.')
    pattern = re.compile(rb'<c r="(?:' + b"|".join(branches) + rb")", re.S)
    column_wise = True
    with zf.open(part) as src:
        for region in sheet_data_regions(src):
            if far is not None:
                found = far[0].find(region)
                if found:
                    raise far[1](found)
            if not column_wise or not has_all_refs(region):
                column_wise = False  # the far-cell check still sees every piece
                continue
            for m in pattern.finditer(region):
                if m[1]:
                    row = int(m[2])
                    if row >= first_row:
                        formulas[(row, col_index(m[1].decode()))] = _text(m[3] or b"")
                    continue
                row = int(next(g for g in m.groups()[3:] if g))
                if row >= first_row:
                    odd.add(row)
    if not column_wise:
        raise NotColumnWise("a row or cell without its reference")
    return formulas, odd


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
