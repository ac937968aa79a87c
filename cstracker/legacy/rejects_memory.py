"""What a rejects file remembers, so that fixing and importing it again needs nothing else.

The coordinator opens the rejects file, fixes values and saves it, in Excel or
LibreOffice, then imports it. It must still know the mapping the first import
used and where each row first came from, so the tracker's Source keeps saying
``import: <original file> row <n>``:

* each row's origin is in its visible ``Rejected from`` column (it moves with the
  row when the file is sorted or rows are deleted);
* an .xlsx rejects file also has a hidden sheet ``_cstracker_import``: the
  mapping file's text and each row's origin by its row number (for a file whose
  ``Rejected from`` column was deleted). Excel and LibreOffice keep hidden sheets
  and their cells when they save; a custom XML part may be dropped.
* a .csv rejects file cannot hold a second sheet: the mapping goes beside it as
  ``<name>.mapping.toml`` (and the origins are in the ``Rejected from`` column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.xlsx.reader_errors import calamine_errors

MEMORY_SHEET = "_cstracker_import"
MAPPING_KEY = "mapping"
MAPPING_NAME_KEY = "mapping file"
ORIGINS_HEADING = "rejects row"
#: a cell holds at most this many characters; a longer mapping is split over the cells to its right
CELL_LIMIT = 32767


@dataclass
class Memory:
    """A rejects file's memory: the mapping text (or ''), where it came from, and row -> origin."""

    mapping_text: str = ""
    mapping_where: str = ""
    origins: dict[int, str] = field(default_factory=dict)


def mapping_beside(path: Path) -> Path:
    """Where a CSV rejects file keeps its mapping: ``rejected.csv`` -> ``rejected.mapping.toml``."""
    return path.with_name(path.stem + ".mapping.toml")


def write_memory_sheet(wb: Any, mapping_text: str, mapping_name: str, origins: list[tuple[int, str]]) -> None:
    """Add the hidden memory sheet to an xlsxwriter workbook being written."""
    ws = wb.add_worksheet(MEMORY_SHEET)
    ws.write_string(0, 0, "What cstracker needs to import this file again. Leave this sheet as it is.")
    ws.write_string(1, 0, MAPPING_NAME_KEY)
    ws.write_string(1, 1, mapping_name)
    ws.write_string(2, 0, MAPPING_KEY)
    for i in range(0, max(1, len(mapping_text)), CELL_LIMIT):
        ws.write_string(2, 1 + i // CELL_LIMIT, mapping_text[i : i + CELL_LIMIT])
    ws.write_string(4, 0, ORIGINS_HEADING)
    ws.write_string(4, 1, "rejected from")
    for n, (row, origin) in enumerate(origins, start=5):
        ws.write_number(n, 0, row)
        ws.write_string(n, 1, origin)
    ws.hide()


def read_memory(source: str | Path) -> Memory:
    """What ``source`` remembers, if it is a rejects file; an empty Memory otherwise (never raises)."""
    from cstracker.core.errors import CstrackerError
    from cstracker.core.inputs import CONFIG_BYTES, SOURCE_BYTES, check_regular, read_regular

    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        beside = mapping_beside(path)
        try:  # a regular file only: a pipe beside the source must not block (issue 8)
            text = read_regular(beside, CONFIG_BYTES, CstrackerError, "mapping file").decode("utf-8-sig")
        except (CstrackerError, UnicodeDecodeError):
            return Memory()
        return Memory(text, str(beside))
    if suffix not in (".xlsx", ".xlsm"):
        return Memory()
    try:  # read_source says what is wrong with a path that is not a regular file; here: nothing to remember
        check_regular(path, SOURCE_BYTES, CstrackerError, "spreadsheet")
    except CstrackerError:
        return Memory()
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        if MEMORY_SHEET not in book.sheet_names:
            return Memory()
        grid = book.get_sheet_by_name(MEMORY_SHEET).to_python(skip_empty_area=False)
    except calamine_errors():  # a source that cannot be read is reported by source_reader, not here
        return Memory()
    memory = Memory(mapping_where=f"the mapping remembered in {path.name}")
    in_origins = False
    for row in grid:
        key = str(row[0]).strip() if row and row[0] is not None else ""
        if in_origins:
            if isinstance(row[0], int | float) and len(row) > 1 and row[1]:
                memory.origins[int(row[0])] = str(row[1]).strip()
            continue
        if key == MAPPING_KEY:
            memory.mapping_text = "".join(str(v) for v in row[1:] if v not in (None, ""))
        elif key == MAPPING_NAME_KEY and len(row) > 1 and row[1]:
            memory.mapping_where = f"the mapping from {row[1]} remembered in {path.name}"
        elif key == ORIGINS_HEADING:
            in_origins = True
    return memory
