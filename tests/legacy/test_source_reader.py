"""Reading old CSV/XLSX files: encodings, separators, title rows, trailing columns, raw XLSX values."""

from __future__ import annotations

import datetime as dt

import pytest
import xlsxwriter

from cstracker.core.errors import SourceError, UsageError
from cstracker.core.schema import CodeLists
from cstracker.legacy.column_mapping import HeaderMatcher
from cstracker.legacy.source_reader import decode_bytes, read_source, sniff_delimiter

LISTS = CodeLists()
SCORE = HeaderMatcher(LISTS.fields(), LISTS).score


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "shown"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"), ("cp1252", "Windows-1252")],
)
def test_encodings_keep_accents_and_pound(tmp_path, encoding, shown):
    src = write(
        tmp_path / "old.csv", "Mosaic ID,Date received,Detail\r\n9000001,03/10/2025,Café £20\r\n", encoding
    )
    table = read_source(src, header_score=SCORE)
    assert table.encoding == shown
    assert table.headers == ["Mosaic ID", "Date received", "Detail"]  # no BOM glued to the first header
    assert table.rows[0].values == ("9000001", "03/10/2025", "Café £20")


def test_undecodable_bytes_are_a_clear_error():
    # 0x81 is undefined in Windows-1252 and invalid UTF-8 on its own
    with pytest.raises(SourceError, match="not UTF-8 or Windows-1252"):
        decode_bytes(b"a,b\r\n\x81\x81,c", "old.csv")


def test_semicolon_file_with_commas_inside_cells(tmp_path):
    text = "Mosaic ID;Date received;Themes\n9000001;03/10/2025;County Lines, CSE\n9000002;04/10/2025;Gangs\n"
    table = read_source(write(tmp_path / "old.csv", text), header_score=SCORE)
    assert table.delimiter == ";"
    assert [r.values for r in table.rows] == [
        ("9000001", "03/10/2025", "County Lines, CSE"),
        ("9000002", "04/10/2025", "Gangs"),
    ]


def test_delimiter_is_decided_once_for_the_whole_file():
    # the first data row alone has more commas than semicolons; the file is still semicolon-separated
    text = "Mosaic ID;Date received;Detail\n1;03/10/2025;a, b, c, d, e\n2;04/10/2025;x\n"
    assert sniff_delimiter(text, SCORE) == ";"
    assert sniff_delimiter(text.replace(";", ","), SCORE) == ","


def test_title_rows_and_blank_lines_before_the_header(tmp_path):
    text = (
        "Anytown CS consultations,,,\n"
        ",,,\n"
        "\n"
        "Exported 01/02/2026,,,\n"
        "Date of referral,Mosaic No,Team,,\n"
        "03/10/2025,9000001,Police,,\n"
        ",,,,\n"
        "04/10/2025,9000002,Health,,\n"
    )
    table = read_source(write(tmp_path / "old.csv", text), header_score=SCORE)
    assert table.header_row == 5
    assert table.skipped_rows == [1, 4]
    assert table.headers == ["Date of referral", "Mosaic No", "Team"]  # trailing empty columns dropped
    assert [r.row for r in table.rows] == [6, 8]  # the row numbers a spreadsheet shows; blank row 7 skipped
    assert table.rows[1].values == ("04/10/2025", "9000002", "Health")


def test_a_csv_row_with_more_values_than_headings_is_a_structure_problem(tmp_path):
    # issue 8: in a CSV, an extra value means a separator inside an unquoted value; never guessed at
    text = "Mosaic ID,Date received\n9000001,03/10/2025,stray\n9000002,04/10/2025\n"
    table = read_source(write(tmp_path / "old.csv", text), header_score=SCORE)
    assert table.cells_beyond_header == []
    assert "has 3 values but the header has 2 columns" in table.rows[0].problem
    assert table.rows[1].problem == "" and table.rows[1].values == ("9000002", "04/10/2025")


def test_header_found_without_a_scorer_is_the_first_wide_row(tmp_path):
    text = "My old tracker\nA,B\n1,2\n"
    table = read_source(write(tmp_path / "old.csv", text))
    assert table.header_row == 2 and table.headers == ["A", "B"]


def _workbook(path, sheets):
    wb = xlsxwriter.Workbook(str(path))
    datefmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    for name, fill in sheets:
        fill(wb.add_worksheet(name), datefmt)
    wb.close()
    return path


def test_xlsx_first_sheet_raw_values(tmp_path):
    def data(ws, datefmt):
        ws.write_string(0, 0, "Old tracker")
        ws.write_row(2, 0, ["Date received", "Mosaic ID", "Age", "Detail", "County Lines", "Calc"])
        ws.write_datetime(3, 0, dt.datetime(2025, 10, 3), datefmt)
        ws.write_number(3, 1, 9000001)
        ws.write_number(3, 2, 14)
        ws.write_string(3, 3, "=HYPERLINK(1)")
        ws.write_boolean(3, 4, True)
        ws.write_formula(3, 5, "=1+1", None, 2)

    src = _workbook(tmp_path / "old.xlsx", [("Data", data), ("Other", lambda ws, f: ws.write(0, 0, "x"))])
    table = read_source(src, header_score=SCORE)
    assert table.sheet == "Data" and table.header_row == 3 and table.skipped_rows == [1]
    row = table.rows[0]
    assert row.row == 4
    # the stored values themselves: a real date, numbers, text that looks like a formula stays text,
    # and a formula cell gives its stored result, never its formula
    assert row.values == (dt.date(2025, 10, 3), 9000001, 14, "=HYPERLINK(1)", True, 2)


def test_xlsx_named_sheet_and_missing_sheet(tmp_path):
    def first(ws, f):
        ws.write_row(0, 0, ["Notes"])

    def second(ws, f):
        ws.write_row(0, 0, ["Mosaic ID", "Date received"])
        ws.write_row(1, 0, ["9000001", "03/10/2025"])

    src = _workbook(tmp_path / "old.xlsx", [("Notes", first), ("2019-2025", second)])
    table = read_source(src, sheet="2019-2025", header_score=SCORE)
    assert table.headers == ["Mosaic ID", "Date received"] and table.rows[0].values == (
        "9000001",
        "03/10/2025",
    )
    with pytest.raises(SourceError, match=r"has no sheet 'Nope'; its sheets are: Notes, 2019-2025"):
        read_source(src, sheet="Nope")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\r\n,,\r\n", "is empty"),
        ("binary.csv", b"PK\x03\x04\x00\x00garbage", "is not a text"),
        ("notes.docx", b"x", "not a spreadsheet cstracker can read"),
        ("broken.xlsx", b"not a zip", "not a readable Excel workbook"),
    ],
)
def test_unreadable_sources_are_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as e:
        read_source(path)
    assert name in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        read_source(tmp_path / "nope.csv")


def test_sheet_option_on_a_csv_is_refused(tmp_path):
    with pytest.raises(UsageError, match="--sheet is for Excel"):
        read_source(write(tmp_path / "old.csv", "a,b\n1,2\n"), sheet="x")
