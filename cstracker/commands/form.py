"""cstracker form: a consultation form, blank or pre-filled from the tracker."""

from __future__ import annotations

import click


@click.command("form")
@click.argument("output", type=click.Path(dir_okay=False))
@click.option(
    "--tracker", type=click.Path(dir_okay=False), help="Use this tracker's lists (its themes, teams)."
)
@click.option(
    "--referral", help="Pre-fill with what the tracker knows about this Referral ID (needs --tracker)."
)
@click.option("--overwrite", is_flag=True, help="Replace an existing file at OUTPUT.")
@click.option(
    "--framework",
    is_flag=True,
    help="Write the framework sheet instead (the toolkit's Appendix A): one A4 landscape page to send "
    "to the practitioner ahead of the consultation.",
)
def command(output: str, tracker: str | None, referral: str | None, overwrite: bool, framework: bool) -> None:
    """Write a consultation form workbook (.xlsx) for a practitioner to fill in.

    Example: cstracker form "CS-2026-0042 consultation.xlsx" --tracker "Referral Tracker.xlsx" --referral CS-2026-0042

    Example: cstracker form --framework "CS framework.xlsx"
    """
    if framework:
        _framework(output, tracker, referral, overwrite)
        return
    from cstracker.forms.workbook import make_form

    path, form_id, record = make_form(output, tracker=tracker, referral=referral, overwrite=overwrite)
    what = f"pre-filled for {record['referral_id']}" if record.get("referral_id") else "blank"
    lists = f"lists from {tracker}" if tracker else "the default lists"
    click.echo(f"Wrote {path}: form {form_id}, {what}, with {lists}.")


def _framework(output: str, tracker: str | None, referral: str | None, overwrite: bool) -> None:
    from cstracker.core.config import Config
    from cstracker.core.errors import UsageError
    from cstracker.forms.framework import make_framework

    if referral:
        raise UsageError("--framework takes no --referral: the framework sheet is the same for every case")
    config = Config()
    if tracker:
        from cstracker.tracker.tracker import Tracker

        opened = Tracker.open(tracker)
        config = Config(settings=opened.settings, lists=opened.lists)
    path = make_framework(output, config, overwrite=overwrite)
    click.echo(f"Wrote {path}: the framework sheet, one A4 landscape page to send ahead of the consultation.")
