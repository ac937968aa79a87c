"""Reading a tracker: layout from the package, columns by heading, typed records and the DataFrame."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from openpyxl.worksheet.table import TableColumn

from cstracker.errors import TrackerError, TrackerLayoutError
from cstracker.schema import FIELDS_BY_KEY
from cstracker.synthetic import synthetic_records
from cstracker.tracker import Tracker
from tests.conftest import TODAY


def label(key: str) -> str:
    return FIELDS_BY_KEY[key].label


def _header_cols(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value}


@pytest.fixture
def filled(blank_tracker):
    with Tracker.open_for_update(blank_tracker) as t:
        t.upsert(synthetic_records(6, today=TODAY), today=TODAY)
        t.save()
    return blank_tracker


def test_blank_tracker_has_no_rows_and_a_typed_empty_frame(blank_tracker):
    t = Tracker.open(blank_tracker)
    assert t.rows() == [] and t.records() == []
    df = t.dataframe()
    assert len(df) == 0
    assert list(df.columns) == [f.key for f in t.fields] + ["_row"]
    assert t.settings.referral_id_prefix == "CS"
    assert t.lists.themes == t.layout.lists.themes and "County Lines" in t.lists.themes
    assert t.next_referral_id(dt.date(2026, 3, 1)) == "CS-2026-0001"


def test_records_and_dataframe_types(filled):
    t = Tracker.open(filled)
    records = t.records()
    assert len(records) == 6
    r = records[0]
    assert isinstance(r["date_received"], dt.date) and isinstance(r["mosaic_id"], str)
    assert isinstance(r["age"], int) and isinstance(r["theme:County Lines"], bool)
    assert isinstance(r["last_updated"], dt.datetime)
    df = t.dataframe()
    assert str(df["date_received"].dtype).startswith("datetime64")
    assert str(df["age"].dtype) == "Int64"
    assert df["theme:County Lines"].dtype == bool
    assert df["mosaic_id"].tolist() == [x["mosaic_id"] for x in records]
    assert df["_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert [row.row for row in t.rows()] == [2, 3, 4, 5, 6, 7]
    assert t.rows()[1].cells["mosaic_id"] == "E3"


def test_columns_found_by_heading_after_insert_and_swap(filled, tmp_path):
    """A coordinator inserts a column of their own and swaps two of ours: nothing breaks."""
    wb = openpyxl.load_workbook(filled)
    ws = wb["Referrals"]
    cols = _header_cols(ws)
    a, b = cols[label("referrer")], cols[label("referrer_team")]
    for row in range(1, ws.max_row + 1):
        ws.cell(row, a).value, ws.cell(row, b).value = ws.cell(row, b).value, ws.cell(row, a).value
    ws.insert_cols(2)
    ws.cell(1, 2).value = "My notes"
    ws.cell(3, 2).value = "call back"
    table = ws.tables["Referrals"]
    names = [ws.cell(1, c).value for c in range(1, ws.max_column + 1)]
    table.tableColumns = [TableColumn(id=i, name=n) for i, n in enumerate(names, start=1)]
    table.ref = f"A1:{openpyxl.utils.get_column_letter(len(names))}{ws.max_row}"
    table.autoFilter.ref = table.ref
    moved = tmp_path / "moved.xlsx"
    wb.save(moved)

    before = Tracker.open(filled).records()
    t = Tracker.open(moved)
    assert t.layout.columns["referrer_team"] == a + 1 and t.layout.columns["referrer"] == b + 1
    after = t.records()
    keys = ["referral_id", "referrer", "referrer_team", "mosaic_id", "date_received"]
    assert [{k: r[k] for k in keys} for r in after] == [{k: r[k] for k in keys} for r in before]
    assert t.rows()[0].cells["mosaic_id"] == "F2"


def test_mosaic_ids_are_text_and_blank_rows_skipped(blank_tracker, tmp_path):
    wb = openpyxl.load_workbook(blank_tracker)
    ws = wb["Referrals"]
    cols = _header_cols(ws)
    ws.cell(2, cols[label("referral_id")]).value = "CS-2026-0007"
    ws.cell(2, cols[label("mosaic_id")]).value = "0012345"
    ws.cell(2, cols[label("date_received")]).value = dt.date(2026, 2, 3)
    # row 3 holds only spaces (blank to a coordinator); row 4 typed by hand with a Mosaic ID as a number
    ws.cell(3, cols[label("referrer")]).value = "   "
    ws.cell(3, cols[label("detail")]).value = " "
    ws.cell(4, cols[label("mosaic_id")]).value = 98765
    ws.cell(4, cols[label("date_received")]).value = "03/10/2026"
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    t = Tracker.open(path)
    assert [r.row for r in t.rows()] == [2, 4]
    recs = t.records()
    assert recs[0]["mosaic_id"] == "0012345" and recs[1]["mosaic_id"] == "98765"
    assert recs[1]["date_received"] == dt.date(2026, 10, 3)
    df = t.dataframe()
    assert df["mosaic_id"].tolist() == ["0012345", "98765"]
    assert df["_row"].tolist() == [2, 4]
    assert t.next_referral_id(dt.date(2026, 5, 1)) == "CS-2026-0008"
    assert t.find(referral_id="cs-2026-0007")["mosaic_id"] == "0012345"
    assert t.find(mosaic_id="98765", date_received=dt.date(2026, 10, 3)) is not None
    assert t.find(referral_id="CS-2026-0099") is None


def test_renamed_and_deleted_own_columns_give_one_error(filled, tmp_path):
    wb = openpyxl.load_workbook(filled)
    ws = wb["Referrals"]
    table = ws.tables["Referrals"]
    cols = _header_cols(ws)
    ws.cell(1, cols[label("mosaic_id")]).value = "Mosaic number"
    table.tableColumns[cols[label("mosaic_id")] - 1].name = "Mosaic number"
    last = cols[label("last_updated")]
    ws.delete_cols(last)
    del table.tableColumns[last - 1]
    table.ref = f"A1:{openpyxl.utils.get_column_letter(last - 1)}{ws.max_row}"
    table.autoFilter.ref = table.ref
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    with pytest.raises(TrackerLayoutError) as err:
        Tracker.open(broken)
    message = str(err.value)
    assert "'Mosaic ID'" in message and "'Last updated'" in message
    assert "Mosaic number" in message and "broken.xlsx" in message


def test_not_a_workbook(tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("hello")
    with pytest.raises(TrackerError, match="not an .xlsx workbook"):
        Tracker.open(bad)
    with pytest.raises(TrackerError, match="no such file"):
        Tracker.open(tmp_path / "missing.xlsx")
