"""A big old tracker for the report's long lists (tests/report/test_report_polish.py, tests/test_printing.py)."""

from __future__ import annotations

from cstracker.synthetic import synthetic_records
from tests.conftest import TODAY


def legacy_records() -> list[dict]:
    """A big old tracker, typed by hand for years: many places, actions not recorded, problems."""
    records = synthetic_records(1500, seed=7, today=TODAY)
    for i, r in enumerate(records):
        if r.get("consultation_date") and r.get("primary_concern"):
            r["detail"] = f"Estate number {i % 45}"
            if i % 2:
                for k in ("action_individual", "action_home", "action_peer_group", "action_school",
                          "action_neighbourhood"):  # fmt: skip
                    r[k] = None
        if i % 2 == 0 and r.get("suitability") in ("Suitable", "Not suitable"):
            r["decision_date"] = None  # a warning: a decision without its date
        if i % 7 == 0 and r.get("consultation_date"):
            r["suitability"] = "Awaiting decision"  # an error: a consultation without a decision
    return records
