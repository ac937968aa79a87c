"""The public API in cstracker/__init__.py: what a script in an analyst's notebook calls (issue 10)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import cstracker
from cstracker.core.config import load_config
from cstracker.core.errors import CstrackerError
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
API = ["open_tracker", "validate_tracker", "import_file", "ingest_forms", "write_report"]

LEGACY_CSV = (
    "Date of referral,Mosaic No,Referrer,Suitability\n"
    "03/10/2026,1000001,Sam Reid,Suitable\n"
    "14/10/2026,1000002,Ann Lee,Not suitable\n"
    "20/10/2026,1000003,Sam Reid,Suitable\n"
)


@pytest.fixture
def tracker(tmp_path) -> Path:
    return init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))


@pytest.fixture
def legacy(tmp_path) -> Path:
    path = tmp_path / "old tracker.csv"
    path.write_text(LEGACY_CSV, encoding="utf-8")
    return path


def test_all_lists_the_api_and_dir_shows_it():
    assert cstracker.__all__ == [*API, "__version__"]
    for name in API:
        assert name in dir(cstracker)
        function = getattr(cstracker, name)
        assert callable(function) and function.__module__ == "cstracker"
        assert function.__doc__ and len(function.__doc__.strip()) > 40, name


def test_the_api_names_shadow_no_module_or_subpackage():
    package = ROOT / "cstracker"
    inside = {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir() if p.is_dir()}
    assert set(API) & inside == set()


def test_importing_the_package_loads_nothing_heavy():
    """The API is thin: `import cstracker` (and so `python -m cstracker --help`) loads no library module."""
    code = (
        "import sys, cstracker\n"
        "heavy = [m for m in ('pandas', 'numpy', 'openpyxl', 'cstracker.tracker.tracker',"
        " 'cstracker.legacy.importer', 'cstracker.report.workbook') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_import_open_validate_and_report(tracker, legacy, tmp_path):
    result = cstracker.import_file(tracker, legacy, today=TODAY)
    assert result.added == 3 and result.rejected == []
    opened = cstracker.open_tracker(tracker)
    assert isinstance(opened, Tracker)
    frame = opened.dataframe()
    assert sorted(frame["mosaic_id"]) == ["1000001", "1000002", "1000003"]
    checked = cstracker.validate_tracker(tracker, today=TODAY)
    assert checked.rows_checked == 3 and checked.errors == []
    written = cstracker.write_report(tracker, month="2026-10", today=TODAY)
    assert written.path == tmp_path / "CS trends 2026-10.xlsx" and written.referrals == 3
    assert "Summary" in openpyxl.load_workbook(written.path, read_only=True).sheetnames


def test_write_report_to_a_named_file_for_a_date_range(tracker, legacy, tmp_path):
    cstracker.import_file(tracker, legacy, today=TODAY)
    out = tmp_path / "autumn.xlsx"
    written = cstracker.write_report(
        tracker, date_from=dt.date(2026, 10, 10), date_to=dt.date(2026, 10, 31), out=out, today=TODAY
    )
    assert written.path == out and written.referrals == 2


def test_write_report_wants_exactly_one_period(tracker):
    with pytest.raises(CstrackerError, match="exactly one period"):
        cstracker.write_report(tracker, month="2026-10", year="2026")


def test_ingest_forms(tracker, tmp_path):
    from cstracker.core.config import Config
    from cstracker.forms.fill import fill_form
    from cstracker.forms.workbook import write_form

    form = fill_form(
        write_form(tmp_path / "form.xlsx", Config(), form_id="F-API000000001"),
        {"date_received": dt.date(2026, 10, 3), "mosaic_id": "1000009", "referrer": "Sam Reid"},
    )
    result = cstracker.ingest_forms(tracker, [form], today=TODAY)
    assert result.count("added") == 1 and result.saved
    rows = cstracker.open_tracker(tracker).records()
    assert [(r["mosaic_id"], r["form_id"]) for r in rows] == [("1000009", "F-API000000001")]


def test_open_tracker_with_a_password(tracker, monkeypatch):
    from cstracker.tracker.protect import encrypt_tracker
    from cstracker.xlsx import encryption

    monkeypatch.setenv(encryption.PASSWORD_ENV, "correct horse battery staple")
    encrypt_tracker(tracker)
    assert encryption.is_encrypted_file(tracker)
    monkeypatch.delenv(encryption.PASSWORD_ENV)
    encryption.forget_passwords()
    encryption.set_prompt(None)
    with pytest.raises(CstrackerError, match="encrypted"):
        cstracker.open_tracker(tracker)
    with pytest.raises(CstrackerError):
        cstracker.open_tracker(tracker, password="wrong")
    encryption.forget_passwords()
    opened = cstracker.open_tracker(tracker, password="correct horse battery staple")
    assert opened.records() == [] and opened.settings.authority_name


def readme_example() -> str:
    """The Python code block of the README's "Use it from Python" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_the_readme_example_runs(tracker, legacy, tmp_path, monkeypatch):
    code = readme_example()
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) <= 6 and lines[0] == "import cstracker"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "CS trends 2026-10.xlsx").exists()
    assert len(namespace["referrals"]) == 3
    # the three imported rows were checked: decisions without their date are warnings, nothing is an error
    problems = namespace["problems"]
    assert {p.row for p in problems} <= {2, 3, 4} and [p for p in problems if p.severity == "error"] == []
    assert "missing-decision-date" in {p.rule for p in problems}


def test_python_m_cstracker_help_still_works():
    out = subprocess.run(
        [sys.executable, "-m", "cstracker", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0 and "Usage:" in out.stdout and "import" in out.stdout
