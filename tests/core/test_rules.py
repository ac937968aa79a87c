"""Record rules, shared by validate, ingest and import: each rule caught, a clean record clean."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY

from cstracker.core.rules import check_record, convert_record, validate_raw
from cstracker.core.schema import CodeLists
from cstracker.synthetic import synthetic_records

LISTS = CodeLists()
D = dt.date


def clean():
    return {
        "referral_id": "CS-2026-0001",
        "date_received": D(2026, 10, 1),
        "mosaic_id": "9000001",
        "suitability": "Suitable",
        "decision_date": D(2026, 10, 2),
        "consultation_date": D(2026, 10, 9),
        "primary_concern": "School",
        "action_school": "Meet the DSL",
        "theme:CSE": True,
    }


def rules_of(record):
    return sorted((f.rule, f.field_key) for f in check_record(record, LISTS, TODAY))


def test_a_clean_record_is_clean():
    assert rules_of(clean()) == []


def test_synthetic_records_are_clean():
    for r in synthetic_records(300, today=TODAY, end=TODAY):
        assert [f for f in check_record(r, LISTS, TODAY) if f.severity == "error"] == [], r


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"date_received": None}, ("missing-required", "date_received")),
        ({"mosaic_id": None}, ("missing-required", "mosaic_id")),
        ({"consultation_date": D(2026, 9, 1), "decision_date": None}, ("date-order", "consultation_date")),
        ({"decision_date": D(2026, 9, 30)}, ("date-order", "decision_date")),
        (
            {"suitability": "Not suitable", "signposted_to": "MASH"},
            ("consultation-not-suitable", "suitability"),
        ),
        ({"suitability": "Awaiting decision"}, ("consultation-without-decision", "suitability")),
        ({"primary_concern": None, "action_school": None}, ("missing-primary-concern", "primary_concern")),
        (
            {"date_received": D(2027, 1, 1), "decision_date": None, "consultation_date": None},
            ("future-date", "date_received"),
        ),
        ({"date_received": D(1999, 1, 1)}, ("implausible-date", "date_received")),
        ({"follow_up_date": D(2026, 10, 1)}, ("date-order", "follow_up_date")),
        (
            {
                "consultation_date": None,
                "follow_up_date": D(2026, 11, 1),
                "primary_concern": None,
                "action_school": None,
            },
            ("follow-up-without-consultation", "follow_up_date"),
        ),
        ({"known_since": D(2026, 10, 5)}, ("date-order", "known_since")),
    ],
)
def test_each_rule_is_caught(change, expected):
    record = {**clean(), **change}
    assert expected in rules_of(record)


def test_warnings_are_warnings():
    record = {**clean(), "theme:Other": True, "action_school": None, "action_home": "Parenting group"}
    found = {f.rule: f.severity for f in check_record(record, LISTS, TODAY)}
    assert found == {"other-theme-unstated": "warning", "no-action-for-primary-concern": "warning"}


def test_a_booked_consultation_in_the_future_is_fine():
    record = {**clean(), "consultation_date": D(2026, 12, 3), "primary_concern": None, "action_school": None}
    assert rules_of(record) == []


def test_convert_record_reports_each_bad_value_with_its_field():
    raw = {
        "date_received": "31/02/2026",
        "age": "99",
        "gender": "Galaxy",
        "mosaic_id": "12a",
        "theme:CSE": "maybe",
    }
    record, findings = convert_record(raw, LISTS)
    got = {(f.rule, f.field_key) for f in findings}
    assert got == {
        ("bad-date", "date_received"),
        ("out-of-range", "age"),
        ("not-in-list", "gender"),
        ("bad-mosaic-id", "mosaic_id"),
        ("not-a-tick", "theme:CSE"),
    }
    assert "date_received" not in record  # a bad value is reported, never silently blanked into the record


def test_validate_raw_does_not_double_report_a_bad_value():
    _, findings = validate_raw({"date_received": "nonsense", "mosaic_id": "9000001"}, LISTS, TODAY)
    assert [(f.rule, f.field_key) for f in findings] == [("bad-date", "date_received")]


def test_problem_never_shows_a_mosaic_id():
    _, findings = convert_record({"mosaic_id": "12x45"}, LISTS)
    problem = findings[0].to_problem({f.key: f for f in LISTS.fields()}, file="f.xlsx", cell="C4")
    assert problem.value == ""
    assert "12x45" not in problem.line()
    assert problem.line().startswith("f.xlsx, cell C4: Mosaic ID: is not a number")


def test_the_schema_says_what_every_row_needs_and_the_rules_and_the_mapping_follow_it():
    """``Field.required`` is the one list: the rules' missing-required and the import's mapping read it."""
    import datetime as dt

    from cstracker.core.rules import check_record as check
    from cstracker.core.schema import BASE_FIELDS, REQUIRED_KEYS, CodeLists
    from cstracker.legacy.column_mapping import ColumnMapping

    required = [f.key for f in BASE_FIELDS if f.required]
    # a Referral ID is given by cstracker when blank (validate suggests one); a blank decision is awaited
    assert required == list(REQUIRED_KEYS) == ["date_received", "mosaic_id"]
    missing = {
        f.field_key for f in check({}, CodeLists(), dt.date(2026, 11, 27)) if f.rule == "missing-required"
    }
    assert missing == set(required)
    fields = {f.key: f for f in CodeLists().fields()}
    mapping = ColumnMapping(columns=[], fields=fields, lists=CodeLists())
    assert [f.key for f in mapping.missing_required()] == required


def test_one_pipeline_skips_the_rules_on_fields_that_failed():
    """convert, check, and no cross-field finding about a field whose value did not convert."""
    import datetime as dt

    from cstracker.core.rules import check_converted, validate_raw
    from cstracker.core.schema import CodeLists

    raw = {"date_received": "31/02/2026", "mosaic_id": "91000", "decision_date": "01/01/2026"}
    record, findings = validate_raw(raw, CodeLists(), dt.date(2026, 11, 27))
    assert [(f.field_key, f.rule) for f in findings] == [("date_received", "bad-date")]
    assert check_converted(record, {"date_received"}, CodeLists(), dt.date(2026, 11, 27)) == []
