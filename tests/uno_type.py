"""Type into a tracker's Referrals sheet in LibreOffice itself, as a coordinator would, and save as .xlsx.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_type.py IN.xlsx OUT.xlsx A2=F B7=TRUE ...

Each ``REF=TEXT`` is entered as if typed into the cell (``setFormula``: ``TRUE``
becomes LibreOffice's boolean, ``14`` a number, ``F`` text). Saved with Calc's
Excel 2007-365 filter, exactly as a user's "Save as .xlsx" does.
"""

from __future__ import annotations

import sys

from uno_session import must_load, save_xlsx, session


def main(src: str, dst: str, edits: list[str]) -> None:
    with session() as lo:
        doc = must_load(lo.desktop, src)
        sheet = doc.Sheets.getByName("Referrals")
        for item in edits:
            ref, _, text = item.partition("=")
            sheet.getCellRangeByName(ref).setFormula(text)
        save_xlsx(doc, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
