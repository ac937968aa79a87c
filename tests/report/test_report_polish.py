"""The report's polish (issue 13): one period-label style, the change columns, whole days, the banner, long lists.

Each test reopens the written workbook with openpyxl and reads cells and formats back.
"""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest
from long_lists import legacy_records
from test_report_tables import LISTS, hand_frame

from cstracker.core.config import Settings
from cstracker.core.periods import parse_period, range_period
from cstracker.report.data import ReportData, frame_from_records
from cstracker.report.published import build_published
from cstracker.report.tables import build_report
from cstracker.report.workbook import write_report
from cstracker.synthetic import synthetic_records
from tests.conftest import TODAY

OCTOBER = parse_period(month="2026-10")


@pytest.fixture(scope="module")
def internal(tmp_path_factory):
    report = build_report(hand_frame(), OCTOBER, LISTS, Settings(), TODAY)
    return write_report(report, tmp_path_factory.mktemp("polish") / "internal.xlsx")


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """A big old tracker: long lists of overdue follow-ups, contexts and data problems."""
    records = legacy_records()
    report = build_report(frame_from_records(records, LISTS), OCTOBER, LISTS, Settings(), TODAY)
    return write_report(report, tmp_path_factory.mktemp("polish") / "legacy.xlsx")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    records = synthetic_records(1500, seed=7, today=TODAY)
    data = ReportData(frame_from_records(records, LISTS), LISTS, Settings(), TODAY)
    report = build_published(data, OCTOBER, LISTS, Settings(), {})[0]
    return write_report(report, tmp_path_factory.mktemp("polish") / "published.xlsx", publish=True)


def header(ws, placed) -> list:
    return [
        ws.cell(placed.header_row + 1, placed.first_col + 2 + j).value for j in range(len(placed.columns))
    ]


def row_of(ws, placed, label) -> list:
    for r in range(placed.first_row, placed.last_row + 1):
        if ws.cell(r + 1, placed.first_col + 1).value == label:
            return [ws.cell(r + 1, placed.first_col + 2 + j) for j in range(len(placed.columns))]
    raise KeyError(label)


def all_strings(path) -> list[tuple[str, str, str]]:
    wb = openpyxl.load_workbook(path)
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]


# -- 1. one label style -----------------------------------------------------------------------------

ISO_PERIOD = re.compile(r"^\d{4}-(\d{2}|Q[1-4])$")


def test_the_summary_heads_its_periods_like_every_other_sheet(internal):
    ws = openpyxl.load_workbook(internal.path)["Summary"]
    heads = header(ws, internal.placed["summary_decisions"])
    assert heads[:3] == ["Oct 2026", "Sep 2026", "Oct 2025"]
    assert header(ws, internal.placed["summary_activity"])[:3] == ["Oct 2026", "Sep 2026", "Oct 2025"]


@pytest.mark.parametrize("which", ["internal", "published"])
def test_no_cell_names_a_period_the_machine_way(which, request):
    path = request.getfixturevalue(which).path
    machine = [(s, c, v) for s, c, v in all_strings(path) if ISO_PERIOD.match(v.strip())]
    assert not machine, machine[:5]


def test_published_quarters_and_years_are_labelled_in_words(published):
    wb = openpyxl.load_workbook(published.path)
    ws = wb["Summary"]
    # the breakdowns of a monthly pack cover the latest complete quarter: Jul to Sep 2026
    assert header(ws, published.placed["summary_decisions"]) == ["Jul to Sep 2026"]
    trend = wb["Quarterly trend"]
    p = published.placed["quarterly_trend"]
    labels = [trend.cell(r + 1, 1).value for r in range(p.first_row, p.last_row + 1)]
    assert labels[-1] == "Jul to Sep 2026" and labels[0] == "Oct to Dec 2024"
    themes = header(wb["Themes"], published.placed["themes_counts"])
    assert themes[0] == "Oct to Dec 2025" and themes[-1] == "Oct 2025 to Sep 2026"


def test_a_period_heading_in_words():
    assert parse_period(month="2026-11").heading == "Nov 2026"
    assert parse_period(quarter="2026-Q3").heading == "Jul to Sep 2026"
    assert parse_period(year="2026").heading == "2026"
    assert range_period(dt.date(2026, 3, 1), dt.date(2026, 4, 15)).heading == "01/03/2026 to 15/04/2026"


# -- 2. the change columns (internal) ---------------------------------------------------------------


def test_the_summary_says_the_change_since_the_previous_period_and_last_year(internal):
    ws = openpyxl.load_workbook(internal.path)["Summary"]
    p = internal.placed["summary_decisions"]
    assert header(ws, p) == [
        "Oct 2026",
        "Sep 2026",
        "Oct 2025",
        "Change since Sep 2026",
        "% change since Sep 2026",
        "Change since Oct 2025",
        "% change since Oct 2025",
    ]
    received = row_of(ws, p, "Referrals received")
    assert [c.value for c in received] == [8, 2, 1, 6, 3.0, 7, 7.0]  # 8 - 2, +300%; 8 - 1, +700%
    assert received[3].number_format == "+#,##0;-#,##0;0"
    assert received[4].number_format == "+0%;-0%;0%"
    # a share of nothing is left blank, not shown as a division by zero
    awaiting = [c.value for c in row_of(ws, p, "Awaiting decision")]
    assert awaiting[:4] == [1, 0, 0, 1] and awaiting[4] is None
    # the median changes in whole days
    median = row_of(ws, internal.placed["summary_timeliness"], "Median days from referral to consultation")
    assert [c.value for c in median][:4] == [15, 5, 12, 10]


def test_a_calendar_year_is_compared_with_the_two_years_before(tmp_path):
    report = build_report(hand_frame(), parse_period(year="2026"), LISTS, Settings(), TODAY)
    written = write_report(report, tmp_path / "year.xlsx")
    ws = openpyxl.load_workbook(written.path)["Summary"]
    heads = header(ws, written.placed["summary_decisions"])
    assert heads == ["2026", "2025", "2024", "Change since 2025", "% change since 2025", "Change since 2024",
                     "% change since 2024"]  # fmt: skip


# -- 3. whole days ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["internal", "published"])
def test_days_are_whole_days_and_the_rule_is_stated(which, request):
    written = request.getfixturevalue(which)
    wb = openpyxl.load_workbook(written.path)
    seen = 0
    for key in ("summary_timeliness", "timeliness"):
        p = written.placed[key]
        ws = wb[p.sheet]
        for r in range(p.first_row, p.last_row + 1):
            for j, col in enumerate(p.columns):
                if col == "Number" or col.startswith("%"):
                    continue
                cell = ws.cell(r + 1, p.first_col + 2 + j)
                if isinstance(cell.value, int | float):
                    seen += 1
                    assert cell.value == int(cell.value), (key, col, cell.value)
                    assert "." not in cell.number_format, (key, col, cell.number_format)
    assert seen >= 4
    notes = " ".join(v for _, _, v in all_strings(written.path))
    assert "rounded to the nearest whole day" in notes


# -- 4. the INTERNAL banner -------------------------------------------------------------------------


def test_the_internal_banner_is_highlighted_across_the_used_width(internal):
    ws = openpyxl.load_workbook(internal.path)["Summary"]
    rows = [r for r in range(2, 9) if str(ws.cell(r, 1).fill.fgColor.rgb).endswith("FFC7CE")]
    assert rows and str(ws.cell(rows[0], 1).value).startswith("INTERNAL"), "no banner"
    text = " ".join(str(ws.cell(r, 1).value) for r in rows)
    assert "Do not share it outside the team" in text
    width = max(p.last_col for p in internal.placed.values() if p.sheet == "Summary") + 1
    for r in rows:
        for c in range(1, width + 1):
            fill = ws.cell(r, c).fill
            assert fill.fill_type == "solid" and fill.fgColor.rgb.endswith("FFC7CE"), (r, c)


# -- 5. long lists ----------------------------------------------------------------------------------


def listed(ws, placed) -> list[list]:
    return [
        [ws.cell(r + 1, placed.first_col + 1 + j).value for j in range(len(placed.columns) + 1)]
        for r in range(placed.first_row, placed.last_row + 1)
    ]


@pytest.mark.parametrize(
    ("key", "sheet", "full_sheet"),
    [
        ("overdue", "Timeliness", "Overdue follow-ups"),
        ("contexts", "Contexts", "All contexts"),
        ("dq_rows", "Data quality", "All data problems"),
        ("actions_missing", "Actions", "All actions missing"),
    ],
)
def test_a_long_list_is_capped_on_its_page_and_whole_on_its_own_sheet(legacy, key, sheet, full_sheet):
    wb = openpyxl.load_workbook(legacy.path)
    shown, full = legacy.placed[key], legacy.placed[f"{key}_all"]
    assert shown.sheet == sheet and full.sheet == full_sheet
    head, whole = listed(wb[sheet], shown), listed(wb[full_sheet], full)
    assert len(whole) > len(head) > 0
    assert head == whole[: len(head)]
    more = wb[sheet].cell(shown.last_row + 2, 1).value
    assert more == f"{len(whole) - len(head)} more — see sheet '{full_sheet}'"
    assert full_sheet in legacy.sheets


def test_overdue_follow_ups_come_most_overdue_first(legacy):
    wb = openpyxl.load_workbook(legacy.path)
    full = legacy.placed["overdue_all"]
    days = [row[3] for row in listed(wb[full.sheet], full)]
    assert len(days) > 30 and days == sorted(days, reverse=True)


def test_contexts_come_hotspots_first(legacy):
    wb = openpyxl.load_workbook(legacy.path)
    full = legacy.placed["contexts_all"]
    hot = [row[-1] or "" for row in listed(wb[full.sheet], full)]
    rank = [0 if h == "Hotspot" else 1 if "3 months" in h else 2 if "6 months" in h else 3 for h in hot]
    assert rank == sorted(rank) and rank[0] < 3


def test_data_problems_come_errors_first(legacy):
    wb = openpyxl.load_workbook(legacy.path)
    full = legacy.placed["dq_rows_all"]
    sev = [row[3] for row in listed(wb[full.sheet], full)]
    assert sev == sorted(sev, key=lambda s: s != "error")


def test_a_short_list_is_not_capped(internal):
    wb = openpyxl.load_workbook(internal.path)
    p = internal.placed["overdue"]
    assert [r[0] for r in listed(wb["Timeliness"], p)] == ["CS-2026-0090", "CS-2026-0101"]
    assert wb["Timeliness"].cell(p.last_row + 2, 1).value in (None, "")
