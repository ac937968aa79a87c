"""cstracker encrypt: password-protect an existing tracker and its backups."""

from __future__ import annotations

import sys

import click

from cstracker.commands.common import force_option, tracker_argument


@click.command("encrypt")
@tracker_argument
@click.option(
    "--remove-backups",
    is_flag=True,
    help="Delete the tracker's plain backups instead of encrypting them (you are asked first).",
)
@click.option("--yes", is_flag=True, help="With --remove-backups: do not ask.")
@force_option
def command(tracker: str, remove_backups: bool, yes: bool, force: bool) -> None:
    """Encrypt TRACKER with a password (Excel's own AES-256 file encryption), and its backups.

    The password comes from --password-file, CSTRACKER_PASSWORD or a prompt; Excel and
    LibreOffice ask for it when the file is opened. A backup of the plain tracker is kept,
    encrypted like the other backups in its backups folder.

    Example: cstracker encrypt "Referral Tracker.xlsx" --password-file secret.txt
    """
    from pathlib import Path

    from cstracker.core.errors import UsageError
    from cstracker.tracker.protect import encrypt_tracker
    from cstracker.xlsx import safety

    if remove_backups and not yes:
        found = safety.backups_of(Path(tracker))
        if found:
            if not sys.stdin.isatty():
                raise UsageError(
                    "--remove-backups deletes backups: add --yes to confirm, or run it in a terminal"
                )
            click.confirm(
                f"Delete the {len(found)} plain backups in '{safety.backups_folder(Path(tracker))}'?",
                abort=True,
                err=True,
            )
    done = encrypt_tracker(tracker, remove_backups=remove_backups, force=force)
    what = "encrypted" if done.changed else "was already encrypted"
    backups = (
        f"{len(done.backups_removed)} plain backups deleted"
        if remove_backups
        else f"{len(done.backups_encrypted)} plain backups encrypted"
    )
    click.echo(
        f"{done.path} {what}; {backups}. Keep the password safe: without it the tracker cannot be opened."
    )
