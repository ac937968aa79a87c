"""What a coordinator adds in a spreadsheet program survives upsert + save, byte for byte.

The fixture is made by LibreOffice itself, driven through UNO (tests/uno_edit.py
run with Debian's python3 + python3-uno): an extra sheet, an extra column inside
the table, a chart, an image, comments, conditional formatting and a list
validation whose source is on another sheet, saved as .xlsx.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from libreoffice import SYSTEM_PYTHON, needs_libreoffice, needs_uno

from cstracker.synthetic import synthetic_records
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.patch import raw_member
from tests.conftest import TODAY

HERE = Path(__file__).parent.parent


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> Path:
    from cstracker.core.config import load_config
    from cstracker.tracker.newfile import init_tracker

    folder = tmp_path_factory.mktemp("lo")
    made = init_tracker(folder / "made.xlsx", load_config(None))
    with Tracker.open_for_update(made) as t:
        t.upsert(synthetic_records(5, today=TODAY), today=TODAY)
        t.save()
    out = folder / "Referral Tracker.xlsx"
    subprocess.run([SYSTEM_PYTHON, str(HERE / "uno_edit.py"), str(made), str(out)], check=True, timeout=240)
    return out


@needs_libreoffice
@needs_uno
def test_libreoffice_edits_survive_upsert_and_save(edited, tmp_path):
    path = tmp_path / edited.name
    shutil.copy(edited, path)
    before = parts(path)
    t = Tracker.open(path)
    sheet_part, table_part = t.layout.sheet_part, t.layout.table_part
    # the fixture really has what a coordinator added
    names = set(before)
    assert any(n.startswith("xl/charts/") for n in names) and any(n.startswith("xl/media/") for n in names)
    assert any(n.startswith("xl/comments") for n in names)
    sheet_before = before[sheet_part].decode()
    assert "<conditionalFormatting" in sheet_before and "Notes" in sheet_before  # cross-sheet list
    assert t.layout.columns["referrer"] == 4  # "My notes" was inserted as column C

    rid = t.rows()[0].raw["referral_id"]
    with Tracker.open_for_update(path) as t:
        result = t.upsert(
            [
                {"referral_id": rid, "age": 16, "detail": "=HYPERLINK(1)"},
                *synthetic_records(2, seed=3, with_ids=False),
            ],
            today=TODAY,
        )
        t.save()
    assert list(result.updated) == [rid] and len(result.added) == 2
    after = parts(path)
    assert list(after) == list(before)
    changed = [n for n in before if before[n] != after[n]]
    assert sorted(changed) == sorted([sheet_part, table_part])
    for name in before:
        if name not in changed:
            assert raw_member(path, name) == raw_member(edited, name), name

    sheet_after = after[sheet_part].decode()
    for tag in ("conditionalFormatting", "dataValidations", "legacyDrawing", "tableParts"):
        assert _element(sheet_before, tag) == _element(sheet_after, tag), tag
    # the extra column's cells are still there, in the updated row too
    for cell in ("C1", "C2", "C3", "C4"):
        assert _cell(sheet_before, cell) == _cell(sheet_after, cell), cell
    out = Tracker.open(path)
    assert len(out.records()) == 7
    assert out.find(referral_id=rid)["detail"] == "=HYPERLINK(1)"


def _element(xml: str, tag: str) -> str:
    m = re.search(rf"<{tag}\b.*?(?:</{tag}>|/>)", xml, re.S)
    assert m, tag
    return m[0]


def _cell(xml: str, ref: str) -> str:
    m = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
    assert m, ref
    return m[0]


def _type_raw(path: Path, cells: dict[str, object]) -> None:
    """Type values into the Referrals sheet the way a spreadsheet program stores them (text / number)."""
    from cstracker.xlsx.parts import parse_ref
    from cstracker.xlsx.patch import Cell, SheetPatcher, rewrite_package

    t = Tracker.open(path)
    updates: dict[int, dict[int, Cell]] = {}
    for ref, value in cells.items():
        col, row = parse_ref(ref)
        updates.setdefault(row, {})[col] = Cell("s", value) if isinstance(value, str) else Cell("n", value)
    tmp = path.with_name("typed.xlsx")
    rewrite_package(path, tmp, {t.layout.sheet_part: SheetPatcher(updates)})
    tmp.replace(path)


@needs_libreoffice
@needs_uno
def test_validate_fix_keeps_charts_images_comments_and_extra_sheets(edited, tmp_path):
    from click.testing import CliRunner

    from cstracker.cli import cli
    from cstracker.tracker.layout import _sheet_names
    from cstracker.xlsx.parts import col_letters

    path = tmp_path / edited.name
    shutil.copy(edited, path)
    t = Tracker.open(path)
    col = {k: col_letters(c) for k, c in t.layout.columns.items()}
    below = t.layout.table_ref[3] + 2
    _type_raw(
        path,
        {
            f"{col['gender']}2": "F",
            f"{col['theme:Gangs']}3": "x",
            f"{col['referrer_team']}4": "YJS",
            f"{col['referrer_team']}5": "Fire and Rescue",
            f"{col['age']}2": "14",
            f"{col['date_received']}{below}": "03/10/2026",
            f"{col['mosaic_id']}{below}": 9123456,
            f"{col['referral_id']}{below}": "CS-2026-0999",
        },
    )
    before = parts(path)
    typed = shutil.copy(path, tmp_path / "typed copy.xlsx")
    with zipfile.ZipFile(path) as zf:
        lists_part = _sheet_names(zf, path)[0]["Lists"]
    result = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    assert "changed 6 cells, 1 row brought into the table, 1 value added" in result.output, result.output
    after = parts(path)
    assert list(after) == list(before)
    # the Audit sheet records the fix (one of the tool's own hidden sheets)
    owned = {
        t.layout.sheet_part,
        t.layout.table_part,
        lists_part,
        "xl/workbook.xml",
        t.layout.sheet_parts["Audit"],
    }
    changed = {n for n in before if before[n] != after[n]}
    assert changed == owned
    for name in before:
        if name not in owned:
            assert raw_member(path, name) == raw_member(Path(typed), name), name
    # charts, images, comments and the extra sheet are really there, untouched
    assert any(n.startswith("xl/charts/") for n in after) and any(n.startswith("xl/media/") for n in after)
    assert any(n.startswith("xl/comments") for n in after)
    sheet_before, sheet_after = before[t.layout.sheet_part].decode(), after[t.layout.sheet_part].decode()
    for tag in ("conditionalFormatting", "dataValidations", "legacyDrawing", "tableParts"):
        assert _element(sheet_before, tag) == _element(sheet_after, tag), tag
    for cell in ("C1", "C2", "C3", "C4"):  # the coordinator's own column inside the table
        assert _cell(sheet_before, cell) == _cell(sheet_after, cell), cell
    # only the defined name of the grown list changed in workbook.xml
    wb_before, wb_after = before["xl/workbook.xml"].decode(), after["xl/workbook.xml"].decode()
    strip = re.compile(r'<definedName\b[^>]*\bname="list_referrer_team"[^>]*>[^<]*</definedName>')
    assert strip.sub("", wb_before) == strip.sub("", wb_after) and wb_before != wb_after
    again = CliRunner().invoke(cli, ["validate", str(path), "--fix"])
    assert "changed 0 cells" in again.output
    assert parts(path) == after
