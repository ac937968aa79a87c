"""Converters are pure functions: raw value in, clean value or a reason out."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cstracker.core.convert import (
    convert,
    looks_like_formula,
    parse_code,
    parse_date,
    parse_datetime,
    parse_flag,
    parse_int,
    parse_mosaic,
    parse_referral_id,
    split_list_cell,
)
from cstracker.core.schema import FIELDS_BY_KEY, CodeLists


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03/10/2026", dt.date(2026, 10, 3)),  # UK: day first, always
        ("3/10/26", dt.date(2026, 10, 3)),
        ("03-10-2026", dt.date(2026, 10, 3)),
        ("03.10.2026", dt.date(2026, 10, 3)),
        ("2026-10-03", dt.date(2026, 10, 3)),  # ISO stays ISO
        ("2026-10-03T14:30:00", dt.date(2026, 10, 3)),
        ("3 Oct 2026", dt.date(2026, 10, 3)),
        ("3rd October 2026", dt.date(2026, 10, 3)),
        ("03/10/2026 14:30", dt.date(2026, 10, 3)),
        (46298, dt.date(2026, 10, 3)),  # Excel serial
        ("46298", dt.date(2026, 10, 3)),
        (46298.0, dt.date(2026, 10, 3)),
        (dt.datetime(2026, 10, 3, 9, 0), dt.date(2026, 10, 3)),
        (dt.date(2026, 10, 3), dt.date(2026, 10, 3)),
        ("  03/10/2026 ", dt.date(2026, 10, 3)),
    ],
)
def test_parse_date_accepts(raw, expected):
    got = parse_date(raw)
    assert got.ok, got.error
    assert got.value == expected


@pytest.mark.parametrize(
    "raw", ["31/02/2026", "13/13/2026", "2026-02-30", "yesterday", "12", True, "10/2026", 5.5]
)
def test_parse_date_rejects_with_a_reason(raw):
    got = parse_date(raw)
    assert not got.ok
    assert "date" in got.error and "03/10/2026" in got.error


def test_ambiguous_dates_are_never_swapped():
    # 05/06 is 5 June whatever comes before or after it.
    assert parse_date("12/01/2026").value == dt.date(2026, 1, 12)
    assert parse_date("05/06/2026").value == dt.date(2026, 6, 5)


@given(st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_day_first_and_iso_round_trip(day):
    assert parse_date(day.strftime("%d/%m/%Y")).value == day
    assert parse_date(day.isoformat()).value == day
    assert parse_date(day.strftime("%-d %B %Y")).value == day


def test_parse_datetime():
    assert parse_datetime("03/10/2026 14:30").value == dt.datetime(2026, 10, 3, 14, 30)
    assert not parse_datetime("03/10/2026 25:30").ok


@pytest.mark.parametrize(("raw", "expected"), [(15, 15), ("15", 15), (15.0, 15), ("15.0", 15), (" 7 ", 7)])
def test_parse_int(raw, expected):
    assert parse_int(raw, (5, 25)).value == expected


@pytest.mark.parametrize(
    ("raw", "word"), [(99, "out of range"), ("fifteen", "whole number"), (15.5, "whole")]
)
def test_parse_int_rejects(raw, word):
    got = parse_int(raw, (5, 25))
    assert not got.ok and word in got.error and "5 to 25" in got.error


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0012345", "0012345"),
        (12345, "12345"),
        (12345.0, "12345"),
        ("12345.0", "12345"),
        (" 12 345 ", "12345"),
    ],
)
def test_mosaic_ids_stay_text(raw, expected):
    assert parse_mosaic(raw).value == expected


def test_mosaic_errors_never_echo_the_value():
    got = parse_mosaic("AB12345")
    assert not got.ok
    assert "AB12345" not in got.error and "12345" not in got.error


def test_referral_ids_are_cleaned():
    assert parse_referral_id(" cs-2026-0001 ").value == "CS-2026-0001"
    assert parse_referral_id(1234.0).value == "1234"
    assert not parse_referral_id("=cmd|x").ok


@pytest.mark.parametrize("raw", ["Yes", "y", "X", "✓", "✔", "TRUE", "1", 1, True, "ticked"])
def test_ticks(raw):
    assert parse_flag(raw).value is True


@pytest.mark.parametrize("raw", ["", "No", "n", "FALSE", "0", 0, False])
def test_unticks(raw):
    assert parse_flag(raw).value is False


def test_not_a_tick():
    got = parse_flag("maybe")
    assert not got.ok and "Yes" in got.error


def test_codes_through_synonyms_and_spacing():
    lists = CodeLists()
    assert parse_code("peer grp", "primary_concern", lists).value == "Peer Group"
    assert parse_code("  NEIGHBOURHOOD ", "primary_concern", lists).value == "Neighbourhood"
    assert parse_code("yot", "referrer_team", lists).value == "Youth Justice Service"
    bad = parse_code("Galaxy", "primary_concern", lists)
    assert not bad.ok and "Individual, Home, Peer Group, School, Neighbourhood" in bad.error


def test_long_lists_are_summarised_in_messages():
    bad = parse_code("Martian", "ethnicity", CodeLists())
    assert "see the Lists sheet" in bad.error


def test_convert_blank_is_none_and_flags_false():
    lists = CodeLists()
    assert convert(FIELDS_BY_KEY["age"], "  ", lists).value is None
    assert convert(FIELDS_BY_KEY["date_received"], None, lists).value is None
    flag = lists.fields()[[f.key for f in lists.fields()].index("theme:CSE")]
    assert convert(flag, None, lists).value is False


def test_text_keeps_formula_like_text_as_is():
    lists = CodeLists()
    for text in ('=HYPERLINK("http://x")', "-ve attitude", "+1 sibling", "@SUM(A1)"):
        assert convert(FIELDS_BY_KEY["detail"], text, lists).value == text
        assert looks_like_formula(text)
    assert not looks_like_formula("St Aidan's")


def test_text_drops_characters_xml_cannot_hold():
    assert convert(FIELDS_BY_KEY["detail"], "Park\x00 Road\x07", CodeLists()).value == "Park Road"


def test_split_list_cell():
    assert split_list_cell("County Lines; CSE, Gangs") == ["County Lines", "CSE", "Gangs"]
    assert split_list_cell("CSE\nOnline | HSB") == ["CSE", "Online", "HSB"]


def test_a_bad_referral_id_where_the_trackers_prefix_is_unknown_names_the_pattern():
    from cstracker.core.convert import parse_referral_id
    from cstracker.core.schema import with_prefix

    got = parse_referral_id("not an id!")
    assert not got.ok
    assert "in the tracker's Referral ID pattern, e.g. CS-2026-0001" in got.error
    # once the tracker is known, its own prefix
    assert with_prefix(got.error, "WCS") == (
        "is not a Referral ID; use letters, digits and dashes, e.g. WCS-2026-0001 (at most 40)"
    )
