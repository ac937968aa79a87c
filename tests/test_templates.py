"""The committed blank workbooks must be what the code makes today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_templates.py"


def load_script():
    spec = importlib.util.spec_from_file_location("make_templates", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_templates_are_current():
    script = load_script()
    assert script.stale() == [], "run: python scripts/make_templates.py"


def test_a_stale_template_is_noticed(tmp_path):
    script = load_script()
    (tmp_path / script.TRACKER_TEMPLATE).write_bytes(
        (script.TEMPLATES / script.TRACKER_TEMPLATE).read_bytes()
    )
    assert script.TRACKER_TEMPLATE not in script.stale(tmp_path)
    # a template from an older schema (here: a different file) is reported
    other = tmp_path / script.TRACKER_TEMPLATE
    import zipfile

    with zipfile.ZipFile(other, "a") as z:
        z.writestr("customXml/extra.xml", "<x/>")
    assert script.TRACKER_TEMPLATE in script.stale(tmp_path)
