"""The one writer of the tool's hidden sheets: added when missing, rewritten whole, and kept by LibreOffice."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from libreoffice import convert, needs_libreoffice

from cstracker.tracker.ownsheets import sheet_xml
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.patch import raw_member

ROWS = [["title"], ["key", "value & <more>"], ["x", 3, None, " spaced "], ["bad\x01char"]]
OWNED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}


def members(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        return set(zf.namelist())


def stage(path: Path, name: str, rows) -> None:
    with Tracker.open_for_update(path) as t:
        t.stage_own_sheet(name, rows)
        t.save()


def check_added(path: Path, before: set[str], name: str = "_mine") -> None:
    added = members(path) - before
    assert len(added) == 1 and next(iter(added)).startswith("xl/worksheets/sheet")
    wb = openpyxl.load_workbook(path)
    ws = wb[name]
    assert ws.sheet_state == "hidden"
    assert wb.sheetnames[-1] == name
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["title", None, None, None],
        ["key", "value & <more>", None, None],
        ["x", 3, None, " spaced "],
        ["bad\ufffdchar", None, None, None],
    ]
    assert Tracker.open(path).own_sheet(name)[2][:2] == ["x", 3.0]


def test_a_missing_sheet_is_added_hidden_and_nothing_else_changes(blank_tracker):
    before = members(blank_tracker)
    untouched = {n: raw_member(blank_tracker, n) for n in before - OWNED}
    stage(blank_tracker, "_mine", ROWS)
    check_added(blank_tracker, before)
    assert {n: raw_member(blank_tracker, n) for n in before - OWNED} == untouched
    # written again: the same part, rewritten whole
    stage(blank_tracker, "_mine", [["only"]])
    assert members(blank_tracker) - before and len(members(blank_tracker) - before) == 1
    assert Tracker.open(blank_tracker).own_sheet("_mine") == [["only"]]


@needs_libreoffice
def test_added_to_a_tracker_libreoffice_saved_and_kept_when_it_saves_again(blank_tracker, tmp_path):
    saved = convert(blank_tracker, tmp_path / "lo", "xlsx:Calc MS Excel 2007 XML")
    path = tmp_path / "Referral Tracker.xlsx"
    shutil.copy(saved, path)
    before = members(path)
    stage(path, "_mine", ROWS)
    check_added(path, before)
    again = convert(path, tmp_path / "lo2", "xlsx:Calc MS Excel 2007 XML")
    wb = openpyxl.load_workbook(again)
    assert wb["_mine"].sheet_state == "hidden"
    assert Tracker.open(again).own_sheet("_mine")[1][:2] == ["key", "value & <more>"]


def test_a_value_too_long_for_a_cell_is_refused():
    with pytest.raises(ValueError):
        sheet_xml([["x" * 32_768]])
