"""A run of published packs, attacked as the board's analyst would: every hidden figure keeps >= 3 values.

The packs are written by ``cstracker report --publish`` (through ``make_report``) in
the order the board receives them, each read back from its .xlsx by the independent
attack in ``attacker.py``. The default run is a quarter's packs and the year's (3
monthly, 1 quarterly, 1 yearly, which brings in every quarter of the year) on two
authorities; the whole 24-month run is marked slow and also run by
``scripts/attack_packs.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from attacker import Attack, possible_values, tables_of

from cstracker.core.config import load_config
from cstracker.core.periods import parse_period
from cstracker.report.workbook import COUNT_FORMAT, make_report
from cstracker.synthetic import synthetic_records
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker

TODAY = dt.date(2026, 11, 27)
THRESHOLD = 5


def months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def run_of(first_month: str, last_month: str, years: tuple[str, ...]) -> list[tuple[str, str]]:
    """Monthly packs, each quarter's pack after its last month, each year's after December."""
    packs = []
    for month in months_between(first_month, last_month):
        packs.append(("month", month))
        y, m = int(month[:4]), int(month[5:])
        if m % 3 == 0:
            packs.append(("quarter", f"{y}-Q{m // 3}"))
        if m == 12 and str(y) in years:
            packs.append(("year", str(y)))
    return packs


SHORT = run_of("2025-10", "2025-12", ("2025",))
FULL = run_of("2024-11", "2026-10", ("2025",))


def make_tracker(folder: Path, n: int, seed: int) -> Path:
    path = folder / "Referral Tracker.xlsx"
    init_tracker(path, load_config(None))
    records = synthetic_records(n, seed=seed, today=TODAY)
    with Tracker.open_for_update(path) as t:
        t.upsert([{k: v for k, v in r.items() if k not in ("status", "follow_up_due")} for r in records],
                 source="test", today=TODAY)  # fmt: skip
        t.save()
    return path


def publish_run(tracker: Path, packs: list[tuple[str, str]]) -> list[Path]:
    out = []
    for kind, label in packs:
        path = tracker.with_name(f"pack {label}.xlsx")
        make_report(tracker, parse_period(**{kind: label}), path, publish=True, today=TODAY)
        out.append(path)
    return out


def attack(paths: list[Path]) -> tuple[Attack, dict]:
    a = Attack()
    for p in paths:
        a.read_pack(p)
    return a, a.ranges()


def closing_figures(paths, a: Attack, ranges) -> str:
    narrow = min((possible_values(lo, hi) for lo, hi in ranges.values()), default=None)
    recovered = sum(1 for lo, hi in ranges.values() if possible_values(lo, hi) <= 1)
    return (
        f"packs {len(paths)}, tables {a.tables_seen}, cells {a.cells_seen}, hidden cells {a.hidden_seen} "
        f"({len(a.hidden)} distinct figures), recovered {recovered}, narrowest {narrow} possible values"
    )


@pytest.fixture(scope="module", params=[(500, 7), (150, 11)], ids=["demo-sized", "small-numbers"])
def short_run(request, tmp_path_factory):
    n, seed = request.param
    tracker = make_tracker(tmp_path_factory.mktemp(f"run{n}"), n, seed)
    return tracker, publish_run(tracker, SHORT)


def test_no_hidden_figure_can_be_narrowed_below_three_values(short_run):
    tracker, paths = short_run
    a, ranges = attack(paths)
    assert a.problems == []
    assert a.hidden and len(ranges) == len(a.hidden)
    weak = {fig: r for fig, r in ranges.items() if possible_values(*r) < 3}
    print(closing_figures(paths, a, ranges))
    assert weak == {}


def test_shown_counts_are_never_small_and_derived_figures_hide_with_their_counts(short_run):
    _, paths = short_run
    for path in paths:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, int | float) and cell.number_format == COUNT_FORMAT:
                        assert cell.value == 0 or cell.value > THRESHOLD, (
                            path.name,
                            ws.title,
                            cell.coordinate,
                        )
        for t in tables_of(path):
            rows = dict(t.rows)
            if t.title.startswith("Share of consultations with each theme"):
                counts = next(x for x in tables_of(path) if x.title == "Consultations per theme per quarter")
                held = next(x for x in tables_of(path) if x.title == "Consultations held per quarter")
                for label, values in counts.rows:
                    for j, v in enumerate(values):
                        if v == "c" or held.rows[0][1][j] == "c":
                            assert rows[label][j] == "c", (path.name, label, t.columns[j])
            if t.title.startswith("Days between"):
                for label, (number, *stats) in t.rows:
                    if number == "c" or number <= THRESHOLD:
                        assert all(s == "c" for s in stats), (path.name, label)


def test_published_packs_hold_no_identifiers_or_free_text(short_run):
    tracker, paths = short_run
    records = Tracker.open(tracker).records()
    secrets = {
        str(r[k]) for r in records for k in ("referral_id", "mosaic_id", "referrer", "detail") if r.get(k)
    }
    for path in paths:
        wb = openpyxl.load_workbook(path)
        assert {"Contexts", "Data quality"}.isdisjoint(wb.sheetnames)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert not (isinstance(cell.value, str) and cell.value in secrets), (
                        ws.title,
                        cell.coordinate,
                    )


def test_the_ledger_keeps_no_hidden_value_and_a_rerun_reproduces_the_pack(short_run, tmp_path):
    tracker, paths = short_run
    ledger = tracker.with_name(f"{tracker.stem} published figures.json")
    data = json.loads(ledger.read_text(encoding="utf-8"))
    assert sorted(data["packs"]) == sorted(label for _, label in SHORT)
    states = [f["shown"] for f in data["figures"]]
    assert "c" in states and all(
        s == "c" or (isinstance(s, int) and (s == 0 or s > THRESHOLD)) for s in states
    )
    before = ledger.read_bytes()
    again = tmp_path / "again.xlsx"
    make_report(tracker, parse_period(month="2025-11"), again, publish=True, today=TODAY)
    first = paths[SHORT.index(("month", "2025-11"))]
    assert [(t.title, t.rows) for t in tables_of(again)] == [(t.title, t.rows) for t in tables_of(first)]
    assert json.loads(ledger.read_bytes())["figures"] == json.loads(before)["figures"]


def test_a_figure_hidden_once_stays_hidden_in_later_packs(short_run):
    _, paths = short_run
    a = Attack()
    for p in paths:
        a.read_pack(p)
    assert not any("hidden elsewhere" in p or "shown as" in p for p in a.problems)


def test_published_charts_leave_hidden_figures_out(short_run):
    import re
    import zipfile

    from xlsxwriter.utility import xl_cell_to_rowcol

    from cstracker.report.workbook import CHART_DATA_COL, GAP_NOTE

    _, paths = short_run
    charted = 0
    for path in paths:
        with zipfile.ZipFile(path) as z:
            charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
        for xml in charts:
            # Excel's default for blank cells is a gap; nothing may say otherwise
            assert "dispBlanksAs" not in xml or '<c:dispBlanksAs val="gap"/>' in xml
            refs = re.findall(r"<c:val>.*?<c:f>([^<]+)</c:f>", xml, re.S)
            assert refs
            for ref in refs:
                first = ref.split("!")[1].split(":")[0].replace("$", "")
                assert xl_cell_to_rowcol(first)[1] > CHART_DATA_COL  # the copy with hidden figures blank
            assert "<c:v>c</c:v>" not in xml
            assert '<c:min val="0"/>' in xml
            charted += 1
        wb = openpyxl.load_workbook(path)
        notes = [
            c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == GAP_NOTE
        ]
        assert len(notes) == len(charts)
        for ws in wb.worksheets:
            for row in ws.iter_rows(min_col=CHART_DATA_COL + 2):
                assert all(c.value != "c" for c in row)
    assert charted >= len(paths)


def test_table_by_table_suppression_fails_the_attack(tmp_path, monkeypatch):
    """The mutation check: without the run-wide audit, the attack narrows hidden figures."""
    import cstracker.report.published as rp

    monkeypatch.setattr(rp, "protect", lambda model, states, new, **kw: states)
    tracker = make_tracker(tmp_path, 150, 11)
    paths = publish_run(tracker, run_of("2025-07", "2025-09", ()))
    a, ranges = attack(paths)
    weak = [fig for fig, r in ranges.items() if possible_values(*r) < 3]
    assert weak, "table-by-table suppression should leave some hidden figure narrowed"


@pytest.mark.slow
@pytest.mark.parametrize(("n", "seed"), [(500, 7), (150, 11)], ids=["demo-sized", "small-numbers"])
def test_the_whole_run_of_packs(tmp_path, n, seed):
    tracker = make_tracker(tmp_path, n, seed)
    paths = publish_run(tracker, FULL)
    a, ranges = attack(paths)
    print(closing_figures(paths, a, ranges))
    assert a.problems == []
    assert all(possible_values(*r) >= 3 for r in ranges.values())


# -- the Summary's change columns --------------------------------------------------------------------


def _totals(path: Path):
    return next(t for t in tables_of(path) if t.title == "Referrals received and consultations held")


def test_a_change_is_shown_only_where_both_figures_are_and_the_attack_reads_it(short_run):
    """Every shown change is the difference of two shown figures; beside a c it is c too."""
    _, paths = short_run
    shown = beside_c = 0
    for path in paths:
        t = _totals(path)
        periods = [c for c in t.columns if "hange since" not in c]
        for label, values in t.rows:
            cell = dict(zip(t.columns, values, strict=True))
            now = cell[periods[0]]
            for then in periods[1:]:
                for col in (f"Change since {then}", f"% change since {then}"):
                    if now == "c" or cell[then] == "c":
                        beside_c += 1
                        assert cell[col] == "c", (path.name, label, col)
                    elif col.startswith("Change"):
                        shown += 1
                        assert cell[col] == now - cell[then], (path.name, label, col)
                    elif cell[then]:
                        assert cell[col] == pytest.approx((now - cell[then]) / cell[then])
    assert shown > 0
    a = Attack()
    for p in paths:
        a.read_pack(p)
    assert len(a.changes) >= shown  # the attack uses every shown change (and % change) as an equation


def test_a_change_beside_a_hidden_figure_would_give_it_away(tmp_path):
    """The mutation check: a change shown beside a c lets the attack work the c out exactly.

    A monthly pack of a small tracker hides this month's or an earlier figure; writing the true
    change into the cell beside it (what the rule forbids) pins the hidden figure to one value.
    """
    from cstracker.report.data import ReportData
    from cstracker.report.figures import build_model, key

    tracker = make_tracker(tmp_path, 150, 11)
    paths = publish_run(tracker, [("month", m) for m in ("2025-07", "2025-08", "2025-09")])
    t_ = Tracker.open(tracker)
    data = ReportData(t_.dataframe(), t_.lists, t_.settings, TODAY)
    model = build_model(data, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    for path in paths:
        t = _totals(path)
        periods = [c for c in t.columns if "hange since" not in c]
        for r, (label, values) in enumerate(t.rows):
            cell = dict(zip(t.columns, values, strict=True))
            for then in periods[1:]:
                if (cell[periods[0]] == "c") != (cell[then] == "c"):
                    break
            else:
                continue
            # the true change, written where the pack says c
            measure = "recv" if label.startswith("Referrals") else "cons"
            spans = [_months(p) for p in (periods[0], then)]
            true = [model.value(key(measure, *s)) for s in spans]
            leaked = tmp_path / "leaked.xlsx"
            wb = openpyxl.load_workbook(path)
            ws = wb["Summary"]
            title = next(c.row for c in ws["A"] if c.value == "Referrals received and consultations held")
            head = next(
                h for i in range(title + 1, title + 9) for h in ws[i] if h.value == f"Change since {then}"
            )
            assert ws.cell(head.row + 1 + r, 1).value == label
            ws.cell(head.row + 1 + r, head.column).value = true[0] - true[1]
            wb.save(leaked)  # a test copy of a report, never a tracker
            a, ranges = attack([leaked])
            hidden = (measure, *a_span(periods[0] if cell[periods[0]] == "c" else then), frozenset())
            assert possible_values(*ranges[hidden]) == 1
            return
    pytest.fail("no pack hides one figure of the totals and shows the other")


def a_span(label: str) -> tuple[int, int]:
    from attacker import span_of

    return span_of(label)


def _months(label: str) -> tuple[dt.date, dt.date]:
    a, b = a_span(label)
    return dt.date(a // 12, a % 12 + 1, 1), dt.date(b // 12, b % 12 + 1, 1)
