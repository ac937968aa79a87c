"""cstracker validate: rows typed or pasted by hand, checked one problem per line."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import TODAY
from hypothesis import given, settings
from hypothesis import strategies as st

from cstracker.cli import cli
from cstracker.core.errors import TrackerLayoutError
from cstracker.synthetic import synthetic_records
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.validate import validate_tracker


@pytest.fixture
def tracker(blank_tracker):
    records = synthetic_records(6, seed=7, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 31), today=TODAY)
    with Tracker.open_for_update(blank_tracker) as t:
        t.upsert(records, source="test")
        t.save()
    return blank_tracker


def type_by_hand(path, edits: dict[tuple[int, str], object]):
    """Edit cells the way a coordinator pasting into Excel would (validation bypassed)."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    cols = {c.value: c.column_letter for c in ws[1]}
    for (row, label), value in edits.items():
        ws[f"{cols[label]}{row}"] = value
    wb.save(path)
    return cols


def test_a_clean_tracker_is_clean(tracker):
    report = validate_tracker(tracker, today=TODAY)
    assert report.rows_checked == 6
    assert report.errors == []


def test_each_hand_typed_problem_is_one_line(tracker):
    cols = type_by_hand(
        tracker,
        {
            (2, "Gender"): "Martian",
            (3, "Date received"): "31/02/2026",
            (4, "Age"): 99,
            (5, "Referral ID"): "CS-2026-0001",  # same as row 2's
            (6, "Consultation date"): dt.datetime(2020, 1, 1),
            (7, "Mosaic ID"): "12AB",
        },
    )
    report = validate_tracker(tracker, today=TODAY)
    got = {(p.row, p.cell, p.rule) for p in report.errors}
    assert (2, f"{cols['Gender']}2", "not-in-list") in got
    assert (3, f"{cols['Date received']}3", "bad-date") in got
    assert (4, f"{cols['Age']}4", "out-of-range") in got
    assert (5, f"{cols['Referral ID']}5", "duplicate-id") in got
    assert (2, f"{cols['Referral ID']}2", "duplicate-id") in got
    assert (7, f"{cols['Mosaic ID']}7", "bad-mosaic-id") in got
    line = next(p.line() for p in report.errors if p.rule == "not-in-list")
    assert line.startswith(
        f"Referral Tracker.xlsx, Referrals!{cols['Gender']}2: Gender: is not on the list; allowed: "
    )
    assert "'Martian'" in line and "[not-in-list]" in line
    mosaic = next(p.line() for p in report.errors if p.rule == "bad-mosaic-id")
    assert "12AB" not in mosaic


def test_a_row_typed_without_an_id_gets_a_suggestion(tracker):
    t = Tracker.open(tracker)
    expected = t.next_referral_id(dt.date(2026, 11, 2))
    type_by_hand(
        tracker,
        {
            (8, "Date received"): dt.datetime(2026, 11, 2),
            (8, "Mosaic ID"): "9123456",
            (8, "Suitability decision"): "Awaiting decision",
        },
    )
    report = validate_tracker(tracker, today=TODAY)
    missing = [p for p in report.errors if p.rule == "missing-id"]
    assert len(missing) == 1 and missing[0].row == 8
    assert expected in missing[0].message


def test_cli_exit_codes_and_formats(tracker):
    runner = CliRunner()
    clean = runner.invoke(cli, ["validate", str(tracker)])
    assert clean.exit_code == 0, clean.output
    assert "6 rows checked, 0 errors" in clean.output
    type_by_hand(tracker, {(2, "Gender"): "Martian"})
    bad = runner.invoke(cli, ["validate", str(tracker), "--format", "json"])
    assert bad.exit_code == 1
    rows = json.loads(bad.output)
    assert [r["rule"] for r in rows if r["severity"] == "error"] == ["not-in-list"]
    csv_out = runner.invoke(cli, ["validate", str(tracker), "--format", "csv"])
    assert csv_out.output.splitlines()[0].startswith("file,rule,message,sheet,cell,row,field,value")


def test_renamed_and_deleted_columns_get_one_message(tracker):
    wb = openpyxl.load_workbook(tracker)
    ws = wb["Referrals"]
    cols = {c.value: c.column_letter for c in ws[1]}
    # Excel renames the Table's column with its heading cell; openpyxl needs telling.
    table = ws.tables["Referrals"]
    for old, new in (("Gender", "Sex of YP"), ("Detail", "Where")):
        ws[f"{cols[old]}1"] = new
        next(tc for tc in table.tableColumns if tc.name == old).name = new
    wb.save(tracker)
    with pytest.raises(TrackerLayoutError) as err:
        validate_tracker(tracker)
    message = str(err.value)
    assert "Gender" in message and "Detail" in message
    result = CliRunner().invoke(cli, ["validate", str(tracker)])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_formula_typed_where_a_value_belongs_is_reported(tracker):
    cols = type_by_hand(tracker, {(3, "Referrer"): '=HYPERLINK("http://x","click")', (4, "Detail"): "=1+2"})
    report = validate_tracker(tracker, today=TODAY)
    got = sorted((p.cell, p.rule) for p in report.errors if p.rule == "formula-in-data")
    assert got == [(f"{cols['Referrer']}3", "formula-in-data"), (f"{cols['Detail']}4", "formula-in-data")]
    line = next(p.line() for p in report.errors if p.cell == f"{cols['Detail']}4")
    assert "Detail: holds a formula, not a value" in line
    # the Table's own formula columns (Status, Follow-up due) are not reported
    assert all(p.field not in ("Status", "Follow-up due") for p in report.problems)


# -- the column-wise reading finds exactly what the cell-by-cell reading finds -----------------------------------


def _both_ways(path, monkeypatch, today):
    import cstracker.tracker.validate as validate

    fast = validate_tracker(path, today=today)
    monkeypatch.setattr(validate, "checked_rows", validate.cell_by_cell_rows)
    slow = validate_tracker(path, today=today)
    monkeypatch.undo()
    return fast, slow


def test_column_wise_validate_agrees_on_a_tracker_typed_by_hand(tmp_path, monkeypatch):
    from tests.tracker.test_fix import make_tracker, type_by_hand

    today = dt.date(2026, 11, 27)
    path = make_tracker(tmp_path, today, n=60)
    type_by_hand(path, today)
    fast, slow = _both_ways(path, monkeypatch, today)
    assert len(slow.problems) > 100  # every kind of not-canonical value, rows below the Table
    assert [p.line() for p in fast.problems] == [p.line() for p in slow.problems]
    assert fast.rows_checked == slow.rows_checked


_CELL_VALUES = st.one_of(
    st.sampled_from(
        ["Yes", "x", "no", "  ", "Female", "f", "CS-2026-0009", "cs-2026-0003", "0091000", "=TRUE()"]
    ),
    st.sampled_from(["=1+1", '="Suitable"', "=DATE(2026,1,2)", "03/10/2026", "2026-10-03", "Suitable", "12"]),
    st.integers(min_value=-5, max_value=200),
    st.floats(min_value=-10, max_value=60000, allow_nan=False),
    st.booleans(),
    st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2030, 12, 31)),
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2027, 1, 1)),
    st.text(alphabet="abc XYZ019-/", max_size=8),
)


@pytest.fixture(scope="module")
def tracker_template(tmp_path_factory):
    """A new copy, each call, of a six-row tracker made once."""
    import shutil

    from cstracker.core.config import load_config
    from cstracker.tracker.newfile import init_tracker

    folder = tmp_path_factory.mktemp("template")
    template = init_tracker(folder / "template.xlsx", load_config(None))
    records = synthetic_records(6, seed=7, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 31), today=TODAY)
    with Tracker.open_for_update(template) as t:
        t.upsert(records, source="test", today=TODAY)
        t.save()
    copies = iter(range(10**6))

    def make():
        copy = folder / f"copy{next(copies)}.xlsx"
        shutil.copy(template, copy)
        return copy

    return make


# derandomize: CI runs the same examples every time, so it cannot go red at random. Each disagreement
# the property test (and many more examples with other seeds) found is a regression test below.
@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 66), st.integers(2, 8), _CELL_VALUES), min_size=1, max_size=25))
def test_column_wise_validate_agrees_on_any_cells(tracker_template, cells):
    """Any value, of any stored type (numbers, booleans, dates with a date format, formulas, text),
    in any cell of a small tracker, below the Table too: the same problems either way."""
    path = tracker_template()
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    for col, row, value in cells:
        ws.cell(row=row, column=col + 1, value=value)
    # a value in the last row used: a reader's range reaches it (a formula alone below it, with no
    # value cached, is beyond calamine's range, and only the column-wise reading finds it: below)
    ws.cell(row=8, column=3, value="Sam Reid")
    wb.save(path)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _both_ways(path, monkeypatch, dt.date(2026, 11, 27))
    assert [p.line() for p in fast.problems] == [p.line() for p in slow.problems]
    assert fast.rows_checked == slow.rows_checked


def _agreeing_lines(make, cells, date1904=False, formats=None) -> list[str]:
    """Problem lines for these hand-typed cells (row, column label) -> value, the same both ways."""
    path = make()
    wb = openpyxl.load_workbook(path)
    if date1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904  # dates already there are written anew in it
    ws = wb["Referrals"]
    cols = {c.value: c.column for c in ws[1]}
    for (row, label), value in cells.items():
        cell = ws.cell(row=row, column=cols[label], value=value)
        if formats and label in formats:
            cell.number_format = formats[label]
    wb.save(path)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _both_ways(path, monkeypatch, dt.date(2026, 11, 27))
    lines = [p.line() for p in fast.problems]
    assert lines == [p.line() for p in slow.problems]
    assert fast.rows_checked == slow.rows_checked
    return [line.split("!", 1)[1] for line in lines]


_NOT_A_DATE = "is not a date; use a date such as 03/10/2026 (day first), 2026-10-03 or 3 Oct 2026"


# Each disagreement the property test found between the column-wise and the cell-by-cell readings, with
# the reading both give now: what Excel shows a coordinator. Excel's 1900 date system has no day 0: a
# number from 0 up to 1 in a date cell shows as 00/01/1900, a negative one as #######; either is a time
# of day at most, no date. Both readings say "is not a date" with the time of day it holds (the
# column-wise reading read 0 as 31/12/1899, the text view's day before 01/01/1900, and a negative
# number as the number).
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "00:00:00"),
        (0.5, "12:00:00"),
        (0.9999999999, "00:00:00"),  # the text view rounds it up to 01/01/1900; calamine to a time
        (-1, "00:00:00"),
        (-1.25, "18:00:00"),
    ],
)
def test_a_number_below_1_in_a_date_cell_is_no_date_either_way(tracker_template, value, shown):
    lines = _agreeing_lines(tracker_template, {(2, "Date received"): value})
    assert f"B2: Date received: {_NOT_A_DATE} (value '{shown}') [bad-date]" in lines
    assert not any(line.startswith("B2:") and "implausible-date" in line for line in lines)


def test_a_number_below_1_in_a_date_cell_of_a_1904_workbook_is_no_date_either_way(tracker_template):
    """In the 1904 date system the text view showed 0.5 as 01/01/1904 12:00, a date (calamine: a time)."""
    lines = _agreeing_lines(tracker_template, {(2, "Date received"): 0.5}, date1904=True)
    assert f"B2: Date received: {_NOT_A_DATE} (value '12:00:00') [bad-date]" in lines


def test_a_number_beyond_any_calendar_in_a_date_cell_is_reported_either_way(tracker_template):
    """A phone number pasted into a date cell (Excel shows #######): the text view showed nothing at all,
    so the column-wise reading said the required date was blank, or nothing for an optional one."""
    lines = _agreeing_lines(tracker_template, {(2, "Date received"): 7700900123, (3, "Decision date"): 1e16})
    assert f"B2: Date received: {_NOT_A_DATE} (value '7700900123') [bad-date]" in lines
    assert f"J3: Decision date: {_NOT_A_DATE} (value '10000000000000000') [bad-date]" in lines


def test_a_count_with_a_tiny_fraction_is_not_whole_either_way(tracker_template):
    """The text view rounds a number to 9 decimals (0.9999999999 shows as 1); the cell holds no whole number."""
    lines = _agreeing_lines(
        tracker_template, {(2, "Previous referrals"): 0.9999999999, (3, "Age"): 14.0000000001}
    )
    allowed = "is not a whole number; use a whole number from"
    assert any(line.startswith(f"G2: Previous referrals: {allowed}") for line in lines)
    assert any(line.startswith(f"O3: Age: {allowed}") for line in lines)


def test_a_count_in_a_date_formatted_cell_reads_the_same_either_way(tracker_template):
    """A count column given a date format: a negative count is a time of day to a reader of the cell
    (as above), and a count of 10 digits is beyond the text view's calendar (it showed nothing)."""
    lines = _agreeing_lines(
        tracker_template,
        {(2, "Previous referrals"): -1, (3, "Previous referrals"): 2147483648},
        formats={"Previous referrals": "dd/mm/yyyy"},
    )
    assert any(line.startswith("G2: Previous referrals: is not a whole number") for line in lines)
    assert any(line.startswith("G3: Previous referrals: is out of range") for line in lines)


def test_an_error_value_reads_as_an_empty_cell_either_way(tracker_template):
    """#N/A pasted as a value: python-calamine and fastexcel read it as an empty cell; the column-wise
    reading's own cell reader read the text '#N/A' (a new referrer team, 'is not a date')."""
    lines = _agreeing_lines(
        tracker_template, {(2, "Date received"): "#N/A", (3, "Referrer team/service"): "#N/A"}
    )
    assert "B2: Date received: is required and is blank [missing-required]" in lines
    assert not any("#N/A" in line for line in lines)


def test_a_formula_alone_below_the_table_is_found(tracker):
    type_by_hand(tracker, {(8, "Referral ID"): "=1+1"})
    report = validate_tracker(tracker, today=TODAY)
    assert ("A8", "formula-in-data") in {(p.cell, p.rule) for p in report.problems}
