"""The coordinator's guide: every task, its pictures committed and small, linked from the README's first screen."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide.md"
TASKS = (
    "Set up for your authority",
    "Make a form",
    "Bring forms in",
    "Bring an old spreadsheet in",
    "Fix what was rejected",
    "Check rows typed by hand",
    "This month's report",
    "Send figures to the board",
    "When the tracker is open or locked",
)


def test_the_guide_covers_every_task_in_order():
    text = GUIDE.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings == list(TASKS)


def test_the_guides_pictures_are_committed_pngs_and_small():
    text = GUIDE.read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert {Path(p).name for p in pictures} == {"tracker.png", "form.png", "report.png"}
    total = 0
    for p in pictures:
        path = GUIDE.parent / p
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
        total += path.stat().st_size
    assert total < 400_000
    assert (ROOT / "scripts" / "render_guide_pictures.py").exists()


def test_the_readme_links_to_the_guide_on_its_first_screen():
    first_screen = "\n".join(ROOT.joinpath("README.md").read_text(encoding="utf-8").splitlines()[:24])
    assert "(docs/guide.md)" in first_screen
