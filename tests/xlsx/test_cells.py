"""xlsx/cells.py: the one decoding of a cell and of the shared strings, for the tracker's sheet scan
and for the safe reader of untrusted forms alike."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from defusedxml import DefusedXmlException

from cstracker.xlsx.cells import SharedStrings, TooManyStrings, cell_value, shared_index, text
from cstracker.xlsx.safe_read import Limits, SafeWorkbook, UnreadableFile
from cstracker.xlsx.sheetscan import typed_rows

SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'


def strings(*entries: bytes, count: int | None = None) -> bytes:
    n = len(entries) if count is None else count
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + SST % (n, n) + b"".join(entries) + b"</sst>"


def table(data: bytes, max_count: int | None = None) -> SharedStrings:
    return SharedStrings(lambda: data, max_count)


NONE = table(b"")


# -- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, want",
    [
        (b"plain", "plain"),
        (b"a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;", "a & b <c> \"d\" 'e'"),
        (b"&#233;t&#xE9;", "\u00e9t\u00e9"),
        (b"caf\xc3\xa9", "caf\u00e9"),
        (b"line_x000D_break", "line\rbreak"),  # Excel's escape for a carriage return
        (b"_x005F_x0041_", "_x0041_"),  # an escaped escape: the text the user typed
        (b"_xD83D__xDE00_", "\U0001f600"),  # a character outside the BMP, as two halves
        (b"a\r\nb\rc", "a\nb\nc"),  # XML's end-of-line handling, as a parser reads it
        (b"&nbsp;", "&nbsp;"),  # no HTML entities: XML has five
        (b"  two spaces  ", "  two spaces  "),
    ],
)
def test_text_undoes_xml_and_excel_escapes(raw, want):
    assert text(raw) == want


def test_a_reference_to_no_character_is_damaged_xml():
    with pytest.raises(ValueError):
        text(b"&#x110000;")
    with pytest.raises(ValueError):
        text(b"&#0;")


# -- a cell ----------------------------------------------------------------------------------------

SHARED = table(strings(b"<si><t>zero</t></si>", b"<si><t>one</t></si>"))


@pytest.mark.parametrize(
    "attrs, body, want",
    [
        (b' r="A1"', None, None),
        (b' r="A1"', b"", None),
        (b' r="A1"', b"<v>12</v>", 12.0),
        (b' r="A1" s="3"', b"<v>1.5E3</v>", 1500.0),
        (b' r="A1"', b"<v>not a number</v>", "not a number"),
        (b' r="A1" t="s"', b"<v>1</v>", "one"),
        (b' r="A1" t="s"', b"<v> 0 </v>", "zero"),
        (b' r="A1" t="s"', b"<v>-1</v>", None),  # no entry -1 (was the last entry in the tracker scan)
        (b' r="A1" t="s"', b"<v>7</v>", None),
        (b' r="A1" t="s"', b"<v>x</v>", None),
        (b' r="A1" t="b"', b"<v>1</v>", True),
        (b' r="A1" t="b"', b"<v>0</v>", False),
        (b' r="A1" t="b"', b"<v>true</v>", True),  # XML Schema's spelling (was False in the tracker scan)
        (b' r="A1" t="e"', b"<v>#N/A</v>", "#N/A"),
        (b' r="A1" t="str"', b"<f>A2&amp;A3</f><v>a&amp;b</v>", "a&b"),
        (b' r="A1" t="d"', b"<v>2026-03-01</v>", "2026-03-01"),
        (b' r="A1" t="inlineStr"', b"<is><t>inline</t></is>", "inline"),
        (b' r="A1" t="inlineStr"', b'<is><t xml:space="preserve"> kept </t></is>', " kept "),
        (
            b' r="A1" t="inlineStr"',
            b'<is><r><t>ri</t></r><r><rPr><b/></rPr><t>ch</t></r><rPh sb="0" eb="1"><t>RU</t></rPh></is>',
            "rich",
        ),
        (b' r="A1" t="inlineStr"', b"<is><t/></is>", ""),
        (b' r="A1" t="inlineStr"', b"<v>no is</v>", None),  # an inline string is its <is> (was "" or the <v>)
    ],
)
def test_cell_value(attrs, body, want):
    got = cell_value(attrs, body, SHARED)
    assert got == want and type(got) is type(want)


def test_shared_index_is_a_whole_number_from_zero():
    assert shared_index(b"12") == 12
    assert [shared_index(x) for x in (b"-1", b"1.0", b"", "\u00b2")] == [None, None, None, None]


# -- the shared strings ----------------------------------------------------------------------------

RICH = strings(
    b"<si><t>plain</t></si>",
    b'<si><r><t>Bold</t></r><r><rPr><i/></rPr><t xml:space="preserve"> and italic</t></r></si>',
    b'<si><t>\xe6\x9d\xb1\xe4\xba\xac</t><rPh sb="0" eb="2"><t>TOUKYOU</t></rPh><phoneticPr fontId="1"/></si>',
    b'<si><t xml:space="preserve">  spaced  </t></si>',
    b"<si><t>a &amp; b_x000D_</t></si>",
    b"<si><t/></si>",
)
RICH_TEXTS = ["plain", "Bold and italic", "\u6771\u4eac", "  spaced  ", "a & b\r", ""]


def test_rich_text_phonetic_guides_and_escapes():
    got = table(RICH)
    assert [got(i) for i in range(len(RICH_TEXTS))] == RICH_TEXTS
    assert got.items is not None and got.tree is None  # the quick path
    assert got(len(RICH_TEXTS)) is None and got(-1) is None
    assert len(got) == len(RICH_TEXTS)


def test_an_unusually_spelled_part_is_parsed_with_the_same_result():
    # a namespace prefix and a comment: not the shape the split reads, parsed as XML instead
    odd = (
        RICH.replace(b"<si>", b"<x:si>")
        .replace(b"</si>", b"</x:si>")
        .replace(b"<sst ", b'<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ')
        .replace(b"</sst>", b"<!-- end --></x:sst>")
    )
    for a, b in ((b"<t", b"<x:t"), (b"</t>", b"</x:t>"), (b"<r>", b"<x:r>"), (b"</r>", b"</x:r>")):
        odd = odd.replace(a, b)
    odd = odd.replace(b"<rPh", b"<x:rPh").replace(b"</rPh>", b"</x:rPh>")
    got = table(odd)
    assert [got(i) for i in range(len(RICH_TEXTS))] == RICH_TEXTS
    assert got.tree is not None and got.items is None


def test_a_huge_declared_count_is_not_believed():
    got = table(strings(b"<si><t>only</t></si>", count=4_294_967_295), max_count=10)
    assert got(0) == "only" and len(got) == 1


@pytest.mark.parametrize("prefixed", [False, True])
def test_more_entries_than_allowed_are_refused(prefixed):
    data = strings(*[b"<si><t>x</t></si>"] * 11)
    if prefixed:
        data = (
            data.replace(b"<si>", b"<x:si>")
            .replace(b"</si>", b"</x:si>")
            .replace(b"<sst ", b'<sst xmlns:x="x" ')
        )
    with pytest.raises(TooManyStrings):
        table(data, max_count=10)(0)
    assert table(data, max_count=11)(10) == "x"


def test_an_entity_declaration_is_refused_not_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        + SST % (1, 1)
        + b"<si><t>&b;</t></si></sst>"
    )
    with pytest.raises(DefusedXmlException):
        table(bomb)(0)


def test_damaged_xml_on_the_parsed_path_raises_parse_error():
    with pytest.raises(ET.ParseError):
        table(b"<x:sst xmlns:x='x'><x:si><x:t>cut")(0)


# -- one decoding for the tracker and for forms ----------------------------------------------------

CT = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
R = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="' + R + b'/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
BOOK = (
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + R + b'">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
BOOK_RELS = (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="' + R + b'/worksheet" Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="' + R + b'/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def workbook(path: Path, cells: list[bytes], shared: bytes = RICH) -> Path:
    rows = b"".join(
        b'<row r="%d">%s</row>' % (i + 1, c.replace(b"{r}", b"%d" % (i + 1))) for i, c in enumerate(cells)
    )
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + rows + b"</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("[Content_Types].xml", CT),
            ("_rels/.rels", PKG_RELS),
            ("xl/workbook.xml", BOOK),
            ("xl/_rels/workbook.xml.rels", BOOK_RELS),
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/sharedStrings.xml", shared),
        ):
            zf.writestr(name, data)
    return path


CELLS = [
    b'<c r="A{r}"><v>12</v></c>',
    b'<c r="A{r}"><v>2.5</v></c>',
    b'<c r="A{r}" t="s"><v>1</v></c>',
    b'<c r="A{r}" t="s"><v>2</v></c>',
    b'<c r="A{r}" t="s"><v>4</v></c>',
    b'<c r="A{r}" t="s"><v>-1</v></c>',
    b'<c r="A{r}" t="b"><v>true</v></c>',
    b'<c r="A{r}" t="inlineStr"><is><r><t>in</t></r><r><t>line_x000D_</t></r><rPh><t>P</t></rPh></is></c>',
    b'<c r="A{r}" t="inlineStr"><is><t xml:space="preserve">  </t></is></c>',
    b'<c r="A{r}" t="inlineStr"><v>no is</v></c>',
    b'<c r="A{r}" t="str"><v>a&amp;b&#233;</v></c>',
    b'<c r="A{r}" t="e"><v>#DIV/0!</v></c>',
    b'<c r="A{r}"/>',
]


def test_the_tracker_scan_and_the_form_reader_decode_alike(tmp_path):
    """The same cells through sheetscan (the tracker) and safe_read (forms): the same values, but for the
    form reader's own two rules (a whole number is an int; an error is no answer)."""
    path = workbook(tmp_path / "cells.xlsx", CELLS)
    with zipfile.ZipFile(path) as zf:
        scanned = {row: values.get(1) for row, values in typed_rows(zf, "xl/worksheets/sheet1.xml", [1], 1)}
    with SafeWorkbook(path) as book:
        read = {int(ref[1:]): cell.value for ref, cell in book.cells("Sheet1").items()}
    want = [
        12.0,
        2.5,
        "Bold and italic",
        "\u6771\u4eac",
        "a & b\r",
        None,
        True,
        "inline\r",
        "  ",
        None,
        "a&b\u00e9",
        "#DIV/0!",
        None,
    ]
    assert [scanned.get(i + 1) for i in range(len(CELLS))] == want
    form_want = [12, 2.5, *want[2:11], None, None]
    assert [read.get(i + 1) for i in range(len(CELLS))] == form_want


def test_the_form_reader_parses_an_odd_sheet_with_the_same_rules(tmp_path):
    # a cell without its reference sends the form reader to its parsed path
    odd = [c.replace(b' r="A{r}"', b"") for c in CELLS]
    with SafeWorkbook(workbook(tmp_path / "odd.xlsx", odd)) as book:
        read = {int(ref[1:]): cell.value for ref, cell in book.cells("Sheet1").items()}
    with SafeWorkbook(workbook(tmp_path / "usual.xlsx", CELLS)) as book:
        usual = {int(ref[1:]): cell.value for ref, cell in book.cells("Sheet1").items()}
    assert read == usual


def test_a_form_with_too_many_shared_strings_is_refused(tmp_path):
    path = workbook(
        tmp_path / "many.xlsx", [b'<c r="A{r}" t="s"><v>0</v></c>'], strings(*[b"<si><t>x</t></si>"] * 50)
    )
    with SafeWorkbook(path, Limits(shared_strings=49)) as book, pytest.raises(UnreadableFile) as e:
        book.cells("Sheet1")
    assert e.value.rule == "too-big" and "50 shared strings" in e.value.message
    with SafeWorkbook(path, Limits(shared_strings=50)) as book:
        assert book.cells("Sheet1")["A1"].value == "x"


def test_a_form_whose_shared_strings_declare_an_entity_is_refused(tmp_path):
    bomb = b'<!DOCTYPE sst [<!ENTITY a "aaaa">]>' + SST % (1, 1) + b"<si><t>&a;</t></si></sst>"
    path = workbook(tmp_path / "entity.xlsx", [b'<c r="A{r}" t="s"><v>0</v></c>'], bomb)
    with SafeWorkbook(path) as book, pytest.raises(UnreadableFile) as e:
        book.cells("Sheet1")
    assert e.value.rule == "damaged-file" and "DTD" in e.value.message


def test_the_tracker_scan_refuses_an_entity_declaration_in_its_shared_strings(tmp_path):
    bomb = b'<!DOCTYPE sst [<!ENTITY a "aaaa">]>' + SST % (1, 1) + b"<si><t>&a;</t></si></sst>"
    path = workbook(tmp_path / "entity.xlsx", [b'<c r="A{r}" t="s"><v>0</v></c>'], bomb)
    with zipfile.ZipFile(path) as zf, pytest.raises(DefusedXmlException):
        list(typed_rows(zf, "xl/worksheets/sheet1.xml", [1], 1))


def test_shared_strings_found_by_relationship_in_a_zip(tmp_path):
    path = workbook(tmp_path / "rel.xlsx", [])
    with zipfile.ZipFile(path) as zf:
        assert SharedStrings(zf)(1) == "Bold and italic"
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("xl/workbook.xml", BOOK)
    with zipfile.ZipFile(plain) as zf:
        assert SharedStrings(zf)(0) is None  # no shared-strings part: no entries


@pytest.mark.parametrize("typed", ["a_x0041_b", "_x005F_x0041_", "tab_x0009_", "_x12_ and _xZZZZ_"])
def test_text_that_looks_like_an_escape_reads_back_as_written(tmp_path, typed):
    """The tracker's writer escapes the '_' of '_xHHHH_' (as Excel does), so the tracker scan and
    spreadsheet readers (calamine) give back what was typed, not the character it looks like."""
    from python_calamine import CalamineWorkbook

    from cstracker.xlsx.patch import text_xml

    xml = text_xml(b"A1", None, typed)
    attrs, body = xml[len(b"<c") : xml.index(b">")], xml[xml.index(b">") + 1 : -len(b"</c>")]
    assert cell_value(attrs, body, NONE) == typed
    path = workbook(tmp_path / "typed.xlsx", [xml.replace(b'r="A1"', b'r="A{r}"')])
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python() == [[typed]]


def test_a_form_part_larger_than_its_cap_is_refused(tmp_path):
    path = workbook(tmp_path / "big.xlsx", [b'<c r="A{r}"><v>1</v></c>'] * 200)
    with pytest.raises(UnreadableFile) as e:
        SafeWorkbook(path, Limits(part_bytes=2000))
    assert e.value.rule == "too-big" and "xl/worksheets/sheet1.xml" in e.value.message


def test_a_form_member_that_declares_less_than_it_holds_is_damaged(tmp_path):
    path = workbook(tmp_path / "lies.xlsx", [b'<c r="A{r}"><v>1</v></c>'] * 50)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # the sheet's sizes in its local header and in the central directory say 100 bytes
    raw[info.header_offset + 22 : info.header_offset + 26] = (100).to_bytes(4, "little")
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = raw.index(b"PK\x01\x02", central + 4)
    raw[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with SafeWorkbook(path) as book, pytest.raises(UnreadableFile) as e:
        book.cells("Sheet1")
    assert e.value.rule == "damaged-file"


def test_a_form_sheet_written_with_a_namespace_prefix_is_read(tmp_path):
    """<x:c> as the OpenXML SDK may write it: parsed as XML, not missed by the patterns (was read as empty)."""
    path = workbook(tmp_path / "prefixed.xlsx", CELLS[:4])
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=")
    sheet = sheet.replace(b"</worksheet>", b"</x:worksheet>")
    for tag in (b"sheetData", b"row", b"c", b"v"):
        sheet = sheet.replace(b"<" + tag + b">", b"<x:" + tag + b">").replace(
            b"<" + tag + b" ", b"<x:" + tag + b" "
        )
        sheet = sheet.replace(b"</" + tag + b">", b"</x:" + tag + b">")
    members["xl/worksheets/sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with SafeWorkbook(path) as book:
        got = {ref: cell.value for ref, cell in book.cells("Sheet1").items()}
    assert got == {"A1": 12, "A2": 2.5, "A3": "Bold and italic", "A4": "\u6771\u4eac"}
