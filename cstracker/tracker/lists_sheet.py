"""Grow an open code list on the tracker's Lists sheet (a new referrer team met in the data).

Which lists are open is the schema's decision (``CodeList.open``; ``reading.is_open_list``).
A list lives in one column of the Lists sheet behind the defined name
``list_<key>`` (``workbook.py``); growing it writes the new codes in the cells
just below the last one and extends the defined name, so every dropdown that
uses the name (Referrals, forms made from the tracker) offers them. Only the
Lists sheet part and workbook.xml's defined name change; both are parts the
tool owns. ``validate --fix`` uses this, and import should (one rule).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cstracker.core.errors import TrackerError
from cstracker.core.schema import DEFAULT_CODE_LISTS
from cstracker.tracker.create import LIST_NAME_PREFIX
from cstracker.tracker.layout import Layout, _sheet_names, _target
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.patch import Cell, Patch, SheetPatcher
from cstracker.xlsx.sheetscan import is_blank, typed_rows


@dataclass
class ListGrowth:
    """The package patches that add the codes, and what was added: (cell, list key, code)."""

    patches: dict[str, Patch] = field(default_factory=dict)
    added: list[tuple[str, str, str]] = field(default_factory=list)


def grow_lists(path: Path, layout: Layout, additions: Mapping[str, Sequence[str]]) -> ListGrowth:
    """Patches adding ``additions`` (list key -> new codes) to the Lists sheet; codes already there are skipped."""
    growth = ListGrowth()
    wanted = {}
    for key, codes in additions.items():
        new = layout.lists.not_listed(key, codes)
        if new:
            wanted[key] = new
    if not wanted:
        return growth
    from cstracker.xlsx.encryption import open_zip, source

    with open_zip(source(path)) as zf:
        sheets, _ = _sheet_names(zf, path)
        updates: dict[str, dict[int, dict[int, Cell]]] = {}
        names: dict[str, str] = {}
        for key, codes in wanted.items():
            name = LIST_NAME_PREFIX + key
            target = _target(layout.defined_names.get(name, ""))
            if target is None or target[0] not in sheets:
                raise TrackerError(
                    f"{path}: the list {DEFAULT_CODE_LISTS[key].title} has no range on the Lists sheet"
                )
            sheet, (c1, r1, c2, r2) = target
            part = sheets[sheet]
            below = [
                n
                for n, values in typed_rows(zf, part, (c1,), r2 + 1)
                if n <= r2 + len(codes) and not is_blank(values.get(c1))
            ]
            if below:
                raise TrackerError(
                    f"{path}: cannot add to the list {DEFAULT_CODE_LISTS[key].title}: sheet {sheet} cell "
                    f"{col_letters(c1)}{below[0]} (below the list) is not empty; clear it and run again"
                )
            cells = updates.setdefault(part, {})
            for i, code in enumerate(codes, start=1):
                cells.setdefault(r2 + i, {})[c1] = Cell("s", code)
                growth.added.append((f"{sheet}!{col_letters(c1)}{r2 + i}", key, code))
            quoted = f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet
            names[name] = f"{quoted}!${col_letters(c1)}${r1}:${col_letters(c1)}${r2 + len(codes)}"
    for part, cells in updates.items():
        growth.patches[part] = SheetPatcher(cells)
    growth.patches["xl/workbook.xml"] = _defined_names_patch(names)
    return growth


def _defined_names_patch(names: Mapping[str, str]) -> Patch:
    def patch(src, dst) -> None:
        xml = src.read()
        for name, ref in names.items():
            pattern = (
                rb'(<definedName\b[^>]*\bname="'
                + re.escape(name.encode())
                + rb'"[^>]*>)[^<]*(</definedName>)'
            )
            xml, n = re.subn(pattern, lambda m, ref=ref: m[1] + _esc(ref) + m[2], xml, count=1)
            if n != 1:
                raise ValueError(f"the defined name {name} is missing from workbook.xml")
        dst.write(xml)

    return patch


def _esc(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")
