"""cstracker ingest: completed consultation forms into the tracker."""

from __future__ import annotations

import click

from cstracker.commands.common import dry_run_option, exit_with, force_option, tracker_argument
from cstracker.core.codelists import list_title
from cstracker.core.problems import plural


@click.command("ingest")
@tracker_argument
@click.argument("forms", nargs=-1, required=True)
@dry_run_option
@click.option(
    "--archive",
    type=click.Path(file_okay=False),
    help="Move each form that went in (added, updated or unchanged) into this folder.",
)
@click.option(
    "--prefer-form",
    is_flag=True,
    help="Where a field was changed both on the form and on the tracker (a conflict), take the form's "
    "value. By default the tracker keeps its value and the conflict is listed.",
)
@click.option(
    "--encrypt-archive",
    is_flag=True,
    help="With --archive: store the archived forms encrypted with the tracker's password.",
)
@force_option
def command(
    tracker: str,
    forms: tuple[str, ...],
    dry_run: bool,
    archive: str | None,
    prefer_form: bool,
    encrypt_archive: bool,
    force: bool,
) -> None:
    """Add or update tracker rows from completed consultation forms (files, folders or globs).

    Your own edits on the tracker win: a field a form did not change since it was last ingested
    (or pre-filled) is left as the tracker has it; a field changed on both sides keeps the
    tracker's value and is listed as a conflict, with --prefer-form to take the form's instead.

    Example: cstracker ingest "Referral Tracker.xlsx" inbox/ --archive done/
    """
    from cstracker.forms.ingest import ingest

    if encrypt_archive and not archive:
        from cstracker.core.errors import UsageError

        raise UsageError("--encrypt-archive needs --archive DIR")
    result = ingest(
        tracker,
        forms,
        dry_run=dry_run,
        archive=archive,
        force=force,
        progress=True,
        prefer_form=prefer_form,
        encrypt_archive=encrypt_archive,
    )
    for note in result.notes:
        click.echo(note)
    for o in result.outcomes:
        rid = o.referral_id or ""
        detail = f" ({', '.join(o.changed)})" if o.outcome == "updated" and o.changed else ""
        moved = f" -> {o.archived_to}" if o.archived_to else ""
        click.echo(f"{o.outcome:<9} {rid:<14} {o.path}{detail}{moved}")
        for p in o.problems:
            click.echo(f"  {p.line()}")
    for list_key, codes in result.added_codes.items():
        verb = "would be added" if dry_run else "added"
        click.echo(f"New {list_title(list_key)}: {', '.join(codes)} ({verb} to the Lists sheet).")
    counts = ", ".join(f"{result.count(k)} {k}" for k in ("added", "updated", "unchanged", "rejected"))
    if dry_run:
        tail = "dry run: nothing was written"
    elif result.saved:
        tail = f"saved {result.tracker}" + (f", backup {result.backup}" if result.backup else "")
    else:
        tail = "nothing to save"
    click.echo(f"{plural(len(result.outcomes), 'form')}: {counts} ({tail}).")
    exit_with(result.exit_code)
