"""xlsx/parts.py: the one reading of relationships and column letters every workbook reader uses."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
from defusedxml import DefusedXmlException

from cstracker.xlsx.parts import (
    col_index,
    col_letters,
    part_of_type,
    part_relationships,
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
