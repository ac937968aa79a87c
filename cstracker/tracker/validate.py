"""Lint the rows of a tracker as typed or pasted by hand (``cstracker validate``).

Pasting into Excel skips its data validation, so anything can be in a cell.
Each problem names the row, the cell, the value, what is allowed and a rule
code. The rules themselves live in ``rules.py`` (shared with ingest and
import); this module adds the checks that need the whole table: duplicate
Referral IDs, missing IDs and the same young person referred twice on one day.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core import identity
from cstracker.core.convert import is_blank
from cstracker.core.errors import REPAIR, TrackerError
from cstracker.core.problems import Problem, shown_value
from cstracker.core.reading import Formula, Reading, State, described, read_cell, shown
from cstracker.core.rules import RULE_FOR_KIND, Finding, check_record
from cstracker.core.schema import EXAMPLE_ID, Kind, example_referral_id
from cstracker.tracker.create import SHEET_REFERRALS
from cstracker.xlsx.encryption import calamine_book, open_zip, source
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.sheetscan import formula_texts


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


@dataclass
class ReadRow:
    """One non-blank row as stored, with every cell's reading (``reading.py``)."""

    row: int
    raw: dict[str, Any]
    cells: dict[str, str]
    readings: dict[str, Reading]
    #: below the Table (typed under it in LibreOffice, or after a blank row)
    outside: bool = False

    @property
    def record(self) -> dict[str, Any]:
        return {k: r.value for k, r in self.readings.items() if r.readable}


def read_rows(tracker) -> list[ReadRow]:
    """Every non-blank row of the Referrals sheet: values as stored (their types kept) and as read.

    Values come from calamine (text, number, date, TRUE/FALSE, as stored); the cells of
    cstracker's value columns that hold a formula are found in the sheet XML and carried as
    ``reading.Formula`` (a typed TRUE in LibreOffice is ``=TRUE()``).
    """

    lay = tracker.layout
    by_col = {col: lay.fields_by_key[key] for key, col in lay.columns.items()}
    data_cols = [c for c, f in by_col.items() if f.kind is not Kind.FORMULA]
    letters = {key: col_letters(col) for key, col in lay.columns.items()}
    last_table_row = lay.table_ref[3]
    first = lay.header_row + 1
    lists = tracker.lists
    blank = {f.key: read_cell(f, None, lists) for f in by_col.values()}
    seen: dict[str, dict] = {f.key: {} for f in by_col.values()}
    out = []
    try:
        src = source(tracker.path)  # the decrypted bytes of an encrypted tracker
        with open_zip(src) as zf:
            formulas = formula_texts(zf, lay.sheet_part, data_cols, first)
        sheet = calamine_book(src).get_sheet_by_name(SHEET_REFERRALS)
        top, left = sheet.start
        wanted = [(c, by_col[c], c - 1 - left) for c in sorted(by_col) if c - 1 - left >= 0]
        for i, cells_of_row in enumerate(sheet.iter_rows()):
            number = top + i + 1
            if number < first:
                continue
            width = len(cells_of_row)
            raw: dict[str, Any] = {}
            readings = dict(blank)
            used = False
            for c, f, at in wanted:
                v = cells_of_row[at] if at < width else None
                if (number, c) in formulas:
                    v = Formula(formulas[(number, c)], v)
                elif v is None or v == "":
                    continue
                raw[f.key] = v
                if f.kind is not Kind.FORMULA:
                    used = used or isinstance(v, Formula) or not is_blank(v)
                # the same value in the same column reads the same: read each once (codes, ticks, dates)
                memo = seen[f.key]
                key = (type(v), v)
                got = memo.get(key)
                if got is None:
                    got = memo[key] = read_cell(f, v, lists, lay.date1904)
                readings[f.key] = got
            if not used:
                continue
            cells = {k: f"{letters[k]}{number}" for k in letters}
            out.append(ReadRow(number, raw, cells, readings, outside=number > last_table_row))
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as e:
        raise TrackerError(
            f"{tracker.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
        ) from None
    except Exception as e:  # python-calamine raises its own error types per problem
        raise TrackerError(
            f"{tracker.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
        ) from None
    return out


def cell_findings(row: ReadRow, fields_by_key, lists, prefix: str = "CS") -> list[Finding]:
    """Per cell: unreadable (error), a formula where a value belongs (error), not canonical / new (warning)."""
    out = []
    for key, reading in row.readings.items():
        f = fields_by_key[key]
        if f.kind is Kind.FORMULA or reading.state is State.CANONICAL:
            continue
        raw = row.raw.get(key)
        if reading.state is State.FORMULA:
            out.append(
                Finding(
                    "formula-in-data",
                    "holds a formula, not a value; type the value itself (or paste as values only)",
                    key,
                )
            )
        elif reading.state is State.UNREADABLE:
            rule = RULE_FOR_KIND.get(f.kind, "bad-value")
            if f.kind is Kind.INT and "out of range" in (reading.error or ""):
                rule = "out-of-range"
            message = (reading.error or "is not allowed").replace(EXAMPLE_ID, example_referral_id(prefix))
            out.append(Finding(rule, message, key, shown(raw)))
        elif reading.state is State.NEW:
            out.append(
                Finding(
                    "new-list-value",
                    f"is not on the {f.label} list yet; check the spelling, or run cstracker validate "
                    "--fix to add it to the Lists sheet",
                    key,
                    shown(raw),
                    severity="warning",
                )
            )
        else:
            out.append(
                Finding(
                    "not-canonical",
                    f"is not in the tracker's own form (the Trends sheet counts only that); it is read as "
                    f"{described(f, reading.value, lists)}, which cstracker validate --fix writes",
                    key,
                    shown(raw),
                    severity="warning",
                )
            )
    return out


def validate_tracker(path: str | Path, today: dt.date | None = None) -> ValidationReport:
    """Check every non-blank row of the tracker at ``path``. Raises TrackerError if it cannot be read."""
    from cstracker.tracker.tracker import Tracker

    path = Path(path)
    tracker = Tracker.open(path)
    fields_by_key = {f.key: f for f in tracker.fields}
    report = ValidationReport(path)
    seen_ids: dict[str, list] = defaultdict(list)
    seen_people: dict[tuple, list] = defaultdict(list)
    missing_id_rows = []
    outside = []
    mosaics: dict[int, object] = {}

    for row in read_rows(tracker):
        report.rows_checked += 1
        findings = cell_findings(row, fields_by_key, tracker.lists, tracker.settings.referral_id_prefix)
        record = row.record
        bad = {f.field_key for f in findings if f.severity == "error"}
        findings += [f for f in check_record(record, tracker.lists, today) if f.field_key not in bad]
        for finding in findings:
            report.problems.append(_problem(finding, row, fields_by_key, path))
        if row.outside:
            outside.append(row)
        rid = record.get("referral_id")
        if rid:
            seen_ids[rid].append(row)
        elif "referral_id" not in bad:
            missing_id_rows.append((row, record))
        person = identity.person_key(record.get("mosaic_id"), record.get("date_received"))
        if person is not None:
            seen_people[person].append(row)
        mosaics[row.row] = record.get("mosaic_id")

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
            first = next((r for r in rows if mosaics.get(r.row)), None)
            others = [
                r
                for r in rows
                if first is not None and identity.different_person(mosaics[first.row], mosaics.get(r.row))
            ]
            if others:
                # the identity rule every way in follows: one Referral ID, one young person
                report.problems += [
                    table_problem(
                        r,
                        identity.RULE,
                        f"differs from the Mosaic ID on row {first.row}, which has the same Referral ID ({rid}): "
                        "that is a different young person; give this referral its own Referral ID",
                        key="mosaic_id",
                    )
                    for r in others
                ]
    ids = tracker.referral_ids() if missing_id_rows else None  # a copy: suggesting issues nothing
    for row, record in missing_id_rows:
        suggestion = _suggest_id(ids, record)
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
    if outside:
        table_end = tracker.layout.table_ref[3]
        named = ", ".join(str(r.row) for r in outside)
        report.problems += [
            table_problem(
                r,
                "outside-table",
                f"row {r.row} is below the Referrals table (which ends at row {table_end}; rows outside it: "
                f"{named}): the Trends sheet and the Status formulas leave it out; "
                "cstracker validate --fix brings it into the table",
                severity="warning",
            )
            for r in outside
        ]
    report.problems.sort(key=lambda p: (p.row or 0, p.cell, p.rule))
    return report


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


def _suggest_id(ids, record) -> str | None:
    """The next free ID for this row's year, after those already suggested for earlier rows."""
    received = record.get("date_received")
    return ids.take(received) if received is not None else None
