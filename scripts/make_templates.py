"""Regenerate the committed blank workbooks in workbook_templates/.

    python scripts/make_templates.py          # write them
    python scripts/make_templates.py --check  # exit 1 if the committed ones are stale

The templates are made with the default settings and a fixed creation time,
so the same code always gives the same parts (tests/test_templates.py
fails when a committed template no longer matches the code).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
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
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in sorted(z.namelist())}


def stale(folder: Path = TEMPLATES) -> list[str]:
    """Names of committed templates that differ from what the code makes now."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for fresh in build(Path(tmp)):
            committed = folder / fresh.name
            if not committed.exists() or parts(committed) != parts(fresh):
                out.append(fresh.name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    args = parser.parse_args()
    if args.check:
        names = stale()
        for name in names:
            print(f"stale: workbook_templates/{name} (run python scripts/make_templates.py)")
        sys.exit(1 if names else 0)
    TEMPLATES.mkdir(exist_ok=True)
    for path in build(TEMPLATES):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
