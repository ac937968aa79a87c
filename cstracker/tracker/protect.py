"""``cstracker encrypt`` / ``decrypt``: convert an existing tracker, atomically and backed up.

Encrypting also deals with what lies beside the tracker in plain: its backups
(every earlier version, each a whole plain copy) are encrypted with the same
password, one atomic replace each, or removed when the user asks for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cstracker.core.errors import TrackerError
from cstracker.xlsx import encryption, safety


@dataclass
class Converted:
    path: Path
    changed: bool
    backup: Path | None = None
    backups_encrypted: list[Path] = field(default_factory=list)
    backups_removed: list[Path] = field(default_factory=list)


def _is_plain_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == encryption.ZIP_MAGIC
    except OSError:
        return False


def encrypt_file_in_place(path: Path, password: str) -> None:
    """Replace a plain file by its encrypted form, through the one atomic write."""
    sealed = encryption.encrypt_bytes(path.read_bytes(), password)
    # not a zip package any more (an encrypted container): nothing to check; no backup of a backup
    safety.atomic_write(path, lambda tmp: tmp.write_bytes(sealed), check_parts=None, keep_backups=0)


def _rewrite(path: Path, seal: bool, command: str) -> Path | None:
    """The tracker written encrypted (``seal``) or plain, with its audit entry, through the tracker's one save.

    The caller holds the lock.
    """
    from cstracker.tracker.audit import AuditEntry, stage
    from cstracker.tracker.layout import read_layout
    from cstracker.tracker.tracker import Tracker

    t = Tracker(path, read_layout(path), writable=True)  # a tracker, not any file; decrypts if need be
    t.seal = seal
    stage(t, AuditEntry(command))
    return t.save()


def encrypt_tracker(path: str | Path, remove_backups: bool = False, force: bool = False) -> Converted:
    """Encrypt the tracker at ``path`` (the password from ``encryption.password_for``), then its backups."""
    path = Path(path)
    if not path.exists():
        raise TrackerError(f"{path}: no such file")
    with safety.tracker_lock(path):
        safety.check_not_open_elsewhere(path, force)
        result = Converted(path, changed=False)
        if not encryption.is_encrypted_file(path):
            password = encryption.password_for(path, new=True)
            result.backup = _rewrite(path, seal=True, command="encrypt")
            result.changed = True
        else:
            password = encryption.password_for(path)
            encryption.source(path)  # the password must open it before backups are sealed with it
        for old in sorted(safety.backups_of(path)):
            if not _is_plain_zip(old):
                continue
            if remove_backups:
                old.unlink()
                result.backups_removed.append(old)
            else:
                encrypt_file_in_place(old, password)
                result.backups_encrypted.append(old)
    return result


def decrypt_tracker(path: str | Path, force: bool = False) -> Converted:
    """Store the tracker at ``path`` unencrypted again (the encrypted one is kept as a backup)."""
    path = Path(path)
    if not path.exists():
        raise TrackerError(f"{path}: no such file")
    with safety.tracker_lock(path):
        safety.check_not_open_elsewhere(path, force)
        if not encryption.is_encrypted_file(path):
            return Converted(path, changed=False)
        backup = _rewrite(path, seal=False, command="decrypt")  # a wrong password stops it, nothing changed
    return Converted(path, changed=True, backup=backup)
