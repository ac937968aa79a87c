"""cstracker validate: rows typed or pasted by hand, checked one problem per line."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import TODAY

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
