"""Lint the rows of a tracker as typed or pasted by hand (``cstracker validate``).

Pasting into Excel skips its data validation, so anything can be in a cell.
Each problem names the row, the cell, the value, what is allowed and a rule
code. The rules themselves live in ``rules.py`` (shared with ingest and
import); this module adds the checks that need the whole table: duplicate
Referral IDs, missing IDs, one form on two rows and the same young person
referred twice on one day. Rows are grouped by the index every way in finds rows
by (``identity.SameReferral``), so what validate calls the same referral is what
ingest, import and ``Tracker.upsert`` find.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core import identity
from cstracker.core.convert import is_blank
from cstracker.core.errors import REPAIR, TrackerError
from cstracker.core.problems import Problem, shown_value
from cstracker.core.reading import Formula, Reading, State, described, read_cell, shown
from cstracker.core.rules import RULE_FOR_KIND, Finding, check_converted, rows_to_check
from cstracker.core.schema import CodeLists, Field, Kind, with_prefix
from cstracker.tracker.create import SHEET_REFERRALS
from cstracker.xlsx.encryption import calamine_book, open_zip, source
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.reader_errors import calamine_errors
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
        if sheet.start is None:
            # no cell at all, although the layout found the header row: two copies of the sheet part
            # (a damaged zip) that disagree
            raise TrackerError(
                f"{tracker.path}: sheet {SHEET_REFERRALS} cannot be read (it is empty); {REPAIR}"
            )
        top, left = sheet.start
        wanted = [(c, by_col[c], c - 1 - left) for c in sorted(by_col) if c - 1 - left >= 0]
        for i, cells_of_row in enumerate(sheet.iter_rows()):
            number = top + i + 1
            if number < first:
                continue
            width = len(cells_of_row)
            stored = ((c, f, cells_of_row[at] if at < width else None) for c, f, at in wanted)
            raw, readings, used = _row_readings(number, stored, formulas, blank, seen, lists, lay.date1904)
            if not used:
                continue
            cells = {k: f"{letters[k]}{number}" for k in letters}
            out.append(ReadRow(number, raw, cells, readings, outside=number > last_table_row))
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as e:
        raise TrackerError(
            f"{tracker.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
        ) from None
    except calamine_errors() as e:
        raise TrackerError(
            f"{tracker.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
        ) from None
    return out


class _Cells:
    """A row's cell references by field key, made when a problem needs one."""

    __slots__ = ("letters", "number")

    def __init__(self, letters: dict[str, str], number: int):
        self.letters, self.number = letters, number

    def get(self, key: str, default: str = "") -> str:
        letters = self.letters.get(key)
        return f"{letters}{self.number}" if letters else default


@dataclass
class CheckedRow:
    """A non-blank row as validate checks it: its record, and its cells' readings when any is not canonical."""

    row: int
    record: dict[str, Any]
    cells: Any
    outside: bool = False
    #: the row read cell by cell (``read_rows``'s reading) when a cell may need a finding; None: every cell canonical
    read: ReadRow | None = None
    #: False: the rules across fields find nothing in it (``rules.rows_to_check``), and ``record`` holds
    #: only what the checks across rows read
    checked: bool = True


_NUMBER_KINDS = (Kind.DATE, Kind.DATETIME, Kind.INT)


def checked_rows(tracker, today: dt.date | None = None) -> Iterator[CheckedRow]:
    """Every non-blank row, read column-wise: what ``read_rows`` gives, without a Python call per cell.

    The table is read as a reader's text view (fastexcel into Arrow, in slices when large) and
    each column through ``reading.read_column`` (each distinct value read once). Every row with
    a cell that view cannot vouch for (not canonical, new or unreadable there, a formula, or
    stored as another type than cstracker writes: ``table_cells.odd_cells``) is read cell by
    cell instead (``table_cells.stored_rows`` + ``reading.read_cell``), as ``read_rows`` reads it.
    Falls back to ``read_rows`` for sheet XML in a shape the one pass does not read. A clean row
    the rules across fields (on whole columns, ``rules.rows_to_check``) cannot fault comes with
    ``checked=False`` and only the values the checks across rows need.
    """
    import numpy as np

    from cstracker.core.reading import read_column
    from cstracker.tracker.reader import SLICED_FROM_ROWS
    from cstracker.xlsx.table_cells import OddCells

    lay = tracker.layout
    lists = tracker.lists
    first = lay.header_row + 1
    last_table_row = lay.table_ref[3]
    letters = {key: col_letters(col) for key, col in lay.columns.items()}
    data = [lay.fields_by_key[k] for k in lay.columns if lay.fields_by_key[k].kind is not Kind.FORMULA]
    text_cols = [lay.columns[f.key] for f in data if f.kind not in _NUMBER_KINDS]
    number_cols = [lay.columns[f.key] for f in data if f.kind in _NUMBER_KINDS]
    # formulas and cells stored as another type, found in the read's own pass over the sheet XML
    # (which is also its far-cell check, before any reader sees the sheet)
    search = OddCells(
        text_cols,
        number_cols,
        first,
        date_cols=[lay.columns[f.key] for f in data if f.kind in (Kind.DATE, Kind.DATETIME)],
        whole_cols=[lay.columns[f.key] for f in data if f.kind in (Kind.DATE, Kind.INT)],
    )
    try:
        src = source(tracker.path)
        frame = tracker._load(
            typed=False, sliced=lay.table_ref[3] - lay.header_row > SLICED_FROM_ROWS, inspect=search
        )
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as e:
        raise TrackerError(
            f"{tracker.path}: sheet {SHEET_REFERRALS} cannot be read ({e}); {REPAIR}"
        ) from None
    if not search.column_wise:
        yield from cell_by_cell_rows(tracker)
        return
    formulas, odd = search.formulas, search.odd
    numbers = frame["_row"].to_numpy() if "_row" in frame.columns else np.arange(first, first + len(frame))
    blank = tracker._blank_mask(frame).to_numpy() if len(frame) else np.zeros(0, bool)
    suspect = np.zeros(len(frame), bool)
    columns = []  # (key, kind, typed column): compact (Arrow, numpy) until a chunk of rows needs them
    for f in data:
        got = read_column(f, frame.pop(f.key), lists, lay.date1904)  # each column dropped once read
        suspect |= got.not_canonical | got.unreadable
        column = got.values
        if f.kind in (Kind.TEXT, Kind.LONGTEXT):
            column = column.str.strip()
            suspect |= (column == "").fillna(False).to_numpy(dtype=bool)  # spaces only: read, not canonical
        columns.append((f, column))
    del frame
    special = {*odd, *(row for row, _ in formulas)}
    suspect |= np.isin(numbers, np.fromiter(special, dtype=np.int64, count=len(special)))
    read_whole = _read_whole(tracker, src, {int(n) for n in numbers[suspect]} | special, formulas, letters)
    clean = np.flatnonzero(~blank & ~suspect)
    # the rules across fields, on whole columns: a clean row they leave out needs no record beyond
    # what the checks across rows read (its Referral ID, Mosaic ID, date received)
    check = rows_to_check({f.key: column for f, column in columns}, len(numbers), today)
    # rows in sheet order: the clean ones a chunk at a time (their records made from the columns),
    # each row read whole where it falls among them
    whole = iter(sorted(read_whole))
    pending = next(whole, None)
    for start in range(0, len(clean), _CHUNK):
        at = clean[start : start + _CHUNK]
        full = check[at]
        some = np.flatnonzero(full)
        records: list[dict[str, Any]] = [{} for _ in range(len(at))]
        for f, column in columns:
            key = f.key
            rows = None if key in _CROSS_ROW_KEYS else some
            where, values = _python_values(f, column.iloc[at if rows is None else at[rows]])
            if rows is not None:
                where = rows[where].tolist()
            for i, v in zip(where, values, strict=True):
                records[i][key] = v
        for i, record, checked in zip(at.tolist(), records, full.tolist(), strict=True):
            number = int(numbers[i])
            while pending is not None and pending < number:
                yield read_whole[pending]
                pending = next(whole, None)
            yield CheckedRow(
                number, record, _Cells(letters, number), number > last_table_row, checked=checked
            )
    while pending is not None:
        yield read_whole[pending]
        pending = next(whole, None)


#: what the checks across rows read of a row (duplicate IDs and forms, the same person twice, a missing ID)
_CROSS_ROW_KEYS = ("referral_id", "form_id", "mosaic_id", "date_received")
#: rows whose records are made at once from the columns
_CHUNK = 5_000


def _row_readings(
    number: int,
    cells: Iterable[tuple[int, Field, Any]],
    formulas: Mapping[tuple[int, int], str],
    blank: Mapping[str, Any],
    seen: dict[str, dict],
    lists: CodeLists,
    date1904: bool,
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """One sheet row's (column, field, stored value) cells as validate reads them: the raw values, each
    field's reading (``blank``'s where the cell is empty) and whether the row holds anything.

    The one cell-by-cell reading of a row, for the whole-sheet read (``read_rows``) and the rows the
    column-wise read hands over (``_read_whole``). ``seen`` (field key -> {(type, value): reading}) is
    kept across rows: the same value in the same column reads the same, so each is read once.
    """
    raw: dict[str, Any] = {}
    readings = dict(blank)
    used = False
    for c, f, v in cells:
        if (number, c) in formulas:
            v = Formula(formulas[(number, c)], v)
        elif v is None or v == "":
            continue
        raw[f.key] = v
        if f.kind is not Kind.FORMULA:
            used = used or isinstance(v, Formula) or not is_blank(v)
        memo = seen[f.key]
        key = (type(v), v)
        got = memo.get(key)
        if got is None:
            got = memo[key] = read_cell(f, v, lists, date1904)
        readings[f.key] = got
    return raw, readings, used


def _read_whole(tracker, src, numbers: set[int], formulas, letters) -> dict[int, CheckedRow]:
    """These rows read cell by cell, as ``read_rows`` reads them (blank ones left out)."""
    from cstracker.xlsx.table_cells import stored_rows

    lay, lists = tracker.layout, tracker.lists
    out: dict[int, CheckedRow] = {}
    if not numbers:
        return out
    by_col = {col: lay.fields_by_key[key] for key, col in lay.columns.items()}
    blank_reading = {f.key: read_cell(f, None, lists) for f in by_col.values()}
    seen: dict[str, dict] = {f.key: {} for f in by_col.values()}
    with open_zip(src) as zf:
        stored = stored_rows(zf, lay.sheet_part, numbers, by_col, lay.date1904)
    columns = sorted(by_col.items())
    for number in sorted(numbers):
        cells_of_row = stored.get(number, {})
        row_cells = ((c, f, cells_of_row.get(c)) for c, f in columns)
        raw, readings, used = _row_readings(
            number, row_cells, formulas, blank_reading, seen, lists, lay.date1904
        )
        if not used:
            continue
        cells = {k: f"{letters[k]}{number}" for k in letters}
        row = ReadRow(number, raw, cells, readings, outside=number > lay.table_ref[3])
        out[number] = CheckedRow(number, row.record, cells, row.outside, row)
    return out


def cell_by_cell_rows(tracker, today: dt.date | None = None) -> list[CheckedRow]:
    """Every non-blank row read cell by cell (``read_rows``): for sheet XML the column-wise read
    cannot vouch for, and the reference it is tested against."""
    return [CheckedRow(r.row, r.record, r.cells, r.outside, r) for r in read_rows(tracker)]


def _python_values(f, column) -> tuple[list[int], list[Any]]:
    """The rows with a value in a typed column, and those values as ``read_cell`` gives them
    (date, datetime, int, True, str)."""
    import numpy as np

    if f.kind is Kind.FLAG:
        at = np.flatnonzero(column.to_numpy(dtype=bool)).tolist()
        return at, [True] * len(at)
    if f.kind in (Kind.TEXT, Kind.LONGTEXT):
        filled = column.notna() & (column != "").fillna(False)
    else:
        filled = column.notna()
    at = np.flatnonzero(filled.to_numpy(dtype=bool))
    kept = column.iloc[at]
    if f.kind is Kind.DATE:
        values = kept.dt.date.tolist()
    elif f.kind is Kind.DATETIME:
        values = list(kept.dt.to_pydatetime())
    elif f.kind is Kind.INT:
        values = [int(v) for v in kept.tolist()]
    else:
        values = kept.tolist()
    return at.tolist(), values


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
            message = with_prefix(reading.error or "is not allowed", prefix)
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
    # the far-cell check of the Referrals sheet is made in checked_rows' own pass over it
    tracker = Tracker.open(path, far_cells_later=True)
    fields_by_key = {f.key: f for f in tracker.fields}
    report = ValidationReport(path)
    # the one index of "the same referral" the ways in use, keeping every row of each key
    same: identity.SameReferral[Any] = identity.SameReferral(keep_all=True)
    missing_id_rows = []
    outside = []
    mosaics: dict[int, object] = {}

    for row in checked_rows(tracker, today=today):
        report.rows_checked += 1
        record = row.record
        bad: set[str] = set()
        if row.checked:
            findings = (
                cell_findings(row.read, fields_by_key, tracker.lists, tracker.settings.referral_id_prefix)
                if row.read is not None
                else []
            )
            bad = {f.field_key for f in findings if f.severity == "error"}
            findings += check_converted(record, bad, tracker.lists, today)
            for finding in findings:
                report.problems.append(_problem(finding, row, fields_by_key, path))
        if row.outside:
            outside.append(row)
        rid = record.get("referral_id")
        if not rid and "referral_id" not in bad:
            missing_id_rows.append((row, record))
        same.add(row, rid, record.get("form_id"), record.get("mosaic_id"), record.get("date_received"))
        mosaics[row.row] = record.get("mosaic_id")
        row.record, row.read = {}, None  # what is kept of a row from here is where it is

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

    for rid, rows in same.repeated_ids().items():
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
    for form_id, rows in same.repeated_forms().items():
        # one blank form copied for several young people is ingest's "copied-form" warning, not
        # this: rows of one Form ID that are not different young people are one form entered twice,
        # and a form ingested again updates one of them only
        twice = [
            r
            for r in rows
            if any(o is not r and not identity.different_person(mosaics[o.row], mosaics[r.row]) for o in rows)
        ]
        if twice:
            named = ", ".join(str(r.row) for r in twice)
            report.problems += [
                table_problem(
                    r,
                    "duplicate-form-id",
                    f"the same form (Form ID {form_id}) is on rows {named}, not for different young people; "
                    "is this one referral entered twice? A form ingested again updates one of them only",
                    key="form_id",
                    severity="warning",
                )
                for r in twice
            ]
    for rows in same.repeated_people().values():
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
