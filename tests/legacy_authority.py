"""A seeded, synthetic old tracker from "another authority" (issue 12), and what importing it must give.

Its own team names (``Youth Justice``, ``Schools``, ``Children in Need``), UK/US
spellings, abbreviations, ``/``-joined themes, a column of names, a date of
birth and a phone number (all invented), consultations going back years and
some recent ones. Every row also knows what the tracker must hold for it.

Vocabulary the suggestions get right lands with the draft mapping unchanged;
``Online`` (primary concern) and ``Knife crime`` (theme) have no good suggestion
on the toolkit's fixed lists, and one row has a date that is not a date: those
rows stay rejected until a person fixes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = [
    "Ref No",
    "Date of referral",
    "YP Name",
    "DOB",
    "Mosaic No",
    "Referring Team",
    "Suitability",
    "Consultation date",
    "Main Concern",
    "Themes",
    "Gender",
    "Contact Tel",
    "Follow up date",
]

#: spelling in the old file -> the code it must become (None: added to the open list as it is)
TEAMS = {
    "Youth Justice": "Youth Justice Service",
    "Schools": "School",
    "Children in Need": None,
    "Police Dept": "Police",
    "CAMHS team": "CAMHS",
    "Social Care": "Children's Social Care",
    "Early Help": "Early Help",
}
CONCERNS = {
    "Neighborhood": "Neighbourhood",
    "Peers": "Peer Group",
    "Individual YP": "Individual",
    "Peer Grp": "Peer Group",
    "Scool": "School",
    "Home": "Home",
}
#: theme cell -> the theme codes it must tick
THEMES = {
    "CCE / county lines": ("County Lines",),
    "CSE/Gangs": ("CSE", "Gangs"),
    "Radicalization": ("Radicalisation",),
    "Missing Episode": ("Missing episodes",),
    "DV; Drugs selling": ("DV In home", "Drugs (selling)"),
    "Mental health (YP)": ("Mental Health (YP)",),
}
GENDERS = {"M": "Male", "F": "Female", "Boy": "Male", "Girl": "Female", "Female": "Female"}
#: values with no good suggestion on a fixed list: the rows stay rejected
NO_SUGGESTION = {"Main Concern": "Online", "Themes": "Knife crime"}
FIRST = ["Ava", "Kai", "Zara", "Leo", "Maya", "Omar", "Isla", "Theo", "Nia", "Reuben"]
LAST = ["Ashdown", "Brightwater", "Cobbleford", "Dunmere", "Elderfield", "Foxhollow", "Greyling"]


@dataclass
class LegacyRow:
    row: int  # the row number in the file (header is row 1)
    cells: list[str]
    name: str
    mosaic: str
    team: str | None  # expected code (None with ``new_team``)
    new_team: str | None
    concern: str
    themes: tuple[str, ...]
    gender: str
    consulted: dt.date | None
    #: what stops the row with the draft mapping unchanged ("" when it lands)
    blocked_by: str = ""


@dataclass
class Legacy:
    path: Path
    rows: list[LegacyRow] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rows]


def make_legacy(path: Path, n: int = 80, seed: int = 12) -> Legacy:
    """Write the old tracker as CSV at ``path``; return it with the expected outcome of every row."""
    rng = random.Random(seed)
    legacy = Legacy(path)
    for i in range(n):
        row = i + 2
        received = dt.date(2019, 1, 7) + dt.timedelta(days=rng.randrange(0, 2700))
        if i % 5 == 0:  # some recent referrals, after the tracker started
            received = dt.date(2026, 2, 2) + dt.timedelta(days=rng.randrange(0, 200))
        consulted = received + dt.timedelta(days=rng.randrange(5, 30)) if i % 7 != 3 else None
        team_text = list(TEAMS)[i % len(TEAMS)]
        concern_text = list(CONCERNS)[i % len(CONCERNS)]
        theme_text = list(THEMES)[i % len(THEMES)]
        gender_text = list(GENDERS)[i % len(GENDERS)]
        blocked = ""
        if i % 23 == 5:
            concern_text, blocked = NO_SUGGESTION["Main Concern"], "Main Concern"
        elif i % 29 == 7:
            theme_text, blocked = NO_SUGGESTION["Themes"], "Themes"
        date_text = received.strftime("%d/%m/%Y")
        if i == 17:
            date_text, blocked = "31/02/2024", "Date of referral"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i:03d}"
        mosaic = str(5_000_000 + i * 37)
        dob = dt.date(2007, 1, 1) + dt.timedelta(days=rng.randrange(0, 2500))
        phone = f"07700 9{rng.randrange(0, 100000):05d}"
        cells = [
            f"CS-{received.year}-{i + 1:04d}" if i % 2 == 0 else "",
            date_text,
            name,
            dob.strftime("%d/%m/%Y"),
            mosaic,
            team_text,
            "Suitable" if consulted else rng.choice(["Suitable", "Not suitable", "Awaiting decision"]),
            consulted.strftime("%d/%m/%Y") if consulted else "",
            concern_text if consulted else "",
            theme_text if consulted else "",
            gender_text,
            phone,
            "",
        ]
        if not consulted and blocked in ("Main Concern", "Themes"):
            blocked = ""
        legacy.rows.append(
            LegacyRow(
                row=row,
                cells=cells,
                name=name,
                mosaic=mosaic,
                team=TEAMS[team_text],
                new_team=team_text if TEAMS[team_text] is None else None,
                concern=CONCERNS.get(concern_text, "") if consulted else "",
                themes=THEMES.get(theme_text, ()) if consulted else (),
                gender=GENDERS[gender_text],
                consulted=consulted,
                blocked_by=blocked,
            )
        )
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for r in legacy.rows:
            w.writerow(r.cells)
    return legacy
