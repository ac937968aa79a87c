"""Switch a workbook to the 1904 date system in LibreOffice itself, keeping every date, and save as .xlsx.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_date1904.py IN.xlsx OUT.xlsx

What a Mac user's option (Excel: "Use 1904 date system"; LibreOffice: Tools > Options >
Calc > Calculate > Date 1904) does to a file: the null date becomes 1 January 1904, so
each date cell's number is 1462 smaller. Changing the option alone would move every
date 4 years and a day, so, as a user would, the date cells are first re-entered.
"""

from __future__ import annotations

import sys

import uno
from uno_session import must_load, save_xlsx, session

#: com.sun.star.util.NumberFormat.DATE (DATETIME includes this bit)
DATE_BIT = 2
#: com.sun.star.sheet.CellFlags VALUE | DATETIME (a number with a date format is a DATETIME cell)
VALUE_CELLS = 1 | 2
DAYS_1900_TO_1904 = 1462


def to_1904(doc) -> int:
    formats = doc.NumberFormats
    moved = 0
    for sheet in doc.Sheets:
        ranges = sheet.queryContentCells(VALUE_CELLS)
        cells = ranges.Cells.createEnumeration()
        while cells.hasMoreElements():
            cell = cells.nextElement()
            if formats.getByKey(cell.NumberFormat).Type & DATE_BIT:
                cell.Value = cell.Value - DAYS_1900_TO_1904
                moved += 1
    null = uno.createUnoStruct("com.sun.star.util.Date")
    null.Day, null.Month, null.Year = 1, 1, 1904
    doc.NullDate = null
    doc.calculateAll()
    return moved


def main(src: str, dst: str) -> None:
    with session() as lo:
        doc = must_load(lo.desktop, src)
        moved = to_1904(doc)
        save_xlsx(doc, dst)
        print(f"moved {moved} date cells")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
