"""Both date systems, read and written right: tracker, forms and import sources (issue 8, item 3).

A workbook in the 1904 date system (the Mac option; ``<workbookPr date1904="1"/>``)
numbers each day 1462 lower than one in the 1900 system. A 1904 tracker here is made
by LibreOffice itself (tests/uno_date1904.py re-enters every date cell and switches the
document's null date to 1 January 1904), exactly as a coordinator's file would be.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from libreoffice import needs_libreoffice, sheet_as_rows
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from cstracker.core.config import Config, load_config
from cstracker.forms.fill import fill_form
from cstracker.forms.ingest import ingest
from cstracker.forms.workbook import new_form_id, write_form
from cstracker.legacy.importer import import_file
from cstracker.tracker.layout import read_layout
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

HERE = Path(__file__).parent.parent
SYSTEM_PYTHON = "/usr/bin/python3"
DAY_1904 = dt.date(1904, 1, 1)
DAY_1900 = dt.date(1899, 12, 30)

FIRST = {
    "date_received": dt.date(2026, 10, 3),
    "mosaic_id": "9100001",
    "referrer": "Sam Reid",
    "suitability": "Suitable",
    "decision_date": dt.date(2026, 10, 5),
    "consultation_date": dt.date(2026, 10, 9),
    "primary_concern": "School",
}


def to_1904(src: Path, dst: Path) -> Path:
    subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "uno_date1904.py"), str(src), str(dst)], check=True, timeout=240
    )
    return dst


def date1904(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        return bool(re.search(rb'<workbookPr\b[^>]*\bdate1904="(1|true)"', zf.read("xl/workbook.xml")))


def cell_numbers(path: Path, row: int) -> dict[str, float]:
    """Column letters -> the number stored in that row of the Referrals sheet (sheet1.xml)."""
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    m = re.search(rf'<row [^>]*r="{row}"[^>]*>(.*?)</row>', xml, re.S)
    assert m, f"row {row} not in the sheet"
    out = {}
    for c in re.finditer(r'<c r="([A-Z]+)\d+"([^>]*?)(?:/>|>(.*?)</c>)', m[1], re.S):
        attrs, body = c[2], c[3] or ""
        v = re.search(r"<v>([^<]*)</v>", body)
        if v and 't="s"' not in attrs and 't="str"' not in attrs and 't="inlineStr"' not in attrs:
            out[c[1]] = float(v[1])
    return out


def letters(path: Path) -> dict[str, str]:
    from cstracker.xlsx.parts import col_letters

    lay = read_layout(path)
    return {k: col_letters(c) for k, c in lay.columns.items()}


@pytest.fixture(scope="module")
def tracker1904(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("t1904")
    made = init_tracker(folder / "made.xlsx", load_config(None))
    with Tracker.open_for_update(made) as t:
        t.upsert([FIRST], today=TODAY)
        t.save()
    return to_1904(made, folder / "Referral Tracker 1904.xlsx")


@pytest.fixture
def tracker(tracker1904, tmp_path) -> Path:
    copy = tmp_path / "Referral Tracker.xlsx"
    copy.write_bytes(tracker1904.read_bytes())
    return copy


@needs_libreoffice
def test_a_libreoffice_1904_tracker_is_read_right(tracker):
    assert date1904(tracker) and read_layout(tracker).date1904
    (record,) = Tracker.open(tracker).records()
    for key in ("date_received", "decision_date", "consultation_date"):
        assert record[key] == FIRST[key], key
    assert Tracker.open(tracker).find(referral_id="CS-2026-0001")["date_received"] == FIRST["date_received"]


@needs_libreoffice
def test_import_writes_1904_serials_into_a_1904_tracker(tracker, tmp_path):
    source = tmp_path / "old.csv"
    source.write_text(
        "Referral ID,Date received,Mosaic ID,Referrer,Decision date,Consultation date,Suitability decision,"
        "Primary concern\n"
        "CS-2026-0001,03/10/2026,9100001,Kit Evans,05/10/2026,09/10/2026,Suitable,School\n"
        ",05/11/2026,9100002,Ash Patel,06/11/2026,12/11/2026,Suitable,Home\n",
        encoding="utf-8",
    )
    # the referrer was typed in the tracker, not by this source: take the source's (--prefer-source)
    result = import_file(tracker, source, today=TODAY, prefer_source=True)
    assert result.added == 1 and result.updated == 1, result.summary()
    records = {r["referral_id"]: r for r in Tracker.open(tracker).records()}
    assert records["CS-2026-0001"]["date_received"] == dt.date(2026, 10, 3)
    assert records["CS-2026-0001"]["referrer"] == "Kit Evans"
    new = next(r for r in records.values() if r["mosaic_id"] == "9100002")
    assert new["date_received"] == dt.date(2026, 11, 5)
    assert new["consultation_date"] == dt.date(2026, 11, 12)
    col = letters(tracker)
    stored = cell_numbers(tracker, 3)
    assert stored[col["date_received"]] == (dt.date(2026, 11, 5) - DAY_1904).days
    assert stored[col["consultation_date"]] == (dt.date(2026, 11, 12) - DAY_1904).days
    stamp = DAY_1904 + dt.timedelta(days=int(stored[col["last_updated"]]))
    assert abs((stamp - dt.date.today()).days) <= 1
    # the updated row kept its dates: only the referrer changed
    row2 = cell_numbers(tracker, 2)
    assert row2[col["date_received"]] == (dt.date(2026, 10, 3) - DAY_1904).days
    assert result.updated_ids == ["CS-2026-0001"]


@needs_libreoffice
def test_libreoffice_shows_the_dates_ingest_wrote(tracker, tmp_path):
    form = fill_form(
        write_form(tmp_path / "form.xlsx", Config(), form_id=new_form_id()),
        {
            "date_received": dt.date(2026, 11, 20),
            "mosaic_id": "9100003",
            "referrer": "Lee Demir",
            "suitability": "Suitable",
            "decision_date": dt.date(2026, 11, 21),
            "consultation_date": dt.date(2026, 11, 25),
            "primary_concern": "Peer Group",
        },
    )
    got = ingest(tracker, [form], today=TODAY)
    assert got.count("added") == 1, [p.line() for p in got.problems]
    col = letters(tracker)
    assert cell_numbers(tracker, 3)[col["date_received"]] == (dt.date(2026, 11, 20) - DAY_1904).days
    rows = sheet_as_rows(tracker, "Referrals", tmp_path / "lo")
    header = rows[0]
    third = rows[2]
    shown = third[header.index("Date received")]
    assert shown in ("20/11/2026", "11/20/2026", "2026-11-20"), shown
    assert "2030" not in shown


@needs_libreoffice
def test_a_form_saved_in_the_1904_system_is_read_right(tmp_path):
    form = fill_form(
        write_form(tmp_path / "form.xlsx", Config(), form_id=new_form_id()),
        {
            "date_received": dt.date(2026, 10, 1),
            "mosaic_id": "9100004",
            "referrer": "Sam Reid",
            "suitability": "Suitable",
            "decision_date": dt.date(2026, 10, 2),
            "consultation_date": dt.date(2026, 10, 9),
            "primary_concern": "Home",
        },
    )
    mac = to_1904(form, tmp_path / "form 1904.xlsx")
    assert date1904(mac)
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    got = ingest(tracker, [mac], today=TODAY)
    assert got.count("added") == 1, [p.line() for p in got.problems]
    (record,) = Tracker.open(tracker).records()
    assert record["date_received"] == dt.date(2026, 10, 1)
    assert record["consultation_date"] == dt.date(2026, 10, 9)
    col = letters(tracker)
    assert cell_numbers(tracker, 2)[col["date_received"]] == (dt.date(2026, 10, 1) - DAY_1900).days


def test_an_import_source_in_the_1904_system_is_read_right(tmp_path):
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(
        [
            "Date received",
            "Mosaic ID",
            "Referrer",
            "Consultation date",
            "Suitability decision",
            "Primary concern",
        ]
    )
    ws.append([dt.date(2026, 10, 3), "9100005", "Sam Reid", dt.date(2026, 10, 9), "Suitable", "School"])
    # a date typed as a bare number (no date format): a serial of this workbook's own system
    ws.append([(dt.date(2026, 10, 4) - DAY_1904).days, "9100006", "Kit Evans", None, "Suitable", None])
    for row in (2,):
        ws.cell(row, 1).number_format = "dd/mm/yyyy"
        ws.cell(row, 4).number_format = "dd/mm/yyyy"
    source = tmp_path / "old mac.xlsx"
    wb.save(source)
    assert date1904(source)
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    result = import_file(tracker, source, today=TODAY)
    assert result.added == 2 and not result.rejected, [p.line() for p in result.problems]
    by_mosaic = {r["mosaic_id"]: r for r in Tracker.open(tracker).records()}
    assert by_mosaic["9100005"]["date_received"] == dt.date(2026, 10, 3)
    assert by_mosaic["9100005"]["consultation_date"] == dt.date(2026, 10, 9)
    assert by_mosaic["9100006"]["date_received"] == dt.date(2026, 10, 4)


def test_the_1900_system_is_unchanged(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    assert not read_layout(tracker).date1904
    with Tracker.open_for_update(tracker) as t:
        t.upsert([FIRST], today=TODAY)
        t.save()
    col = letters(tracker)
    assert cell_numbers(tracker, 2)[col["date_received"]] == (FIRST["date_received"] - DAY_1900).days


@needs_libreoffice
def test_validate_fix_and_the_report_read_a_1904_tracker_right(tracker):
    from cstracker.tracker.fix import fix_tracker
    from cstracker.tracker.validate import read_rows, validate_tracker

    (row,) = read_rows(Tracker.open(tracker))
    assert row.record["date_received"] == FIRST["date_received"]
    assert row.record["consultation_date"] == FIRST["consultation_date"]
    problems = [
        p.line() for p in validate_tracker(tracker, today=TODAY).problems if "date" in p.field.lower()
    ]
    assert problems == []
    frame = Tracker.open(tracker).dataframe()
    assert frame["date_received"].iloc[0].date() == FIRST["date_received"]
    dates = {"Date received", "Decision date", "Consultation date", "Last updated", "Follow-up due"}
    assert [c for c in fix_tracker(tracker, dry_run=True).changes if c.what in dates] == []
