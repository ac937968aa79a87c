"""What every report table is built from: the report's data (``ReportData`` over the tracker's
dataframe), the ``Table`` and ``Report`` it is made of, and the small helpers both the trend tables
(``report/tables.py``) and the practice tables (``report/practice.py``) use.

Kept apart so those two modules build on it and never on each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cstracker.core.config import Settings
from cstracker.core.periods import Period, span_heading
from cstracker.core.reading import is_open_list
from cstracker.core.schema import CodeLists, Kind

NOT_RECORDED = "Not recorded"
TOTAL = "Total"
AGE_BANDS = ((5, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 25))


@dataclass
class Table:
    """One table of the report: a grid with labels, and how its cells may be published."""

    key: str
    title: str
    data: pd.DataFrame
    #: columns holding counts (protected together when published); others are shares, stats or text
    counts: tuple[str, ...] = ()
    #: the last count column is the sum of the others / the last row is the sum of the rows above
    row_totals: bool = False
    col_totals: bool = False
    #: the same figure shown in several tables carries one id, so it is hidden everywhere or nowhere
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    #: share or statistic cell -> ids of the counts it is worked out from (hidden with any of them)
    basis: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    #: statistic cell -> how many cases it summarises (hidden when that is a small count)
    n: dict[tuple[str, str], int] = field(default_factory=dict)
    #: column -> "int", "pct", "days", "date" or "text"
    formats: dict[str, str] = field(default_factory=dict)
    #: published change cell -> (figure now, figure then): shown only where both are (``figures.Change``)
    changes: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)
    internal: bool = False
    note: str = ""
    heatmap: bool = False
    #: a list that can run to pages: at most ``cap`` rows on its sheet, the whole list on ``full_sheet``
    cap: int | None = None
    full_sheet: str = ""
    #: headings printed on their side (a grid with a column per theme fits the page that way)
    turned: bool = False

    def cell_id(self, row: str, col: str) -> str:
        return self.ids.get((row, col), f"{self.key}|{row}|{col}")

    def fmt(self, col: str) -> str:
        return self.formats.get(col, "int" if col in self.counts else "text")


#: under each themes-per-period table, internal and published
THEMES_NOTE = "A consultation can have several themes, so the themes do not add up to the consultations."


def theme_shares_table(shares: pd.DataFrame, basis: dict[tuple[str, str], tuple[Any, ...]]) -> Table:
    """The heat map of each theme's share of the consultations held, per period (internal and published):
    ``shares`` theme x period, ``basis`` each cell's (theme count, consultations held) figures."""
    return Table(
        "themes_shares",
        "Share of consultations with each theme (heat map)",
        shares,
        basis=basis,
        formats=dict.fromkeys(shares.columns, "pct"),
        heatmap=True,
    )


@dataclass
class Report:
    period: Period
    today: dt.date
    settings: Settings
    months: list[dt.date]
    sheets: dict[str, list[Table]]
    rows_in_period: int = 0
    #: what this report read differently from the live Trends sheet (non-canonical values, rows
    #: below the Table): one line each for the command to print
    warnings: list[str] = field(default_factory=list)
    #: published packs only: table key -> the (row, column) cells shown as c, decided for the run of packs
    hidden: dict[str, set[tuple[str, str]]] | None = None
    #: published packs only: table key -> (row, column) -> figure key (``figures.py``)
    figure_keys: dict = field(default_factory=dict)

    def table(self, key: str) -> Table:
        for tables in self.sheets.values():
            for t in tables:
                if t.key == key:
                    return t
        raise KeyError(key)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def frame_from_records(records: list[dict[str, Any]], lists: CodeLists) -> pd.DataFrame:
    """A dataframe shaped like ``Tracker.dataframe()`` from records (tests, demo, no workbook)."""
    fields = lists.fields()
    data: dict[str, Any] = {}
    for f in fields:
        values = [r.get(f.key) for r in records]
        if f.kind is Kind.FLAG:
            data[f.key] = pd.Series([bool(v) for v in values], dtype=bool)
        elif f.kind is Kind.INT:
            data[f.key] = pd.Series(values, dtype="Int64")
        elif f.kind in (Kind.DATE, Kind.DATETIME) or f.key == "follow_up_due":
            data[f.key] = pd.to_datetime(pd.Series(values, dtype=object))
        else:
            data[f.key] = pd.Series(values, dtype="string")
    frame = pd.DataFrame(data)
    frame["_row"] = range(2, 2 + len(records))
    return frame


def stamp(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def within(series: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return (series >= stamp(start)) & (series < stamp(end + dt.timedelta(days=1)))


def month_label(m: dt.date) -> str:
    return span_heading(m, m)


#: how days are shown, said under every table of days
WHOLE_DAYS_RULE = (
    "Days are whole days: a median or quartile that falls between two days is rounded to the nearest "
    "whole day (a half day up)."
)


def whole_days(value: float | None) -> int | None:
    """A number of days rounded to the nearest whole day, a half up (``WHOLE_DAYS_RULE``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(np.floor(value + 0.5))


def change_columns(
    frame: pd.DataFrame, now: str, thens: list[str], percent_rows: set[str] | None = None
) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, str]]]:
    """Add, for each earlier column, the change since it (now minus then) and the % change (of then).

    The % change is left blank where the earlier figure is 0 (or blank), and for rows not in
    ``percent_rows`` (when given). Returns the formats of the new columns and, per new cell, the two
    cells it is worked out from (a published change is hidden with either of them).
    """
    formats: dict[str, str] = {}
    basis: dict[tuple[str, str], tuple[str, str]] = {}
    for then in thens:
        diff, pct = f"Change since {then}", f"% change since {then}"
        d_values, p_values = [], []
        for label in frame.index:
            a, b = frame.at[label, now], frame.at[label, then]
            known = not (pd.isna(a) or pd.isna(b))
            d_values.append(int(a) - int(b) if known else None)
            sensible = known and b != 0 and (percent_rows is None or label in percent_rows)
            p_values.append((a - b) / b if sensible else None)
            basis[(label, diff)] = basis[(label, pct)] = (now, then)
        frame[diff] = pd.Series(d_values, index=frame.index, dtype=object)
        frame[pct] = pd.Series(p_values, index=frame.index, dtype=object)
        formats[diff], formats[pct] = "change", "pct_change"
    return formats, basis


def figure_id(kind: str, start: dt.date, end: dt.date, *more: str) -> str:
    return ":".join((kind, start.isoformat(), end.isoformat(), *more))


def codes_with_blank(series: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    """The series with anything blank or off the list as NOT_RECORDED, as an ordered category."""
    values = series.astype("string").where(series.astype("string").isin(codes), NOT_RECORDED)
    return pd.Categorical(values.fillna(NOT_RECORDED), categories=[*codes, NOT_RECORDED])


def crosstab(rows: pd.Categorical, cols: pd.Categorical) -> pd.DataFrame:
    """Counts with a Total column and a Total row; every category shown, zeros included."""
    n_rows, n_cols = len(rows.categories), len(cols.categories)
    # every value is a category (blanks were mapped to NOT_RECORDED), so codes are never -1
    flat = np.bincount(rows.codes.astype(np.int64) * n_cols + cols.codes, minlength=n_rows * n_cols)
    table = pd.DataFrame(
        flat.reshape(n_rows, n_cols),
        index=[str(i) for i in rows.categories],
        columns=[str(c) for c in cols.categories],
    )
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    return table.astype(int)


def median_of(values: pd.Series) -> float | None:
    return float(values.median()) if len(values) else None


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


class ReportData:
    """The dataframe with the helper columns every table uses."""

    def __init__(self, df: pd.DataFrame, lists: CodeLists, settings: Settings, today: dt.date):
        self.df = df
        self.lists = lists
        self.settings = settings
        self.today = today
        self.received = pd.to_datetime(df["date_received"])
        consulted = pd.to_datetime(df["consultation_date"])
        self.consulted = consulted.where(consulted <= stamp(today))
        self.decided = pd.to_datetime(df["decision_date"])
        self.due = consulted + pd.to_timedelta(settings.follow_up_days, unit="D")
        if settings.tracker_start is not None:
            # a consultation from before the tracker started is history: no follow-up is expected
            self.due = self.due.where(~(consulted < stamp(settings.tracker_start)))
        self.followed = pd.to_datetime(df["follow_up_date"])
        self.concern = codes_with_blank(df["primary_concern"], lists.codes("primary_concern"))
        self.themes = list(lists.themes)
        self.theme_flags = df[[f"theme:{t}" for t in self.themes]].to_numpy(dtype=bool)
        self.interventions = list(lists.interventions)
        self.repeat = self._repeats()

    def _repeats(self) -> pd.Series:
        """True for a referral whose young person was referred in the 12 months before it."""
        mosaic = self.df["mosaic_id"].astype("string")
        frame = pd.DataFrame({"m": mosaic, "d": self.received}).dropna()
        frame = frame.sort_values(["m", "d"], kind="stable")
        prev = frame.groupby("m")["d"].shift()
        window = frame["d"] - pd.DateOffset(months=12)
        repeat = prev.notna() & (prev >= window)
        return repeat.reindex(self.df.index, fill_value=False).astype(bool)

    def codes_seen(self, list_key: str) -> tuple[str, ...]:
        """The list's codes, then (for an open list) the values not on it yet that the tracker holds."""
        codes = self.lists.codes(list_key)
        if not is_open_list(list_key) or list_key not in self.df.columns:
            return codes
        seen = self.df[list_key].dropna().astype(str).unique()
        return (*codes, *sorted(v for v in seen if v not in codes and v != NOT_RECORDED))

    def theme_counts(self, mask: pd.Series | np.ndarray) -> list[int]:
        """How many of the rows in ``mask`` have each theme, in list order."""
        return [int(v) for v in self.theme_flags[np.asarray(mask, dtype=bool)].sum(axis=0)]

    def received_in(self, start: dt.date, end: dt.date) -> pd.Series:
        return within(self.received, start, end)

    def consulted_in(self, start: dt.date, end: dt.date) -> pd.Series:
        return within(self.consulted, start, end)
