"""The toolkit's default code lists and the messy spellings that map onto them.

Part of the schema (``schema.py`` re-exports everything here); kept apart only
because the lists are long. A local authority extends or replaces them through
its configuration; the lists in force travel inside each tracker workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    #: True for lists the authority grows as it meets new values (a new referrer team): a value
    #: not on the list yet is readable, validate warns ``new-list-value`` and ``validate --fix``
    #: (like import) adds it to the workbook's Lists sheet (``lists_sheet.grow_lists``)
    open: bool = False


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
        # The toolkit names no referring teams: every authority has its own, and old trackers
        # name them their own way. Everything else is the toolkit's model (its five contexts, its
        # themes, its interventions, its suitability decision) or a national category (gender,
        # ethnicity, legal status, education), where a new spelling is a mistake, not a new value.
        CodeList("referrer_team", "Referrer team/service", REFERRER_TEAMS, open=True),
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


def list_title(list_key: str) -> str:
    """A list's name as the Lists sheet heads it ("Referrer team/service"); its key when it has none."""
    return DEFAULT_CODE_LISTS[list_key].title if list_key in DEFAULT_CODE_LISTS else list_key
