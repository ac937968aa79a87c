"""A form naming a referrer team the tracker does not list yet: the team grows, as import grows it.

The referrer team list is open (``CodeList.open``): every authority meets new teams. A form whose
practitioner typed a team the dropdown did not offer goes in, and the team joins the Lists sheet,
unless it is probably a team already listed (``Schools`` for School): then the form is refused with
the suggestion, as import refuses such a row until its mapping says what the value is.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import Config, load_config
from cstracker.forms.fill import fill_form
from cstracker.forms.ingest import ingest
from cstracker.forms.workbook import new_form_id, write_form
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.forms.test_ingest import example


def _tracker(folder: Path) -> Path:
    return init_tracker(folder / "Referral Tracker.xlsx", load_config(None))


def _form(folder: Path, name: str, **extra) -> Path:
    return fill_form(write_form(folder / name, Config(), form_id=new_form_id()), example(**extra))


def _listed_teams(tracker: Path) -> list[str]:
    """The referrer teams as the saved workbook's Lists sheet holds them (read back from the file)."""
    wb = openpyxl.load_workbook(tracker, read_only=True)
    rows = list(wb["Lists"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if "Referrer team/service" in r)
    col = rows[head].index("Referrer team/service")
    return [r[col] for r in rows[head + 1 :] if col < len(r) and r[col] is not None]


def test_a_new_team_goes_in_and_joins_the_lists_sheet(tmp_path):
    tracker = _tracker(tmp_path)
    forms = [
        _form(tmp_path, "a.xlsx", mosaic="9100001", referrer_team="Fire and Rescue Service"),
        # the same new team spelt another way by a second practitioner: one team, first spelling kept
        _form(tmp_path, "b.xlsx", mosaic="9100002", referrer_team="  fire and rescue   SERVICE "),
    ]
    result = ingest(tracker, forms)
    assert [o.outcome for o in result.outcomes] == ["added", "added"]
    assert result.added_codes == {"referrer_team": ["Fire and Rescue Service"]}
    teams = [r.get("referrer_team") for r in Tracker.open(tracker).records()]
    assert teams == ["Fire and Rescue Service", "Fire and Rescue Service"]
    assert _listed_teams(tracker).count("Fire and Rescue Service") == 1
    # each form says so, as a warning the coordinator can check
    notes = [p for o in result.outcomes for p in o.problems if p.rule == "new-list-value"]
    assert notes and all(p.severity == "warning" for p in notes)
    assert "Fire and Rescue Service" in notes[0].line() and "Lists sheet" in notes[0].line()
    # and validate has nothing to say of it afterwards
    out = CliRunner().invoke(cli, ["validate", str(tracker)])
    assert "new-list-value" not in out.output and "Referrer team" not in out.output


def test_a_team_that_is_probably_a_listed_one_is_refused_with_the_suggestion(tmp_path):
    tracker = _tracker(tmp_path)
    result = ingest(tracker, [_form(tmp_path, "a.xlsx", referrer_team="Schools")])
    (outcome,) = result.outcomes
    assert outcome.outcome == "rejected"
    (problem,) = [p for p in outcome.problems if p.rule == "not-in-list"]
    assert "did you mean 'School'" in problem.line()
    assert result.added_codes == {}
    assert "Schools" not in _listed_teams(tracker)


def test_a_placeholder_or_a_formula_is_never_a_new_team(tmp_path):
    tracker = _tracker(tmp_path)
    forms = [
        _form(tmp_path, "a.xlsx", mosaic="9100001", referrer_team="TBC"),
        _form(tmp_path, "b.xlsx", mosaic="9100002", referrer_team="12345"),
    ]
    result = ingest(tracker, forms)
    assert [o.outcome for o in result.outcomes] == ["rejected", "rejected"]
    assert result.added_codes == {}


def test_a_form_refused_for_another_reason_adds_no_team(tmp_path):
    tracker = _tracker(tmp_path)
    form = _form(tmp_path, "a.xlsx", referrer_team="Fire and Rescue Service", gender="Not a gender")
    result = ingest(tracker, [form])
    (outcome,) = result.outcomes
    assert outcome.outcome == "rejected"
    assert result.added_codes == {}
    assert "Fire and Rescue Service" not in _listed_teams(tracker)


def test_the_dry_run_and_the_summary_say_which_teams_would_be_added(tmp_path):
    tracker = _tracker(tmp_path)
    form = _form(tmp_path, "a.xlsx", referrer_team="Fire and Rescue Service")
    before = tracker.read_bytes()
    out = CliRunner().invoke(cli, ["ingest", str(tracker), str(form), "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "would be added to the Lists sheet" in out.output and "Fire and Rescue Service" in out.output
    assert tracker.read_bytes() == before
    out = CliRunner().invoke(cli, ["ingest", str(tracker), str(form)])
    assert out.exit_code == 0, out.output
    assert "added to the Lists sheet" in out.output and "Fire and Rescue Service" in out.output
