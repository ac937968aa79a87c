"""The OOXML parts every reader and writer of a workbook shares: namespaces, cell references and
column letters, reading a part with a size cap, content types, relationships, the date system,
defined-name targets.

Pure functions over names and bytes; nothing here knows what a tracker, form or report is. Each is
the one place its thing is done: the tracker's layout, the safe reader of forms, the sheet scanner,
the slice reader and the extent check all ask here for column letters and for relationships.
"""

from __future__ import annotations

import functools
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import NamedTuple

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

#: a part of a workbook other than a sheet (workbook.xml, relationships, styles, properties, content
#: types) is a few KB, a few MB at most in any real workbook: a larger one is not read
SMALL_PART_BYTES = 20 * 1024 * 1024
#: a sheet or shared-strings part of a tracker, unpacked: a 100,000-row tracker's sheet is about 150 MB
BIG_PART_BYTES = 1024 * 1024 * 1024

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


# Why the writers that build a workbook with xlsxwriter (tracker/create.py, trends_sheet.py,
# forms/workbook.py, report/workbook.py) use xlsxwriter.utility (xl_rowcol_to_cell, xl_col_to_name)
# instead: their row and column are xlsxwriter's 0-based coordinates, those of the write call beside
# each use, and the reference must be the one xlsxwriter itself gives for that call. Converting
# through these 1-based helpers would put a "+ 1" at every call for nothing. Everything that reads or
# patches the XML (1-based, as the XML is) uses the helpers here; no module has a third.


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


def _attrs(tag: bytes) -> dict[str, str]:
    return {k.decode(): v.decode("utf-8", "replace") for k, v in _REL_ATTR.findall(tag)}


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
        found = [_attrs(t) for t in tags]
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
    """``relationships`` of ``part`` in the open zip ``zf``; {} when it has no relationships part.
    A relationships part over ``SMALL_PART_BYTES`` raises ``PartTooBig``."""
    name = rels_part(part)
    if name not in zf.NameToInfo:
        return {}
    return relationships(read_part(zf, name), posixpath.dirname(part))


def part_of_type(zf, part: str, kind: str) -> str | None:
    """The part ``part`` refers to with a relationship of type ``.../kind`` (e.g. 'sharedStrings'), if present."""
    try:
        rels = part_relationships(zf, part)
    except (ET.ParseError, DefusedXmlException, PartTooBig):
        return None
    for rel_type, name in rels.values():
        if rel_type.endswith("/" + kind):
            return name if name in zf.NameToInfo else None
    return None


# -- a part, read with a cap -----------------------------------------------------------------------


class PartTooBig(ValueError):
    """A zip member larger than its reader's cap: by the size the zip declares (``declared``), or by
    what it really unpacked to when that is more than declared."""

    def __init__(self, name: str, size: int, limit: int, declared: bool = True) -> None:
        super().__init__(f"{name} is {size:,} bytes unpacked, more than {limit:,}")
        self.name, self.size, self.limit, self.declared = name, size, limit, declared


class ZipBomb(PartTooBig):
    """A zip member that unpacks to far more than a real part does for its packed size."""

    def __init__(self, name: str, size: int, packed: int) -> None:
        ValueError.__init__(self, f"{name} unpacks to {size // max(packed, 1):,} times its packed size")
        self.name, self.size, self.limit, self.declared = name, size, packed, True
        self.ratio = size // max(packed, 1)


def check_member(info: zipfile.ZipInfo, limit: int, ratio: int | None = None, ratio_from: int = 0) -> None:
    """Refuse a member by its declared sizes, before anything is unpacked: larger than ``limit``
    (``PartTooBig``), or over ``ratio_from`` bytes and more than ``ratio`` times its packed size
    (``ZipBomb``)."""
    size = info.file_size
    if size > limit:
        raise PartTooBig(info.filename, size, limit)
    if ratio is not None and size > ratio_from and size > ratio * max(info.compress_size, 1):
        raise ZipBomb(info.filename, size, info.compress_size)


def read_part(
    zf: zipfile.ZipFile,
    name: str | zipfile.ZipInfo,
    limit: int = SMALL_PART_BYTES,
    ratio: int | None = None,
    ratio_from: int = 0,
) -> bytes:
    """A member's bytes, never more than ``limit``: ``check_member`` first, then at most ``limit`` + 1
    bytes unpacked (``PartTooBig`` with ``declared=False`` when it gives more than it declared).

    KeyError: no such member. What a damaged zip raises (``zipfile.BadZipFile`` for a CRC that does
    not match, which is what a member that unpacks to other than its declared size gives) goes on to
    the caller, who says what that means for its file.
    """
    info = name if isinstance(name, zipfile.ZipInfo) else zf.getinfo(name)
    check_member(info, limit, ratio, ratio_from)
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise PartTooBig(info.filename, len(data), limit, declared=False)
    return data


# -- content types ---------------------------------------------------------------------------------

CONTENT_TYPES = "[Content_Types].xml"
_CT_TAG = re.compile(rb"<(?:\w+:)?(Default|Override)\s([^>]*?)/?>")
_CT_ANY = re.compile(rb"<(?:\w+:)?(?:Default|Override)\b")


class ContentTypes(NamedTuple):
    #: extension (lower case, no dot) -> content type
    defaults: dict[str, str]
    #: part name (no leading '/') -> content type
    overrides: dict[str, str]

    def of(self, part: str) -> str:
        """The content type of ``part`` ('' when none is given)."""
        found = self.overrides.get(part.lstrip("/"))
        if found is None:
            base = posixpath.basename(part)  # "_rels/.rels" has the extension "rels"
            found = self.defaults.get(base.rpartition(".")[2].lower(), "") if "." in base else ""
        return found

    def all(self) -> set[str]:
        return {*self.defaults.values(), *self.overrides.values()}


@functools.lru_cache(maxsize=32)
def content_types(data: bytes) -> ContentTypes:
    """The package's ``[Content_Types].xml``: what each part is (``ContentTypes``; cached by content,
    as every form of one layout has the same: do not change what it gives).

    The shape every program writes is read with one regular expression, anything else with
    defusedxml (a DTD raises ``DefusedXmlException``, damaged XML ``ET.ParseError``).
    """
    tags = _CT_TAG.findall(data)
    if b"<!" not in data and b"&" not in data and len(tags) == len(_CT_ANY.findall(data)):
        found = [(k.decode(), _attrs(t)) for k, t in tags]
    else:
        root = SafeET.fromstring(data, forbid_dtd=True)
        found = [(el.tag.rpartition("}")[2], dict(el.attrib)) for el in root.iter()]
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for kind, attrs in found:
        if kind == "Default" and "Extension" in attrs:
            defaults[attrs["Extension"].lower()] = attrs.get("ContentType", "")
        elif kind == "Override" and "PartName" in attrs:
            overrides[attrs["PartName"].lstrip("/")] = attrs.get("ContentType", "")
    return ContentTypes(defaults, overrides)
