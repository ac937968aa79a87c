"""cstracker demo: the README's first command, end to end on synthetic data."""

from __future__ import annotations

import csv

import openpyxl
from click.testing import CliRunner
from conftest import TODAY

from cstracker.cli import cli
from cstracker.demo import run_demo
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.validate import validate_tracker


def test_the_whole_journey(tmp_path):
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", seed=11, today=TODAY, echo=lines.append)
    assert [line[:2] for line in lines if line[0].isdigit()] == ["1.", "2.", "3.", "4.", "5.", "6."]

    # the legacy file really is messy: a title row, its own headings, themes in one cell
    with result.files["legacy"].open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0].startswith("CS consultations log") and "Date of referral" in rows[2]

    tracker = Tracker.open(result.tracker)
    records = tracker.records()
    sources = {r["source"].split(":")[0] for r in records}
    assert sources == {"import", "typed", "form"}
    # the three planted mistakes went to the rejects file, with reasons, and nothing else did
    rejects = openpyxl.load_workbook(result.files["rejects"]).active
    reasons = [row[-2] for row in rejects.iter_rows(min_row=2, values_only=True)]
    assert len(reasons) == 3
    assert any("31/02/2025" in r for r in reasons) and any("Zog" in r for r in reasons)

    # forms came back for every consultation held since the referrals were typed
    assert "0 rejected" in next(line for line in lines if line.startswith("4."))
    from_forms = [r for r in records if r.get("form_id")]
    assert from_forms and all(r["primary_concern"] for r in from_forms)

    checked = validate_tracker(result.tracker, today=TODAY)
    assert checked.errors == []
    assert checked.rows_checked == len(records)

    report = openpyxl.load_workbook(result.files["report"])
    published = openpyxl.load_workbook(result.files["published"])
    assert report.sheetnames[0] == published.sheetnames[0]
    assert "2026-10" in result.files["report"].name


def test_demo_command(tmp_path, monkeypatch):
    import cstracker.demo as demo

    real = demo.run_demo
    monkeypatch.setattr(
        demo, "run_demo", lambda out, seed, echo: real(out, seed=seed, today=TODAY, echo=echo)
    )
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Done. Open" in result.output
    assert (tmp_path / "d" / "Referral Tracker.xlsx").exists()
