"""Locale-proof dates on the form: what the practitioner typed is the date that reaches the tracker.

The real test types into a form through LibreOffice set to English (USA), keystroke by keystroke
(``tests/uno_type_form.py``, the dispatcher's EnterString), then ingests it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import openpyxl
from libreoffice import SYSTEM_PYTHON, needs_libreoffice, needs_uno

from cstracker.core.config import Config, load_config
from cstracker.core.schema import CodeLists, Kind
from cstracker.forms.dates import serial_formula, spelled, spelled_formula
from cstracker.forms.fill import cell_of
from cstracker.forms.ingest import ingest
from cstracker.forms.reader import read_form
from cstracker.forms.workbook import SHEET_FORM, form_items, new_form_id, write_form
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

HERE = Path(__file__).parent.parent
LISTS = CodeLists()
DATE_NAMES = sorted(
    name
    for name, item in form_items(LISTS).items()
    if item.field is not None and item.field.kind is Kind.DATE
)


def type_in_libreoffice(src: Path, out: Path, locale: str, typing: dict[str, str]) -> dict:
    done = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "uno_type_form.py"), str(src), str(out), locale]
        + [f"{k}={v}" for k, v in typing.items()],
        timeout=240,
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_libreoffice
@needs_uno
def test_a_date_typed_in_an_en_us_libreoffice_reaches_the_tracker_as_the_practitioner_meant(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    form = write_form(tmp_path / "blank.xlsx", Config(), form_id=new_form_id())
    typed = tmp_path / "typed.xlsx"
    got = type_in_libreoffice(
        form,
        typed,
        "en-US",
        {
            "f_mosaic_id": "0012345",
            "f_date_received": "03/10/2025",
            "f_known_since": "1/9/19",
            "f_suitability": "Suitable",
            "f_decision_date": "06/10/2025",
            "f_consultation_date": "13/10/25",
            "f_cs_practitioner": "CS Practitioner A",
            "f_primary_concern_school": "x",
            "f_theme_cse": "TRUE",
            "f_action_school": "Meet the DSL",
        },
    )
    # the profile really is en-US: the same keystrokes in an ordinary cell give 10 March
    assert got["plain"] == "2025-03-10"
    # the form keeps what was typed, and spells out the date it will be read as
    assert got["shown"]["f_date_received"] == "03/10/2025"
    assert got["spelled"] == {
        "f_date_received": "Friday 3 October 2025",
        "f_known_since": "Sunday 1 September 2019",
        "f_decision_date": "Monday 6 October 2025",
        "f_consultation_date": "Monday 13 October 2025",
    }
    result = ingest(tracker, [typed], today=TODAY)
    assert [(o.outcome, [p.line() for p in o.problems]) for o in result.outcomes] == [("added", [])]
    (row,) = Tracker.open(tracker).records()
    assert row["date_received"] == dt.date(2025, 10, 3)
    assert row["known_since"] == dt.date(2019, 9, 1)
    assert row["decision_date"] == dt.date(2025, 10, 6)
    assert row["consultation_date"] == dt.date(2025, 10, 13)
    assert row["mosaic_id"] == "0012345"
    assert row["theme:CSE"] is True and row["primary_concern"] == "School"


@needs_libreoffice
@needs_uno
def test_a_date_that_is_no_date_says_so_on_the_form_and_at_ingest(tmp_path):
    form = write_form(tmp_path / "blank.xlsx", Config(), form_id=new_form_id())
    typed = tmp_path / "typed.xlsx"
    got = type_in_libreoffice(form, typed, "en-US", {"f_date_received": "31/02/2025", "f_mosaic_id": "1"})
    assert got["spelled"]["f_date_received"] == "not a date yet: type it day first, e.g. 03/10/2025"
    read = read_form(typed, LISTS)
    assert [(p.field, p.rule) for p in read.problems] == [("Date received", "bad-date")]


def test_every_date_input_is_a_text_cell_with_its_date_spelled_out_beside_it(tmp_path):
    record = {"date_received": dt.date(2025, 10, 3), "decision_date": dt.date(2025, 10, 6)}
    form = write_form(tmp_path / "f.xlsx", Config(), record=record, form_id="F-1")
    wb = openpyxl.load_workbook(form)
    ws = wb[SHEET_FORM]
    assert len(DATE_NAMES) == 4
    for name in DATE_NAMES:
        cell = cell_of(wb, name)
        assert cell.number_format == "@" and cell.protection.locked is False, name
        formulas = [
            c
            for row in ws.iter_rows(min_row=cell.row, max_row=cell.row + 1, max_col=10)
            for c in row
            if isinstance(c.value, str) and "WEEKDAY" in c.value
        ]
        assert formulas and all(c.protection.locked for c in formulas), name
    # pre-filled dates are written as the practitioner would type them
    assert cell_of(wb, "f_date_received").value == "03/10/2025"
    assert read_form(form, LISTS).record["date_received"] == dt.date(2025, 10, 3)


def test_the_spelled_out_date_matches_python():
    assert spelled(dt.date(2025, 10, 3)) == "Friday 3 October 2025"
    assert spelled(dt.date(2024, 2, 29)) == "Thursday 29 February 2024"
    # the formulas never lean on the locale: no TEXT() or DATEVALUE()
    for formula in (serial_formula("B5"), spelled_formula("Z5")):
        assert "TEXT(" not in formula and "DATEVALUE" not in formula
        assert len(formula) < 8192  # Excel's limit
