"""Every table of the trend report, computed with pandas from the tracker's dataframe.

Input is ``Tracker.dataframe()`` (one column per field key, dates datetime64,
flags bool, "_row"). Output is a ``Report`` (``report/data.py``): sheets of ``Table`` objects, each a
real grid of numbers with its labels, ready for ``report_workbook`` to write
and, for the published version, for ``suppression`` to protect.

Which date counts a row into a period:

* referrals, decisions, referrers, young people, repeat referrals, data
  quality: the date received;
* consultations, themes, contexts, actions, interventions: the consultation
  date (only consultations already held on ``today``);
* follow-ups: the follow-up due date (consultation date + the tracker's
  follow-up period), overdue when it is before ``today`` and no follow-up date
  is recorded. A consultation held before the tracker's ``tracker_start`` is
  history: it has no follow-up due, so it is never due or overdue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from cstracker.core.config import Settings
from cstracker.core.periods import Period, month_end
from cstracker.core.schema import CodeLists
from cstracker.report.data import (
    AGE_BANDS,
    NOT_RECORDED,
    THEMES_NOTE,
    TOTAL,
    WHOLE_DAYS_RULE,
    Report,
    ReportData,
    Table,
    change_columns,
    codes_with_blank,
    crosstab,
    figure_id,
    median_of,
    month_label,
    stamp,
    theme_shares_table,
    whole_days,
    within,
)
from cstracker.report.practice import actions, contexts, data_quality, reading_warnings, timeliness


def build_report(
    df: pd.DataFrame,
    period: Period,
    lists: CodeLists,
    settings: Settings,
    today: dt.date,
    trend_months: int | None = None,
    internal: bool = True,
) -> Report:
    """Every table for ``period``; ``today`` decides what is held, overdue or in the future.

    ``internal=False`` leaves out the tables only the internal report shows (contexts, lists).
    """
    data = ReportData(df, lists, settings, today)
    months = period.trend_months(trend_months or (24 if period.kind == "year" else 12))
    themes = _themes(data, period, months)
    sheets = {
        "Summary": _summary(data, period, months),
        "Monthly trend": [_monthly_trend(data, months)],
        # co-occurrence has a column per theme: on its own sheet it prints at a readable size
        "Themes": themes[:-1],
        "Themes together": themes[-1:],
        "Referrers": [_referrers(data, period)],
        "Young people": _young_people(data, period),
        "Contexts": [contexts(data, period)] if internal else [],
        "Actions": actions(data, period),
        "Timeliness": timeliness(data, period),
        "Data quality": data_quality(data, period) if internal else [],
    }
    if not internal:
        sheets = {name: [t for t in tables if not t.internal] for name, tables in sheets.items()}
    return Report(
        period,
        today,
        settings,
        months,
        sheets,
        rows_in_period=int(data.received_in(period.start, period.end).sum()),
        warnings=reading_warnings(df),
    )


# -- Summary ------------------------------------------------------------------------------------


def _summary(d: ReportData, period: Period, months: list[dt.date]) -> list[Table]:
    previous, last_year = period.previous(), period.last_year()
    if last_year == previous:  # a calendar year: show the year before that instead
        last_year = previous.previous()
    periods = [period, previous, last_year]
    cols = [p.heading for p in periods]
    codes = d.lists.codes("suitability")
    decision_rows = [*codes, NOT_RECORDED, "Referrals received"]
    decisions = pd.DataFrame(0, index=decision_rows, columns=cols)
    activity_rows = [
        "Consultations held",
        "Follow-ups due",
        "Follow-ups overdue",
        "Repeat referrals (same Mosaic ID within 12 months)",
    ]
    activity = pd.DataFrame(0, index=activity_rows, columns=cols)
    median = pd.DataFrame(index=["Median days from referral to consultation"], columns=cols, dtype=object)
    ids: dict[tuple[str, str], str] = {}
    median_basis: dict[tuple[str, str], tuple[str, ...]] = {}
    n: dict[tuple[str, str], int] = {}
    for p, col in zip(periods, cols, strict=True):
        got = d.received_in(p.start, p.end)
        sv = codes_with_blank(d.df.loc[got, "suitability"], codes)
        counts = pd.Series(sv).value_counts().reindex([*codes, NOT_RECORDED], fill_value=0)
        for code in [*codes, NOT_RECORDED]:
            decisions.loc[code, col] = int(counts[code])
            ids[(code, col)] = figure_id("dec", p.start, p.end, code)
        decisions.loc["Referrals received", col] = int(got.sum())
        ids[("Referrals received", col)] = figure_id("recv", p.start, p.end)
        held = d.consulted_in(p.start, p.end)
        due = within(d.due, p.start, p.end)
        overdue = due & (d.due < stamp(d.today)) & d.followed.isna()
        activity.loc[activity_rows[0], col] = int(held.sum())
        activity.loc[activity_rows[1], col] = int(due.sum())
        activity.loc[activity_rows[2], col] = int(overdue.sum())
        activity.loc[activity_rows[3], col] = int((got & d.repeat).sum())
        ids[(activity_rows[0], col)] = figure_id("cons", p.start, p.end)
        waits = (d.consulted[held] - d.received[held]).dt.days.dropna()
        median.loc[median.index[0], col] = whole_days(median_of(waits))
        median_basis[(median.index[0], col)] = ()
        n[(median.index[0], col)] = len(waits)
    decisions = decisions.astype(object)
    activity = activity.astype(object)
    changes = {}
    for frame in (decisions, activity, median):
        changes[id(frame)] = change_columns(frame, cols[0], cols[1:], set() if frame is median else None)
    t_decisions = Table(
        "summary_decisions",
        "Referrals received and the suitability decision",
        decisions,
        counts=tuple(cols),
        col_totals=True,
        ids=ids,
        formats=changes[id(decisions)][0],
        note=CHANGE_NOTE,
    )
    t_activity = Table(
        "summary_activity",
        "Consultations, follow-ups and repeat referrals",
        activity,
        counts=tuple(cols),
        ids=ids,
        formats=changes[id(activity)][0],
    )
    t_median = Table(
        "summary_timeliness",
        "Time to consultation",
        median,
        basis=median_basis,
        n=n,
        formats={**dict.fromkeys(cols, "days"), **changes[id(median)][0]},
        note=WHOLE_DAYS_RULE,
    )
    for t in (t_decisions, t_activity):
        for cell, (a, b) in changes[id(t.data)][1].items():
            t.basis[cell] = (t.cell_id(cell[0], a), t.cell_id(cell[0], b))
    return [t_decisions, t_activity, t_median, _top_themes(d, period), _last_months(d, months)]


#: what the Summary's change columns compare, said under its first table
CHANGE_NOTE = (
    "Change = this period's figure minus the earlier one; % change = that change as a share of the "
    "earlier figure (blank when the earlier figure is 0)."
)


def _top_themes(d: ReportData, period: Period, top: int = 5) -> Table:
    held = d.consulted_in(period.start, period.end)
    total = int(held.sum())
    counts = pd.Series(d.theme_counts(held), index=d.themes)
    counts = counts[counts > 0]
    order = sorted(counts.index, key=lambda t: (-counts[t], d.themes.index(t)))[:top]
    frame = pd.DataFrame(
        {
            "Consultations": [int(counts[t]) for t in order],
            "Share of consultations": [counts[t] / total for t in order],
        },
        index=order,
        dtype=object,
    )
    cons_id = figure_id("cons", period.start, period.end)
    ids = {(t, "Consultations"): figure_id("theme", period.start, period.end, t) for t in order}
    basis = {(t, "Share of consultations"): (ids[(t, "Consultations")], cons_id) for t in order}
    return Table(
        "summary_top_themes",
        "Top themes of the consultations held",
        frame,
        counts=("Consultations",),
        ids=ids,
        basis=basis,
        formats={"Share of consultations": "pct"},
    )


def _last_months(d: ReportData, months: list[dt.date]) -> Table:
    months = months[-12:]
    rows, ids = [], {}
    for m in months:
        end = month_end(m)
        label = month_label(m)
        rows.append((label, int(d.received_in(m, end).sum()), int(d.consulted_in(m, end).sum())))
        ids[(label, "Referrals received")] = figure_id("recv", m, end)
        ids[(label, "Consultations held")] = figure_id("cons", m, end)
    frame = pd.DataFrame(
        [r[1:] for r in rows],
        index=[r[0] for r in rows],
        columns=["Referrals received", "Consultations held"],
    )
    return Table(
        "summary_months",
        "The last 12 months",
        frame,
        counts=("Referrals received", "Consultations held"),
        ids=ids,
    )


# -- Monthly trend ------------------------------------------------------------------------------


def _monthly_trend(d: ReportData, months: list[dt.date]) -> Table:
    first, last = months[0], month_end(months[-1])
    window = d.received_in(first, last)
    month_of = d.received[window].dt.to_period("M").dt.start_time.dt.date
    labels = {m: month_label(m) for m in months}
    rows = pd.Categorical(month_of.map(labels), categories=list(labels.values()))
    concern = pd.Categorical(pd.Series(d.concern)[window.to_numpy()], categories=d.concern.categories)
    table = crosstab(rows, concern)
    ids = {}
    for m, label in labels.items():
        end = month_end(m)
        ids[(label, TOTAL)] = figure_id("recv", m, end)
        for c in table.columns[:-1]:
            ids[(label, c)] = figure_id("recv", m, end, "concern", c)
    ids[(TOTAL, TOTAL)] = figure_id("recv", first, last)
    for c in table.columns[:-1]:
        ids[(TOTAL, c)] = figure_id("recv", first, last, "concern", c)
    return Table(
        "monthly_trend",
        f"Referrals received per month by primary concern (last {len(months)} months)",
        table,
        counts=tuple(table.columns),
        row_totals=True,
        col_totals=True,
        ids=ids,
        note="Primary concern is recorded at the consultation: 'Not recorded' holds referrals "
        "not (yet) consulted on.",
    )


# -- Themes -------------------------------------------------------------------------------------


def _themes(d: ReportData, period: Period, months: list[dt.date]) -> list[Table]:
    labels = [month_label(m) for m in months]
    first, last = months[0], month_end(months[-1])
    counts = pd.DataFrame(0, index=d.themes, columns=[*labels, TOTAL])
    held_row = pd.DataFrame(0, index=["Consultations held"], columns=[*labels, TOTAL])
    shares = pd.DataFrame(index=d.themes, columns=[*labels, TOTAL], dtype=float)
    ids, basis = {}, {}
    spans = [(label, m, month_end(m)) for label, m in zip(labels, months, strict=True)]
    spans.append((TOTAL, first, last))
    for col, start, end in spans:
        held = d.consulted_in(start, end)
        n_held = int(held.sum())
        held_row.loc["Consultations held", col] = n_held
        cons_id = figure_id("cons", start, end)
        ids[("Consultations held", col)] = cons_id
        per_theme = d.theme_counts(held)
        counts[col] = per_theme
        shares[col] = [k / n_held if n_held else None for k in per_theme]
        for t in d.themes:
            ids[(t, col)] = figure_id("theme", start, end, t)
            basis[(t, col)] = (ids[(t, col)], cons_id)
    t_counts = Table(
        "themes_counts",
        "Consultations per theme per month",
        counts.astype(int),
        counts=tuple(counts.columns),
        row_totals=True,
        ids=ids,
        note=THEMES_NOTE,
    )
    t_held = Table(
        "themes_held",
        "Consultations held per month",
        held_row.astype(int),
        counts=tuple(held_row.columns),
        row_totals=True,
        ids=ids,
    )
    t_shares = theme_shares_table(shares, basis)
    return [t_counts, t_held, t_shares, _cooccurrence(d, period)]


def _cooccurrence(d: ReportData, period: Period) -> Table:
    held = d.consulted_in(period.start, period.end)
    flags = d.theme_flags[held.to_numpy()].astype(int)
    matrix = flags.T @ flags
    frame = pd.DataFrame(matrix, index=d.themes, columns=d.themes).astype(int)
    ids = {}
    for i, a in enumerate(d.themes):
        for b in d.themes[i:]:
            fid = figure_id("theme", period.start, period.end, a) if a == b else f"co:{period.label}:{a}|{b}"
            ids[(a, b)] = ids[(b, a)] = fid
    return Table(
        "themes_cooccurrence",
        f"Themes that travel together: consultations held in {period.title} with both themes",
        frame,
        counts=tuple(d.themes),
        ids=ids,
        note="The diagonal is the number of consultations with that theme.",
        turned=True,
    )


# -- Referrers ----------------------------------------------------------------------------------


def _referrers(d: ReportData, period: Period) -> Table:
    got = d.received_in(period.start, period.end).to_numpy()
    sub = d.df.loc[got]
    team = codes_with_blank(sub["referrer_team"], d.codes_seen("referrer_team"))
    decision = codes_with_blank(sub["suitability"], d.lists.codes("suitability"))
    table = crosstab(team, decision)
    table = table.rename(columns={TOTAL: "Referrals received"})
    codes = d.lists.codes("suitability")
    suitable, unsuitable = codes[0], codes[1]
    decided = table[suitable] + table[unsuitable]
    frame = table.astype(object)
    frame["Share suitable (of decided)"] = [
        (s / n if n else None) for s, n in zip(table[suitable], decided, strict=True)
    ]
    tops = []
    team_of = np.asarray(team.astype(str))
    for label in table.index:
        mask = got.copy()
        if label != TOTAL:
            mask[got] = team_of == label
        sums = dict(zip(d.themes, d.theme_counts(mask), strict=True))
        best = sorted((t for t in sums if sums[t]), key=lambda t: (-sums[t], d.themes.index(t)))[:3]
        tops.append(", ".join(f"{t} ({sums[t]})" for t in best))
    frame["Top themes"] = tops
    count_cols = tuple(table.columns)
    ids = {(TOTAL, c): figure_id("dec", period.start, period.end, c) for c in count_cols[:-1]}
    ids[(TOTAL, "Referrals received")] = figure_id("recv", period.start, period.end)
    t = Table(
        "referrers",
        f"Referrals received in {period.title} by referrer team/service",
        frame,
        counts=count_cols,
        row_totals=True,
        col_totals=True,
        ids=ids,
        formats={"Share suitable (of decided)": "pct", "Top themes": "text"},
        note="A low share found suitable can show where a team needs training on what the "
        "Contextual Safeguarding service offers.",
    )
    for label in table.index:
        t.basis[(label, "Share suitable (of decided)")] = tuple(t.cell_id(label, c) for c in count_cols)
    return t


# -- Young people -------------------------------------------------------------------------------


def age_band(age: Any) -> str:
    if age is None or age is pd.NA or (isinstance(age, float) and pd.isna(age)):
        return NOT_RECORDED
    for lo, hi in AGE_BANDS:
        if lo <= int(age) <= hi:
            return f"{lo}-{hi}"
    return NOT_RECORDED


def _young_people(d: ReportData, period: Period) -> list[Table]:
    got = d.received_in(period.start, period.end).to_numpy()
    sub = d.df.loc[got]
    concern = pd.Categorical(pd.Series(d.concern)[got], categories=d.concern.categories)
    bands = [f"{lo}-{hi}" for lo, hi in AGE_BANDS]
    rows = [
        ("age", "Age band", pd.Categorical(sub["age"].map(age_band), categories=[*bands, NOT_RECORDED])),
    ]
    for key, title in (
        ("gender", "Gender"),
        ("ethnicity", "Ethnicity"),
        ("legal_status", "Legal status"),
        ("education", "Education"),
    ):
        rows.append((key, title, codes_with_blank(sub[key], d.lists.codes(key))))
    out = []
    for key, title, cats in rows:
        table = crosstab(cats, concern)
        ids = {(TOTAL, TOTAL): figure_id("recv", period.start, period.end)}
        for c in table.columns[:-1]:
            ids[(TOTAL, c)] = figure_id("recv", period.start, period.end, "concern", c)
        out.append(
            Table(
                f"young_{key}",
                f"{title} by primary concern (referrals received in {period.title})",
                table.rename_axis(None),
                counts=tuple(table.columns),
                row_totals=True,
                col_totals=True,
                ids=ids,
            )
        )
    return out
