"""Change settings inside a tracker: cells of the hidden settings sheet, behind ``cs_<key>`` names.

A setting the tracker already has (its defined name points at a cell) is changed
in that cell; a setting it does not have yet (a tracker made by an older version)
gets a new key/value row below the sheet's last row and a new defined name in
workbook.xml. The settings sheet keeps everything else as it was (its style
exemplar cell above all), so it is patched cell by cell with the same streaming
patcher as the Referrals sheet rather than written whole.

The patches go into the same package rewrite, and so the same atomic save, as
the rows they belong with (``Tracker.save``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping
from typing import IO

from cstracker.tracker.create import SETTING_NAME_PREFIX, SHEET_META
from cstracker.tracker.layout import Layout, _sheet_names, _target
from cstracker.xlsx.parts import BIG_PART_BYTES, read_part
from cstracker.xlsx.patch import Cell, SheetPatcher

Patch = Callable[[IO[bytes], IO[bytes]], None]
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')


def _cell(value: str | int | None) -> Cell:
    if value is None or value == "":
        return Cell("")
    if isinstance(value, int):
        return Cell("n", value)
    return Cell("s", str(value))


def settings_patches(
    zf: zipfile.ZipFile, layout: Layout, values: Mapping[str, str | int | None]
) -> dict[str, Patch]:
    """Patches (part name -> patch) that set each ``values`` key on the tracker's settings sheet."""
    sheets, _ = _sheet_names(zf, layout.path)
    names = layout.defined_names
    updates: dict[int, dict[int, Cell]] = {}
    sheet = None
    new: list[tuple[str, str | int | None]] = []
    for key, value in values.items():
        got = _target(names.get(SETTING_NAME_PREFIX + key, ""))
        if got is None or got[0] not in sheets:
            new.append((key, value))
            continue
        sheet_name, (col, row, _, _) = got
        if sheet not in (None, sheet_name):
            raise ValueError("the tracker's settings are on more than one sheet")
        sheet = sheet_name
        updates.setdefault(row, {})[col] = _cell(value)
    if sheet is None:
        # every setting is new: they go on the sheet the others live on (by name, else _cstracker)
        known = [_target(v) for k, v in names.items() if k.startswith(SETTING_NAME_PREFIX)]
        sheet = next((t[0] for t in known if t and t[0] in sheets), SHEET_META)
    if sheet not in sheets:
        raise ValueError(f"the settings sheet {sheet} is missing")
    part = sheets[sheet]
    patches: dict[str, Patch] = {}
    if new:
        last = max((int(m) for m in _ROW_NUMBER.findall(read_part(zf, part, BIG_PART_BYTES))), default=0)
        added = []
        for i, (key, value) in enumerate(new, start=1):
            row = last + i
            updates[row] = {1: Cell("s", key), 2: _cell(value)}
            quoted = "'" + sheet.replace("'", "''") + "'"
            added.append((SETTING_NAME_PREFIX + key, f"{quoted}!$B${row}"))
        workbook = read_part(zf, "xl/workbook.xml")  # PartTooBig is a ValueError: the save says so
        patches["xl/workbook.xml"] = _replace_with(add_defined_names(workbook, added))
    patches[part] = SheetPatcher(updates)
    return patches


def add_defined_names(workbook: bytes, names: list[tuple[str, str]]) -> bytes:
    """workbook.xml with workbook-wide defined names added (a ``<definedNames>`` made if there is none)."""
    prefix_m = re.search(rb"<([\w.-]+:)?workbook\b", workbook)
    prefix = prefix_m[1] or b"" if prefix_m else b""
    entries = b"".join(
        b'<%sdefinedName name="%s">%s</%sdefinedName>' % (prefix, name.encode(), _esc(formula), prefix)
        for name, formula in names
    )
    close = re.search(rb"</(?:[\w.-]+:)?definedNames\s*>", workbook)
    if close:
        return workbook[: close.start()] + entries + workbook[close.start() :]
    after = re.search(rb"</(?:[\w.-]+:)?sheets\s*>", workbook)
    if after is None:
        raise ValueError("the workbook part has no <sheets>")
    block = b"<%sdefinedNames>%s</%sdefinedNames>" % (prefix, entries, prefix)
    return workbook[: after.end()] + block + workbook[after.end() :]


def _esc(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def _replace_with(data: bytes) -> Patch:
    def write(_src: IO[bytes], dst: IO[bytes]) -> None:
        dst.write(data)

    return write
