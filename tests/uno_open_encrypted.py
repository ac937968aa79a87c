"""Open a password-protected tracker in LibreOffice itself and print what it shows.

Run with Debian's Python, which has the UNO bridge:

    /usr/bin/python3 tests/uno_open_encrypted.py TRACKER.xlsx PASSWORD

Prints one JSON object: whether the file opened with the password, the
Referrals sheet's Referral IDs (column A, rows 2 to 500, blanks skipped), and
whether it opened WITHOUT the password (it must not).
"""

from __future__ import annotations

import json
import sys

from uno_session import load, prop, session


def main(src: str, password: str) -> None:
    out = {"opened": False, "ids": [], "opened_without_password": False}
    with session() as lo:
        doc = load(lo.desktop, src, prop("Password", password), tries=1)
        if doc is not None:
            out["opened"] = True
            sheet = doc.Sheets.getByName("Referrals")
            for row in range(1, 500):
                text = sheet.getCellByPosition(0, row).getString()
                if text:
                    out["ids"].append(text)
            doc.close(True)
        bare = load(lo.desktop, src, tries=1)
        if bare is not None:
            out["opened_without_password"] = True
            bare.close(True)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
