"""Write the messy old spreadsheets of tests/golden/import/ and what importing them must give.

    python scripts/make_legacy_fixtures.py [OUTDIR]

The generator is tests/legacy_fixtures.py (the tests use it too; see its docstring).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.legacy_fixtures import GOLDEN, main  # noqa: E402

if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN)
