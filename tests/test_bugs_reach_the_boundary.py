"""A bug inside form reading is a bug (exit 3 and a log), never "the form could not be read" (issue 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cstracker.core.schema import CodeLists
from cstracker.forms import reader as form_reader
from cstracker.forms.reader import read_form, read_forms
from tests import form_bug_reader
from tests.forms.test_form_reader import consulted_record, new_form

LISTS = CodeLists()
ROOT = Path(__file__).resolve().parent.parent


def _filled(tmp_path: Path) -> Path:
    from cstracker.forms.fill import fill_form

    return fill_form(new_form(tmp_path), consulted_record())


def test_a_bug_while_converting_a_form_raises_in_read_form(tmp_path, monkeypatch):
    path = _filled(tmp_path)

    def buggy(*_a, **_k):
        raise AttributeError("synthetic bug: 'NoneType' object has no attribute 'strip'")

    monkeypatch.setattr(form_reader, "_convert", buggy)
    with pytest.raises(AttributeError, match="synthetic bug"):
        read_form(path, LISTS)


@pytest.mark.parametrize("error", [TypeError, IndexError, AttributeError, NameError])
def test_a_bug_inside_the_sheet_reader_is_not_reported_as_a_damaged_form(tmp_path, monkeypatch, error):
    path = _filled(tmp_path)

    def buggy(*_a, **_k):
        raise error("synthetic bug")

    monkeypatch.setattr(form_reader, "_raw_values", buggy)
    with pytest.raises(error, match="synthetic bug"):
        read_form(path, LISTS)


def test_a_bug_in_a_worker_reaches_the_caller_not_a_problem_line(tmp_path):
    path = _filled(tmp_path)
    with pytest.raises(AttributeError, match="synthetic bug in a worker"):
        read_forms([path], LISTS, workers=1, reader=form_bug_reader.buggy_reader)


def test_a_bug_while_ingesting_is_exit_3_with_a_log_and_the_tracker_untouched(tmp_path, blank_tracker):
    form = _filled(tmp_path)
    before = blank_tracker.read_bytes()
    # sitecustomize runs in every Python process the command starts (the forkserver and its workers too)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import cstracker.forms.reader as fr\n"
        "def _buggy(*a, **k):\n"
        "    raise AttributeError('synthetic bug in form reading')\n"
        "fr._convert = _buggy\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "cstracker", "ingest", str(blank_tracker), str(form)],
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    text = (out.stdout + out.stderr).decode()
    assert out.returncode == 3, text
    assert "Traceback" not in text
    assert "could not be read" not in text and "save it as .xlsx" not in text
    bug = [line for line in text.splitlines() if "bug in cstracker" in line]
    assert len(bug) == 1 and "AttributeError" in bug[0]
    logs = list((tmp_path / "cache" / "cstracker").glob("cstracker-bug-*.log"))
    assert len(logs) == 1 and str(logs[0]) in bug[0]
    assert "synthetic bug in form reading" in logs[0].read_text(encoding="utf-8")
    assert blank_tracker.read_bytes() == before


# --- the other readers: only the libraries' own "cannot read this file" errors are the file's fault ---


def _invoke(args, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cstracker.cli import cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return CliRunner().invoke(cli, args)


def _assert_bug(result, tmp_path, name):
    assert result.exit_code == 3, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "bug in cstracker" in lines[0] and name in lines[0], lines
    assert "cannot be read" not in result.output
    logs = list((tmp_path / "cache" / "cstracker").glob("cstracker-bug-*.log"))
    assert len(logs) == 1 and "synthetic bug" in logs[0].read_text(encoding="utf-8")


def test_a_bug_while_reading_the_trackers_lists_is_exit_3_not_a_damaged_tracker(
    tmp_path, blank_tracker, monkeypatch
):
    # imported before the patch: a module first imported under it would keep the buggy function
    # (``from ... import calamine_book``) for every later test in this process
    import cstracker.tracker.validate
    import cstracker.xlsx.encryption

    def buggy(*_a, **_k):
        raise TypeError("synthetic bug")

    monkeypatch.setattr(cstracker.xlsx.encryption, "calamine_book", buggy)
    _assert_bug(_invoke(["validate", str(blank_tracker)], tmp_path, monkeypatch), tmp_path, "TypeError")


def test_a_bug_while_reading_an_import_source_is_exit_3_not_an_unreadable_workbook(
    tmp_path, blank_tracker, monkeypatch
):
    import python_calamine

    source = tmp_path / "old.xlsx"
    import xlsxwriter

    wb = xlsxwriter.Workbook(source)
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Mosaic ID", "Date received"])
    ws.write_row(1, 0, ["1001", "01/02/2026"])
    wb.close()

    class Buggy:
        @staticmethod
        def from_path(*_a, **_k):
            raise AttributeError("synthetic bug")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Buggy)
    result = _invoke(["import", str(blank_tracker), str(source), "--dry-run"], tmp_path, monkeypatch)
    _assert_bug(result, tmp_path, "AttributeError")


def test_a_damaged_tracker_is_still_one_line_and_exit_1_not_a_bug(tmp_path, blank_tracker, monkeypatch):
    import zipfile

    parts = {}
    with zipfile.ZipFile(blank_tracker) as z:
        for info in z.infolist():
            parts[info.filename] = z.read(info.filename)
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"][:200]
    with zipfile.ZipFile(blank_tracker, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    result = _invoke(["validate", str(blank_tracker)], tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    assert "bug in cstracker" not in result.output and "cannot be read" in result.output


class PanicException(BaseException):
    """As pyo3 (the Rust libraries' bridge: calamine, fastexcel) raises for a panic: not an Exception."""


def test_a_panic_inside_a_rust_library_reaches_the_boundary_as_one_line(tmp_path, blank_tracker, monkeypatch):
    from cstracker.tracker import validate

    def panic(*_a, **_k):
        raise PanicException("synthetic bug: TimeDelta::milliseconds out of bounds")

    monkeypatch.setattr(validate, "validate_tracker", panic)
    result = _invoke(["validate", str(blank_tracker)], tmp_path, monkeypatch)
    _assert_bug(result, tmp_path, "PanicException")
    assert "Traceback" not in result.output
