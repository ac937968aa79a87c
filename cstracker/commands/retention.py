"""cstracker retention: remove referrals past the authority's retention period."""

from __future__ import annotations

import datetime as dt

import click

from cstracker.commands.common import dry_run_option, force_option, tracker_argument
from cstracker.core.problems import plural


@click.command("retention")
@tracker_argument
@dry_run_option
@click.option(
    "--set-years",
    type=int,
    help="Store the retention period (years after a referral's last activity) your "
    "information-governance team decided, then stop.",
)
@click.option(
    "--grace-days",
    type=int,
    help="With --set-years: days the backup of a retention run is kept (default 30).",
)
@force_option
@click.option(
    "--today", "today_text", hidden=True, help="Pretend today is this date (dd/mm/yyyy); for tests."
)
def command(
    tracker: str,
    dry_run: bool,
    set_years: int | None,
    grace_days: int | None,
    force: bool,
    today_text: str | None,
) -> None:
    """Remove referrals whose last activity is older than the tracker's retention period.

    Last activity is the latest of date received, decision, consultation, follow-up due
    and follow-up dates. The period (retention_years) has no default: set it once with
    --set-years. Backups made before the run are deleted; the run's own backup is kept
    for retention_grace_days (30 unless set), then removed. Referral IDs are never reused.

    Example: cstracker retention "Referral Tracker.xlsx" --dry-run
    """
    from cstracker.core.errors import UsageError
    from cstracker.core.periods import parse_day
    from cstracker.tracker.retention import run_retention, set_retention

    if set_years is not None or grace_days is not None:
        if dry_run:
            raise UsageError("--set-years/--grace-days store settings; leave out --dry-run")
        set_retention(tracker, set_years, grace_days, force=force)
        parts = [f"retention_years = {set_years}"] if set_years is not None else []
        parts += [f"retention_grace_days = {grace_days}"] if grace_days is not None else []
        click.echo(f"Saved {tracker}: {', '.join(parts)}.")
        return
    today = parse_day("--today", today_text) if today_text else dt.date.today()
    result = run_retention(tracker, dry_run=dry_run, today=today, force=force)
    verb = "would remove" if dry_run else "removed"
    for e in result.expired:
        click.echo(
            f"{verb:<12} {e.referral_id or '(no ID)':<14} row {e.row}, last activity {e.last_activity:%d/%m/%Y}"
        )
    for row in result.undated:
        click.echo(
            f"{'kept':<12} {'':<14} row {row}: no date at all, so its age is unknown; check it by hand"
        )
    head = (
        f"{plural(len(result.expired), 'referral')} with no activity since before {result.cutoff:%d/%m/%Y} "
        f"(retention {plural(result.years, 'year')})"
    )
    if dry_run:
        click.echo(f"{head}: dry run, nothing was removed.")
    elif not result.expired:
        click.echo(f"{head}: nothing to remove.")
    else:
        click.echo(
            f"{head} removed from {tracker}. Backup {result.backup} kept until "
            f"{result.grace_until:%d/%m/%Y}; {plural(len(result.backups_removed), 'older backup')} deleted."
        )
