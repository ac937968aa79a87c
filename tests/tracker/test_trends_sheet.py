"""The tracker's live Trends sheet: its formulas, and LibreOffice's recalculation against the report."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from libreoffice import needs_libreoffice, sheet_as_rows

from cstracker.core.config import config_from_dict, load_config
from cstracker.core.periods import parse_period
from cstracker.report.tables import build_report
from cstracker.synthetic import synthetic_records
from cstracker.tracker.create import create_tracker
from cstracker.tracker.trends_sheet import MONTHS, SHEET_TRENDS


def block_rows(rows, title):
    """(header, 12 month rows, total row) of the block whose title is ``title``."""
    start = next(i for i, r in enumerate(rows) if r and r[0] == title)
    header = rows[start + 1]
    return header, rows[start + 2 : start + 2 + MONTHS], rows[start + 2 + MONTHS]


def test_blocks_follow_the_workbooks_lists(tmp_path):
    config = config_from_dict({"themes": {"extra": ["Knife crime"]}})
    path = create_tracker(tmp_path / "t.xlsx", config)
    ws = openpyxl.load_workbook(path)[SHEET_TRENDS]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header, months, total = block_rows(rows, "Referrals received per month by primary concern")
    assert header[:8] == [
        "Month", "Referrals received", "Individual", "Home", "Peer Group", "School", "Neighbourhood",
        "No primary concern",
    ]  # fmt: skip
    assert months[0][0] == "=DATE(YEAR(TODAY()),MONTH(TODAY())-11,1)"
    assert months[-1][0] == "=DATE(YEAR(TODAY()),MONTH(TODAY())-0,1)"
    assert months[0][1] == (
        '=COUNTIFS(Referrals[Date received],">="&$A6,Referrals[Date received],"<"&EDATE($A6,1))'
    )
    assert months[0][4] == (
        '=COUNTIFS(Referrals[Date received],">="&$A6,Referrals[Date received],"<"&EDATE($A6,1),'
        'Referrals[Primary concern],"Peer Group")'
    )
    assert total[0] == "Total" and total[1] == "=SUM(B6:B17)"
    header, months, _ = block_rows(rows, "Referrals received per month by suitability decision")
    assert header[:5] == ["Month", "Suitable", "Not suitable", "Awaiting decision", "No decision recorded"]
    assert months[3][4].endswith('Referrals[Suitability decision],"")')
    header, months, _ = block_rows(
        rows, "Consultations held per month by theme (a consultation can have several themes)"
    )
    # the config's extra theme goes before the catch-all Other (issue 13)
    assert (
        header[1] == "Consultations held"
        and header[-2:] == ["Knife crime", "Other"]
        and len(header) == 2 + 23
    )
    assert '"<="&TODAY()' in months[0][1]
    assert months[0][-2].endswith('Referrals[Theme: Knife crime],"Yes")')
    assert "Referrals[Theme: Drugs (selling)]" in months[0][header.index("Drugs (selling)")]


def _ints(row, n):
    return [int(float(v)) for v in row[1 : 1 + n]]


@needs_libreoffice
def test_libreoffice_recalculates_the_same_figures_as_the_report(tmp_path):
    from cstracker.tracker.newfile import init_tracker
    from cstracker.tracker.tracker import Tracker

    today = dt.date.today()  # the sheet's months come from TODAY(), so the report must use the same day
    path = tmp_path / "Referral Tracker.xlsx"
    init_tracker(path, load_config(None))
    records = synthetic_records(2500, seed=11, start=today - dt.timedelta(days=420), end=today, today=today)
    with Tracker.open_for_update(path) as t:
        t.upsert(records, source="synthetic", today=today)
        t.save()
    tracker = Tracker.open(path)
    report = build_report(
        tracker.dataframe(), parse_period(month=f"{today:%Y-%m}"), tracker.lists, tracker.settings, today
    )
    rows = sheet_as_rows(path, SHEET_TRENDS, tmp_path / "lo")

    _, months, total = block_rows(rows, "Referrals received per month by primary concern")
    trend = report.table("monthly_trend").data
    assert len(trend) == MONTHS + 1
    for sheet_row, (_, report_row) in zip([*months, total], trend.iterrows(), strict=True):
        values = report_row.tolist()  # five contexts, Not recorded, Total
        assert _ints(sheet_row, 7) == [values[-1], *values[:-1]]
    assert int(float(total[1])) > 1500

    _, months, _ = block_rows(rows, "Referrals received per month by suitability decision")
    decisions = report.table("summary_decisions").data
    for sheet_row, column in ((months[-1], 0), (months[-2], 1)):  # this month and the one before
        assert _ints(sheet_row, 4) == decisions.iloc[:4, column].tolist()

    _, months, total = block_rows(
        rows, "Consultations held per month by theme (a consultation can have several themes)"
    )
    held = report.table("themes_held").data.iloc[0].tolist()
    counts = report.table("themes_counts").data
    n = len(tracker.lists.themes)
    for j, sheet_row in enumerate([*months, total]):
        assert _ints(sheet_row, 1 + n) == [held[j], *counts.iloc[:, j].tolist()]
    assert sum(held[:-1]) > 1000


@pytest.mark.parametrize("bad", ["[", "#", "'"])
def test_structured_reference_escapes(bad):
    from cstracker.tracker.trends_sheet import column_ref

    assert column_ref(f"Theme: A{bad}B") == f"Referrals[Theme: A'{bad}B]"
