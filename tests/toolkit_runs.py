"""Fingerprints of the toolkit's seven-word runs, so a test can tell copied wording without the toolkit.

The source document (the Contextual Safeguarding toolkit) is not part of the repository; what the
test needs is only whether a seven-word run of the form's guidance also occurs in it. So the
repository keeps a hash of each of its runs (tests/data/toolkit-runs.txt), never its text:

    python tests/toolkit_runs.py TOOLKIT.txt     # write tests/data/toolkit-runs.txt again
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

RUNS = Path(__file__).resolve().parent / "data" / "toolkit-runs.txt"
WORDS_PER_RUN = 7


def runs(text: str) -> list[str]:
    """Every run of seven consecutive words (lower case, letters and apostrophes)."""
    words = re.findall(r"[a-z']+", text.lower())
    return [" ".join(words[i : i + WORDS_PER_RUN]) for i in range(len(words) - WORDS_PER_RUN + 1)]


def fingerprint(run: str) -> str:
    return hashlib.sha256(run.encode("utf-8")).hexdigest()[:16]


def known() -> set[str]:
    """The committed fingerprints of the toolkit's runs."""
    return {line for line in RUNS.read_text(encoding="ascii").split() if not line.startswith("#")}


def write(toolkit: Path) -> None:
    prints = sorted({fingerprint(r) for r in runs(toolkit.read_text(encoding="utf-8"))})
    RUNS.write_text(
        "# sha256[:16] of every 7-word run of the CS toolkit (tests/toolkit_runs.py)\n"
        + "\n".join(prints)
        + "\n",
        encoding="ascii",
    )


if __name__ == "__main__":
    write(Path(sys.argv[1]))
