"""The one writer of cstracker's own hidden sheets inside a tracker.

DESIGN.md lists what the tool owns in a tracker; its hidden sheets (what each
form and import row last wrote, later the audit trail) are written here and
nowhere else. A sheet is always written whole, as plain inline-string and
number cells: it holds the tool's records, not a coordinator's work. A sheet
that is not there yet is added, hidden, at the end of the workbook: a new
worksheet part, its relationship from the workbook, its content type and its
``<sheet>`` entry. Appending keeps every existing sheet's position, so defined
names that refer to sheets by position (``localSheetId``) stay right.

A hidden worksheet is what survives a coordinator opening and saving the
tracker in Excel or LibreOffice (both keep hidden sheets and their cells; a
custom XML part may be dropped). The writer gives ``xlsxpatch.rewrite_package``
its patches and new parts, so the sheets go into the same atomic save as the
rows they describe.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from typing import IO

from cstracker.core.convert import EXCEL_CELL_LIMIT
from cstracker.xlsx.parts import col_letters, read_part
from cstracker.xlsx.patch import number_xml, text_xml

Value = str | int | float | None
Rows = Sequence[Sequence[Value]]
Patch = Callable[[IO[bytes], IO[bytes]], None]

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = NS_REL + "/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def sheet_xml(rows: Rows) -> bytes:
    """A whole worksheet part holding ``rows`` from A1 (None: an empty cell). Text over a cell's limit is refused."""
    out = io.BytesIO()
    write_sheet(rows, out)
    return out.getvalue()


def write_sheet(rows: Rows, dst: IO[bytes]) -> None:
    """``sheet_xml`` written to ``dst`` a row at a time (a record of 50,000 rows is never one string)."""
    width = max((len(r) for r in rows), default=0)
    dimension = f"A1:{col_letters(width)}{len(rows)}" if width else "A1"
    dst.write(
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="%s"><dimension ref="%s"/><sheetData>' % (NS_MAIN.encode(), dimension.encode())
    )
    letters = [col_letters(c).encode() for c in range(1, width + 1)]
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = b"%s%d" % (letters[c], r)
            if isinstance(value, bool):
                raise TypeError("write a tick as text")
            if isinstance(value, int | float):
                cells.append(number_xml(ref, None, value))
            else:
                text = _XML_ILLEGAL.sub("\ufffd", str(value))
                if len(text) > EXCEL_CELL_LIMIT:
                    raise ValueError(f"a value of {len(text)} characters does not fit one cell")
                cells.append(text_xml(ref, None, text))
        if cells:
            dst.write(b'<row r="%d">%s</row>' % (r, b"".join(cells)))
    dst.write(b"</sheetData></worksheet>")


def read_rows(path, sheet: str) -> list[list[Value]] | None:
    """A hidden sheet's values from A1 (None when the workbook has no such sheet); encrypted trackers too."""
    from cstracker.xlsx.encryption import calamine_book, source

    book = calamine_book(source(path))
    if sheet not in book.sheet_names:
        return None
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def plan(
    zf: zipfile.ZipFile, sheet_parts: Mapping[str, str], staged: Mapping[str, Rows]
) -> tuple[dict[str, Patch], dict[str, Callable[[IO[bytes]], None]], dict[str, str]]:
    """(patches for existing parts, writers of new parts, sheet name -> part of each added) to write ``staged``.

    ``sheet_parts``: the workbook's sheet name -> worksheet part, as ``layout.py`` read them.
    """
    for rows in staged.values():
        _check(rows)  # before anything is written: a value that cannot go in stops the save here
    patches: dict[str, Patch] = {}
    added: dict[str, Callable[[IO[bytes]], None]] = {}
    new_sheets: dict[str, str] = {}
    for name, rows in staged.items():
        part = sheet_parts.get(name)
        if part is not None:
            patches[part] = lambda _src, dst, rows=rows: write_sheet(rows, dst)
            continue
        part = _free_part(set(zf.namelist()) | set(added))
        added[part] = lambda dst, rows=rows: write_sheet(rows, dst)
        new_sheets[name] = part
    if new_sheets:
        rels_name = "xl/_rels/workbook.xml.rels"
        rels = read_part(zf, rels_name)
        entries: list[tuple[str, bytes]] = []
        rel_elements = b""
        overrides = b""
        for name, part in new_sheets.items():
            rid = _free_rel_id(rels + rel_elements)
            entries.append((name, rid))
            rel_elements += b'<Relationship Id="%s" Type="%s" Target="%s"/>' % (
                rid,
                WORKSHEET_TYPE.encode(),
                posixpath.relpath(part, "xl").encode(),
            )
            overrides += b'<Override PartName="/%s" ContentType="%s"/>' % (
                part.encode(),
                WORKSHEET_CONTENT.encode(),
            )
        # transforms of the part as it arrives, so they compose with other patches of the same part
        patches["xl/workbook.xml"] = _transform(lambda xml: _add_sheet_entries(xml, entries))
        patches[rels_name] = _transform(lambda xml: _insert_before(xml, b"</Relationships>", rel_elements))
        patches["[Content_Types].xml"] = _transform(lambda xml: _insert_before(xml, b"</Types>", overrides))
    return patches, added, new_sheets


def _check(rows: Rows) -> None:
    for row in rows:
        for value in row:
            if isinstance(value, bool):
                raise TypeError("write a tick as text")
            if isinstance(value, str) and len(value) > EXCEL_CELL_LIMIT:
                raise ValueError(f"a value of {len(value)} characters does not fit one cell")


def _transform(change: Callable[[bytes], bytes]) -> Patch:
    def write(src: IO[bytes], dst: IO[bytes]) -> None:
        dst.write(change(src.read()))

    return write


def then(first: Patch, second: Patch) -> Patch:
    """One patch of a part that two writers change in the same save: ``second`` reads ``first``'s output."""

    def write(src: IO[bytes], dst: IO[bytes]) -> None:
        middle = io.BytesIO()
        first(src, middle)
        middle.seek(0)
        second(middle, dst)

    return write


def _free_part(names: set[str]) -> str:
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in names:
        n += 1
    return f"xl/worksheets/sheet{n}.xml"


def _free_rel_id(rels: bytes) -> bytes:
    used = set(re.findall(rb'\bId="([^"]*)"', rels))
    numbers = [int(m) for m in re.findall(rb'\bId="rId(\d+)"', rels)]
    n = max(numbers, default=0) + 1
    while b"rId%d" % n in used:
        n += 1
    return b"rId%d" % n


def _insert_before(xml: bytes, closing: bytes, element: bytes) -> bytes:
    """Insert ``element`` before the root's closing tag (relationship and content-type parts are unprefixed)."""
    at = xml.rfind(closing)
    if at < 0:
        raise ValueError(f"no {closing.decode()} in a package part")
    return xml[:at] + element + xml[at:]


def _add_sheet_entries(workbook: bytes, entries: list[tuple[str, bytes]]) -> bytes:
    """Hidden ``<sheet>`` entries at the end of ``<sheets>``, with the next free sheetIds."""
    ids = [int(i) for i in re.findall(rb'<(?:[\w.-]+:)?sheet\b[^>]*?\bsheetId="(\d+)"', workbook)]
    sheet_id = max(ids, default=0)
    rel_prefix = _prefix_of(workbook, NS_REL)
    main_prefix = _prefix_of(workbook, NS_MAIN)
    tag = b"sheet" if main_prefix in (None, b"") else main_prefix + b":sheet"
    out = b""
    for name, rid in entries:
        sheet_id += 1
        if rel_prefix:
            rel_attr = b'%s:id="%s"' % (rel_prefix, rid)
        else:
            rel_attr = b'xmlns:cs_r="%s" cs_r:id="%s"' % (NS_REL.encode(), rid)
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").encode()
        out += b'<%s name="%s" sheetId="%d" state="hidden" %s/>' % (tag, escaped, sheet_id, rel_attr)
    m = re.search(rb"</(?:[\w.-]+:)?sheets\s*>", workbook)
    if m is None:
        raise ValueError("the workbook part has no <sheets>")
    return workbook[: m.start()] + out + workbook[m.start() :]


def _prefix_of(xml: bytes, namespace: str) -> bytes | None:
    """The prefix bound to ``namespace`` on the root element (b"" for the default namespace)."""
    m = re.search(rb"<(?![?!])[^>]*>", xml)
    head = m[0] if m else b""
    for m in re.finditer(rb'xmlns(?::([\w.-]+))?="([^"]*)"', head):
        if m[2].decode() == namespace:
            return m[1] or b""
    return None
