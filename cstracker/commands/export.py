"""cstracker export: a record-level extract for analysts inside the authority."""

from __future__ import annotations

import click

from cstracker.commands.common import CSV_HELP, tracker_argument
from cstracker.core.problems import plural


@click.command("export")
@tracker_argument
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The extract file: .csv, .xlsx or .parquet (the suffix picks the format). " + CSV_HELP + ".",
)
@click.option(
    "--pseudonymise",
    is_flag=True,
    help="Keyed pseudonyms for Mosaic and Referral IDs, free text dropped, dates to the month.",
)
@click.option("--from", "date_from", help="Only referrals received on or after this day (dd/mm/yyyy).")
@click.option("--to", "date_to", help="Only referrals received on or before this day (dd/mm/yyyy).")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False),
    help="The pseudonym key file (default: one made on first use in your application-data folder). "
    "Extracts made with the same key join; share it only with those who may join them.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a file at --out that is not an earlier extract (never a tracker).",
)
def command(
    tracker: str,
    out: str,
    pseudonymise: bool,
    date_from: str | None,
    date_to: str | None,
    key_file: str | None,
    overwrite: bool,
) -> None:
    """Write a record-level extract of TRACKER for analysts: one row per referral.

    The extract is NOT a publication: it is for analysts inside the authority,
    under its data-sharing rules, and its first lines say so. For figures to
    share outside, use `cstracker report --publish`. Use --pseudonymise unless
    the analyst needs to identify children.

    Example: cstracker export "Referral Tracker.xlsx" --out extract.csv --pseudonymise
    """
    from cstracker.core.periods import parse_day
    from cstracker.tracker.export import export_tracker

    start = parse_day("--from", date_from) if date_from else None
    end = parse_day("--to", date_to) if date_to else None
    if key_file and not pseudonymise:
        from cstracker.core.errors import UsageError

        raise UsageError("--key is for --pseudonymise; add --pseudonymise or leave --key out")
    got = export_tracker(
        tracker,
        out,
        pseudonymise=pseudonymise,
        date_from=start,
        date_to=end,
        key_file=key_file,
        overwrite=overwrite,
    )
    if got.key_created:
        click.echo(
            f"Made a new pseudonym key at {got.key_path}: keep it safe and outside the tracker's folder; "
            "extracts made with it join, and without it their pseudonyms cannot be reversed.",
            err=True,
        )
    kind = "pseudonymised" if pseudonymise else "NOT pseudonymised (identifies children)"
    click.echo(
        f"Wrote {got.path}: {plural(got.rows, 'referral')}, {plural(len(got.columns), 'column')}, {kind}. "
        "Record-level: for analysts inside the authority only, not for publication."
    )
