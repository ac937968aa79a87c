"""cstracker history: the audit trail of a tracker."""

from __future__ import annotations

import click

from cstracker.commands.common import tracker_argument


@click.command("history")
@tracker_argument
@click.option("--referral", help="Only what changed this Referral ID (e.g. CS-2026-0042).")
def command(tracker: str, referral: str | None) -> None:
    """Print the audit trail: who changed TRACKER, when, with which command and files.

    One line per command (and, indented, one per source file it read). Changes typed
    in Excel or LibreOffice are not recorded: only cstracker's own.

    Example: cstracker history "Referral Tracker.xlsx" --referral CS-2026-0042
    """
    from cstracker.tracker.audit import history

    rows = history(tracker, referral)
    if not rows:
        what = f" for {referral}" if referral else ""
        click.echo(f"No audit entries{what} in {tracker}.")
        return
    for r in rows:
        counts = f"{r.added} added, {r.updated} updated, {r.refused} refused" + (
            f", {r.removed} removed" if r.removed else ""
        )
        ids = f": {r.ids}" if r.ids else ""
        if r.kind == "command":
            click.echo(f"#{r.entry:<4} {r.when}  {r.who}  {r.command}  {counts}{ids}")
        else:
            click.echo(f"      {r.source} (sha256 {r.sha256[:12]}…)  {counts}{ids}")
