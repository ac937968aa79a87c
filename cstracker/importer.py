"""Bulk import of past consultations from old CSV/XLSX spreadsheets into the tracker.

read (``source_reader``) -> map columns (``column_mapping``) -> convert and check
each row (``rules``) -> one referral per Referral ID, or per Mosaic ID + date
received when a row has no Referral ID (within the file and against the
tracker) -> one ``Tracker.upsert`` and one save.

Nothing is dropped silently: every data row is counted exactly once as added,
updated, duplicate or rejected, and a rejected row keeps all its original
values in the rejects workbook beside one reason per bad value. An import
never blanks a value already in the tracker, and never writes a formula.

A row whose Referral ID is on the tracker with another young person's Mosaic
ID is rejected (``identity.py``). A row that matches a referral already on the
tracker follows the three-way rule of ``written.py``, keyed by source file and
row: a value the source did not change since it was last imported is left as
the tracker has it; a value changed on both sides keeps the tracker's and is
listed as a conflict (``prefer_source`` takes the source's).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker import identity
from cstracker.column_mapping import LIST_COLUMNS, ColumnMapping, ColumnMatch, load_mapping, map_columns
from cstracker.convert import is_blank, split_list_cell
from cstracker.errors import SourceError, UsageError
from cstracker.problems import Problem, shown_value
from cstracker.rules import Finding, Record, check_record, convert_record
from cstracker.schema import DEFAULT_CODE_LISTS, CodeLists, Field, normalise_token
from cstracker.source_reader import SourceRow, SourceTable, read_source
from cstracker.written import Written, fingerprint, fingerprints, merge

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


@dataclass(eq=False)
class _Referral:
    """One referral found in the file: its first row, the merged record, its tracker record if any."""

    row: int
    record: Record
    existing: Record | None
    #: what this source row last wrote into ``existing`` (fingerprints), when it was imported before
    last: dict[str, str] | None = None


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
    #: values that differ from the tracker's, which did not come from this source row: the tracker kept its own
    conflicts: list[Problem] = field(default_factory=list)
    #: (source row's origin, its record, fingerprints) to remember once the rows have their Referral IDs
    remember: list[tuple[str, Record, dict[str, str]]] = field(default_factory=list)

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
        self.tracker: identity.SameReferral[Record] = identity.SameReferral()
        for r in existing:
            self.tracker.add(
                r,
                referral_id=r.get("referral_id"),
                mosaic_id=r.get("mosaic_id"),
                date_received=r.get("date_received"),
            )
        self.seen: identity.SameReferral[_Referral] = identity.SameReferral()
        self.referrals: list[_Referral] = []

    def offer(self, row: int, record: Record) -> tuple[str, _Referral | None]:
        """'new', 'repeat' (merged into an earlier row) or 'conflict' (an earlier row disagrees)."""
        rid = record.get("referral_id")
        mosaic, received = record.get("mosaic_id"), record.get("date_received")
        earlier = self.seen.referral(rid) if rid else self.seen.person(mosaic, received)
        if earlier is not None:
            if differing(earlier.record, record):
                return "conflict", earlier
            for k, v in record.items():
                earlier.record.setdefault(k, v)
            return "repeat", earlier
        existing = self.tracker.referral(rid) if rid else self.tracker.person(mosaic, received)
        referral = _Referral(row, record, existing)
        self.seen.add(referral, referral_id=rid, mosaic_id=mosaic, date_received=received)
        self.referrals.append(referral)
        return "new", referral

    def withdraw(self, referral: _Referral) -> None:
        """Forget a referral refused after all (rare: scans the file's index)."""
        self.referrals.remove(referral)
        for index in (self.seen.by_id, self.seen.by_person):
            for key in [k for k, v in index.items() if v is referral]:
                del index[key]


def differing(a: Record, b: Record) -> list[str]:
    """Keys both records fill, with different values."""
    return [k for k, v in b.items() if k not in _PROVENANCE and k in a and a[k] != v]


def origin(table: SourceTable, row: int) -> str:
    """What a source row is remembered by: its file (and sheet) and row, as its provenance says."""
    sheet = f" sheet {table.sheet}" if table.sheet else ""
    return f"import: {table.name}{sheet} row {row}"


def plan_import(
    table: SourceTable,
    mapping: ColumnMapping,
    existing: Iterable[Record] = (),
    today: dt.date | None = None,
    dry_run: bool = True,
    progress: bool = False,
    settings: Any = None,
    written: Written | None = None,
    prefer_source: bool = False,
) -> ImportResult:
    """Convert, check and deduplicate every row; the records to upsert are in ``result.records``.

    With the tracker's ``settings``, a row already past its retention period is rejected.
    ``written``: what each source row last wrote (the three-way rule); ``prefer_source``: where a
    value differs from a tracker value that did not come from the row, take the row's.
    """
    from cstracker.retention import past_retention

    today = today or dt.date.today()
    written = written or Written()
    converter = RowConverter(table, mapping, today)
    deduper = Deduper(existing)
    result = ImportResult(table, mapping, dry_run, read=len(table.rows))
    for src in _progress(table, progress):
        if src.problem:  # the file's structure is broken on this row: nothing in it is trusted
            result.rejected.append(RejectedRow(src.row, src.values, [structure_problem(table, src)]))
            continue
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
        elif outcome == "new" and earlier is not None and earlier.existing is not None:
            rid = earlier.existing.get("referral_id")
            earlier.last = written.last(origin(table, src.row), rid)
            if _other_person(earlier, record):
                deduper.withdraw(earlier)
                result.rejected.append(RejectedRow(src.row, src.values, [_refusal(converter, src, rid)]))
    for referral in deduper.referrals:
        where = origin(table, referral.row)
        values = {k: v for k, v in referral.record.items() if k not in _PROVENANCE and k != "referral_id"}
        if referral.existing is None:
            result.added += 1
            result.records.append(referral.record)
            result.remember.append((where, referral.record, fingerprints(values)))
            continue
        rid = referral.existing["referral_id"]
        got = merge(values, referral.existing, referral.last, prefer_incoming=prefer_source, clears=False)
        result.conflicts += [
            _conflict(converter, referral, key, referral.existing.get(key)) for key in got.conflicts
        ]
        result.remember.append((where, referral.existing, got.remember))
        if not got.take:
            result.duplicate += 1
            continue
        result.updated += 1
        result.updated_ids.append(rid)
        result.records.append({"referral_id": rid, **got.take, "source": referral.record["source"]})
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


def _other_person(referral: _Referral, record: Record) -> bool:
    """The identity rule, unless the row's Mosaic ID is what it was when last imported (the tracker's was corrected)."""
    existing = referral.existing or {}
    if not identity.different_person(existing.get("mosaic_id"), record.get("mosaic_id")):
        return False
    last = referral.last
    return last is None or last.get("mosaic_id") != fingerprint("mosaic_id", record.get("mosaic_id"))


def _refusal(converter: RowConverter, src: SourceRow, referral_id: str | None) -> Problem:
    name, column = converter.column_name("mosaic_id")
    return Problem(
        rule=identity.RULE,
        message=identity.refusal(referral_id, "row"),
        field=name,
        **converter.where(src.row, column),
    )


def _conflict(converter: RowConverter, referral: _Referral, key: str, theirs: object) -> Problem:
    name, column = converter.column_name(key)
    f = converter.fields.get(key)
    sensitive = f.sensitive if f else False
    ours = shown_value(_show(referral.record.get(key)), sensitive)
    tracker = shown_value(_show(theirs), sensitive)
    values = f" (source {ours!r}, tracker {tracker!r})" if ours or tracker else ""
    rid = (referral.existing or {}).get("referral_id", "")
    return Problem(
        rule="conflict",
        message=f"differs from {rid} on the tracker{values}, whose value did not come from this row; the tracker "
        "keeps it. To take the source's, import again with --prefer-source",
        field=name,
        severity="warning",
        **converter.where(referral.row, column),
    )


def _show(value: object) -> object:
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return "ticked" if value is True else value


def structure_problem(table: SourceTable, src: SourceRow) -> Problem:
    return Problem(
        file=table.name,
        rule="csv-structure",
        message=src.problem,
        field="Row",
        sheet=table.sheet,
        row=src.row,
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
    prefer_source: bool = False,
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
            table,
            mapping,
            t.records(),
            today,
            True,
            progress,
            settings=t.settings,
            written=Written.load(t),
            prefer_source=prefer_source,
        )
    with Tracker.open_for_update(tracker, force=force) as t:
        table, mapping = read_and_map(source, t.fields, t.lists, sheet, mapping_path)
        written = Written.load(t)
        result = plan_import(
            table,
            mapping,
            t.records(),
            today,
            False,
            progress,
            settings=t.settings,
            written=written,
            prefer_source=prefer_source,
        )
        if result.records:
            assign_referral_ids(result.records, t)
            done = t.upsert(result.records, source=f"import: {table.name}")
            result.added_ids = list(done.added)
            result.updated_ids = list(done.updated)
            result.duplicate += len(done.unchanged)
            result.added, result.updated = len(done.added), len(done.updated)
        for where, record, fps in result.remember:
            if record.get("referral_id"):
                written.put(where, record["referral_id"], fps)
        written.stage(t)
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
