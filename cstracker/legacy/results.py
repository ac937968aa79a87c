"""What an import did: ``ImportResult`` and its ``RejectedRow``s (``importer.py`` makes them; the
rejects file, ``rejects.py``, and the summary, ``import_summary.py``, read them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core.problems import Problem, plural
from cstracker.core.rules import Record
from cstracker.legacy.column_mapping import ColumnMapping
from cstracker.legacy.source_reader import SourceTable
from cstracker.legacy.vocabulary import UnknownValue, list_title


@dataclass
class RejectedRow:
    """A source row left out, with every original value and the reasons, one per bad value."""

    row: int
    values: tuple[Any, ...]
    problems: list[Problem]
    #: where the row first came from ("old.xlsx, sheet Log, row 7"): this file's row, or the row
    #: a rejects file being imported again says it was rejected from
    origin: str = ""

    @property
    def reasons(self) -> list[str]:
        return [reason_text(p) for p in self.problems]


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do). ``read = added + updated + duplicate + rejected``."""

    table: SourceTable
    mapping: ColumnMapping
    dry_run: bool
    read: int = 0
    added: int = 0
    updated: int = 0
    duplicate: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    added_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    #: every file the rejects went to (an .xlsx that cannot hold every value has a complete CSV beside it)
    rejects_files: list[Path] = field(default_factory=list)
    #: the records handed (or, in a dry run, that would be handed) to Tracker.upsert
    records: list[Record] = field(default_factory=list)
    #: values that differ from the tracker's, which did not come from this source row: the tracker kept its own
    conflicts: list[Problem] = field(default_factory=list)
    #: (source row's origin, its record, packed fingerprints) to remember once the rows have their Referral IDs
    remember: list[tuple[str, Record, str]] = field(default_factory=list)
    #: values not on their lists, grouped per column, with suggestions
    unknown: list[UnknownValue] = field(default_factory=list)
    #: open list key -> codes this import adds to the tracker's Lists sheet
    added_codes: dict[str, list[str]] = field(default_factory=dict)
    #: lines a save said (a tracker that got its start date)
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rejected for p in r.problems]

    def warning_groups(self, shown: int = 3) -> list[tuple[str, int, str, list[str]]]:
        """(rule, count, 'field: message' of the first, its first few cells) per warning rule, commonest first."""
        groups: dict[str, list[Problem]] = {}
        for p in self.warnings:
            groups.setdefault(p.rule, []).append(p)
        out = []
        for rule, ps in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            cells = [p.cell or f"row {p.row}" for p in ps[:shown]]
            out.append((rule, len(ps), f"{ps[0].field}: {ps[0].message}", cells))
        return out

    def added_lines(self) -> list[str]:
        """'added 'Children in Need' to Referrer team/service', one per new list value."""
        verb = "would add" if self.dry_run else "added"
        return [
            f"{verb} {code!r} to {list_title(key)}"
            for key, codes in self.added_codes.items()
            for code in codes
        ]

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{self.table.name}: {plural(self.read, 'row')} read = {self.added} {verb}added + {self.updated} {verb}updated"
            f" + {self.duplicate} already in the tracker or repeated + {len(self.rejected)} rejected"
        )


def reason_text(p: Problem) -> str:
    """One reason as the rejects file shows it: the column, what is wrong, what is allowed."""
    shown = f" (value {p.value!r})" if p.value else ""
    return f"{p.field}: {p.message}{shown}"
