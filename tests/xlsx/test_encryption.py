"""Encryption at rest: every command on an encrypted tracker, and no plaintext on disk, ever."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import olefile
import pytest
from click.testing import CliRunner
from libreoffice import SYSTEM_PYTHON, needs_libreoffice, needs_uno

from cstracker.cli import COMMANDS, cli
from cstracker.core.config import Config, config_from_dict
from cstracker.forms.fill import fill_form
from cstracker.forms.workbook import new_form_id, write_form
from cstracker.synthetic import synthetic_records
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx import encryption, safety
from tests.conftest import TODAY

PASSWORD = "correct horse 7"
ROOT = Path(__file__).parent.parent.parent


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv(encryption.PASSWORD_ENV, raising=False)
    encryption.forget_passwords()
    encryption.use_password_file(None)
    yield
    encryption.forget_passwords()
    encryption.use_password_file(None)


@pytest.fixture
def pw_file(tmp_path) -> Path:
    p = tmp_path / "secret.txt"
    p.write_text(PASSWORD + "\n", encoding="utf-8")
    return p


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def is_encrypted(path: Path) -> bool:
    return encryption.is_encrypted_file(path)


def all_encrypted(tracker: Path) -> None:
    assert is_encrypted(tracker), tracker
    for b in safety.backups_of(tracker):
        assert is_encrypted(b), b
    for p in tracker.parent.iterdir():
        if p.is_file() and p.name.startswith((".~cstracker", safety.TEMP_PREFIX)):
            raise AssertionError(f"a temporary file was left: {p}")


def make_encrypted(folder: Path, pw_file: Path, n: int = 0, years: int | None = None) -> Path:
    path = folder / "Referral Tracker.xlsx"
    args = ["init", path, "--encrypt", "--password-file", pw_file]
    if years:
        cfg = folder / "cfg.toml"
        cfg.write_text(f"retention_years = {years}\n", encoding="utf-8")
        args += ["--config", cfg]
    r = run(*args)
    assert r.exit_code == 0, r.output
    if n:
        encryption.use_password_file(pw_file)
        with Tracker.open_for_update(path) as t:
            t.upsert(synthetic_records(n, today=TODAY), today=TODAY)
            t.save()
        encryption.use_password_file(None)
    return path


def test_init_encrypt_is_real_agile_aes256_encryption(tmp_path, pw_file):
    path = make_encrypted(tmp_path, pw_file)
    data = path.read_bytes()
    assert data.startswith(encryption.OLE_MAGIC) and b"PK\x03\x04" not in data[:512]
    ole = olefile.OleFileIO(str(path))
    info = ole.openstream("EncryptionInfo").read()
    ole.close()
    assert info[:4] == b"\x04\x00\x04\x00"  # version 4.4: the Agile scheme
    xml = info[8:].decode("utf-8")
    assert 'cipherAlgorithm="AES"' in xml and 'keyBits="256"' in xml and 'hashAlgorithm="SHA512"' in xml
    # it opens with the password, and is a whole tracker
    plain = encryption.decrypt_bytes(data, PASSWORD, path)
    with zipfile.ZipFile(__import__("io").BytesIO(plain)) as zf:
        assert "xl/workbook.xml" in zf.namelist()


def test_password_from_file_environment_never_an_argument(tmp_path, pw_file):
    path = make_encrypted(tmp_path, pw_file, n=3)
    assert run("validate", path, "--password-file", pw_file).exit_code == 0
    assert run("validate", path, env={"CSTRACKER_PASSWORD": PASSWORD}).exit_code == 0
    missing = run("validate", path)
    assert missing.exit_code == 2 and "--password-file" in missing.output
    for name in COMMANDS:
        command = cli.get_command(None, name)
        opts = {o for p in command.params for o in getattr(p, "opts", [])}
        assert "--password" not in opts, name
        if name != "demo":
            assert "--password-file" in opts, name


def test_wrong_password_is_one_line_exit_1_and_changes_nothing(tmp_path, pw_file):
    path = make_encrypted(tmp_path, pw_file, n=3)
    before = path.read_bytes()
    backups = sorted(safety.backups_of(path))
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it", encoding="utf-8")
    form = fill_form(
        write_form(tmp_path / "f.xlsx", Config(), form_id=new_form_id()),
        {"date_received": dt.date(2026, 10, 1), "mosaic_id": "9100001", "suitability": "Awaiting decision"},
    )
    for args in (
        ["validate", path],
        ["ingest", path, form],
        ["import", path, form],
        ["report", path, "--month", "2026-10", "--out", tmp_path / "r.xlsx"],
        ["export", path, "--out", tmp_path / "x.csv"],
        ["retention", path, "--dry-run"],
        ["decrypt", path],
        ["encrypt", path],
        ["form", tmp_path / "pre.xlsx", "--tracker", path, "--referral", "CS-2026-0001"],
    ):
        r = run(*args, "--password-file", wrong)
        assert r.exit_code == 1, (args, r.output)
        out = r.output.strip().splitlines()
        assert out == [f"Error: {path}: wrong password; nothing was changed"], (args, out)
    assert path.read_bytes() == before
    assert sorted(safety.backups_of(path)) == backups
    assert form.exists() and not (tmp_path / "r.xlsx").exists() and not (tmp_path / "x.csv").exists()


def test_every_command_round_trips_and_everything_stays_encrypted(tmp_path, pw_file):
    path = make_encrypted(tmp_path, pw_file, n=20, years=50)
    pw = ["--password-file", pw_file]
    forms = tmp_path / "inbox"
    forms.mkdir()
    for i in range(3):
        fill_form(
            write_form(forms / f"form{i}.xlsx", Config(), form_id=new_form_id()),
            {
                "date_received": dt.date(2026, 10, 1 + i),
                "mosaic_id": f"91000{i:02d}",
                "suitability": "Awaiting decision",
                "primary_concern": "School",
            },
        )
    r = run("ingest", path, forms, "--archive", tmp_path / "done", "--encrypt-archive", *pw)
    assert r.exit_code == 0, r.output
    all_encrypted(path)
    archived = sorted((tmp_path / "done").iterdir())
    assert len(archived) == 3 and all(is_encrypted(p) for p in archived)
    assert not list(forms.iterdir())
    src = tmp_path / "old.csv"
    src.write_text("Date received,Mosaic ID\n02/02/2026,8100001\n03/02/2026,8100002\n", encoding="utf-8")
    r = run("import", path, src, *pw)
    assert r.exit_code == 0, r.output
    all_encrypted(path)
    assert run("validate", path, *pw).exit_code in (0, 1)
    assert run("validate", path, "--fix", *pw).exit_code in (0, 1)
    all_encrypted(path)
    r = run("report", path, "--month", "2026-10", "--out", tmp_path / "r.xlsx", *pw)
    assert r.exit_code == 0, r.output
    r = run("export", path, "--out", tmp_path / "x.csv", *pw)
    assert r.exit_code == 0, r.output
    r = run("form", tmp_path / "pre.xlsx", "--tracker", path, "--referral", "CS-2026-0001", *pw)
    assert r.exit_code == 0, r.output
    encryption.use_password_file(pw_file)
    t = Tracker.open(path)
    assert len(t.records()) == 25
    assert {"8100001", "8100002", "9100000"} <= {r["mosaic_id"] for r in t.records()}
    r = run("retention", path, "--set-years", "1", *pw)
    assert r.exit_code == 0, r.output
    r = run("retention", path, *pw)
    assert r.exit_code == 0, r.output
    all_encrypted(path)
    r = run("decrypt", path, *pw)
    assert r.exit_code == 0 and not is_encrypted(path)
    assert zipfile.is_zipfile(path)
    assert all(is_encrypted(b) for b in safety.backups_of(path))
    r = run("encrypt", path, *pw)
    assert r.exit_code == 0, r.output
    all_encrypted(path)


def test_encrypt_converts_a_plain_tracker_and_its_backups(tmp_path, pw_file):
    path = init_tracker(tmp_path / "T.xlsx", config_from_dict({}))
    for i in range(3):
        with Tracker.open_for_update(path) as t:
            t.upsert(synthetic_records(2, seed=i, today=TODAY), today=TODAY)
            t.save()
    plain_backups = safety.backups_of(path)
    assert len(plain_backups) == 3 and not any(is_encrypted(b) for b in plain_backups)
    rows = Tracker.open(path).records()
    r = run("encrypt", path, "--password-file", pw_file)
    assert r.exit_code == 0, r.output
    all_encrypted(path)
    assert len(safety.backups_of(path)) == 4  # the plain tracker's own backup, encrypted too
    encryption.use_password_file(pw_file)
    assert Tracker.open(path).records() == rows
    assert "4 plain backups encrypted" in r.output


def test_encrypt_can_remove_the_plain_backups_asking_first(tmp_path, pw_file):
    path = init_tracker(tmp_path / "T.xlsx", config_from_dict({}))
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(2, today=TODAY), today=TODAY)
        t.save()
    refused = run("encrypt", path, "--remove-backups", "--password-file", pw_file)
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert not is_encrypted(path)
    r = run("encrypt", path, "--remove-backups", "--yes", "--password-file", pw_file)
    assert r.exit_code == 0, r.output
    assert is_encrypted(path) and safety.backups_of(path) == []


def _plain_zips(folders: list[Path]) -> list[Path]:
    found = []
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                p = Path(root) / name
                try:
                    with open(p, "rb") as fh:
                        if fh.read(4) == b"PK\x03\x04":
                            found.append(p)
                except OSError:
                    pass  # gone between listing and opening: a rename, looked at again next time
    return found


def test_no_plaintext_package_touches_the_disk_during_or_after_saves(tmp_path, pw_file, monkeypatch):
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    home = tmp_path / "home"
    home.mkdir()
    path = make_encrypted(home, pw_file)
    seen: list[Path] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.extend(_plain_zips([home, temp]))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        encryption.use_password_file(pw_file)
        for seed in range(3):
            with Tracker.open_for_update(path) as t:
                t.upsert(synthetic_records(2000, seed=seed, today=TODAY, with_ids=False), today=TODAY)
                t.save()
        # large enough to be read in slices, were it plain
        assert len(Tracker.open(path).dataframe()) == 6000
    finally:
        stop.set()
        watcher.join()
    assert seen == []
    assert _plain_zips([home, temp]) == []
    all_encrypted(path)


KILL_SCRIPT = """
import sys
from cstracker.xlsx import encryption
from cstracker.synthetic import synthetic_records
from cstracker.tracker.tracker import Tracker
encryption.use_password_file(sys.argv[2])
with Tracker.open_for_update(sys.argv[1]) as t:
    t.upsert(synthetic_records(6000, seed=9, with_ids=False))
    print("saving", flush=True)
    t.save()
print("saved", flush=True)
"""


def test_a_killed_save_leaves_the_encrypted_tracker_and_no_plaintext(tmp_path, pw_file):
    path = make_encrypted(tmp_path, pw_file, n=5)
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outcomes = set()
    for delay in (0.05, 0.3, 0.8):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, str(path), str(pw_file)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert proc.stdout.readline().strip() == "saving"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _plain_zips([tmp_path]) == []
        assert is_encrypted(path)
        encryption.forget_passwords()
        encryption.use_password_file(pw_file)
        n = len(Tracker.open(path).records())
        assert n in (5, 6005, 12005, 18005)
        outcomes.add(path.read_bytes() == before)
    assert True in outcomes  # at least one kill landed before the new file was swapped in
    # the next writer removes what the kill left behind
    with Tracker.open_for_update(path):
        pass
    all_encrypted(path)


@needs_libreoffice
@needs_uno
def test_libreoffice_opens_it_with_the_password_only(tmp_path, pw_file):
    path = make_encrypted(tmp_path, pw_file, n=4)
    encryption.use_password_file(pw_file)
    ids = [r["referral_id"] for r in Tracker.open(path).records()]
    out = subprocess.run(
        [SYSTEM_PYTHON, str(Path(__file__).parent.parent / "uno_open_encrypted.py"), str(path), PASSWORD],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    assert shown == {"opened": True, "ids": ids, "opened_without_password": False}
