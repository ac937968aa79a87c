"""The two columns the workbook computes itself: Follow-up due and Status.

Each has its spreadsheet formula (a structured reference into the Referrals
table, so it survives columns being moved or inserted) and the same logic in
Python. The writer stores the Python result as the formula's cached value, so
a reader that does not recalculate still sees the right figure, and the tests
check that LibreOffice's recalculation agrees with Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cstracker.core.schema import FIELDS_BY_KEY

TABLE_NAME = "Referrals"
#: The defined name holding the follow-up period in days (a cell on the hidden settings sheet).
FOLLOW_UP_DAYS_NAME = "cs_follow_up_days"
#: The defined name holding the tracker start date (a date serial on the hidden settings sheet).
TRACKER_START_NAME = "cs_tracker_start"
#: The Status of a consultation (or, without one, a referral) from before the tracker started:
#: history, with no follow-up expected of it.
HISTORIC = "Closed: before tracker start"


def _ref(key: str) -> str:
    label = FIELDS_BY_KEY[key].label
    # In a structured reference the characters [ ] # ' are escaped with a leading '.
    escaped = "".join("'" + ch if ch in "[]#'" else ch for ch in label)
    return f"{TABLE_NAME}[[#This Row],[{escaped}]]"


def follow_up_due_formula() -> str:
    c = _ref("consultation_date")
    return f'IF(OR({c}="",{c}<{TRACKER_START_NAME}),"",{c}+{FOLLOW_UP_DAYS_NAME})'


def status_formula() -> str:
    fu, c, due = _ref("follow_up_date"), _ref("consultation_date"), _ref("follow_up_due")
    s, r = _ref("suitability"), _ref("date_received")
    return (
        f'IF({fu}<>"","Followed up",'
        f'IF({c}<>"",IF({c}<{TRACKER_START_NAME},"{HISTORIC}",IF({c}>TODAY(),"Consultation booked",'
        f'IF(AND({due}<>"",{due}<TODAY()),"Follow-up overdue","Consultation held"))),'
        f'IF({s}="Not suitable","Not suitable",'
        f'IF(AND({r}<>"",{r}<{TRACKER_START_NAME}),"{HISTORIC}",'
        f'IF({s}="Suitable","Awaiting consultation","Awaiting decision")))))'
    )


FORMULAS = {"follow_up_due": follow_up_due_formula, "status": status_formula}


def is_history(day: Any, tracker_start: dt.date | None) -> bool:
    """A date before the tracker started (nothing is history without a start date)."""
    return tracker_start is not None and isinstance(day, dt.date) and day < tracker_start


def follow_up_due(
    record: dict[str, Any], follow_up_days: int, tracker_start: dt.date | None = None
) -> dt.date | None:
    consulted = record.get("consultation_date")
    if not consulted or is_history(consulted, tracker_start):
        return None
    return consulted + dt.timedelta(days=follow_up_days)


def status(
    record: dict[str, Any],
    follow_up_days: int,
    today: dt.date | None = None,
    tracker_start: dt.date | None = None,
) -> str:
    today = today or dt.date.today()
    if record.get("follow_up_date"):
        return "Followed up"
    consulted = record.get("consultation_date")
    if consulted:
        if is_history(consulted, tracker_start):
            return HISTORIC
        if consulted > today:
            return "Consultation booked"
        due = follow_up_due(record, follow_up_days, tracker_start)
        return "Follow-up overdue" if due is not None and due < today else "Consultation held"
    decision = record.get("suitability")
    if decision == "Not suitable":
        return "Not suitable"
    if is_history(record.get("date_received"), tracker_start):
        return HISTORIC
    return "Awaiting consultation" if decision == "Suitable" else "Awaiting decision"


def computed_values(
    record: dict[str, Any],
    follow_up_days: int,
    today: dt.date | None = None,
    tracker_start: dt.date | None = None,
) -> dict[str, Any]:
    """The cached values for the formula columns of one record."""
    return {
        "follow_up_due": follow_up_due(record, follow_up_days, tracker_start),
        "status": status(record, follow_up_days, today, tracker_start),
    }
