"""cstracker report: the trend report workbook for a month, quarter, year or date range."""

from __future__ import annotations

import datetime as dt

import click

from cstracker.commands.common import tracker_argument
from cstracker.core.problems import plural


@click.command("report")
@tracker_argument
@click.option("--month", help="A calendar month, YYYY-MM (e.g. 2026-10).")
@click.option("--quarter", help="A calendar quarter, YYYY-Qn (e.g. 2026-Q3 = July to September).")
@click.option("--year", help="A calendar year, YYYY (the trend then covers 24 months).")
@click.option("--from", "date_from", help="First day of a date range, dd/mm/yyyy (with --to).")
@click.option("--to", "date_to", help="Last day of a date range, dd/mm/yyyy (with --from).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="The report file (default: 'CS trends <period>.xlsx' beside the tracker).",
)
@click.option(
    "--publish",
    is_flag=True,
    help="Aggregates only, small counts shown as c, safe to read with every other published pack: the "
    "version to share outside the team. What it showed is kept in '<tracker> published figures.json' beside "
    "the tracker, so later packs keep hidden figures hidden.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a file at --out that is not this tracker's report of the same period and kind "
    "(never a tracker).",
)
@click.option(
    "--today",
    "today_text",
    hidden=True,
    help="Pretend today is this date (dd/mm/yyyy); for reproducible reports and tests.",
)
def command(
    tracker: str,
    month: str | None,
    quarter: str | None,
    year: str | None,
    date_from: str | None,
    date_to: str | None,
    out: str | None,
    publish: bool,
    overwrite: bool,
    today_text: str | None,
) -> None:
    """Write the trend report workbook for one period of TRACKER.

    Running it again replaces the same report (same tracker, period and kind); any other
    existing file at --out needs --overwrite, and a tracker is never replaced.

    Example: cstracker report "Referral Tracker.xlsx" --month 2026-10 --publish
    """
    from cstracker.core.periods import parse_day, parse_period
    from cstracker.report.workbook import make_report

    period = parse_period(month, quarter, year, date_from, date_to)
    today = parse_day("--today", today_text) if today_text else dt.date.today()
    written = make_report(tracker, period, out, publish=publish, today=today, overwrite=overwrite)
    kind = "published (small counts hidden)" if publish else "internal (not for sharing)"
    hidden = f", {plural(written.hidden_cells, 'figure')} shown as c" if publish else ""
    for warning in written.warnings:
        click.echo(f"Warning: {warning}.", err=True)
    click.echo(
        f"Wrote {written.path}: {kind} report for {period.title}, {plural(written.referrals, 'referral')} received, "
        f"{plural(len(written.sheets), 'sheet')}{hidden}."
    )
