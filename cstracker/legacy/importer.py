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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cstracker.core import identity
from cstracker.core.convert import is_blank, split_list_cell
from cstracker.core.errors import OutputError, SourceError, UsageError
from cstracker.core.problems import Problem, shown_value
from cstracker.core.rules import Finding, Record, check_converted, check_record, convert_record
from cstracker.core.schema import (
    DEFAULT_CODE_LISTS,
    WRITTEN_BY_CSTRACKER,
    CodeLists,
    Field,
    normalise_token,
    with_prefix,
)
from cstracker.legacy.column_mapping import (
    LIST_COLUMNS,
    ColumnMapping,
    ColumnMatch,
    load_mapping,
    map_columns,
)
from cstracker.legacy.rejects import (  # noqa: F401 (REASONS_HEADER, REJECTED_FROM_HEADER: API)
    REASONS_HEADER,
    REJECTED_FROM_HEADER,
    REJECTS_SUFFIXES,
    check_rejects_files,
    write_rejects,
)
from cstracker.legacy.results import ImportResult, RejectedRow
from cstracker.legacy.source_reader import SourceRow, SourceTable, read_source
from cstracker.legacy.vocabulary import UnknownValue, find_unknown, grow_open_lists, with_codes
from cstracker.tracker.written import Written, fingerprint, fingerprints, merge
from cstracker.xlsx.outputs import check_output

#: show a progress bar from this many rows up
PROGRESS_FROM = 2000
#: fields the import never compares or copies from a source row
#: filled in by cstracker, never compared or merged from a source row
_PROVENANCE = WRITTEN_BY_CSTRACKER


@dataclass(eq=False)
class _Referral:
    """One referral found in the file: its first row, the merged record, its tracker record if any."""

    row: int
    record: Record
    existing: Record | None
    #: what this source row last wrote into ``existing`` (fingerprints), when it was imported before
    last: dict[str, str] | None = None


# ---------------------------------------------------------------------------
# converting rows
# ---------------------------------------------------------------------------


class RowConverter:
    """Turns one source row into a record, or into the problems that stop it."""

    def __init__(
        self,
        table: SourceTable,
        mapping: ColumnMapping,
        today: dt.date,
        unknown: Iterable[UnknownValue] = (),
        prefix: str | None = None,
    ):
        self.table, self.mapping, self.today = table, mapping, today
        #: the tracker's Referral ID prefix, for the example in messages (None: not known)
        self.prefix = prefix
        #: (column index, folded value) -> its group, to say "did you mean" on each row
        self.unknown = {(u.column.index, normalise_token(u.value)): u for u in unknown}
        self.lists: CodeLists = mapping.lists
        self.fields = mapping.fields
        self.field_columns = [c for c in mapping.columns if c.key is not None]
        self.list_columns = [c for c in mapping.columns if c.list_key is not None]
        self.date1904 = table.date1904
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
        message = with_prefix(finding.message, self.prefix) if self.prefix else finding.message
        if finding.rule == "not-in-list" and column is not None:
            message = self.did_you_mean(column, finding.value) + message
        return Problem(
            file=self.table.name,
            rule=finding.rule,
            message=message,
            field=name,
            value=shown_value(finding.value, f.sensitive if f else False),
            severity=finding.severity,
            **{k: v for k, v in self.where(row, column).items() if k != "file"},
        )

    def warnings_for(self, record: Record, row: int) -> list[Problem]:
        """The warnings validate will list for this referral once it is in the tracker."""
        return [
            self.problem(f, row)
            for f in check_record(record, self.lists, self.today)
            if f.severity != "error"
        ]

    def did_you_mean(self, column: ColumnMatch, value: Any) -> str:
        """'did you mean 'School'? ' for a value with a good suggestion, else ''."""
        group = self.unknown.get((column.index, normalise_token(str(value or ""))))
        good = group.good if group is not None else None
        return f"did you mean {' + '.join(repr(c) for c in good.codes)}? " if good else ""

    def convert(self, src: SourceRow) -> tuple[Record | None, list[Problem], list[Problem]]:
        """(record or None when rejected, errors, warnings)."""
        values = src.values
        # blank cells convert to nothing: leaving them out is the same record, made faster
        raw = {c.key: values[c.index] for c in self.field_columns if not is_blank(values[c.index])}
        record, findings = convert_record(raw, self.lists, [self.fields[k] for k in raw], self.date1904)
        errors = [self.problem(f, src.row) for f in findings]
        for column in self.list_columns:
            errors += self._list_cell(column, src, record)
        checked = [
            self.problem(f, src.row)
            for f in check_converted(record, {f.field_key for f in findings}, self.lists, self.today)
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
        several = self.mapping.several.get(list_key, {})
        for part in split_list_cell(value):
            token = normalise_token(part)
            code = self.lookups[list_key].get(token)
            codes = several.get(token, (code,) if code is not None else ())
            if not codes or any(prefix + c not in self.fields for c in codes):
                unknown.append(part)
            else:
                for c in codes:
                    record[prefix + c] = True
        if not unknown:
            return []
        hints = "".join(self.did_you_mean(column, u) for u in unknown)
        title = DEFAULT_CODE_LISTS[list_key].title if list_key in DEFAULT_CODE_LISTS else list_key
        codes = self.lists.codes(list_key)
        names = ", ".join(repr(u) for u in unknown)
        return [
            Problem(
                file=self.table.name,
                rule="not-in-list",
                message=f"{hints}{names} {'is' if len(unknown) == 1 else 'are'} not on the {title} list; "
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
    """One referral per Referral ID, or per Mosaic ID + date received for a row without one.

    ``existing``: the tracker's ``RowIndex`` (``Tracker.row_index()``: rows found by the one
    index, records fetched for the rows matched), or typed records (a plan without a tracker).
    """

    def __init__(self, existing: Any = ()):
        self.rows = existing if hasattr(existing, "same") else None
        if self.rows is not None:
            self.tracker: identity.SameReferral[Any] = self.rows.same
        else:
            self.tracker = identity.SameReferral()
            for r in existing:
                self.tracker.add(
                    r,
                    referral_id=r.get("referral_id"),
                    mosaic_id=r.get("mosaic_id"),
                    date_received=r.get("date_received"),
                )
        self.seen: identity.SameReferral[_Referral] = identity.SameReferral()
        self.referrals: list[_Referral] = []

    def matching(self, record: Record) -> Any:
        """The tracker row (its number, or its record) this record is about, if any."""
        rid = record.get("referral_id")
        if rid:
            return self.tracker.referral(rid)
        return self.tracker.person(record.get("mosaic_id"), record.get("date_received"))

    def prefetch(self, records: Iterable[Record]) -> None:
        """Fetch the tracker rows these records are about in one read (a row index only)."""
        if self.rows is not None:
            self.rows.prefetch(self.matching(r) for r in records)

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
        existing = self.matching(record)
        if self.rows is not None:
            existing = self.rows.record(existing)
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
    existing: Any = (),
    today: dt.date | None = None,
    dry_run: bool = True,
    progress: bool = False,
    origins: dict[int, str] | None = None,
    settings: Any = None,
    written: Written | None = None,
    prefer_source: bool = False,
) -> ImportResult:
    """Convert, check and deduplicate every row; the records to upsert are in ``result.records``.

    ``origins``: source row -> where it first came from, for a rejects file imported again
    (from its hidden sheet); a ``Rejected from`` column, when the file has one, wins.
    With the tracker's ``settings``, a row already past its retention period is rejected.
    ``written``: what each source row last wrote (the three-way rule); ``prefer_source``: where a
    value differs from a tracker value that did not come from the row, take the row's.
    """
    from cstracker.tracker.retention import past_retention

    today = today or dt.date.today()
    written = written or Written()
    unknown = find_unknown(table, mapping)
    grown = grow_open_lists(unknown, mapping.lists)
    from_file = mapping.mapping_file.new_codes if mapping.mapping_file is not None else {}
    added = {k: list(v) for k, v in from_file.items()}
    for key, codes in grown.items():
        added.setdefault(key, []).extend(c for c in codes if c not in added[key])
    mapping = replace(mapping, lists=with_codes(mapping.lists, grown))
    prefix = settings.referral_id_prefix if settings is not None else None
    converter = RowConverter(table, mapping, today, unknown, prefix)
    deduper = Deduper(existing)
    result = ImportResult(table, mapping, dry_run, read=len(table.rows), unknown=unknown, added_codes=added)
    origin_of = Origins(table, origins or {})
    #: source row -> what it is remembered by (its original file and row, for a rejects file)
    keys: dict[int, str] = {}
    # Convert every row first, then fetch the tracker rows they are about in one read, then decide.
    converted = []
    for src in _progress(table, progress):
        came_from, source, keys[src.row] = origin_of(src)
        if src.problem:  # the file's structure is broken on this row: nothing in it is trusted
            converted.append((src, came_from, source, None, [structure_problem(table, src)]))
            continue
        record, errors, _ = converter.convert(src)
        if record is None:
            converted.append((src, came_from, source, None, errors))
            continue
        expired = past_retention(record, settings, today) if settings is not None else None
        if expired is not None:
            converted.append((src, came_from, source, None, [retention_problem(converter, src, expired)]))
            continue
        converted.append((src, came_from, source, record, []))
    deduper.prefetch(record for *_, record, _ in converted if record is not None)
    for src, came_from, source, record, problems in converted:
        if record is None:
            result.rejected.append(RejectedRow(src.row, src.values, problems, came_from))
            continue
        record["source"] = source
        outcome, earlier = deduper.offer(src.row, record)
        if outcome == "repeat":
            result.duplicate += 1
        elif outcome == "conflict" and earlier is not None:
            problem = conflict_problem(converter, src, earlier, record)
            result.rejected.append(RejectedRow(src.row, src.values, [problem], came_from))
        elif outcome == "new" and earlier is not None and earlier.existing is not None:
            rid = earlier.existing.get("referral_id")
            earlier.last = written.last(keys[src.row], rid)
            if _other_person(earlier, record):
                deduper.withdraw(earlier)
                result.rejected.append(
                    RejectedRow(src.row, src.values, [_refusal(converter, src, rid)], came_from)
                )
    for referral in deduper.referrals:
        where = keys[referral.row]
        values = {k: v for k, v in referral.record.items() if k not in _PROVENANCE and k != "referral_id"}
        if referral.existing is None:
            result.added += 1
            result.records.append(referral.record)
            result.remember.append((where, referral.record, written.pack(fingerprints(values))))
            result.warnings += converter.warnings_for(referral.record, referral.row)
            continue
        rid = referral.existing["referral_id"]
        got = merge(values, referral.existing, referral.last, prefer_incoming=prefer_source, clears=False)
        result.conflicts += [
            _conflict(converter, referral, key, referral.existing.get(key)) for key in got.conflicts
        ]
        result.remember.append((where, referral.existing, written.pack(got.remember)))
        if not got.take:
            result.duplicate += 1
            continue
        result.updated += 1
        result.updated_ids.append(rid)
        result.records.append({"referral_id": rid, **got.take, "source": referral.record["source"]})
        result.warnings += converter.warnings_for({**referral.existing, **got.take}, referral.row)
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


class Origins:
    """Where each row first came from: this file's row, or what a rejects file says it was rejected from."""

    _WHERE = re.compile(r"^(?P<file>.+?)(?:, sheet (?P<sheet>.*))?, row (?P<row>\d+)$")

    def __init__(self, table: SourceTable, remembered: dict[int, str]):
        self.table = table
        self.remembered = remembered
        names = [normalise_token(h) for h in table.headers]
        wanted = normalise_token(REJECTED_FROM_HEADER)
        self.column = names.index(wanted) if wanted in names else None

    def __call__(self, src: SourceRow) -> tuple[str, str, str]:
        """(origin as the rejects file shows it, the Source the tracker row gets, what the row is
        remembered by (``origin``): all three name the original file and row)."""
        said = None
        if (
            self.column is not None
            and self.column < len(src.values)
            and not is_blank(src.values[self.column])
        ):
            said = str(src.values[self.column]).strip()
        said = said or self.remembered.get(src.row)
        m = self._WHERE.match(said) if said else None
        if m:
            sheet = f" sheet {m['sheet']}" if m["sheet"] else ""
            return said, f"import: {m['file']} row {m['row']}", f"import: {m['file']}{sheet} row {m['row']}"
        table = self.table
        shown = f"{table.name}" + (f", sheet {table.sheet}" if table.sheet else "") + f", row {src.row}"
        return shown, f"import: {table.name} row {src.row}", origin(table, src.row)


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
    memory: Any = None,
) -> tuple[SourceTable, ColumnMapping]:
    """Read the source and map its columns; raises SourceError when a required field has no column.

    ``memory``: what a rejects file remembers (``rejects_memory.Memory``); its mapping is used
    when no ``mapping_path`` is given.
    """
    from cstracker.legacy.column_mapping import HeaderMatcher, mapping_from_text

    if mapping_path is None and memory is not None and memory.mapping_text:
        mapping_file = mapping_from_text(memory.mapping_text, fields, lists, memory.mapping_where)
    else:
        mapping_file = load_mapping(mapping_path, fields, lists)
    matcher = HeaderMatcher(fields, lists, mapping_file)
    table = read_source(source, sheet=sheet, header_score=matcher.score)
    mapping = map_columns(table.headers, fields, lists, mapping_file)
    table, mapping = without_personal_data(table, mapping)
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


def without_personal_data(table: SourceTable, mapping: ColumnMapping) -> tuple[SourceTable, ColumnMapping]:
    """The table without its personal-data columns: no value of theirs is read, shown or kept after this.

    The other columns keep their letters in the file (``ColumnMatch.source_index``).
    """
    drop = {c.index for c in mapping.personal()}
    if not drop:
        return table, mapping
    width = len(table.headers)
    keep = [i for i in range(width) if i not in drop]
    position = {old: new for new, old in enumerate(keep)}
    rows = [
        SourceRow(
            r.row, tuple(r.values[i] if i < len(r.values) else None for i in keep) + tuple(r.values[width:])
        )
        for r in table.rows
    ]
    stripped = replace(table, headers=[table.headers[i] for i in keep], rows=rows)
    columns = [replace(c, index=position.get(c.index, -1), source_index=c.index) for c in mapping.columns]
    return stripped, replace(mapping, columns=columns)


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
    overwrite: bool = False,
) -> ImportResult:
    """Import ``source`` into ``tracker`` (or, with ``dry_run``, only say what would happen).

    ``rejects_path`` is checked before the tracker is touched: it may replace an earlier rejects
    file, anything else only with ``overwrite``, and never a tracker.
    """
    from cstracker.tracker.tracker import Tracker

    tracker, source = Path(tracker), Path(source)
    rejects = Path(rejects_path) if rejects_path else None
    if rejects is not None:
        _check_rejects_path(rejects, tracker, source)
        if not dry_run:
            check_output(rejects, "rejects", overwrite=overwrite)
    from cstracker.legacy.rejects_memory import read_memory

    memory = read_memory(source)
    if dry_run:
        t = Tracker.open(tracker)
        table, mapping = read_and_map(source, t.fields, t.lists, sheet, mapping_path, memory)
        return plan_import(
            table,
            mapping,
            t.row_index(),
            today,
            True,
            progress,
            memory.origins,
            settings=t.settings,
            written=Written.load(t),
            prefer_source=prefer_source,
        )
    with Tracker.open_for_update(tracker, force=force) as t:
        table, mapping = read_and_map(source, t.fields, t.lists, sheet, mapping_path, memory)
        written = Written.load(t)
        result = plan_import(
            table,
            mapping,
            t.row_index(),
            today,
            False,
            progress,
            memory.origins,
            settings=t.settings,
            written=written,
            prefer_source=prefer_source,
        )
        for list_key, codes in result.added_codes.items():
            t.add_codes(list_key, codes)
        if rejects is not None and result.rejected:
            check_rejects_files(rejects, result, overwrite)  # a companion CSV too, before the save
        if result.records:
            assign_referral_ids(result.records, t)
            done = t.upsert(result.records, source=f"import: {table.name}")
            result.added_ids = list(done.added)
            result.updated_ids = list(done.updated)
            result.duplicate += len(done.unchanged)
            result.added, result.updated = len(done.added), len(done.updated)
            if done.added or done.updated:
                from cstracker.tracker.audit import AuditEntry, SourceFile, stage

                ids = {"added": list(done.added), "updated": list(done.updated)}
                refused = len(result.rejected)
                stage(
                    t,
                    AuditEntry(
                        "import", **ids, refused=refused, sources=[SourceFile(source, **ids, refused=refused)]
                    ),
                )
        for where, record, fps in result.remember:
            if record.get("referral_id"):
                written.put(where, record["referral_id"], fps)
        written.stage(t)
        t.save()
        result.notes = list(t.notes)
    if rejects is not None and result.rejected:
        try:
            result.rejects_files = write_rejects(rejects, result)
        except OutputError as e:
            saved = "the import itself was saved" if result.records else "nothing was imported"
            raise OutputError(
                f"{e}; {saved}: run it again with another --rejects for the rejected rows"
            ) from None
        result.rejects_path = rejects
    return result


def assign_referral_ids(records: list[Record], tracker: Any) -> None:
    """Give each new record without a Referral ID the next free one for its year, in file order.

    Every ID the file itself gives counts as used first (``identity.ReferralIds``, the count the
    tracker keeps), so a new ID never repeats one further down the file.
    """
    ids = tracker.referral_ids()
    for r in records:
        ids.note(r.get("referral_id"))
    for r in records:
        if not r.get("referral_id"):
            r["referral_id"] = ids.take(r.get("date_received") or dt.date.today())


def _check_rejects_path(rejects: Path, tracker: Path, source: Path) -> None:
    if rejects.suffix.lower() not in REJECTS_SUFFIXES:
        raise UsageError(f"--rejects {rejects}: must be an .xlsx or .csv file name")
    for other, what in ((tracker, "the tracker"), (source, "the file being imported")):
        if rejects.resolve() == other.resolve():
            raise UsageError(f"--rejects {rejects}: is {what}; choose another file name")
