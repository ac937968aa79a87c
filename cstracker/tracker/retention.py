"""Retention: remove referrals whose last activity is older than the authority's retention period.

The period is the tracker's ``retention_years`` setting. It has no default: the
authority's information-governance team sets it (config file at ``init``, or
``cstracker retention --set-years``), and a run refuses without it.

A referral's *last activity* is the latest of its date received, decision date,
consultation date, follow-up due and follow-up date. It is past retention when
that day is more than ``retention_years`` before today.

A run removes those rows through the safe writer (their Table cells cleared; see
``Tracker.remove_rows``) and, in the same save, keeps the highest Referral ID
ever issued in the settings, so a removed referral's ID is never given to another
child (a keyed pseudonym of that ID would otherwise join two children). No backup
made before the run keeps a removed referral: they are deleted once the run has
saved, except the run's own backup, kept ``retention_grace_days`` (default 30) so
a mistake can be undone, then removed by the next command that takes the lock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core.errors import CstrackerError
from cstracker.xlsx import safety

#: the dates whose latest is a referral's last activity
ACTIVITY_DATES = ("date_received", "decision_date", "consultation_date", "follow_up_due", "follow_up_date")


class RetentionError(CstrackerError):
    """Retention cannot run (no retention period set)."""


@dataclass
class Expired:
    referral_id: str
    row: int
    last_activity: dt.date


@dataclass
class RetentionResult:
    years: int
    cutoff: dt.date
    expired: list[Expired] = field(default_factory=list)
    #: sheet rows with no date at all: kept, and listed, since their age is unknown
    undated: list[int] = field(default_factory=list)
    dry_run: bool = True
    backup: Path | None = None
    backups_removed: list[Path] = field(default_factory=list)
    grace_until: dt.date | None = None


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def cutoff_for(years: int, today: dt.date) -> dt.date:
    """Referrals whose last activity is before this day are past retention."""
    return years_before(today, years)


def last_activity(record: dict[str, Any]) -> dt.date | None:
    days = [_day(record.get(k)) for k in ACTIVITY_DATES]
    days = [d for d in days if d is not None]
    return max(days) if days else None


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def past_retention(record: dict[str, Any], settings, today: dt.date) -> tuple[dt.date, int] | None:
    """(last activity, years) when ``record`` is already past the tracker's retention period, else None."""
    years = settings.retention_years
    if not years:
        return None
    consulted = record.get("consultation_date")
    due = consulted + dt.timedelta(days=settings.follow_up_days) if isinstance(consulted, dt.date) else None
    last = last_activity({**record, "follow_up_due": due})
    if last is not None and last < cutoff_for(int(years), today):
        return last, int(years)
    return None


def require_years(settings, where: Path | str) -> int:
    if not settings.retention_years:
        raise RetentionError(
            f"{where}: no retention period is set; your information-governance team decides it. "
            "Set it with: cstracker retention TRACKER --set-years N (or retention_years in the config at init)"
        )
    return int(settings.retention_years)


def find_expired(tracker, today: dt.date) -> tuple[int, dt.date, list[Expired], list[int]]:
    """(years, cutoff, the referrals past retention, undated rows) of an open tracker."""
    import pandas as pd

    years = require_years(tracker.settings, tracker.path)
    cutoff = cutoff_for(years, today)
    frame = tracker.dataframe()
    if not len(frame):
        return years, cutoff, [], []
    latest = frame[list(ACTIVITY_DATES)].max(axis=1)
    expired, undated = [], []
    for rid, row, day in zip(
        frame["referral_id"].tolist(), frame["_row"].tolist(), latest.tolist(), strict=True
    ):
        if day is None or pd.isna(day):
            undated.append(int(row))
        elif day.date() < cutoff:
            expired.append(Expired(rid if isinstance(rid, str) else "", int(row), day.date()))
    return years, cutoff, expired, undated


def run_retention(
    path: str | Path,
    dry_run: bool = False,
    today: dt.date | None = None,
    force: bool = False,
) -> RetentionResult:
    """List (``dry_run``) or remove the referrals past retention; see the module's docstring."""
    from cstracker.tracker.tracker import Tracker

    path = Path(path)
    today = today or dt.date.today()
    if dry_run:
        t = Tracker.open(path)
        years, cutoff, expired, undated = find_expired(t, today)
        return RetentionResult(years, cutoff, expired, undated, dry_run=True)
    with Tracker.open_for_update(path, force=force) as t:
        years, cutoff, expired, undated = find_expired(t, today)
        result = RetentionResult(years, cutoff, expired, undated, dry_run=False)
        if not expired:
            return result
        grace = t.settings.retention_grace_days
        result.grace_until = today + dt.timedelta(days=grace)
        t.remove_rows([e.row for e in expired])
        # what forms and imports last wrote into those rows goes with them (fingerprints of a child's data)
        from cstracker.tracker.written import Written

        written = Written.load(t)
        written.forget(e.referral_id for e in expired if e.referral_id)
        written.stage(t)
        from cstracker.tracker.audit import AuditEntry, stage

        stage(t, AuditEntry("retention", removed=[e.referral_id for e in expired if e.referral_id]))
        earlier = safety.backups_of(path)
        result.backup = t.save(backup_label=safety.retention_label(result.grace_until))
        # Every backup made before the run holds the removed referrals: only the run's own stays.
        for old in earlier:
            try:
                old.unlink()
                result.backups_removed.append(old)
            except FileNotFoundError:
                pass
    return result


def set_retention(
    path: str | Path, years: int | None = None, grace_days: int | None = None, force: bool = False
) -> None:
    """Store the retention period (and grace days) in the tracker's settings."""
    from cstracker.core.errors import UsageError
    from cstracker.tracker.tracker import Tracker

    values: dict[str, int] = {}
    if years is not None:
        if not 1 <= years <= 100:
            raise UsageError("--set-years must be a whole number of years from 1 to 100")
        values["retention_years"] = years
    if grace_days is not None:
        if not 0 <= grace_days <= 3650:
            raise UsageError("--grace-days must be a whole number of days from 0 to 3650")
        values["retention_grace_days"] = grace_days
    with Tracker.open_for_update(path, force=force) as t:
        t.stage_settings(values)
        from cstracker.tracker.audit import AuditEntry, stage

        stage(t, AuditEntry("retention --set-years" if years is not None else "retention --grace-days"))
        t.save()
