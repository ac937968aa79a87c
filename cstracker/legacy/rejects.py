"""The rejects file of an import: every rejected row, every value it was read with, and its reasons.

Lossless for every column read. ``--rejects x.csv`` writes CSV (UTF-8, formula
triggers neutralised the reversible way of ``csvsafe``, which ``import`` undoes
when it reads the file back). ``--rejects x.xlsx`` writes a workbook; when a value
is longer than a cell holds (32,767 characters) or the source is wider than a
sheet (16,384 columns, with two more for the reasons), the workbook cannot hold
every value: the complete rows are then also written as ``<stem> (complete).csv``
beside it, and the workbook says so on its first row's reasons and on a
``Read me`` sheet. The header row is the source's own, on row 1, so the fixed
file imports with the same mapping.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from cstracker.core.csvsafe import csv_text
from cstracker.legacy.rejects_memory import mapping_beside
from cstracker.legacy.results import ImportResult
from cstracker.xlsx.outputs import check_output, stamp, write_output

REASONS_HEADER = "Import problems"
REJECTED_FROM_HEADER = "Rejected from"
REJECTS_SUFFIXES = (".xlsx", ".csv")
CELL_LIMIT = 32767
SHEET_COLUMNS = 16384
#: the source columns an .xlsx rejects sheet holds, leaving room for the two columns of reasons
XLSX_SOURCE_COLUMNS = SHEET_COLUMNS - 2


def companion_csv(path: Path) -> Path:
    """Where an .xlsx rejects file puts the complete rows it cannot hold."""
    return path.with_name(f"{path.stem} (complete).csv")


def overflow(result: ImportResult) -> tuple[int, int]:
    """(values longer than a cell holds, source columns past what a sheet holds) among the rejected rows."""
    width = len(result.table.headers)
    too_long = sum(
        1 for r in result.rejected for v in r.values if isinstance(v, str) and len(v) > CELL_LIMIT
    ) + sum(1 for h in result.table.headers if len(h) > CELL_LIMIT)
    too_wide = max(0, width - XLSX_SOURCE_COLUMNS)
    return too_long, too_wide


def files_to_write(path: Path, result: ImportResult) -> list[Path]:
    """The files ``write_rejects`` will write for ``result`` (the companion CSV only when needed)."""
    if path.suffix.lower() == ".xlsx" and any(overflow(result)):
        return [path, companion_csv(path)]
    return [path]


def _mapping_text(result: ImportResult) -> str:
    mapping = result.mapping.mapping_file
    return mapping.text if mapping is not None else ""


def _mapping_note(path: Path) -> str:
    return f"# cstracker: the mapping used by the import that wrote {path.name}; keep it beside that file\n"


def _is_our_mapping(beside: Path, csv_path: Path) -> bool:
    """An earlier run's ``<name>.mapping.toml`` (its first line is our note), which a new run may replace."""
    try:
        with open(beside, encoding="utf-8-sig") as fh:
            return fh.readline() == _mapping_note(csv_path)
    except (OSError, UnicodeDecodeError):
        return False


def check_rejects_files(path: Path, result: ImportResult, overwrite: bool = False) -> None:
    """Before the tracker is saved: every file the rejects will need may be written (``check_output``)."""
    for p in files_to_write(path, result):
        check_output(p, "rejects", overwrite=overwrite)
    if path.suffix.lower() == ".csv" and _mapping_text(result):
        beside = mapping_beside(path)
        check_output(beside, "rejects", overwrite=overwrite or _is_our_mapping(beside, path))


def write_rejects(path: Path, result: ImportResult) -> list[Path]:
    """Write the rejects file (by its suffix, .xlsx or .csv) and any companion CSV; return what was written."""
    path = Path(path)
    written = files_to_write(path, result)
    if path.suffix.lower() == ".csv":
        text = _mapping_text(result)
        if text:  # a CSV holds one sheet: the mapping goes beside it, where import looks for it
            beside = mapping_beside(path)
            content = _mapping_note(path) + text
            write_output(beside, lambda tmp: tmp.write_text(content, encoding="utf-8"), zip_package=False)
            written.append(beside)
        write_output(path, lambda tmp: _write_csv(tmp, result), zip_package=False)
        return written
    if len(written) > 1:
        write_output(written[1], lambda tmp: _write_csv(tmp, result), zip_package=False)
    write_output(path, lambda tmp: _write_xlsx(tmp, result, written[1] if len(written) > 1 else None))
    return written


def _where(result: ImportResult, row: int) -> str:
    table = result.table
    return f"{table.name}" + (f", sheet {table.sheet}" if table.sheet else "") + f", row {row}"


def _origin(result: ImportResult, rejected: Any) -> str:
    return getattr(rejected, "origin", "") or _where(result, rejected.row)


def remember(wb: Any, result: ImportResult) -> None:
    """The hidden sheet that lets the fixed rejects file import again as it came (``rejects_memory``)."""
    from cstracker.legacy.rejects_memory import write_memory_sheet

    mapping = result.mapping.mapping_file
    text = mapping.text if mapping is not None else ""
    name = mapping.path.name if mapping is not None and mapping.path is not None and text else ""
    origins = [(i, _origin(result, r)) for i, r in enumerate(result.rejected, start=2)]
    write_memory_sheet(wb, text, name, origins)


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def _write_csv(path: Path, result: ImportResult) -> None:
    rows = [[*result.table.headers, REASONS_HEADER, REJECTED_FROM_HEADER]]
    for r in result.rejected:
        rows.append([*(_csv_value(v) for v in r.values), "\n".join(r.reasons), _origin(result, r)])
    # UTF-8 with a byte-order mark: Excel then opens accents and symbols right
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(csv_text(rows))


def _write_xlsx(path: Path, result: ImportResult, complete: Path | None) -> None:
    import xlsxwriter

    table = result.table
    headers = table.headers[:XLSX_SOURCE_COLUMNS]
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    stamp(wb, "rejects")
    wb.set_properties({"title": "Contextual Safeguarding tracker: rows rejected by an import, with reasons"})
    try:
        ws = wb.add_worksheet("Rejected")
        bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top", "font_color": "#9C0006"})
        date = wb.add_format({"num_format": "dd/mm/yyyy"})
        for col, header in enumerate([*headers, REASONS_HEADER, REJECTED_FROM_HEADER]):
            ws.write_string(0, col, header[:CELL_LIMIT], bold)
            ws.set_column(col, col, max(10, min(40, len(header) + 2)))
        reasons_col = len(headers)
        ws.set_column(reasons_col, reasons_col, 70)
        note = (
            f"Not every value fits in this workbook: the complete rows are in {complete.name} beside it"
            if complete is not None
            else ""
        )
        for i, rejected in enumerate(result.rejected, start=1):
            cut = False
            for col, value in enumerate(rejected.values[:XLSX_SOURCE_COLUMNS]):
                cut |= _write_value(ws, i, col, value, date)
            cut |= len(rejected.values) > XLSX_SOURCE_COLUMNS and any(
                v not in (None, "") for v in rejected.values[XLSX_SOURCE_COLUMNS:]
            )
            reasons = list(rejected.reasons) + ([note + " (this row is cut here)."] if cut and note else [])
            ws.write_string(i, reasons_col, "\n".join(reasons)[:CELL_LIMIT], wrap)
            ws.write_string(i, reasons_col + 1, _origin(result, rejected))
        ws.freeze_panes(1, 0)
        remember(wb, result)
        if complete is not None:
            readme = wb.add_worksheet("Read me")
            long_values, wide = overflow(result)
            readme.write_string(0, 0, note + ".")
            readme.write_string(
                1,
                0,
                f"{long_values} values are longer than a cell holds (32,767 characters) and "
                f"{wide} columns are past the last column a sheet has: they are cut or left out here. "
                f"Fix and import {complete.name} instead of this workbook.",
            )
            readme.set_column(0, 0, 120)
    finally:
        wb.close()


def _finite(number: float) -> bool:
    """A number a cell can hold (inf, nan and integers beyond a double are written as their text)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _write_value(ws: Any, row: int, col: int, value: Any, date_format: Any) -> bool:
    """Write one original value; True when it had to be cut to fit a cell."""
    if value is None or (isinstance(value, str) and value == ""):
        return False
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float) and _finite(value) and abs(value) < 2**53:
        ws.write_number(row, col, value)
    elif isinstance(value, dt.datetime | dt.date) and 1900 <= value.year <= 9999:
        ws.write_datetime(row, col, value, date_format)
    else:
        text = str(value)
        ws.write_string(row, col, text[:CELL_LIMIT])
        return len(text) > CELL_LIMIT
    return False
