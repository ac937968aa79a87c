"""cstracker decrypt: store an encrypted tracker without its password again."""

from __future__ import annotations

import click

from cstracker.commands.common import force_option, tracker_argument


@click.command("decrypt")
@tracker_argument
@force_option
def command(tracker: str, force: bool) -> None:
    """Remove the password from TRACKER (the encrypted version is kept as a backup).

    Example: cstracker decrypt "Referral Tracker.xlsx" --password-file secret.txt
    """
    from cstracker.tracker.protect import decrypt_tracker

    done = decrypt_tracker(tracker, force=force)
    if not done.changed:
        click.echo(f"{done.path} is not encrypted; nothing to do.")
        return
    click.echo(f"{done.path} decrypted: it is now a plain .xlsx file. The backups stay encrypted.")
