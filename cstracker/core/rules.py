"""Record validation shared by ingest, import and validate.

Two steps, both pure:

* ``convert_record``: raw values (from a form, an import row or a typed tracker
  row) -> a typed record plus one ``Finding`` per value that would not convert;
* ``check_record``: the rules across fields (dates in order, a consultation
  needs a primary concern, ...).

Findings carry no location; each caller adds the file, sheet, cell or row it
knows and turns them into ``Problem`` records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cstracker.core.convert import convert, is_blank
from cstracker.core.problems import Problem, shown_value
from cstracker.core.schema import CONTEXT_ACTION_FIELD, REQUIRED_KEYS, CodeLists, Field, Kind

Record = dict[str, Any]

#: The earliest date a referral, decision or consultation can plausibly carry.
EARLIEST_REFERRAL = dt.date(2000, 1, 1)
EARLIEST_KNOWN_SINCE = dt.date(1995, 1, 1)

RULE_FOR_KIND = {
    Kind.DATE: "bad-date",
    Kind.DATETIME: "bad-date",
    Kind.INT: "bad-number",
    Kind.MOSAIC: "bad-mosaic-id",
    Kind.ID: "bad-referral-id",
    Kind.CODE: "not-in-list",
    Kind.FLAG: "not-a-tick",
    Kind.TEXT: "bad-text",
    Kind.LONGTEXT: "bad-text",
}


@dataclass(frozen=True)
class Finding:
    """A problem with a record, before its location is known."""

    rule: str
    message: str
    field_key: str = ""
    value: Any = None
    severity: str = "error"

    def to_problem(self, fields: Mapping[str, Field], **where: Any) -> Problem:
        """Attach a location (file=, sheet=, cell=, row=) and make the reportable record."""
        f = fields.get(self.field_key)
        return Problem(
            rule=self.rule,
            message=self.message,
            field=f.label if f else "",
            value=shown_value(self.value, f.sensitive if f else False),
            severity=self.severity,
            **where,
        )


def convert_record(
    raw: Mapping[str, Any], lists: CodeLists, fields: Iterable[Field] | None = None, date1904: bool = False
) -> tuple[Record, list[Finding]]:
    """Convert raw values keyed by field key. Unknown keys are ignored; computed fields pass through.

    ``date1904``: the values were read from a workbook in the 1904 date system.
    """
    findings: list[Finding] = []
    record: Record = {}
    for f in fields if fields is not None else lists.fields():
        if f.key not in raw:
            continue
        value = raw[f.key]
        if f.kind is Kind.FORMULA:
            continue
        got = convert(f, value, lists, date1904)
        if got.ok:
            record[f.key] = got.value
        else:
            rule = RULE_FOR_KIND.get(f.kind, "bad-value")
            if f.kind is Kind.INT and "out of range" in (got.error or ""):
                rule = "out-of-range"
            findings.append(Finding(rule, got.error or "is not allowed", f.key, value))
    return record, findings


def _before(a: dt.date | None, b: dt.date | None) -> bool:
    return a is not None and b is not None and a < b


def check_record(record: Record, lists: CodeLists, today: dt.date | None = None) -> list[Finding]:
    """Rules across fields. ``today`` is injectable so tests are stable."""
    today = today or dt.date.today()
    out: list[Finding] = []
    get = record.get
    received, decided = get("date_received"), get("decision_date")
    consulted, followed = get("consultation_date"), get("follow_up_date")
    suitability = get("suitability")

    for key in REQUIRED_KEYS:  # the schema's Field.required
        if is_blank(get(key)):
            out.append(Finding("missing-required", "is required and is blank", key))

    for key in ("date_received", "decision_date", "consultation_date", "follow_up_date"):
        day = get(key)
        if day is None:
            continue
        if day < EARLIEST_REFERRAL:
            out.append(
                Finding(
                    "implausible-date", f"is before {EARLIEST_REFERRAL:%d/%m/%Y}; check the year", key, day
                )
            )
        elif day > today and key != "consultation_date":
            out.append(Finding("future-date", f"is in the future (today is {today:%d/%m/%Y})", key, day))
    if consulted and consulted > today and (get("primary_concern") or _any_action(record)):
        out.append(
            Finding(
                "future-date",
                "is in the future but the consultation's outcome is recorded",
                "consultation_date",
                consulted,
            )
        )
    known = get("known_since")
    if known is not None and known < EARLIEST_KNOWN_SINCE:
        out.append(Finding("implausible-date", "is before 1995; check the year", "known_since", known))
    if _before(received, known):
        out.append(_order("known_since", known, "on or before", "date received", received))

    if _before(decided, received):
        out.append(_order("decision_date", decided, "on or after", "date received", received))
    if _before(consulted, received):
        out.append(_order("consultation_date", consulted, "on or after", "date received", received))
    if _before(consulted, decided):
        out.append(_order("consultation_date", consulted, "on or after", "decision date", decided))
    if _before(followed, consulted):
        out.append(_order("follow_up_date", followed, "on or after", "consultation date", consulted))
    if followed is not None and consulted is None:
        out.append(
            Finding(
                "follow-up-without-consultation",
                "is filled in but no consultation date is",
                "follow_up_date",
                followed,
            )
        )

    if consulted is not None:
        if suitability == "Not suitable":
            out.append(
                Finding(
                    "consultation-not-suitable",
                    "a consultation is recorded on a referral marked Not suitable; "
                    "change the decision to Suitable or clear the consultation date",
                    "suitability",
                    suitability,
                )
            )
        elif suitability in (None, "Awaiting decision"):
            out.append(
                Finding(
                    "consultation-without-decision",
                    "a consultation is recorded but the decision is not Suitable",
                    "suitability",
                    suitability,
                )
            )
        if not get("primary_concern") and consulted <= today:
            out.append(
                Finding(
                    "missing-primary-concern",
                    "a consultation is recorded with no primary concern; pick ONE of "
                    + ", ".join(CONTEXT_ACTION_FIELD),
                    "primary_concern",
                )
            )
    if suitability in ("Suitable", "Not suitable") and decided is None:
        out.append(
            Finding(
                "missing-decision-date",
                "a decision is recorded without its date",
                "decision_date",
                severity="warning",
            )
        )
    if suitability == "Not suitable" and not get("signposted_to"):
        out.append(
            Finding(
                "not-signposted",
                "a Not suitable referral should say where it was signposted",
                "signposted_to",
                severity="warning",
            )
        )

    if get("theme:Other") and not get("theme_other_text") and "Other" in lists.themes:
        out.append(
            Finding(
                "other-theme-unstated",
                "Other is ticked but not stated",
                "theme_other_text",
                severity="warning",
            )
        )
    if get("theme_other_text") and "Other" in lists.themes and not get("theme:Other"):
        out.append(
            Finding(
                "other-theme-unticked",
                "an Other theme is stated but Other is not ticked",
                "theme:Other",
                severity="warning",
            )
        )

    concern = get("primary_concern")
    if consulted is not None and concern in CONTEXT_ACTION_FIELD:
        action_key = CONTEXT_ACTION_FIELD[concern]
        if not get(action_key) and _any_action(record):
            out.append(
                Finding(
                    "no-action-for-primary-concern",
                    f"the primary concern is {concern} but no action is agreed for it",
                    action_key,
                    severity="warning",
                )
            )
    return out


def _order(key: str, day: dt.date, must: str, other: str, other_day: dt.date) -> Finding:
    """A date on the wrong side of another: which date it must follow or precede, and that date."""
    side = "after" if must == "on or before" else "before"
    return Finding(
        "date-order",
        f"is {side} the {other} ({other_day:%d/%m/%Y}); it must be {must} the {other}",
        key,
        day,
    )


def _any_action(record: Record) -> bool:
    return any(record.get(k) for k in CONTEXT_ACTION_FIELD.values())


def check_converted(
    record: Record, failed: Collection[str], lists: CodeLists, today: dt.date | None = None
) -> list[Finding]:
    """The rules across fields of a converted record, none about a field in ``failed`` (a value
    that did not convert, or read as unreadable): each bad value is reported once. The one
    "convert, check, skip what failed" step of ingest, import and validate."""
    return [f for f in check_record(record, lists, today) if f.field_key not in failed]


def validate_raw(
    raw: Mapping[str, Any], lists: CodeLists, today: dt.date | None = None
) -> tuple[Record, list[Finding]]:
    """convert_record then check_converted, for a caller that wants both."""
    record, findings = convert_record(raw, lists)
    return record, findings + check_converted(record, {f.field_key for f in findings}, lists, today)


def rows_to_check(columns: Mapping[str, Any], n: int, today: dt.date | None = None) -> Any:
    """A bool array: the rows ``check_record`` may find something in, from whole typed columns.

    ``columns``: field key -> a column of ``n`` values as the column-wise reading types them
    (pandas: dates datetime64, ints Int64, ticks bool, text stripped); a record holds a key
    where its column has a value (not NA, not "", a tick True). A superset, rule by rule,
    written beside ``check_record`` so the two change together: a row it leaves out gets no
    finding there, so only the rows it keeps need a record made and checked (each condition
    below is one of ``check_record``'s, or wider).
    """
    import numpy as np
    import pandas as pd

    today = today or dt.date.today()
    none = np.zeros(n, bool)

    def present(key: str) -> Any:
        col = columns.get(key)
        if col is None:
            return none
        if col.dtype == bool:
            return col.to_numpy(dtype=bool)
        filled = col.notna()
        if not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_datetime64_any_dtype(col):
            filled &= (col != "").fillna(False)
        return filled.to_numpy(dtype=bool)

    def truthy(key: str) -> Any:
        col = columns.get(key)
        if col is not None and pd.api.types.is_numeric_dtype(col) and col.dtype != bool:
            return present(key) & (col != 0).fillna(False).to_numpy(dtype=bool)
        return present(key)

    def day(key: str) -> Any:
        """The column's days as numpy datetime64[D] (NaT where absent)."""
        col = columns.get(key)
        if col is None:
            return np.full(n, np.datetime64("NaT"), "datetime64[D]")
        return col.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")

    def equals(key: str, value: str) -> Any:
        col = columns.get(key)
        return none if col is None else (col == value).fillna(False).to_numpy(dtype=bool)

    def before(a: Any, b: Any) -> Any:
        return a < b  # NaT compares False: both present, as _before

    earliest, today64 = np.datetime64(EARLIEST_REFERRAL, "D"), np.datetime64(today, "D")
    received, decided = day("date_received"), day("decision_date")
    consulted, followed, known = day("consultation_date"), day("follow_up_date"), day("known_since")
    has_consulted = ~np.isnat(consulted)
    mask = np.zeros(n, bool)
    for key in REQUIRED_KEYS:
        col = columns.get(key)
        if col is None:
            mask |= True
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            mask |= ~(col.astype("string").str.strip().fillna("") != "").to_numpy(dtype=bool)  # is_blank
        else:
            mask |= ~present(key)
    for key, days in (
        ("date_received", received),
        ("decision_date", decided),
        ("consultation_date", consulted),
        ("follow_up_date", followed),
    ):
        mask |= days < earliest
        if key != "consultation_date":
            mask |= days > today64
    mask |= consulted > today64  # in the future with an outcome recorded (wider: any)
    mask |= known < np.datetime64(EARLIEST_KNOWN_SINCE, "D")
    mask |= before(received, known) | before(decided, received) | before(consulted, received)
    mask |= before(consulted, decided) | before(followed, consulted)
    mask |= ~np.isnat(followed) & ~has_consulted
    suitable, not_suitable = equals("suitability", "Suitable"), equals("suitability", "Not suitable")
    mask |= has_consulted & ~suitable  # Not suitable, no decision, Awaiting decision (wider: any other)
    mask |= has_consulted & ~truthy("primary_concern")  # (wider: a consultation in the future too)
    mask |= (suitable | not_suitable) & np.isnat(decided)
    mask |= not_suitable & ~truthy("signposted_to")
    # the Other theme (wider: whether or not Other is on the themes list)
    mask |= truthy("theme:Other") != truthy("theme_other_text")
    for concern, action_key in CONTEXT_ACTION_FIELD.items():
        # no action for the primary concern (wider: whether or not any action is agreed)
        mask |= has_consulted & equals("primary_concern", concern) & ~truthy(action_key)
    return mask
