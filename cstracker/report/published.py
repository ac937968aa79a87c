"""The published pack (``report --publish``): every count a figure of ``figures.py``, protected as a run.

The board receives a run of packs (monthly, quarterly, yearly) and can read them
side by side, so what is shown is chosen for the whole run, not one table at a time:

* Totals by month (referrals received, consultations held) for the period, the period
  before, the same period last year and the last 12 months.
* Every breakdown (by primary concern, decision, team, young person, theme, action) covers
  whole quarters: the latest complete quarter for a monthly pack, the quarter for a
  quarterly pack, the year for a yearly pack. Breakdowns never cover a single month,
  so comparing packs cannot isolate one month's small numbers, and monthly packs of
  the same quarter repeat the same figures.
* A breakdown by primary concern where most cells would be hidden is shown by its own
  categories only, with the rule stated under the table.
* Nothing ranks figures (no "top themes"): an order would tell how a hidden figure
  compares with a shown one. Follow-ups overdue change with the day a pack is made,
  so they stay in the internal report.

Then ``disclosure.protect`` hides more until every hidden figure, read with every
pack in the ledger, has at least three possible values.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cstracker.core.config import Settings
from cstracker.core.errors import UsageError
from cstracker.core.periods import Period, _calendar_period, add_months, month_end, span_heading
from cstracker.core.schema import CodeLists
from cstracker.report.data import (
    THEMES_NOTE,
    TOTAL,
    WHOLE_DAYS_RULE,
    Report,
    ReportData,
    Table,
    change_columns,
    month_label,
    theme_shares_table,
    whole_days,
)
from cstracker.report.disclosure import protect
from cstracker.report.figures import Change, Key, Model, build_model, key
from cstracker.report.practice import reading_warnings
from cstracker.report.suppression import protect_tables
from cstracker.report.tables import CHANGE_NOTE

YP = (
    ("age", "Age band"),
    ("gender", "Gender"),
    ("ethnicity", "Ethnicity"),
    ("legal_status", "Legal status"),
    ("education", "Education"),
)


def breakdown_period(period: Period) -> Period:
    """The whole quarter (or year) a pack's breakdowns cover."""
    if period.kind in ("quarter", "year"):
        return period
    if period.kind != "month":
        raise UsageError(
            "a published pack covers a month, a quarter or a year (--month, --quarter or --year), "
            "so that its figures fit the other packs; use the internal report for a date range"
        )
    end = period.end
    q_start = dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    if month_end(add_months(q_start, 2)) > end:
        q_start = add_months(q_start, -3)
    return _calendar_period(q_start, "quarter")


def quarters_to(end: dt.date, count: int) -> list[Period]:
    q = dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    return [_calendar_period(add_months(q, -3 * i), "quarter") for i in range(count - 1, -1, -1)]


class _Builder:
    def __init__(self, model: Model, settings: Settings):
        self.model = model
        self.threshold = settings.small_count_threshold
        self.keys: dict[str, dict[tuple[str, str], Key]] = {}

    def counts(self, tkey: str, title: str, cells: dict[str, dict[str, Key]], **kw) -> Table:
        """A table of counts: rows -> columns -> figure key."""
        rows = list(cells)
        cols = list(next(iter(cells.values()))) if cells else []
        frame = pd.DataFrame(
            [[self.model.value(cells[r][c]) for c in cols] for r in rows],
            index=rows,
            columns=cols,
            dtype=object,
        )
        t = Table(tkey, title, frame, counts=tuple(cols), **kw)
        self.keys[tkey] = {(r, c): cells[r][c] for r in rows for c in cols}
        t.ids = {cell: repr(k) for cell, k in self.keys[tkey].items()}
        return t


def build_published(
    d: ReportData,
    period: Period,
    lists: CodeLists,
    settings: Settings,
    ledger: dict[Key, tuple[bool, int | None]],
) -> tuple[Report, dict[Key, bool], set[Key]]:
    """The published tables for ``period``, the state of every figure, and the figures new to the ledger."""
    b = breakdown_period(period)
    previous, last_year = period.previous(), period.last_year()
    if last_year == previous:
        last_year = previous.previous()
    months = period.trend_months(12)
    trend = quarters_to(b.end, 8)
    window = quarters_to(b.end, 4)
    first = min(months[0], last_year.start, trend[0].start, window[0].start)
    for k in ledger:
        first = min(first, dt.date(int(k[1][:4]), int(k[1][5:]), 1))
    last = max(period.end, b.end)
    for k in ledger:
        last = max(last, month_end(dt.date(int(k[2][:4]), int(k[2][5:]), 1)))
    model = build_model(d, first, last)
    bl = _Builder(model, settings)
    sheets = {
        "Summary": _summary(bl, d, period, previous, last_year, months, b),
        "Quarterly trend": [_trend(bl, d, trend)],
        "Themes": _themes(bl, d, window, b),
        "Themes together": [_cooccurrence(bl, d, b)],
        "Referrers": [_referrers(bl, d, b)],
        "Young people": [_young(bl, d, b, col, title) for col, title in YP],
        "Actions": _actions(bl, d, b),
        "Timeliness": [_timeliness(bl, d, b)],
    }
    received = model.value(key("recv", period.start, period.end))
    report = Report(
        period, d.today, settings, months, sheets, rows_in_period=received, warnings=reading_warnings(d.df)
    )
    figures = {k for table in bl.keys.values() for k in table.values()}
    states: dict[Key, bool] = {k: h for k, (h, _) in ledger.items()}
    new = figures - set(states)
    # A figure shown before whose count has since become small (a correction) is hidden now.
    new |= {k for k in figures - new if not states[k] and 1 <= model.value(k) <= bl.threshold}
    # Table by table first (quick, and settles most cells), then the run as a whole.
    tables = [t for ts in sheets.values() for t in ts]
    changes = sorted({Change(*pair) for t in tables for pair in t.changes.values()})
    seeded = protect_tables(tables, bl.threshold) if bl.threshold > 0 else {}
    for t in tables:
        for cell, k in bl.keys.get(t.key, {}).items():
            if k in new and k not in ledger:
                states[k] = states.get(k, False) or cell in seeded.get(t.key, set())
    if bl.threshold > 0:
        for k in new:
            if 1 <= model.value(k) <= bl.threshold:
                states[k] = True
        keep = {k for k, (h, _) in ledger.items() if h} | {
            k for k in figures if 1 <= model.value(k) <= bl.threshold
        }
        states = protect(model, states, new, keep_hidden=keep, changes=changes)
    hidden: dict[str, set[tuple[str, str]]] = {}
    for t in tables:
        cells = {cell for cell, k in bl.keys.get(t.key, {}).items() if states.get(k)}
        for cell, basis in t.basis.items():
            if any(states.get(k) for k in basis) or (cell in t.n and t.n[cell] <= bl.threshold):
                cells.add(cell)
        for cell, pair in t.changes.items():
            # hidden with either figure (its basis); never shown beside a c, whatever decided the cells
            if cell not in cells and not Change(*pair).shown(states):
                raise AssertionError(f"a change would be shown beside a hidden figure: {cell}")
        hidden[t.key] = cells
    report.hidden = hidden
    report.figure_keys = bl.keys
    return report, states, new


# -- the tables ------------------------------------------------------------------------------------


def _summary(bl: _Builder, d: ReportData, period, previous, last_year, months, b: Period) -> list[Table]:
    periods = [period, previous, last_year]
    totals = bl.counts(
        "summary_totals",
        "Referrals received and consultations held",
        {
            "Referrals received": {p.heading: key("recv", p.start, p.end) for p in periods},
            "Consultations held": {p.heading: key("cons", p.start, p.end) for p in periods},
        },
        note=CHANGE_NOTE + " A change is shown only where both figures are.",
    )
    cols = [p.heading for p in periods]
    formats, basis = change_columns(totals.data, cols[0], cols[1:])
    totals.formats.update(formats)
    keys = bl.keys["summary_totals"]
    for cell, (now, then) in basis.items():
        # a difference of two shown figures tells nothing new; next to a c it would tell the c
        totals.basis[cell] = totals.changes[cell] = (keys[(cell[0], now)], keys[(cell[0], then)])
    last12 = bl.counts(
        "summary_months",
        "The last 12 months",
        {
            month_label(m): {
                "Referrals received": key("recv", m, month_end(m)),
                "Consultations held": key("cons", m, month_end(m)),
            }
            for m in months
        },
    )
    codes = [*d.lists.codes("suitability"), "Not recorded"]
    dec = {c: {b.heading: key("recv", b.start, b.end, ("decision", c))} for c in codes}
    dec["Referrals received"] = {b.heading: key("recv", b.start, b.end)}
    decisions = bl.counts(
        "summary_decisions", f"Suitability decision on referrals received in {b.title}", dec, col_totals=True
    )
    activity = bl.counts(
        "summary_activity",
        f"Consultations, follow-ups and repeat referrals in {b.title}",
        {
            "Consultations held": {b.heading: key("cons", b.start, b.end)},
            "Follow-ups due": {b.heading: key("due", b.start, b.end)},
            "Repeat referrals (same Mosaic ID within 12 months)": {
                b.heading: key("recv", b.start, b.end, ("repeat", "yes"))
            },
        },
    )
    held = d.consulted_in(b.start, b.end)
    waits = (d.consulted[held] - d.received[held]).dt.days.dropna()
    label = "Median days from referral to consultation"
    median = Table(
        "summary_timeliness",
        f"Time to consultation ({b.title})",
        pd.DataFrame(
            {b.heading: [whole_days(float(waits.median())) if len(waits) else None]},
            index=[label],
            dtype=object,
        ),
        basis={(label, b.heading): (key("cons", b.start, b.end),)},
        n={(label, b.heading): len(waits)},
        formats={b.heading: "days"},
        note=WHOLE_DAYS_RULE,
    )
    return [totals, last12, decisions, activity, median]


def _trend(bl: _Builder, d: ReportData, quarters: list[Period]) -> Table:
    cats = [str(c) for c in d.concern.categories]
    cells = {
        q.heading: {
            **{c: key("recv", q.start, q.end, ("concern", c)) for c in cats},
            TOTAL: key("recv", q.start, q.end),
        }
        for q in quarters
    }
    return bl.counts(
        "quarterly_trend",
        f"Referrals received per quarter by primary concern (last {len(quarters)} quarters)",
        cells,
        row_totals=True,
        note="Published by quarter: a month's figures by primary concern are too small to show. "
        "'Not recorded' holds referrals not (yet) consulted on.",
    )


def _themes(bl: _Builder, d: ReportData, quarters: list[Period], b: Period) -> list[Table]:
    first, last = quarters[0].start, quarters[-1].end
    span = span_heading(first, last)
    cols = [(q.heading, q.start, q.end) for q in quarters] + [
        (span if b.kind == "quarter" else TOTAL, first, last)
    ]
    counts = bl.counts(
        "themes_counts",
        "Consultations per theme per quarter",
        {t: {c: key("cons", s, e, ("theme", t)) for c, s, e in cols} for t in d.themes},
        row_totals=True,
        note=THEMES_NOTE,
    )
    held = bl.counts(
        "themes_held",
        "Consultations held per quarter",
        {"Consultations held": {c: key("cons", s, e) for c, s, e in cols}},
        row_totals=True,
    )
    shares = pd.DataFrame(index=d.themes, columns=[c for c, _, _ in cols], dtype=object)
    basis = {}
    for t in d.themes:
        for c, s, e in cols:
            n = bl.model.value(key("cons", s, e))
            shares.loc[t, c] = bl.model.value(key("cons", s, e, ("theme", t))) / n if n else None
            basis[(t, c)] = (key("cons", s, e, ("theme", t)), key("cons", s, e))
    t_shares = theme_shares_table(shares, basis)
    return [counts, held, t_shares]


def _cooccurrence(bl: _Builder, d: ReportData, b: Period) -> Table:
    cells = {
        a: {x: key("cons", b.start, b.end, *{("theme", a), ("theme", x)}) for x in d.themes} for a in d.themes
    }
    return bl.counts(
        "themes_cooccurrence",
        f"Themes that travel together: consultations held in {b.title} with both themes",
        cells,
        note="The diagonal is the number of consultations with that theme.",
        turned=True,
    )


def _referrers(bl: _Builder, d: ReportData, b: Period) -> Table:
    teams = [*d.lists.codes("referrer_team"), "Not recorded"]
    decisions = [*d.lists.codes("suitability"), "Not recorded"]

    def k(*cond):
        return key("recv", b.start, b.end, *cond)

    cells = {
        team: {
            **{c: k(("team", team), ("decision", c)) for c in decisions},
            "Referrals received": k(("team", team)),
        }
        for team in teams
    }
    cells[TOTAL] = {**{c: k(("decision", c)) for c in decisions}, "Referrals received": k()}
    t = bl.counts(
        "referrers",
        f"Referrals received in {b.title} by referrer team/service",
        cells,
        row_totals=True,
        col_totals=True,
        note="A low share found suitable can show where a team needs training on what the "
        "Contextual Safeguarding service offers.",
    )
    suitable, unsuitable = decisions[0], decisions[1]
    share = []
    for team in t.data.index:
        s, u = int(t.data.loc[team, suitable]), int(t.data.loc[team, unsuitable])
        share.append(s / (s + u) if s + u else None)
        t.basis[(team, "Share suitable (of decided)")] = (cells[team][suitable], cells[team][unsuitable])
    t.data["Share suitable (of decided)"] = share
    t.formats["Share suitable (of decided)"] = "pct"
    return t


def _young(bl: _Builder, d: ReportData, b: Period, col: str, title: str) -> Table:
    fam = bl.model.families[f"recv/{col}+concern"]
    cats, concerns = fam.cats

    def k(*cond):
        return key("recv", b.start, b.end, *cond)

    interior = [bl.model.value(k((col, r), ("concern", c))) for r in cats for c in concerns]
    nonzero = [v for v in interior if v]
    small = [v for v in nonzero if v <= bl.threshold]
    if bl.threshold and nonzero and len(small) * 2 > len(nonzero):
        cells = {r: {"Referrals received": k((col, r))} for r in cats}
        cells[TOTAL] = {"Referrals received": k()}
        return bl.counts(
            f"young_{col}",
            f"{title} (referrals received in {b.title})",
            cells,
            col_totals=True,
            note=f"Not split by primary concern: in {b.title} most of those figures would be {bl.threshold} or "
            "fewer and hidden. The split is shown when most can be.",
        )
    cells = {r: {**{c: k((col, r), ("concern", c)) for c in concerns}, TOTAL: k((col, r))} for r in cats}
    cells[TOTAL] = {**{c: k(("concern", c)) for c in concerns}, TOTAL: k()}
    return bl.counts(
        f"young_{col}",
        f"{title} by primary concern (referrals received in {b.title})",
        cells,
        row_totals=True,
        col_totals=True,
    )


def _actions(bl: _Builder, d: ReportData, b: Period) -> list[Table]:
    fam = bl.model.families["cons/concern+action"]
    contexts = fam.cats[0]

    def k(*cond):
        return key("cons", b.start, b.end, *cond)

    cols = ["Action agreed for it", "No action for it", "Consultations with this primary concern"]
    cells = {
        c: {
            cols[0]: k(("concern", c), ("action", "yes")),
            cols[1]: k(("concern", c), ("action", "no")),
            cols[2]: k(("concern", c)),
        }
        for c in contexts
    }
    cells[TOTAL] = {
        cols[0]: k(("action", "yes")),
        cols[1]: k(("action", "no")),
        cols[2]: k(("part", fam.name)),
    }
    matched = bl.counts(
        "actions_matched",
        f"Do the actions match where harm is located? (consultations held in {b.title})",
        cells,
        row_totals=True,
        col_totals=True,
        note="The toolkit asks that agreed actions address the context where harm is located.",
    )
    agreed = bl.counts(
        "actions_agreed",
        f"Agreed actions by context ({b.title})",
        {c: {"Consultations with an action for this context": k(("action_for", c))} for c in contexts},
    )
    interventions = bl.counts(
        "interventions",
        f"Interventions offered, by type ({b.title})",
        {i: {"Consultations": k(("intervention", i))} for i in d.interventions},
    )
    n = bl.model.value(k())
    interventions.data["Share of consultations"] = [
        (bl.model.value(k(("intervention", i))) / n if n else None) for i in d.interventions
    ]
    interventions.formats["Share of consultations"] = "pct"
    for i in d.interventions:
        interventions.basis[(i, "Share of consultations")] = (k(("intervention", i)), k())
    return [matched, agreed, interventions]


def _timeliness(bl: _Builder, d: ReportData, b: Period) -> Table:
    decided = d.decided.notna() & (d.decided >= pd.Timestamp(b.start)) & (d.decided < pd.Timestamp(b.stop))
    held = d.consulted_in(b.start, b.end)
    spans = [
        ("Referral to decision", (d.decided - d.received)[decided], key("decided", b.start, b.end)),
        (
            "Decision to consultation",
            (d.consulted - d.decided)[held],
            key("cons", b.start, b.end, ("dated", "decision")),
        ),
        ("Referral to consultation", (d.consulted - d.received)[held], key("cons", b.start, b.end)),
    ]
    t = bl.counts(
        "timeliness",
        f"Days between referral, decision and consultation ({b.title})",
        {label: {"Number": k} for label, _, k in spans},
        note="Decisions made in the period, and consultations held in the period. A median or quartile of "
        "few cases is hidden with them. " + WHOLE_DAYS_RULE,
    )
    for col in ("Median days", "Lower quartile", "Upper quartile"):
        t.formats[col] = "days"
    for label, gaps, k in spans:
        days = gaps.dt.days.dropna()
        for col, q in (("Median days", 0.5), ("Lower quartile", 0.25), ("Upper quartile", 0.75)):
            t.data.loc[label, col] = whole_days(float(days.quantile(q))) if len(days) else None
            t.basis[(label, col)] = (k,)
            t.n[(label, col)] = len(days)
    return t
