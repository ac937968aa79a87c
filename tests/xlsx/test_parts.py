"""xlsx/parts.py: the one reading of relationships and column letters every workbook reader uses."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zipfile

import pytest
from defusedxml import DefusedXmlException

from cstracker.xlsx.parts import (
    PartTooBig,
    ZipBomb,
    check_member,
    col_index,
    col_letters,
    content_types,
    part_of_type,
    part_relationships,
    read_part,
    relationships,
    rels_part,
)

EXCEL = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId2" Type="http://x/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    b'<Relationship Id="rId1" Type="http://x/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId3" Type="http://x/officeDocument/2006/relationships/styles" Target="/xl/styles.xml"/>'
    b'<Relationship Id="rId4" Type="http://x/hyperlink" Target="https://example.org/" TargetMode="External"/>'
    b"</Relationships>"
)
WANT = {
    "rId1": ("http://x/officeDocument/2006/relationships/worksheet", "xl/worksheets/sheet1.xml"),
    "rId2": ("http://x/officeDocument/2006/relationships/sharedStrings", "xl/sharedStrings.xml"),
    "rId3": ("http://x/officeDocument/2006/relationships/styles", "xl/styles.xml"),
}


def test_relationships_resolve_targets_and_leave_out_external_ones():
    assert relationships(EXCEL, "xl") == WANT


def test_an_unusual_spelling_is_parsed_as_xml_with_the_same_result():
    # a prefix, an escaped character and a comment: not the shape the quick path reads
    odd = (
        b'<pr:Relationships xmlns:pr="http://schemas.openxmlformats.org/package/2006/relationships"><!-- c -->'
        b'<pr:Relationship Id="rId1" Type="t/worksheet" Target="worksheets/a&amp;b.xml"></pr:Relationship>'
        b"</pr:Relationships>"
    )
    assert relationships(odd, "xl") == {"rId1": ("t/worksheet", "xl/worksheets/a&b.xml")}


def test_a_dtd_is_refused_and_damaged_xml_raises_parse_error():
    bomb = (
        b'<!DOCTYPE r [<!ENTITY a "aaaa">]><Relationships><Relationship Id="&a;" Target="x"/></Relationships>'
    )
    with pytest.raises(DefusedXmlException):
        relationships(bomb, "xl")
    with pytest.raises(ET.ParseError):
        relationships(b"<Relationships><Relationship Id='r' ", "xl")


def test_part_relationships_and_part_of_type_read_from_the_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/_rels/workbook.xml.rels", EXCEL)
        z.writestr("xl/sharedStrings.xml", b"<sst/>")
    with zipfile.ZipFile(buffer) as z:
        assert part_relationships(z, "xl/workbook.xml") == WANT
        assert part_relationships(z, "xl/worksheets/sheet1.xml") == {}
        assert part_of_type(z, "xl/workbook.xml", "sharedStrings") == "xl/sharedStrings.xml"
        assert part_of_type(z, "xl/workbook.xml", "styles") is None  # named, but not in the zip
    assert rels_part("xl/workbook.xml") == "xl/_rels/workbook.xml.rels" and rels_part("") == "_rels/.rels"


@pytest.mark.parametrize(
    ("index", "letters"), [(1, "A"), (26, "Z"), (27, "AA"), (702, "ZZ"), (703, "AAA"), (16384, "XFD")]
)
def test_column_letters_both_ways(index, letters):
    assert col_letters(index) == letters and col_index(letters) == index


# -- a part read with a cap; content types ---------------------------------------------------------


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def _declaring(data: bytes, size: int) -> zipfile.ZipFile:
    """A one-member stored zip whose headers declare ``size`` bytes unpacked (not len(data))."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/part.xml", data)
    raw = bytearray(buf.getvalue())
    raw[22:26] = struct.pack("<I", size)  # the local header's uncompressed size
    central = raw.index(b"PK\x01\x02")
    raw[central + 24 : central + 28] = struct.pack("<I", size)
    return zipfile.ZipFile(io.BytesIO(bytes(raw)))


def test_read_part_gives_a_part_within_its_cap():
    zf = _zip({"xl/workbook.xml": b"<workbook/>"})
    assert read_part(zf, "xl/workbook.xml", 100) == b"<workbook/>"
    assert read_part(zf, zf.getinfo("xl/workbook.xml")) == b"<workbook/>"
    with pytest.raises(KeyError):
        read_part(zf, "xl/missing.xml")


def test_a_part_larger_than_its_cap_is_refused_by_its_declared_size():
    zf = _zip({"xl/big.xml": b"x" * 1000})
    with pytest.raises(PartTooBig) as e:
        read_part(zf, "xl/big.xml", 999)
    assert e.value.declared and e.value.size == 1000 and e.value.limit == 999
    assert read_part(zf, "xl/big.xml", 1000) == b"x" * 1000


def test_a_zip_bomb_is_refused_before_anything_is_unpacked():
    zf = _zip({"xl/bomb.xml": b"\0" * (2 << 20)})  # deflates about 1000 to 1
    with pytest.raises(ZipBomb) as e:
        read_part(zf, "xl/bomb.xml", 10 << 20, ratio=100, ratio_from=1 << 20)
    assert e.value.ratio > 100 and isinstance(e.value, PartTooBig)
    assert len(read_part(zf, "xl/bomb.xml", 10 << 20)) == 2 << 20  # no ratio asked: only the cap
    with pytest.raises(ZipBomb):
        check_member(zf.getinfo("xl/bomb.xml"), 10 << 20, 100, 1 << 20)


def test_a_member_that_declares_less_than_it_holds_never_gives_more():
    # the headers say 10 bytes; the member holds 1000: zipfile stops at 10, and the CRC (of all
    # 1000) does not match, so the part is damaged; the cap is never passed
    zf = _declaring(b"y" * 1000, 10)
    with pytest.raises(zipfile.BadZipFile):
        read_part(zf, "xl/part.xml", 100)


def test_a_member_that_declares_more_than_its_cap_is_not_read():
    zf = _declaring(b"y" * 10, 1 << 30)
    with pytest.raises(PartTooBig):
        read_part(zf, "xl/part.xml", 1 << 20)


CT = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="XML" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
    b"</Types>"
)


def test_content_types_defaults_and_overrides():
    got = content_types(CT)
    assert got.of("/xl/workbook.xml") == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert got.of("xl/styles.xml") == "application/xml"  # by extension, any case
    assert got.of("_rels/.rels") == "application/vnd.openxmlformats-package.relationships+xml"
    assert got.of("xl/media/a.png") == ""
    assert "application/xml" in got.all()


def test_content_types_spelled_unusually_are_parsed_with_the_same_result():
    odd = CT.replace(b"<Types xmlns=", b"<ct:Types xmlns:ct=").replace(b"</Types>", b"<!-- c --></ct:Types>")
    odd = odd.replace(b"<Default", b"<ct:Default").replace(b"<Override", b"<ct:Override")
    assert content_types(odd) == content_types(CT)


def test_content_types_with_a_dtd_are_refused():
    with pytest.raises(DefusedXmlException):
        content_types(
            b'<!DOCTYPE t [<!ENTITY a "a">]><Types><Default Extension="&a;" ContentType="x"/></Types>'
        )
    with pytest.raises(ET.ParseError):
        content_types(b"<Types><Default Extension='x' ")
