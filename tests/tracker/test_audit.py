"""The audit trail: one row per command that changes the tracker, one per source file; `cstracker history`."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import Config
from cstracker.forms.fill import fill_form
from cstracker.forms.workbook import new_form_id, write_form
from cstracker.tracker.audit import HEADERS, NOTE, SHEET_AUDIT, audit_rows, history, masked_name
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trail(path: Path):
    return audit_rows(Tracker.open(path).own_sheet(SHEET_AUDIT))


def form(folder: Path, name: str, mosaic: str, **more) -> Path:
    record = {
        "date_received": dt.date(2026, 10, 1),
        "mosaic_id": mosaic,
        "suitability": "Awaiting decision",
        "primary_concern": "School",
        **more,
    }
    return fill_form(write_form(folder / name, Config(), form_id=new_form_id()), record)


def test_init_is_recorded_with_its_config_file(tmp_path):
    cfg = tmp_path / "borough 1234567.toml"
    cfg.write_text('authority_name = "Anytown"\n', encoding="utf-8")
    path = tmp_path / "T.xlsx"
    assert run("init", path, "--config", cfg).exit_code == 0
    rows = trail(path)
    assert [r.kind for r in rows] == ["command", "source"]
    assert rows[0].command == "init" and rows[0].entry == 1 and rows[0].who
    assert rows[1].source == "borough #######.toml" and rows[1].sha256 == sha(cfg)
    dt.datetime.fromisoformat(rows[0].when)


def test_the_sheet_is_hidden_and_says_edits_in_excel_are_not_seen(tmp_path):
    path = tmp_path / "T.xlsx"
    run("init", path)
    grid = Tracker.open(path).own_sheet(SHEET_AUDIT)
    assert grid[0][0] == NOTE and "NOT recorded" in NOTE
    assert [c for c in grid[2] if c] == list(HEADERS)
    with zipfile.ZipFile(path) as zf:
        wb = zf.read("xl/workbook.xml").decode()
    assert f'name="{SHEET_AUDIT}"' in wb
    entry = wb[wb.index(f'name="{SHEET_AUDIT}"') - 200 : wb.index(f'name="{SHEET_AUDIT}"') + 200]
    assert 'state="hidden"' in entry


def test_ingest_rows_per_command_and_per_form_with_counts_and_ids(tmp_path):
    path = tmp_path / "T.xlsx"
    run("init", path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    a = form(inbox, "form for 9100001.xlsx", "9100001")
    b = form(inbox, "b.xlsx", "9100002")
    bad = form(inbox, "c.xlsx", "9100003", date_received=dt.date(2099, 1, 1))
    r = run("ingest", path, inbox)
    assert r.exit_code == 1, r.output  # one form refused
    ids = [rec["referral_id"] for rec in Tracker.open(path).records()]
    rows = [x for x in trail(path) if x.command == "ingest"]
    command, *sources = rows
    assert (command.added, command.updated, command.refused, command.removed) == (2, 0, 1, 0)
    assert command.ids == ", ".join(ids)
    by_name = {s.source: s for s in sources}
    assert set(by_name) == {"form for #######.xlsx", "b.xlsx", "c.xlsx"}
    assert by_name["c.xlsx"].refused == 1 and by_name["c.xlsx"].ids == ""
    assert by_name["b.xlsx"].sha256 == sha(b) and by_name["b.xlsx"].added == 1
    assert by_name["form for #######.xlsx"].sha256 == sha(a)
    assert bad.exists()
    # a second run that changes nothing adds no entry
    before = len(trail(path))
    run("ingest", path, a, b)
    assert len(trail(path)) == before


def test_import_and_retention_are_recorded(tmp_path):
    path = tmp_path / "T.xlsx"
    run("init", path)
    src = tmp_path / "old 2015-2020.csv"
    src.write_text(
        "Date received,Mosaic ID\n02/02/2019,8100001\n03/02/2026,8100002\nnot a date,8100003\n",
        encoding="utf-8",
    )
    assert run("import", path, src).exit_code in (0, 1)
    ids = [rec["referral_id"] for rec in Tracker.open(path).records()]
    imp = [x for x in trail(path) if x.command == "import"]
    assert (imp[0].added, imp[0].refused) == (2, 1) and imp[0].ids == ", ".join(ids)
    assert imp[1].source == "old 2015-2020.csv" and imp[1].sha256 == sha(src)
    assert run("retention", path, "--set-years", "6").exit_code == 0
    assert run("retention", path, "--today", "27/11/2026").exit_code == 0
    ret = [x for x in trail(path) if x.command == "retention"]
    assert ret[-1].removed == 1 and ret[-1].ids == ids[0]
    commands = [(x.entry, x.command) for x in trail(path) if x.kind == "command"]
    assert commands == [(1, "init"), (2, "import"), (3, "retention --set-years"), (4, "retention")]


def test_the_audit_never_holds_a_mosaic_id(tmp_path):
    path = tmp_path / "T.xlsx"
    run("init", path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    form(inbox, "9100001 referral.xlsx", "9100001", referrer="Sam Reid", detail="Northgate Academy")
    run("ingest", path, inbox)
    grid = Tracker.open(path).own_sheet(SHEET_AUDIT)
    text = " ".join(str(v) for row in grid for v in row if v is not None)
    assert "9100001" not in text and "Sam Reid" not in text and "Northgate" not in text
    assert masked_name("a/b/12345 x 1234.xlsx") == "##### x 1234.xlsx"


def test_history_command_and_referral_filter(tmp_path):
    path = tmp_path / "T.xlsx"
    run("init", path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    form(inbox, "a.xlsx", "9100001")
    form(inbox, "b.xlsx", "9100002")
    run("ingest", path, inbox)
    first, second = [rec["referral_id"] for rec in Tracker.open(path).records()]
    out = run("history", path)
    assert out.exit_code == 0
    assert "init" in out.output and "ingest" in out.output and "a.xlsx" in out.output
    only = history(path, referral=second)
    assert [r.kind for r in only] == ["command", "source"] and only[1].source == "b.xlsx"
    shown = run("history", path, "--referral", second)
    assert "b.xlsx" in shown.output and "a.xlsx" not in shown.output and "init" not in shown.output
    none = run("history", path, "--referral", "CS-1999-0001")
    assert none.exit_code == 0 and "No audit entries" in none.output
    assert TODAY


def test_encrypt_and_decrypt_are_recorded(tmp_path, monkeypatch):
    from cstracker.xlsx import encryption

    monkeypatch.setenv(encryption.PASSWORD_ENV, "pw for the audit")
    path = tmp_path / "T.xlsx"
    run("init", path)
    assert run("encrypt", path).exit_code == 0
    assert run("decrypt", path).exit_code == 0
    assert [x.command for x in trail(path) if x.kind == "command"] == ["init", "encrypt", "decrypt"]


def test_validate_fix_is_recorded(tmp_path):
    import openpyxl

    path = tmp_path / "T.xlsx"
    run("init", path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    form(inbox, "a.xlsx", "9100001", gender="Female")
    run("ingest", path, inbox)
    (rid,) = [rec["referral_id"] for rec in Tracker.open(path).records()]
    wb = openpyxl.load_workbook(path)  # a coordinator types a spelling of their own
    ws = wb["Referrals"]
    col = next(c.column_letter for c in ws[1] if c.value == "Gender")
    ws[f"{col}2"] = "female "
    wb.save(path)
    assert run("validate", path, "--fix").exit_code in (0, 1)
    last = [x for x in trail(path) if x.kind == "command"][-1]
    assert last.command == "validate --fix" and last.updated == 1 and last.ids == rid
