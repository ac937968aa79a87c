"""Type values into a workbook's cells in LibreOffice itself and save it as .xlsx, as a coordinator would.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_cells.py IN.xlsx OUT.xlsx "Referrals!F2=Male" "Referrals!Q2=Eastgate"

Each value is typed as text (a cell's String), like typing into the cell. Without any
assignment the workbook is only opened and saved again (a plain re-save).
"""

from __future__ import annotations

import sys

from uno_session import must_load, save_xlsx, session


def main(src: str, dst: str, assignments: list[str]) -> None:
    with session() as lo:
        doc = must_load(lo.desktop, src)
        for assignment in assignments:
            where, _, value = assignment.partition("=")
            sheet, _, ref = where.rpartition("!")
            doc.Sheets.getByName(sheet).getCellRangeByName(ref).String = value
        save_xlsx(doc, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
