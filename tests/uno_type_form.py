"""Type into a consultation form the way a person does, in LibreOffice set to a locale, and save it.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_type_form.py IN.xlsx OUT.xlsx LOCALE NAME=TEXT [NAME=TEXT ...]

Starts ``soffice`` headless on a private socket and a fresh profile whose locale is
LOCALE (e.g. en-US), then for each defined NAME selects its cell and types TEXT with
the dispatcher's ``.uno:EnterString``, exactly as keystrokes would arrive (so the
locale decides how ``03/10/2025`` is read, unlike ``setFormula``, which always parses
en-US). Also types ``03/10/2025`` into a cell of a scratch sheet with the standard
format, to show what the locale does with a date in an ordinary cell. Saves with
Calc's Excel 2007-365 filter and prints one JSON object: ``shown``, each input's displayed
text by name; ``spelled``, the spelled-out date beside each date input; and ``plain``, the
scratch cell's value as an ISO date.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from uno_session import must_load, prop, save_xlsx, session

LOCALE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>{locale}</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse">
<value>{locale}</value></prop></item>
</oor:items>
"""


def main(src: str, dst: str, locale: str, typing: list[str]) -> None:
    out: dict = {"spelled": {}, "shown": {}}
    with session(LOCALE_PROFILE.format(locale=locale)) as lo:
        dispatcher = lo.service("com.sun.star.frame.DispatchHelper")
        doc = must_load(lo.desktop, src)
        controller = doc.CurrentController
        frame = controller.Frame
        for item in typing:
            name, text = item.split("=", 1)
            cell = doc.NamedRanges.getByName(name).ReferredCells
            address = cell.CellAddress
            sheet = doc.Sheets.getByIndex(address.Sheet)
            controller.setActiveSheet(sheet)
            dispatcher.executeDispatch(frame, ".uno:GoToCell", "", 0, (prop("ToPoint", cell.AbsoluteName),))
            dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", text),))
            doc.calculateAll()
            out["shown"][name] = cell.getCellByPosition(0, 0).String
            # the spelled-out date is the first formula cell right of (or under) the input
            for dr, dc in ((0, 1), (0, 2), (0, 3), (0, 4), (1, 0)):
                other = sheet.getCellByPosition(address.Column + dc, address.Row + dr)
                if other.Formula.startswith("=IF(") and "WEEKDAY" in other.Formula:
                    out["spelled"][name] = other.String
                    break
        # what the same keystrokes do in an ordinary cell under this locale
        doc.Sheets.insertNewByName("Scratch", doc.Sheets.Count)
        scratch = doc.Sheets.getByName("Scratch")
        controller.setActiveSheet(scratch)
        dispatcher.executeDispatch(frame, ".uno:GoToCell", "", 0, (prop("ToPoint", "$Scratch.$A$1"),))
        dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", "03/10/2025"),))
        value = scratch.getCellByPosition(0, 0).Value
        out["plain"] = (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat() if value else ""
        doc.Sheets.removeByName("Scratch")
        save_xlsx(doc, dst, close=False)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
