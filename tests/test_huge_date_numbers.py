"""A number in a date cell that the Rust readers cannot turn into a date never crashes a command.

calamine panics (pyo3's PanicException, and a Rust message on the process's stderr) on a number
below about -1.07e11 in a date-formatted cell. Every command that reads such a tracker or import
source refuses it with one line naming the file and the cell and saying what to do, exit 1, and
nothing of a Rust panic reaches the terminal. The same number in a cell formatted as a number is
read as the number it is.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import xlsxwriter
from xlsx_mutations import rewrite, sheet_part

from cstracker.core.config import load_config
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.huge_dates import HugeDates

HUGE = b"-123456789012"
ROOT = Path(__file__).resolve().parent.parent


def _cstracker(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUST_BACKTRACE": "0", "XDG_CACHE_HOME": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "cstracker", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True
    )


def _tracker_with_huge_date(folder: Path) -> Path:
    t = init_tracker(folder / "Referral Tracker.xlsx", load_config(None))
    with Tracker.open_for_update(t) as tr:
        tr.upsert(
            [{"date_received": dt.date(2026, 10, 1), "mosaic_id": "9100001", "referrer_team": "School"}]
        )
        tr.save()
    serial = (dt.date(2026, 10, 1) - dt.date(1899, 12, 30)).days
    return rewrite(
        t, folder / "bad tracker.xlsx", sheet_part(t, "Referrals"),
        lambda xml: xml.replace(b"<v>%d</v>" % serial, b"<v>" + HUGE + b"</v>", 1),
    )  # fmt: skip


def _one_line_naming(result: subprocess.CompletedProcess, name: str, cell: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    said = (result.stdout + result.stderr).strip().splitlines()
    assert len(said) == 1, said
    assert name in said[0] and cell in said[0] and "date" in said[0]
    assert "panic" not in said[0].lower() and "Traceback" not in said[0]


def test_validate_report_and_export_refuse_the_tracker_with_the_cell_named(tmp_path):
    bad = _tracker_with_huge_date(tmp_path)
    for args in (
        ["validate", bad],
        ["report", bad, "--month", "2026-10", "--out", tmp_path / "r.xlsx"],
        ["export", bad, "--out", tmp_path / "extract.csv"],
    ):
        _one_line_naming(_cstracker(*args, cwd=tmp_path), "bad tracker.xlsx", "B2")


def _source(folder: Path, number: float, date_format: bool) -> Path:
    path = folder / "old tracker.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    fmt = wb.add_format({"num_format": "dd/mm/yyyy" if date_format else "0"})
    ws.write_row(0, 0, ["Date of referral", "Mosaic ID", "Referrer team"])
    ws.write_number(1, 0, 46296, wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_string(1, 1, "9100001")
    ws.write_string(1, 2, "School")
    ws.write_number(2, 0, number, fmt)
    ws.write_string(2, 1, "9100002")
    ws.write_string(2, 2, "School")
    wb.close()
    return path


def test_an_import_source_with_one_is_refused_with_the_cell_named(tmp_path):
    t = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    before = t.read_bytes()
    source = _source(tmp_path, -123456789012, date_format=True)
    _one_line_naming(_cstracker("import", t, source, cwd=tmp_path), "old tracker.xlsx", "A3")
    assert t.read_bytes() == before


def test_the_same_number_formatted_as_a_number_is_no_date_and_no_crash(tmp_path):
    t = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    result = _cstracker("import", t, _source(tmp_path, -123456789012, date_format=False), cwd=tmp_path)
    assert "panic" not in (result.stdout + result.stderr).lower(), result.stderr
    assert result.returncode == 1 and "A3" in result.stdout  # that row is rejected, the other goes in
    assert len(Tracker.open(t).records()) == 1


def test_the_finder_looks_at_date_styles_and_negative_numbers_only():
    found = HugeDates({2})
    row = b'<row r="7"><c r="A7" s="1" t="s"><v>3</v></c>%s</row>'
    assert found.find(row % b'<c r="D7" s="2"><v>-123456789012</v></c>').cell == "D7"
    assert found.find(row % b'<c r="D7" s="2"><f>0-A1</f><v>-1.5E+15</v></c>').value == "-1.5E+15"
    assert found.find(row % b'<x:c r="D7" s="2" t="n"><x:v>-123456789012</x:v></x:c>').cell == "D7"
    assert found.find(row % b'<c r="D7" s="2"><v>123456789012</v></c>') is None  # read as a number
    assert found.find(row % b'<c r="D7" s="2"><v>-12345678901</v></c>') is None  # a time: readable
    assert found.find(row % b'<c r="D7" s="3"><v>-123456789012</v></c>') is None  # not a date format
    assert HugeDates(set()).find(row % b'<c r="D7" s="2"><v>-123456789012</v></c>') is None


def test_the_sliced_read_of_a_large_tracker_refuses_it_in_its_own_pass(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cstracker.cli import cli
    from cstracker.tracker import reader

    monkeypatch.setattr(reader, "SLICED_FROM_ROWS", 0)
    monkeypatch.setattr(reader, "SLICE_ROWS", 1)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bad = _tracker_with_huge_date(tmp_path)
    for args in (
        ["validate", str(bad)],
        ["report", str(bad), "--year", "2026", "--out", str(tmp_path / "r.xlsx")],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert "cell B2" in result.output and "bug" not in result.output
