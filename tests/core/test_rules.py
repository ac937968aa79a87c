"""Record rules, shared by validate, ingest and import: each rule caught, a clean record clean."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY
from hypothesis import given, settings
from hypothesis import strategies as st

from cstracker.core.rules import check_record, convert_record, rows_to_check, validate_raw
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


# -- rows_to_check: the rules on whole columns leave out only rows check_record finds nothing in ----------------

_DAYS = st.one_of(
    st.none(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2028, 12, 31)),
    st.sampled_from(
        [dt.date(1994, 12, 31), dt.date(1999, 12, 31), dt.date(2000, 1, 1), TODAY, TODAY + dt.timedelta(1)]
    ),
)
_RECORDS = st.fixed_dictionaries(
    {
        "referral_id": st.sampled_from([None, "CS-2026-0001"]),
        "mosaic_id": st.sampled_from([None, "1234567"]),
        "date_received": _DAYS,
        "decision_date": _DAYS,
        "consultation_date": _DAYS,
        "follow_up_date": _DAYS,
        "known_since": _DAYS,
        "suitability": st.sampled_from([None, "Suitable", "Not suitable", "Awaiting decision"]),
        "signposted_to": st.sampled_from([None, "Early Help"]),
        "primary_concern": st.sampled_from(
            [None, "Individual", "Home", "Peer Group", "School", "Neighbourhood"]
        ),
        "theme:Other": st.sampled_from([None, True]),
        "theme_other_text": st.sampled_from([None, "Gangs"]),
        **{
            key: st.sampled_from([None, "Key worker"])
            for key in (
                "action_individual",
                "action_home",
                "action_peer_group",
                "action_school",
                "action_neighbourhood",
            )
        },
    }
)


def _columns(records):
    """The records as the column-wise reading types whole columns (validate's checked_rows)."""
    import pandas as pd

    columns = {}
    for key in records[0]:
        values = [r[key] for r in records]
        if key.endswith(("_date", "_received", "_since")):
            columns[key] = pd.Series(pd.to_datetime(values))
        elif key == "theme:Other":
            columns[key] = pd.Series([v is True for v in values], dtype=bool)
        else:
            columns[key] = pd.Series(values, dtype="string")
    return columns


@settings(max_examples=300, deadline=None)
@given(st.lists(_RECORDS, min_size=1, max_size=20))
def test_rows_to_check_keeps_every_row_check_record_finds_something_in(records):
    lists = CodeLists()
    mask = rows_to_check(_columns(records), len(records), TODAY)
    for record, kept in zip(records, mask.tolist(), strict=True):
        found = check_record({k: v for k, v in record.items() if v is not None}, lists, TODAY)
        assert kept or not found, (record, found)


def test_rows_to_check_leaves_out_a_clean_row():
    clean = {
        "referral_id": "CS-2026-0001",
        "mosaic_id": "1234567",
        "date_received": dt.date(2026, 9, 1),
        "decision_date": dt.date(2026, 9, 2),
        "consultation_date": dt.date(2026, 9, 9),
        "follow_up_date": dt.date(2026, 10, 1),
        "known_since": None,
        "suitability": "Suitable",
        "signposted_to": None,
        "primary_concern": "School",
        "theme:Other": None,
        "theme_other_text": None,
        "action_individual": None,
        "action_home": None,
        "action_peer_group": None,
        "action_school": "Key worker",
        "action_neighbourhood": None,
    }
    late = {**clean, "decision_date": dt.date(2026, 8, 1)}
    assert check_record({k: v for k, v in clean.items() if v is not None}, CodeLists(), TODAY) == []
    assert rows_to_check(_columns([clean, late]), 2, TODAY).tolist() == [False, True]
