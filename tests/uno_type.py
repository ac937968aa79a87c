"""Type into a tracker's Referrals sheet in LibreOffice itself, as a coordinator would, and save as .xlsx.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_type.py IN.xlsx OUT.xlsx A2=F B7=TRUE ...

Each ``REF=TEXT`` is entered as if typed into the cell (``setFormula``: ``TRUE``
becomes LibreOffice's boolean, ``14`` a number, ``F`` text). Saved with Calc's
Excel 2007-365 filter, exactly as a user's "Save as .xlsx" does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import uno_edit  # the same soffice start-up and connection


def main(src: str, dst: str, edits: list[str]) -> None:
    def edit(doc, workdir) -> None:
        sheet = doc.Sheets.getByName("Referrals")
        for item in edits:
            ref, _, text = item.partition("=")
            sheet.getCellRangeByName(ref).setFormula(text)

    uno_edit.edit = edit
    uno_edit.main(src, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
