"""Every file cstracker writes: one atomic write, what it may replace, paths checked first, symlinks followed.

Issue 8, item 4. A file is replaced only when cstracker wrote it as the same kind of
output (recognised by what it wrote into it), or with --overwrite; a tracker, an
encrypted file or one that cannot be read is never replaced by an output.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import load_config
from cstracker.core.errors import TrackerBusyError, TrackerOpenElsewhereError
from cstracker.synthetic import synthetic_records
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.outputs import identify
from cstracker.xlsx.safety import backups_folder, lock_path
from tests.conftest import TODAY

GOLDEN = Path(__file__).parent.parent / "golden" / "import"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.fixture
def tracker(tmp_path) -> Path:
    path = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    with Tracker.open_for_update(path) as t:
        t.upsert(synthetic_records(30, seed=3, today=TODAY, with_ids=False), today=TODAY)
        t.save()
    return path


def encrypted(folder: Path) -> Path:
    """A password-protected workbook (an OLE compound file), as Excel's File > Protect writes it."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = init_tracker(folder / "plain.xlsx", load_config(None))
    out = folder / "locked.xlsx"
    with plain.open("rb") as src, out.open("wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    return out


# ---------------------------------------------------------------------------
# a tracker is never replaced by an output
# ---------------------------------------------------------------------------


def test_form_overwrite_onto_a_tracker_is_refused(tracker):
    before, kept = digest(tracker), sorted(backups_folder(tracker).iterdir())
    result = run("form", tracker, "--overwrite")
    assert result.exit_code == 1
    line = one_line(result.output)
    assert str(tracker) in line and "Referral Tracker" in line and "never replaces" in line
    assert digest(tracker) == before
    assert sorted(backups_folder(tracker).iterdir()) == kept


def test_form_overwrite_onto_a_symlink_to_a_tracker_is_refused(tracker, tmp_path):
    link = tmp_path / "shortcut.xlsx"
    link.symlink_to(tracker)
    before = digest(tracker)
    result = run("form", link, "--overwrite")
    assert result.exit_code == 1
    assert "Referral Tracker" in one_line(result.output)
    assert link.is_symlink() and digest(tracker) == before


def test_report_out_onto_a_tracker_is_refused_even_with_overwrite(tracker, tmp_path):
    other = init_tracker(tmp_path / "Other tracker.xlsx", load_config(None))
    before = digest(other)
    for extra in ([], ["--overwrite"]):
        result = run("report", tracker, "--month", "2026-10", "--out", other, *extra)
        assert result.exit_code == 1
        assert "never replaces" in one_line(result.output)
        assert digest(other) == before


def test_rejects_onto_a_tracker_is_refused_before_anything_changes(tracker, tmp_path):
    other = init_tracker(tmp_path / "Other tracker.xlsx", load_config(None))
    before, mine = digest(other), digest(tracker)
    result = run("import", tracker, GOLDEN / "legacy.csv", "--rejects", other, "--overwrite")
    assert result.exit_code == 1
    assert "never replaces" in one_line(result.output)
    assert digest(other) == before and digest(tracker) == mine


@pytest.mark.parametrize("make", ["encrypted", "damaged", "unreadable-zip"])
def test_an_encrypted_or_unreadable_file_is_taken_as_a_possible_tracker(tracker, tmp_path, make):
    if make == "encrypted":
        target = encrypted(tmp_path)
    elif make == "damaged":
        target = tmp_path / "damaged.xlsx"
        target.write_bytes(tracker.read_bytes()[: len(tracker.read_bytes()) // 2])
    else:
        target = tmp_path / "odd.xlsx"
        target.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    before = digest(target)
    assert identify(target).possible_tracker
    for args in (
        ["form", target, "--overwrite"],
        ["report", tracker, "--month", "2026-10", "--out", target, "--overwrite"],
    ):
        result = run(*args)
        assert result.exit_code == 1, args
        assert "might be a Referral Tracker" in one_line(result.output)
        assert digest(target) == before


def test_a_form_is_recognised_and_a_tracker_resaved_by_hand_still_is(tracker, tmp_path):
    form = tmp_path / "f.xlsx"
    assert run("form", form).exit_code == 0
    assert identify(form).kind == "form"
    assert identify(tracker).kind == "tracker"
    # openpyxl stands in for a spreadsheet program re-saving the file
    copy = tmp_path / "resaved.xlsx"
    openpyxl.load_workbook(tracker).save(copy)
    assert identify(copy).kind == "tracker"


# ---------------------------------------------------------------------------
# what an output may replace
# ---------------------------------------------------------------------------


def test_a_report_replaces_the_same_report_and_nothing_else_without_overwrite(tracker, tmp_path):
    out = tmp_path / "r.xlsx"
    assert run("report", tracker, "--month", "2026-10", "--out", out).exit_code == 0
    assert identify(out).kind == "report"
    # the same tracker, period and kind: replaced without asking
    again = run("report", tracker, "--month", "2026-10", "--out", out)
    assert again.exit_code == 0, again.output
    first = digest(out)
    # another period, or the published kind, at the same name: asks for --overwrite
    for extra in (["--month", "2026-09"], ["--month", "2026-10", "--publish"]):
        result = run("report", tracker, *extra, "--out", out)
        assert result.exit_code == 1, extra
        assert "--overwrite" in one_line(result.output)
        assert digest(out) == first
    assert run("report", tracker, "--month", "2026-09", "--out", out, "--overwrite").exit_code == 0
    assert digest(out) != first


def test_a_report_of_another_tracker_at_the_name_needs_overwrite(tracker, tmp_path):
    other = init_tracker(tmp_path / "T2.xlsx", load_config(None))
    out = tmp_path / "r.xlsx"
    assert run("report", other, "--month", "2026-10", "--out", out).exit_code == 0
    result = run("report", tracker, "--month", "2026-10", "--out", out)
    assert result.exit_code == 1 and "--overwrite" in one_line(result.output)


def test_an_unknown_workbook_or_text_file_needs_overwrite(tracker, tmp_path):
    mine = tmp_path / "my sums.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "my own work"
    wb.save(mine)
    before = digest(mine)
    result = run("report", tracker, "--month", "2026-10", "--out", mine)
    assert result.exit_code == 1
    assert one_line(result.output) == f"Error: {mine}: already exists; choose another name or add --overwrite"
    assert digest(mine) == before
    assert run("report", tracker, "--month", "2026-10", "--out", mine, "--overwrite").exit_code == 0
    assert identify(mine).kind == "report"


def test_rejects_replace_an_earlier_rejects_file_but_not_another_workbook(tracker, tmp_path):
    rejects = tmp_path / "rejected.xlsx"
    first = run("import", tracker, GOLDEN / "legacy.csv", "--rejects", rejects)
    assert first.exit_code == 1 and rejects.exists()
    assert identify(rejects).kind == "rejects"
    again = run("import", tracker, GOLDEN / "legacy.csv", "--rejects", rejects)
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert f"written to {rejects}" in again.output
    mine = tmp_path / "mine.xlsx"
    wb = openpyxl.Workbook()
    wb.save(mine)
    before, tracker_before = digest(mine), digest(tracker)
    refused = run("import", tracker, GOLDEN / "legacy.csv", "--rejects", mine)
    assert refused.exit_code == 1
    assert (
        one_line(refused.output) == f"Error: {mine}: already exists; choose another name or add --overwrite"
    )
    assert digest(mine) == before and digest(tracker) == tracker_before
    assert run("import", tracker, GOLDEN / "legacy.csv", "--rejects", mine, "--overwrite").exit_code == 1
    assert identify(mine).kind == "rejects"


def test_a_form_needs_overwrite_to_replace_a_form(tmp_path):
    """A form may already hold a practitioner's answers: replacing it always takes --overwrite."""
    form = tmp_path / "f.xlsx"
    assert run("form", form).exit_code == 0
    before = digest(form)
    assert run("form", form).exit_code == 1
    assert digest(form) == before
    assert run("form", form, "--overwrite").exit_code == 0
    assert digest(form) != before


# ---------------------------------------------------------------------------
# output paths are checked before anything changes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["missing folder", "folder is a file", "a folder"])
def test_a_bad_rejects_path_is_refused_while_the_tracker_is_untouched(tracker, tmp_path, where):
    if where == "missing folder":
        rejects = tmp_path / "no such folder" / "rejected.xlsx"
    elif where == "folder is a file":
        (tmp_path / "notes.txt").write_text("x")
        rejects = tmp_path / "notes.txt" / "rejected.xlsx"
    else:
        rejects = tmp_path / "adir.xlsx"
        rejects.mkdir()
    before, kept = digest(tracker), sorted(backups_folder(tracker).iterdir())
    listing = sorted(p.name for p in tmp_path.iterdir())
    result = run("import", tracker, GOLDEN / "legacy.csv", "--rejects", rejects)
    assert "Traceback" not in result.output
    if where == "a folder":  # the option's own check: a usage error
        assert result.exit_code == 2 and "is a directory" in result.output
    else:
        assert result.exit_code == 1
        line = one_line(result.output)
        assert str(rejects) in line and "folder" in line
    assert digest(tracker) == before
    assert sorted(backups_folder(tracker).iterdir()) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_a_rejects_folder_that_cannot_be_written_is_refused_first(tracker, tmp_path, monkeypatch):
    """The folder is probed by creating a file in it, so a read-only share is found before the import."""
    import cstracker.xlsx.outputs as outputs

    folder = tmp_path / "read only"
    folder.mkdir()

    def refuse(path, *a, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs, "_probe", refuse)
    before = digest(tracker)
    result = run("import", tracker, GOLDEN / "legacy.csv", "--rejects", folder / "r.xlsx")
    assert result.exit_code == 1
    assert "cannot write" in one_line(result.output)
    assert digest(tracker) == before


def test_report_and_form_into_a_missing_folder_are_one_line(tracker, tmp_path):
    for args in (
        ["report", tracker, "--month", "2026-10", "--out", tmp_path / "nope" / "r.xlsx"],
        ["form", tmp_path / "nope" / "f.xlsx"],
    ):
        result = run(*args)
        assert result.exit_code == 1, args
        assert "does not exist" in one_line(result.output)


def test_rejects_may_not_be_the_source_even_through_a_link(tracker, tmp_path):
    source = tmp_path / "old.csv"
    source.write_bytes((GOLDEN / "legacy.csv").read_bytes())
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    before = digest(source)
    result = run("import", tracker, source, "--rejects", link, "--overwrite")
    assert result.exit_code == 2
    assert "the file being imported" in one_line(result.output)
    assert digest(source) == before


# ---------------------------------------------------------------------------
# symlinks are followed to the real file
# ---------------------------------------------------------------------------


def test_a_symlinked_tracker_is_written_through_the_link(tracker, tmp_path):
    link_dir = tmp_path / "desk"
    link_dir.mkdir()
    link = link_dir / "Tracker link.xlsx"
    link.symlink_to(tracker)
    before = len(Tracker.open(tracker).records())
    result = run("import", link, GOLDEN / "legacy.csv")
    assert result.exit_code == 1, result.output  # some legacy rows are rejected on purpose
    assert link.is_symlink() and link.resolve() == tracker.resolve()
    assert len(Tracker.open(tracker).records()) > before
    # the backup and the lock are beside the real file, not the link
    assert backups_folder(tracker).exists() and not backups_folder(link).exists()
    assert lock_path(tracker).exists() and not lock_path(link).exists()


def test_two_writers_using_two_names_exclude_each_other(tracker, tmp_path):
    link = tmp_path / "other name.xlsx"
    link.symlink_to(tracker)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; l = FileLock(sys.argv[1]); l.acquire();"
            " print('held', flush=True); time.sleep(30)",
            str(lock_path(tracker)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(TrackerBusyError), Tracker.open_for_update(link):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_an_owner_file_beside_the_real_tracker_is_seen_through_a_link(tracker, tmp_path):
    link_dir = tmp_path / "desk"
    link_dir.mkdir()
    link = link_dir / "link.xlsx"
    link.symlink_to(tracker)
    owner = tracker.with_name(f".~lock.{tracker.name}#")
    owner.write_text("someone")
    with pytest.raises(TrackerOpenElsewhereError), Tracker.open_for_update(link):
        pass
    owner.unlink()
    # and one beside the link's name (the program opened the link)
    (link_dir / f".~lock.{link.name}#").write_text("someone")
    with pytest.raises(TrackerOpenElsewhereError), Tracker.open_for_update(link):
        pass


def test_init_overwrite_through_a_link_keeps_the_link_and_backs_up_the_real_file(tracker, tmp_path):
    link = tmp_path / "link.xlsx"
    link.symlink_to(tracker)
    result = run("init", link, "--overwrite")
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert Tracker.open(tracker).records() == []
    kept = sorted(backups_folder(tracker).iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert len(Tracker.open(kept[-1]).records()) == 30


def test_a_report_through_a_link_replaces_the_real_file(tracker, tmp_path):
    real = tmp_path / "reports" / "r.xlsx"
    real.parent.mkdir()
    assert run("report", tracker, "--month", "2026-10", "--out", real).exit_code == 0
    link = tmp_path / "r link.xlsx"
    link.symlink_to(real)
    assert run("report", tracker, "--month", "2026-10", "--out", link).exit_code == 0
    assert link.is_symlink() and identify(real).kind == "report"


# ---------------------------------------------------------------------------
# the one atomic write
# ---------------------------------------------------------------------------


def test_outputs_leave_no_temporary_files_and_keep_the_file_mode(tracker, tmp_path):
    out = tmp_path / "r.xlsx"
    assert run("report", tracker, "--month", "2026-10", "--out", out).exit_code == 0
    out.chmod(0o640)
    assert run("report", tracker, "--month", "2026-10", "--out", out).exit_code == 0
    assert (out.stat().st_mode & 0o777) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~cstracker-")]
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None


def test_a_failed_write_leaves_the_old_output(tracker, tmp_path, monkeypatch):
    from cstracker.report import workbook as report_workbook

    out = tmp_path / "r.xlsx"
    assert run("report", tracker, "--month", "2026-10", "--out", out).exit_code == 0
    before = digest(out)

    def broken(report, path, publish, **kw):
        Path(path).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_workbook, "_write", broken)
    result = run("report", tracker, "--month", "2026-10", "--out", out)
    assert result.exit_code == 1
    assert "No space left on device" in one_line(result.output)
    assert digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~cstracker-")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_an_extract_replaces_an_earlier_extract_never_a_tracker(tracker, tmp_path, suffix):
    out = tmp_path / f"extract{suffix}"
    assert run("export", tracker, "--out", out).exit_code == 0
    assert identify(out).kind == "export"
    again = run("export", tracker, "--out", out)
    assert again.exit_code == 0, again.output
    mine = tmp_path / f"mine{suffix}"
    mine.write_bytes(b"my own notes\n")
    refused = run("export", tracker, "--out", mine)
    assert refused.exit_code == 1 and "--overwrite" in one_line(refused.output)
    assert mine.read_bytes() == b"my own notes\n"
    other = init_tracker(tmp_path / f"T{suffix}.xlsx", load_config(None))
    link = tmp_path / f"link{suffix}"
    link.symlink_to(other)
    before = digest(other)
    result = run("export", tracker, "--out", link, "--overwrite")
    assert result.exit_code == 1 and "never replaces" in one_line(result.output)
    assert digest(other) == before and link.is_symlink()
