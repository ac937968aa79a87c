"""Lint the rows of a tracker as typed or pasted by hand (``cstracker validate``).

Pasting into Excel skips its data validation, so anything can be in a cell.
Each problem names the row, the cell, the value, what is allowed and a rule
code. The rules themselves live in ``rules.py`` (shared with ingest and
import); this module adds the checks that need the whole table: duplicate
Referral IDs, missing IDs and the same young person referred twice on one day.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cstracker.layout import col_index
from cstracker.problems import Problem, shown_value
from cstracker.rules import Finding, check_record, convert_record
from cstracker.schema import Kind
from cstracker.sheetscan import formula_cells
from cstracker.workbook import SHEET_REFERRALS


@dataclass
class ValidationReport:
    path: Path
    rows_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def validate_tracker(path: str | Path, today: dt.date | None = None) -> ValidationReport:
    """Check every non-blank row of the tracker at ``path``. Raises TrackerError if it cannot be read."""
    from cstracker.tracker import Tracker

    path = Path(path)
    tracker = Tracker.open(path)
    fields_by_key = {f.key: f for f in tracker.fields}
    report = ValidationReport(path)
    seen_ids: dict[str, list] = defaultdict(list)
    seen_people: dict[tuple, list] = defaultdict(list)
    missing_id_rows = []

    for row in tracker.rows():
        report.rows_checked += 1
        record, findings = convert_record(row.raw, tracker.lists, tracker.fields)
        bad = {f.field_key for f in findings}
        findings += [f for f in check_record(record, tracker.lists, today) if f.field_key not in bad]
        for finding in findings:
            report.problems.append(_problem(finding, row, fields_by_key, path))
        rid = record.get("referral_id")
        if rid:
            seen_ids[rid].append(row)
        elif "referral_id" not in bad:
            missing_id_rows.append((row, record))
        if record.get("mosaic_id") and record.get("date_received"):
            seen_people[(record["mosaic_id"], record["date_received"])].append(row)

    def table_problem(row, rule: str, message: str, key: str = "referral_id", **extra) -> Problem:
        """A problem found across rows, placed at the row's cell for ``key``."""
        return Problem(
            file=path.name,
            sheet=SHEET_REFERRALS,
            cell=row.cells.get(key, ""),
            row=row.row,
            field=fields_by_key[key].label,
            rule=rule,
            message=message,
            **extra,
        )

    for rid, rows in seen_ids.items():
        if len(rows) > 1:
            others = ", ".join(str(r.row) for r in rows)
            report.problems += [
                table_problem(
                    r,
                    "duplicate-id",
                    f"is used on more than one row (rows {others}); each referral needs its own ID",
                    value=rid,
                )
                for r in rows
            ]
    issued: set[str] = set()
    for row, record in missing_id_rows:
        suggestion = _suggest_id(tracker, record, issued)
        hint = f"; the next free one is {suggestion}" if suggestion else ""
        report.problems.append(table_problem(row, "missing-id", f"is blank{hint}"))
    for rows in seen_people.values():
        if len(rows) > 1:
            others = ", ".join(str(r.row) for r in rows)
            report.problems += [
                table_problem(
                    r,
                    "possible-duplicate",
                    f"the same young person and date received appear on "
                    f"rows {others}; is this one referral entered twice?",
                    key="mosaic_id",
                    severity="warning",
                )
                for r in rows
            ]
    report.problems.extend(_formulas_in_data_columns(tracker, path))
    report.problems.sort(key=lambda p: (p.row or 0, p.cell, p.rule))
    return report


def _formulas_in_data_columns(tracker, path: Path) -> list[Problem]:
    """A formula typed or pasted where a value belongs: readers see only its result, so say so."""
    layout = tracker.layout
    data_cols = {
        col: layout.fields_by_key[key]
        for key, col in layout.columns.items()
        if layout.fields_by_key[key].kind is not Kind.FORMULA
    }
    with zipfile.ZipFile(path) as zf:
        refs = formula_cells(zf, layout.sheet_part, data_cols, layout.header_row + 1)
    problems = []
    for ref in refs:
        letters, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
        f = data_cols[col_index(letters)]
        problems.append(
            Problem(
                file=path.name,
                sheet=SHEET_REFERRALS,
                cell=ref,
                row=int(row),
                field=f.label,
                rule="formula-in-data",
                message="holds a formula, not a value; type the value itself (or paste as values only)",
            )
        )
    return problems


def _problem(finding: Finding, row, fields_by_key, path: Path) -> Problem:
    f = fields_by_key.get(finding.field_key)
    return Problem(
        file=path.name,
        sheet=SHEET_REFERRALS,
        cell=row.cells.get(finding.field_key, ""),
        row=row.row,
        field=f.label if f else "",
        value=shown_value(finding.value, f.sensitive if f else False),
        rule=finding.rule,
        message=finding.message,
        severity=finding.severity,
    )


def _suggest_id(tracker, record, issued: set[str]) -> str | None:
    """The next free ID for this row's year, skipping those already suggested for earlier rows."""
    received = record.get("date_received")
    if received is None:
        return None
    candidate = tracker.next_referral_id(received)
    head, _, number = candidate.rpartition("-")
    width = len(number)
    seq = int(number)
    while candidate in issued:
        seq += 1
        candidate = f"{head}-{seq:0{width}d}"
    issued.add(candidate)
    return candidate
