"""Issue 8, item 5: cell references are checked before a reader library sizes a grid by them."""

from __future__ import annotations

import re
import shutil

import pytest
import xlsxwriter
from click.testing import CliRunner
from xlsx_mutations import far_cell, rewrite, sheet_part

from cstracker.cli import cli
from cstracker.core.errors import SourceError, TrackerError
from cstracker.legacy.source_reader import read_source
from cstracker.xlsx.extent import _greater, col_letters


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_the_limit_patterns_match_exactly_what_is_beyond():
    for limit in (1, 9, 10, 538, 10_538, 1_048_575):
        pattern = re.compile(_greater(str(limit), "0123456789", 7) + r"\Z")
        for n in (*range(1, 12_000, 7), limit - 1, limit, limit + 1, 1_048_576):
            assert bool(pattern.match(str(n))) == (n > limit), (limit, n)
    for limit in (1, 26, 27, 167, 702, 703):
        pattern = re.compile(_greater(col_letters(limit), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3) + r"\Z")
        for n in range(1, 16_385):
            assert bool(pattern.match(col_letters(n))) == (n > limit), (limit, n)


@pytest.mark.parametrize(
    ("sheet", "ref"),
    [
        ("Referrals", "XFD1048576"),
        ("Referrals", "A1048576"),
        ("Referrals", "XFD5"),
        ("Lists", "XFD1048576"),
        ("_cstracker", "B1048576"),
    ],
)
def test_one_far_value_in_the_tracker_is_one_line_for_every_command(tmp_path, blank_tracker, sheet, ref):
    bad = rewrite(blank_tracker, tmp_path / "T.xlsx", sheet_part(blank_tracker, sheet), far_cell(ref))
    before = bad.read_bytes()
    src = tmp_path / "old.csv"
    src.write_text("Mosaic ID,Date received\n1001,01/02/2026\n", encoding="utf-8")
    for args in (
        ("validate", bad),
        ("report", bad, "--month", "2026-10", "--out", tmp_path / "r.xlsx"),
        ("import", bad, src),
        ("ingest", bad, tmp_path),
        ("form", tmp_path / "f.xlsx", "--tracker", bad),
    ):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        line = result.output.strip().splitlines()[-1]
        assert f"sheet {sheet}: has a value or note at {ref}" in line, (args, line)
        assert "Ctrl+End" in line
    assert bad.read_bytes() == before


def test_a_tracker_checks_fine_with_values_beside_and_below_its_table(tmp_path, blank_tracker):
    near = rewrite(
        blank_tracker, tmp_path / "T.xlsx", sheet_part(blank_tracker, "Referrals"), far_cell("DZ900")
    )
    assert run("validate", near).exit_code == 0


def test_a_far_cell_in_a_source_sheet_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "old.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Old")
    ws.write_row(0, 0, ["Mosaic ID", "Date received"])
    ws.write_row(1, 0, ["1001", "01/02/2026"])
    ws.write(1048575, 16383, "far")
    wb.add_worksheet("Other").write(0, 0, "fine")
    wb.close()
    with pytest.raises(SourceError, match=r"sheet 'Old': has a value or note at XFD1048576"):
        read_source(path)
    assert read_source(path, sheet="Other").headers == ["fine"]  # the other sheets are not affected


def test_a_source_sheet_at_its_limits_is_read(tmp_path):
    path = tmp_path / "old.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Old")
    ws.write_row(0, 0, ["Mosaic ID", "Date received"])
    ws.write_row(1, 0, ["1001", "01/02/2026"])
    ws.write(3, 199, "note in column GR")
    wb.close()
    table = read_source(path)
    assert table.rows[0].values == ("1001", "01/02/2026")


def test_the_tracker_check_raises_a_tracker_error(tmp_path, blank_tracker):
    from cstracker.tracker.tracker import Tracker

    bad = rewrite(blank_tracker, tmp_path / "T.xlsx", sheet_part(blank_tracker, "Lists"), far_cell("A20000"))
    with pytest.raises(TrackerError, match="sheet Lists: has a value or note at A20000"):
        Tracker.open(bad)
    shutil.copy(blank_tracker, tmp_path / "ok.xlsx")
    assert Tracker.open(tmp_path / "ok.xlsx").records() == []


def test_a_sheet_that_unpacks_a_thousand_times_its_size_is_refused_as_a_bomb(tmp_path, blank_tracker):
    part = sheet_part(blank_tracker, "Referrals")
    bomb = rewrite(
        blank_tracker,
        tmp_path / "T.xlsx",
        part,
        lambda xml: xml.replace(b"</sheetData>", b" " * 20_000_000 + b"</sheetData>"),
    )
    result = run("validate", bomb)
    assert result.exit_code == 1
    assert "sheet Referrals: unpacks to" in result.output and "zip bomb" in result.output


@pytest.mark.parametrize("sliced", [False, True])
def test_a_read_that_checks_far_cells_in_its_own_pass_refuses_them_before_the_reader(
    tmp_path, blank_tracker, sliced
):
    """validate and report leave the Referrals sheet's far-cell check to their first pass over it
    (one stream of a 300 MB sheet fewer); the slicing pass and the whole read refuse alike."""
    from cstracker.core.errors import TrackerError
    from cstracker.tracker.tracker import Tracker

    bad = rewrite(
        blank_tracker, tmp_path / "T.xlsx", sheet_part(blank_tracker, "Referrals"), far_cell("XFD5")
    )
    t = Tracker.open(bad, far_cells_later=True)  # opening alone does not stream the sheet
    with pytest.raises(TrackerError, match="has a value or note at XFD5.*Ctrl\\+End"):
        t._load(typed=False, sliced=sliced)


def _prefixed(change):
    """Every element of the sheet with a namespace prefix (x:c, x:row, x:sheetData), after ``change``."""

    def both(xml: bytes) -> bytes:
        xml = change(xml)
        main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        xml = re.sub(rb"<(/?)(?!\?)([A-Za-z]+)([\s>/])", rb"<\1x:\2\3", xml)
        return xml.replace(b"<x:worksheet ", b'<x:worksheet xmlns:x="' + main + b'" ', 1)

    return both


@pytest.mark.parametrize("sliced", [False, True])
def test_a_far_cell_in_a_sheet_with_prefixed_elements_is_refused_by_a_read_that_inspects(
    tmp_path, blank_tracker, sliced
):
    """The pieces a read hands its caller's search need a plain sheetData; a sheet whose elements carry
    a namespace prefix gives none, and its far cell is still found before any reader sees it."""
    from cstracker.tracker.tracker import Tracker

    bad = rewrite(
        blank_tracker,
        tmp_path / "T.xlsx",
        sheet_part(blank_tracker, "Referrals"),
        _prefixed(far_cell("XFD5")),
    )
    seen = []
    t = Tracker.open(bad, far_cells_later=True)
    with pytest.raises(TrackerError, match="has a value or note at XFD5"):
        t._load(typed=False, sliced=sliced, inspect=lambda piece, located: seen.append(piece))
    assert seen == []
