"""cstracker import: past consultations from an old CSV/XLSX spreadsheet into the tracker."""

from __future__ import annotations

import click

from cstracker.commands.common import dry_run_option, exit_with, force_option, tracker_argument

#: problem lines printed before pointing at --rejects for the rest
SHOWN_PROBLEMS = 20


@click.command("import")
@tracker_argument
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--sheet", help="The sheet to read from an Excel SOURCE (default: the first sheet).")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(dir_okay=False),
    help="A TOML file naming your own columns and value spellings (see the README).",
)
@dry_run_option
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False),
    help="Write every rejected row, with its reasons, to this .xlsx file to fix and import again.",
)
@click.option(
    "--prefer-source",
    is_flag=True,
    help="Where a value differs from the tracker's and the tracker's did not come from that source row "
    "(typed or changed by hand, or by a form), take the source's. By default the tracker keeps its value "
    "and the conflict is listed.",
)
@force_option
def command(
    tracker: str,
    source: str,
    sheet: str | None,
    mapping_path: str | None,
    dry_run: bool,
    rejects_path: str | None,
    prefer_source: bool,
    force: bool,
) -> None:
    """Import past consultations from SOURCE (an old .csv or .xlsx) into TRACKER.

    Columns are matched to tracker fields by their names and the schema's synonyms
    (and your mapping file); values are checked like every other entry. Good rows
    are added (or update the same referral); rows with a problem are left out and
    listed, one reason per bad value. Run with --dry-run first: it shows which
    column became which field, and writes nothing.

    Example: cstracker import "Referral Tracker.xlsx" "old tracker.xlsx" --dry-run

    Example: cstracker import "Referral Tracker.xlsx" old.csv --mapping ours.toml --rejects rejected.xlsx
    """
    from cstracker.importer import import_file

    result = import_file(
        tracker,
        source,
        sheet=sheet,
        mapping_path=mapping_path,
        dry_run=dry_run,
        rejects_path=rejects_path,
        force=force,
        progress=True,
        prefer_source=prefer_source,
    )
    click.echo(result.table.describe())
    if dry_run:
        click.echo("Columns:")
        for line in result.mapping.lines():
            click.echo(line)
    if result.table.cells_beyond_header:
        rows = result.table.cells_beyond_header
        click.echo(
            f"Note: {len(rows)} rows have values right of the last headed column (first: row {rows[0]}); "
            "give that column a heading to import it."
        )
    problems = result.problems
    if rejects_path and not dry_run and result.rejects_path is not None:
        click.echo(f"Rejected rows, with reasons, written to {result.rejects_path}.")
    elif rejects_path and not dry_run:
        click.echo(f"No rows rejected; {rejects_path} was not written.")
    else:
        for p in problems[:SHOWN_PROBLEMS]:
            click.echo(p.line())
        if len(problems) > SHOWN_PROBLEMS:
            click.echo(
                f"… and {len(problems) - SHOWN_PROBLEMS} more problems; use --rejects FILE to get them all."
            )
        if dry_run and rejects_path and problems:
            click.echo("Dry run: the rejects file was not written.")
    if result.rejected:
        click.echo("Top reasons for rejecting:")
        for reason, count in result.top_reasons():
            click.echo(f"  {count} x {reason}")
    for p in result.conflicts[:SHOWN_PROBLEMS]:
        click.echo(p.line())
    if len(result.conflicts) > SHOWN_PROBLEMS:
        click.echo(f"… and {len(result.conflicts) - SHOWN_PROBLEMS} more conflicts.")
    if result.conflicts:
        click.echo(
            f"{len(result.conflicts)} values differ from the tracker's, which did not come from those rows: "
            "the tracker kept its own (your edits win). To take the source's, import again with --prefer-source."
        )
    if result.warnings:
        click.echo(f"{len(result.warnings)} warnings (rows imported): run cstracker validate to list them.")
    click.echo(result.summary() + (" (dry run: nothing written)" if dry_run else ""))
    if not dry_run and result.added + result.updated == 0 and not result.rejected and not result.conflicts:
        click.echo("Nothing new: every row is already in the tracker.")
    exit_with(1 if result.rejected else 0)
