"""Edit a tracker the way a coordinator would, in LibreOffice itself, and save it as .xlsx.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_edit.py IN.xlsx OUT.xlsx

Starts ``soffice`` headless on a private socket and profile, then adds: a
sheet ``Notes`` with values, a column ``My notes`` inside the Referrals table
(with values), a chart and an image on ``Notes``, comments, conditional
formatting on the extra column, and a list validation on the extra column
whose source is a range on another sheet. Saves with Calc's Excel 2007-365
filter, exactly as a user's "Save as .xlsx" does.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import uno
from com.sun.star.awt import Point, Rectangle, Size
from com.sun.star.table import CellAddress, CellRangeAddress
from uno_session import Session, must_load, prop, save_xlsx, session

EXTRA_HEADER = "My notes"
EXTRA_VALUES = ["note one", "note two", "note three"]
NOTES_VALUES = ["alpha", "beta", "gamma", "delta"]


def tiny_png(path: Path) -> None:
    """A 4x4 red PNG, written by hand so no imaging library is needed."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def edit(doc, lo: Session) -> None:
    sheets = doc.Sheets
    referrals = sheets.getByName("Referrals")
    sheets.insertNewByName("Notes", sheets.Count)
    notes = sheets.getByName("Notes")
    for i, value in enumerate(NOTES_VALUES):
        notes.getCellByPosition(0, i).String = value
        notes.getCellByPosition(1, i).Value = (i + 1) * 10

    # An extra column inside the table, between Date received (B) and Referrer (C).
    referrals.Columns.insertByIndex(2, 1)
    referrals.getCellByPosition(2, 0).String = EXTRA_HEADER
    for i, value in enumerate(EXTRA_VALUES, start=1):
        referrals.getCellByPosition(2, i).String = value

    # Comments: one on the coordinator's column, one on a cstracker cell.
    referrals.Annotations.insertNew(CellAddress(referrals.RangeAddress.Sheet, 2, 1), "Coordinator's comment")
    referrals.Annotations.insertNew(CellAddress(referrals.RangeAddress.Sheet, 0, 2), "Check this one")

    # Conditional formatting on the extra column.
    target = referrals.getCellRangeByName("C2:C200")
    cf = target.ConditionalFormat
    cf.addNew(
        (
            prop("Operator", uno.Enum("com.sun.star.sheet.ConditionOperator", "EQUAL")),
            prop("Formula1", '"note two"'),
            prop("StyleName", "Accent"),
        )
    )
    target.ConditionalFormat = cf

    # A list validation whose source is a range on another sheet.
    validation = target.Validation
    validation.Type = uno.Enum("com.sun.star.sheet.ValidationType", "LIST")
    validation.ShowErrorMessage = True
    validation.setFormula1("$Notes.$A$1:$A$4")
    target.Validation = validation

    # A chart over the Notes values.
    address = CellRangeAddress(notes.RangeAddress.Sheet, 0, 0, 1, len(NOTES_VALUES) - 1)
    notes.Charts.addNewByName("NotesChart", Rectangle(4000, 1000, 10000, 7000), (address,), False, False)

    # An image on the Notes sheet.
    png = lo.workdir / "image.png"
    tiny_png(png)
    graphic_provider = lo.service("com.sun.star.graphic.GraphicProvider")
    graphic = graphic_provider.queryGraphic((prop("URL", png.resolve().as_uri()),))
    shape = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
    shape.Graphic = graphic
    notes.DrawPage.add(shape)
    shape.setSize(Size(2000, 2000))
    shape.setPosition(Point(1000, 9000))


def main(src: str, dst: str) -> None:
    with session() as lo:
        doc = must_load(lo.desktop, src)
        edit(doc, lo)
        save_xlsx(doc, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
