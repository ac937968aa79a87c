"""Ways to damage our own valid workbooks, for the fault tests (tests/xlsx/test_extent.py, tests/test_fuzz.py)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path


def rewrite(src: Path, dst: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of ``src`` at ``dst`` with ``part`` passed through ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = change(data)
            zout.writestr(info, data)
    return dst


def sheet_part(path: Path, sheet: str) -> str:
    from cstracker.xlsx.extent import sheet_parts

    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)[sheet]


def far_cell(ref: str, value: str = "x") -> Callable[[bytes], bytes]:
    """Add one text cell at ``ref`` (e.g. XFD1048576) in a row of its own at the end of the sheet."""
    row = re.match(r"[A-Z]+(\d+)", ref)[1]
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c></row>'.encode()

    def change(xml: bytes) -> bytes:
        if b"<sheetData/>" in xml:
            return xml.replace(b"<sheetData/>", b"<sheetData>" + cell + b"</sheetData>")
        return xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)

    return change
