"""The OOXML parts every reader and writer of a workbook shares: namespaces, cell references and
column letters, the date system, defined-name targets.

Pure functions over names and bytes; nothing here knows what a tracker, form or report is.
"""

from __future__ import annotations

import re

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def col_index(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(index: int) -> str:
    """1 -> 'A', 27 -> 'AA'."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_ref(ref: str) -> tuple[int, int]:
    """'B12' or '$B$12' -> (column, row), both 1-based."""
    m = _REF.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref}")
    return col_index(m[1]), int(m[2])


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A1:BO2' -> (first col, first row, last col, last row)."""
    first, _, last = ref.partition(":")
    c1, r1 = parse_ref(first)
    c2, r2 = parse_ref(last or first)
    return c1, r1, c2, r2


_DATE1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"')


def is_date1904(workbook_xml: bytes) -> bool:
    """Does this workbook.xml set the 1904 date system (Excel's and LibreOffice's Mac option)?"""
    return _DATE1904.search(workbook_xml) is not None


def defined_name_target(formula: str) -> tuple[str, tuple[int, int, int, int]] | None:
    """ "Lists!$G$3:$G$5" or "'_cstracker'!$B$5" -> (sheet, range)."""
    sheet, sep, ref = formula.lstrip("=").rpartition("!")
    if not sep:
        return None
    sheet = sheet.strip("'").replace("''", "'")
    try:
        return sheet, parse_range(ref)
    except ValueError:
        return None
