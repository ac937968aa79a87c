"""Every file cstracker writes, other than the tracker's own save: where it may go and what it may replace.

An output (a report, a rejects file, a form, a CSV) is written by ``write_output``
through the one atomic write of ``safety.py``. Before anything is changed,
``check_output`` decides whether the path may be written:

- its folder must exist and take a new file (probed by creating one);
- an existing file is replaced only when cstracker wrote it as the same kind of output
  (a report of the same tracker, period and internal/published kind, or a rejects file),
  recognised by what cstracker wrote into it, or with ``--overwrite``;
- a tracker is never replaced by an output, even with ``--overwrite`` (only
  ``init --overwrite`` replaces a tracker, and keeps a backup), and neither is a file that
  might be one: an encrypted workbook, a damaged one, or one cstracker cannot read;
- a symlink is followed to the real file.

How a file is recognised: a tracker and a form by their hidden sheets (``_cstracker``,
``_form``), which survive re-saving in Excel or LibreOffice; a report or an .xlsx rejects file
by custom document properties (``stamp``); a CSV rejects file by its last two headings.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cstracker.core.errors import OutputError
from cstracker.xlsx import safety
from cstracker.xlsx.parts import PartTooBig, read_part

PROP_KIND = "cstracker output"
PROP_KEY = "cstracker output key"

#: kinds an output replaces without --overwrite when the existing file is the same kind with the same key.
#: A form is not among them: an existing form may already hold a practitioner's answers.
REPLACED_WITHOUT_ASKING = frozenset({"report", "rejects", "export"})
#: how each kind is named in messages
NOUNS = {"report": "report", "rejects": "rejects file", "form": "form", "export": "extract"}

#: the hidden sheets that make a workbook a tracker or a form
TRACKER_SHEET = "_cstracker"
FORM_SHEET = "_form"
#: the last two headings of a rejects file (importer.REASONS_HEADER, REJECTED_FROM_HEADER)
REJECTS_HEADINGS = ("Import problems", "Rejected from")
#: how an extract's first line starts (export.NOTICE_TITLE), and the key its Parquet metadata holds
EXPORT_FIRST_LINE = "# RECORD-LEVEL EXTRACT"
EXPORT_PARQUET_KEY = b"cstracker.notice"

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"')
_PROPERTY = re.compile(rb'<(?:\w+:)?property\b[^>]*?\bname="([^"]*)"[^>]*>(.*?)</(?:\w+:)?property>', re.S)
_VALUE = re.compile(rb">([^<]*)<")


@dataclass(frozen=True)
class Found:
    """What is at a path now: ``none``, ``folder``, ``special``, ``tracker``, ``possible-tracker``,
    ``form``, ``report``, ``rejects``, ``workbook`` (someone else's) or ``file`` (anything else)."""

    kind: str
    key: str = ""
    why: str = ""

    @property
    def possible_tracker(self) -> bool:
        return self.kind in ("tracker", "possible-tracker")


def identify(path: str | Path) -> Found:
    """What the file at ``path`` is, from its content (never from its name)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Found("none")
    except OSError as e:
        return Found("possible-tracker", why=f"it cannot be read: {e.strerror or e}")
    if stat.S_ISDIR(st.st_mode):
        return Found("folder")
    if not stat.S_ISREG(st.st_mode):
        return Found("special")
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 << 10)
    except OSError as e:
        return Found("possible-tracker", why=f"it cannot be read: {e.strerror or e}")
    if head.startswith(_OLE):
        return Found("possible-tracker", why="it is encrypted or an old-style Excel file")
    if head.startswith(b"PK"):
        return _identify_package(path)
    if not head:
        return Found("file")
    if head.startswith(b"PAR1"):  # Parquet: an extract of ours carries its notice in the footer
        with open(path, "rb") as fh:
            fh.seek(max(0, st.st_size - (1 << 20)))
            return Found("export" if EXPORT_PARQUET_KEY in fh.read() else "file")
    if b"\x00" in head:
        return Found("possible-tracker", why="cstracker cannot read it")
    first = head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    if first.rstrip().endswith((",".join(REJECTS_HEADINGS), ";".join(REJECTS_HEADINGS))):
        return Found("rejects")
    if first.lstrip('"').startswith(EXPORT_FIRST_LINE):
        return Found("export")
    return Found("file")


def _identify_package(path: Path) -> Found:
    damaged = Found("possible-tracker", why="it is a damaged or unreadable workbook")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            book = infos.get("xl/workbook.xml")
            if book is None:
                return Found("file")
            # read_part caps the size (parts.SMALL_PART_BYTES): a larger workbook.xml is not ours to guess
            # about (PartTooBig is a ValueError: damaged, below)
            sheets = {m.decode("utf-8", "replace") for m in _SHEET.findall(read_part(zf, book))}
            if TRACKER_SHEET in sheets:
                return Found("tracker")
            if FORM_SHEET in sheets:
                return Found("form")
            custom = infos.get("docProps/custom.xml")
            props = {}
            try:
                custom_xml = read_part(zf, custom) if custom is not None else b""
            except PartTooBig:
                custom_xml = b""  # properties too big to be ours: identified by the rest
            for name, body in _PROPERTY.findall(custom_xml):
                value = _VALUE.search(body)
                props[name.decode("utf-8", "replace")] = value[1].decode("utf-8", "replace") if value else ""
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        zlib.error,
        ValueError,
        RuntimeError,
    ):
        return damaged
    kind = props.get(PROP_KIND, "")
    if kind in NOUNS:
        return Found(kind, props.get(PROP_KEY, ""))
    return Found("workbook")


def stamp(workbook: Any, kind: str, key: str = "") -> None:
    """Mark an xlsxwriter workbook as cstracker's ``kind`` of output (what ``identify`` reads back)."""
    workbook.set_custom_property(PROP_KIND, kind)
    if key:
        workbook.set_custom_property(PROP_KEY, key)


def output_key(*parts: object) -> str:
    """A short fixed-length identity for an output (e.g. tracker file, period, kind) to stamp and compare."""
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8", "surrogateescape")).hexdigest()[
        :32
    ]


def check_output(path: str | Path, kind: str, key: str = "", overwrite: bool = False) -> Path:
    """May an output of ``kind`` be written at ``path``? Raises OutputError (one line) if not.

    Call before anything is changed. Returns the real path to write (symlinks followed).
    """
    shown = Path(path)
    real = safety.real_path(shown)
    noun = NOUNS.get(kind, kind)
    folder = real.parent
    if not folder.exists():
        raise OutputError(f"{shown}: the folder {folder} does not exist (no such file or folder)")
    if not folder.is_dir():
        raise OutputError(f"{shown}: {folder} is not a folder")
    found = identify(real)
    if found.kind == "folder":
        raise OutputError(f"{shown}: is a folder; give a file name for the {noun}")
    if found.kind == "special":
        raise OutputError(f"{shown}: is not a regular file; give another file name for the {noun}")
    if found.kind == "tracker":
        raise OutputError(
            f"{shown}: is a Referral Tracker; cstracker never replaces a tracker with a {noun}: "
            "choose another file name"
        )
    if found.possible_tracker:
        raise OutputError(
            f"{shown}: might be a Referral Tracker ({found.why}); cstracker never replaces it with a {noun}: "
            "choose another file name"
        )
    if found.kind != "none":
        same = found.kind == kind and found.key == key and kind in REPLACED_WITHOUT_ASKING
        if not (same or overwrite):
            if found.kind == kind == "report":
                raise OutputError(
                    f"{shown}: already exists (a report of another tracker, period or kind); "
                    "choose another name or add --overwrite"
                )
            raise OutputError(f"{shown}: already exists; choose another name or add --overwrite")
        if safety.owner_files(real) or safety.owner_files(shown):
            raise OutputError(f"{shown}: is open in Excel or LibreOffice; close it there and try again")
    try:
        _probe(folder)
    except OSError as e:
        raise OutputError(f"{shown}: cannot write in the folder {folder} ({e.strerror or e})") from None
    return real


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``: the only sure test that an output can be written there."""
    probe = folder / f"{safety.TEMP_PREFIX}probe-{uuid.uuid4().hex[:8]}"
    fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    os.unlink(probe)


def write_output(path: str | Path, write: Callable[[Path], None], zip_package: bool = True) -> Path:
    """Write an output through the one atomic write (no backup: outputs can be made again).

    ``write(temp)`` writes the whole file; an OSError becomes one line and the old file stays.
    """
    real = safety.real_path(Path(path))
    try:
        safety.atomic_write(real, write, check_parts=() if zip_package else None, keep_backups=0)
    except OSError as e:
        raise OutputError(
            f"{path}: cannot be written ({e.strerror or e}); nothing was changed there"
        ) from None
    return Path(path)
