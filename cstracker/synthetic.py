"""Synthetic referrals: made-up young people for the demo, the tests and the benchmarks.

Nothing here is real. Every record comes from a seeded random generator, so the
same seed always gives the same records. Mosaic IDs start with 9 and are 7
digits long, a range no real case system hands out in our examples.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from cstracker.core.derived import computed_values
from cstracker.core.schema import CONTEXT_ACTION_FIELD, CodeLists

_FIRST = (
    "Alex",
    "Sam",
    "Jordan",
    "Casey",
    "Robin",
    "Morgan",
    "Taylor",
    "Jamie",
    "Charlie",
    "Drew",
    "Frankie",
    "Kit",
    "Lee",
    "Nico",
    "Rowan",
    "Sasha",
    "Toni",
    "Vic",
)
_LAST = (
    "Adebayo",
    "Brown",
    "Clarke",
    "Demir",
    "Evans",
    "Fofana",
    "Green",
    "Hussain",
    "Iqbal",
    "Jones",
    "Kaur",
    "Lewis",
    "Mensah",
    "Nowak",
    "Okafor",
    "Patel",
    "Quinn",
    "Reid",
    "Silva",
    "Turner",
)
SCHOOLS = (
    "Northgate Academy",
    "St Aidan's High",
    "Riverside School",
    "Parkfield College",
    "Eastbrook PRU",
    "Hillcrest Academy",
    "Westfield School",
)
PLACES = (
    "Market Square",
    "Kingsway Estate",
    "Station Road shops",
    "Canal path",
    "Victoria Park",
    "Holloway Rec",
    "Bus station",
)
GROUPS = (
    "the Kingsway group",
    "the Park Boys",
    "a Year 10 friendship group",
    "the estate group",
    "an online chat group",
)
_ACTIONS = {
    "Individual": (
        "Mentoring referral; safety plan reviewed with YP",
        "Key worker to explore interests and hopes",
    ),
    "Home": ("Parents offered parenting support group", "Share peer concerns with carers"),
    "Peer Group": ("Peer-group mapping with YJS and police", "Check which linked peers are open to services"),
    "School": ("Meet DSL about lunchtime supervision", "School to review safe routes and staffing"),
    "Neighbourhood": ("Raise the park with community safety", "Detached youth work in the area"),
}
_ROLES = (
    "Social worker",
    "Team manager",
    "YJS officer",
    "School DSL",
    "Youth worker",
    "CAMHS clinician",
    "Police SPOC",
    "Early Help worker",
)


def _weights(n: int, rng: random.Random) -> list[float]:
    return [rng.random() ** 2 + 0.05 for _ in range(n)]


def synthetic_records(
    n: int,
    seed: int = 2026,
    lists: CodeLists | None = None,
    start: dt.date = dt.date(2024, 11, 1),
    end: dt.date = dt.date(2026, 11, 27),
    follow_up_days: int = 42,
    today: dt.date | None = None,
    with_ids: bool = True,
    prefix: str = "CS",
) -> list[dict[str, Any]]:
    """``n`` valid records, received between ``start`` and ``end``, sorted by date received."""
    lists = lists or CodeLists()
    today = today or end
    rng = random.Random(seed)
    theme_w = _weights(len(lists.themes), rng)
    team_w = _weights(len(lists.codes("referrer_team")), rng)
    span = (end - start).days
    days = sorted(rng.randrange(span + 1) for _ in range(n))
    mosaic_pool = [f"9{rng.randrange(10**6):06d}" for _ in range(max(1, int(n * 0.8)))]
    seq: dict[int, int] = {}
    taken: set[tuple[str, dt.date]] = set()
    out = []
    for offset in days:
        received = start + dt.timedelta(days=offset)
        r: dict[str, Any] = {
            "date_received": received,
            "referrer": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            "referrer_team": rng.choices(lists.codes("referrer_team"), team_w)[0],
            "mosaic_id": _fresh_mosaic(rng, mosaic_pool, received, taken),
            "previous_referrals": rng.choice((0, 0, 0, 1, 1, 2, 3)),
            "initial_referrer": rng.choice(("School", "Police", "Health", "Parent", "YJS", None)),
            "age": rng.choice((11, 12, 13, 13, 14, 14, 15, 15, 15, 16, 16, 17, 17, 18)),
            "gender": rng.choices(lists.codes("gender"), [40, 55, 2, 1, 2][: len(lists.codes("gender"))])[0]
            if len(lists.codes("gender")) == 5
            else rng.choice(lists.codes("gender")),
            "ethnicity": rng.choice(lists.codes("ethnicity")),
            "disability": rng.choice(lists.codes("disability")),
            "legal_status": rng.choice(lists.codes("legal_status")),
            "offending": rng.choice(lists.codes("offending")),
            "gang_affiliation": rng.choice(lists.codes("gang_affiliation")),
            "education": rng.choice(lists.codes("education")),
            "siblings": rng.randrange(0, 6),
        }
        if rng.random() < 0.6:
            r["known_since"] = received - dt.timedelta(days=rng.randrange(30, 3000))
        roll = rng.random()
        recent = (today - received).days < 10
        if recent and roll < 0.5:
            r["suitability"] = "Awaiting decision"
        elif roll < 0.15:
            r["suitability"] = "Not suitable"
            r["decision_date"] = min(today, received + dt.timedelta(days=rng.randrange(0, 6)))
            r["signposted_to"] = rng.choice(
                ("MASH", "Early Help", "CAMHS", "Strategy meeting", "Youth service")
            )
        else:
            r["suitability"] = "Suitable"
            decided = min(today, received + dt.timedelta(days=rng.randrange(0, 6)))
            r["decision_date"] = decided
            consulted = decided + dt.timedelta(days=rng.randrange(1, 30))
            if consulted <= today or rng.random() < 0.3:
                _consultation(r, consulted, rng, lists, theme_w, follow_up_days, today)
        r.update(computed_values(r, follow_up_days, today))
        if with_ids:
            seq[received.year] = seq.get(received.year, 0) + 1
            r["referral_id"] = f"{prefix}-{received.year}-{seq[received.year]:04d}"
        out.append(r)
    for r in out:
        for code in lists.themes:
            r.setdefault(f"theme:{code}", False)
        for code in lists.interventions:
            r.setdefault(f"intervention:{code}", False)
    return out


def _fresh_mosaic(rng: random.Random, pool: list[str], received: dt.date, taken: set) -> str:
    """A young person from the pool not already referred on this day (one referral per person per day)."""
    for attempt in range(1000):
        mosaic = rng.choice(pool) if attempt < 20 else f"9{rng.randrange(10**6):06d}"
        if (mosaic, received) not in taken:
            taken.add((mosaic, received))
            return mosaic
    raise RuntimeError("no free synthetic Mosaic ID left")


def _consultation(r, consulted, rng, lists, theme_w, follow_up_days, today) -> None:
    r["consultation_date"] = consulted
    r["cs_practitioner"] = rng.choice(("CS Practitioner A", "CS Practitioner B", "CS Practitioner C"))
    r["practitioners_present"] = ", ".join(sorted(rng.sample(_ROLES, rng.randrange(1, 4))))
    if consulted > today:
        return
    concern = rng.choices(list(CONTEXT_ACTION_FIELD), [0.25, 0.12, 0.3, 0.18, 0.15])[0]
    r["primary_concern"] = concern
    r["detail"] = {
        "School": rng.choice(SCHOOLS),
        "Neighbourhood": rng.choice(PLACES),
        "Peer Group": rng.choice(GROUPS),
    }.get(concern, rng.choice(("", rng.choice(PLACES)))) or None
    for code in set(rng.choices(lists.themes, theme_w, k=rng.randrange(1, 6))):
        r[f"theme:{code}"] = True
    if r.get("theme:Other"):
        r["theme_other_text"] = rng.choice(
            ("Knife carrying", "Financial exploitation", "Housing instability")
        )
    for context, key in CONTEXT_ACTION_FIELD.items():
        if context == concern or rng.random() < 0.35:
            r[key] = rng.choice(_ACTIONS[context])
    for code in rng.sample(lists.interventions, rng.randrange(1, 4)):
        r[f"intervention:{code}"] = True
    due = consulted + dt.timedelta(days=follow_up_days)
    if due <= today and rng.random() < 0.7:
        r["follow_up_date"] = due - dt.timedelta(days=rng.randrange(0, 10))
        r["follow_up_notes"] = rng.choice(
            ("Actions progressing", "School plan in place", "Case closed to CS")
        )
