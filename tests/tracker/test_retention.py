"""cstracker retention: exactly the referrals past the period go, IDs are never reused, old backups go."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from libreoffice import needs_libreoffice, sheet_as_rows

from cstracker.cli import cli
from cstracker.core.config import config_from_dict
from cstracker.core.errors import CstrackerError
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.retention import last_activity, run_retention
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx import safety
from cstracker.xlsx.patch import raw_member

TODAY = dt.date(2026, 11, 27)
TEMPLATE = Path(__file__).parent.parent.parent / "workbook_templates" / "Referral Tracker (blank).xlsx"


def rec(received, **more):
    return {"date_received": received, "mosaic_id": str(9_000_000 + received.toordinal() % 10**6), **more}


RECORDS = [
    rec(dt.date(2019, 3, 1)),  # expired
    rec(dt.date(2019, 4, 1), suitability="Suitable", consultation_date=dt.date(2019, 5, 1)),  # expired
    # received long ago but followed up recently: kept
    rec(
        dt.date(2019, 5, 1),
        suitability="Suitable",
        consultation_date=dt.date(2019, 6, 1),
        follow_up_date=dt.date(2021, 1, 4),
    ),
    rec(dt.date(2020, 11, 26)),  # one day past six years: expired
    rec(dt.date(2020, 11, 27)),  # exactly six years: kept
    rec(dt.date(2025, 1, 10)),  # kept
]


def make(tmp_path, years: int | None = 6) -> Path:
    cfg = {"retention_years": years} if years else {}
    path = init_tracker(tmp_path / "Referral Tracker.xlsx", config_from_dict(cfg))
    with Tracker.open_for_update(path) as t:
        t.upsert(RECORDS, today=TODAY)
        t.save()
    return path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def ids(path: Path) -> list[str]:
    return [r["referral_id"] for r in Tracker.open(path).records()]


def test_refuses_without_a_retention_period(tmp_path):
    path = make(tmp_path, years=None)
    before = path.read_bytes()
    with pytest.raises(CstrackerError, match="no retention period"):
        run_retention(path, today=TODAY)
    r = run("retention", path, "--today", "27/11/2026")
    assert r.exit_code == 1 and "no retention period" in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_dry_run_lists_exactly_the_expired_and_changes_nothing(tmp_path):
    path = make(tmp_path)
    before = path.read_bytes()
    result = run_retention(path, dry_run=True, today=TODAY)
    all_ids = ids(path)
    assert [e.referral_id for e in result.expired] == [all_ids[0], all_ids[1], all_ids[3]]
    assert result.cutoff == dt.date(2020, 11, 27)
    r = run("retention", path, "--dry-run", "--today", "27/11/2026")
    assert r.exit_code == 0
    listed = [line.split()[2] for line in r.output.splitlines() if line.startswith("would remove")]
    assert listed == [all_ids[0], all_ids[1], all_ids[3]]
    assert path.read_bytes() == before
    for r in Tracker.open(path).records():
        assert r["mosaic_id"] not in "".join(listed)


def test_run_removes_only_those_and_keeps_the_rest_byte_identical(tmp_path):
    path = make(tmp_path)
    t0 = Tracker.open(path)
    kept_before = [r for r in t0.records() if r["referral_id"] not in ids(path)[0:2] + ids(path)[3:4]]
    lay = t0.layout
    before = path.with_name("before.xlsx")
    shutil.copy(path, before)
    result = run_retention(path, today=TODAY)
    assert len(result.expired) == 3
    after = Tracker.open(path)
    assert after.records() == kept_before
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(before) as zb:
        assert zf.namelist() == zb.namelist()
        changed = [n for n in zf.namelist() if zf.read(n) != zb.read(n)]
    meta = after.layout.defined_names["cs_referral_ids_issued"]
    assert meta.startswith("'_cstracker'!")
    # the Referrals sheet, the settings sheet and the audit trail change; nothing else (the Table
    # keeps its range)
    audit_part = after.layout.sheet_parts["Audit"]
    assert sorted(changed) == sorted([lay.sheet_part, "xl/worksheets/sheet3.xml", audit_part])
    for name in set(zipfile.ZipFile(before).namelist()) - set(changed):
        assert raw_member(path, name) == raw_member(before, name), name
    # the removed rows hold nothing at all now: their Mosaic IDs are gone from the file
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read(lay.sheet_part).decode()
    for r in RECORDS[:2] + RECORDS[3:4]:
        assert r["mosaic_id"] not in sheet


def test_referral_ids_are_never_reused(tmp_path):
    path = make(tmp_path, years=1)
    with Tracker.open_for_update(path) as t:
        t.upsert([rec(dt.date(2026, 1, 5))], today=TODAY)
        t.save()
    newest = ids(path)[-1]
    assert newest == "CS-2026-0001"
    # every referral (the newest of each year too) is past a one-year period in 2028
    run_retention(path, today=dt.date(2028, 1, 6))
    assert ids(path) == []
    t = Tracker.open(path)
    assert "CS-2026-0001" in t.settings.referral_ids_issued
    assert t.next_referral_id(dt.date(2026, 6, 1)) == "CS-2026-0002"
    assert t.next_referral_id(dt.date(2019, 6, 1)) == "CS-2019-0004"
    with Tracker.open_for_update(path) as t:
        added = t.upsert([rec(dt.date(2026, 2, 2))], today=TODAY).added
        t.save()
    assert added == ["CS-2026-0002"]


def test_older_backups_deleted_the_runs_own_kept_then_expired(tmp_path):
    path = make(tmp_path)
    older = safety.backups_of(path)
    assert older
    result = run_retention(path, today=TODAY)
    assert set(result.backups_removed) == set(older)
    left = safety.backups_of(path)
    assert left == [result.backup] and "(retention, until 2026-12-27)" in result.backup.name
    # the run's backup holds the removed referrals (to undo a mistake) until the grace period ends
    assert len(Tracker.open(result.backup).records()) == len(RECORDS)
    # later saves do not prune it by count
    with Tracker.open_for_update(path) as t:
        t.upsert([rec(dt.date(2026, 3, 3))], today=TODAY)
        t.save()
    assert result.backup.exists()
    # after the grace period, the next command removes it
    gone = result.backup.with_name(result.backup.name.replace("2026-12-27", "2020-01-01"))
    os.rename(result.backup, gone)
    with Tracker.open_for_update(path) as t:
        pass
    assert not gone.exists()


def _as_made_by_an_older_version(src: Path, dst: Path) -> None:
    """The tracker without the retention settings' defined names (as versions before them made it)."""
    import re

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = re.sub(
                    rb'<definedName name="cs_(retention_\w+|referral_ids_issued)">[^<]*</definedName>',
                    b"",
                    data,
                )
            zout.writestr(info, data)


def test_set_years_on_a_tracker_made_before_the_setting_existed(tmp_path):
    path = tmp_path / "old.xlsx"
    _as_made_by_an_older_version(TEMPLATE, path)
    with zipfile.ZipFile(path) as zf:
        assert "cs_retention_years" not in zf.read("xl/workbook.xml").decode()
    r = run("retention", path, "--set-years", "7", "--grace-days", "14")
    assert r.exit_code == 0, r.output
    t = Tracker.open(path)
    assert t.settings.retention_years == 7 and t.settings.retention_grace_days == 14
    r = run("retention", path, "--set-years", "5")
    assert Tracker.open(path).settings.retention_years == 5
    bad = run("retention", path, "--set-years", "0")
    assert bad.exit_code == 2


def test_retention_setting_in_config_is_checked():
    from cstracker.core.errors import ConfigError

    assert config_from_dict({"retention_years": 6}).settings.retention_years == 6
    with pytest.raises(ConfigError, match="retention_years"):
        config_from_dict({"retention_years": 0})
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_dict({"referral_ids_issued": "CS-2026-0001"})


def test_last_activity_is_the_latest_date():
    r = {"date_received": dt.date(2020, 1, 1), "decision_date": dt.date(2020, 2, 1), "follow_up_date": None}
    assert last_activity(r) == dt.date(2020, 2, 1)


def test_import_refuses_rows_already_past_retention(tmp_path):
    from cstracker.legacy.importer import import_file

    path = make(tmp_path)
    source = tmp_path / "old.csv"
    source.write_text(
        "Date received,Mosaic ID\n01/02/2018,8100001\n01/02/2024,8100002\n",
        encoding="utf-8",
    )
    result = import_file(path, source, today=TODAY)
    assert result.added == 1 and len(result.rejected) == 1
    (p,) = result.rejected[0].problems
    assert p.rule == "past-retention" and p.row == 2 and "01/02/2018" in p.line()
    mosaics = [r["mosaic_id"] for r in Tracker.open(path).records()]
    assert "8100002" in mosaics and "8100001" not in mosaics


@needs_libreoffice
def test_libreoffice_reads_the_tracker_after_retention_and_new_settings(tmp_path):
    path = tmp_path / "old.xlsx"
    _as_made_by_an_older_version(TEMPLATE, path)
    assert run("retention", path, "--set-years", "6").exit_code == 0
    with Tracker.open_for_update(path) as t:
        t.upsert(RECORDS, today=TODAY)
        t.save()
    kept = [r["referral_id"] for r in Tracker.open(path).records()]
    run_retention(path, today=TODAY)
    referrals = sheet_as_rows(path, "Referrals", tmp_path / "lo1")
    ids_seen = [row[0] for row in referrals[1:] if row and row[0]]
    assert ids_seen == [kept[2], kept[4], kept[5]]
    meta = {row[0]: row[1] for row in sheet_as_rows(path, "_cstracker", tmp_path / "lo2") if len(row) > 1}
    assert meta["retention_years"] == "6" and meta["referral_ids_issued"].startswith("CS-2019-0003")


def test_the_reports_same_period_last_year_counts_what_remains(tmp_path):
    from cstracker.core.periods import parse_month
    from cstracker.report.tables import build_report
    from cstracker.synthetic import synthetic_records

    path = init_tracker(tmp_path / "T.xlsx", config_from_dict({"retention_years": 1}))
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(120, today=TODAY), today=TODAY)
        t.save()
    result = run_retention(path, today=TODAY)
    assert result.expired
    t = Tracker.open(path)
    period = parse_month("2026-10")
    report = build_report(t.dataframe(), period, t.lists, t.settings, TODAY)
    (table,) = [x for tables in report.sheets.values() for x in tables if x.key == "summary_decisions"]
    last_year = period.last_year()
    remaining = [r for r in t.records() if last_year.start <= r["date_received"] <= last_year.end]
    this_month = [r for r in t.records() if period.start <= r["date_received"] <= period.end]
    assert table.data.loc["Referrals received", last_year.heading] == len(remaining)
    assert table.data.loc["Referrals received", period.heading] == len(this_month) > 0


def test_what_imports_last_wrote_into_removed_rows_goes_with_them(tmp_path):
    from cstracker.legacy.importer import import_file
    from cstracker.tracker.written import SHEET, Written

    path = init_tracker(tmp_path / "Referral Tracker.xlsx", config_from_dict({"retention_years": 6}))
    source = tmp_path / "old.csv"
    source.write_text(
        "Mosaic ID,Date received\n9100001,10/01/2021\n9100002,10/01/2025\n",
        encoding="utf-8",
    )
    import_file(path, source, today=TODAY)
    before = Written(Tracker.open(path).own_sheet(SHEET))
    assert len(before.records) == 2
    result = run_retention(path, today=dt.date(2027, 6, 1))  # the 2021 referral is now past six years
    gone = [e.referral_id for e in result.expired]
    assert len(gone) == 1
    after = Written(Tracker.open(path).own_sheet(SHEET))
    assert len(after.records) == 1
    assert all(rid not in gone for rid, _ in after.records.values())
