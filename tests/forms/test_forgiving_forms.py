"""Forms that forgive: every problem in one pass, LibreOffice's TRUE as a tick, plain-English messages."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import Config, load_config
from cstracker.core.problems import plural, shown_value
from cstracker.core.rules import check_record
from cstracker.core.schema import CodeLists
from cstracker.forms.fill import fill_form
from cstracker.forms.ingest import ingest
from cstracker.forms.reader import SafeWorkbook, read_form
from cstracker.forms.workbook import SHEET_FORM, new_form_id, write_form
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

LISTS = CodeLists()


def run(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def new_form(folder: Path, name: str = "form.xlsx") -> Path:
    return write_form(folder / name, Config(), form_id=new_form_id())


def cell(path: Path, name: str) -> str:
    return SafeWorkbook(path).names[name].split("!")[1].replace("$", "")


def set_cell_xml(path: Path, ref: str, inner: bytes, kind: bytes = b"") -> None:
    """Replace one input cell's XML with ``inner`` (what a spreadsheet program saved there)."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    old = parts["xl/worksheets/sheet1.xml"]
    new, n = re.subn(
        rb'<c r="' + ref.encode() + rb'"( s="\d+")?[^>]*?(/>|>.*?</c>)',
        lambda m: b'<c r="' + ref.encode() + b'"' + (m[1] or b"") + kind + b">" + inner + b"</c>",
        old,
        count=1,
        flags=re.S,
    )
    assert n == 1, ref
    parts["xl/worksheets/sheet1.xml"] = new
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def good(**extra) -> dict:
    record = {
        "date_received": dt.date(2026, 10, 1),
        "referrer": "Sam Reid",
        "referrer_team": "School",
        "mosaic_id": "9100001",
        "suitability": "Suitable",
        "decision_date": dt.date(2026, 10, 2),
        "consultation_date": dt.date(2026, 10, 9),
        "cs_practitioner": "CS Practitioner A",
        "primary_concern": "School",
        "action_school": "Meet DSL",
    }
    record.update(extra)
    return record


# -- every problem in one pass ---------------------------------------------------------------------------


def test_a_form_with_four_mistakes_reports_all_four_in_one_run(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    form = fill_form(
        new_form(tmp_path),
        good(mosaic_id=None, date_received=None, decision_date=dt.date(2026, 9, 20)),
        extra={
            "f_date_received": "31/02/2026",  # no such day
            "f_primary_concern_home": "✓",  # a second primary concern
            "f_age": "fourteen",
        },
    )
    result = run("ingest", tracker, form)
    assert result.exit_code == 1
    out = result.output.splitlines()
    assert out[0] == f"{'rejected':<9} {'':<14} {form}"
    rules = sorted(re.search(r"\[([a-z-]+)\]$", line)[1] for line in out[1:-1])
    assert rules == ["bad-date", "bad-number", "missing-required", "primary-concern-not-one"]
    assert all(line.startswith(f"  {form}, {SHEET_FORM}!") for line in out[1:-1])
    missing = next(line for line in out if "missing-required" in line)
    assert f"{SHEET_FORM}!{cell(form, 'f_mosaic_id')}: Mosaic ID: is required and is blank" in missing
    # the impossible date is reported once, as impossible (not again as blank)
    assert sum("Date received" in line for line in out) == 1
    assert out[-1].startswith("1 form: 0 added, 0 updated, 0 unchanged, 1 rejected")
    assert Tracker.open(tracker).records() == []


def test_a_refused_formula_does_not_hide_the_other_problems(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    form = fill_form(new_form(tmp_path), good(mosaic_id=None))
    set_cell_xml(form, cell(form, "f_age"), b"<f>10+4</f><v>14</v>")
    got = ingest(tracker, [form], today=TODAY)
    (outcome,) = got.outcomes
    assert [p.rule for p in outcome.problems] == ["formula-in-field", "missing-required"]


def test_a_date_out_of_order_is_reported_with_the_date_it_must_follow(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    form = fill_form(new_form(tmp_path), good(decision_date=None), extra={"f_decision_date": "3/4/26"})
    got = ingest(tracker, [form], today=TODAY)
    (problem,) = got.outcomes[0].problems
    assert problem.rule == "date-order"
    assert problem.message == (
        "is before the date received (01/10/2026); it must be on or after the date received"
    )
    assert problem.value == "03/04/2026"
    assert "2026-04-03" not in problem.line()


def test_every_date_order_rule_names_the_other_date():
    record = {
        "date_received": dt.date(2026, 5, 10),
        "known_since": dt.date(2026, 6, 1),
        "decision_date": dt.date(2026, 5, 1),
        "consultation_date": dt.date(2026, 4, 20),
        "follow_up_date": dt.date(2026, 4, 1),
        "suitability": "Suitable",
        "mosaic_id": "1",
        "primary_concern": "Home",
    }
    found = {(f.field_key, f.message) for f in check_record(record, LISTS, TODAY) if f.rule == "date-order"}
    assert found == {
        ("known_since", "is after the date received (10/05/2026); it must be on or before the date received"),
        (
            "decision_date",
            "is before the date received (10/05/2026); it must be on or after the date received",
        ),
        (
            "consultation_date",
            "is before the date received (10/05/2026); it must be on or after the date received",
        ),
        (
            "consultation_date",
            "is before the decision date (01/05/2026); it must be on or after the decision date",
        ),
        (
            "follow_up_date",
            "is before the consultation date (20/04/2026); it must be on or after the consultation date",
        ),
    }


def test_dates_in_messages_are_day_first():
    assert shown_value(dt.date(2026, 4, 3), False) == "03/04/2026"
    assert shown_value(dt.datetime(2026, 4, 3, 14, 5), False) == "03/04/2026 14:05"
    assert shown_value(dt.datetime(2026, 4, 3), False) == "03/04/2026"


# -- ticks -----------------------------------------------------------------------------------------------


def test_libreoffice_stored_true_counts_as_a_tick(tmp_path):
    form = fill_form(new_form(tmp_path), good(primary_concern=None))
    # what LibreOffice saves for TRUE typed into a cell: a boolean formula =TRUE()
    set_cell_xml(form, cell(form, "f_theme_cse"), b"<f>TRUE()</f><v>1</v>", b' t="b"')
    set_cell_xml(form, cell(form, "f_primary_concern_school"), b"<f>true( )</f><v>1</v>", b' t="b"')
    got = read_form(form, LISTS)
    assert got.problems == []
    assert got.record["theme:CSE"] is True and got.record["primary_concern"] == "School"


def test_any_other_formula_in_a_tick_is_still_refused(tmp_path):
    form = fill_form(new_form(tmp_path), good())
    set_cell_xml(form, cell(form, "f_theme_cse"), b"<f>TRUE()*1</f><v>1</v>")
    set_cell_xml(form, cell(form, "f_theme_gangs"), b"<f>FALSE()</f><v>0</v>", b' t="b"')
    set_cell_xml(form, cell(form, "f_referrer"), b"<f>TRUE()</f><v>1</v>", b' t="b"')
    got = read_form(form, LISTS)
    assert [(p.field, p.rule, p.message) for p in got.problems] == [
        (
            "Referrer",
            "formula-in-field",
            "holds a formula; type the value itself (a form's formulas are never read)",
        ),
        (
            "Theme: CSE",
            "formula-in-field",
            "holds a formula; type the value itself (a form's formulas are never read)",
        ),
        (
            "Theme: Gangs",
            "formula-in-field",
            "holds FALSE; leave the box empty when it does not apply (a form's formulas are never read)",
        ),
    ]
    assert "theme:CSE" not in got.record


# -- plurals ---------------------------------------------------------------------------------------------


def test_plural():
    assert [plural(n, "form") for n in (0, 1, 2)] == ["0 forms", "1 form", "2 forms"]


def test_command_summaries_count_in_good_english(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    form = fill_form(new_form(tmp_path), good())
    result = run("ingest", tracker, form)
    assert result.output.splitlines()[-1].startswith("1 form: 1 added, 0 updated")
    checked = run("validate", tracker)
    assert "1 row checked, 0 errors, 0 warnings." in checked.output
    source = tmp_path / "old.csv"
    source.write_text("Date received,Mosaic ID\n01/10/2026,9100002\n", encoding="utf-8")
    imported = run("import", tracker, source)
    assert "1 data row" in imported.output and "1 data rows" not in imported.output
    assert "old.csv: 1 row read = 1 added" in imported.output


def test_the_form_says_how_to_tick_and_what_ga_means(tmp_path):
    import openpyxl

    from cstracker.forms.workbook import TICK_MARK

    wb = openpyxl.load_workbook(new_form(tmp_path))
    ws = wb[SHEET_FORM]
    texts = [c.value for row in ws.iter_rows(max_row=3) for c in row if isinstance(c.value, str)]
    assert any(
        f"To tick a box, click it and pick {TICK_MARK}" in t and "Leave a box empty" in t for t in texts
    )
    ga = next(c for row in ws.iter_rows() for c in row if c.value == "GA")
    assert ga.comment is not None and "gang affiliation" in ga.comment.text.lower()
    guidance = [c.value for row in wb["Guidance"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "Ticks" in guidance and "GA" in guidance and "Dates" in guidance
