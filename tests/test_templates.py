"""The committed blank workbooks must be what the code makes today."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from cstracker.templates import FORM_TEMPLATE, TRACKER_TEMPLATE, stale

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"


def test_committed_templates_are_current():
    assert stale(TEMPLATES) == [], "run: python scripts/make_templates.py"


def test_a_stale_template_is_noticed(tmp_path):
    (tmp_path / TRACKER_TEMPLATE).write_bytes((TEMPLATES / TRACKER_TEMPLATE).read_bytes())
    (tmp_path / FORM_TEMPLATE).write_bytes((TEMPLATES / FORM_TEMPLATE).read_bytes())
    assert stale(tmp_path) == []
    # a template from an older schema (here: a different file) is reported
    with zipfile.ZipFile(tmp_path / TRACKER_TEMPLATE, "a") as z:
        z.writestr("customXml/extra.xml", "<x/>")
    assert stale(tmp_path) == [TRACKER_TEMPLATE]
    (tmp_path / FORM_TEMPLATE).unlink()
    assert stale(tmp_path) == [TRACKER_TEMPLATE, FORM_TEMPLATE]


def test_the_script_checks_the_committed_templates():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_templates.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout == "", out.stdout + out.stderr
