"""The framework sheet (toolkit Appendix A): ``cstracker form --framework OUT.xlsx``."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import load_config
from cstracker.forms.framework import CONTEXTS, POINTS, SHEET_FRAMEWORK
from cstracker.forms.ingest import ingest
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

TOOLKIT_CONTEXTS = ("young person", "family", "peer group", "school", "neighbourhood")
TOOLKIT_POINTS = (
    "current situation",
    "concerned about",
    "works well",
    "professional involvement",
    "planned actions",
    "barriers",
)


def run(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_form_framework_writes_the_grid_of_contexts_and_points_for_discussion(tmp_path):
    out = tmp_path / "CS framework.xlsx"
    result = run("form", "--framework", out)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Wrote {out}: the framework sheet, one A4 landscape page to send ahead of the consultation.\n"
    )
    wb = openpyxl.load_workbook(out, rich_text=True)
    assert wb.sheetnames == [SHEET_FRAMEWORK]
    ws = wb[SHEET_FRAMEWORK]
    header = next(r for r in range(1, 10) if "Current situation" in str(ws.cell(r, 2).value))
    heads = [str(ws.cell(header, c).value).lower() for c in range(2, 2 + len(POINTS))]
    for point, head in zip(TOOLKIT_POINTS, heads, strict=True):
        assert point in head
    rows = [str(ws.cell(header + i, 1).value).lower() for i in range(1, 1 + len(CONTEXTS))]
    for context, row in zip(TOOLKIT_CONTEXTS, rows, strict=True):
        assert context in row
    # room to write: every box is empty, unlocked and tall
    for i in range(1, 1 + len(CONTEXTS)):
        assert ws.row_dimensions[header + i].height >= 60
        for c in range(2, 2 + len(POINTS)):
            box = ws.cell(header + i, c)
            assert box.value is None and box.protection.locked is False
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9


def test_the_framework_is_not_a_form_and_the_tracker_gets_nothing_from_it(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    out = tmp_path / "framework.xlsx"
    assert run("form", "--framework", out, "--tracker", tracker).exit_code == 0
    names = openpyxl.load_workbook(out).defined_names
    assert not [n for n in names if n.startswith("f_")]
    before = tracker.read_bytes()
    result = ingest(tracker, [out], today=TODAY)
    assert [(o.outcome, [p.rule for p in o.problems]) for o in result.outcomes] == [
        ("rejected", ["not-our-form"])
    ]
    assert tracker.read_bytes() == before and Tracker.open(tracker).records() == []


def test_framework_usage_errors(tmp_path):
    out = tmp_path / "framework.xlsx"
    assert run("form", "--framework", out).exit_code == 0
    again = run("form", "--framework", out)
    assert again.exit_code == 1 and "already exists" in again.output
    assert run("form", "--framework", out, "--overwrite").exit_code == 0
    with_referral = run("form", "--framework", tmp_path / "x.xlsx", "--referral", "CS-2026-0001")
    assert with_referral.exit_code == 2 and "--referral" in with_referral.output
    assert run("form", "--framework", tmp_path / "x.pdf").exit_code == 2
