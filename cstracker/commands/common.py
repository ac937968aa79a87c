"""Helpers shared by the commands: options used by several, and printing problems."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from cstracker.core.csvsafe import HELP as CSV_HELP
from cstracker.core.problems import Problem, to_csv, to_json

tracker_argument = click.argument("tracker", type=click.Path(dir_okay=False))
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write even though an Excel/LibreOffice owner file says the tracker is open.",
)
dry_run_option = click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
    help="How to print problems: text, csv or json. " + CSV_HELP + "; json is exact.",
)


def print_problems(problems: Sequence[Problem], fmt: str = "text") -> None:
    """Problems to stdout: one line each (text), or CSV / JSON for machines."""
    if fmt == "csv":
        sys.stdout.write(to_csv(problems))
    elif fmt == "json":
        sys.stdout.write(to_json(problems) + "\n")
    else:
        for p in problems:
            click.echo(p.line())


def exit_with(code: int) -> None:
    """Leave with ``code`` (0 all good, 1 something rejected or invalid)."""
    if code:
        raise SystemExit(code)
