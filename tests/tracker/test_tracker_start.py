"""The tracker_start setting: historic consultations expect no follow-up (issue 12)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from libreoffice import needs_libreoffice, sheet_as_rows

from cstracker.core import derived
from cstracker.core.config import Settings, config_from_dict, load_config
from cstracker.core.errors import ConfigError
from cstracker.core.periods import parse_period
from cstracker.core.schema import CodeLists
from cstracker.report.data import frame_from_records
from cstracker.report.tables import build_report
from cstracker.tracker.create import create_tracker
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.patch import raw_member
from tests.conftest import TODAY

OLD = Path(__file__).parent.parent / "data" / "tracker-before-tracker-start.xlsx"
START = dt.date(2026, 4, 1)
D = dt.date


def test_config_key_and_its_checks():
    assert config_from_dict({"tracker_start": D(2026, 4, 1)}).settings.tracker_start == START
    assert config_from_dict({"tracker_start": "01/04/2026"}).settings.tracker_start == START
    for bad in ("soon", 20260401, "31/02/2026"):
        with pytest.raises(ConfigError, match="tracker_start must be a date"):
            config_from_dict({"tracker_start": bad})


def test_init_keeps_it_in_the_workbook_and_shows_it_on_the_about_sheet(tmp_path):
    path = tmp_path / "t.xlsx"
    init_tracker(path, config_from_dict({"tracker_start": START}))
    assert Tracker.open(path).settings.tracker_start == START
    about = [[c.value for c in row] for row in openpyxl.load_workbook(path)["About"].iter_rows()]
    line = next(r[1] for r in about if r[0] == "Tracker start")
    assert line.startswith("01/04/2026: consultations held before it are history")
    # the default: the day the tracker is made
    other = tmp_path / "u.xlsx"
    init_tracker(other, load_config(None))
    assert Tracker.open(other).settings.tracker_start == dt.date.today()


@pytest.mark.parametrize(
    ("record", "status", "due"),
    [
        ({"consultation_date": D(2026, 3, 1)}, derived.HISTORIC, None),
        ({"consultation_date": D(2026, 3, 1), "follow_up_date": D(2026, 3, 20)}, "Followed up", None),
        ({"consultation_date": D(2026, 4, 1)}, "Follow-up overdue", D(2026, 5, 13)),
        ({"date_received": D(2025, 1, 1), "suitability": "Awaiting decision"}, derived.HISTORIC, None),
        ({"date_received": D(2025, 1, 1), "suitability": "Not suitable"}, "Not suitable", None),
        ({"date_received": D(2026, 11, 1), "suitability": "Suitable"}, "Awaiting consultation", None),
    ],
)
def test_status_and_follow_up_due(record, status, due):
    assert derived.status(record, 42, TODAY, START) == status
    assert derived.follow_up_due(record, 42, START) == due
    # without a start date nothing is history (a tracker read before it had the setting)
    assert derived.status(record, 42, TODAY, None) != derived.HISTORIC


def test_the_report_never_counts_history_as_due_or_overdue():
    lists = CodeLists()
    records = [
        {"referral_id": "CS-2026-0001", "date_received": D(2026, 2, 20), "consultation_date": D(2026, 3, 1)},
        {"referral_id": "CS-2026-0002", "date_received": D(2026, 8, 20), "consultation_date": D(2026, 9, 1)},
    ]
    frame = frame_from_records(records, lists)
    period = parse_period(month="2026-10")
    with_start = build_report(frame, period, lists, Settings(tracker_start=START), TODAY)
    assert list(with_start.table("overdue").data.index) == ["CS-2026-0002"]
    without = build_report(frame, period, lists, Settings(), TODAY)
    assert list(without.table("overdue").data.index) == ["CS-2026-0001", "CS-2026-0002"]


def _old_tracker(tmp_path: Path) -> Path:
    path = tmp_path / "Referral Tracker.xlsx"
    shutil.copy(OLD, path)
    return path


def test_an_older_tracker_gets_the_setting_and_the_new_formulas_when_first_written(tmp_path):
    path = _old_tracker(tmp_path)
    before = Tracker.open(path)
    assert before.settings.tracker_start is None  # made before the setting existed
    assert [r["status"] for r in before.records()][0] == "Follow-up overdue"
    with Tracker.open_for_update(path) as t:
        t.upsert(
            [{"date_received": D(2026, 10, 1), "mosaic_id": "100010", "suitability": "Suitable"}], today=TODAY
        )
        t.save()
        notes = t.notes
    # said in one line: the date and what it means
    assert notes == [
        "Referral Tracker.xlsx: now has a tracker start date (01/01/2026, the day it was made): consultations "
        f"before it show '{derived.HISTORIC}', with no follow-up expected."
    ]
    after = Tracker.open(path)
    assert after.settings.tracker_start == D(2026, 1, 1)
    got = {r["mosaic_id"]: (r["status"], r["follow_up_due"]) for r in after.records()}
    assert got["100001"] == (derived.HISTORIC, None)  # consulted in 2025
    assert got["100002"] == (derived.HISTORIC, None)  # received in 2025, never decided
    assert got["100003"] == ("Follow-up overdue", D(2026, 10, 22))
    assert got["100004"] == ("Followed up", None)
    with zipfile.ZipFile(path) as z:
        table = z.read("xl/tables/table1.xml").decode()
        workbook = z.read("xl/workbook.xml").decode()
    formulas = re.findall(r"<calculatedColumnFormula>(.*?)</calculatedColumnFormula>", table)
    unescape = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
    formulas = [re.sub(r"&lt;|&gt;|&amp;", lambda m: unescape[m[0]], f) for f in formulas]
    assert sorted(formulas) == sorted([derived.follow_up_due_formula(), derived.status_formula()])
    assert re.search(r'<definedName name="cs_tracker_start">\'_cstracker\'!\$B\$\d+</definedName>', workbook)
    # a second save says nothing more
    with Tracker.open_for_update(path) as t:
        t.upsert([{"date_received": D(2026, 10, 2), "mosaic_id": "100011"}], today=TODAY)
        t.save()
        assert t.notes == []


def test_the_change_to_an_older_tracker_touches_only_owned_parts(tmp_path):
    path = _old_tracker(tmp_path)
    original = tmp_path / "original.xlsx"
    shutil.copy(path, original)
    with Tracker.open_for_update(path) as t:
        t.upsert([{"date_received": D(2026, 10, 1), "mosaic_id": "100010"}], today=TODAY)
        t.save()
    owned = {
        "xl/worksheets/sheet1.xml",  # Referrals
        "xl/worksheets/sheet3.xml",  # _cstracker (hidden settings)
        "xl/tables/table1.xml",
        "xl/workbook.xml",
    }
    with zipfile.ZipFile(original) as z:
        names = z.namelist()
    for name in names:
        if name not in owned:
            assert raw_member(path, name) == raw_member(original, name), name


@needs_libreoffice
def test_libreoffice_agrees_with_the_new_formulas(tmp_path):
    path = _old_tracker(tmp_path)
    with Tracker.open_for_update(path) as t:
        t.upsert([{"date_received": D(2026, 10, 1), "mosaic_id": "100010", "suitability": "Suitable"}])
        t.save()
    rows = sheet_as_rows(path, "Referrals", tmp_path / "csv")
    header = rows[0]
    shown = {r[header.index("Mosaic ID")]: r for r in rows[1:] if r[header.index("Mosaic ID")]}
    for record in Tracker.open(path).records():
        row = shown[record["mosaic_id"]]
        assert row[header.index("Status")] == record["status"]
        assert (row[header.index("Follow-up due")] == "") == (record["follow_up_due"] is None)


def test_a_new_tracker_counts_from_its_own_start(tmp_path):
    path = create_tracker(tmp_path / "t.xlsx", config_from_dict({"tracker_start": START}))
    with Tracker.open_for_update(path) as t:
        t.upsert(
            [
                {"date_received": D(2026, 2, 1), "mosaic_id": "1", "consultation_date": D(2026, 2, 10)},
                {"date_received": D(2026, 5, 1), "mosaic_id": "2", "consultation_date": D(2026, 5, 10)},
            ],
            today=TODAY,
        )
        t.save()
        assert t.notes == []
    got = {r["mosaic_id"]: r["status"] for r in Tracker.open(path).records()}
    assert got == {"1": derived.HISTORIC, "2": "Follow-up overdue"}
