"""Reporting periods from the report command's options."""

from __future__ import annotations

import datetime as dt

import pytest

from cstracker.core.errors import UsageError
from cstracker.core.periods import add_months, parse_period

D = dt.date


def test_month_with_previous_and_last_year():
    p = parse_period(month="2026-10")
    assert (p.start, p.end, p.kind, p.label, p.title) == (
        D(2026, 10, 1),
        D(2026, 10, 31),
        "month",
        "2026-10",
        "October 2026",
    )
    assert (p.previous().start, p.previous().end, p.previous().label) == (
        D(2026, 9, 1),
        D(2026, 9, 30),
        "2026-09",
    )
    assert (p.last_year().start, p.last_year().end) == (D(2025, 10, 1), D(2025, 10, 31))
    jan = parse_period(month="2026-1")
    assert jan.previous().label == "2025-12"
    assert parse_period(month="2024-02").end == D(2024, 2, 29)


def test_quarter():
    p = parse_period(quarter="2026-Q3")
    assert (p.start, p.end, p.label) == (D(2026, 7, 1), D(2026, 9, 30), "2026-Q3")
    assert (p.previous().start, p.previous().end, p.previous().label) == (
        D(2026, 4, 1),
        D(2026, 6, 30),
        "2026-Q2",
    )
    assert parse_period(quarter="2026-Q1").previous().label == "2025-Q4"
    assert p.last_year().label == "2025-Q3"
    assert parse_period(quarter="2026q4").end == D(2026, 12, 31)


def test_year():
    p = parse_period(year="2026")
    assert (p.start, p.end, p.previous().label, p.last_year().label) == (
        D(2026, 1, 1),
        D(2026, 12, 31),
        "2025",
        "2025",
    )
    assert len(p.months()) == 12


def test_range_uk_dates_and_previous_of_same_length():
    p = parse_period(date_from="01/03/2026", date_to="15/04/2026")
    assert (p.start, p.end, p.kind) == (D(2026, 3, 1), D(2026, 4, 15), "range")
    prev = p.previous()
    assert prev.end == D(2026, 2, 28) and (prev.end - prev.start) == (p.end - p.start)
    assert (p.last_year().start, p.last_year().end) == (D(2025, 3, 1), D(2025, 4, 15))
    assert p.months() == [D(2026, 3, 1), D(2026, 4, 1)]
    assert parse_period(date_from="2026-09-01", date_to="2026-09-30").title == "01/09/2026 to 30/09/2026"


def test_trend_months_end_with_the_period():
    p = parse_period(quarter="2026-Q3")
    months = p.trend_months(12)
    assert months[0] == D(2025, 10, 1) and months[-1] == D(2026, 9, 1) and len(months) == 12


def test_add_months_clamps_to_month_end():
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2024, 2, 29), -12) == D(2023, 2, 28)
    assert add_months(D(2026, 3, 15), -15) == D(2024, 12, 15)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give exactly one period"),
        ({"month": "2026-10", "year": "2026"}, "given: --month, --year"),
        ({"month": "2026-13"}, "--month '2026-13' is not a month; use YYYY-MM"),
        ({"month": "10/2026"}, "use YYYY-MM, e.g. 2026-10"),
        ({"quarter": "2026-Q5"}, "--quarter '2026-Q5' is not a quarter"),
        ({"year": "26"}, "--year '26' is not a year"),
        ({"date_from": "01/10/2026"}, "--from and --to go together"),
        ({"date_from": "31/02/2026", "date_to": "01/03/2026"}, "--from '31/02/2026' is not a date"),
        ({"date_from": "10/10/2026", "date_to": "01/10/2026"}, "--to 01/10/2026 is before --from 10/10/2026"),
    ],
)
def test_bad_options_say_what_is_allowed(options, message):
    with pytest.raises(UsageError) as e:
        parse_period(**options)
    assert message in str(e.value)
    assert e.value.exit_code == 2


def test_titles_and_headings_never_use_the_machine_labels():
    """Sheet titles and headings share one style: words, never 2026-10 or 2026-Q3 (issue 13)."""
    quarter = parse_period(quarter="2026-Q3")
    assert (quarter.title, quarter.heading) == ("July to September 2026", "Jul to Sep 2026")
    for p in (parse_period(month="2026-10"), quarter, parse_period(year="2026")):
        assert "-" not in p.title and "-" not in p.heading, p
