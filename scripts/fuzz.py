"""Run the fault-and-fuzz module longer than CI does, and print its figures.

    python scripts/fuzz.py                    # every mutation against every command, 200 random examples each
    python scripts/fuzz.py --examples 1000    # more random examples

Runs tests/test_fuzz.py with FUZZ_FULL=1 and FUZZ_EXAMPLES=N (random seeds, not CI's fixed ones), then
prints, per entry point: inputs tried, exit codes, tracebacks, orphan workers, rows lost, rows added
and changed (each checked against what the command printed). Not imported by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="random examples per hypothesis property")
    parser.add_argument("--ci", action="store_true", help="only what CI runs (fixed seeds, core set)")
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "figures.json"
        env = {**os.environ, "FUZZ_REPORT": str(report)}
        if not args.ci:
            env.update(FUZZ_FULL="1", FUZZ_EXAMPLES=str(args.examples))
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py", *rest],
            cwd=ROOT,
            env=env,
        )
        figures = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    keys = ["inputs tried", "exit 0", "exit 1", "exit 2", "tracebacks", "orphans", "rows lost"]
    keys += ["rows added (as printed)", "rows changed (as printed)", "changes not as printed"]
    keys += ["changed, rows not checkable"]
    print(
        f"{'entry point':<14}" + "".join(f"{k:>12}" for k in ("tried", "exit 0", "exit 1", "exit 2")), end=""
    )
    print(
        "".join(
            f"{k:>12}" for k in ("tracebacks", "orphans", "lost", "added", "changed", "mismatch", "unchecked")
        )
    )
    totals: dict[str, int] = {}
    for entry, counts in sorted(figures.items()):
        print(f"{entry:<14}" + "".join(f"{counts.get(k, 0):>12}" for k in keys))
        for k in keys:
            totals[k] = totals.get(k, 0) + counts.get(k, 0)
    print(f"{'all':<14}" + "".join(f"{totals.get(k, 0):>12}" for k in keys))
    return code


if __name__ == "__main__":
    sys.exit(main())
