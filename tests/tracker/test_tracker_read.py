"""Reading a tracker: layout from the package, columns by heading, typed records and the DataFrame."""

from __future__ import annotations

import datetime as dt
import errno

import openpyxl
import pandas as pd
import pytest
from libreoffice import convert, needs_libreoffice
from openpyxl.worksheet.table import TableColumn

from cstracker.core.errors import TrackerError, TrackerLayoutError
from cstracker.core.schema import FIELDS_BY_KEY
from cstracker.synthetic import synthetic_records
from cstracker.tracker import reader as tracker_reader
from cstracker.tracker.tracker import Tracker
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


# -- reading a large sheet a slice at a time (sheetslices.py) ---------------------------------------


@pytest.fixture(scope="module")
def edited_tracker(tmp_path_factory):
    """300 rows written by cstracker, then edited by hand: leading-zero Mosaic IDs, blank rows (some
    with only styled empty cells, some gone from the XML), a coordinator's own column; saved by
    openpyxl (shared strings)."""
    from cstracker.core.config import load_config
    from cstracker.tracker.create import create_tracker

    folder = tmp_path_factory.mktemp("sliced")
    path = create_tracker(folder / "written.xlsx", load_config(None))
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(300, today=TODAY), today=TODAY)
        t.save()
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    cols = _header_cols(ws)
    for row in (2, 40, 41, 97):
        ws.cell(row, cols[label("mosaic_id")]).value = f"00{row:05d}"
    # a date typed into a text column: only the cell's number format tells the reader it is one
    ws.cell(60, cols[label("referrer")]).value = dt.date(2026, 3, 4)
    for row in (50, 51, 52, 120, 301):  # styled empty cells remain
        for col in range(1, ws.max_column + 1):
            ws.cell(row, col).value = None
    for row in range(150, 158):  # rows gone from the sheet XML altogether
        for col in range(1, ws.max_column + 1):
            ws._cells.pop((row, col), None)
    ws.insert_cols(3)
    ws.cell(1, 3).value = "My notes"
    for row in (5, 51, 151, 200):  # also in rows blank in cstracker's columns
        ws.cell(row, 3).value = f"note {row}"
    table = ws.tables["Referrals"]
    names = [ws.cell(1, c).value for c in range(1, ws.max_column + 1)]
    table.tableColumns = [TableColumn(id=i, name=n) for i, n in enumerate(names, start=1)]
    table.ref = f"A1:{openpyxl.utils.get_column_letter(len(names))}{ws.max_row}"
    table.autoFilter.ref = table.ref
    edited = folder / "edited.xlsx"
    wb.save(edited)
    return path, edited


def _read_sliced(path, monkeypatch, tmp_path, rows: int):
    """``dataframe`` forced through the sliced read; also how many slices it read and what it left behind."""
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setattr(tracker_reader, "SLICED_FROM_ROWS", 0)
    monkeypatch.setattr(tracker_reader, "SLICE_ROWS", rows)
    seen = []
    real = tracker_reader.read_in_slices

    def counting(*args, **kwargs):
        got = real(*args, **kwargs)
        seen.append(len(got))
        return got

    monkeypatch.setattr(tracker_reader, "read_in_slices", counting)
    frame = Tracker.open(path).dataframe()
    monkeypatch.undo()
    return frame, seen, list(temp.iterdir())


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("rows", [7, 50])
def test_sliced_read_gives_the_same_frame(edited_tracker, which, rows, monkeypatch, tmp_path):
    path = edited_tracker[which]
    whole = Tracker.open(path).dataframe()
    sliced, seen, left = _read_sliced(path, monkeypatch, tmp_path, rows)
    assert seen and seen[0] >= 300 // rows - 2
    assert left == []
    pd.testing.assert_frame_equal(sliced, whole)
    if which == 1:
        assert len(whole) == 300 - 5 - 8
        assert whole["mosaic_id"].iloc[0] == "0000002"
        assert 52 not in whole["_row"].tolist() and 153 not in whole["_row"].tolist()
        assert str(whole["date_received"].dtype).startswith("datetime64")
        assert whole.loc[whole["_row"] == 60, "referrer"].item().startswith("2026-03-04")


@needs_libreoffice
def test_sliced_read_of_a_libreoffice_saved_tracker(edited_tracker, monkeypatch, tmp_path):
    """LibreOffice writes shared strings and its own row and cell attributes."""
    import zipfile

    saved = convert(edited_tracker[1], tmp_path / "lo", "xlsx", recalc=False)
    with zipfile.ZipFile(saved) as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()
    whole = Tracker.open(saved).dataframe()
    sliced, seen, left = _read_sliced(saved, monkeypatch, tmp_path, 40)
    assert seen and seen[0] >= 6 and left == []
    pd.testing.assert_frame_equal(sliced, whole)
    assert whole["mosaic_id"].iloc[0] == "0000002" and len(whole) == 300 - 5 - 8


def test_sliced_read_removes_its_files_when_a_slice_fails(edited_tracker, monkeypatch, tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setattr(tracker_reader, "SLICED_FROM_ROWS", 0)
    monkeypatch.setattr(tracker_reader, "SLICE_ROWS", 20)
    real = tracker_reader.read_in_slices

    def failing(path, part, sheet, header_row, rows, read, **kwargs):
        calls = []

        def second_fails(file, header):
            calls.append(file)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return read(file, header)

        return real(path, part, sheet, header_row, rows, second_fails, **kwargs)

    monkeypatch.setattr(tracker_reader, "read_in_slices", failing)
    # a file-system failure while slicing is one line (not a bug), and the slices' files are gone
    with pytest.raises(TrackerError, match="No space left"):
        Tracker.open(edited_tracker[1]).dataframe()
    assert list(temp.iterdir()) == []
