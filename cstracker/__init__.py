"""cstracker: the Contextual Safeguarding Referral Tracker toolkit.

The public API: what a script or an analyst's notebook calls. Each function is a thin call into the
library (the same code the commands run) and raises a ``CstrackerError`` (one line for a person) when
a file or an option is wrong::

    import cstracker

    cstracker.import_file("Referral Tracker.xlsx", "old tracker.csv")
    referrals = cstracker.open_tracker("Referral Tracker.xlsx").dataframe()
    cstracker.write_report("Referral Tracker.xlsx", month="2026-10")

The library is imported when a function is first called, not by ``import cstracker``, so the command
line (``python -m cstracker``) starts as fast as before. Nothing inside the package imports this
module (tests/test_layers.py); the version lives in ``cstracker/version.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cstracker.version import __version__

if TYPE_CHECKING:  # for the annotations only: importing the package stays as light as the version
    import datetime as dt
    from collections.abc import Sequence
    from pathlib import Path

    from cstracker.forms.ingest import IngestResult
    from cstracker.legacy.results import ImportResult
    from cstracker.report.workbook import WrittenReport
    from cstracker.tracker.tracker import Tracker
    from cstracker.tracker.validate import ValidationReport

__all__ = ["open_tracker", "validate_tracker", "import_file", "ingest_forms", "write_report", "__version__"]


def _use_password(path: str | Path, password: str | None) -> None:
    # the same place a command's --password-file puts it: every reader of this tracker then finds it
    if password is not None:
        from cstracker.xlsx import encryption

        encryption.remember(path, password)


def open_tracker(path: str | Path, password: str | None = None) -> Tracker:
    """Open the Referral Tracker at ``path`` for reading; nothing is locked or written.

    Returns a ``Tracker``: ``.records()`` (one dict per referral, typed values), ``.dataframe()``
    (pandas, one column per field key), ``.settings``, ``.lists``, ``.find(...)``. An encrypted
    tracker needs its ``password`` (or the ``CSTRACKER_PASSWORD`` environment variable); a wrong one
    raises ``WrongPassword``.
    """
    from cstracker.tracker.tracker import Tracker

    _use_password(path, password)
    return Tracker.open(path)


def validate_tracker(
    path: str | Path, today: dt.date | None = None, password: str | None = None
) -> ValidationReport:
    """Check every row of the tracker at ``path`` as ``cstracker validate`` does; nothing is changed.

    Returns a ``ValidationReport``: ``.problems`` (each a ``Problem`` with ``.line()``, the sheet,
    cell, field and what is allowed), ``.errors``, ``.warnings``, ``.rows_checked``. ``today``
    decides what is overdue (default: today).
    """
    from cstracker.tracker.validate import validate_tracker as validate

    _use_password(path, password)
    return validate(path, today=today)


def import_file(
    tracker: str | Path, source: str | Path, password: str | None = None, **options: Any
) -> ImportResult:
    """Import past consultations from ``source`` (an old CSV or Excel sheet) into ``tracker``.

    Does what ``cstracker import`` does: columns are matched by their headings (or ``mapping_path``,
    a mapping file), every row is checked, and one save adds or updates the rows that pass. Options:
    ``sheet``, ``mapping_path``, ``dry_run``, ``rejects_path``, ``prefer_source``, ``overwrite``,
    ``force``, ``today``. Returns an ``ImportResult`` (``.added``, ``.updated``, ``.rejected`` ...).
    """
    from cstracker.legacy.importer import import_file as run_import

    _use_password(tracker, password)
    return run_import(tracker, source, **options)


def ingest_forms(
    tracker: str | Path, forms: Sequence[str | Path], password: str | None = None, **options: Any
) -> IngestResult:
    """Add or update the tracker's rows from completed consultation forms (files or folders of them).

    Does what ``cstracker ingest`` does, in one save: the same form twice updates one row, and a form
    that cannot be read is rejected with its reasons. Options: ``dry_run``, ``archive`` (a folder the
    ingested forms move to), ``prefer_form``, ``force``, ``today``. Returns an ``IngestResult``
    (``.outcomes``, ``.count("added")``, ``.problems``).
    """
    from cstracker.forms.ingest import ingest

    _use_password(tracker, password)
    return ingest(tracker, list(forms), **options)


def write_report(
    tracker: str | Path,
    *,
    month: str | None = None,
    quarter: str | None = None,
    year: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    out: str | Path | None = None,
    publish: bool = False,
    today: dt.date | None = None,
    overwrite: bool = False,
    password: str | None = None,
) -> WrittenReport:
    """Write the trend report workbook for one period of ``tracker``, as ``cstracker report`` does.

    Exactly one period: ``month="2026-10"``, ``quarter="2026-Q3"``, ``year="2026"`` or ``date_from``
    and ``date_to`` (dates, or text such as ``"03/10/2026"``). ``out`` defaults to
    ``CS trends <period>.xlsx`` beside the tracker; ``publish=True`` writes the aggregate-only pack
    with small counts hidden. Returns a ``WrittenReport`` (``.path``, ``.sheets``, ``.referrals``).
    """
    import datetime as dt

    from cstracker.core.periods import parse_period
    from cstracker.report.workbook import make_report

    def text(day: dt.date | str | None) -> str | None:
        return day.isoformat() if isinstance(day, dt.date) else day

    period = parse_period(month, quarter, year, text(date_from), text(date_to))
    _use_password(tracker, password)
    return make_report(tracker, period, out, publish=publish, today=today, overwrite=overwrite)
