"""cstracker import: past consultations from an old CSV/XLSX spreadsheet into the tracker."""

from __future__ import annotations

import click

from cstracker.commands.common import CSV_HELP, dry_run_option, exit_with, force_option, tracker_argument
from cstracker.core.problems import plural


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
    "--write-mapping",
    "draft_path",
    type=click.Path(dir_okay=False),
    help="With --dry-run: write a complete mapping file for SOURCE, suggestions filled in, to check and "
    "then import with (--mapping FILE).",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False),
    help="Write every rejected row, with its reasons and every value it had, to this .xlsx or .csv file "
    "to fix and import again. An earlier rejects file there is replaced. " + CSV_HELP + ".",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Let --rejects replace a file that is not an earlier rejects file (never a tracker).",
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
    draft_path: str | None,
    rejects_path: str | None,
    prefer_source: bool,
    overwrite: bool,
    force: bool,
) -> None:
    """Import past consultations from SOURCE (an old .csv or .xlsx) into TRACKER.

    Columns are matched to tracker fields by their names and the schema's synonyms
    (and your mapping file); values are checked like every other entry. Good rows
    are added (or update the same referral); rows with a problem are left out and
    listed, one reason per bad value. Run with --dry-run first: it shows which
    column became which field and every value not on its list with a suggestion,
    and writes nothing but the draft mapping you ask for.

    Example: cstracker import "Referral Tracker.xlsx" "old tracker.xlsx" --dry-run --write-mapping draft.toml

    Example: cstracker import "Referral Tracker.xlsx" "old tracker.xlsx" --mapping draft.toml

    Example: cstracker import "Referral Tracker.xlsx" old.csv --mapping ours.toml --rejects rejected.xlsx
    """
    from cstracker.core.errors import UsageError
    from cstracker.legacy.import_summary import (
        check_draft_path,
        conflict_lines,
        other_problem_lines,
        top_reason_lines,
        vocabulary_lines,
        warning_lines,
    )
    from cstracker.legacy.importer import import_file

    if draft_path and not dry_run:
        raise UsageError("--write-mapping needs --dry-run: look first, then import with --mapping FILE")
    if draft_path:
        check_draft_path(draft_path, source)
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
        overwrite=overwrite,
    )
    click.echo(result.table.describe())
    for note in result.notes:
        click.echo(note)
    if dry_run:
        click.echo("Columns:")
        for line in result.mapping.lines():
            click.echo(line)
    else:
        for c in result.mapping.personal():
            click.echo(f"Column {c.letter} {c.header!r} not imported: personal data ({c.personal}).")
    for line in vocabulary_lines(result):
        click.echo(line)
    for line in result.added_lines():
        click.echo(line)
    if draft_path:
        from cstracker.legacy.import_summary import write_draft

        written = write_draft(draft_path, result, source)
        click.echo(f"Draft mapping written to {written}: check it, then import with --mapping {written}.")
    if result.table.cells_beyond_header:
        rows = result.table.cells_beyond_header
        click.echo(
            f"Note: {plural(len(rows), 'row')} {'has' if len(rows) == 1 else 'have'} values right of the last headed column (first: row {rows[0]}); "
            "give that column a heading to import it."
        )
    problems = result.problems
    if rejects_path and not dry_run and result.rejects_path is not None:
        click.echo(f"Rejected rows, with reasons, written to {result.rejects_path}.")
        for extra in result.rejects_files[1:]:
            click.echo(
                f"Some rejected values do not fit in a workbook (longer than a cell holds, or past its last "
                f"column): the complete rows are in {extra}; fix and import that file."
            )
    elif rejects_path and not dry_run:
        click.echo(f"No rows rejected; {rejects_path} was not written.")
    else:
        for line in other_problem_lines(result):
            click.echo(line)
        if dry_run and rejects_path and problems:
            click.echo("Dry run: the rejects file was not written.")
    for line in top_reason_lines(result):
        click.echo(line)
    for line in conflict_lines(result):
        click.echo(line)
    for line in warning_lines(result):
        click.echo(line)
    click.echo(result.summary() + (" (dry run: nothing written)" if dry_run else ""))
    if not dry_run and result.added + result.updated == 0 and not result.rejected and not result.conflicts:
        click.echo("Nothing new: every row is already in the tracker.")
    exit_with(1 if result.rejected else 0)
