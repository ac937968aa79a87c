"""What makes the report workbook accessible: alt text for its charts, names for its Excel Tables.

Published packs go to partnership boards and onto public-sector websites, where the accessibility
regulations apply (WCAG 2.2 AA; the Analysis Function's "Releasing statistics in spreadsheets" and
what Excel's Accessibility Checker flags). ``report.workbook`` writes every block of figures as an
Excel Table with a header row (so a screen reader announces the column heading with each figure)
and gives every chart alternative text worked out here from the figures it draws:

* what kind of chart, what it measures, the span it covers and the report's period;
* the highest and lowest figure of each line and the latest one, in the words a board member uses;
* in a published pack only figures the chart itself draws: a figure hidden as ``c`` is never named,
  never used in a sum and never worked out, and the text says hidden figures are gaps.

No chart shows anything about a single child (the report holds counts only), so neither can its
alt text.
"""

from __future__ import annotations

import math
import re

from cstracker.core.periods import Period
from cstracker.report.data import Table

#: the heading of a table's first column (its row labels), by table key; a Table header cell must
#: be non-empty text, unique in the table. A table whose index has a name uses that instead.
ROW_HEADINGS = {
    "summary_decisions": "Suitability decision",
    "summary_activity": "Measure",
    "summary_timeliness": "Measure",
    "summary_totals": "Measure",
    "summary_top_themes": "Theme",
    "summary_months": "Month",
    "monthly_trend": "Month",
    "quarterly_trend": "Quarter",
    "themes_counts": "Theme",
    "themes_held": "Measure",
    "themes_shares": "Theme",
    "themes_cooccurrence": "Theme",
    "referrers": "Referrer team/service",
    "young_age": "Age band",
    "young_gender": "Gender",
    "young_ethnicity": "Ethnicity",
    "young_legal_status": "Legal status",
    "young_education": "Education",
    "contexts": "Place or group",
    "actions_matched": "Primary concern",
    "actions_agreed": "Context",
    "actions_missing": "Referral ID",
    "interventions": "Intervention",
    "timeliness": "Days between",
    "overdue": "Referral ID",
    "dq_reading": "Field",
    "dq_rules": "Rule",
    "dq_rows": "Referral ID",
    "dq_completeness": "Field",
}
#: the heading when nothing better is known (a table added later keeps a valid, readable header)
ROW_HEADING = "Item"


def row_heading(t: Table) -> str:
    name = t.data.index.name
    if isinstance(name, str) and name.strip():
        return name.strip()
    if t.key in ROW_HEADINGS:
        return ROW_HEADINGS[t.key]
    for key, heading in ROW_HEADINGS.items():  # e.g. a full list on its own sheet: "overdue_all"
        if t.key.startswith(key + "_"):
            return heading
    return ROW_HEADING


def header_names(t: Table, columns: list[str]) -> list[str]:
    """The Table's header row: the row heading then the columns, non-empty and unique ignoring case
    (Excel repairs a file whose Table headers repeat)."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in [row_heading(t), *(str(c) for c in columns)]:
        name = " ".join(raw.split()) or ROW_HEADING  # a line break in a Table header is one more risk
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate, n = f"{name} ({n})", n + 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def table_name(key: str, used: set[str]) -> str:
    """A workbook-unique Excel Table name from a table key: ``summary_months`` -> ``SummaryMonths``."""
    base = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", key) if part)
    if not base or not base[0].isalpha() or re.fullmatch(r"[A-Za-z]{1,3}\d+|[RrCc]\d*([RrCc]\d+)?", base):
        base = "Table" + base  # a name must not start with a digit or look like a cell reference
    name, n = base, 2
    while name.lower() in used:
        name, n = f"{base}{n}", n + 1
    used.add(name.lower())
    return name


# -- alt text -----------------------------------------------------------------------------------


def _number(value) -> int | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v)


def _series(t: Table, column: str, labels: list[str], hidden: set[tuple[str, str]]) -> list[int | None]:
    return [None if (label, column) in hidden else _number(t.data.loc[label, column]) for label in labels]


def _span(labels: list[str], per: str) -> str:
    """'Nov 2025 to Oct 2026'; labels that are spans themselves ('Oct to Dec 2024') would read as one
    long run of 'to', so: '8 quarters, the first Oct to Dec 2024 and the last Jul to Sep 2026'."""
    if len(labels) == 1:
        return labels[0]
    if any(" to " in label for label in labels):
        return f"{len(labels)} {per}s, the first {labels[0]} and the last {labels[-1]}"
    return f"{labels[0]} to {labels[-1]}"


def _line(name: str, labels: list[str], values: list[int | None], per: str, partial: bool) -> str:
    """'Referrals received were highest in Mar 2026 (28) and lowest in May 2026 (16), with 18 in Oct
    2026.' from the figures shown only."""
    shown = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
    if not shown:
        return f"Every figure of {name.lower()} is hidden."
    lead = f"Of the {per}s shown, {name.lower()}" if partial else name
    high = max(v for _, v in shown)
    low = min(v for _, v in shown)
    if high == low:
        text = f"{lead} were {high} each {per}" + (" shown" if partial else "")
    else:
        at_high = next(label for label, v in shown if v == high)
        at_low = next(label for label, v in shown if v == low)
        text = f"{lead} were highest in {at_high} ({high}) and lowest in {at_low} ({low})"
    latest = values[-1]
    if latest is not None:
        text += f", with {latest} in {labels[-1]}"
    else:
        text += f"; the figure for {labels[-1]} is hidden"
    return text + "."


def lines_alt_text(
    t: Table,
    columns: list[str],
    period: Period,
    per: str,
    hidden: set[tuple[str, str]],
    published: bool,
    what: str | None = None,
    total_column: str | None = None,
    what_one: str = "line",
) -> str:
    """Alt text of a line chart with one line per column of ``t`` over its rows (months, quarters);
    with many lines, the table's ``total_column`` (when shown) and the largest figure instead."""
    labels = [str(label) for label in t.data.index]
    if not labels:
        return f"Line chart: no figures to draw, in the report for {period.title}."
    measures = what or " and ".join(c.lower() for c in columns)
    parts = [
        f"Line chart: {measures} each {per}, {_span(labels, per)}, in the report for {period.title}.",
    ]
    if len(columns) <= 3:
        for c in columns:
            values = _series(t, c, labels, hidden)
            parts.append(_line(c, labels, values, per, partial=any(v is None for v in values)))
    else:
        if total_column is not None:
            values = _series(t, total_column, labels, hidden)
            total = f"All referrals received each {per}"
            parts.append(_line(total, labels, values, per, partial=any(v is None for v in values)))
        parts.append(_largest_cell(t, columns, labels, hidden, f"referrals for one {what_one} in a {per}"))
    if published:
        parts.append("Figures hidden as c (small counts) are gaps in the lines, not zero.")
    parts.append(f"The figures are in the table '{t.title}' on this sheet.")
    return " ".join(parts)


def _largest_cell(t: Table, columns: list[str], labels: list[str], hidden, what: str) -> str:
    """For many lines: the largest figure shown and where, e.g. 'Individual in Jan to Mar 2026 (19)'."""
    best = None
    for c in columns:
        for label, v in zip(labels, _series(t, c, labels, hidden), strict=True):
            if v is not None and (best is None or v > best[2]):
                best = (c, label, v)
    if best is None:
        return "Every figure is hidden."
    qualifier = "Of the figures shown, the" if hidden else "The"
    return f"{qualifier} most {what} was {best[0]} in {best[1]} ({best[2]})."


def stacked_alt_text(
    t: Table, columns: list[str], total_column: str, total_row: str, period: Period, per: str
) -> str:
    """Alt text of the internal stacked column chart: a count per row (month) split by column, with
    the table's own Total row and column (internal reports only: nothing is hidden)."""
    labels = [str(label) for label in t.data.index if str(label) != total_row]
    if not labels:
        return f"Column chart: no figures to draw, in the report for {period.title}."
    totals = _series(t, total_column, labels, set())
    grand = (
        _number(t.data.loc[total_row, total_column])
        if total_row in t.data.index
        else sum(v or 0 for v in totals)
    )
    parts = [
        f"Column chart: referrals received each {per} by primary concern, stacked, {_span(labels, per)}, "
        f"in the report for {period.title}; {grand} in all.",
        _line("Referrals received", labels, totals, per, partial=False),
    ]
    if total_row in t.data.index:
        by_column = {c: _number(t.data.loc[total_row, c]) or 0 for c in columns}
        ranked = sorted(columns, key=lambda c: -by_column[c])
        top = [f"{c} ({by_column[c]})" for c in ranked[:2] if by_column[c]]
        if top:
            parts.append(f"The most common primary concern was {' then '.join(top)}.")
    parts.append(f"The figures are in the table '{t.title}' on this sheet.")
    return " ".join(parts)
