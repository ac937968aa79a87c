"""One identity rule for every way in: the same Referral ID with another Mosaic ID is a different young person."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cstracker.core.identity import SameReferral, different_person, mosaic_key
from cstracker.legacy.importer import REASONS_HEADER, import_file
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.validate import validate_tracker
from tests.conftest import TODAY
from tests.forms.test_ingest import example, filled, lines, new_tracker, run, tracker_rows
from tests.tracker.test_edits import cell_ref, edit_xml, only_row

ROW = {
    "referral_id": "CS-2026-0001",
    "date_received": dt.date(2026, 10, 1),
    "mosaic_id": "0091000",
    "referrer": "Sam Reid",
    "suitability": "Suitable",
    "decision_date": dt.date(2026, 10, 2),
}


def tracker_with(tmp_path: Path, *records: dict) -> Path:
    tracker = new_tracker(tmp_path)
    with Tracker.open_for_update(tracker) as t:
        t.upsert(list(records or [ROW]), today=TODAY)
        t.save()
    return tracker


def store_mosaic_as_number(tracker: Path, number: int) -> None:
    """What a spreadsheet does to a Mosaic ID typed into a General cell: a number, leading zeros gone."""
    t = Tracker.open(tracker)
    ref = cell_ref(tracker, "mosaic_id")
    with zipfile.ZipFile(tracker) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    xml = parts[t.layout.sheet_part].decode()
    xml, n = re.subn(rf'<c r="{ref}"( s="\d+")?[^>]*?>.*?</c>', rf'<c r="{ref}"\1><v>{number}</v></c>', xml)
    assert n == 1
    parts[t.layout.sheet_part] = xml.encode()
    with zipfile.ZipFile(tracker, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


@pytest.mark.parametrize(
    ("a", "b", "different"),
    [
        ("0091000", "91000", False),
        ("91000", 91000.0, False),
        (" 0091 000 ", "91000.0", False),
        ("91000", "91001", True),
        ("91000", None, False),  # a blank is a value to fill in, never another young person
        ("", "91001", False),
    ],
)
def test_the_rule(a, b, different):
    assert different_person(a, b) is different
    assert different_person(b, a) is different


def test_one_index_of_the_same_referral():
    index: SameReferral[str] = SameReferral()
    index.add(
        "row 2",
        referral_id="cs-2026-0001 ",
        form_id="F-1",
        mosaic_id="0091000",
        date_received=dt.date(2026, 10, 1),
    )
    index.add("row 3", referral_id="CS-2026-0001", mosaic_id="91000", date_received=dt.date(2026, 10, 1))
    assert index.referral("CS-2026-0001") == "row 2"  # the first row keeps its Referral ID
    assert index.person(91000.0, dt.datetime(2026, 10, 1)) == "row 2"
    assert index.form("F-1") == "row 2" and index.form("F-2") is None
    assert mosaic_key("007") == "7" and mosaic_key(None) is None


# -- ingest ----------------------------------------------------------------------------------------------------


def test_ingest_refuses_another_young_person_and_accepts_the_same_one_written_differently(tmp_path):
    tracker = tracker_with(tmp_path)
    store_mosaic_as_number(tracker, 91000)  # the coordinator's spreadsheet dropped the zeros
    other = filled(tmp_path, "other.xlsx", example(mosaic="91001", referral_id="CS-2026-0001"))
    before = tracker.read_bytes()
    result = run("ingest", tracker, other)
    assert result.exit_code == 1
    assert lines(result.output)[0] == f"rejected  CS-2026-0001   {other}"
    assert "[different-person]" in lines(result.output)[1] and "91001" not in result.output
    assert tracker.read_bytes() == before
    same = filled(tmp_path, "same.xlsx", example(mosaic="0091000", referral_id="CS-2026-0001"))
    result = run("ingest", tracker, same)
    assert result.exit_code == 0, result.output
    assert lines(result.output)[0].startswith(f"updated   CS-2026-0001   {same} (")
    assert "Mosaic ID" not in lines(result.output)[0]
    assert only_row(tracker)["gender"] == "Female"


def test_a_blank_mosaic_id_on_the_tracker_is_filled_not_refused(tmp_path):
    tracker = tracker_with(tmp_path, {**ROW, "mosaic_id": None})
    form = filled(tmp_path, "a.xlsx", example(mosaic="91000", referral_id="CS-2026-0001"))
    result = run("ingest", tracker, form)
    assert result.exit_code == 0 and "Mosaic ID" in lines(result.output)[0]
    assert only_row(tracker)["mosaic_id"] == "91000"


def test_a_coordinators_corrected_mosaic_id_stands_when_the_form_is_sent_again(tmp_path):
    tracker = new_tracker(tmp_path)
    form = filled(tmp_path, "a.xlsx", example(mosaic="9100001"))
    run("ingest", tracker, form)
    edit_xml(tracker, {"mosaic_id": "9100002"})  # the practitioner mistyped it; the coordinator put it right
    before = tracker.read_bytes()
    result = run("ingest", tracker, form)
    assert result.exit_code == 0
    assert lines(result.output)[0] == f"unchanged CS-2026-0001   {form}"
    assert tracker.read_bytes() == before


# -- Tracker.upsert ----------------------------------------------------------------------------------------------


def test_upsert_refuses_the_record_and_writes_the_others(tmp_path):
    tracker = tracker_with(tmp_path)
    with Tracker.open_for_update(tracker) as t:
        result = t.upsert(
            [
                {"referral_id": "CS-2026-0001", "mosaic_id": "91001", "referrer": "Someone else"},
                {"date_received": dt.date(2026, 10, 5), "mosaic_id": "91002"},
                {"referral_id": "CS-2026-0001", "mosaic_id": "91000", "age": 14},
            ],
            today=TODAY,
        )
        t.save()
    assert list(result.refused) == ["CS-2026-0001"]
    assert result.refused["CS-2026-0001"].startswith(
        "differs from the Mosaic ID on the tracker for CS-2026-0001"
    )
    assert result.added == ["CS-2026-0002"] and result.updated == {"CS-2026-0001": ["mosaic_id", "age"]}
    first = next(r for r in tracker_rows(tracker) if r["referral_id"] == "CS-2026-0001")
    assert first["mosaic_id"] == "91000" and first["referrer"] == "Sam Reid" and first["age"] == 14


# -- import ------------------------------------------------------------------------------------------------------


def test_import_rejects_another_young_person_into_the_rejects_file(tmp_path):
    tracker = tracker_with(tmp_path)
    source = tmp_path / "old.csv"
    source.write_text(
        "Referral ID,Mosaic ID,Date received,Age\n"
        "CS-2026-0001,91001,01/10/2026,15\n"  # another child under the same Referral ID
        "CS-2026-0001,91000.0,01/10/2026,14\n"  # the same child, zeros dropped and a stray .0
    )
    rejects = tmp_path / "rejected.xlsx"
    result = import_file(tracker, source, rejects_path=rejects, today=TODAY)
    assert (result.added, result.updated, len(result.rejected)) == (0, 1, 1)
    (rejected,) = result.rejected
    assert rejected.row == 2 and rejected.problems[0].rule == "different-person"
    assert rejected.reasons == [
        "Mosaic ID (column B): differs from the Mosaic ID on the tracker for CS-2026-0001; "
        "check which young person this row is about (nothing was changed)"
    ]
    ws = openpyxl.load_workbook(rejects).active
    header = [c.value for c in ws[1]]
    assert ws.cell(2, 1).value == "CS-2026-0001"
    assert "check which young person" in ws.cell(2, header.index(REASONS_HEADER) + 1).value
    row = only_row(tracker)
    assert row["mosaic_id"] == "0091000" and row["age"] == 14


# -- validate ----------------------------------------------------------------------------------------------------


def test_validate_says_one_referral_id_for_two_young_people_is_an_error(tmp_path):
    tracker = tracker_with(
        tmp_path,
        ROW,
        {**ROW, "referral_id": "CS-2026-0002", "mosaic_id": "91001", "date_received": dt.date(2026, 10, 3)},
        {**ROW, "referral_id": "CS-2026-0003", "mosaic_id": "91000", "date_received": dt.date(2026, 10, 4)},
    )
    # two rows typed by hand with a copied Referral ID
    for old in ("CS-2026-0002", "CS-2026-0003"):
        _retype_id(tracker, old, "CS-2026-0001")
    report = validate_tracker(tracker, today=TODAY)
    people = [p for p in report.errors if p.rule == "different-person"]
    assert [(p.row, p.field) for p in people] == [(3, "Mosaic ID")]
    assert people[0].message.startswith("differs from the Mosaic ID on row 2, which has the same Referral ID")
    assert {p.row for p in report.errors if p.rule == "duplicate-id"} == {2, 3, 4}


def _retype_id(tracker: Path, old: str, new: str) -> None:
    t = Tracker.open(tracker)
    ref = cell_ref(tracker, "referral_id", old)
    with zipfile.ZipFile(tracker) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    xml = parts[t.layout.sheet_part].decode()
    xml, n = re.subn(rf'(<c r="{ref}"[^>]*>.*?<t[^>]*>){old}(</t>)', rf"\g<1>{new}\2", xml, flags=re.S)
    assert n == 1
    parts[t.layout.sheet_part] = xml.encode()
    with zipfile.ZipFile(tracker, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_one_count_of_referral_ids_issued():
    from cstracker.core.identity import ReferralIds

    ids = ReferralIds.from_text("CS", "cs-2019-0042, CS-2026-0007; junk")
    ids.note("CS-2026-0009")
    ids.note("XX-2026-0100")  # another prefix counts for that prefix only
    ids.note(None)
    assert ids.next(dt.date(2026, 3, 1)) == "CS-2026-0010"
    plan = ids.copy()
    assert [plan.take(dt.date(2026, 3, 1)), plan.take(dt.date(2019, 1, 1))] == [
        "CS-2026-0010",
        "CS-2019-0043",
    ]
    assert ids.next(dt.date(2026, 3, 1)) == "CS-2026-0010"  # the copy used nothing up
    assert ids.text() == "CS-2019-0042, CS-2026-0009, XX-2026-0100"


def test_import_and_the_tracker_count_ids_alike(tmp_path):
    """A file's own ID further down is never handed out again to an earlier row without one."""
    from cstracker.legacy.importer import assign_referral_ids

    t = Tracker.open(tracker_with(tmp_path))
    records = [
        {"date_received": dt.date(2026, 10, 3)},
        {"referral_id": "CS-2026-0002", "date_received": dt.date(2026, 10, 4)},
        {"date_received": dt.date(2025, 1, 3)},
    ]
    assign_referral_ids(records, t)
    assert [r["referral_id"] for r in records] == ["CS-2026-0003", "CS-2026-0002", "CS-2025-0001"]
    assert t.next_referral_id(dt.date(2026, 1, 1)) == "CS-2026-0002"  # planning issued nothing


def test_the_trackers_row_index_finds_what_every_way_in_finds(tmp_path):
    """``Tracker.row_index`` (one scan, key columns only) finds each row by Referral ID, Form ID and
    Mosaic ID + date received as the typed records say, stored types aside; a batch fetches matches."""
    second = {**ROW, "referral_id": "CS-2026-0002", "mosaic_id": "0092000", "form_id": "F-2"}
    no_id = {"date_received": dt.date(2026, 10, 9), "mosaic_id": "93000", "referrer": "Kit Lee"}
    tracker = tracker_with(tmp_path, ROW, second)
    with Tracker.open_for_update(tracker) as t:
        t.upsert([no_id], today=TODAY)
        t.save()
    store_mosaic_as_number(tracker, 91000)  # first row: zeros dropped by a spreadsheet
    t = Tracker.open(tracker)
    index = t.row_index()
    assert index.same.referral("cs-2026-0001") == 2
    assert index.same.form("F-2") == 3
    assert index.same.person("0091000", dt.date(2026, 10, 1)) == 2
    assert index.same.person(92000, dt.date(2026, 10, 1)) == 3
    assert index.same.referral("CS-2026-0003") == 4  # the row upsert gave an ID to
    assert index.same.person("93000", dt.date(2026, 10, 9)) == 4
    index.prefetch([2, 4])
    by_row = {r.row: rec for r, rec in zip(t.rows(), t.records(), strict=True)}
    assert index.record(2) == by_row[2] and index.record(4)["referrer"] == "Kit Lee"
    assert index.record(3) == by_row[3]
