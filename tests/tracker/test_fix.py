"""One reading of a cell, and ``cstracker validate --fix``.

A tracker typed by hand with every kind of readable-but-not-canonical value,
GENERATED from the schema's synonyms and tick spellings (not a hand list), plus
rows below the Table: validate lists each one; --fix makes them canonical; then
the report, LibreOffice's recalculation of the Trends sheet and an independent
pandas count agree exactly; a second --fix changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from libreoffice import needs_libreoffice, needs_uno, sheet_as_rows

from cstracker.cli import cli
from cstracker.core.config import load_config
from cstracker.core.periods import parse_period
from cstracker.core.reading import State, read_cell
from cstracker.core.schema import CODE_SYNONYMS, TICK_VALUES, UNTICK_VALUES, CodeLists, Kind, normalise_token
from cstracker.report.data import NOT_RECORDED
from cstracker.report.tables import build_report
from cstracker.synthetic import synthetic_records
from cstracker.tracker.layout import _sheet_names
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.trends_sheet import MONTHS, SHEET_TRENDS
from cstracker.tracker.validate import validate_tracker

LISTS = CodeLists()
FIELDS = {f.key: f for f in LISTS.fields()}
NEW_TEAMS = ("Fire and Rescue", "Fire and  Rescue ", "Parish council")


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def code_spellings() -> list[tuple[str, str, object]]:
    """(field key, typed value, what it means) for every code field: each synonym, case and spacing variant."""
    out = []
    for f in FIELDS.values():
        if f.kind is not Kind.CODE:
            continue
        codes = LISTS.codes(f.code_list)
        for spelling, code in CODE_SYNONYMS.get(f.code_list, {}).items():
            if (
                code in codes
                and spelling != code
                and LISTS.lookup(f.code_list)[normalise_token(spelling)] == code
            ):
                out.append((f.key, spelling, code))
        for code in codes:
            out.append((f.key, code.upper() if code.upper() != code else code.lower(), code))
            out.append((f.key, f" {code}  ", code))
    return out


def tick_spellings() -> list[tuple[object, bool]]:
    """Every tick and untick spelling the schema knows, as text, plus TRUE/FALSE, 1/0 and =TRUE()."""
    ticks = [(t, True) for t in sorted(TICK_VALUES)] + [
        (t.upper(), True) for t in sorted(TICK_VALUES) if t.isalpha()
    ]
    unticks = [(u, False) for u in sorted(UNTICK_VALUES) if u]
    return [*ticks, *unticks, (True, True), (False, False), (1, True), (0, False), ("=TRUE()", True)]


def make_tracker(folder: Path, today: dt.date, n: int = 160) -> Path:
    path = folder / "Referral Tracker.xlsx"
    init_tracker(path, load_config(None))
    records = synthetic_records(n, seed=5, start=today - dt.timedelta(days=330), end=today, today=today)
    with Tracker.open_for_update(path) as t:
        t.upsert(records, source="synthetic", today=today)
        t.save()
    return path


def type_by_hand(path: Path, today: dt.date) -> dict[str, tuple[str, object, State]]:
    """Type every generated spelling into the tracker (as a coordinator pasting would) -> cell: (key, meaning, state)."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    col = {c.value: c.column_letter for c in ws[1]}
    last = ws.max_row
    rows = list(range(2, last + 1))
    expected: dict[str, tuple[str, object, State]] = {}
    used: set[str] = set()

    def put(row: int, key: str, value: object, meaning: object, state: State = State.READABLE) -> None:
        ref = f"{col[FIELDS[key].label]}{row}"
        assert ref not in used
        used.add(ref)
        ws[ref] = value
        expected[ref] = (key, meaning, state)

    # codes: spread over rows, one column per row at a time
    cursor = {k: 0 for k in FIELDS}
    for key, typed, code in code_spellings():
        put(rows[cursor[key] % len(rows)], key, typed, code)
        cursor[key] += 1
    themes = [f"theme:{t}" for t in LISTS.themes]
    for i, (typed, meaning) in enumerate(tick_spellings()):
        row = rows[(i * 7) % len(rows)]
        put(row, themes[i % len(themes)], typed, meaning)
    # dates typed as text, numbers stored as text, Mosaic IDs stored as numbers
    for i, row in enumerate(rows[::9]):
        day = ws[f"{col['Date received']}{row}"].value.date()
        put(row, "date_received", day.strftime("%d/%m/%Y") if i % 2 else day.isoformat(), day)
        mosaic = ws[f"{col['Mosaic ID']}{row}"].value
        put(row, "mosaic_id", int(mosaic), mosaic)
        age = ws[f"{col['Age']}{row}"].value
        if age is not None:
            put(row, "age", str(age), int(age))
    # new referrer teams (an open list): readable, new
    for i, team in enumerate(NEW_TEAMS):
        put(rows[-1 - i], "referrer_team", team, "Fire and Rescue" if i < 2 else team, State.NEW)
    # rows below the Table: two straight under it, one after a blank row
    below = []
    for offset, rec in zip(
        (1, 2, 4),
        synthetic_records(3, seed=99, start=today - dt.timedelta(days=60), end=today, today=today),
        strict=True,
    ):
        row = last + offset
        below.append(row)
        for key in ("date_received", "mosaic_id", "suitability", "primary_concern", "consultation_date"):
            if rec.get(key) is not None:
                ws[f"{col[FIELDS[key].label]}{row}"] = rec[key]
        ws[f"{col['Referral ID']}{row}"] = f"CS-1999-{offset:04d}"
        ws[f"{col['Gender']}{row}"] = "f"
        expected[f"{col['Gender']}{row}"] = ("gender", "Female", State.READABLE)
        ws[f"{col['Theme: Gangs']}{row}"] = "x"
        expected[f"{col['Theme: Gangs']}{row}"] = ("theme:Gangs", True, State.READABLE)
    wb.save(path)
    expected["_below"] = below  # type: ignore[assignment]
    expected["_formulas"] = [r for r in used if ws[r].value == "=TRUE()"]  # type: ignore[assignment]
    return expected


@pytest.fixture
def typed(tmp_path):
    today = dt.date.today()  # the Trends sheet's months come from TODAY()
    path = make_tracker(tmp_path, today)
    expected = type_by_hand(path, today)
    return path, expected, today


def test_every_generated_spelling_is_readable_and_not_canonical():
    for key, typed, code in code_spellings():
        got = read_cell(FIELDS[key], typed, LISTS)
        assert (got.value, got.state) == (code, State.READABLE), (key, typed)
        assert read_cell(FIELDS[key], code, LISTS).state is State.CANONICAL
    flag = FIELDS["theme:CSE"]
    for typed, meaning in tick_spellings():
        got = read_cell(flag, typed, LISTS)
        assert (got.value, got.state) == (meaning, State.READABLE), typed
    assert read_cell(flag, "Yes", LISTS).state is State.CANONICAL
    assert read_cell(flag, "perhaps", LISTS).state is State.UNREADABLE
    assert read_cell(FIELDS["gender"], "Martian", LISTS).state is State.UNREADABLE  # a closed list
    new = read_cell(FIELDS["referrer_team"], "Parish council", LISTS)
    assert (new.value, new.state) == ("Parish council", State.NEW)


def test_validate_lists_each_one_then_fix_makes_them_canonical(typed):
    path, expected, today = typed
    below = expected.pop("_below")
    expected.pop("_formulas")
    report = validate_tracker(path, today=today)
    warned = {p.cell: p for p in report.warnings if p.rule in ("not-canonical", "new-list-value")}
    assert set(warned) == set(expected)
    for ref, (_key, _meaning, state) in expected.items():
        assert warned[ref].rule == ("new-list-value" if state is State.NEW else "not-canonical"), ref
    gender = next(p for p in warned.values() if p.field == "Gender" and p.value == "f")
    assert "read as 'Female'" in gender.message and "--fix" in gender.message
    outside = [p for p in report.warnings if p.rule == "outside-table"]
    assert sorted(p.row for p in outside) == below
    assert all(", ".join(map(str, below)) in p.message for p in outside)
    mosaic = [p for p in warned.values() if p.field == "Mosaic ID"]
    assert mosaic and all(p.value == "" for p in mosaic)  # a Mosaic ID is never echoed

    as_typed = {r for r, (k, m, s) in expected.items() if s is State.NEW and ws_value(path, r) == m}
    assert len(as_typed) == 2
    lines_before = md5(path)
    dry = CliRunner().invoke(cli, ["validate", str(path), "--fix", "--dry-run"])
    assert md5(path) == lines_before
    # two new teams are typed as they will be on the list: only the list grows for them
    assert dry.output.count("would change Referrals!") == len(expected) - 2

    fixed = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    changed_cells = re.findall(r"^Referrals!([A-Z]+\d+): ", fixed.output, re.M)
    assert sorted(changed_cells) == sorted(set(expected) - as_typed)
    assert len(re.findall(r"^Referrals row \d+: brought into the Referrals table", fixed.output, re.M)) == 3
    assert sorted(
        re.findall(r"^Lists!\w+: Referrer team/service list: added '(.*)'$", fixed.output, re.M)
    ) == [
        "Fire and Rescue",
        "Parish council",
    ]

    after = validate_tracker(path, today=today)
    assert not [p for p in after.problems if p.rule in ("not-canonical", "new-list-value", "outside-table")]
    # each cell now holds the canonical form of what it meant
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    for ref, (key, meaning, _) in expected.items():
        value = ws[ref].value
        f = FIELDS[key]
        if f.kind is Kind.FLAG:
            assert value == ("Yes" if meaning else None), ref
        elif f.kind is Kind.DATE:
            assert isinstance(value, dt.datetime) and value.date() == meaning, ref
        elif f.kind is Kind.INT:
            assert value == meaning and not isinstance(value, str), ref
        else:
            assert value == meaning, ref
    table = Tracker.open(path).layout.table_ref
    assert table[3] == max(below)
    # the rows brought in carry their Status and Follow-up due formulas
    col = {c.value: c.column_letter for c in ws[1]}
    for row in below:
        assert str(ws[f"{col['Status']}{row}"].value).startswith("=IF(")
        assert str(ws[f"{col['Follow-up due']}{row}"].value).startswith("=IF(")
    assert "Parish council" in Tracker.open(path).lists.codes("referrer_team")

    before = md5(path)
    again = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    assert "changed 0 cells, 0 rows brought into the table, 0 values added" in again.output
    assert md5(path) == before


def ws_value(path: Path, ref: str):
    return openpyxl.load_workbook(path)["Referrals"][ref].value


def _ints(row, n):
    return [int(float(v)) for v in row[1 : 1 + n]]


def block_rows(rows, title):
    start = next(i for i, r in enumerate(rows) if r and r[0] == title)
    return rows[start + 2 : start + 2 + MONTHS], rows[start + 2 + MONTHS]


@needs_libreoffice
def test_after_fix_the_report_trends_and_pandas_agree(typed, tmp_path):
    path, expected, today = typed
    result = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    assert "added to the Lists sheet" in result.output

    tracker = Tracker.open(path)
    df = tracker.dataframe()
    assert not [c for c in df.columns if c.startswith(("_nc:", "_new:", "_outside"))]
    report = build_report(df, parse_period(month=f"{today:%Y-%m}"), tracker.lists, tracker.settings, today)
    rows = sheet_as_rows(path, SHEET_TRENDS, tmp_path / "lo")

    # an independent count: pandas over the sheet as openpyxl reads it, exact text only
    raw = pd.read_excel(path, sheet_name="Referrals", engine="openpyxl")
    raw = raw[raw.drop(columns=["Status", "Follow-up due"]).notna().any(axis=1)]
    received = pd.to_datetime(raw["Date received"])
    consulted = pd.to_datetime(raw["Consultation date"])
    first = (pd.Timestamp(today) - pd.DateOffset(months=MONTHS - 1)).to_period("M").to_timestamp()
    months = [first + pd.DateOffset(months=i) for i in range(MONTHS)]

    def in_month(series, m):
        return (series >= m) & (series < m + pd.DateOffset(months=1))

    concerns = list(tracker.lists.codes("primary_concern"))
    sheet_months, sheet_total = block_rows(rows, "Referrals received per month by primary concern")
    trend = report.table("monthly_trend").data
    for i, m in enumerate(months):
        got = in_month(received, m)
        counted = [int(got.sum())] + [int((got & (raw["Primary concern"] == c)).sum()) for c in concerns]
        counted.append(int((got & raw["Primary concern"].isna()).sum()))
        assert _ints(sheet_months[i], 7) == counted, m
        report_row = trend.iloc[i].tolist()
        assert [report_row[-1], *report_row[:-1]] == counted, m
    assert int(float(sheet_total[1])) == int(trend.iloc[-1, -1]) > 100

    decisions = list(tracker.lists.codes("suitability"))
    sheet_months, _ = block_rows(rows, "Referrals received per month by suitability decision")
    for i, m in enumerate(months):
        got = in_month(received, m)
        counted = [int((got & (raw["Suitability decision"] == d)).sum()) for d in decisions]
        counted.append(int((got & raw["Suitability decision"].isna()).sum()))
        assert _ints(sheet_months[i], 4) == counted, m
    summary = report.table("summary_decisions").data
    assert summary.iloc[:4, 0].tolist() == _ints(sheet_months[-1], 4)

    themes = list(tracker.lists.themes)
    sheet_months, _ = block_rows(
        rows, "Consultations held per month by theme (a consultation can have several themes)"
    )
    held = report.table("themes_held").data.iloc[0].tolist()
    counts = report.table("themes_counts").data
    for i, m in enumerate(months):
        got = in_month(consulted, m) & (consulted <= pd.Timestamp(today))
        counted = [int(got.sum())] + [int((got & (raw[f"Theme: {t}"] == "Yes")).sum()) for t in themes]
        assert _ints(sheet_months[i], 1 + len(themes)) == counted, m
        assert [held[i], *counts.iloc[:, i].tolist()] == counted, m
    # the new teams are counted under their own names, not as not recorded
    referrers = report.table("referrers").data
    assert NOT_RECORDED in referrers.index


def test_report_counts_readable_values_as_what_they_mean_and_says_how_many(typed, tmp_path):
    path, expected, today = typed
    expected.pop("_below")
    formulas = expected.pop("_formulas")
    tracker = Tracker.open(path)
    df = tracker.dataframe()
    for ref, (key, meaning, _state) in expected.items():
        row = int(re.sub(r"[A-Z]+", "", ref))
        value = df.loc[df["_row"] == row, key].iloc[0]
        f = FIELDS[key]
        if f.kind is Kind.DATE:
            assert value.date() == meaning, ref
        elif f.kind is Kind.FLAG:
            # openpyxl (typing here) stores =TRUE() without the value a spreadsheet program caches
            if ref not in formulas:
                assert bool(value) == meaning, ref
        else:
            assert value == meaning, ref
    # as many as validate lists, but the =TRUE() openpyxl stored without the value a spreadsheet caches
    counted = sum(int(df[c].sum()) for c in df.columns if c.startswith("_nc:"))
    listed = [
        p
        for p in validate_tracker(path, today=today).warnings
        if p.rule in ("not-canonical", "new-list-value")
    ]
    assert counted == len(listed) - len(formulas) > 100
    from cstracker.report.workbook import make_report

    out = tmp_path / "report.xlsx"
    written = make_report(path, parse_period(month=f"{today:%Y-%m}"), out, today=today)
    assert any("not in its own form" in w for w in written.warnings)
    assert any("3 rows are below the Referrals table" in w for w in written.warnings)
    ws = openpyxl.load_workbook(out)["Data quality"]
    texts = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("counted here as what it means" in t for t in texts)
    assert not any("read as blank" in t for t in texts)
    result = CliRunner().invoke(cli, ["report", str(path), "--month", f"{today:%Y-%m}", "--out", str(out)])
    assert result.exit_code == 0
    assert "Warning: 3 rows are below the Referrals table" in result.output


def test_fix_refuses_a_tracker_open_elsewhere_and_leaves_unreadable_values(typed):
    path, expected, today = typed
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    col = {c.value: c.column_letter for c in ws[1]}
    ws[f"{col['Gender']}3"] = "Martian"
    ws[f"{col['Theme: CSE']}3"] = "perhaps"
    wb.save(path)
    owner = path.with_name(f".~lock.{path.name}#")
    owner.write_text("x")
    refused = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    assert refused.exit_code != 0 and "open in Excel or LibreOffice" in refused.output
    owner.unlink()
    fixed = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    assert fixed.exit_code == 1  # the unreadable values remain errors
    assert f"Referrals!{col['Gender']}3:" not in fixed.output.split("changed ")[0]
    wb = openpyxl.load_workbook(path)
    assert wb["Referrals"][f"{col['Gender']}3"].value == "Martian"
    assert wb["Referrals"][f"{col['Theme: CSE']}3"].value == "perhaps"


def test_fix_does_not_stamp_last_updated_and_changes_only_owned_parts(typed):
    path, expected, today = typed
    before = openpyxl.load_workbook(path)["Referrals"]
    col = {c.value: c.column_letter for c in before[1]}
    stamps = {r: before[f"{col['Last updated']}{r}"].value for r in range(2, before.max_row + 1)}
    with zipfile.ZipFile(path) as zf:
        parts_before = {i.filename: zf.read(i) for i in zf.infolist()}
    CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    after = openpyxl.load_workbook(path)["Referrals"]
    assert {r: after[f"{col['Last updated']}{r}"].value for r in stamps} == stamps
    with zipfile.ZipFile(path) as zf:
        parts_after = {i.filename: zf.read(i) for i in zf.infolist()}
    assert list(parts_after) == list(parts_before)
    changed = {n for n in parts_before if parts_before[n] != parts_after[n]}
    t = Tracker.open(path)
    with zipfile.ZipFile(path) as zf:
        lists_part = _sheet_names(zf, path)[0]["Lists"]
    audit_part = t.layout.sheet_parts["Audit"]  # the audit trail records the fix (an owned part)
    assert changed == {t.layout.sheet_part, t.layout.table_part, "xl/workbook.xml", lists_part, audit_part}


@needs_libreoffice
@needs_uno
def test_typed_in_libreoffice_then_fixed_the_trends_sheet_counts_every_row(tmp_path):
    """TRUE, f and rows below the Table typed in LibreOffice itself; --fix; LibreOffice's Trends agrees."""
    import subprocess

    from cstracker.xlsx.parts import col_letters

    today = dt.date.today()
    made = make_tracker(tmp_path, today, n=40)
    t = Tracker.open(made)
    col = {k: col_letters(c) for k, c in t.layout.columns.items()}
    last = t.layout.table_ref[3]
    edits = [
        f"{col['theme:Online']}3=TRUE",
        f"{col['gender']}3=f",
        f"{col['primary_concern']}4=school",
        f"{col['age']}5='15",  # a number stored as text
    ]
    for i, row in enumerate((last + 1, last + 3)):
        edits += [
            f"{col['referral_id']}{row}=CS-2026-09{i:02d}",
            f"{col['date_received']}{row}={today.isoformat()}",
            f"{col['mosaic_id']}{row}=91234{i:02d}",
            f"{col['suitability']}{row}=Suitable",
            f"{col['primary_concern']}{row}=neighbourhood",
        ]
    typed = tmp_path / "typed.xlsx"
    subprocess.run(
        [
            "/usr/bin/python3",
            str(Path(__file__).parent.parent / "uno_type.py"),
            str(made),
            str(typed),
            *edits,
        ],
        check=True,
        timeout=240,
    )
    assert Tracker.open(typed).layout.table_ref[3] == last  # LibreOffice did not grow the Table
    report = validate_tracker(typed, today=today)
    rules = {(p.cell, p.rule) for p in report.warnings}
    assert (f"{col['theme:Online']}3", "not-canonical") in rules  # TRUE as LibreOffice stores it
    assert (f"{col['gender']}3", "not-canonical") in rules
    assert (f"{col['primary_concern']}4", "not-canonical") in rules
    assert {p.row for p in report.warnings if p.rule == "outside-table"} == {last + 1, last + 3}
    # the report counts as many values not in the tracker's own form as validate lists
    frame = Tracker.open(typed).dataframe()
    counted = sum(int(frame[c].sum()) for c in frame.columns if c.startswith("_nc:"))
    assert counted == len([p for p in report.warnings if p.rule in ("not-canonical", "new-list-value")]) >= 3
    before = sheet_as_rows(typed, SHEET_TRENDS, tmp_path / "lo1")

    result = CliRunner().invoke(cli, ["validate", str(typed), "--fix"])
    assert "2 rows brought into the table" in result.output, result.output
    tracker = Tracker.open(typed)
    df = tracker.dataframe()
    rep = build_report(df, parse_period(month=f"{today:%Y-%m}"), tracker.lists, tracker.settings, today)
    after = sheet_as_rows(typed, SHEET_TRENDS, tmp_path / "lo2")
    months_before, _ = block_rows(before, "Referrals received per month by primary concern")
    months_after, _ = block_rows(after, "Referrals received per month by primary concern")
    trend = rep.table("monthly_trend").data
    this_month = trend.iloc[MONTHS - 1].tolist()
    assert _ints(months_after[-1], 7) == [this_month[-1], *this_month[:-1]]
    assert _ints(months_after[-1], 1)[0] == _ints(months_before[-1], 1)[0] + 2  # the rows typed below
    neighbourhood = 1 + list(tracker.lists.codes("primary_concern")).index("Neighbourhood") + 1
    assert int(float(months_after[-1][neighbourhood])) >= 2
    assert (
        df.loc[df["_row"] == 3, "theme:Online"].item()
        and df.loc[df["_row"] == 3, "gender"].item() == "Female"
    )


def test_validate_examples_use_the_trackers_prefix_and_trends_says_what_it_counts(tmp_path):
    from cstracker.core.config import config_from_dict
    from cstracker.tracker.create import create_tracker

    path = create_tracker(tmp_path / "t.xlsx", config_from_dict({"referral_id_prefix": "WCS"}))
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(2, seed=1, prefix="WCS", today=dt.date(2026, 11, 27)))
        t.save()
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    ws["A2"] = "not an id!"
    wb.save(path)
    line = next(p.line() for p in validate_tracker(path).errors if p.rule == "bad-referral-id")
    assert "WCS-2026-0001" in line and "CS-2026-0001" not in line.replace("WCS-2026-0001", "")
    trends = [c for row in wb["Trends"].iter_rows(max_row=3, values_only=True) for c in row if c]
    assert any("validate --fix" in t and "below the table" in t for t in trends)
