"""cstracker validate: lint rows typed or pasted by hand, and (--fix) tidy them in place."""

from __future__ import annotations

import click

from cstracker.commands.common import (
    exit_with,
    force_option,
    format_option,
    print_problems,
    tracker_argument,
)
from cstracker.core.problems import plural


@click.command("validate")
@tracker_argument
@format_option
@click.option("--errors-only", is_flag=True, help="Leave out warnings.")
@click.option(
    "--fix",
    is_flag=True,
    help="Rewrite values that are readable but not in the tracker's own form (F -> Female, x -> Yes, "
    "a date typed as text -> a date), add new referrer teams to the Lists sheet and bring rows typed "
    "below the table into it. A backup is kept; nothing it cannot read is touched.",
)
@click.option("--dry-run", is_flag=True, help="With --fix: show each change; write nothing.")
@force_option
def command(tracker: str, fmt: str, errors_only: bool, fix: bool, dry_run: bool, force: bool) -> None:
    """Check every row of TRACKER: values not on their list, bad dates, duplicate IDs, and more.

    One line per problem: row and cell, column, value, what is allowed, and a rule code.
    Exits 1 when there are errors, 0 when the tracker is clean (warnings alone do not fail).
    With --fix, one line per cell changed, then the problems left.

    Example: cstracker validate "Referral Tracker.xlsx" --fix --dry-run
    """
    from cstracker.tracker.validate import validate_tracker

    if dry_run and not fix:
        raise click.UsageError("--dry-run goes with --fix (validate alone never writes)")
    if fix:
        from cstracker.tracker.fix import fix_tracker

        result = fix_tracker(tracker, dry_run=dry_run, force=force)
        for change in result.changes:
            click.echo(("would change " if dry_run else "") + change.line(), err=fmt != "text")
        verb = "would change" if dry_run else "changed"
        click.echo(
            f"{result.path.name}: {verb} {plural(result.cells, 'cell')}, "
            f"{plural(result.rows_moved, 'row')} brought into the table, "
            f"{plural(result.list_values, 'value')} added to the Lists sheet"
            + (f" (backup: {result.backup.name})" if result.backup else "")
            + (" (dry run: nothing written)" if dry_run else "")
            + ".",
            err=fmt != "text",
        )
    report = validate_tracker(tracker)
    problems = report.errors if errors_only else report.problems
    print_problems(problems, fmt)
    if fmt == "text":
        click.echo(
            f"{report.path.name}: {plural(report.rows_checked, 'row')} checked, "
            f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}.",
            err=bool(problems),
        )
    exit_with(1 if report.errors else 0)
