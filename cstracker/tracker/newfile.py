"""Making a new tracker file (``cstracker init``): atomic, backed up, optionally encrypted."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from cstracker.core.config import Config
from cstracker.core.errors import TrackerError
from cstracker.tracker.create import create_tracker
from cstracker.xlsx import encryption, safety


def init_tracker(
    path: str | Path,
    config: Config,
    overwrite: bool = False,
    encrypt: bool = False,
    config_file: str | Path | None = None,
) -> Path:
    """Create a new tracker at ``path`` atomically; an existing file is refused unless ``overwrite``.

    ``encrypt``: password-protected (``encryption.py``), built in memory and encrypted before the write.
    The audit trail starts with the init itself (and ``config_file``, when one was given).
    """
    from cstracker.tracker.audit import AuditEntry, SourceFile, new_sheet_rows

    given = Path(path)
    path = safety.real_path(given)  # a link stays a link; the real file is replaced and backed up
    if given.suffix.lower() != ".xlsx":
        raise TrackerError(f"{given}: a tracker must be an .xlsx file")
    if path.exists() and not overwrite:
        raise TrackerError(
            f"{given}: a file is already there; use --overwrite to replace it (a backup is kept)"
        )
    if not path.parent.exists():
        raise TrackerError(f"{given}: the folder {path.parent} does not exist")
    now = dt.datetime.now().replace(microsecond=0)
    sources = [SourceFile(Path(config_file))] if config_file else []
    audit = new_sheet_rows([AuditEntry("init", sources=sources, when=now)])
    with safety.tracker_lock(path):
        if path.exists():
            safety.check_not_open_elsewhere(path, also=given)
        if encrypt:
            password = encryption.password_for(path, new=True)
            buf = io.BytesIO()
            create_tracker(buf, config, created=now, audit_rows=audit)
            plain = buf.getvalue()
            encryption.check_zip_bytes(plain, ("xl/workbook.xml",))
            sealed = encryption.encrypt_bytes(plain, password)
            safety.atomic_write(
                path,
                lambda tmp: tmp.write_bytes(sealed),
                keep_backups=max(1, config.settings.backups_kept),
                verify=False,
            )
            encryption.keep_plain(path, plain)
            return path
        safety.atomic_write(
            path,
            lambda tmp: create_tracker(tmp, config, created=now, audit_rows=audit),
            check_parts=("xl/workbook.xml",),
            keep_backups=max(1, config.settings.backups_kept),
        )
        encryption.drop_plain(path)
    return given
