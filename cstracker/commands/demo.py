"""cstracker demo: the whole journey on synthetic data."""

from __future__ import annotations

import click


@click.command("demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default="demo-output",
    show_default=True,
    help="Folder for the demo's tracker, forms and reports (its demo files are replaced).",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the synthetic data.")
def command(out: str, seed: int) -> None:
    """Run init, import, form, ingest, validate and report on made-up young people.

    Nothing real is used: every referral comes from a seeded generator.

    Example: cstracker demo --out demo-output
    """
    from cstracker.demo import run_demo

    result = run_demo(out, seed=seed, echo=click.echo)
    click.echo(f"Done. Open {result.tracker} in Excel or LibreOffice.")
