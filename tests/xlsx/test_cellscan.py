"""xlsx/cellscan.py: the cells located with numpy answer what the exact patterns answer.

Each search that uses the located cells (far cells, odd cells and formulas for validate,
cells stored as a type for the report) is compared with the same search by its patterns
alone, on crafted pieces of sheet XML: a far-off cell, a formula cell, cells of every
stored type, empty cells, attributes in another order, several t attributes.
"""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cstracker.xlsx.cellscan import (
    TYPE_INLINE,
    TYPE_N,
    TYPE_NONE,
    TYPE_OTHER,
    TYPE_S,
    TYPE_SEVERAL,
    TYPE_STR,
    locate,
)
from cstracker.xlsx.extent import FarCells
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.sheetscan import StoredAs, rows_stored_as
from cstracker.xlsx.table_cells import OddCells, odd_cells

TEXT_COLS = [1, 3, 4, 27, 28]  # A C D AA AB
NUMBER_COLS = [2, 5, 30]  # B E AD
DATE_COLS = [2, 30]  # B AD
WHOLE_COLS = [2, 5]  # B E
FIRST_ROW = 2


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">' + "".join(cells) + "</row>"


def cell(ref: str, attrs: str = "", body: str | None = "<v>1</v>") -> str:
    return f'<c r="{ref}"{attrs}/>' if body is None else f'<c r="{ref}"{attrs}>{body}</c>'


def both_ways(region: bytes) -> tuple[OddCells, OddCells]:
    located, searched = (
        OddCells(TEXT_COLS, NUMBER_COLS, FIRST_ROW, DATE_COLS, WHOLE_COLS),
        OddCells(TEXT_COLS, NUMBER_COLS, FIRST_ROW, DATE_COLS, WHOLE_COLS),
    )
    found = locate(region)
    assert found is not None
    located(region, found)
    searched(region, None)
    return located, searched


def test_a_clean_piece_is_located_cell_by_cell():
    region = (
        row(
            1,
            cell("A1", ' s="1" t="inlineStr"', "<is><t>Referral ID</t></is>"),
            cell("B1", ' t="s"', "<v>0</v>"),
        )
        + row(
            7,
            cell("A7", ' s="1" t="inlineStr"', "<is><t>CS-2026-0001</t></is>"),
            cell("B7", ' s="2"', "<v>46000</v>"),
            cell("C7", ' t="s"'),
            cell("AD7", ' t="n"'),
            cell("ZZ7", ' t="str"', "<f>1+1</f><v>2</v>"),
            cell("AB7", ' s="3"', None),
            cell("E7", ' t="b"'),
            cell("AA7", ' t="e"', "<v>#N/A</v>"),
        )
    ).encode()
    found = locate(region)
    assert found is not None
    assert found.col.tolist() == [1, 2, 1, 2, 3, 30, 702, 28, 5, 27]
    assert found.row_of(range(len(found.start))).tolist() == [1, 1, *[7] * 8]
    assert found.type.tolist() == [
        TYPE_INLINE,
        TYPE_S,
        TYPE_INLINE,
        TYPE_NONE,
        TYPE_S,
        TYPE_N,
        TYPE_STR,
        TYPE_NONE,
        TYPE_OTHER,
        TYPE_OTHER,
    ]
    assert found.empty.tolist() == [False] * 7 + [True, False, False]
    assert found.formula.tolist() == [False] * 6 + [True] + [False] * 3
    assert found.row_number.tolist() == [1, 7]
    assert found.whole_ref.all()


@pytest.mark.parametrize(
    "xml",
    [
        '<row r="2"><c s="1"><v>1</v></c></row>',  # a cell without its reference
        '<row r="2"><c  r="A2"><v>1</v></c></row>',  # two spaces
        '<row r="2"><c\tr="A2"><v>1</v></c></row>',  # a tab
        '<row><c r="A2"><v>1</v></c></row>',  # a row without its number
        '<row r="2"><c s="1" r="A2"><v>1</v></c></row>',  # the reference not first
        '<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c></x:row>',  # a namespace prefix
        '<row r="2"><c r="A2"> <v>1</v></c></row>',  # space between the tags
    ],
)
def test_a_piece_in_another_shape_is_left_to_the_patterns(xml):
    assert locate(xml.encode()) is None


def test_several_t_attributes_are_left_to_the_patterns():
    found = locate(
        row(3, cell("A3", ' t="s" t="n"'), cell("B3", ' foo="t="'), cell("C3", ' t="xyz"')).encode()
    )
    assert found.type.tolist() == [TYPE_SEVERAL, TYPE_SEVERAL, TYPE_SEVERAL]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("XFD1048576", "XFD1048576"),
        ("BA5", "BA5"),
        ("ABCD5", "ABCD5"),
        ("A123456789", "A123456789"),
        ("AZ5", None),
    ],
)
def test_far_cells_are_found_as_the_patterns_find_them(ref, expected):
    far = FarCells(1000, 52)  # up to AZ
    region = (row(4, cell("A4"), cell(f"{ref}"), cell("B4")) + row(5, cell("A5"))).encode()
    assert far.find(region) == expected
    assert far.find(region, locate(region)) == expected


@pytest.mark.parametrize(("number", "expected"), [(1001, "A1001"), (99_999_999, "A99999999"), (1000, None)])
def test_far_rows_are_found_as_the_patterns_find_them(number, expected):
    far = FarCells(1000, 52)
    region = (row(4, cell("A4")) + row(number, cell(f"A{number}"))).encode()
    assert far.find(region) == expected
    assert far.find(region, locate(region)) == expected


def test_odd_cells_and_formulas_found_from_located_cells_equal_the_pattern_search():
    region = (
        row(1, cell("A1", ' t="s"'), cell("B1", ' t="s"'))  # the heading row: before the first row
        + row(
            2,
            cell("A2", ' t="inlineStr"', "<is><t>x</t></is>"),
            cell("B2", ' s="2"'),  # canonical
            cell("C2", ' s="3"'),  # a number in a text column: odd
        )
        + row(3, cell("B3", ' t="s"'), cell("ZZ3", ' t="str"', "<f>A1</f><v></v>"))  # text in a number column
        + row(
            4, cell("D4", ' t="str"', '<f t="shared" si="0">B4&amp;"x"</f><v>1x</v>')
        )  # formula, value column
        + row(5, cell("E5", "", "<f>1+1</f><v>2</v>"), cell("C5", ' s="3"', None))  # formula; an empty cell
        + row(6, cell("AA6", ' t="b"'), cell("AD6", ' t="n"'))  # a boolean in a text column
        + row(7, cell("AB7", ' t="inlineStr"', "<is><t>ok</t></is>"), cell("E7", ' t="e"', "<v>#DIV/0!</v>"))
    ).encode()
    located, searched = both_ways(region)
    assert searched.formulas == {(4, 4): 'B4&"x"', (5, 5): "1+1"}
    assert located.formulas == searched.formulas
    assert searched.odd == {2, 3, 6, 7}
    assert located.odd == searched.odd


def _stored_both_ways(region: bytes, columns: dict[int, str]):
    located, searched = StoredAs(columns, FIRST_ROW), StoredAs(columns, FIRST_ROW)
    located(region, locate(region))
    searched(region, None)
    return located.found, searched.found


def test_stored_types_found_from_located_cells_equal_the_pattern_search():
    region = (
        row(1, cell("B1", ' t="s"'))
        + row(2, cell("B2", ' t="s"'), cell("E2", ""), cell("AD2", ' t="str"', "<f>1</f><v>1</v>"))
        + row(3, cell("B3", ""), cell("E3", ' t="inlineStr"', "<is><t>7</t></is>"), cell("AD3", ' t="n"'))
        + row(4, cell("B4", ' t="s"', None), cell("E4", ' t="b"'), cell("AD4", ' t="s" t="n"'))
    ).encode()
    columns = {2: "text", 5: "number", 30: "number"}
    located, searched = _stored_both_ways(region, columns)
    assert searched == {2: {2}, 5: {2}, 30: {3}}
    assert located == searched


def _write(tmp_path, region: bytes) -> zipfile.ZipFile:
    path = tmp_path / "sheet.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", b"<worksheet><sheetData>" + region + b"</sheetData></worksheet>")
    return zipfile.ZipFile(path)


def test_numbers_the_text_view_shows_otherwise_are_odd_from_located_cells_too():
    region = (
        row(2, cell("B2", "", "<v>45000</v>"), cell("E2", "", "<v>3</v>"), cell("AD2", "", "<v>45000.5</v>"))
        + row(3, cell("B3", "", "<v>0.5</v>"))  # below 1 in a date column
        + row(4, cell("AD4", "", "<v>-2</v>"))  # negative in a date column
        + row(5, cell("E5", "", "<v>12345678</v>"))  # 8 digits
        + row(6, cell("E6", "", "<v>2.5</v>"))  # a fraction in a count column
        + row(7, cell("AD7", "", "<v>1E+5</v>"))  # exponent form
        + row(8, cell("E8", "", "<v>1234567</v>"), cell("AD8", "", "<v>46000.75</v>"))  # fine
    ).encode()
    located, searched = both_ways(region)
    assert searched.odd == {3, 4, 5, 6, 7}
    assert located.odd == searched.odd


def test_the_whole_sheet_functions_give_what_the_pieces_give(tmp_path):
    region = (
        row(2, cell("C2", ' s="3"'))
        + row(4, cell("D4", ' t="str"', "<f>B4</f><v>1x</v>"))
        + row(9, cell("B9", ' t="s"'))
    ).encode()
    with _write(tmp_path, region) as zf:
        assert odd_cells(zf, "sheet.xml", TEXT_COLS, NUMBER_COLS, FIRST_ROW) == ({(4, 4): "B4"}, {2, 9})
        assert rows_stored_as(zf, "sheet.xml", {2: "text", 3: "number"}, FIRST_ROW) == {2: {9}, 3: {2}}


_T = st.sampled_from(
    ["", ' t="s"', ' t="inlineStr"', ' t="n"', ' t="str"', ' t="b"', ' t="e"', ' t="d"', ' t="x"']
)
_EXTRA = st.sampled_from(["", ' s="4"', ' s="12"', ' cm="1"'])
_BODY = st.sampled_from(
    [
        None,
        "<v>1</v>",
        "<v></v>",
        "<is><t>a t=&quot;s&quot;</t></is>",
        "<f>1+1</f><v>2</v>",
        '<f t="shared" si="0"/>',
    ]
)
_COLUMN = st.sampled_from([1, 2, 3, 4, 5, 26, 27, 28, 30, 52, 53, 702, 703, 16384])


@st.composite
def _pieces(draw):
    rows = []
    for number in sorted(draw(st.sets(st.integers(1, 1200), min_size=1, max_size=6))):
        cells = []
        for col in sorted(draw(st.sets(_COLUMN, max_size=6))):
            first, second = draw(_EXTRA), draw(_T)
            attrs = first + second if draw(st.booleans()) else second + first
            cells.append(cell(f"{col_letters(col)}{number}", attrs, draw(_BODY)))
        rows.append(row(number, *cells))
    return "".join(rows).encode()


@settings(max_examples=200, deadline=None)
@given(_pieces())
def test_any_piece_reads_the_same_from_located_cells(region):
    """Random pieces: every stored type, attribute order, empty cells, formulas, far columns and rows."""
    far = FarCells(1000, 52)
    found = locate(region)
    assert found is not None
    assert far.find(region, found) == far.find(region)
    located, searched = both_ways(region)
    assert located.formulas == searched.formulas
    assert located.odd >= searched.odd  # a superset: a row read cell by cell reads the same
    columns = {2: "text", 3: "number", 28: "number"}
    got, expected = _stored_both_ways(region, columns)
    assert got == expected
