"""The blank workbooks committed in workbook_templates/: what they are and how they are made.

Made with the default settings and a fixed creation time, so the same code always gives the same
parts: ``stale(folder)`` names a committed template that no longer matches the code (a test checks
the repository's; ``python scripts/make_templates.py`` writes them again).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

TRACKER_TEMPLATE = "Referral Tracker (blank).xlsx"
FORM_TEMPLATE = "Consultation form (blank).xlsx"


def build(folder: Path) -> list[Path]:
    """Write every template into ``folder``; return their paths."""
    from cstracker.core.config import load_config
    from cstracker.forms.workbook import write_blank_template
    from cstracker.tracker.create import create_tracker
    from cstracker.xlsx.outputs import write_output

    config = load_config(None)
    # through the one atomic write: a template is never left half-written in the repository
    write_output(folder / TRACKER_TEMPLATE, lambda tmp: create_tracker(tmp, config))
    write_output(folder / FORM_TEMPLATE, lambda tmp: write_blank_template(tmp, config))
    return [folder / TRACKER_TEMPLATE, folder / FORM_TEMPLATE]


def parts(path: Path) -> dict[str, bytes]:
    """Every part of a workbook by name (what "the same template" compares)."""
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in sorted(z.namelist())}


def stale(folder: Path) -> list[str]:
    """Names of the templates in ``folder`` that are missing or differ from what the code makes now."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for fresh in build(Path(tmp)):
            committed = folder / fresh.name
            if not committed.exists() or parts(committed) != parts(fresh):
                out.append(fresh.name)
    return out
