"""Importing old spreadsheets into the tracker: golden files, round trips, dates, dedupe, dry run, rejects."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import tempfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cstracker.cli import cli
from cstracker.core.convert import EXCEL_EPOCH
from cstracker.core.errors import SourceError, UsageError
from cstracker.core.schema import CodeLists, Kind
from cstracker.legacy.importer import (
    REASONS_HEADER,
    REJECTED_FROM_HEADER,
    import_file,
    plan_import,
    read_and_map,
)
from cstracker.synthetic import synthetic_records
from cstracker.tracker.tracker import Tracker
from tests import legacy_fixtures as legacy
from tests.conftest import TODAY

GOLDEN = Path(__file__).parent.parent / "golden" / "import"
LISTS = CodeLists()
FIELDS = LISTS.fields()
BY_LABEL = {f.label: f for f in FIELDS}
#: tracker columns an import does not set from the source (worked out by the tracker or stamped)
NOT_COMPARED = ("status", "follow_up_due", "last_updated", "form_id")


def expected(name: str) -> dict:
    return json.loads((GOLDEN / f"expected_{name}.json").read_text(encoding="utf-8"))


def as_json(record: dict) -> dict:
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in record.items()
        if v is not None and v is not False and v != "" and k not in NOT_COMPARED
    }


def tracker_rows(path: Path) -> list[dict]:
    """The Referrals sheet read back with openpyxl, cell by cell, as JSON-like records."""
    ws = openpyxl.load_workbook(path)["Referrals"]
    header = [c.value for c in ws[1]]
    out = []
    for row in ws.iter_rows(min_row=2):
        record = {}
        for label, cell in zip(header, row, strict=False):
            f = BY_LABEL.get(label)
            if f is None or f.key in NOT_COMPARED or cell.value in (None, ""):
                continue
            assert cell.data_type != "f", f"{cell.coordinate} holds a formula"
            value = cell.value
            if f.kind is Kind.DATE:
                assert isinstance(value, dt.datetime), f"{cell.coordinate} is not a date cell"
                value = value.date().isoformat()
            elif f.kind is Kind.FLAG:
                assert value == "Yes"
                value = True
            elif f.kind in (Kind.MOSAIC, Kind.TEXT, Kind.LONGTEXT, Kind.ID):
                assert cell.data_type == "s", f"{cell.coordinate} is not text"
            record[f.key] = value
        if record:
            out.append(record)
    return out


def counts(result) -> dict:
    c = {
        "read": result.read,
        "added": result.added,
        "updated": result.updated,
        "duplicate": result.duplicate,
        "rejected": len(result.rejected),
    }
    assert c["read"] == c["added"] + c["updated"] + c["duplicate"] + c["rejected"]
    return c


def reject_keys(result) -> list[dict]:
    """The rejects as the golden files list them: row, then (column heading, rule) per problem."""
    out = []
    for r in result.rejected:
        problems = sorted(
            ({"column": re.sub(r" \(column [A-Z]+\)$", "", p.field), "rule": p.rule} for p in r.problems),
            key=str,
        )
        out.append({"row": r.row, "problems": problems})
    return out


def sorted_rejects(rejects: list[dict]) -> list[dict]:
    return [
        {
            "row": r["row"],
            "problems": sorted(({"column": p["column"], "rule": p["rule"]} for p in r["problems"]), key=str),
        }
        for r in rejects
    ]


# ---------------------------------------------------------------------------
# golden files
# ---------------------------------------------------------------------------


def test_golden_files_are_current(tmp_path):
    legacy.main(tmp_path)
    for path in sorted(GOLDEN.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{path.name} is stale"


def test_golden_csv(blank_tracker, tmp_path):
    exp = expected("legacy_csv")
    rejects = tmp_path / "rejected.xlsx"
    result = import_file(blank_tracker, GOLDEN / "legacy.csv", rejects_path=rejects, today=TODAY)
    assert result.table.encoding == "Windows-1252" and result.table.delimiter == ";"
    assert counts(result) == exp["counts"]
    assert tracker_rows(blank_tracker) == exp["rows"]
    assert reject_keys(result) == sorted_rejects(exp["rejects"])
    # nothing from the source became a formula: the injection look-alikes are stored as typed
    referrers = [r.get("referrer", "") for r in tracker_rows(blank_tracker)]
    assert '=HYPERLINK("http://example.invalid","x")' in referrers
    _check_rejects_file(rejects, result.table, exp["rejects"])


def test_golden_xlsx_with_mapping_file(blank_tracker, tmp_path):
    exp = expected("legacy_xlsx")
    rejects = tmp_path / "rejected.xlsx"
    result = import_file(
        blank_tracker,
        GOLDEN / "legacy.xlsx",
        mapping_path=GOLDEN / "legacy_mapping.toml",
        rejects_path=rejects,
        today=TODAY,
    )
    assert result.table.sheet == "Consultations" and result.table.header_row == 4
    assert counts(result) == exp["counts"]
    rows = tracker_rows(blank_tracker)
    ids = [r.pop("referral_id") for r in rows]
    assert rows == exp["rows"]
    # rows without a Referral ID got the next free one for their year, in file order
    for rid, row in zip(ids, rows, strict=True):
        assert re.fullmatch(rf"CS-{row['date_received'][:4]}-\d{{4}}", rid)
    assert len(set(ids)) == len(ids)
    assert reject_keys(result) == sorted_rejects(exp["rejects"])
    _check_rejects_file(rejects, result.table, exp["rejects"])


def _check_rejects_file(path: Path, table, exp_rejects: list[dict]) -> None:
    """Every rejected row with all its original values, one reason per bad value, and where it came from."""
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert header == [*table.headers, REASONS_HEADER, REJECTED_FROM_HEADER]
    source = {r.row: r.values for r in table.rows}
    body = list(ws.iter_rows(min_row=2))
    assert len(body) == len(exp_rejects)
    for cells, exp in zip(body, exp_rejects, strict=True):
        assert all(c.data_type != "f" for c in cells)
        width = len(table.headers)
        got = [c.value for c in cells[:width]]
        want = [None if v == "" else v for v in source[exp["row"]]]
        got = [
            g.date() if isinstance(g, dt.datetime) and isinstance(w, dt.date) else g
            for g, w in zip(got, want, strict=True)
        ]
        assert got == want
        reasons = cells[width].value.split("\n")
        assert len(reasons) == len(exp["problems"])
        for p in exp["problems"]:
            assert any(reason.startswith(p["column"]) for reason in reasons)
        assert cells[width + 1].value.endswith(f"row {exp['row']}")


# ---------------------------------------------------------------------------
# round trip
# ---------------------------------------------------------------------------


def _legacy_csv(folder: Path, seed: int, n: int, encoding: str, delimiter: str, with_ids: bool):
    records = legacy._unique_pairs(
        synthetic_records(n, seed=seed, lists=LISTS, today=TODAY, with_ids=with_ids)
    )
    rng = random.Random(seed)
    style = legacy.random_style(rng, LISTS, encoding=encoding, delimiter=delimiter)
    header, rows = legacy.legacy_rows(records, style, LISTS, rng)
    path = folder / f"old-{seed}.csv"
    numbers = legacy.write_legacy_csv(path, header, rows, style)
    return records, path, numbers


@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 12),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    delimiter=st.sampled_from([",", ";"]),
    with_ids=st.booleans(),
)
def test_records_survive_a_legacy_csv(seed, n, encoding, delimiter, with_ids):
    with tempfile.TemporaryDirectory() as tmp:
        records, path, numbers = _legacy_csv(Path(tmp), seed, n, encoding, delimiter, with_ids)
        table, mapping = read_and_map(path, FIELDS, LISTS)
        result = plan_import(table, mapping, today=TODAY)
    assert [p.line() for p in result.problems] == []
    assert counts(result)["added"] == len(records)
    want = [legacy.expected_record(r, LISTS, with_ids) for r in records]
    got = [as_json({k: v for k, v in r.items() if k != "source"}) for r in result.records]
    assert got == want
    assert [r["source"] for r in result.records] == [
        f"import: {path.name} row {numbers[i]}" for i in range(len(records))
    ]


@settings(max_examples=4)
@given(
    seed=st.integers(0, 10**6),
    encoding=st.sampled_from(["utf-8", "cp1252"]),
    delimiter=st.sampled_from([",", ";"]),
)
def test_records_survive_an_import_into_the_tracker(seed, encoding, delimiter):
    from cstracker.core.config import load_config
    from cstracker.tracker.create import create_tracker

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records, path, _ = _legacy_csv(folder, seed, 8, encoding, delimiter, True)
        tracker = create_tracker(folder / "T.xlsx", load_config(None))
        result = import_file(tracker, path, today=TODAY)
        assert counts(result)["added"] == len(records)
        got = [{k: v for k, v in r.items() if k != "source"} for r in tracker_rows(tracker)]
        typed = Tracker.open(tracker).records()
    assert got == [legacy.expected_record(r, LISTS, True) for r in records]
    assert [r["mosaic_id"] for r in typed] == [r["mosaic_id"] for r in records]


# ---------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------


def _plan(tmp_path, text: str, name: str = "old.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    table, mapping = read_and_map(path, FIELDS, LISTS)
    return plan_import(table, mapping, today=TODAY)


def test_dates_day_first_iso_serial_and_text(tmp_path):
    serial = (dt.date(2025, 10, 3) - EXCEL_EPOCH).days
    cells = [
        "13/01/2025",
        "03/10/2025",
        "3/10/25",
        "2025-10-03",
        str(serial),
        f"{serial}.0",
        "3 Oct 2025",
        "3rd October 2025",
        "03-Oct-25",
        "02/03/2025",
    ]
    rows = "".join(f"90000{i:02d},{c}\n" for i, c in enumerate(cells))
    result = _plan(tmp_path, "Mosaic ID,Date of referral\n" + rows)
    assert [p.line() for p in result.problems] == []
    got = [r["date_received"] for r in result.records]
    assert got == [dt.date(2025, 1, 13), *[dt.date(2025, 10, 3)] * 8, dt.date(2025, 3, 2)]


def test_impossible_and_month_first_dates_are_rejected_never_swapped(tmp_path):
    # the first row could only be month-first; that never turns the file month-first
    text = "Mosaic ID,Date of referral\n9000001,10/31/2025\n9000002,03/10/2025\n9000003,31/02/2025\n9000004,04/11/2025\n"
    result = _plan(tmp_path, text)
    assert [r["date_received"] for r in result.records] == [dt.date(2025, 10, 3), dt.date(2025, 11, 4)]
    assert [(r.row, [p.rule for p in r.problems]) for r in result.rejected] == [
        (2, ["bad-date"]),
        (4, ["bad-date"]),
    ]
    reason = result.rejected[1].reasons[0]
    assert reason.startswith(
        "Date of referral (column B): is not a real date (day 31 of month 2); use a date such as"
    )
    assert reason.endswith("(value '31/02/2025')")


def test_xlsx_date_cells_serials_and_text(tmp_path):
    import xlsxwriter

    path = tmp_path / "old.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    fmt = wb.add_format({"num_format": "mm/dd/yyyy"})  # a US display format changes nothing stored
    ws.write_row(0, 0, ["Mosaic ID", "Date received"])
    ws.write_row(1, 0, ["9000001"])
    ws.write_datetime(1, 1, dt.datetime(2025, 10, 3), fmt)
    ws.write_row(2, 0, ["9000002"])
    ws.write_number(2, 1, (dt.date(2025, 10, 3) - EXCEL_EPOCH).days)
    ws.write_row(3, 0, ["9000003", "03/10/2025"])
    ws.write_number(4, 0, 9000004)
    ws.write_string(4, 1, "2025-10-03")
    wb.close()
    table, mapping = read_and_map(path, FIELDS, LISTS)
    result = plan_import(table, mapping, today=TODAY)
    assert [r["date_received"] for r in result.records] == [dt.date(2025, 10, 3)] * 4
    assert [r["mosaic_id"] for r in result.records] == ["9000001", "9000002", "9000003", "9000004"]


# ---------------------------------------------------------------------------
# deciding rows
# ---------------------------------------------------------------------------


def test_theme_list_cells_and_unknown_theme_names(tmp_path):
    text = (
        "Mosaic ID;Date received;Themes;County Lines\n"
        "9000001;03/10/2025;County Lines; CSE, gang | DV\n"
        "9000002;04/10/2025;;x\n"
        "9000003;05/10/2025;Gangs, Knife crime, Cuckooing;\n"
    )
    result = _plan(tmp_path, text.replace("; CSE", "/ CSE").replace("County Lines/ CSE", "County Lines, CSE"))
    first, second = result.records
    assert {k for k, v in first.items() if k.startswith("theme:") and v} == {
        "theme:County Lines",
        "theme:CSE",
        "theme:Gangs",
        "theme:DV In home",
    }
    assert second["theme:County Lines"] is True
    (rejected,) = result.rejected
    assert rejected.row == 4
    assert rejected.reasons[0].startswith(
        "Themes (column C): 'Knife crime', 'Cuckooing' are not on the Themes list; allowed (separated by ; or ,): CFS History"
    )


def test_duplicates_within_the_file(tmp_path):
    text = (
        "Referral ID,Mosaic ID,Date received,Age,Referrer\n"
        "CS-2025-0001,9000001,03/10/2025,14,\n"
        "cs-2025-0001 ,9000001,3 Oct 2025,14.0,Sam Lee\n"  # the same referral, adds a referrer
        ",9000002,04/10/2025,15,\n"
        ",9000002,04/10/2025,15,\n"  # the same Mosaic ID and date: one referral
        ",9000002,04/10/2025,16,\n"  # the same referral, another age: a person must decide
        ",9000002,05/10/2025,15,\n"  # another day: another referral
    )
    result = _plan(tmp_path, text)
    assert counts(result) == {"read": 6, "added": 3, "updated": 0, "duplicate": 2, "rejected": 1}
    assert result.records[0]["referrer"] == "Sam Lee"
    (rejected,) = result.rejected
    assert rejected.row == 6 and rejected.problems[0].rule == "conflicting-duplicate"
    assert (
        "same referral as row 4 (same Mosaic ID and date received) but these differ: Age (column D)"
        in (rejected.reasons[0])
    )


def test_reimport_adds_nothing_and_leaves_the_file_alone(blank_tracker):
    first = import_file(blank_tracker, GOLDEN / "legacy.csv", today=TODAY)
    before = blank_tracker.read_bytes()
    again = import_file(blank_tracker, GOLDEN / "legacy.csv", today=TODAY)
    assert counts(again) == {
        "read": first.read,
        "added": 0,
        "updated": 0,
        "duplicate": first.read - len(first.rejected),
        "rejected": len(first.rejected),
    }
    assert blank_tracker.read_bytes() == before


def test_changed_row_updates_and_blank_never_clears(blank_tracker, tmp_path):
    path = tmp_path / "old.csv"
    path.write_text(
        "Referral ID,Mosaic ID,Date received,Age,Referrer\nCS-2025-0001,9000001,03/10/2025,14,Sam Lee\n"
    )
    import_file(blank_tracker, path, today=TODAY)
    path.write_text("Referral ID,Mosaic ID,Date received,Age,Referrer\nCS-2025-0001,9000001,03/10/2025,15,\n")
    result = import_file(blank_tracker, path, today=TODAY)
    assert counts(result) == {"read": 1, "added": 0, "updated": 1, "duplicate": 0, "rejected": 0}
    (row,) = tracker_rows(blank_tracker)
    assert row["age"] == 15 and row["referrer"] == "Sam Lee"


def test_dry_run_writes_nothing(blank_tracker, tmp_path):
    before = blank_tracker.read_bytes()
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    rejects = tmp_path / "rejected.xlsx"
    result = import_file(
        blank_tracker, GOLDEN / "legacy.csv", dry_run=True, rejects_path=rejects, today=TODAY
    )
    assert counts(result) == expected("legacy_csv")["counts"]
    assert blank_tracker.read_bytes() == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # no backup, no lock, no rejects file


def test_fixed_rejects_import_cleanly(blank_tracker, tmp_path):
    rejects = tmp_path / "rejected.xlsx"
    import_file(blank_tracker, GOLDEN / "legacy.csv", rejects_path=rejects, today=TODAY)
    wb = openpyxl.load_workbook(rejects)
    ws = wb.active
    header = [c.value for c in ws[1]]
    exp = expected("legacy_csv")["rejects"]
    # the person puts right each value the reasons name, and deletes the second of two clashing rows
    for i, reject in enumerate(exp, start=2):
        for p in reject["problems"]:
            if "fix" in p:
                ws.cell(i, header.index(p["column"]) + 1).value = p["fix"]
    clash = next(i for i, r in enumerate(exp, start=2) if r["problems"][0]["rule"] == "conflicting-duplicate")
    ws.delete_rows(clash)
    wb.save(rejects)
    again = import_file(blank_tracker, rejects, today=TODAY)
    assert [p.line() for p in again.problems] == []
    fixed = len(exp) - 1
    assert counts(again) == {"read": fixed, "added": fixed, "updated": 0, "duplicate": 0, "rejected": 0}
    sources = [r["source"] for r in tracker_rows(blank_tracker)[-fixed:]]
    # the original file and row, as the rejects file remembers them (not "rejected.xlsx row 2")
    kept = [r for r in exp if r["problems"][0]["rule"] != "conflicting-duplicate"]
    assert sources == [f"import: legacy.csv row {r['row']}" for r in kept]


def test_missing_required_column_is_one_clear_error(blank_tracker, tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("Date of referral,Name,Age\n03/10/2025,Someone,14\n")
    with pytest.raises(SourceError) as e:
        import_file(blank_tracker, path, today=TODAY)
    message = str(e.value)
    assert message.startswith("old.csv, header row 1: no column for Mosaic ID, which every row needs")
    assert "Columns found: A 'Date of referral', B 'Name', C 'Age'" in message


def test_rejects_path_must_not_be_the_tracker(blank_tracker):
    with pytest.raises(UsageError, match="is the tracker"):
        import_file(blank_tracker, GOLDEN / "legacy.csv", rejects_path=blank_tracker)


# ---------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------


def test_cli_dry_run_then_import(blank_tracker, tmp_path):
    runner = CliRunner()
    dry = runner.invoke(cli, ["import", str(blank_tracker), str(GOLDEN / "legacy.csv"), "--dry-run"])
    assert dry.exit_code == 1, dry.output  # rows would be rejected
    assert "legacy.csv (Windows-1252, semicolon-separated): header on row 3, 42 data rows" in dry.output
    assert "  column B 'Date received' -> Date received (exact label)" in dry.output
    assert "Top reasons for rejecting:" in dry.output
    assert dry.output.rstrip().endswith(
        "legacy.csv: 42 rows read = 34 would be added + 0 would be updated + 1 already in the tracker or "
        "repeated + 7 rejected (dry run: nothing written)"
    )
    rejects = tmp_path / "rejected.xlsx"
    real = runner.invoke(
        cli, ["import", str(blank_tracker), str(GOLDEN / "legacy.csv"), "--rejects", str(rejects)]
    )
    assert real.exit_code == 1
    assert f"Rejected rows, with reasons, written to {rejects}." in real.output
    assert "34 added + 0 updated + 1 already in the tracker or repeated + 7 rejected" in real.output
    assert rejects.exists()


def test_cli_bad_source_is_one_line_no_traceback(blank_tracker, tmp_path):
    bad = tmp_path / "old.xlsx"
    bad.write_bytes(b"not a workbook")
    result = CliRunner().invoke(cli, ["import", str(blank_tracker), str(bad)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {bad}: not a readable Excel workbook (damaged, password-protected, or another kind of file); "
        "open it in Excel and save it again as .xlsx"
    )
    assert "Traceback" not in result.output


def test_cli_help_has_an_example():
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert result.exit_code == 0 and "Example: cstracker import" in result.output


def test_a_bad_referral_id_in_an_import_is_explained_with_the_trackers_prefix(tmp_path):
    from cstracker.core.config import config_from_dict
    from cstracker.legacy.importer import import_file
    from cstracker.tracker.create import create_tracker

    tracker = create_tracker(tmp_path / "t.xlsx", config_from_dict({"referral_id_prefix": "WCS"}))
    source = tmp_path / "old.csv"
    source.write_text(
        "Referral ID,Date received,Referrer,Mosaic ID\nnot an id!,01/10/2026,Sam Reid,9100001\n"
    )
    result = import_file(tracker, source, today=TODAY)
    [problem] = [p for p in result.problems if p.rule == "bad-referral-id"]
    assert "e.g. WCS-2026-0001" in problem.message
    assert "CS-2026" not in problem.message.replace("WCS-2026", "") and "pattern" not in problem.message
