"""The single source of truth for the Referral Tracker's fields and code lists.

Labels and code lists follow the Case Consultation Toolkit's spelling. Nothing
else in cstracker hard-codes a field label or a code: every module asks this
one. A local authority can extend or rename lists through its configuration
(see ``config.py``); those lists are then written into the workbook, and every
later command reads them back from the workbook itself (``CodeLists``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cstracker.core.codelists import (  # noqa: F401 - re-exported: the schema is the one place to ask
    CODE_SYNONYMS,
    DEFAULT_CODE_LISTS,
    EDUCATION,
    ETHNICITIES,
    GANG_AFFILIATION,
    GENDERS,
    INTERVENTIONS,
    LEGAL_STATUSES,
    OFFENDING,
    PRIMARY_CONCERNS,
    REFERRER_TEAMS,
    SUITABILITY,
    THEMES,
    TICK_VALUES,
    UNTICK_VALUES,
    YES_NO_UNKNOWN,
    CodeList,
)

SCHEMA_VERSION = "1.0"


class Kind(StrEnum):
    """How a field's value is typed, stored and validated."""

    ID = "id"  # generated Referral ID, e.g. CS-2026-0001
    TEXT = "text"  # short text
    LONGTEXT = "longtext"  # wrapped free text (actions, notes)
    MOSAIC = "mosaic"  # a case-system ID: digits kept as text, never a number
    DATE = "date"
    DATETIME = "datetime"
    INT = "int"
    CODE = "code"  # one value from a code list
    FLAG = "flag"  # a tick: True or blank
    FORMULA = "formula"  # computed by the spreadsheet (Status, Follow-up due)


@dataclass(frozen=True)
class Field:
    """One tracker field."""

    key: str
    label: str
    kind: Kind
    group: str
    code_list: str | None = None
    #: minimum and maximum for INT fields
    bounds: tuple[int, int] | None = None
    #: other column headings found in old spreadsheets and forms
    synonyms: tuple[str, ...] = ()
    width: float = 14
    #: text shown in Excel's input message for the column
    help: str = ""
    #: True when every row must have it; conditional requirements live in rules.py
    required: bool = False
    #: for FLAG fields: the code this flag stands for, and its list
    flag_of: str | None = None
    #: columns the coordinator must not type into (formulas, generated values)
    computed: bool = False
    #: identifies a child: never echoed in an error message or a published report
    sensitive: bool = False


THEME_PREFIX = "Theme: "
INTERVENTION_PREFIX = "Intervention: "


# ---------------------------------------------------------------------------
# Fields, in tracker column order.
# ---------------------------------------------------------------------------

_DATE_HELP = "A date, dd/mm/yyyy."


def _coded(key: str, label: str, group: str, **more: Any) -> Field:
    """A field holding one value of the code list of the same name."""
    return Field(key, label, Kind.CODE, group, code_list=key, **{"help": "Pick from the list.", **more})


def _dated(key: str, label: str, group: str, *, help: str, **more: Any) -> Field:
    """A date field: its prompt says what the date is, then how to type one."""
    return Field(key, label, Kind.DATE, group, help=f"{help} {_DATE_HELP}", **more)


BASE_FIELDS: tuple[Field, ...] = (
    # referral
    Field(
        "referral_id",
        "Referral ID",
        Kind.ID,
        "referral",
        width=15,
        # not required of a row: cstracker gives the next free one when it is blank (validate suggests it)
        synonyms=("Ref ID", "Referral No", "Referral number", "Ref", "Reference", "ID"),
        help="Made by cstracker, e.g. CS-2026-0001. Leave blank on a new row: validate suggests one.",
    ),
    _dated(
        "date_received",
        "Date received",
        "referral",
        width=13,
        required=True,
        synonyms=("Date of referral", "Referral date", "Date referred", "Received", "Date received"),
        help="The date the referral came in.",
    ),
    Field(
        "referrer",
        "Referrer",
        Kind.TEXT,
        "referral",
        width=20,
        synonyms=("Referred by", "Referrer name", "Referring practitioner"),
        help="The practitioner who asked for the consultation.",
    ),
    _coded(
        "referrer_team",
        "Referrer team/service",
        "referral",
        width=22,
        synonyms=("Referrer team", "Team", "Service", "Referring team", "Referrer service", "Agency"),
        help="Pick the referrer's team or service from the list.",
    ),
    Field(
        "mosaic_id",
        "Mosaic ID",
        Kind.MOSAIC,
        "referral",
        width=12,
        required=True,
        sensitive=True,
        synonyms=("Mosaic No", "Mosaic number", "Mosaic", "Case ID", "Child ID", "Person ID"),
        help="The young person's Mosaic ID (digits only). No names in the tracker.",
    ),
    # referral journey
    _dated(
        "known_since",
        "Known to children's services since",
        "journey",
        width=14,
        synonyms=("Known since", "Known to CSC since", "Known to childrens services"),
        help="When the young person first became known.",
    ),
    Field(
        "previous_referrals",
        "Previous referrals",
        Kind.INT,
        "journey",
        bounds=(0, 99),
        width=10,
        synonyms=("No of previous referrals", "Prev referrals", "Number of previous referrals"),
        help="How many earlier referrals, a whole number 0 to 99.",
    ),
    Field(
        "initial_referrer",
        "Initial referrer",
        Kind.TEXT,
        "journey",
        width=18,
        synonyms=("Initial referral by", "First referrer", "Who made the initial referral"),
        help="Who made the first referral (agency or role).",
    ),
    # suitability
    _coded(
        "suitability",
        "Suitability decision",
        "suitability",
        width=16,
        # not required: a blank decision is one still awaited (the rules ask for it once consulted)
        synonyms=("Suitable", "Suitability", "Suitable for consultation", "Decision"),
        help="Suitable, Not suitable (signpost elsewhere) or Awaiting decision.",
    ),
    _dated(
        "decision_date",
        "Decision date",
        "suitability",
        width=13,
        synonyms=("Date of decision", "Suitability date"),
        help="When suitability was decided.",
    ),
    Field(
        "signposted_to",
        "Signposted to",
        Kind.TEXT,
        "suitability",
        width=20,
        synonyms=("Signposted", "Signposting", "Referred on to"),
        help="Where a Not suitable referral was sent instead.",
    ),
    # consultation
    _dated(
        "consultation_date",
        "Consultation date",
        "consultation",
        width=13,
        synonyms=("Date of consultation", "Consultation", "Date", "Meeting date", "CC date"),
        help="The date the case consultation was held.",
    ),
    Field(
        "cs_practitioner",
        "CS practitioner",
        Kind.TEXT,
        "consultation",
        width=18,
        synonyms=("CS worker", "Consultant", "CS lead", "Contextual safeguarding practitioner"),
        help="The Contextual Safeguarding practitioner who held it.",
    ),
    Field(
        "practitioners_present",
        "Practitioners present",
        Kind.LONGTEXT,
        "consultation",
        width=24,
        synonyms=("Attendees", "Present", "Who attended"),
        help="Roles of those who attended.",
    ),
    # young person
    Field(
        "age",
        "Age",
        Kind.INT,
        "young_person",
        bounds=(5, 25),
        width=6,
        synonyms=("Age at referral", "YP age", "Age (years)"),
        help="Age in whole years, 5 to 25.",
    ),
    _coded(
        "gender",
        "Gender",
        "young_person",
        width=11,
        synonyms=("Sex",),
    ),
    _coded(
        "ethnicity",
        "Ethnicity",
        "young_person",
        width=24,
        synonyms=("Ethnic group", "Ethnic origin", "Ethnicity code"),
    ),
    _coded(
        "disability",
        "Disability",
        "young_person",
        width=11,
        synonyms=("Disabled",),
        help="Yes, No or Not known.",
    ),
    _coded(
        "legal_status",
        "Legal status",
        "young_person",
        width=22,
        synonyms=("Legal Status", "Status (legal)", "CSC status"),
    ),
    _coded(
        "offending",
        "Offending",
        "young_person",
        width=16,
        synonyms=("Offending history", "Offending?"),
    ),
    _coded(
        "gang_affiliation",
        "Gang affiliation (GA)",
        "young_person",
        width=12,
        synonyms=("GA", "Gang affiliation", "Gang affiliated", "Gang"),
    ),
    _coded(
        "education",
        "Education",
        "young_person",
        width=20,
        synonyms=("School/NEET", "Education status", "School? NEET?", "EET status"),
    ),
    Field(
        "siblings",
        "Siblings",
        Kind.INT,
        "young_person",
        bounds=(0, 20),
        width=8,
        synonyms=("No of siblings", "Number of siblings"),
        help="Number of siblings, 0 to 20.",
    ),
    # data entry form
    _coded(
        "primary_concern",
        "Primary concern",
        "data_entry",
        width=15,
        synonyms=("Primary Concern", "Main concern", "Primary context", "Context", "Main context"),
        help="ONE context only: Individual, Home, Peer Group, School or Neighbourhood.",
    ),
    Field(
        "detail",
        "Detail",
        Kind.TEXT,
        "data_entry",
        width=24,
        synonyms=(
            "Details",
            "Detail (e.g. name of school, gang, location etc)",
            "Location",
            "Context detail",
        ),
        help="Name of school, gang, location etc. Several? Separate them with ; or a line break: "
        "each one counts for the hotspots.",
    ),
    # the theme flag columns are inserted here (see tracker_fields)
    Field(
        "theme_other_text",
        "Other theme (state)",
        Kind.TEXT,
        "data_entry",
        width=18,
        synonyms=("Other [state]", "Other theme", "Other (state)", "Other themes"),
        help="Say what the Other theme is.",
    ),
    # agreed actions
    Field(
        "action_individual",
        "Actions: Individual",
        Kind.LONGTEXT,
        "actions",
        width=30,
        synonyms=("Individual actions", "Action individual", "Individual"),
        help="Agreed actions for the young person.",
    ),
    Field(
        "action_home",
        "Actions: Home",
        Kind.LONGTEXT,
        "actions",
        width=30,
        synonyms=("Home actions", "Action home", "Home"),
        help="Agreed actions for the home.",
    ),
    Field(
        "action_peer_group",
        "Actions: Peer group",
        Kind.LONGTEXT,
        "actions",
        width=30,
        synonyms=("Peer group actions", "Action peer group", "Peer group"),
        help="Agreed actions for the peer group.",
    ),
    Field(
        "action_school",
        "Actions: School",
        Kind.LONGTEXT,
        "actions",
        width=30,
        synonyms=("School actions", "Action school", "School"),
        help="Agreed actions for the school.",
    ),
    Field(
        "action_neighbourhood",
        "Actions: Neighbourhood",
        Kind.LONGTEXT,
        "actions",
        width=30,
        synonyms=("Neighbourhood actions", "Action neighbourhood", "Neighbourhood"),
        help="Agreed actions for the neighbourhood.",
    ),
    # the intervention flag columns are inserted here
    # follow-up
    Field(
        "follow_up_due",
        "Follow-up due",
        Kind.FORMULA,
        "follow_up",
        width=13,
        computed=True,
        help="Worked out by the workbook: consultation date plus the follow-up period.",
    ),
    _dated(
        "follow_up_date",
        "Follow-up date",
        "follow_up",
        width=13,
        synonyms=("Date followed up", "Follow up date", "Followed up"),
        help="When follow-up happened.",
    ),
    Field(
        "follow_up_notes",
        "Follow-up notes",
        Kind.LONGTEXT,
        "follow_up",
        width=30,
        synonyms=("Follow up notes", "Feedback", "Follow-up"),
        help="What the follow-up found.",
    ),
    Field(
        "status",
        "Status",
        Kind.FORMULA,
        "follow_up",
        width=20,
        computed=True,
        help="Worked out by the workbook from the decision and the dates.",
    ),
    # provenance
    Field(
        "source",
        "Source",
        Kind.TEXT,
        "provenance",
        width=22,
        computed=True,
        help="Where the row came from: a form file, an import, or typed by hand.",
    ),
    Field(
        "form_id",
        "Form ID",
        Kind.TEXT,
        "provenance",
        width=14,
        computed=True,
        help="The ID of the consultation form this row was read from.",
    ),
    Field(
        "last_updated",
        "Last updated",
        Kind.DATETIME,
        "provenance",
        width=16,
        computed=True,
        help="When cstracker last wrote this row.",
    ),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in BASE_FIELDS}

#: the columns the workbook works out (formulas): never supplied, never taken from a form or an import
COMPUTED_KEYS: tuple[str, ...] = tuple(f.key for f in BASE_FIELDS if f.kind is Kind.FORMULA)
#: where a row came from and when cstracker last wrote it: set by cstracker, never typed
PROVENANCE_KEYS: tuple[str, ...] = tuple(f.key for f in BASE_FIELDS if f.group == "provenance")
#: every key cstracker itself fills in (the form, the import and the report leave them to it)
WRITTEN_BY_CSTRACKER: tuple[str, ...] = COMPUTED_KEYS + PROVENANCE_KEYS
#: the provenance stamps a write adds to a row: never a change to the referral by themselves
ROW_STAMPS: tuple[str, ...] = ("source", "last_updated")
#: what every row must have (``Field.required``), checked by the rules and the import's mapping
REQUIRED_KEYS: tuple[str, ...] = tuple(f.key for f in BASE_FIELDS if f.required)

#: Contexts (the toolkit's five social spaces) -> the action field for each.
CONTEXT_ACTION_FIELD = {
    "Individual": "action_individual",
    "Home": "action_home",
    "Peer Group": "action_peer_group",
    "School": "action_school",
    "Neighbourhood": "action_neighbourhood",
}


def slug(text: str) -> str:
    """A stable key fragment for a code: 'Drugs (selling)' -> 'drugs_selling'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def normalise_token(text: str) -> str:
    """Fold case, spacing and punctuation so that spellings can be compared."""
    text = text.replace("&", " and ").replace("’", "'")
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def flag_field(code: str, list_key: str) -> Field:
    """The tracker column for one theme or intervention tick."""
    prefix = THEME_PREFIX if list_key == "themes" else INTERVENTION_PREFIX
    kind_name = "theme" if list_key == "themes" else "intervention"
    return Field(
        key=f"{kind_name}:{code}",
        label=prefix + code,
        kind=Kind.FLAG,
        group="themes" if list_key == "themes" else "interventions",
        code_list="tick",
        width=max(8.0, min(14.0, len(code) * 0.9)),
        synonyms=(code,),
        flag_of=code,
        help=f"Yes when {code} was identified, else leave blank."
        if list_key == "themes"
        else f"Yes when {code} was offered, else leave blank.",
    )


def tracker_fields(themes: tuple[str, ...], interventions: tuple[str, ...]) -> tuple[Field, ...]:
    """Every tracker column in order, with one flag column per theme and intervention."""
    out: list[Field] = []
    for f in BASE_FIELDS:
        if f.key == "theme_other_text":
            out.extend(flag_field(t, "themes") for t in themes)
        if f.key == "follow_up_due":
            out.extend(flag_field(i, "interventions") for i in interventions)
        out.append(f)
    return tuple(out)


@dataclass
class CodeLists:
    """The code lists in force for one tracker (defaults, config, or the workbook's own)."""

    lists: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {k: cl.codes for k, cl in DEFAULT_CODE_LISTS.items()}
    )
    #: extra synonyms from config or a mapping file: list key -> {normalised spelling: code}
    extra_synonyms: dict[str, dict[str, str]] = field(default_factory=dict)

    def codes(self, list_key: str) -> tuple[str, ...]:
        return self.lists[list_key]

    @property
    def themes(self) -> tuple[str, ...]:
        return self.lists["themes"]

    @property
    def interventions(self) -> tuple[str, ...]:
        return self.lists["interventions"]

    def fields(self) -> tuple[Field, ...]:
        return tracker_fields(self.themes, self.interventions)

    def not_listed(self, list_key: str, codes: Iterable[str]) -> list[str]:
        """The ``codes`` the list does not hold yet, by folded spelling, each once (its first spelling)."""
        have = {normalise_token(c) for c in self.codes(list_key)}
        new = []
        for code in codes:
            token = normalise_token(code)
            if token not in have:
                have.add(token)
                new.append(code)
        return new

    def lookup(self, list_key: str) -> dict[str, str]:
        """Normalised spelling -> code, for codes, built-in synonyms and extra synonyms.

        Cached per list contents (every converted value asks; rebuilding it each time
        dominated large imports). The table returned is shared: do not change it.
        """
        codes = self.lists[list_key]
        extra = self.extra_synonyms.get(list_key, {})
        cache_key = (list_key, tuple(codes), tuple(extra.items()))
        cache = self.__dict__.setdefault("_lookup_cache", {})
        if cache_key in cache:
            return cache[cache_key]
        table: dict[str, str] = {}
        for spelling, code in CODE_SYNONYMS.get(list_key, {}).items():
            if code in codes:
                table[normalise_token(spelling)] = code
        for spelling, code in self.extra_synonyms.get(list_key, {}).items():
            table[normalise_token(spelling)] = code
        for code in codes:
            table[normalise_token(code)] = code
        cache[cache_key] = table
        return table


#: the example Referral ID in prompts, written with the tracker's own prefix (``help_for``)
EXAMPLE_ID = "CS-2026-0001"


def example_referral_id(prefix: str = "CS") -> str:
    return f"{prefix}-2026-0001"


#: how a message made where the tracker is not known (a converter) gives the example Referral ID
ID_PATTERN_EXAMPLE = f" in the tracker's Referral ID pattern, e.g. {EXAMPLE_ID}"


def with_prefix(message: str, prefix: str) -> str:
    """A message's example Referral ID in the tracker's own prefix, once the tracker is known."""
    return message.replace(ID_PATTERN_EXAMPLE, f", e.g. {example_referral_id(prefix)}")


def help_for(f: Field, referral_id_prefix: str = "CS") -> str:
    """A field's prompt with the tracker's own Referral ID prefix in its examples."""
    return f.help.replace(EXAMPLE_ID, example_referral_id(referral_id_prefix))


def field_for_header(header: str, fields: tuple[Field, ...]) -> Field | None:
    """The field whose label (exactly, ignoring case and spacing) is this header."""
    wanted = normalise_token(header)
    for f in fields:
        if normalise_token(f.label) == wanted:
            return f
    return None
