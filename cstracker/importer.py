"""Bulk import of past consultations from old CSV/XLSX spreadsheets into the tracker.

read (``source_reader``) -> map columns (``column_mapping``) -> convert and check
each row (``rules``) -> one referral per Referral ID, or per Mosaic ID + date
received when a row has no Referral ID (within the file and against the
tracker) -> one ``Tracker.upsert`` and one save.

Nothing is dropped silently: every data row is counted exactly once as added,
updated, duplicate or rejected, and a rejected row keeps all its original
values in the rejects workbook beside one reason per bad value. An import
never blanks a value already in the tracker, and never writes a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.column_mapping import LIST_COLUMNS, ColumnMapping, ColumnMatch, load_mapping, map_columns
from cstracker.convert import is_blank, split_list_cell
from cstracker.errors import SourceError, UsageError
from cstracker.problems import Problem, shown_value
from cstracker.rules import Finding, Record, check_record, convert_record
from cstracker.schema import DEFAULT_CODE_LISTS, CodeLists, Field, normalise_token
from cstracker.source_reader import SourceRow, SourceTable, read_source

REASONS_HEADER = "Import problems"
REJECTED_FROM_HEADER = "Rejected from"
#: show a progress bar from this many rows up
PROGRESS_FROM = 2000
#: fields the import never compares or copies from a source row
_PROVENANCE = ("source", "last_updated", "status", "follow_up_due")


@dataclass
class RejectedRow:
    """A source row left out, with every original value and the reasons, one per bad value."""

    row: int
    values: tuple[Any, ...]
    problems: list[Problem]

    @property
    def reasons(self) -> list[str]:
        return [reason_text(p) for p in self.problems]


@dataclass
class _Referral:
    """One referral found in the file: its first row, the merged record, its tracker record if any."""

    row: int
    record: Record
    existing: Record | None


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
    #: the records handed (or, in a dry run, that would be handed) to Tracker.upsert
    records: list[Record] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rejected for p in r.problems]

    def top_reasons(self, n: int = 5) -> list[tuple[str, int]]:
        """The commonest reasons for rejecting, without values: 'Date of referral: is not a real date'."""
        counts = Counter(f"{p.field}: {p.message}" for p in self.problems)
        return counts.most_common(n)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{self.table.name}: {self.read} rows read = {self.added} {verb}added + {self.updated} {verb}updated"
            f" + {self.duplicate} already in the tracker or repeated + {len(self.rejected)} rejected"
        )


def reason_text(p: Problem) -> str:
    """One reason as the rejects file shows it: the column, what is wrong, what is allowed."""
    shown = f" (value {p.value!r})" if p.value else ""
    return f"{p.field}: {p.message}{shown}"


# ---------------------------------------------------------------------------
# converting rows
# ---------------------------------------------------------------------------


class RowConverter:
    """Turns one source row into a record, or into the problems that stop it."""

    def __init__(self, table: SourceTable, mapping: ColumnMapping, today: dt.date):
        self.table, self.mapping, self.today = table, mapping, today
        self.lists: CodeLists = mapping.lists
        self.fields = mapping.fields
        self.field_columns = [c for c in mapping.columns if c.key is not None]
        self.list_columns = [c for c in mapping.columns if c.list_key is not None]
        self.column_of = {c.key: c for c in self.field_columns}
        self.lookups = {c.list_key: self.lists.lookup(c.list_key) for c in self.list_columns}

    def where(self, row: int, column: ColumnMatch | None) -> dict[str, Any]:
        cell = f"{column.letter}{row}" if column is not None else ""
        return {"file": self.table.name, "sheet": self.table.sheet, "cell": cell, "row": row}

    def column_name(self, key: str) -> tuple[str, ColumnMatch | None]:
        """'Date of referral (column B)', or the field's label when no column feeds it."""
        column = self.column_of.get(key)
        label = self.fields[key].label if key in self.fields else key
        if column is None:
            return f"{label} (no column)", None
        return f"{column.header} (column {column.letter})", column

    def problem(self, finding: Finding, row: int) -> Problem:
        name, column = self.column_name(finding.field_key)
        f = self.fields.get(finding.field_key)
        return Problem(
            file=self.table.name,
            rule=finding.rule,
            message=finding.message,
            field=name,
            value=shown_value(finding.value, f.sensitive if f else False),
            severity=finding.severity,
            **{k: v for k, v in self.where(row, column).items() if k != "file"},
        )

    def convert(self, src: SourceRow) -> tuple[Record | None, list[Problem], list[Problem]]:
        """(record or None when rejected, errors, warnings)."""
        values = src.values
        # blank cells convert to nothing: leaving them out is the same record, made faster
        raw = {c.key: values[c.index] for c in self.field_columns if not is_blank(values[c.index])}
        record, findings = convert_record(raw, self.lists, [self.fields[k] for k in raw])
        errors = [self.problem(f, src.row) for f in findings]
        for column in self.list_columns:
            errors += self._list_cell(column, src, record)
        bad = {f.field_key for f in findings}
        # a value that would not convert is reported once, not again by the cross-field rules
        checked = [
            self.problem(f, src.row)
            for f in check_record(record, self.lists, self.today)
            if f.field_key not in bad
        ]
        errors += [p for p in checked if p.severity == "error"]
        warnings = [p for p in checked if p.severity != "error"]
        if errors:
            return None, errors, warnings
        return {k: v for k, v in record.items() if meaningful(v)}, [], warnings

    def _list_cell(self, column: ColumnMatch, src: SourceRow, record: Record) -> list[Problem]:
        """'County Lines; CSE, Gangs' -> three ticks; a name not on the list is a problem, never dropped."""
        value = src.values[column.index]
        if is_blank(value):
            return []
        list_key = column.list_key or ""
        prefix = LIST_COLUMNS[list_key]
        unknown = []
        for part in split_list_cell(value):
            code = self.lookups[list_key].get(normalise_token(part))
            if code is None or prefix + code not in self.fields:
                unknown.append(part)
            else:
                record[prefix + code] = True
        if not unknown:
            return []
        title = DEFAULT_CODE_LISTS[list_key].title if list_key in DEFAULT_CODE_LISTS else list_key
        codes = self.lists.codes(list_key)
        names = ", ".join(repr(u) for u in unknown)
        return [
            Problem(
                file=self.table.name,
                rule="not-in-list",
                message=f"{names} {'is' if len(unknown) == 1 else 'are'} not on the {title} list; "
                f"allowed (separated by ; or ,): {', '.join(codes)}",
                field=f"{column.header} (column {column.letter})",
                **{k: v for k, v in self.where(src.row, column).items() if k != "file"},
            )
        ]


def meaningful(value: Any) -> bool:
    """A value an import may write: blanks and unticked flags never overwrite what the tracker has."""
    return value is not None and value is not False and value != ""


# ---------------------------------------------------------------------------
# deciding rows
# ---------------------------------------------------------------------------


class Deduper:
    """One referral per Referral ID, or per Mosaic ID + date received for a row without one."""

    def __init__(self, existing: Iterable[Record]):
        self.by_id: dict[str, Record] = {}
        self.by_pair: dict[tuple, Record] = {}
        for r in existing:
            if r.get("referral_id"):
                self.by_id[str(r["referral_id"]).upper()] = r
            if r.get("mosaic_id") and r.get("date_received"):
                self.by_pair.setdefault((r["mosaic_id"], r["date_received"]), r)
        self.seen_ids: dict[str, _Referral] = {}
        self.seen_pairs: dict[tuple, _Referral] = {}
        self.referrals: list[_Referral] = []

    def offer(self, row: int, record: Record) -> tuple[str, _Referral | None]:
        """'new', 'repeat' (merged into an earlier row) or 'conflict' (an earlier row disagrees)."""
        rid = record.get("referral_id")
        pair = (record.get("mosaic_id"), record.get("date_received"))
        earlier = self.seen_ids.get(rid) if rid else self.seen_pairs.get(pair)
        if earlier is not None:
            if differing(earlier.record, record):
                return "conflict", earlier
            for k, v in record.items():
                earlier.record.setdefault(k, v)
            return "repeat", earlier
        existing = self.by_id.get(rid) if rid else self.by_pair.get(pair)
        referral = _Referral(row, record, existing)
        if rid:
            self.seen_ids[rid] = referral
        self.seen_pairs.setdefault(pair, referral)
        self.referrals.append(referral)
        return "new", referral


def differing(a: Record, b: Record) -> list[str]:
    """Keys both records fill, with different values."""
    return [k for k, v in b.items() if k not in _PROVENANCE and k in a and a[k] != v]


def changes_to(existing: Record, record: Record) -> Record:
    return {
        k: v
        for k, v in record.items()
        if k not in _PROVENANCE and k != "referral_id" and existing.get(k) != v
    }


def plan_import(
    table: SourceTable,
    mapping: ColumnMapping,
    existing: Iterable[Record] = (),
    today: dt.date | None = None,
    dry_run: bool = True,
    progress: bool = False,
    settings: Any = None,
) -> ImportResult:
    """Convert, check and deduplicate every row; the records to upsert are in ``result.records``.

    With the tracker's ``settings``, a row already past its retention period is rejected.
    """
    from cstracker.retention import past_retention

    today = today or dt.date.today()
    converter = RowConverter(table, mapping, today)
    deduper = Deduper(existing)
    result = ImportResult(table, mapping, dry_run, read=len(table.rows))
    for src in _progress(table, progress):
        record, errors, warnings = converter.convert(src)
        result.warnings += warnings
        if record is None:
            result.rejected.append(RejectedRow(src.row, src.values, errors))
            continue
        expired = past_retention(record, settings, today) if settings is not None else None
        if expired is not None:
            result.rejected.append(
                RejectedRow(src.row, src.values, [retention_problem(converter, src, expired)])
            )
            continue
        record["source"] = f"import: {table.name} row {src.row}"
        outcome, earlier = deduper.offer(src.row, record)
        if outcome == "repeat":
            result.duplicate += 1
        elif outcome == "conflict" and earlier is not None:
            result.rejected.append(
                RejectedRow(src.row, src.values, [conflict_problem(converter, src, earlier, record)])
            )
    for referral in deduper.referrals:
        if referral.existing is None:
            result.added += 1
            result.records.append(referral.record)
            continue
        changed = changes_to(referral.existing, referral.record)
        if not changed:
            result.duplicate += 1
            continue
        rid = referral.existing["referral_id"]
        result.updated += 1
        result.updated_ids.append(rid)
        result.records.append({"referral_id": rid, **changed, "source": referral.record["source"]})
    return result


def retention_problem(converter: RowConverter, src: SourceRow, expired: tuple[dt.date, int]) -> Problem:
    last, years = expired
    return Problem(
        file=converter.table.name,
        rule="past-retention",
        message=(
            f"last activity {last:%d/%m/%Y} is more than the retention period ({years} years) ago; "
            "not imported"
        ),
        sheet=converter.table.sheet,
        row=src.row,
        field="Last activity",
    )


def conflict_problem(converter: RowConverter, src: SourceRow, earlier: _Referral, record: Record) -> Problem:
    keys = differing(earlier.record, record)
    names = ", ".join(converter.column_name(k)[0] for k in keys)
    same = "Referral ID" if record.get("referral_id") else "Mosaic ID and date received"
    return Problem(
        file=converter.table.name,
        rule="conflicting-duplicate",
        message=f"is the same referral as row {earlier.row} (same {same}) but these differ: {names}; "
        "keep one row or correct the other",
        field="Row",
        sheet=converter.table.sheet,
        row=src.row,
    )


def _progress(table: SourceTable, progress: bool) -> Iterable[SourceRow]:
    if not progress or len(table.rows) < PROGRESS_FROM:
        return table.rows
    from tqdm import tqdm

    return tqdm(table.rows, desc=f"Checking {table.name}", unit=" rows", leave=False, disable=None)


# ---------------------------------------------------------------------------
# the whole import
# ---------------------------------------------------------------------------


def read_and_map(
    source: str | Path,
    fields: tuple[Field, ...],
    lists: CodeLists,
    sheet: str | None = None,
    mapping_path: str | Path | None = None,
) -> tuple[SourceTable, ColumnMapping]:
    """Read the source and map its columns; raises SourceError when a required field has no column."""
    from cstracker.column_mapping import HeaderMatcher

    mapping_file = load_mapping(mapping_path, fields, lists)
    matcher = HeaderMatcher(fields, lists, mapping_file)
    table = read_source(source, sheet=sheet, header_score=matcher.score)
    mapping = map_columns(table.headers, fields, lists, mapping_file)
    missing = mapping.missing_required()
    where = f"{table.name}{f', sheet {table.sheet!r}' if table.sheet else ''}, header row {table.header_row}"
    if missing:
        found = ", ".join(f"{c.letter} {c.header!r}" for c in mapping.columns) or "none"
        labels = " and ".join(f.label for f in missing)
        others = ", ".join(repr(n) for n in table.other_sheets)
        raise SourceError(
            f"{where}: no column for {labels}, which every row needs; "
            f'rename the column or name it in a mapping file ([columns] "your heading" = "{missing[0].label}"). '
            f"Columns found: {found}"
            + (f". The workbook has other sheets ({others}): choose one with --sheet NAME" if others else "")
        )
    if not table.rows:
        raise SourceError(f"{where}: no data rows below the header; nothing to import")
    return table, mapping


def import_file(
    tracker: str | Path,
    source: str | Path,
    *,
    sheet: str | None = None,
    mapping_path: str | Path | None = None,
    dry_run: bool = False,
    rejects_path: str | Path | None = None,
    today: dt.date | None = None,
    force: bool = False,
    progress: bool = False,
) -> ImportResult:
    """Import ``source`` into ``tracker`` (or, with ``dry_run``, only say what would happen)."""
    from cstracker.tracker import Tracker

    tracker, source = Path(tracker), Path(source)
    rejects = Path(rejects_path) if rejects_path else None
    if rejects is not None:
        _check_rejects_path(rejects, tracker, source)
    if dry_run:
        t = Tracker.open(tracker)
        table, mapping = read_and_map(source, t.fields, t.lists, sheet, mapping_path)
        return plan_import(
            table, mapping, t.records(), today, dry_run=True, progress=progress, settings=t.settings
        )
    with Tracker.open_for_update(tracker, force=force) as t:
        table, mapping = read_and_map(source, t.fields, t.lists, sheet, mapping_path)
        result = plan_import(
            table, mapping, t.records(), today, dry_run=False, progress=progress, settings=t.settings
        )
        if result.records:
            assign_referral_ids(result.records, t)
            done = t.upsert(result.records, source=f"import: {table.name}")
            result.added_ids = list(done.added)
            result.updated_ids = list(done.updated)
            result.duplicate += len(done.unchanged)
            result.added, result.updated = len(done.added), len(done.updated)
            t.save()
    if rejects is not None and result.rejected:
        write_rejects(rejects, result)
        result.rejects_path = rejects
    return result


def assign_referral_ids(records: list[Record], tracker: Any) -> None:
    """Give each new record without a Referral ID the next free one for its year, in file order.

    Asks the tracker once per year, then counts on: asking once per row would
    rescan every ID in the tracker for every row of a large import.
    """
    prefix = tracker.settings.referral_id_prefix
    taken: dict[int, int] = {}
    for r in records:
        m = re.fullmatch(rf"{re.escape(prefix)}-(\d{{4}})-(\d+)", str(r.get("referral_id") or ""))
        if m:
            taken[int(m[1])] = max(taken.get(int(m[1]), 0), int(m[2]))
    next_seq: dict[int, int] = {}
    for r in records:
        if r.get("referral_id"):
            continue
        received = r.get("date_received") or dt.date.today()
        year = received.year
        if year not in next_seq:
            first = tracker.next_referral_id(received)
            next_seq[year] = max(int(first.rsplit("-", 1)[1]), taken.get(year, 0) + 1)
        r["referral_id"] = f"{prefix}-{year}-{next_seq[year]:04d}"
        next_seq[year] += 1


def _check_rejects_path(rejects: Path, tracker: Path, source: Path) -> None:
    if rejects.suffix.lower() != ".xlsx":
        raise UsageError(f"--rejects {rejects}: must be an .xlsx file name")
    for other, what in ((tracker, "the tracker"), (source, "the file being imported")):
        if rejects.resolve() == other.resolve():
            raise UsageError(f"--rejects {rejects}: is {what}; choose another file name")


# ---------------------------------------------------------------------------
# the rejects workbook
# ---------------------------------------------------------------------------


def write_rejects(path: Path, result: ImportResult) -> Path:
    """Every rejected row with its original values under the original headers, plus its reasons.

    The header row is the source's own, on row 1, so the fixed file imports with
    the same mapping. Text is written with ``write_string``: nothing becomes a formula.
    """
    import xlsxwriter

    table = result.table
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        ws = wb.add_worksheet("Rejected")
        bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "font_color": "#9C0006"})
        date = wb.add_format({"num_format": "dd/mm/yyyy"})
        headers = [*table.headers, REASONS_HEADER, REJECTED_FROM_HEADER]
        for col, header in enumerate(headers):
            ws.write_string(0, col, header, bold)
            ws.set_column(col, col, max(10, min(40, len(header) + 2)))
        reasons_col = len(table.headers)
        ws.set_column(reasons_col, reasons_col, 70)
        for i, rejected in enumerate(result.rejected, start=1):
            for col, value in enumerate(rejected.values):
                _write_value(ws, i, col, value, date)
            ws.write_string(i, reasons_col, "\n".join(rejected.reasons), wrap)
            where = (
                f"{table.name}" + (f", sheet {table.sheet}" if table.sheet else "") + f", row {rejected.row}"
            )
            ws.write_string(i, reasons_col + 1, where)
        ws.freeze_panes(1, 0)
    finally:
        wb.close()
    return path


def _write_value(ws: Any, row: int, col: int, value: Any, date_format: Any) -> None:
    if value is None or (isinstance(value, str) and value == ""):
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value)
    elif isinstance(value, dt.datetime | dt.date):
        ws.write_datetime(row, col, value, date_format)
    else:
        ws.write_string(row, col, str(value))
