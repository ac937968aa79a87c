"""The OOXML parts every reader and writer of a workbook shares: namespaces, cell references and
column letters, relationships, the date system, defined-name targets.

Pure functions over names and bytes; nothing here knows what a tracker, form or report is. Each is
the one place its thing is done: the tracker's layout, the safe reader of forms, the sheet scanner,
the slice reader and the extent check all ask here for column letters and for relationships.
"""

from __future__ import annotations

import functools
import posixpath
import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def col_index(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(index: int) -> str:
    """1 -> 'A', 27 -> 'AA'."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_ref(ref: str) -> tuple[int, int]:
    """'B12' or '$B$12' -> (column, row), both 1-based."""
    m = _REF.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref}")
    return col_index(m[1]), int(m[2])


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A1:BO2' -> (first col, first row, last col, last row)."""
    first, _, last = ref.partition(":")
    c1, r1 = parse_ref(first)
    c2, r2 = parse_ref(last or first)
    return c1, r1, c2, r2


_DATE1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"')


def is_date1904(workbook_xml: bytes) -> bool:
    """Does this workbook.xml set the 1904 date system (Excel's and LibreOffice's Mac option)?"""
    return _DATE1904.search(workbook_xml) is not None


def defined_name_target(formula: str) -> tuple[str, tuple[int, int, int, int]] | None:
    """ "Lists!$G$3:$G$5" or "'_cstracker'!$B$5" -> (sheet, range)."""
    sheet, sep, ref = formula.lstrip("=").rpartition("!")
    if not sep:
        return None
    sheet = sheet.strip("'").replace("''", "'")
    try:
        return sheet, parse_range(ref)
    except ValueError:
        return None


# -- relationships ---------------------------------------------------------------------------------

_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*?)/?>")
_REL_ATTR = re.compile(rb'([A-Za-z:]+)="([^"]*)"')


def rels_part(part: str) -> str:
    """The relationships part of ``part`` ('' = the package): 'xl/workbook.xml' -> 'xl/_rels/workbook.xml.rels'."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


@functools.lru_cache(maxsize=32)
def relationships(data: bytes, folder: str) -> dict[str, tuple[str, str]]:
    """Relationship Id -> (type, part name) of a ``.rels`` part whose targets are relative to ``folder``.

    External targets (hyperlinks) are left out. A part shaped the way spreadsheet programs write it is
    read with one regular expression (cached by content: every form of one layout has the same);
    anything else is parsed with defusedxml, which refuses a DTD (``DefusedXmlException``). Damaged
    XML raises ``ET.ParseError``: each caller says what that means for its file.
    """
    tags = _REL_TAG.findall(data)
    if b"<!" not in data and b"&" not in data and len(tags) == data.count(b"Relationship "):
        found = [{k.decode(): v.decode("utf-8", "replace") for k, v in _REL_ATTR.findall(t)} for t in tags]
    else:
        root = SafeET.fromstring(data, forbid_dtd=True)
        found = [dict(el.attrib) for el in root.iter() if el.tag.rpartition("}")[2] == "Relationship"]
    out: dict[str, tuple[str, str]] = {}
    for attrs in found:
        if attrs.get("Id") and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            name = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[attrs["Id"]] = (attrs.get("Type", ""), posixpath.normpath(name))
    return out


def part_relationships(zf, part: str) -> dict[str, tuple[str, str]]:
    """``relationships`` of ``part`` in the open zip ``zf``; {} when it has no relationships part."""
    name = rels_part(part)
    if name not in zf.NameToInfo:
        return {}
    return relationships(zf.read(name), posixpath.dirname(part))


def part_of_type(zf, part: str, kind: str) -> str | None:
    """The part ``part`` refers to with a relationship of type ``.../kind`` (e.g. 'sharedStrings'), if present."""
    try:
        rels = part_relationships(zf, part)
    except (ET.ParseError, DefusedXmlException):
        return None
    for rel_type, name in rels.values():
        if rel_type.endswith("/" + kind):
            return name if name in zf.NameToInfo else None
    return None
