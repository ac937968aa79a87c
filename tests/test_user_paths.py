"""What a coordinator or analyst meets on the unhappy paths of init, validate, import and report.

Each test runs the command as a user would and asserts the exit code and the one line they read.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import load_config
from cstracker.synthetic import synthetic_records
from cstracker.tracker.create import SHEET_LISTS, SHEET_META, create_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

SAVE_AS = "open it in Excel or LibreOffice and save it as an Excel workbook (.xlsx)"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def error_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder with a space in its name, as users' folders have."""
    path = tmp_path / "CS team files"
    path.mkdir()
    return path


# --- the wrong kind of file given as the tracker ---------------------------------------------


@pytest.mark.parametrize("command", [["validate"], ["report", "--month", "2026-10"]])
def test_old_excel_xls_as_tracker_says_save_as_xlsx(folder, command):
    xls = folder / "Referral Tracker.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    result = run(command[0], str(xls), *command[1:])
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: {xls}: is an old Excel 97-2003 (.xls) workbook, not an .xlsx tracker; {SAVE_AS}"
    )


def test_ods_as_tracker_says_save_as_xlsx(folder):
    ods = folder / "Referral Tracker.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    result = run("validate", str(ods))
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: {ods}: is an OpenDocument (.ods) spreadsheet, not an .xlsx tracker; {SAVE_AS}"
    )


def test_csv_as_tracker_points_at_import(folder):
    csv_file = folder / "old log.csv"
    csv_file.write_text("Date received,Mosaic ID\n03/10/2026,0012345\n", encoding="utf-8")
    result = run("validate", str(csv_file))
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: {csv_file}: is a text (CSV) file, not an .xlsx tracker; to bring its rows into a "
        "tracker use cstracker import TRACKER 'old log.csv'"
    )


def test_tracker_renamed_to_another_suffix_says_rename(folder, config):
    renamed = folder / "Referral Tracker.ods"
    create_tracker(folder / "t.xlsx", config).rename(renamed)
    result = run("validate", str(renamed))
    assert result.exit_code == 1
    assert error_line(result) == (
        f"Error: {renamed}: is an Excel workbook but its name ends in '.ods'; rename it to end in .xlsx"
    )


def test_folder_as_tracker_is_usage_error(folder):
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_init_with_csv_name_says_xlsx_before_offering_overwrite(folder):
    target = folder / "tracker.csv"
    target.write_text("keep me\n", encoding="utf-8")
    result = run("init", str(target))
    assert result.exit_code == 1
    assert error_line(result) == f"Error: {target}: a tracker must be an .xlsx file"
    assert target.read_text(encoding="utf-8") == "keep me\n"


# --- the tracker's own sheets deleted or renamed by hand -------------------------------------


@pytest.mark.parametrize("sheet", [SHEET_LISTS, SHEET_META])
def test_deleted_lists_or_settings_sheet_is_one_clear_line(folder, config, sheet):
    path = create_tracker(folder / "Referral Tracker.xlsx", config)
    wb = openpyxl.load_workbook(path)
    del wb[sheet]
    wb.save(path)
    others = ", ".join(n for n in ("Referrals", SHEET_LISTS, SHEET_META, "Trends", "About") if n != sheet)
    for args in (["validate", str(path)], ["report", str(path), "--month", "2026-10"]):
        result = run(*args)
        assert result.exit_code == 1
        assert error_line(result) == (
            f"Error: {path}: the sheet '{sheet}' (the tracker's code lists and settings) is missing, "
            f"deleted or renamed; restore the tracker from 'Referral Tracker backups' or rename the sheet "
            f"back. Sheets are: {others}"
        )


def test_lists_sheet_renamed_with_its_names_still_works(folder, config):
    """Excel moves the defined names with a renamed sheet; the tracker must still open."""
    path = create_tracker(folder / "Referral Tracker.xlsx", config)
    renamed = folder / "renamed.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'name="Lists"', b'name="Codes"').replace(b"Lists!", b"Codes!")
            dst.writestr(item, data)
    assert Tracker.open(renamed).lists.themes == Tracker.open(path).lists.themes
    result = run("validate", str(renamed))
    assert result.exit_code == 0, result.output


# --- import sources that are not what the analyst meant ---------------------------------------


def test_import_header_only_source_says_no_data_rows(blank_tracker, folder):
    source = folder / "old log.csv"
    source.write_text("Date received,Mosaic ID,Primary concern\n\n", encoding="utf-8")
    before = blank_tracker.read_bytes()
    for extra in ([], ["--dry-run"]):
        result = run("import", str(blank_tracker), str(source), *extra)
        assert result.exit_code == 1
        assert (
            error_line(result)
            == "Error: old log.csv, header row 1: no data rows below the header; nothing to import"
        )
    assert blank_tracker.read_bytes() == before


def test_import_xlsx_whose_first_sheet_is_notes_points_at_sheet_option(blank_tracker, folder):
    source = folder / "old tracker.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "Read me first"
    data = wb.create_sheet("2025 data")
    data.append(["Date received", "Mosaic ID", "Referrer"])
    data.append(["03/10/2025", "0012345", "Zoë O'Neill"])
    wb.save(source)
    result = run("import", str(blank_tracker), str(source), "--dry-run")
    assert result.exit_code == 1
    assert error_line(result) == (
        "Error: old tracker.xlsx, sheet 'Notes', header row 1: no column for Date received and Mosaic ID, "
        'which every row needs; rename the column or name it in a mapping file ([columns] "your heading" = '
        "\"Date received\"). Columns found: A 'Read me first'. The workbook has other sheets ('2025 data'): "
        "choose one with --sheet NAME"
    )
    good = run("import", str(blank_tracker), str(source), "--sheet", "2025 data")
    assert good.exit_code == 0, good.output
    (record,) = Tracker.open(blank_tracker).records()
    assert record["referrer"] == "Zoë O'Neill"
    assert record["mosaic_id"] == "0012345"


# --- report -------------------------------------------------------------------------------------


@pytest.fixture
def tracker_with_rows(folder):
    config = load_config(None)
    path = create_tracker(folder / "Referral Tracker.xlsx", config)
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(300, seed=11, today=TODAY), source="test", today=TODAY)
        t.save()
    return path


def _summary_texts(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path)["Summary"]
    return [c.value for row in ws.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]


def test_report_for_a_month_with_no_referrals_says_so(tracker_with_rows, folder):
    out = folder / "CS trends 2019-01.xlsx"
    result = run("report", str(tracker_with_rows), "--month", "2019-01", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "No referrals were received in January 2019." in _summary_texts(out)


def test_publish_with_threshold_zero_does_not_claim_1_to_0(tracker_with_rows, folder):
    with zipfile.ZipFile(tracker_with_rows) as zf:
        names = zf.read("xl/workbook.xml").decode()
    assert "cs_small_count_threshold" in names
    wb_path = tracker_with_rows
    # the threshold lives in the hidden settings sheet; set it as a coordinator would by hand
    wb = openpyxl.load_workbook(wb_path)
    meta = wb[SHEET_META]
    for row in meta.iter_rows(min_row=2):
        if row[0].value == "small_count_threshold":
            row[1].value = 0
    wb.save(wb_path)
    assert Tracker.open(wb_path).settings.small_count_threshold == 0
    out = folder / "published.xlsx"
    result = run("report", str(wb_path), "--month", "2026-10", "--publish", "--out", str(out))
    assert result.exit_code == 0, result.output
    texts = _summary_texts(out)
    assert "No figure is hidden: this tracker's small-count threshold is 0 (set in its settings)." in texts
    assert not any("from 1 to 0" in t for t in texts)


def test_report_label_column_is_wide_enough_for_its_labels(tracker_with_rows, folder):
    out = folder / "CS trends 2026-10.xlsx"
    result = run("report", str(tracker_with_rows), "--month", "2026-10", "--out", str(out))
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    for name in ("Summary", "Young people", "Referrers"):
        ws = wb[name]
        labels = [
            c.value
            for row in ws.iter_rows(min_row=5, max_col=1)
            for c in row
            if isinstance(c.value, str) and c.border.left.style  # table labels, not titles or notes
        ]
        assert labels, name
        width = ws.column_dimensions["A"].width
        assert width >= min(max(len(s) for s in labels), 58), (name, width)
    summary = wb["Summary"]
    header = next(
        r for r in summary.iter_rows(min_row=5) if any(c.value == "Share of consultations" for c in r)
    )
    assert summary.row_dimensions[header[0].row].height >= 26


def test_report_with_spaces_and_apostrophes_in_paths(tracker_with_rows, folder):
    target = folder / "Zoë O'Neill's copy.xlsx"
    shutil.copy(tracker_with_rows, target)
    result = run("report", str(target), "--month", "2026-10")
    assert result.exit_code == 0, result.output
    assert (folder / "CS trends 2026-10.xlsx").exists()


def test_sheet_option_with_a_csv_source_is_a_usage_error(tmp_path):
    tracker = tmp_path / "t.xlsx"
    assert CliRunner().invoke(cli, ["init", str(tracker)]).exit_code == 0
    source = tmp_path / "old.csv"
    source.write_text("Mosaic No,Date of referral\n9000001,03/10/2026\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(tracker), str(source), "--sheet", "2025"])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {source}: --sheet is for Excel workbooks; this is a CSV file"
