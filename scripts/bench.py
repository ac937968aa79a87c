"""Benchmarks: cstracker against the raw libraries, on the same machine, in the same run.

Prints ratios, not absolute targets: machines here are shared and noisy.

    python scripts/bench.py                 # every section at its full sizes
    python scripts/bench.py --quick         # small sizes, a smoke run
    python scripts/bench.py tracker report  # only some sections
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

# This checkout's cstracker, whatever an installed copy points at; then the bench sections beside us.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: section name -> module in scripts/ with run(workdir: Path, quick: bool) -> None
SECTIONS = {
    "tracker": "bench_tracker",
    "ingest": "bench_ingest",
    "import": "bench_import",
    "report": "bench_report",
    "encryption": "bench_encryption",
    "scale": "bench_scale",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []], help="sections to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    args = parser.parse_args()
    chosen = args.sections or list(SECTIONS)
    with tempfile.TemporaryDirectory(prefix="cstracker-bench-") as tmp:
        for name in chosen:
            try:
                module = importlib.import_module(SECTIONS[name])
            except ModuleNotFoundError:
                print(f"[{name}] no benchmark yet")
                continue
            workdir = Path(tmp) / name
            workdir.mkdir()
            print(f"== {name} ==", flush=True)
            module.run(workdir, args.quick)


if __name__ == "__main__":
    main()
