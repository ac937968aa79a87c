"""CSV output is safe to open and reads back exactly; rejects keep every value that was read.

Issue 8, items 6 and 8.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cstracker.cli import cli
from cstracker.core.config import load_config
from cstracker.core.csvsafe import neutralise, restore
from cstracker.legacy.importer import REASONS_HEADER, REJECTED_FROM_HEADER, import_file
from cstracker.legacy.rejects import companion_csv
from cstracker.legacy.source_reader import read_source
from cstracker.tracker.newfile import init_tracker
from cstracker.xlsx.outputs import identify
from tests.conftest import TODAY

GOLDEN = Path(__file__).parent.parent / "golden" / "import"
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def tracker(tmp_path) -> Path:
    return init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))


# ---------------------------------------------------------------------------
# neutralising, and undoing it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_trigger_gets_a_quote(trigger):
    assert neutralise(trigger + "HYPERLINK(1)") == "'" + trigger + "HYPERLINK(1)"


def test_plain_text_and_quotes_before_plain_text_are_left_alone():
    assert neutralise("Northgate Academy") == "Northgate Academy"
    assert neutralise("'quoted'") == "'quoted'"
    assert neutralise("") == ""
    assert neutralise("a=b") == "a=b"


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", " ", "1"]), max_size=8))
def test_restore_undoes_neutralise_exactly(text):
    assert restore(neutralise(text)) == text
    # and what is written never starts with a trigger
    assert neutralise(text)[:1] not in TRIGGERS


def test_validate_csv_writes_a_problem_value_with_a_formula_as_inert_text(tracker, monkeypatch):
    from cstracker.core.problems import Problem
    from cstracker.tracker import validate as validate_module

    real = validate_module.validate_tracker

    def with_formula(path, **kw):
        report = real(path, **kw)
        bad = Problem(str(path), "formula", "a formula where a value belongs", value='=HYPERLINK("x")')
        report.problems.append(bad)
        return report

    monkeypatch.setattr(validate_module, "validate_tracker", with_formula)
    out = run("validate", tracker, "--format", "csv").output
    row = list(csv.DictReader(io.StringIO(out)))[-1]
    assert row["value"] == "'" + '=HYPERLINK("x")'
    data = json.loads(run("validate", tracker, "--format", "json").output)
    assert data[-1]["value"] == '=HYPERLINK("x")'


def test_help_says_csv_is_neutralised():
    for command in ("validate", "import"):
        text = " ".join(run(command, "--help").output.split())
        assert "gets a leading '" in text, command


# ---------------------------------------------------------------------------
# rejects: .csv accepted, lossless, read back exactly
# ---------------------------------------------------------------------------


def hostile_source(folder: Path, wide: int = 0, long_value: str = "") -> Path:
    """Rows that are rejected (bad Mosaic IDs), carrying formula-like and long values."""
    headers = ["Date received", "Mosaic ID", "Referrer", "Detail", "-Notes"] + [
        f"Extra {i}" for i in range(wide)
    ]
    rows = [
        ["03/10/2026", "not-a-number", '=HYPERLINK("x","y")', "+44 7700 900123", "-5 days"],
        ["04/10/2026", "??", "@SUM(A1)", "'=already quoted", "\tindented"],
        ["05/10/2026", "bad id", "Plain Name", long_value or "plain", "line one\nline two"],
    ]
    for r in rows:
        r.extend(f"v{i}" for i in range(wide))
    path = folder / "old.csv"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([headers, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_rejects_csv_is_accepted_neutralised_and_reads_back_exactly(tracker, tmp_path):
    source = hostile_source(tmp_path)
    original = read_source(source)
    rejects = tmp_path / "rejected.csv"
    result = run("import", tracker, source, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert f"written to {rejects}" in result.output
    assert identify(rejects).kind == "rejects"
    raw = rejects.read_text(encoding="utf-8-sig")
    for row in csv.reader(io.StringIO(raw)):
        for cell in row:
            assert cell[:1] not in TRIGGERS, row
    back = read_source(rejects)
    assert back.headers == [*original.headers, REASONS_HEADER, REJECTED_FROM_HEADER]
    assert [r.values[: len(original.headers)] for r in back.rows] == [r.values for r in original.rows]
    # and importing it again rejects the same rows for the same reasons, nothing else changes
    again = import_file(tracker, rejects, today=TODAY)
    assert len(again.rejected) == 3 and again.added == 0


def test_a_value_longer_than_a_cell_goes_to_the_csv_form(tracker, tmp_path):
    long_value = "x" * 40_000
    source = hostile_source(tmp_path, long_value=long_value)
    rejects = tmp_path / "rejected.xlsx"
    result = run("import", tracker, source, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    complete = companion_csv(rejects)
    assert str(complete) in result.output
    back = read_source(complete)
    assert back.rows[2].values[3] == long_value
    wb = openpyxl.load_workbook(rejects)
    assert complete.name in wb["Read me"]["A1"].value
    reasons = wb["Rejected"].cell(4, 6).value
    assert complete.name in reasons
    # a rejects .csv holds it whole without any companion
    as_csv = tmp_path / "rejected2.csv"
    assert run("import", tracker, source, "--rejects", as_csv).exit_code == 1
    assert read_source(as_csv).rows[2].values[3] == long_value
    assert not companion_csv(as_csv).exists()


def test_a_source_wider_than_a_sheet_goes_to_the_csv_form(tracker, tmp_path):
    source = hostile_source(tmp_path, wide=16_384)
    rejects = tmp_path / "rejected.xlsx"
    result = run("import", tracker, source, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    complete = companion_csv(rejects)
    back = read_source(complete)
    assert len(back.headers) == 5 + 16_384 + 2
    assert back.rows[0].values[5 + 16_383] == "v16383"
    assert back.rows[0].values[2] == '=HYPERLINK("x","y")'


def test_a_companion_csv_that_cannot_be_written_is_refused_before_the_save(tracker, tmp_path):
    source = hostile_source(tmp_path, long_value="y" * 33_000)
    rejects = tmp_path / "rejected.xlsx"
    other = companion_csv(rejects)
    other.write_text("someone's own notes\n")
    before = tracker.read_bytes()
    result = run("import", tracker, source, "--rejects", rejects)
    assert result.exit_code == 1
    assert f"{other}: already exists" in result.output
    assert tracker.read_bytes() == before and other.read_text() == "someone's own notes\n"
    assert not rejects.exists()


def test_golden_rejects_as_csv_keep_every_value(tracker, tmp_path):
    rejects = tmp_path / "rejected.csv"
    result = import_file(tracker, GOLDEN / "legacy.csv", rejects_path=rejects, today=TODAY)
    source = read_source(GOLDEN / "legacy.csv")
    by_row = {r.row: r.values for r in source.rows}
    back = read_source(rejects)
    assert len(back.rows) == len(result.rejected)
    width = len(source.headers)
    for got, rejected in zip(back.rows, result.rejected, strict=True):
        assert got.values[:width] == by_row[rejected.row]
        assert got.values[width + 1].endswith(f"row {rejected.row}")


def test_a_rejects_csv_replaces_an_earlier_rejects_csv_but_not_another_csv(tracker, tmp_path):
    source = hostile_source(tmp_path)
    rejects = tmp_path / "rejected.csv"
    assert run("import", tracker, source, "--rejects", rejects).exit_code == 1
    again = run("import", tracker, source, "--rejects", rejects)
    assert again.exit_code == 1 and f"written to {rejects}" in again.output
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\n1,2\n")
    refused = run("import", tracker, source, "--rejects", notes)
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert notes.read_text() == "my,own\n1,2\n"
