"""cstracker init: a new, empty Referral Tracker."""

from __future__ import annotations

from pathlib import Path

import click

from cstracker.commands.common import tracker_argument
from cstracker.core.problems import plural


@click.command("init")
@tracker_argument
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Your authority's TOML settings."
)
@click.option("--overwrite", is_flag=True, help="Replace an existing file at TRACKER (a backup is kept).")
@click.option(
    "--encrypt",
    is_flag=True,
    help="Password-protect the tracker (Excel's own AES-256 encryption); the password comes from "
    "--password-file, CSTRACKER_PASSWORD or a prompt.",
)
def command(tracker: str, config_path: str | None, overwrite: bool, encrypt: bool) -> None:
    """Create a new Referral Tracker workbook at TRACKER.

    Example: cstracker init "Referral Tracker.xlsx" --config ourborough.toml
    """
    from cstracker.core.config import load_config
    from cstracker.tracker.newfile import init_tracker

    config = load_config(config_path)
    path = init_tracker(Path(tracker), config, overwrite=overwrite, encrypt=encrypt, config_file=config_path)
    fields = config.lists.fields()
    click.echo(
        f"Created {path}: {plural(len(fields), 'column')}, {plural(len(config.lists.themes), 'theme')}, "
        f"{plural(len(config.lists.interventions), 'intervention')}, for {config.settings.authority_name}"
        + (
            ", encrypted (AES-256): keep the password safe, without it the tracker cannot be opened."
            if encrypt
            else "."
        )
    )
