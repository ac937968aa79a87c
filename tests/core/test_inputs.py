"""Issue 8, item 5: inputs are checked before they are trusted (CSV structure, regular files, bounds)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.convert import parse_date, parse_datetime, parse_int
from cstracker.core.errors import ConfigError, SourceError, TrackerError
from cstracker.core.schema import CodeLists
from cstracker.legacy.column_mapping import HeaderMatcher
from cstracker.legacy.source_reader import read_source

SCORE = HeaderMatcher(CodeLists().fields(), CodeLists()).score


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# --- CSV structure ---------------------------------------------------------------------------


def test_an_unterminated_quote_is_a_problem_naming_its_row_and_swallows_nothing(tmp_path):
    src = tmp_path / "old.csv"
    src.write_text(
        "Referral ID,Mosaic ID,Date received,Referrer name\n"
        'CS-1,123,01/02/2026,"Bob\n'
        "CS-2,456,01/02/2026,Ann\n"
        "CS-3,789,02/02/2026,Cy\n",
        encoding="utf-8",
    )
    table = read_source(src, header_score=SCORE)
    assert [r.row for r in table.rows] == [2, 3, 4]
    assert "never closed" in table.rows[0].problem and "line 2" in table.rows[0].problem
    assert table.rows[1].values == ("CS-2", "456", "01/02/2026", "Ann")  # not inside a Referrer name
    assert table.rows[1].problem == "" and table.rows[2].values[0] == "CS-3"


def test_import_rejects_the_broken_row_and_says_so(tmp_path, blank_tracker):
    src = tmp_path / "old.csv"
    src.write_text(
        "Mosaic ID,Date received,Referrer name\n"
        '1001,01/02/2026,"Bob\n'
        "1002,01/02/2026,Ann\n"
        '1003,"02/02/2026"x,Cy\n',
        encoding="utf-8",
    )
    before = blank_tracker.read_bytes()
    result = run("import", blank_tracker, src, "--dry-run")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "[csv-structure]" in line]
    assert len(lines) == 2
    assert lines[0].startswith("old.csv, row 2:") and "never closed" in lines[0]
    assert lines[1].startswith("old.csv, row 4:") and "after a closing quote" in lines[1]
    assert "1 would be added" in result.output
    assert blank_tracker.read_bytes() == before


def test_a_value_longer_than_any_cell_rejects_that_row_only(tmp_path):
    src = tmp_path / "old.csv"
    src.write_text(
        "Mosaic ID,Date received,Detail\n1,01/02/2026,ok\n2,01/02/2026,"
        + "x" * 150_000
        + "\n3,01/02/2026,ok\n",
        encoding="utf-8",
    )
    table = read_source(src, header_score=SCORE)
    assert "longer than any cell" in table.rows[1].problem
    assert table.rows[2].values == ("3", "01/02/2026", "ok") and not table.rows[2].problem


# --- only regular files, with size limits ------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    def make(name):
        path = tmp_path / name
        os.mkfifo(path)
        return path

    return make


def test_a_csv_linked_to_an_endless_device_is_refused(tmp_path):
    link = tmp_path / "old.csv"
    link.symlink_to("/dev/zero")
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(link)


@pytest.mark.parametrize("name", ["old.csv", "old.xlsx"])
def test_a_named_pipe_source_is_refused_without_blocking(fifo, name):
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(fifo(name))


def test_a_named_pipe_tracker_and_config_are_refused(fifo, tmp_path):
    from cstracker.core.config import load_config
    from cstracker.tracker.tracker import Tracker

    with pytest.raises(TrackerError, match="not a regular file"):
        Tracker.open(fifo("T.xlsx"))
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(fifo("ours.toml"))


def test_a_too_big_source_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import cstracker.legacy.source_reader as sr

    monkeypatch.setattr(sr, "SOURCE_BYTES", 1000)
    src = tmp_path / "old.csv"
    src.write_text("Mosaic ID,Date received\n" + "1,01/02/2026\n" * 200, encoding="utf-8")
    with pytest.raises(SourceError, match="more than any spreadsheet cstracker reads"):
        read_source(src)


def test_ingest_rejects_a_pipe_and_a_link_loop_and_goes_on(tmp_path, blank_tracker, fifo):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "loop.xlsx").symlink_to("loop.xlsx")
    pipe = fifo("pipe.xlsx")
    result = run("ingest", blank_tracker, inbox, pipe)
    assert result.exit_code == 1, result.output
    assert "loop.xlsx: is a symbolic link that points back to itself" in result.output
    assert "pipe.xlsx: is not a regular file" in result.output
    assert "2 forms: 0 added, 0 updated, 0 unchanged, 2 rejected" in result.output


# --- numbers and dates of absurd size -----------------------------------------------------------


def test_numbers_of_absurd_size_and_non_finite_are_problems_not_crashes():
    for raw in ("9" * 5000, "9" * 5000 + ".0", "1" * 19, float("inf"), float("-inf"), float("nan")):
        got = parse_int(raw, (5, 25))
        assert not got.ok and got.value is None, raw
    assert "5,000 digits" in parse_int("9" * 5000, (5, 25)).error
    assert parse_int("0" * 100 + "7", (5, 25)).value == 7  # leading zeros are not size


@pytest.mark.parametrize(
    "raw", ["0001-01-01", "01/01/1899", "31/12/1899", dt.date(1, 1, 1), dt.date(1899, 12, 31)]
)
def test_dates_before_1900_are_problems(raw):
    got = parse_date(raw)
    assert not got.ok and "1900 to 9999" in got.error


def test_dates_at_the_ends_of_the_range_are_kept():
    assert parse_date("01/01/1900").value == dt.date(1900, 1, 1)
    assert parse_date("9999-12-31").value == dt.date(9999, 12, 31)
    assert not parse_datetime(dt.datetime(1, 1, 1, 10, 0)).ok


def test_import_of_a_5000_digit_age_is_a_problem_line(tmp_path, blank_tracker):
    src = tmp_path / "old.csv"
    src.write_text(f"Mosaic ID,Date received,Age\n1001,01/02/2026,{'9' * 5000}\n", encoding="utf-8")
    result = run("import", blank_tracker, src, "--dry-run")
    assert result.exit_code == 1
    assert "old.csv, cell C2: Age" in result.output and "5,000 digits" in result.output


@pytest.mark.parametrize(
    "args",
    [("--from", "01/01/2026", "--to", "31/12/9999"), ("--from", "31/12/1899", "--to", "01/01/2026")],
)
def test_report_dates_beyond_the_calendar_are_a_usage_error(blank_tracker, args):
    result = run("report", blank_tracker, *args)
    assert result.exit_code == 2
    assert "outside the dates a report covers" in result.output


def test_inf_in_a_rejected_row_is_written_to_the_rejects_file(tmp_path, blank_tracker):
    import openpyxl
    import xlsxwriter
    from xlsx_mutations import rewrite

    plain = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(plain))
    ws = wb.add_worksheet("Old")
    ws.write_row(0, 0, ["Mosaic ID", "Date received", "Age"])
    ws.write_row(1, 0, ["7000001", "01/02/2026", 12345])
    wb.close()
    src = rewrite(
        plain,
        tmp_path / "old.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda x: x.replace(b"<v>12345</v>", b"<v>1e999</v>"),
    )
    result = run("import", blank_tracker, src, "--rejects", tmp_path / "rejects.xlsx")
    assert result.exit_code == 1, result.output
    assert "1 rejected" in result.output
    ws = openpyxl.load_workbook(tmp_path / "rejects.xlsx").active
    assert "inf" in [str(c.value) for c in ws[2]]


# --- the error boundary -------------------------------------------------------------------------


def _cli(*args, cwd, env=None):
    return subprocess.run(
        [sys.executable, "-m", "cstracker", *args],
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_a_file_name_that_is_not_utf8_is_printed_not_a_crash(tmp_path, blank_tracker):
    name = os.fsdecode(b"old\xff.csv")
    (tmp_path / name).write_text("Mosaic ID,Date received\n1001,01/02/2026\n", encoding="utf-8")
    out = _cli(
        "import", str(blank_tracker), name, "--dry-run", cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"}
    )
    assert out.returncode == 0, out.stderr
    assert b"Traceback" not in out.stderr + out.stdout
    assert b"old\\udcff.csv" in out.stdout


def test_writing_into_a_missing_folder_is_one_line(tmp_path):
    out = _cli("form", str(tmp_path / "nowhere" / "form.xlsx"), cwd=tmp_path)
    assert out.returncode == 1
    assert b"Traceback" not in out.stderr
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0] and "no such file or folder" in lines[0]


def test_an_unexpected_failure_is_one_line_naming_a_log_and_exit_3(tmp_path, blank_tracker, monkeypatch):
    import cstracker.tracker.validate

    def boom(*_a, **_k):
        raise ZeroDivisionError("synthetic bug")

    monkeypatch.setattr(cstracker.tracker.validate, "validate_tracker", boom)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["validate", str(blank_tracker)])
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "bug in cstracker" in lines[0] and "ZeroDivisionError" in lines[0]
    logs = list((tmp_path / "cache" / "cstracker").glob("cstracker-bug-*.log"))
    assert len(logs) == 1 and str(logs[0]) in lines[0]
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "synthetic bug" in text
