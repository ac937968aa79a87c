"""One index of "the same referral" (issue 10): find, upsert, ingest, import and validate judge alike.

The tracker's rows are found by Referral ID, Form ID and Mosaic ID + date received with the one
identity rule (``core/identity.py``). These tests put rows on a tracker the way a coordinator's
spreadsheet may leave them (an ID typed with a stray space, in lower case, with a ".0") and check
that every way in names the same row, and that validate calls two rows "the same" exactly when
the ways in would.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

from cstracker.core import identity
from cstracker.legacy.importer import import_file
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.validate import validate_tracker
from tests.conftest import TODAY
from tests.forms.test_ingest import example, filled, lines, new_tracker, run, tracker_rows

ROW = {
    "referral_id": "CS-2026-0001",
    "date_received": dt.date(2026, 10, 1),
    "mosaic_id": "91000",
    "referrer": "Sam Reid",
    "suitability": "Suitable",
    "decision_date": dt.date(2026, 10, 2),
}
#: how a Referral ID typed by hand may be stored, each the same referral as "CS-2026-0001"
TYPED = ["CS-2026- 0001", " cs-2026-0001", "CS-2026-0001.0"]


def tracker_with(tmp_path: Path, *records: dict) -> Path:
    tracker = new_tracker(tmp_path)
    with Tracker.open_for_update(tracker) as t:
        t.upsert(list(records or [ROW]), today=TODAY)
        t.save()
    return tracker


def retype(tracker: Path, values: dict[int, dict[str, str]]) -> None:
    """Type text into cells (sheet row -> {key: text}) by rewriting the sheet XML, as a spreadsheet would."""
    t = Tracker.open(tracker)
    cells = {
        f"{row.cells[k]}": v for row in t.rows() if row.row in values for k, v in values[row.row].items()
    }
    assert len(cells) == sum(len(v) for v in values.values())
    with zipfile.ZipFile(tracker) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    xml = parts[t.layout.sheet_part].decode()
    for ref, value in cells.items():
        cell = re.compile(rf'<c r="{ref}"( s="\d+")?[^>]*?(/>|>.*?</c>)', re.S)
        m = cell.search(xml)
        assert m, ref
        xml = (
            xml[: m.start()]
            + f'<c r="{ref}"{m[1] or ""} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
            + xml[m.end() :]
        )
    parts[t.layout.sheet_part] = xml.encode()
    with zipfile.ZipFile(tracker, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def ids_on_file(tracker: Path) -> list[str]:
    return [r.raw["referral_id"] for r in Tracker.open(tracker).rows()]


# -- the disagreement: validate reads the row as CS-2026-0001, the ways in must find it -----------------


@pytest.mark.parametrize("typed", TYPED)
def test_find_and_upsert_find_the_row_validate_reads_as_that_id(tmp_path, typed):
    tracker = tracker_with(tmp_path)
    retype(tracker, {2: {"referral_id": typed}})
    report = validate_tracker(tracker, today=TODAY)
    assert [p.rule for p in report.errors] == []
    assert Tracker.open(tracker).find(referral_id="CS-2026-0001")["mosaic_id"] == "91000"
    with Tracker.open_for_update(tracker) as t:
        result = t.upsert([{"referral_id": "CS-2026-0001", "age": 14}], today=TODAY)
        t.save()
    assert (result.added, list(result.updated)) == ([], ["CS-2026-0001"])
    (row,) = tracker_rows(tracker)
    assert row["age"] == 14 and row["referrer"] == "Sam Reid"
    assert not [p for p in validate_tracker(tracker, today=TODAY).errors if p.rule == "duplicate-id"]


def test_upsert_refuses_another_young_person_on_the_row_validate_reads_as_that_id(tmp_path):
    tracker = tracker_with(tmp_path)
    retype(tracker, {2: {"referral_id": "cs-2026- 0001"}})
    with Tracker.open_for_update(tracker) as t:
        result = t.upsert([{"referral_id": "CS-2026-0001", "mosaic_id": "91001"}], today=TODAY)
        t.save()
    assert list(result.refused) == ["CS-2026-0001"] and result.added == []
    assert ids_on_file(tracker) == ["cs-2026- 0001"]


def test_ingest_updates_the_row_it_matched_and_adds_none(tmp_path):
    tracker = tracker_with(tmp_path)
    retype(tracker, {2: {"referral_id": "CS-2026- 0001"}})
    form = filled(tmp_path, "a.xlsx", example(mosaic="91000", referral_id="CS-2026-0001"))
    result = run("ingest", tracker, form)
    assert result.exit_code == 0, result.output
    assert lines(result.output)[0].startswith(f"updated   CS-2026-0001   {form} (")
    (row,) = tracker_rows(tracker)
    assert row["gender"] == "Female" and row["mosaic_id"] == "91000"


def test_import_updates_the_row_it_matched_and_adds_none(tmp_path):
    tracker = tracker_with(tmp_path)
    retype(tracker, {2: {"referral_id": "CS-2026- 0001"}})
    source = tmp_path / "old.csv"
    source.write_text("Referral ID,Mosaic ID,Date received,Age\nCS-2026-0001,91000,01/10/2026,14\n")
    result = import_file(tracker, source, today=TODAY)
    assert (result.added, result.updated, result.rejected) == (0, 1, [])
    (row,) = tracker_rows(tracker)
    assert row["age"] == 14


def test_the_next_free_id_counts_an_id_typed_differently(tmp_path):
    tracker = tracker_with(tmp_path, ROW, {**ROW, "referral_id": "CS-2026-0002", "mosaic_id": "91001"})
    retype(tracker, {3: {"referral_id": "cs-2026-0002 "}})
    assert Tracker.open(tracker).next_referral_id(dt.date(2026, 11, 1)) == "CS-2026-0003"


# -- validate groups rows with the same index the ways in use ---------------------------------------------


def test_validate_calls_rows_the_same_referral_exactly_when_the_index_does(tmp_path):
    rows = [
        ROW,  # row 2
        {**ROW, "referral_id": "CS-2026-0002", "mosaic_id": "92000", "form_id": "F-A"},  # row 3
        {**ROW, "referral_id": "CS-2026-0003", "mosaic_id": "93000", "form_id": "F-A"},  # row 4
        {**ROW, "referral_id": "CS-2026-0004", "mosaic_id": "94000", "form_id": "F-B"},  # row 5
        {**ROW, "referral_id": "CS-2026-0005", "mosaic_id": "0094000", "form_id": "F-B"},  # row 6
        {**ROW, "referral_id": "CS-2026-0006", "mosaic_id": "96000", "date_received": dt.date(2026, 10, 6)},
    ]
    tracker = tracker_with(tmp_path, *rows)
    # row 3 is row 2's referral typed again by hand (its ID with a stray space); row 7 the same person
    # and date received as row 5 (its Mosaic ID with a zero more, its date typed as text)
    retype(
        tracker,
        {
            3: {"referral_id": "cs-2026- 0001", "mosaic_id": "91000"},
            7: {"mosaic_id": "094000", "date_received": "01/10/2026"},
        },
    )
    report = validate_tracker(tracker, today=TODAY)
    by_rule: dict[str, set[int]] = {}
    for p in report.problems:
        by_rule.setdefault(p.rule, set()).add(p.row)
    assert by_rule.get("duplicate-id") == {2, 3}
    assert by_rule.get("possible-duplicate") == {2, 3, 5, 6, 7}
    # rows 3 and 4 share a Form ID but are different young people (one blank form copied): not flagged;
    # rows 5 and 6 share one and are the same young person: a form sent again updates one of them only
    assert by_rule.get("duplicate-form-id") == {5, 6}
    # the index every way in uses says the same of each pair
    same = Tracker.open(tracker).row_index().same
    assert same.referral("CS-2026-0001") == 2 and same.person("91000", dt.date(2026, 10, 1)) == 2
    assert same.person("94000", dt.date(2026, 10, 1)) == 5 and same.form("F-B") == 6
    groups = identity.SameReferral(keep_all=True)
    for row, rec in zip(Tracker.open(tracker).rows(), Tracker.open(tracker).records(), strict=True):
        groups.add(
            row.row,
            rec.get("referral_id"),
            rec.get("form_id"),
            rec.get("mosaic_id"),
            rec.get("date_received"),
        )
    assert [sorted(g) for g in groups.repeated_ids().values()] == [[2, 3]]
    assert sorted(sorted(g) for g in groups.repeated_people().values()) == [[2, 3], [5, 6, 7]]
    assert sorted(sorted(g) for g in groups.repeated_forms().values()) == [[3, 4], [5, 6]]


def test_the_index_by_referral_id_alone_compares_ids_as_the_whole_index_does():
    pairs = [("CS-2026- 0001", 2), ("cs-2026-0001", 3), ("CS-2026-0002.0", 4), ("", 5), (None, 6)]
    quick = identity.SameReferral.of_ids(pairs)
    whole: identity.SameReferral[int] = identity.SameReferral()
    for rid, number in pairs:
        whole.add(number, referral_id=rid)
    assert quick.by_id == whole.by_id == {"CS-2026-0001": 2, "CS-2026-0002": 4}
