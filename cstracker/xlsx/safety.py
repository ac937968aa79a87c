"""Nothing is ever lost: the lock, the owner-file check, backups and the atomic replace.

A save writes a temporary file in the tracker's own folder (so the final
``os.replace`` is a rename on one file system, atomic), checks that it
reopens, keeps the previous tracker in ``<stem> backups/`` and only then
swaps the new file in. A process killed at any moment leaves either the old
tracker or the new one, never a half-written file; the temporary file such a
kill leaves behind is removed the next time the lock is taken.

The lock file itself (``.<name>.cstracker-lock``) stays after a command ends,
on purpose: it is empty, and deleting it on release would let a waiting writer
hold a lock on the deleted file while a third process locks a new file of the
same name, so both would write at once (filelock never deletes it either).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import shutil
import stat
import uuid
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cstracker.core.errors import SaveError, TrackerBusyError, TrackerOpenElsewhereError

TEMP_PREFIX = ".~cstracker-"
BACKUP_STAMP = "%Y-%m-%d %H%M%S"


def real_path(path: str | Path) -> Path:
    """The file a name really points at: symlinks are followed, so that a write replaces the real
    file (not the link), and the lock, owner-file check and backups are those of the real file.
    A name with no link in it comes back unchanged (messages keep the user's spelling)."""
    given = Path(path)
    real = Path(os.path.realpath(given))
    return given if real == Path(os.path.abspath(given)) else real


def owner_files(path: Path) -> list[Path]:
    """Excel's ``~$name.xlsx`` and LibreOffice's ``.~lock.name.xlsx#`` beside the tracker, if any."""
    candidates = [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]
    # Excel shortens long names: ~$ replaces the first two characters.
    if len(path.stem) > 2:
        candidates.append(path.with_name("~$" + path.name[2:]))
    return [p for p in dict.fromkeys(candidates) if p.exists()]


def check_not_open_elsewhere(path: Path, force: bool = False, also: Path | None = None) -> None:
    """Refuse when Excel/LibreOffice has the tracker open; ``also``: the name it was given by (a link)."""
    found = owner_files(path) + (owner_files(also) if also is not None and also != path else [])
    if found and not force:
        raise TrackerOpenElsewhereError(
            f"{path}: the tracker is open in Excel or LibreOffice ({found[0].name} exists). "
            "Close it there and try again; if no one has it open, the file is stale: use --force."
        )


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.cstracker-lock")


@contextmanager
def tracker_lock(path: Path) -> Iterator[None]:
    """Hold the tracker's lock file for the block; a second writer gets TrackerBusyError."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path(path)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise TrackerBusyError(
            f"{path}: another cstracker command is writing this tracker right now; "
            "wait for it to finish and try again"
        ) from None
    try:
        remove_stale_temps(path)
        expire_retention_backups(path)
        yield
    finally:
        lock.release()


def temp_path(path: Path) -> Path:
    suffix = path.suffix or ".tmp"  # a kill leaves a file a person can still recognise
    return path.with_name(f"{TEMP_PREFIX}{path.stem}-{uuid.uuid4().hex[:8]}{suffix}")


def stale_temps(path: Path) -> list[Path]:
    """Temporary files of this tracker's saves (``temp_path``), e.g. left by a save that was killed."""
    mine = re.compile(re.escape(TEMP_PREFIX + path.stem) + r"-[0-9a-f]{8}\.xlsx")
    try:
        return [p for p in path.parent.iterdir() if mine.fullmatch(p.name)]
    except OSError:
        return []


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete them. Only call with the tracker's lock held: then no other save of it is running."""
    removed = []
    for p in stale_temps(path):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass  # e.g. a file system that refuses; the next save uses a new name anyway
    return removed


def backups_folder(path: Path) -> Path:
    return path.with_name(f"{path.stem} backups")


def backup(path: Path, keep: int, now: dt.datetime | None = None, label: str = "") -> Path | None:
    """Keep the current tracker as ``<stem> backups/<stem> <stamp>[ label].xlsx``; prune to the newest ``keep``.

    A ``label`` names a backup kept for its own reason (a retention run's): it is never pruned
    by count and is made even when ``keep`` is 0.
    """
    if (keep <= 0 and not label) or not path.exists():
        return None
    folder = backups_folder(path)
    folder.mkdir(exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime(BACKUP_STAMP)
    tail = f" {label}" if label else ""
    target = folder / f"{path.stem} {stamp}{tail}{path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem} {stamp}{tail} ({n}){path.suffix}"
    try:
        # A hard link costs nothing and keeps the old bytes once the new file replaces the name.
        os.link(path, target)
    except OSError:
        shutil.copy2(path, target)
    prune_backups(path, keep)
    return target


def retention_label(until: dt.date) -> str:
    return f"(retention, until {until:%Y-%m-%d})"


_RETENTION_UNTIL = re.compile(r" \(retention, until (\d{4}-\d{2}-\d{2})\)")


def backups_of(path: Path) -> list[Path]:
    """Every backup of this tracker in its backups folder (retention runs' included)."""
    folder = backups_folder(path)
    if not folder.is_dir():
        return []
    return [p for p in folder.glob(f"{path.stem} *{path.suffix}") if p.is_file()]


def expire_retention_backups(path: Path, today: dt.date | None = None) -> list[Path]:
    """Remove the backups retention runs made once their grace period (in their name) is over."""
    today = today or dt.date.today()
    removed = []
    for p in backups_of(path):
        m = _RETENTION_UNTIL.search(p.name)
        if m and dt.date.fromisoformat(m[1]) < today:
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass  # tried again by the next command
    return removed


def prune_backups(path: Path, keep: int) -> None:
    folder = backups_folder(path)
    mine = sorted(
        (
            p
            for p in folder.glob(f"{path.stem} *{path.suffix}")
            if p.is_file() and not _RETENTION_UNTIL.search(p.name)
        ),
        key=lambda p: (p.stat().st_mtime_ns, p.name),
    )
    for old in mine[: max(0, len(mine) - keep)]:
        old.unlink()


def check_package(path: Path | bytes, xml_parts: Sequence[str] = ()) -> None:
    """Reopen a written package (a file, or in memory before it is encrypted): every member's CRC, and
    the named XML parts well formed.

    expat directly, not defusedxml: this parses only what cstracker has just written, block by block
    and keeping nothing, to prove it well formed before it replaces the tracker; no value is read
    from it (expat caps entity amplification besides).
    """
    where = "" if isinstance(path, bytes) else f"{path}: "
    try:
        with zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else path) as zf:
            for info in zf.infolist():
                parser = xml.parsers.expat.ParserCreate() if info.filename in xml_parts else None
                with zf.open(info) as fh:
                    while block := fh.read(1 << 20):
                        if parser is not None:
                            parser.Parse(block, False)
                if parser is not None:
                    parser.Parse(b"", True)
    except (zipfile.BadZipFile, xml.parsers.expat.ExpatError, OSError, EOFError) as e:
        raise SaveError(f"{where}the new file did not check out ({e}); the tracker was not changed") from None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    write: Callable[[Path], None],
    check_parts: Sequence[str] | None = (),
    keep_backups: int = 10,
    backup_label: str = "",
    verify: bool = True,
) -> Path | None:
    """The one way cstracker writes a file: ``write(temp)`` in the same folder, check it, back up the
    old file (``keep_backups``; 0 for outputs), and replace it. Returns the backup path.

    ``check_parts=None``: the file is not a zip package (a CSV), so only written and synced.
    ``verify=False``: the caller checked the package before encrypting it (the file written is the
    encrypted container, not a zip). A symlink is followed: the real file is replaced and the link stays a link.
    """
    path = real_path(path)
    tmp = temp_path(path)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if verify and check_parts is not None:
            check_package(tmp, check_parts)
        # the new file keeps the old one's permissions (a file shared with the team stays shared)
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        kept = backup(path, keep_backups, label=backup_label)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return kept
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
