"""Regenerate the committed blank workbooks in workbook_templates/.

    python scripts/make_templates.py          # write them
    python scripts/make_templates.py --check  # exit 1 if the committed ones are stale

How they are made is cstracker/templates.py (tests/test_templates.py checks the committed ones).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEMPLATES = ROOT / "workbook_templates"


def main() -> None:
    from cstracker.templates import build, stale

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    args = parser.parse_args()
    if args.check:
        names = stale(TEMPLATES)
        for name in names:
            print(f"stale: workbook_templates/{name} (run python scripts/make_templates.py)")
        sys.exit(1 if names else 0)
    TEMPLATES.mkdir(exist_ok=True)
    for path in build(TEMPLATES):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
