"""The whole journey on synthetic data (``cstracker demo``).

What a team's first month with cstracker looks like, with made-up young people:

1. ``init``: a new tracker for a (fictional) local authority;
2. ``import``: two years of past consultations from an old spreadsheet of the
   team's own making, other column names and all (a few rows are wrong on purpose,
   and go to a rejects file with their reasons);
3. referrals arrive and the coordinator types them in; for each suitable one a
   pre-filled consultation ``form`` goes to the practitioner, who fills it in;
4. ``ingest``: the completed forms go into the tracker in one batch;
5. ``validate``: the tracker is checked;
6. ``report``: last month's trends, internal and published.

Everything is seeded, so the same seed and date give the same files.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core.config import config_from_dict
from cstracker.core.periods import add_months, month_start, parse_month
from cstracker.core.problems import plural
from cstracker.core.schema import FIELDS_BY_KEY, CodeLists
from cstracker.synthetic import synthetic_records

AUTHORITY = "Demoshire Council (synthetic data)"
TRACKER_NAME = "Referral Tracker.xlsx"
LEGACY_NAME = "old tracker 2024-2026.csv"
#: The legacy spreadsheet's own headings: synonyms the schema knows, as a real team might have typed them.
LEGACY_HEADINGS = {
    "date_received": "Date of referral",
    "mosaic_id": "Mosaic No",
    "referrer": "Referred by",
    "referrer_team": "Team",
    "suitability": "Suitable?",
    "decision_date": "Date of decision",
    "signposted_to": "Signposted",
    "consultation_date": "Date of consultation",
    "cs_practitioner": "CS worker",
    "age": "Age at referral",
    "gender": "Sex",
    "ethnicity": "Ethnic group",
    "legal_status": "Legal Status",
    "education": "Education status",
    "primary_concern": "Main concern",
    "detail": "Details",
    "theme_other_text": "Other theme",
    "action_individual": "Individual actions",
    "action_home": "Home actions",
    "action_peer_group": "Peer group actions",
    "action_school": "School actions",
    "action_neighbourhood": "Neighbourhood actions",
    "follow_up_date": "Date followed up",
}
_LEGACY_SPELLINGS = {
    "suitability": {"Suitable": "Y", "Not suitable": "N"},
    "primary_concern": {"Peer Group": "peer grp"},
}
#: Keys a coordinator types when a referral arrives; the rest comes back on the form.
_REFERRAL_KEYS = (
    "date_received",
    "referrer",
    "referrer_team",
    "mosaic_id",
    "suitability",
    "decision_date",
    "signposted_to",
    "age",
    "gender",
    "ethnicity",
)


@dataclass
class DemoResult:
    folder: Path
    tracker: Path
    lines: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def run_demo(
    out: str | Path, seed: int = 2026, today: dt.date | None = None, echo: Callable[[str], None] = print
) -> DemoResult:
    """Run every step into the folder ``out``; ``echo`` gets one summary line per step."""
    from cstracker.tracker.newfile import init_tracker
    from cstracker.tracker.tracker import Tracker

    today = today or dt.date.today()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("legacy", "forms to send", "inbox", "forms ingested", "reports"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / sub).mkdir()
    result = DemoResult(folder, folder / TRACKER_NAME)

    def say(line: str) -> None:
        result.lines.append(line)
        echo(line)

    config = config_from_dict({"authority_name": AUTHORITY, "referral_id_prefix": "CS"})
    init_tracker(result.tracker, config, overwrite=True)
    say(f"1. init: {result.tracker} for {AUTHORITY}")

    this_month = month_start(today)
    history_end = add_months(this_month, -2) - dt.timedelta(days=1)
    history = synthetic_records(
        480,
        seed=seed,
        lists=config.lists,
        start=add_months(this_month, -26),
        end=history_end,
        today=today,
        with_ids=False,
    )
    legacy = folder / "legacy" / LEGACY_NAME
    write_legacy_csv(legacy, history, config.lists, random.Random(seed))
    result.files["legacy"] = legacy
    from cstracker.legacy.importer import import_file

    rejects = folder / "legacy" / "rejected rows.xlsx"
    imported = import_file(result.tracker, legacy, rejects_path=rejects, today=today)
    say(f"2. import: {imported.summary()}")
    if imported.rejects_path:
        say(f"   rejected rows, each with its reasons, are in {imported.rejects_path}")
        result.files["rejects"] = imported.rejects_path

    recent = synthetic_records(
        60,
        seed=seed + 1,
        lists=config.lists,
        start=history_end + dt.timedelta(days=1),
        end=today,
        today=today,
        with_ids=False,
    )
    for r in recent:
        r["mosaic_id"] = "8" + r["mosaic_id"][1:]  # a separate range from the history's young people
    typed = [{k: r[k] for k in _REFERRAL_KEYS if r.get(k) is not None} for r in recent]
    with Tracker.open_for_update(result.tracker) as t:
        added = t.upsert(typed, source="typed", today=today).added
        t.save()
    say(f"3. {plural(len(added), 'new referral')} typed in by the coordinator")

    sent = _send_and_fill_forms(result, recent, added, today)
    say(f"   {plural(sent, 'consultation form')} pre-filled, sent, and filled in by practitioners")

    from cstracker.forms.ingest import ingest

    ingested = ingest(result.tracker, [folder / "inbox"], archive=folder / "forms ingested", today=today)
    say(
        f"4. ingest: {ingested.count('added')} added, {ingested.count('updated')} updated, "
        f"{ingested.count('unchanged')} unchanged, {ingested.count('rejected')} rejected"
    )
    for p in ingested.problems:
        say(f"   {p.line()}")

    from cstracker.tracker.validate import validate_tracker

    checked = validate_tracker(result.tracker, today=today)
    say(
        f"5. validate: {plural(checked.rows_checked, 'row')} checked, {plural(len(checked.errors), 'error')}, "
        f"{plural(len(checked.warnings), 'warning')}"
    )

    from cstracker.report.workbook import make_report

    period = parse_month(add_months(this_month, -1).strftime("%Y-%m"))
    for publish in (False, True):
        name = f"CS trends {period.label}{' (published)' if publish else ''}.xlsx"
        written = make_report(
            result.tracker, period, out=folder / "reports" / name, publish=publish, today=today
        )
        result.files["published" if publish else "report"] = written.path
    say(f"6. report: {result.files['report']} and, for partners, {result.files['published']}")
    return result


def write_legacy_csv(path: Path, records: list[dict[str, Any]], lists: CodeLists, rng: random.Random) -> None:
    """An old team spreadsheet: its own headings, Y/N, themes listed in one cell, a few mistakes."""
    headings = [*LEGACY_HEADINGS.values(), "Themes", "Interventions"]
    rows = []
    for r in records:
        row = []
        for key in LEGACY_HEADINGS:
            value = r.get(key)
            value = _LEGACY_SPELLINGS.get(key, {}).get(value, value)
            row.append(
                value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else ("" if value is None else value)
            )
        row.append("; ".join(t for t in lists.themes if r.get(f"theme:{t}")))
        row.append(", ".join(i for i in lists.interventions if r.get(f"intervention:{i}")))
        rows.append(row)
    # Mistakes every old spreadsheet has: an impossible date, a value off a fixed list, a typo'd
    # concern. (A team nobody knows is not one: the referrer list is the authority's own and grows.)
    for index, (key, bad) in zip(
        rng.sample(range(len(rows)), 3),
        (("date_received", "31/02/2025"), ("gender", "Zog"), ("primary_concern", "Galaxy")),
        strict=True,
    ):
        if key == "primary_concern" and not rows[index][headings.index(LEGACY_HEADINGS[key])]:
            rows[index][headings.index(LEGACY_HEADINGS["consultation_date"])] = "01/01/2026"
        rows[index][headings.index(LEGACY_HEADINGS[key])] = bad
    from cstracker.core.csvsafe import csv_text
    from cstracker.xlsx.outputs import write_output

    text = csv_text([[f"CS consultations log - {AUTHORITY}"], [], headings, *rows])
    write_output(path, lambda tmp: tmp.write_text(text, encoding="utf-8-sig", newline=""), zip_package=False)


def _send_and_fill_forms(result: DemoResult, recent: list[dict], ids: list[str], today: dt.date) -> int:
    """A pre-filled form for each referral whose consultation has happened, filled as the practitioner would."""
    from cstracker.forms.fill import fill_form
    from cstracker.forms.workbook import make_form

    sent = 0
    for record, referral_id in zip(recent, ids, strict=True):
        consulted = record.get("consultation_date")
        if not consulted or consulted > today or not record.get("primary_concern"):
            continue
        blank = result.folder / "forms to send" / f"{referral_id} consultation.xlsx"
        make_form(blank, tracker=result.tracker, referral=referral_id)
        outcome = {k: v for k, v in record.items() if k not in _REFERRAL_KEYS and not _computed(k)}
        fill_form(blank, {"referral_id": referral_id, **outcome}, out=result.folder / "inbox" / blank.name)
        sent += 1
    return sent


def _computed(key: str) -> bool:
    f = FIELDS_BY_KEY.get(key)
    return f is not None and f.computed
