"""Invariants of the schema: the single source of truth must be consistent with itself."""

from __future__ import annotations

import pytest

from cstracker.core import schema
from cstracker.core.schema import (
    BASE_FIELDS,
    CODE_SYNONYMS,
    DEFAULT_CODE_LISTS,
    CodeLists,
    Kind,
    field_for_header,
    normalise_token,
)


def test_field_keys_and_labels_are_unique():
    fields = CodeLists().fields()
    assert len({f.key for f in fields}) == len(fields)
    assert len({normalise_token(f.label) for f in fields}) == len(fields)


def test_the_toolkit_lists_are_complete():
    assert schema.PRIMARY_CONCERNS == ("Individual", "Home", "Peer Group", "School", "Neighbourhood")
    assert len(schema.THEMES) == 22
    assert "County Lines" in schema.THEMES and "DV In home" in schema.THEMES and schema.THEMES[-1] == "Other"
    assert len(schema.INTERVENTIONS) == 7
    assert schema.SUITABILITY == ("Suitable", "Not suitable", "Awaiting decision")


def test_every_code_field_names_an_existing_list():
    for f in CodeLists().fields():
        if f.kind in (Kind.CODE, Kind.FLAG):
            assert f.code_list in DEFAULT_CODE_LISTS, f.key


def test_every_synonym_points_at_a_real_code():
    for list_key, table in CODE_SYNONYMS.items():
        codes = DEFAULT_CODE_LISTS[list_key].codes
        for spelling, code in table.items():
            assert code in codes, (list_key, spelling, code)


def test_synonym_headers_do_not_collide_between_fields():
    seen: dict[str, str] = {}
    for f in BASE_FIELDS:
        for name in (f.label, *f.synonyms):
            token = normalise_token(name)
            assert seen.get(token, f.key) == f.key, f"{name!r} is claimed by {seen.get(token)} and {f.key}"
            seen[token] = f.key


def test_theme_and_intervention_columns_follow_the_lists():
    lists = CodeLists(lists={**CodeLists().lists, "themes": ("Knife crime", "CSE")})
    keys = [f.key for f in lists.fields()]
    assert "theme:Knife crime" in keys and "theme:County Lines" not in keys
    # themes sit after Detail, interventions before the follow-up columns
    assert keys.index("detail") < keys.index("theme:Knife crime") < keys.index("theme_other_text")
    assert (
        keys.index("action_neighbourhood")
        < keys.index("intervention:Parents work")
        < keys.index("follow_up_due")
    )


def test_theme_columns_never_clash_with_young_person_fields():
    # "Disability" is both a theme and a young-person field: the prefix keeps them apart.
    labels = [f.label for f in CodeLists().fields()]
    assert "Disability" in labels and "Theme: Disability" in labels


@pytest.mark.parametrize(
    ("header", "key"),
    [("Date received", "date_received"), ("  date RECEIVED ", "date_received"), ("Mosaic ID", "mosaic_id")],
)
def test_field_for_header(header, key):
    assert field_for_header(header, CodeLists().fields()).key == key


def test_lookup_matches_codes_and_synonyms_loosely():
    table = CodeLists().lookup("primary_concern")
    assert table[normalise_token("peer grp")] == "Peer Group"
    assert table[normalise_token("PEER  GROUP")] == "Peer Group"
    assert normalise_token("neighbourhood") in table


def test_sensitive_fields_are_marked():
    assert schema.FIELDS_BY_KEY["mosaic_id"].sensitive
