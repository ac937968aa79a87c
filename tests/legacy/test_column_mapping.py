"""Matching old column headings to tracker fields, and the TOML mapping file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cstracker.core.errors import ConfigError
from cstracker.core.schema import FIELDS_BY_KEY, CodeLists
from cstracker.legacy.column_mapping import (
    RULE_CODE_SYNONYM,
    RULE_LABEL,
    RULE_LIST_TITLE,
    RULE_MAPPING,
    RULE_SYNONYM,
    HeaderMatcher,
    column_letter,
    load_mapping,
    map_columns,
)

LISTS = CodeLists()
FIELDS = LISTS.fields()


def resolve(header, mapping=None):
    return HeaderMatcher(FIELDS, LISTS, mapping).resolve(header)


@pytest.mark.parametrize(
    ("header", "key", "rule"),
    [
        ("Date received", "date_received", RULE_LABEL),
        ("  DATE   received ", "date_received", RULE_LABEL),
        ("date-received", "date_received", RULE_LABEL),
        ("Date of referral", "date_received", RULE_SYNONYM),
        ("Referral date", "date_received", RULE_SYNONYM),
        ("Mosaic No", "mosaic_id", RULE_SYNONYM),
        ("mosaic no.", "mosaic_id", RULE_SYNONYM),
        ("Primary Concern", "primary_concern", RULE_LABEL),
        ("Main concern", "primary_concern", RULE_SYNONYM),
        ("Theme: County Lines", "theme:County Lines", RULE_LABEL),
        ("County Lines", "theme:County Lines", RULE_SYNONYM),
        ("theme - county lines", "theme:County Lines", RULE_LABEL),
        ("Theme: DV", "theme:DV In home", RULE_SYNONYM),
        ("Domestic violence", "theme:DV In home", RULE_CODE_SYNONYM),
        ("Intervention: Parents work", "intervention:Parents work", RULE_LABEL),
        ("Parents work", "intervention:Parents work", RULE_SYNONYM),
        # the young person's Disability field wins over the Disability theme; the theme needs its prefix
        ("Disability", "disability", RULE_LABEL),
        ("Theme: Disability", "theme:Disability", RULE_LABEL),
        ("Themes", "list:themes", RULE_LIST_TITLE),
        ("Interventions", "list:interventions", RULE_LIST_TITLE),
    ],
)
def test_headers_match_labels_and_synonyms(header, key, rule):
    assert resolve(header) == (key, rule)


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("Status", "Status is worked out by the tracker"),
        ("Last updated", "Last updated is worked out by the tracker"),
        ("Worker notes", "not a tracker field"),
        ("", "no header"),
    ],
)
def test_headers_ignored_with_a_reason(header, why):
    key, reason = resolve(header)
    assert key is None and why in reason


def test_map_columns_reports_every_column():
    headers = ["Ref", "Date of referral", "Mosaic No", "Status", "Notes", "Date received", "Themes"]
    mapping = map_columns(headers, FIELDS, LISTS)
    got = [(c.letter, c.key or c.list_key, c.rule or c.note) for c in mapping.columns]
    assert got == [
        ("A", "referral_id", RULE_SYNONYM),
        ("B", "date_received", RULE_SYNONYM),
        ("C", "mosaic_id", RULE_SYNONYM),
        ("D", None, "Status is worked out by the tracker"),
        ("E", None, "not a tracker field (add it to the mapping file to import it)"),
        ("F", None, "same field as column B 'Date of referral'"),
        ("G", "themes", RULE_LIST_TITLE),
    ]
    lines = mapping.lines()
    assert lines[1] == "  column B 'Date of referral' -> Date received (synonym)"
    assert lines[3] == "  column D 'Status' ignored: Status is worked out by the tracker"
    assert lines[6] == "  column G 'Themes' -> Themes, several in one cell (list title)"
    assert mapping.missing_required() == []
    assert [f.key for f in map_columns(["Age"], FIELDS, LISTS).missing_required()] == [
        "date_received",
        "mosaic_id",
    ]


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


MAPPING = """
[columns]
"YP Mosaic" = "Mosaic ID"
"Worker" = "cs_practitioner"
"Concerns identified" = "themes"
"Date" = "Date received"          # overrides the schema's synonym (Consultation date)
"Internal notes" = "ignore"

[values.referrer_team]
"North Locality SW" = "Children's Social Care"

[values."Primary concern"]
"estate" = "neighbourhood"
"""


def test_mapping_file_columns_and_values(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    mf = load_mapping(path, FIELDS, LISTS)
    headers = ["yp mosaic", "Worker", "Concerns identified", "Date", "Internal notes", "Team"]
    mapping = map_columns(headers, FIELDS, LISTS, mf)
    got = [(c.key or c.list_key, c.rule or c.note) for c in mapping.columns]
    assert got == [
        ("mosaic_id", RULE_MAPPING),
        ("cs_practitioner", RULE_MAPPING),
        ("themes", RULE_MAPPING),
        ("date_received", RULE_MAPPING),
        (None, "the mapping file says ignore"),
        ("referrer_team", RULE_SYNONYM),
    ]
    lookup = mapping.lists.lookup("referrer_team")
    assert lookup["north locality sw"] == "Children's Social Care"
    assert mapping.lists.lookup("primary_concern")["estate"] == "Neighbourhood"  # code spelling folded too
    assert "north locality sw" not in LISTS.lookup("referrer_team")  # the tracker's own lists untouched


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[columns]\n"X" = "Nope"\n', "columns.'X': 'Nope' is not a tracker field"),
        ('[columns]\n"X" = "Status"\n', "'Status' is not a tracker field"),
        ('[values.nope]\n"a" = "b"\n', "values.nope: not a code list"),
        (
            '[values.gender]\n"lad" = "Boy"\n',
            "values.gender.'lad': 'Boy' is not on the gender list; allowed: Female",
        ),
        ("[other]\n", "unknown section 'other'"),
        ("[columns\n", "not valid TOML"),
    ],
)
def test_bad_mapping_files_name_the_key(tmp_path, toml, message):
    path = tmp_path / "mapping.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        load_mapping(path, FIELDS, LISTS)
    assert str(path) in str(e.value)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ConfigError, match="no such mapping file"):
        load_mapping(tmp_path / "nope.toml", FIELDS, LISTS)


def test_header_score_counts_recognised_headings():
    score = HeaderMatcher(FIELDS, LISTS).score
    assert score(["Anytown CS consultations", "", ""]) == 0
    assert score(["Date of referral", "Mosaic No", "Notes", "County Lines"]) == 3


def test_every_label_resolves_to_its_own_field():
    matcher = HeaderMatcher(FIELDS, LISTS)
    for f in FIELDS:
        if not f.computed:
            assert matcher.resolve(f.label) == (f.key, RULE_LABEL)


def test_a_synonym_shared_by_two_fields_is_not_guessed():
    # a config-renamed theme may share a spelling with another field's synonym
    lists = CodeLists(lists={**LISTS.lists, "themes": (*LISTS.themes, "Gang")})
    key, reason = HeaderMatcher(lists.fields(), lists).resolve("Gang")
    assert key is None
    assert reason == "could be Gang affiliation (GA) or Theme: Gang; name it in the mapping file"
    assert FIELDS_BY_KEY["gang_affiliation"].synonyms.count("Gang") == 1


def test_the_documented_mapping_file_is_valid(tmp_path):
    doc = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# ours\.toml.*?)```", doc, re.S)[1]
    path = tmp_path / "ours.toml"
    path.write_text(block, encoding="utf-8")
    mf = load_mapping(path, FIELDS, LISTS)
    mapping = map_columns(["YP Mosaic", "Date", "Concerns identified", "Internal notes"], FIELDS, LISTS, mf)
    assert [c.key or c.list_key for c in mapping.columns] == ["mosaic_id", "date_received", "themes", None]
    assert mapping.lists.lookup("themes")["cce"] == "County Lines"
