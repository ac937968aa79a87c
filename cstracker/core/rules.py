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
