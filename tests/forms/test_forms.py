"""The consultation form workbook, reopened and checked cell by cell."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import config_from_dict, load_config
from cstracker.core.schema import BASE_FIELDS, CONTEXT_ACTION_FIELD, CodeLists, Kind
from cstracker.forms.fill import cell_of
from cstracker.forms.workbook import (
    FORM_VERSION,
    GUIDANCE,
    SHEET_FORM,
    SHEET_META,
    TICK_LIST,
    TICK_MARK,
    form_items,
    input_name,
    make_form,
    write_form,
)
from cstracker.tracker.create import SHEET_LISTS
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests import toolkit_runs
from tests.conftest import TODAY

#: fields a consultation form never carries: computed, bookkeeping, or filled in at follow-up
NOT_ON_FORM = {
    "follow_up_due",
    "status",
    "source",
    "form_id",
    "last_updated",
    "follow_up_date",
    "follow_up_notes",
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def form(tmp_path, config) -> Path:
    return write_form(tmp_path / "form.xlsx", config, form_id="F-TEST00000001")


@pytest.fixture
def wb(form):
    return openpyxl.load_workbook(form)


def test_sheets_and_identity(wb):
    assert wb.sheetnames == [SHEET_FORM, "Guidance", SHEET_LISTS, SHEET_META]
    assert wb[SHEET_META].sheet_state == "hidden"
    assert wb.active.title == SHEET_FORM
    assert cell_of(wb, "form_version").value == FORM_VERSION
    assert cell_of(wb, "form_id").value == "F-TEST00000001"
    assert "F-TEST00000001" in wb[SHEET_FORM]["H1"].value


def test_every_form_field_of_the_schema_has_a_named_unlocked_input(wb):
    lists = CodeLists()
    wanted = {f.key for f in BASE_FIELDS if f.key not in NOT_ON_FORM and f.key != "primary_concern"}
    wanted |= {f"theme:{t}" for t in lists.themes} | {f"intervention:{i}" for i in lists.interventions}
    names = set(wb.defined_names)
    for key in wanted:
        assert input_name(key) in names, key
    for context in CONTEXT_ACTION_FIELD:
        assert input_name("primary_concern_" + context) in names
    for name in form_items(lists):
        cell = cell_of(wb, name)
        assert cell.parent.title == SHEET_FORM
        assert cell.protection.locked is False, name
    assert "f_theme_county_lines" in names and "f_date_received" in names


def test_layout_cells_are_protected_without_a_password(wb):
    ws = wb[SHEET_FORM]
    assert ws.protection.sheet is True
    assert not ws.protection.password
    assert ws["A5"].value == "Date" and ws["A5"].protection.locked is True
    # a practitioner may still make a row taller for a long answer
    assert ws.protection.formatRows is False


def test_printable_a4_portrait_at_a_readable_scale_with_repeating_titles(wb):
    ws = wb[SHEET_FORM]
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.orientation == "portrait"
    # a fixed scale, never below 70% (tests/test_printing.py checks it prints on two pages)
    assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    assert int(ws.page_setup.scale) >= 70
    assert ws.print_title_rows == "$1:$2"
    assert ws.print_area == f"'{SHEET_FORM}'!$A$1:$J${ws.max_row}"


def test_appendix_c_order_top_to_bottom(wb):
    ws = wb[SHEET_FORM]
    column_a = [c.value for c in ws["A"] if c.value]
    order = [
        "Date",
        "Practitioners present",
        "Professional involvement",
        "Young person",
        "Child's history / family background",
        "Home",
        "Peer groups",
        "School",
        "Neighbourhood",
        "Social media (online behaviour)",
        "Additional factors",
        "Agreed actions",
        "Mosaic ID",
        "Primary concern: tick ONE only",
        "Themes identified: tick all that apply",
        "Interventions agreed: tick all that apply",
    ]
    positions = [column_a.index(label) for label in order]
    assert positions == sorted(positions)
    labels = [c.value for c in next(r for r in ws.iter_rows() if r[1].value == "Age")][1:10]
    assert labels == [
        "Age",
        "Gender",
        "Ethnicity",
        "Disability",
        "Legal status",
        "Offending",
        "GA",
        "Education",
        "Siblings",
    ]


def _validations(ws) -> dict[str, object]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord] = dv
    return out


def test_every_coded_field_is_a_dropdown_from_the_forms_own_lists(wb):
    ws = wb[SHEET_FORM]
    dvs = _validations(ws)
    lists = CodeLists()
    for name, item in form_items(lists).items():
        cell = cell_of(wb, name).coordinate
        f = item.field
        if item.is_tick:
            assert dvs[cell].formula1 == "list_" + TICK_LIST
        elif f is not None and f.kind is Kind.CODE:
            assert dvs[cell].type == "list" and dvs[cell].formula1 == "list_" + f.code_list, name
        elif f is not None and f.kind is Kind.DATE:
            # a text cell (no locale reads it month first): no date rule, a prompt to type it day first
            assert dvs[cell].type in (None, "any") and "day first" in dvs[cell].prompt
    lists_ws = wb[SHEET_LISTS]
    titles = {c.value: c.column_letter for c in lists_ws[2] if c.value}
    gender = [c.value for c in lists_ws[titles["Gender"]][2:] if c.value]
    assert tuple(gender) == lists.codes("gender")
    tick_dest = list(wb.defined_names["list_" + TICK_LIST].destinations)[0]
    assert lists_ws[tick_dest[1].split(":")[0].replace("$", "")].value == TICK_MARK


def test_guidance_is_there_and_in_our_own_words(wb):
    ws = wb[SHEET_FORM]
    notes = [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
    assert len(notes) >= 10
    assert any("peer" in n.lower() for n in notes)
    guidance = wb["Guidance"]
    assert set(GUIDANCE) <= {guidance.cell(r, 1).value for r in range(1, guidance.max_row + 1)}
    # no seven-word run of the guidance is the toolkit's (its runs' fingerprints are committed)
    toolkit = toolkit_runs.known()
    assert len(toolkit) > 2000
    for text in GUIDANCE.values():
        copied = [r for r in toolkit_runs.runs(text) if toolkit_runs.fingerprint(r) in toolkit]
        assert not copied, f"copied from the toolkit: {copied[0]!r}"


def test_the_toolkit_fingerprints_find_a_copied_run():
    toolkit = toolkit_runs.known()
    # the toolkit's title page, copied: its first seven words are found; our own guidance is not
    copied = toolkit_runs.runs("Contextual Safeguarding: Case Consultation Toolkit, March 2018. Shaba Dachi")
    assert copied[0] == "contextual safeguarding case consultation toolkit march shaba"
    assert toolkit_runs.fingerprint(copied[0]) in toolkit
    ours = toolkit_runs.runs(next(iter(GUIDANCE.values())))
    assert ours and all(toolkit_runs.fingerprint(r) not in toolkit for r in ours)


def test_two_forms_get_different_form_ids(tmp_path):
    _, a, _ = make_form(tmp_path / "a.xlsx")
    _, b, _ = make_form(tmp_path / "b.xlsx")
    assert a != b and re.fullmatch(r"F-[0-9A-F]{12}", a)


@pytest.fixture
def local_tracker(tmp_path) -> Path:
    config = config_from_dict(
        {
            "lists": {"referrer_team": ["Social Care North", "YJS", "Schools"]},
            "themes": {"extra": ["Knife crime"]},
        }
    )
    path = init_tracker(tmp_path / "Referral Tracker.xlsx", config)
    with Tracker.open_for_update(path) as t:
        t.upsert(
            [
                {
                    "date_received": TODAY.replace(day=2),
                    "referrer": "Sam Reid",
                    "referrer_team": "YJS",
                    "mosaic_id": "0912345",
                    "suitability": "Suitable",
                    "theme:Knife crime": True,
                    "previous_referrals": 2,
                }
            ],
            today=TODAY,
        )
        t.save()
    return path


def test_prefilled_from_the_tracker_with_its_local_lists(tmp_path, local_tracker):
    out = tmp_path / "CS-2026-0001 consultation.xlsx"
    result = run("form", str(out), "--tracker", str(local_tracker), "--referral", "cs-2026-0001")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"Wrote {re.escape(str(out))}: form F-[0-9A-F]{{12}}, pre-filled for CS-2026-0001, "
        rf"with lists from {re.escape(str(local_tracker))}\.\n",
        result.output,
    )
    wb = openpyxl.load_workbook(out)
    assert cell_of(wb, "f_referral_id").value == "CS-2026-0001"
    # dates are text, day first, as the practitioner would type them (form_dates.py)
    assert cell_of(wb, "f_date_received").value == f"{TODAY.replace(day=2):%d/%m/%Y}"
    assert cell_of(wb, "f_date_received").number_format == "@"
    assert cell_of(wb, "f_referrer").value == "Sam Reid"
    assert cell_of(wb, "f_referrer_team").value == "YJS"
    mosaic = cell_of(wb, "f_mosaic_id")
    assert mosaic.value == "0912345" and mosaic.number_format == "@"
    assert cell_of(wb, "f_previous_referrals").value == 2
    assert cell_of(wb, "f_theme_knife_crime").value == TICK_MARK
    assert cell_of(wb, "f_theme_cse").value is None
    titles = [c.value for c in wb[SHEET_LISTS][2]]
    col = titles.index("Referrer team/service") + 1
    teams = [wb[SHEET_LISTS].cell(r, col).value for r in range(3, 6)]
    assert teams == ["Social Care North", "YJS", "Schools"]


def test_form_options_used_wrongly(tmp_path, local_tracker):
    out = tmp_path / "f.xlsx"
    result = run("form", str(out), "--referral", "CS-2026-0001")
    assert result.exit_code == 2
    assert "--referral needs --tracker: the tracker the referral is on" in result.output
    result = run("form", str(out), "--tracker", str(local_tracker), "--referral", "CS-2026-0099")
    assert result.exit_code == 1
    assert f"{local_tracker}: Referral ID CS-2026-0099 is not on the Referrals sheet" in result.output
    assert not out.exists()
    assert run("form", str(out)).exit_code == 0
    result = run("form", str(out))
    assert result.exit_code == 1
    assert f"{out}: already exists; choose another name or add --overwrite" in result.output


def test_a_blank_form_with_default_lists(tmp_path):
    result = run("form", str(tmp_path / "blank.xlsx"))
    assert result.exit_code == 0
    assert "blank, with the default lists" in result.output
    wb = openpyxl.load_workbook(tmp_path / "blank.xlsx")
    assert all(cell_of(wb, n).value is None for n in form_items(load_config(None).lists))


def test_form_prompts_use_the_trackers_prefix_and_explain_several_places(tmp_path):
    config = config_from_dict({"referral_id_prefix": "WCS"})
    wb = openpyxl.load_workbook(write_form(tmp_path / "f.xlsx", config, form_id="F-TEST00000002"))
    ws = wb[SHEET_FORM]
    prompts = [dv.prompt or "" for dv in ws.data_validations.dataValidation]
    notes = [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
    texts = prompts + notes + [c for row in wb["Guidance"].iter_rows(values_only=True) for c in row if c]
    assert any("WCS-2026-0001" in t for t in prompts)
    assert not any("CS-2026" in str(t).replace("WCS-2026", "") for t in texts)
    assert any("; or a line break" in t for t in prompts)  # the Detail input's message
    assert any("; or a line break" in str(t) for t in notes)  # the Primary concern section's prompt
