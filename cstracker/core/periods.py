"""Reporting periods: a month, a quarter, a year or a date range, with the periods it is compared to.

``parse_period`` turns the ``report`` command's options into a ``Period``. Every
period knows the period just before it (of the same length) and the same
period a year earlier, which the Summary sheet puts side by side.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from cstracker.core.convert import parse_date
from cstracker.core.errors import UsageError


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return add_months(month_start(day), 1) - dt.timedelta(days=1)


def span_heading(first: dt.date, last: dt.date) -> str:
    """Whole months ``first``..``last`` as a heading: ``Nov 2026``, ``Jul to Sep 2026``, ``2026``,
    ``Oct 2025 to Sep 2026``. The machine's ``2026-11`` / ``2026-Q3`` stay in file names and options."""
    if first.year == last.year and first.month == 1 and last.month == 12:
        return f"{first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%b %Y}"
    if first.year == last.year:
        return f"{first:%b} to {last:%b %Y}"
    return f"{first:%b %Y} to {last:%b %Y}"


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date
    kind: str  # "month", "quarter", "year" or "range"
    label: str  # "2026-10", "2026-Q3", "2026", "2026-03-01 to 2026-04-15"

    @property
    def stop(self) -> dt.date:
        """The first day after the period."""
        return self.end + dt.timedelta(days=1)

    @property
    def heading(self) -> str:
        """The period as a column or row heading, in the report's one style: ``Nov 2026``,
        ``Jul to Sep 2026`` (a quarter), ``2026`` (a year), ``01/03/2026 to 15/04/2026`` (a range)."""
        if self.kind == "range":
            return f"{self.start:%d/%m/%Y} to {self.end:%d/%m/%Y}"
        return span_heading(self.start, self.end)

    @property
    def title(self) -> str:
        """The period in words, for sheet titles: ``October 2026``, ``July to September 2026``, ``2026``,
        ``01/03/2026 to 15/04/2026``. Never the machine's ``2026-Q3``: a reader sees one style of period."""
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        if self.kind == "quarter":
            return f"{self.start:%B} to {self.end:%B %Y}"
        if self.kind == "year":
            return f"{self.start.year}"
        return f"{self.start:%d/%m/%Y} to {self.end:%d/%m/%Y}"

    def months(self) -> list[dt.date]:
        """The first day of every month the period touches."""
        out, m = [], month_start(self.start)
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    def trend_months(self, count: int) -> list[dt.date]:
        """``count`` month starts ending with the period's last month."""
        last = month_start(self.end)
        return [add_months(last, -i) for i in range(count - 1, -1, -1)]

    def previous(self) -> Period:
        """The period of the same kind (or the same length) just before this one."""
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            start = add_months(self.start, -months)
            return _calendar_period(start, self.kind)
        days = (self.end - self.start).days + 1
        end = self.start - dt.timedelta(days=1)
        return range_period(end - dt.timedelta(days=days - 1), end)

    def last_year(self) -> Period:
        """The same period a year earlier."""
        if self.kind in ("month", "quarter", "year"):
            return _calendar_period(add_months(self.start, -12), self.kind)
        return range_period(add_months(self.start, -12), add_months(self.end, -12))


def _calendar_period(start: dt.date, kind: str) -> Period:
    if kind == "month":
        return Period(start, month_end(start), "month", f"{start:%Y-%m}")
    if kind == "quarter":
        q = (start.month - 1) // 3 + 1
        return Period(start, month_end(add_months(start, 2)), "quarter", f"{start.year}-Q{q}")
    return Period(start, dt.date(start.year, 12, 31), "year", str(start.year))


#: the first and last day a report period (or --today) may name
DAY_RANGE = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))


def range_period(start: dt.date, end: dt.date) -> Period:
    return Period(start, end, "range", f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")


def parse_month(text: str) -> Period:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise UsageError(f"--month '{text}' is not a month; use YYYY-MM, e.g. 2026-10")
    return _calendar_period(dt.date(int(m.group(1)), int(m.group(2)), 1), "month")


def parse_quarter(text: str) -> Period:
    m = re.fullmatch(r"\s*(\d{4})-?[Qq]([1-4])\s*", text or "")
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise UsageError(
            f"--quarter '{text}' is not a quarter; use YYYY-Qn, e.g. 2026-Q3 (July to September)"
        )
    return _calendar_period(dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1), "quarter")


def parse_year(text: str) -> Period:
    m = re.fullmatch(r"\s*(\d{4})\s*", str(text or ""))
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise UsageError(f"--year '{text}' is not a year; use YYYY, e.g. 2026")
    return _calendar_period(dt.date(int(m.group(1)), 1, 1), "year")


def parse_day(option: str, text: str) -> dt.date:
    got = parse_date(text)
    day = got.value if got.ok else None
    if not isinstance(day, dt.date) and "outside the years" in (got.error or ""):
        day = dt.date.min  # a real date, outside what a report covers: said so below
    if not isinstance(day, dt.date):
        raise UsageError(f"{option} '{text}' is not a date; use dd/mm/yyyy or YYYY-MM-DD, e.g. 01/10/2026")
    if not DAY_RANGE[0] <= day <= DAY_RANGE[1]:
        # a report looks back two years and forward a day from its period: keep that inside the calendar
        raise UsageError(
            f"{option} '{text}' is outside the dates a report covers "
            f"({DAY_RANGE[0]:%d/%m/%Y} to {DAY_RANGE[1]:%d/%m/%Y})"
        )
    return day


def parse_period(
    month: str | None = None,
    quarter: str | None = None,
    year: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Period:
    """Exactly one of month, quarter, year, or a from/to pair (both given)."""
    chosen = [
        name
        for name, value in (
            ("--month", month),
            ("--quarter", quarter),
            ("--year", year),
            ("--from/--to", date_from or date_to),
        )
        if value
    ]
    if len(chosen) != 1:
        said = ", ".join(chosen) if chosen else "none"
        raise UsageError(
            f"give exactly one period: --month YYYY-MM, --quarter YYYY-Qn, --year YYYY or --from and --to "
            f"(given: {said})"
        )
    if month:
        return parse_month(month)
    if quarter:
        return parse_quarter(quarter)
    if year:
        return parse_year(year)
    if not (date_from and date_to):
        raise UsageError(
            "--from and --to go together: give both dates, e.g. --from 01/09/2026 --to 30/11/2026"
        )
    start, end = parse_day("--from", date_from), parse_day("--to", date_to)
    if end < start:
        raise UsageError(f"--to {end:%d/%m/%Y} is before --from {start:%d/%m/%Y}")
    return range_period(start, end)
