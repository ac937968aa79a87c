"""cstracker validate: lint rows typed or pasted by hand."""

from __future__ import annotations

import click

from cstracker.commands.common import exit_with, format_option, print_problems, tracker_argument


@click.command("validate")
@tracker_argument
@format_option
@click.option("--errors-only", is_flag=True, help="Leave out warnings.")
def command(tracker: str, fmt: str, errors_only: bool) -> None:
    """Check every row of TRACKER: values not on their list, bad dates, duplicate IDs, and more.

    One line per problem: row and cell, column, value, what is allowed, and a rule code.
    Exits 1 when there are errors, 0 when the tracker is clean (warnings alone do not fail).

    Example: cstracker validate "Referral Tracker.xlsx" --format csv > problems.csv
    """
    from cstracker.validate import validate_tracker

    report = validate_tracker(tracker)
    problems = report.errors if errors_only else report.problems
    print_problems(problems, fmt)
    if fmt == "text":
        click.echo(
            f"{report.path.name}: {report.rows_checked} rows checked, "
            f"{len(report.errors)} errors, {len(report.warnings)} warnings.",
            err=bool(problems),
        )
    exit_with(1 if report.errors else 0)
