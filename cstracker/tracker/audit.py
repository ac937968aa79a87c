"""The audit trail: who changed the tracker, when, with which command and source files.

Every command that changes the tracker adds, in the same atomic save as the
change, one *command* row (who: the operating-system user; when; the command;
how many rows were added, updated, refused or removed; which Referral IDs) and
one *source* row per source file (its base name with every run of five or more
digits masked, since file names often carry a Mosaic ID, and its SHA-256) to
the hidden ``Audit`` sheet. The sheet is append-only: cstracker reads what is
there and writes it back with the new rows below (the tool's hidden-sheet
writer). It never holds a Mosaic ID or free text. A coordinator's own edits in
Excel are not recorded, and the sheet's first line says so.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.tracker.create import SHEET_AUDIT

NOTE = (
    "The audit trail of cstracker: one row per command that changed this tracker and one per source file "
    "it read. Written by cstracker only; changes typed in Excel or LibreOffice are NOT recorded here. "
    "Holds no Mosaic ID and no free text. Do not edit."
)
HEADERS = (
    "Entry",
    "Row kind",
    "When",
    "Who",
    "Command",
    "Source file",
    "SHA-256",
    "Added",
    "Updated",
    "Refused",
    "Removed",
    "Referral IDs",
)
#: the sheet's first rows: the note, a blank, then the headings
HEAD_ROWS = 3
#: what one cell holds (Excel's limit); a longer list of IDs is summarised
CELL_LIMIT = 32_767
_LONG_DIGITS = re.compile(r"\d{5,}")


def masked_name(path: str | Path) -> str:
    """The base name with every run of five or more digits masked: a file name may carry a Mosaic ID."""
    return _LONG_DIGITS.sub(lambda m: "#" * len(m[0]), Path(path).name)


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return "unknown"


def ids_text(ids: Sequence[str]) -> str:
    """Every ID when they fit one cell, else the count with the first and the last."""
    ids = [i for i in ids if i]
    text = ", ".join(ids)
    if len(text) <= CELL_LIMIT:
        return text
    return f"{len(ids)} IDs, from {ids[0]} to {ids[-1]}"


@dataclass
class SourceFile:
    """One file a command read: its path (for the hash and the masked name) and what it did."""

    path: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: int = 0
    sha256: str | None = None


@dataclass
class AuditEntry:
    command: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: int = 0
    removed: list[str] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)
    when: dt.datetime | None = None
    who: str | None = None


def entry_rows(entry: AuditEntry, number: int) -> list[list[Any]]:
    """The sheet rows of one entry: the command row, then one row per source file."""
    when = (entry.when or dt.datetime.now()).replace(microsecond=0).isoformat(sep=" ")
    who = entry.who or current_user()
    all_ids = [*entry.added, *entry.updated, *entry.removed]
    rows: list[list[Any]] = [
        [
            number,
            "command",
            when,
            who,
            entry.command,
            None,
            None,
            len(entry.added),
            len(entry.updated),
            entry.refused,
            len(entry.removed),
            ids_text(all_ids),
        ]
    ]
    for src in entry.sources:
        digest = src.sha256
        if digest is None:
            try:
                digest = sha256_of(src.path)
            except OSError:
                digest = "(file gone)"
        rows.append(
            [
                number,
                "source",
                when,
                who,
                entry.command,
                masked_name(src.path),
                digest,
                len(src.added),
                len(src.updated),
                src.refused,
                0,
                ids_text([*src.added, *src.updated]),
            ]
        )
    return rows


def new_sheet_rows(entries: Iterable[AuditEntry], existing: list[list[Any]] | None = None) -> list[list[Any]]:
    """The whole Audit sheet: the note and headings, what is there, the new entries below."""
    kept = [list(r) for r in (existing or [])[HEAD_ROWS:] if any(v not in (None, "") for v in r)]
    last = 0
    for r in kept:
        try:
            last = max(last, int(float(r[0])))
        except (TypeError, ValueError, IndexError):
            continue
    rows = [[NOTE], [], list(HEADERS), *kept]
    for entry in entries:
        last += 1
        rows.extend(entry_rows(entry, last))
    return rows


def stage(tracker, entry: AuditEntry) -> None:
    """Add ``entry`` to the tracker's Audit sheet at its next save (the same atomic write as the change)."""
    existing = tracker.own_sheet(SHEET_AUDIT)
    tracker.stage_own_sheet(SHEET_AUDIT, new_sheet_rows([entry], existing))


# -- reading -----------------------------------------------------------------------------------------


@dataclass
class AuditRow:
    entry: int
    kind: str
    when: str
    who: str
    command: str
    source: str
    sha256: str
    added: int
    updated: int
    refused: int
    removed: int
    ids: str

    def mentions(self, rid: str) -> bool:
        rid = rid.strip().upper()
        listed = [i.strip().upper() for i in re.split(r",\s*", self.ids) if i.strip()]
        if rid in listed:
            return True
        m = re.fullmatch(r"\d+ IDs, from (\S+) to (\S+)", self.ids)
        return bool(m) and _in_range(rid, m[1], m[2])


def _in_range(rid: str, first: str, last: str) -> bool:
    key = re.compile(r"^([A-Z][A-Z0-9]*)-(\d{4})-(\d+)$")
    a, b, c = key.match(first), key.match(rid), key.match(last)
    if not (a and b and c):
        return False
    as_tuple = [(m[1], int(m[2]), int(m[3])) for m in (a, b, c)]
    return as_tuple[0] <= as_tuple[1] <= as_tuple[2]


def _int(v: Any) -> int:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return 0


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return "" if v is None else str(v)


def audit_rows(sheet: list[list[Any]] | None) -> list[AuditRow]:
    out = []
    for r in (sheet or [])[HEAD_ROWS:]:
        r = list(r) + [None] * (len(HEADERS) - len(r))
        if not any(v not in (None, "") for v in r):
            continue
        out.append(
            AuditRow(
                entry=_int(r[0]),
                kind=_text(r[1]),
                when=_text(r[2]),
                who=_text(r[3]),
                command=_text(r[4]),
                source=_text(r[5]),
                sha256=_text(r[6]),
                added=_int(r[7]),
                updated=_int(r[8]),
                refused=_int(r[9]),
                removed=_int(r[10]),
                ids=_text(r[11]),
            )
        )
    return out


def history(path: str | Path, referral: str | None = None) -> list[AuditRow]:
    """The tracker's audit rows (those of the entries that touched ``referral``, when given)."""
    from cstracker.tracker.tracker import Tracker

    rows = audit_rows(Tracker.open(path).own_sheet(SHEET_AUDIT))
    if referral is None:
        return rows
    entries = {r.entry for r in rows if r.mentions(referral)}
    return [r for r in rows if r.entry in entries and (r.kind == "command" or r.mentions(referral))]
