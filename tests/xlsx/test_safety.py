"""Nothing is ever lost: lock, owner files, backups, atomic save, a kill during save."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from cstracker.core.config import config_from_dict, load_config
from cstracker.core.errors import SaveError, TrackerBusyError, TrackerError, TrackerOpenElsewhereError
from cstracker.synthetic import synthetic_records
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.safety import backups_folder, lock_path
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]


def add(path, n=1, seed=1):
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(n, seed=seed, today=TODAY, with_ids=False), today=TODAY)
        t.save()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_second_writer_is_refused_while_the_lock_is_held(blank_tracker):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; l = FileLock(sys.argv[1]); l.acquire();"
            " print('held', flush=True); time.sleep(30)",
            str(lock_path(blank_tracker)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(TrackerBusyError, match="another cstracker command is writing"),
            Tracker.open_for_update(blank_tracker),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with Tracker.open_for_update(blank_tracker):
        pass


@pytest.mark.parametrize(
    "owner", ["~$Referral Tracker.xlsx", ".~lock.Referral Tracker.xlsx#", "~$ferral Tracker.xlsx"]
)
def test_owner_file_means_open_elsewhere(blank_tracker, owner):
    (blank_tracker.parent / owner).write_text("someone")
    with pytest.raises(TrackerOpenElsewhereError) as err, Tracker.open_for_update(blank_tracker):
        pass
    message = str(err.value)
    assert "Excel or LibreOffice" in message and "--force" in message and owner in message
    with Tracker.open_for_update(blank_tracker, force=True) as t:
        t.upsert([{"date_received": TODAY, "mosaic_id": "9000001"}], today=TODAY)
        t.save()
    assert len(Tracker.open(blank_tracker).records()) == 1


def test_backups_keep_the_last_n(tmp_path):
    path = init_tracker(tmp_path / "T.xlsx", config_from_dict({"backups_kept": 2}))
    versions = [digest(path)]
    for i in range(3):
        add(path, seed=i)
        versions.append(digest(path))
        time.sleep(0.01)
    kept = sorted(backups_folder(path).glob("T *.xlsx"))
    assert len(kept) == 2
    assert sorted(digest(p) for p in kept) == sorted(versions[1:3])


def test_init_refuses_an_existing_file_and_overwrite_keeps_a_backup(tmp_path):
    path = init_tracker(tmp_path / "T.xlsx", load_config(None))
    add(path)
    old = digest(path)
    with pytest.raises(TrackerError, match="--overwrite"):
        init_tracker(path, load_config(None))
    init_tracker(path, load_config(None), overwrite=True)
    assert Tracker.open(path).records() == []
    assert old in [digest(p) for p in backups_folder(path).iterdir()]


def test_a_failed_save_leaves_the_tracker_untouched(blank_tracker, monkeypatch):
    old = digest(blank_tracker)

    def broken(*args, **kwargs):
        raise SaveError("disk full (simulated)")

    monkeypatch.setattr("cstracker.tracker.saving.rewrite_package", broken)
    with Tracker.open_for_update(blank_tracker) as t:
        t.upsert([{"date_received": TODAY, "mosaic_id": "9000001"}], today=TODAY)
        with pytest.raises(SaveError):
            t.save()
    assert digest(blank_tracker) == old
    assert [p.name for p in blank_tracker.parent.iterdir() if p.name.startswith(".~cstracker")] == []


SAVER = textwrap.dedent(
    """
    import sys, datetime as dt
    from cstracker.tracker.tracker import Tracker
    from cstracker.synthetic import synthetic_records
    with Tracker.open_for_update(sys.argv[1]) as t:
        t.upsert(synthetic_records(50, seed=99, with_ids=False, today=dt.date(2026, 11, 27)))
        print("saving", flush=True)
        t.save()
    print("saved", flush=True)
    """
)


def test_killed_at_any_moment_leaves_old_or_new(tmp_path):
    path = init_tracker(tmp_path / "T.xlsx", load_config(None))
    add(path, n=3000, seed=5)
    rng = random.Random(2026)
    outcomes = []
    start_rows = len(Tracker.open(path).rows())
    for _ in range(6):
        old = digest(path)
        old_rows = len(Tracker.open(path).rows())
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert proc.stdout.readline().strip() == "saving"
        time.sleep(rng.uniform(0, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
        rows = len(Tracker.open(path).rows())
        if digest(path) == old:
            assert rows == old_rows
            outcomes.append("old")
        else:
            assert rows == old_rows + 50
            outcomes.append("new")
        # a stale lock file from the killed writer must not block the next one, and the
        # killed save's temporary file is gone once the next writer holds the lock
        with Tracker.open_for_update(path):
            assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".~cstracker")] == []
    # every run left the whole old tracker or the whole new one, and the runs add up: the tracker holds
    # the first rows plus 50 for each save that completed before its kill, nothing half-written
    assert len(Tracker.open(path).rows()) == start_rows + 50 * outcomes.count("new")


def test_stale_temp_files_are_removed_when_the_lock_is_taken(blank_tracker):
    folder = blank_tracker.parent
    stale = folder / ".~cstracker-Referral Tracker-0a1b2c3d.xlsx"
    stale.write_bytes(b"PK half a save")
    # another tracker's temporary files in the same folder are not ours to touch
    others = [
        folder / ".~cstracker-Referral Tracker 2-0a1b2c3d.xlsx",
        folder / ".~cstracker-Referral Tracker-0a1b2c3d-9f8e7d6c.xlsx",
        folder / ".~cstracker-Referral Tracker-notmine.xlsx",
    ]
    for p in others:
        p.write_bytes(b"PK")
    Tracker.open(blank_tracker).records()  # reading takes no lock and removes nothing
    assert stale.exists()
    with Tracker.open_for_update(blank_tracker) as t:
        assert not stale.exists()
        t.upsert([{"date_received": TODAY, "mosaic_id": "9000001"}], today=TODAY)
        t.save()
    assert all(p.exists() for p in others)
    # the lock file stays, empty, by design (see safety.py); it does not stop the next writer
    assert lock_path(blank_tracker).exists() and lock_path(blank_tracker).stat().st_size == 0
    with Tracker.open_for_update(blank_tracker):
        pass


def test_a_row_that_is_not_well_formed_stops_the_save():
    from cstracker.xlsx.patch import RowChecker, check_row

    row = b'<row r="2" x14ac:dyDescent="0.25"><c r="A2"><v>1</v></c></row>'
    assert check_row(row) == row  # a well-formed row passes through unchanged
    with pytest.raises(ValueError, match="not well-formed"):
        check_row(b'<row r="2"><c r="A2"></row>')
    checker = RowChecker()
    checker(b'<row r="2"><c r="A2"/></row>')
    checker(b'<row r="3">')  # not closed: found when the sheet's rows end
    with pytest.raises(ValueError, match="not well-formed"):
        checker.close()


def _package(parts: dict[str, bytes]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_one_check_of_a_written_package_on_a_file_or_in_memory(tmp_path):
    """safety.check_package is the one check (encryption.check_zip_bytes hands it the bytes it is about to
    encrypt): every member's CRC, and the named XML parts well formed."""
    from cstracker.xlsx.encryption import check_zip_bytes
    from cstracker.xlsx.safety import check_package

    good = _package({"xl/workbook.xml": b"<workbook><sheets/></workbook>", "xl/other.bin": b"\0" * 10})
    bad = _package({"xl/workbook.xml": b"<workbook><sheets></workbook>"})
    path = tmp_path / "bad.xlsx"
    path.write_bytes(bad)
    check_package(good, ["xl/workbook.xml"])
    check_zip_bytes(good, ("xl/workbook.xml",))
    check_package(bad, [])  # not named: only its CRC is checked
    with pytest.raises(SaveError, match=r"^the new file did not check out \(mismatched tag"):
        check_zip_bytes(bad, ("xl/workbook.xml",))
    with pytest.raises(SaveError, match=r"bad\.xlsx: the new file did not check out \(mismatched tag"):
        check_package(path, ["xl/workbook.xml"])
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/other.bin", b"0123456789")
    cut = bytearray(buf.getvalue())
    cut[cut.index(b"0123456789")] ^= 0xFF  # the stored member's first byte: its CRC fails
    with pytest.raises(SaveError, match="Bad CRC-32"):
        check_package(bytes(cut))
