"""The single source of truth for the Referral Tracker's fields and code lists.

Labels and code lists follow the Case Consultation Toolkit's spelling. Nothing
else in cstracker hard-codes a field label or a code: every module asks this
one. A local authority can extend or rename lists through its configuration
(see ``config.py``); those lists are then written into the workbook, and every
later command reads them back from the workbook itself (``CodeLists``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

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


# ---------------------------------------------------------------------------
# Code lists (defaults). Each list: key -> (title shown on the Lists sheet, codes).
# ---------------------------------------------------------------------------

PRIMARY_CONCERNS = ("Individual", "Home", "Peer Group", "School", "Neighbourhood")

THEMES = (
    "CFS History",
    "County Lines",
    "CP Plan",
    "CSE",
    "Disability",
    "Drugs (selling)",
    "Drugs (Using)",
    "School Exclusion",
    "Gangs",
    "HSB",
    "Mental Health (Parental)",
    "Mental Health (YP)",
    "Missing episodes",
    "Offending (Parental)",
    "Offending (YP)",
    "Online",
    "Poor school attendance",
    "Radicalisation",
    "SEN",
    "Unauthorised Absences",
    "DV In home",
    "Other",
)

INTERVENTIONS = (
    "Peer-group mapping",
    "Peer group interventions",
    "Research support",
    "Linking to agencies",
    "Signposting to tools",
    "Support at relevant meetings",
    "Parents work",
)

SUITABILITY = ("Suitable", "Not suitable", "Awaiting decision")

GENDERS = ("Female", "Male", "Non-binary", "Other", "Not known")

# The 2021 England and Wales census groups, as most children's services record them.
ETHNICITIES = (
    "White - British",
    "White - Irish",
    "White - Gypsy or Irish Traveller",
    "White - Roma",
    "White - Any other White background",
    "Mixed - White and Black Caribbean",
    "Mixed - White and Black African",
    "Mixed - White and Asian",
    "Mixed - Any other Mixed background",
    "Asian - Indian",
    "Asian - Pakistani",
    "Asian - Bangladeshi",
    "Asian - Chinese",
    "Asian - Any other Asian background",
    "Black - Caribbean",
    "Black - African",
    "Black - Any other Black background",
    "Other - Arab",
    "Other - Any other ethnic group",
    "Refused",
    "Not known",
)

YES_NO_UNKNOWN = ("Yes", "No", "Not known")

LEGAL_STATUSES = (
    "No statutory involvement",
    "Early Help",
    "Child in Need",
    "Child Protection Plan",
    "Looked After (s20)",
    "Looked After (care order)",
    "Remanded",
    "Care leaver",
    "Not known",
)

OFFENDING = ("None known", "Suspected", "Cautioned or convicted", "Not known")

GANG_AFFILIATION = ("Yes", "Suspected", "No", "Not known")

EDUCATION = (
    "In school",
    "Alternative provision",
    "College / training",
    "Home educated",
    "Excluded",
    "NEET",
    "Not known",
)

REFERRER_TEAMS = (
    "Children's Social Care",
    "Early Help",
    "Youth Justice Service",
    "School",
    "Police",
    "Health",
    "CAMHS",
    "Youth Service",
    "Housing",
    "Community Safety",
    "Voluntary sector",
    "Other",
)


@dataclass(frozen=True)
class CodeList:
    key: str
    title: str
    codes: tuple[str, ...]
    #: True for lists a local authority may replace in its configuration
    configurable: bool = True


DEFAULT_CODE_LISTS: dict[str, CodeList] = {
    cl.key: cl
    for cl in (
        CodeList("primary_concern", "Primary concern", PRIMARY_CONCERNS, configurable=False),
        CodeList("themes", "Themes", THEMES),
        CodeList("interventions", "Interventions", INTERVENTIONS),
        CodeList("suitability", "Suitability decision", SUITABILITY, configurable=False),
        CodeList("gender", "Gender", GENDERS),
        CodeList("ethnicity", "Ethnicity", ETHNICITIES),
        CodeList("disability", "Disability", YES_NO_UNKNOWN),
        CodeList("legal_status", "Legal status", LEGAL_STATUSES),
        CodeList("offending", "Offending", OFFENDING),
        CodeList("gang_affiliation", "Gang affiliation (GA)", GANG_AFFILIATION),
        CodeList("education", "Education", EDUCATION),
        CodeList("referrer_team", "Referrer team/service", REFERRER_TEAMS),
        CodeList("tick", "Tick", ("Yes",), configurable=False),
    )
}

#: Messy spellings seen in old spreadsheets and forms, per code list, mapped to
#: the code. Matching is also case-, space- and punctuation-insensitive (see
#: ``normalise_token``), so only genuinely different words are listed here.
CODE_SYNONYMS: dict[str, dict[str, str]] = {
    "primary_concern": {
        "individual": "Individual",
        "yp": "Individual",
        "young person": "Individual",
        "family": "Home",
        "home family": "Home",
        "peer": "Peer Group",
        "peers": "Peer Group",
        "peer grp": "Peer Group",
        "peer groups": "Peer Group",
        "schools": "School",
        "education": "School",
        "neighborhood": "Neighbourhood",
        "neighbourhood spaces": "Neighbourhood",
        "community": "Neighbourhood",
        "location": "Neighbourhood",
    },
    "themes": {
        "cfs": "CFS History",
        "childrens services history": "CFS History",
        "county line": "County Lines",
        "countylines": "County Lines",
        "cl": "County Lines",
        "child protection plan": "CP Plan",
        "cp": "CP Plan",
        "child sexual exploitation": "CSE",
        "sexual exploitation": "CSE",
        "drug selling": "Drugs (selling)",
        "drugs selling": "Drugs (selling)",
        "selling drugs": "Drugs (selling)",
        "drug use": "Drugs (Using)",
        "drugs use": "Drugs (Using)",
        "drugs using": "Drugs (Using)",
        "substance misuse": "Drugs (Using)",
        "exclusion": "School Exclusion",
        "excluded": "School Exclusion",
        "gang": "Gangs",
        "harmful sexual behaviour": "HSB",
        "harmful sexual behavior": "HSB",
        "parental mental health": "Mental Health (Parental)",
        "mh parental": "Mental Health (Parental)",
        "mental health": "Mental Health (YP)",
        "mh yp": "Mental Health (YP)",
        "yp mental health": "Mental Health (YP)",
        "missing": "Missing episodes",
        "missing from home": "Missing episodes",
        "mfh": "Missing episodes",
        "parental offending": "Offending (Parental)",
        "offending": "Offending (YP)",
        "yp offending": "Offending (YP)",
        "online harm": "Online",
        "online safety": "Online",
        "social media": "Online",
        "poor attendance": "Poor school attendance",
        "attendance": "Poor school attendance",
        "extremism": "Radicalisation",
        "radicalization": "Radicalisation",
        "prevent": "Radicalisation",
        "send": "SEN",
        "special educational needs": "SEN",
        "unauthorised absence": "Unauthorised Absences",
        "unauthorized absences": "Unauthorised Absences",
        "dv": "DV In home",
        "domestic violence": "DV In home",
        "domestic abuse": "DV In home",
        "dv in the home": "DV In home",
    },
    "interventions": {
        "peer group mapping": "Peer-group mapping",
        "peer mapping": "Peer-group mapping",
        "mapping": "Peer-group mapping",
        "peer group intervention": "Peer group interventions",
        "research": "Research support",
        "linking agencies": "Linking to agencies",
        "agency links": "Linking to agencies",
        "signposting": "Signposting to tools",
        "tools": "Signposting to tools",
        "meeting support": "Support at relevant meetings",
        "meetings": "Support at relevant meetings",
        "parent work": "Parents work",
        "parents": "Parents work",
        "work with parents": "Parents work",
    },
    "suitability": {
        "yes": "Suitable",
        "y": "Suitable",
        "accepted": "Suitable",
        "no": "Not suitable",
        "n": "Not suitable",
        "unsuitable": "Not suitable",
        "not suitable signposted": "Not suitable",
        "signposted": "Not suitable",
        "awaiting": "Awaiting decision",
        "pending": "Awaiting decision",
        "tbc": "Awaiting decision",
    },
    "gender": {
        "f": "Female",
        "girl": "Female",
        "m": "Male",
        "boy": "Male",
        "nb": "Non-binary",
        "nonbinary": "Non-binary",
        "unknown": "Not known",
        "nk": "Not known",
    },
    "disability": {"y": "Yes", "n": "No", "unknown": "Not known", "nk": "Not known"},
    "offending": {
        "no": "None known",
        "none": "None known",
        "n": "None known",
        "yes": "Cautioned or convicted",
        "convicted": "Cautioned or convicted",
        "cautioned": "Cautioned or convicted",
        "suspected": "Suspected",
        "unknown": "Not known",
    },
    "gang_affiliation": {"y": "Yes", "n": "No", "unknown": "Not known", "possible": "Suspected"},
    "education": {
        "school": "In school",
        "mainstream": "In school",
        "mainstream school": "In school",
        "ap": "Alternative provision",
        "pru": "Alternative provision",
        "college": "College / training",
        "fe": "College / training",
        "ehe": "Home educated",
        "elective home education": "Home educated",
        "permanently excluded": "Excluded",
        "not in education employment or training": "NEET",
        "unknown": "Not known",
    },
    "legal_status": {
        "none": "No statutory involvement",
        "eh": "Early Help",
        "cin": "Child in Need",
        "cp": "Child Protection Plan",
        "cpp": "Child Protection Plan",
        "s20": "Looked After (s20)",
        "section 20": "Looked After (s20)",
        "lac": "Looked After (care order)",
        "cla": "Looked After (care order)",
        "s31": "Looked After (care order)",
        "care order": "Looked After (care order)",
        "unknown": "Not known",
    },
    "ethnicity": {
        "white british": "White - British",
        "wbri": "White - British",
        "white irish": "White - Irish",
        "black african": "Black - African",
        "black caribbean": "Black - Caribbean",
        "indian": "Asian - Indian",
        "pakistani": "Asian - Pakistani",
        "bangladeshi": "Asian - Bangladeshi",
        "chinese": "Asian - Chinese",
        "arab": "Other - Arab",
        "unknown": "Not known",
        "nk": "Not known",
        "declined": "Refused",
    },
    "referrer_team": {
        "csc": "Children's Social Care",
        "social care": "Children's Social Care",
        "social worker": "Children's Social Care",
        "yjs": "Youth Justice Service",
        "yot": "Youth Justice Service",
        "youth offending": "Youth Justice Service",
        "eh": "Early Help",
        "education": "School",
        "vcs": "Voluntary sector",
        "charity": "Voluntary sector",
    },
}

#: Values that tick a flag (theme or intervention), case-insensitive.
TICK_VALUES = frozenset({"yes", "y", "x", "✓", "✔", "☑", "true", "1", "ticked", "tick"})
#: Values that leave a flag unticked.
UNTICK_VALUES = frozenset({"", "no", "n", "false", "0", "☐", "-"})

THEME_PREFIX = "Theme: "
INTERVENTION_PREFIX = "Intervention: "


# ---------------------------------------------------------------------------
# Fields, in tracker column order.
# ---------------------------------------------------------------------------

_DATE_HELP = "A date, dd/mm/yyyy."

BASE_FIELDS: tuple[Field, ...] = (
    # referral
    Field(
        "referral_id",
        "Referral ID",
        Kind.ID,
        "referral",
        width=15,
        required=True,
        synonyms=("Ref ID", "Referral No", "Referral number", "Ref", "Reference", "ID"),
        help="Made by cstracker, e.g. CS-2026-0001. Leave blank on a new row: validate suggests one.",
    ),
    Field(
        "date_received",
        "Date received",
        Kind.DATE,
        "referral",
        width=13,
        required=True,
        synonyms=("Date of referral", "Referral date", "Date referred", "Received", "Date received"),
        help="The date the referral came in. " + _DATE_HELP,
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
    Field(
        "referrer_team",
        "Referrer team/service",
        Kind.CODE,
        "referral",
        code_list="referrer_team",
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
    Field(
        "known_since",
        "Known to children's services since",
        Kind.DATE,
        "journey",
        width=14,
        synonyms=("Known since", "Known to CSC since", "Known to childrens services"),
        help="When the young person first became known. " + _DATE_HELP,
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
    Field(
        "suitability",
        "Suitability decision",
        Kind.CODE,
        "suitability",
        code_list="suitability",
        width=16,
        required=True,
        synonyms=("Suitable", "Suitability", "Suitable for consultation", "Decision"),
        help="Suitable, Not suitable (signpost elsewhere) or Awaiting decision.",
    ),
    Field(
        "decision_date",
        "Decision date",
        Kind.DATE,
        "suitability",
        width=13,
        synonyms=("Date of decision", "Suitability date"),
        help="When suitability was decided. " + _DATE_HELP,
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
    Field(
        "consultation_date",
        "Consultation date",
        Kind.DATE,
        "consultation",
        width=13,
        synonyms=("Date of consultation", "Consultation", "Date", "Meeting date", "CC date"),
        help="The date the case consultation was held. " + _DATE_HELP,
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
    Field(
        "gender",
        "Gender",
        Kind.CODE,
        "young_person",
        code_list="gender",
        width=11,
        synonyms=("Sex",),
        help="Pick from the list.",
    ),
    Field(
        "ethnicity",
        "Ethnicity",
        Kind.CODE,
        "young_person",
        code_list="ethnicity",
        width=24,
        synonyms=("Ethnic group", "Ethnic origin", "Ethnicity code"),
        help="Pick from the list.",
    ),
    Field(
        "disability",
        "Disability",
        Kind.CODE,
        "young_person",
        code_list="disability",
        width=11,
        synonyms=("Disabled",),
        help="Yes, No or Not known.",
    ),
    Field(
        "legal_status",
        "Legal status",
        Kind.CODE,
        "young_person",
        code_list="legal_status",
        width=22,
        synonyms=("Legal Status", "Status (legal)", "CSC status"),
        help="Pick from the list.",
    ),
    Field(
        "offending",
        "Offending",
        Kind.CODE,
        "young_person",
        code_list="offending",
        width=16,
        synonyms=("Offending history", "Offending?"),
        help="Pick from the list.",
    ),
    Field(
        "gang_affiliation",
        "Gang affiliation (GA)",
        Kind.CODE,
        "young_person",
        code_list="gang_affiliation",
        width=12,
        synonyms=("GA", "Gang affiliation", "Gang affiliated", "Gang"),
        help="Pick from the list.",
    ),
    Field(
        "education",
        "Education",
        Kind.CODE,
        "young_person",
        code_list="education",
        width=20,
        synonyms=("School/NEET", "Education status", "School? NEET?", "EET status"),
        help="Pick from the list.",
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
    Field(
        "primary_concern",
        "Primary concern",
        Kind.CODE,
        "data_entry",
        code_list="primary_concern",
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
        help="Name of school, gang, location etc.",
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
    Field(
        "follow_up_date",
        "Follow-up date",
        Kind.DATE,
        "follow_up",
        width=13,
        synonyms=("Date followed up", "Follow up date", "Followed up"),
        help="When follow-up happened. " + _DATE_HELP,
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

#: Contexts (the toolkit's five social spaces) -> the action field for each.
CONTEXT_ACTION_FIELD = {
    "Individual": "action_individual",
    "Home": "action_home",
    "Peer Group": "action_peer_group",
    "School": "action_school",
    "Neighbourhood": "action_neighbourhood",
}

#: The statuses the Status formula can show, in process order.
STATUSES = (
    "Awaiting decision",
    "Not suitable",
    "Awaiting consultation",
    "Consultation booked",
    "Consultation held",
    "Follow-up overdue",
    "Followed up",
)


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

    def lookup(self, list_key: str) -> dict[str, str]:
        """Normalised spelling -> code, for codes, built-in synonyms and extra synonyms."""
        table: dict[str, str] = {}
        codes = self.lists[list_key]
        for spelling, code in CODE_SYNONYMS.get(list_key, {}).items():
            if code in codes:
                table[normalise_token(spelling)] = code
        for spelling, code in self.extra_synonyms.get(list_key, {}).items():
            table[normalise_token(spelling)] = code
        for code in codes:
            table[normalise_token(code)] = code
        return table


def field_for_header(header: str, fields: tuple[Field, ...]) -> Field | None:
    """The field whose label (exactly, ignoring case and spacing) is this header."""
    wanted = normalise_token(header)
    for f in fields:
        if normalise_token(f.label) == wanted:
            return f
    return None
