"""Publish the board's whole run of packs on synthetic trackers and attack them (the closing-note figures).

    python scripts/attack_packs.py            # 24 monthly + 8 quarterly + 1 yearly pack, two authorities
    python scripts/attack_packs.py --short    # the tests' short run

For each authority (a demo-sized one, about 20 referrals a month, and a small-numbers
one where most cells are 1 to 5) it writes the packs with ``report --publish`` in the
order the board receives them, then runs the independent attack of
``tests/attacker.py`` on the written workbooks and prints: packs, tables, hidden
cells, figures recovered (0 expected), the narrowest range, and the share of
figures shown per sheet.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def shown_per_sheet(paths: list[Path]) -> dict[str, float]:
    from attacker import tables_of

    shown, total = Counter(), Counter()
    for p in paths:
        for t in tables_of(p):
            for _, values in t.rows:
                for v in values:
                    if v == "c" or isinstance(v, int | float):
                        total[t.sheet] += 1
                        shown[t.sheet] += v != "c"
    return {s: shown[s] / total[s] for s in total}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="the tests' short run only")
    args = parser.parse_args()
    from test_published_run import FULL, SHORT, attack, closing_figures, make_tracker, publish_run

    packs = SHORT if args.short else FULL
    for name, n, seed in (("demo-sized", 500, 7), ("small-numbers", 150, 11)):
        with tempfile.TemporaryDirectory(prefix="cstracker-attack-") as tmp:
            tracker = make_tracker(Path(tmp), n, seed)
            t0 = time.perf_counter()
            paths = publish_run(tracker, packs)
            t1 = time.perf_counter()
            a, ranges = attack(paths)
            t2 = time.perf_counter()
            print(f"[{name}] {closing_figures(paths, a, ranges)}")
            print(
                f"[{name}] publishing {t1 - t0:.1f} s, attack {t2 - t1:.1f} s, problems: {a.problems or 'none'}"
            )
            for sheet, share in shown_per_sheet(paths).items():
                print(f"[{name}]   {sheet}: {share:.0%} of figures shown")


if __name__ == "__main__":
    main()
