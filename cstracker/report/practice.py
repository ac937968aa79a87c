"""The report's practice tables: where harm is located, what was agreed, how quickly, how well recorded.

Contexts (the places and groups named in Detail, with hotspots), agreed
actions against the primary concern, interventions, timeliness with the
overdue follow-ups, and data quality. Same input and conventions as
``report/tables.py``; both build on ``report/data.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from cstracker.core.periods import Period, add_months, month_start
from cstracker.core.rules import check_record, rows_to_check
from cstracker.core.schema import CONTEXT_ACTION_FIELD, Kind
from cstracker.report.data import (
    TOTAL,
    WHOLE_DAYS_RULE,
    ReportData,
    Table,
    figure_id,
    stamp,
    whole_days,
    within,
)

#: Words in place names written several ways; "st" is Saint first and Street elsewhere.
CONTEXT_WORDS = {
    "acad": "academy",
    "sch": "school",
    "schl": "school",
    "coll": "college",
    "rd": "road",
    "ave": "avenue",
    "pk": "park",
    "est": "estate",
    "sq": "square",
    "ctr": "centre",
    "center": "centre",
    "hs": "high school",
}


def normalise_context(text: Any) -> str:
    """Fold case, spacing, punctuation and common variants: "St. Aidan's  Acad" -> "saint aidans academy"."""
    if text is None or (isinstance(text, float) and pd.isna(text)) or text is pd.NA:
        return ""
    words = re.sub(r"[^a-z0-9]+", " ", str(text).lower().replace("&", " and ").replace("'", "")).split()
    if words and words[0] == "the":
        words = words[1:]
    out = []
    for i, w in enumerate(words):
        if w == "st":
            out.append("saint" if i == 0 else "street")
        else:
            out.append(CONTEXT_WORDS.get(w, w))
    return " ".join(out)


# -- Contexts -----------------------------------------------------------------------------------

#: what separates several places or groups named in one Detail cell (the form's prompt and the
#: tracker's About sheet say so)
PLACE_SEPARATORS = r"\s*(?:;|\r\n|\r|\n)\s*"


def _most_used(sub: pd.DataFrame, column: str) -> pd.Series:
    """Per context key, the value used most often in ``column``; on a tie, the one used most recently."""
    stats = sub.groupby(["key", column])["date"].agg(n="size", last="max").reset_index()
    stats = stats.sort_values(["key", "n", "last", column], ascending=[True, False, False, True])
    return stats.drop_duplicates("key").set_index("key")[column].astype(str)


def contexts(d: ReportData, period: Period) -> Table:
    last = month_start(period.end)
    win3 = (add_months(last, -2), period.end)
    win6 = (add_months(last, -5), period.end)
    earliest = min(period.start, win6[0])
    detail = d.df["detail"]
    seen = d.consulted_in(earliest, period.end) & detail.notna()
    # One Detail cell may name several places or groups, separated by ";" or a line break: each counts.
    named = detail[seen].astype(str).str.split(PLACE_SEPARATORS, regex=True).explode()
    rows = named.index
    sub = pd.DataFrame(
        {
            "key": named.map(normalise_context).to_numpy(),
            "detail": named.str.strip().to_numpy(),
            "mosaic": d.df.loc[rows, "mosaic_id"].to_numpy(),
            "concern": pd.Series(d.concern, index=d.df.index).loc[rows].astype(str).to_numpy(),
            "date": d.consulted.loc[rows].to_numpy(),
            "row": rows.to_numpy(),
        }
    )
    sub = sub.drop_duplicates(["row", "key"])
    sub = sub[sub["key"] != ""]
    columns = [
        "Context",
        "Primary concern",
        "Young people in the period",
        "Young people, last 3 months",
        "Young people, last 6 months",
        "Consultations in the period",
        "Hotspot",
    ]
    keys = sorted(sub["key"].unique())
    in_p = within(sub["date"], period.start, period.end)

    def people(mask: pd.Series) -> pd.Series:
        return sub[mask].groupby("key")["mosaic"].nunique().reindex(keys, fill_value=0).astype(int)

    frame = pd.DataFrame(
        {
            columns[0]: _most_used(sub, "detail").reindex(keys),
            columns[1]: _most_used(sub, "concern").reindex(keys),
            columns[2]: people(in_p),
            columns[3]: people(within(sub["date"], *win3)),
            columns[4]: people(within(sub["date"], *win6)),
            columns[5]: sub[in_p].groupby("key").size().reindex(keys, fill_value=0).astype(int),
        },
        index=keys,
    )
    frame[columns[6]] = [
        _hotspot(counts, d.settings.hotspot_threshold)
        for counts in frame[columns[2:5]].itertuples(index=False)
    ]
    # what needs action first: hotspots (this period, then building up over 3 and 6 months), then the most
    # young people
    frame["_rank"] = frame[columns[6]].map(HOTSPOT_RANK).fillna(len(HOTSPOT_RANK))
    frame = frame.sort_values(
        ["_rank", *columns[2:5], columns[0]], ascending=[True, False, False, False, True], kind="stable"
    ).drop(columns="_rank")
    frame = frame.set_index(columns[0])
    frame.index = [str(i) for i in frame.index]
    return Table(
        "contexts",
        f"Places and groups named in Detail (consultations held up to {period.end:%d/%m/%Y})",
        frame,
        formats={**dict.fromkeys(columns[2:6], "int"), "Primary concern": "text", "Hotspot": "text"},
        internal=True,
        cap=LIST_CAPS["contexts"],
        full_sheet="All contexts",
        note=f"Hotspots first. A Detail cell naming several places or groups, separated by ; or a line break, counts each. "
        f"Spellings are matched ignoring case, spacing, punctuation and variants such as St/Saint. "
        f"A hotspot is a place or group named for {d.settings.hotspot_threshold} or more different "
        f"young people in the period (or, when marked so, in the last 3 or 6 months).",
    )


HOTSPOT_RANK = {"Hotspot": 0, "Hotspot (last 3 months)": 1, "Hotspot (last 6 months)": 2}
#: rows of a long list printed on its sheet; the whole list is on a sheet of its own
LIST_CAPS = {"contexts": 20, "overdue": 15, "actions_missing": 15, "dq_rows": 15}


def _hotspot(counts: tuple[int, int, int], threshold: int) -> str:
    """'Hotspot' for the period; a slower build-up over 3 or 6 months is flagged too, and says so."""
    in_period, last3, last6 = counts
    if in_period >= threshold:
        return "Hotspot"
    if last3 >= threshold:
        return "Hotspot (last 3 months)"
    if last6 >= threshold:
        return "Hotspot (last 6 months)"
    return ""


# -- Actions ------------------------------------------------------------------------------------


def actions(d: ReportData, period: Period) -> list[Table]:
    held = d.consulted_in(period.start, period.end).to_numpy()
    sub = d.df.loc[held]
    concern = pd.Series(d.concern, index=d.df.index)[held].astype(str)
    contexts = [c for c in d.lists.codes("primary_concern") if c in CONTEXT_ACTION_FIELD]
    has_action = {
        c: sub[CONTEXT_ACTION_FIELD[c]].astype("string").str.strip().fillna("") != "" for c in contexts
    }
    cols = ["Action agreed for it", "No action for it", "Consultations with this primary concern"]
    matched = pd.DataFrame(0, index=[*contexts, TOTAL], columns=cols)
    agreed = pd.DataFrame(0, index=contexts, columns=["Consultations with an action for this context"])
    missing_rows = []
    for c in contexts:
        is_c = (concern == c).to_numpy()
        acted = has_action[c].to_numpy()
        matched.loc[c, cols[0]] = int((is_c & acted).sum())
        matched.loc[c, cols[1]] = int((is_c & ~acted).sum())
        matched.loc[c, cols[2]] = int(is_c.sum())
        agreed.loc[c, agreed.columns[0]] = int(acted.sum())
        for idx in sub.index[is_c & ~acted]:
            missing_rows.append(
                (
                    str(sub.at[idx, "referral_id"] or ""),
                    d.consulted[idx].date(),
                    c,
                    int(d.df.at[idx, "_row"]),
                )
            )
    matched.loc[TOTAL] = matched.loc[contexts].sum()
    missing_rows.sort(key=lambda r: (r[1], r[3]))  # waiting longest first
    missing = pd.DataFrame(
        [r[1:] for r in missing_rows],
        index=[r[0] for r in missing_rows],
        columns=["Consultation date", "Primary concern", "Tracker row"],
    )
    n_held = int(held.sum())
    interventions = pd.DataFrame(
        {
            "Consultations": [int(sub[f"intervention:{i}"].sum()) for i in d.interventions],
            "Share of consultations": [
                (int(sub[f"intervention:{i}"].sum()) / n_held if n_held else None) for i in d.interventions
            ],
        },
        index=d.interventions,
        dtype=object,
    )
    t_int = Table(
        "interventions",
        "Interventions offered, by type",
        interventions,
        counts=("Consultations",),
        formats={"Share of consultations": "pct"},
    )
    cons_id = figure_id("cons", period.start, period.end)
    for i in d.interventions:
        t_int.basis[(i, "Share of consultations")] = (t_int.cell_id(i, "Consultations"), cons_id)
    return [
        Table(
            "actions_matched",
            f"Do the actions match where harm is located? (consultations held in {period.title})",
            matched.astype(int),
            counts=tuple(cols),
            row_totals=True,
            col_totals=True,
            note="The toolkit asks that agreed actions address the context where harm is located.",
        ),
        Table(
            "actions_agreed", "Agreed actions by context", agreed.astype(int), counts=tuple(agreed.columns)
        ),
        Table(
            "actions_missing",
            "Consultations whose primary concern's context got no action",
            missing,
            formats={"Consultation date": "date", "Primary concern": "text", "Tracker row": "plain"},
            internal=True,
            cap=LIST_CAPS["actions_missing"],
            full_sheet="All actions missing",
            note="Oldest consultation first.",
        ),
        t_int,
    ]


# -- Timeliness ---------------------------------------------------------------------------------


def timeliness(d: ReportData, period: Period) -> list[Table]:
    decided = within(d.decided, period.start, period.end)
    held = d.consulted_in(period.start, period.end)
    spans = [
        ("Referral to decision", (d.decided - d.received)[decided]),
        ("Decision to consultation", (d.consulted - d.decided)[held]),
        ("Referral to consultation", (d.consulted - d.received)[held]),
    ]
    cols = ["Number", "Median days", "Lower quartile", "Upper quartile"]
    frame = pd.DataFrame(index=[s[0] for s in spans], columns=cols, dtype=object)
    n, basis = {}, {}
    for label, gaps in spans:
        days = gaps.dt.days.dropna()
        frame.loc[label, "Number"] = len(days)
        for col, q in (("Median days", 0.5), ("Lower quartile", 0.25), ("Upper quartile", 0.75)):
            frame.loc[label, col] = whole_days(float(days.quantile(q))) if len(days) else None
            n[(label, col)] = len(days)
            basis[(label, col)] = ()
    stats = Table(
        "timeliness",
        f"Days between referral, decision and consultation ({period.title})",
        frame,
        counts=("Number",),
        n=n,
        basis=basis,
        formats={c: "days" for c in cols[1:]},
        note="Decisions made in the period, and consultations held in the period. " + WHOLE_DAYS_RULE,
    )
    overdue = d.due.notna() & (d.due < stamp(d.today)) & d.followed.isna()
    rows = d.df.loc[overdue.to_numpy()].copy()
    rows["_due"] = d.due[overdue]
    rows = rows.sort_values(["_due", "_row"])  # the earliest due is the most overdue: first
    listing = pd.DataFrame(
        {
            "Consultation date": pd.to_datetime(rows["consultation_date"]).dt.date.tolist(),
            "Follow-up due": rows["_due"].dt.date.tolist(),
            "Days overdue": (stamp(d.today) - rows["_due"]).dt.days.tolist(),
            "CS practitioner": rows["cs_practitioner"].astype("string").fillna("").tolist(),
        },
        index=rows["referral_id"].astype("string").fillna("(no ID)").tolist(),
    )
    return [
        stats,
        Table(
            "overdue",
            f"Follow-ups overdue on {d.today:%d/%m/%Y}",
            listing,
            formats={
                "Consultation date": "date",
                "Follow-up due": "date",
                "Days overdue": "plain",
                "CS practitioner": "text",
            },
            internal=True,
            cap=LIST_CAPS["overdue"],
            full_sheet="Overdue follow-ups",
            note="Most overdue first.",
        ),
    ]


# -- Data quality -------------------------------------------------------------------------------

READ_COLUMNS = (
    "Read as what they mean (not in the tracker's own form)",
    "Of which not on the list yet",
    "Cannot be read (counted as not recorded)",
)


def reading_counts(df: pd.DataFrame, mask: Any = None) -> dict[str, tuple[int, int, int]]:
    """Per field key: (readable but not canonical, new open-list values, unreadable) in the rows of ``mask``."""
    out: dict[str, tuple[int, int, int]] = {}
    rows = slice(None) if mask is None else mask
    for col in df.columns:
        prefix, _, key = col.partition(":")
        if prefix in ("_nc", "_new", "_bad"):
            got = list(out.get(key, (0, 0, 0)))
            got[("_nc", "_new", "_bad").index(prefix)] = int(df[col].to_numpy()[rows].sum())
            out[key] = (got[0], got[1], got[2])
    return out


def reading_warnings(df: pd.DataFrame) -> list[str]:
    """What the report read differently from the live Trends sheet, for the command's warning lines."""
    out = []
    counts = reading_counts(df)
    not_canonical = sum(c[0] for c in counts.values())
    if not_canonical:
        values_are = (
            "1 value in the tracker is"
            if not_canonical == 1
            else f"{not_canonical} values in the tracker are"
        )
        out.append(
            f"{values_are} not in its own form (e.g. F for Female, x for a tick, "
            "a date typed as text): this report counts them as what they mean, the Trends sheet does not; "
            "cstracker validate --fix rewrites them"
        )
    if "_outside" in df.columns and df["_outside"].any():
        rows = df.loc[df["_outside"], "_row"].astype(int).tolist()
        shown = ", ".join(str(r) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
        rows_are = "1 row is" if len(rows) == 1 else f"{len(rows)} rows are"
        out.append(
            f"{rows_are} below the Referrals table (row{'s' if len(rows) > 1 else ''} {shown}): this report "
            "counts them, the Trends sheet and the Status formulas leave them out; cstracker validate --fix "
            "brings them in"
        )
    return out


def _reading_table(d: ReportData, got: Any, fields: list) -> Table:
    counts = reading_counts(d.df, got)
    labels = {f.key: f.label for f in fields}
    rows = [(labels.get(k, k), *c) for k, c in counts.items() if any(c) and k in labels]
    frame = pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=list(READ_COLUMNS))
    frame.loc[TOTAL] = frame.sum(axis=0) if len(frame) else [0, 0, 0]
    frame = frame.astype(int)
    warnings = reading_warnings(d.df)
    return Table(
        "dq_reading",
        "Values not in the tracker's own form (referrals received in the period)",
        frame,
        formats=dict.fromkeys(READ_COLUMNS, "int"),
        internal=True,
        note="A readable value not in the tracker's own spelling (F for Female, x or TRUE for a tick, a date "
        "typed as text, a new referrer team) is counted here as what it means; the live Trends sheet counts "
        "only the tracker's own spelling, so run cstracker validate --fix to make the two agree. "
        + " ".join(w[0].upper() + w[1:] + "." for w in warnings),
    )


def _as_record(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
            out[k] = None
        elif isinstance(v, pd.Timestamp):
            out[k] = v.date()
        else:
            out[k] = v
    return out


def _records(sub: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows' field values as ``_as_record`` gives them, a column at a time: at 100,000 rows
    ``to_dict`` and a Python call per cell took seconds. The ``_`` columns (row, marks) are left out:
    the rules read fields only."""
    keys = [k for k in sub.columns if not str(k).startswith("_")]
    columns = []
    for k in keys:
        col = sub[k]
        na = col.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            values = [None if missing else v.date() for v, missing in zip(col.tolist(), na, strict=True)]
        elif col.dtype == object:
            values = [_as_record({"": v})[""] for v in col.tolist()]
        else:
            values = col.tolist()
            for i in np.flatnonzero(na).tolist():
                values[i] = None
        columns.append(values)
    return (
        [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)] if keys else [{}] * len(sub)
    )


def data_quality(d: ReportData, period: Period) -> list[Table]:
    got = d.received_in(period.start, period.end).to_numpy()
    sub = d.df.loc[got]
    fields = [f for f in d.lists.fields() if f.key in d.df.columns]
    labels = {f.key: f.label for f in fields}
    found = []
    # records (and the rules) only for the rows the rules on whole columns may fault: a record per
    # row of a 100,000-row year held about 150 MB at once
    keys = [k for k in sub.columns if not str(k).startswith("_")]
    checked = sub[rows_to_check({k: sub[k] for k in keys}, len(sub), d.today)]
    for record, row_number in zip(_records(checked), checked["_row"].tolist(), strict=True):
        for finding in check_record(record, d.lists, d.today):
            found.append(
                (
                    str(record.get("referral_id") or "(no ID)"),
                    int(row_number),
                    labels.get(finding.field_key, ""),
                    finding.rule,
                    finding.severity,
                    finding.message,
                )
            )
    found.sort(key=lambda f: (f[4] != "error", f[1]))  # errors first, then by tracker row
    summary = Counter((f[3], f[2], f[4]) for f in found)
    by_rule = pd.DataFrame(
        [(rule, fld, sev, count) for (rule, fld, sev), count in sorted(summary.items())],
        columns=["Rule", "Field", "Severity", "Rows"],
    )
    by_rule.index = [f"{r.Rule} / {r.Field}" for r in by_rule.itertuples()]
    by_rule = by_rule.drop(columns=["Rule"])
    listing = pd.DataFrame(
        [f[1:3] + f[4:] for f in found],
        index=[f[0] for f in found],
        columns=["Tracker row", "Field", "Severity", "Problem"],
    )
    complete = []
    for f in fields:
        if f.computed or f.kind is Kind.FLAG:
            continue
        col = sub[f.key]
        filled = col.notna()
        if col.dtype == object or str(col.dtype) == "string":
            filled &= col.astype("string").str.strip().fillna("") != ""
        k = int(filled.sum())
        complete.append((f.label, k, len(sub) - k, k / len(sub) if len(sub) else None))
    completeness = pd.DataFrame(
        [c[1:] for c in complete], index=[c[0] for c in complete], columns=["Filled", "Blank", "Share filled"]
    )
    return [
        _reading_table(d, got, fields),
        Table(
            "dq_rules",
            f"Problems found by the validation rules (referrals received in {period.title})",
            by_rule,
            formats={"Field": "text", "Severity": "text", "Rows": "int"},
            internal=True,
            note="Values that cannot be read (the first table's last column) count as not recorded; "
            "cstracker validate lists each one.",
        ),
        Table(
            "dq_rows",
            "Each problem",
            listing,
            formats={"Tracker row": "plain", "Field": "text", "Severity": "text", "Problem": "text"},
            internal=True,
            cap=LIST_CAPS["dq_rows"],
            full_sheet="All data problems",
            note="Errors first, then by tracker row.",
        ),
        Table(
            "dq_completeness",
            "How complete each field is",
            completeness,
            formats={"Filled": "int", "Blank": "int", "Share filled": "pct"},
            internal=True,
            note="Some fields apply only to some referrals (e.g. Signposted to only when Not suitable).",
        ),
    ]
