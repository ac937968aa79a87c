"""Read an old spreadsheet (CSV or XLSX) as a header plus numbered data rows.

Old trackers are messy: a title row or two, blank lines, the header somewhere
near the top, empty columns trailing off to the right, CSV files saved by Excel
in Windows-1252 with semicolons. This module finds the header row and hands
back every data row with the row number a person sees when they open the file,
so that every problem can point at it.

Values are never interpreted here: CSV cells stay text; XLSX cells are the raw
values the file stores (text, numbers, dates, booleans; a formula cell gives its
stored result, never the formula).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core.csvsafe import restore
from cstracker.core.errors import SourceError, UsageError
from cstracker.core.inputs import SOURCE_BYTES, check_regular, read_regular
from cstracker.core.problems import plural
from cstracker.xlsx.outputs import REJECTS_HEADINGS
from cstracker.xlsx.reader_errors import calamine_errors

#: How many rows from the top may hold title lines before the header.
HEADER_SEARCH_ROWS = 30
CSV_DELIMITERS = (",", ";", "\t")
XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

HeaderScore = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class SourceRow:
    """One data row: its row number in the file (1-based, as a spreadsheet shows it) and its cells."""

    row: int
    values: tuple[Any, ...]
    #: why the row could not be read as the file's structure says (a CSV quote never closed, more
    #: values than headings): the row is rejected with this reason, never guessed at
    problem: str = ""


@dataclass
class SourceTable:
    """A source file read down to its header and data rows."""

    path: Path
    headers: list[str]
    rows: list[SourceRow]
    header_row: int
    sheet: str = ""
    encoding: str = ""
    delimiter: str = ""
    #: title or note rows above the header (row numbers), skipped
    skipped_rows: list[int] = field(default_factory=list)
    #: rows with values to the right of the last headed column (row numbers)
    cells_beyond_header: list[int] = field(default_factory=list)
    #: the workbook's other sheets when the first was read because no --sheet was given
    other_sheets: list[str] = field(default_factory=list)
    #: an .xlsx in the 1904 date system: a bare number in a date column is one of its serials
    date1904: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def describe(self) -> str:
        """How the file was read, in one line."""
        if self.sheet:
            how = f"sheet {self.sheet!r}"
        else:
            shown = {",": "comma", ";": "semicolon", "\t": "tab"}.get(self.delimiter, repr(self.delimiter))
            how = f"{self.encoding}, {shown}-separated"
        return f"{self.name} ({how}): header on row {self.header_row}, {plural(len(self.rows), 'data row')}"


def read_source(
    path: str | Path, sheet: str | None = None, header_score: HeaderScore | None = None
) -> SourceTable:
    """Read a CSV or XLSX file. ``header_score`` counts the recognised headers in a row (the best row wins)."""
    path = Path(path)
    check_regular(path, SOURCE_BYTES, SourceError, "spreadsheet")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _read_workbook(path, sheet, header_score)
    if sheet:
        raise UsageError(f"{path}: --sheet is for Excel workbooks; this is a CSV file")
    if suffix not in (".csv", ".txt", ".tsv"):
        raise SourceError(f"{path}: not a spreadsheet cstracker can read; use a .csv or .xlsx file")
    return _read_csv(path, header_score)


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def decode_bytes(data: bytes, where: str) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with or without BOM, else Windows-1252, for the whole file."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError as e:
            raise SourceError(f"{where}: starts as UTF-8 but byte {e.start + 3} is not UTF-8") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as e:
        raise SourceError(
            f"{where}: not UTF-8 or Windows-1252 text (byte {e.start}); save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'"
        ) from None


def _read_csv(path: Path, header_score: HeaderScore | None) -> SourceTable:
    data = read_regular(path, SOURCE_BYTES, SourceError, "spreadsheet")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{path}: is not a text (CSV) file")
    text, encoding = decode_bytes(data, str(path))
    delimiter = sniff_delimiter(text, header_score)
    broken: dict[int, str] = {}
    table = _tabulate(path, csv_records(text, delimiter, broken), header_score, broken=broken)
    table.encoding, table.delimiter = encoding, delimiter
    if tuple(table.headers[-2:]) == REJECTS_HEADINGS:
        # cstracker's own rejects CSV: take off the quote it put before formula triggers
        table.headers = [restore(h) for h in table.headers]
        table.rows = [SourceRow(r.row, tuple(restore(v) for v in r.values)) for r in table.rows]
    return table


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def _physical_lines(text: str) -> list[str]:
    """The file's lines with their endings (only CR and LF end a line, as for the csv module)."""
    lines = _LINE.findall(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def csv_records(text: str, delimiter: str, broken: dict[int, str]) -> Iterator[list[str]]:
    """The CSV's records, read strictly. A record the csv module cannot read (a quote that never closes,
    a character after a closing quote, a NUL, an endless field) is given as its one line split at the
    delimiter, with the reason in ``broken[index]``; reading goes on at the next line, so the rows after it
    are never swallowed into one cell."""
    lines = _physical_lines(text)
    start, index = 0, 0
    while start < len(lines):
        reader = csv.reader(itertools.islice(lines, start, None), delimiter=delimiter, strict=True)
        done = 0  # lines of this reader consumed by complete records
        try:
            for record in reader:
                done = reader.line_num
                yield record
                index += 1
            return
        except csv.Error as e:
            at = start + done  # 0-based index of the line where the broken record starts
            broken[index] = _csv_problem(str(e), at + 1, reader.line_num - done)
            yield lines[at].rstrip("\r\n").split(delimiter)
            index += 1
            start = at + 1


def _csv_problem(reason: str, line: int, spanned: int) -> str:
    if "end of data" in reason or spanned > 1:
        what = (
            f'a quote (") opened on line {line} of the file is never closed, so the lines after it '
            "would run into one cell"
        )
    elif "NUL" in reason:
        what = f"line {line} holds a NUL character, which a text file never has"
    elif "field limit" in reason or "larger than" in reason:
        what = f"line {line} has a value longer than any cell (an unclosed quote?)"
    else:
        what = f"line {line} has text right after a closing quote ({reason})"
    return f"{what}; this row was not read. Fix it in the file (close or remove the quote) and import again"


def sniff_delimiter(text: str, header_score: HeaderScore | None = None) -> str:
    """The one delimiter of the whole file, from its first rows (never decided row by row)."""
    sample = "\n".join(text[:1_000_000].splitlines()[: HEADER_SEARCH_ROWS * 2])
    best, best_key = ",", (-1, -1)
    for delimiter in CSV_DELIMITERS:
        try:
            rows = [
                r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(c.strip() for c in r)
            ]
        except csv.Error:
            continue
        widths = Counter(len(r) for r in rows if len(r) > 1)
        steady = widths.most_common(1)[0][1] if widths else 0
        recognised = max((header_score(r) for r in rows), default=0) if header_score else 0
        key = (recognised, steady)
        if key > best_key:
            best, best_key = delimiter, key
    return best


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def _read_workbook(path: Path, sheet: str | None, header_score: HeaderScore | None) -> SourceTable:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except calamine_errors():
        raise SourceError(
            f"{path}: not a readable Excel workbook (damaged, password-protected, or another kind of file); "
            "open it in Excel and save it again as .xlsx"
        ) from None
    names = list(book.sheet_names)
    if not names:
        raise SourceError(f"{path}: has no sheets")
    if sheet is None:
        chosen = names[0]
    else:
        folded = {n.strip().lower(): n for n in names}
        chosen = folded.get(sheet.strip().lower(), "")
        if not chosen:
            raise SourceError(f"{path}: has no sheet {sheet!r}; its sheets are: {', '.join(names)}")
    _check_extent(path, chosen)
    try:
        cells = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except calamine_errors() as e:
        raise SourceError(f"{path}, sheet {chosen!r}: cannot be read ({type(e).__name__})") from None
    table = _tabulate(path, ([_cell(v) for v in r] for r in cells), header_score, sheet=chosen)
    table.sheet = chosen
    if sheet is None:
        table.other_sheets = names[1:]
    table.date1904 = _date1904(path)
    return table


#: the largest area of a source sheet read (a reader holds every cell of it: about 1 GB at these)
SOURCE_ROWS, SOURCE_COLS = 200_000, 200


def _check_extent(path: Path, sheet: str) -> None:
    """An .xlsx sheet with a cell far out (XFD1048576) is refused before calamine sizes a grid by it, and
    one with a date cell calamine cannot hold (``huge_dates``) before it panics on it."""
    import zipfile

    from cstracker.xlsx.extent import check_sheet, sheet_parts
    from cstracker.xlsx.table_cells import date_styles

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a zip (.xls): calamine reads it or says why
    with zf:
        try:
            part = sheet_parts(zf).get(sheet)
        except (KeyError, ValueError, ET.ParseError, zipfile.BadZipFile, EOFError, OSError):
            raise SourceError(
                f"{path}: not a readable Excel workbook (its list of sheets is damaged); "
                "open it in Excel and save it again as .xlsx"
            ) from None
        if part is not None:
            check_sheet(
                zf,
                part,
                f"{path}, sheet {sheet!r}",
                SOURCE_ROWS,
                SOURCE_COLS,
                SourceError,
                "Delete it (in Excel, Ctrl+End goes to the last cell in use), or copy the table to a new "
                "workbook, and import that",
                date_styles=date_styles(zf),
            )


def _date1904(path: Path) -> bool:
    """Is this .xlsx in the 1904 date system? (calamine turns date cells right, but not bare numbers.)"""
    import zipfile

    from cstracker.xlsx.parts import is_date1904, read_part

    try:
        with zipfile.ZipFile(path) as zf:
            return is_date1904(read_part(zf, "xl/workbook.xml"))
    # ValueError: among others parts.PartTooBig, a workbook.xml larger than any real one
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        return False


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # calamine gives every number as a float; 99.0 would be shown to people as "99.0"
        return int(value)
    if isinstance(value, dt.timedelta):
        # a time-only cell; kept as text so it is reported, not mistaken for a date
        return str(value)
    return value


# ---------------------------------------------------------------------------
# header and rows
# ---------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def header_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else " ".join(str(value).split())


def _find_header(records: list[list[Any]], header_score: HeaderScore | None) -> int:
    """Index of the header row: the row with most recognised headers, else the first wide row."""
    best, best_score = -1, 0
    first_wide = -1
    for i, r in enumerate(records[: HEADER_SEARCH_ROWS + 1]):
        filled = [header_text(v) for v in r if not _blank(v)]
        if not filled:
            continue
        if first_wide < 0 and len(filled) >= 2:
            first_wide = i
        if header_score is not None:
            score = header_score([header_text(v) for v in r])
            if score > best_score:
                best, best_score = i, score
    if best >= 0:
        return best
    if first_wide >= 0:
        return first_wide
    return next((i for i, r in enumerate(records) if any(not _blank(v) for v in r)), -1)


def _tabulate(
    path: Path,
    records: Iterable[list[Any]],
    header_score: HeaderScore | None,
    sheet: str = "",
    broken: dict[int, str] | None = None,
) -> SourceTable:
    """Header and data rows; rows are consumed as they come, so a big file is held once, as tuples."""
    where = f"{path}" + (f", sheet {sheet!r}" if sheet else "")
    stream = iter(records)
    head = list(itertools.islice(stream, HEADER_SEARCH_ROWS + 1))
    while head and not any(any(not _blank(v) for v in r) for r in head):
        more = next(stream, None)  # a file that starts with many blank lines
        if more is None:
            break
        head.append(more)
    at = _find_header(head, header_score)
    if at < 0:
        raise SourceError(f"{where}: is empty; expected a header row and data rows")
    header_cells = [header_text(v) for v in head[at]]
    while header_cells and not header_cells[-1]:
        header_cells.pop()
    width = len(header_cells)
    skipped = [i + 1 for i in range(at) if any(not _blank(v) for v in head[i])]
    rows: list[SourceRow] = []
    beyond: list[int] = []
    for i, r in enumerate(itertools.chain(head[at + 1 :], stream), start=at + 1):
        problem = broken.get(i, "") if broken is not None else ""
        if not problem and not any(not _blank(v) for v in r):
            continue
        extra = len(r) > width and any(not _blank(v) for v in r[width:])
        if extra and broken is not None and not problem:
            # in a CSV, more values than headings means a delimiter inside an unquoted value or a
            # shifted row: every value after it may be in the wrong column, so the row is not guessed at
            count = max(j for j, v in enumerate(r) if not _blank(v)) + 1
            problem = (
                f"has {count} values but the header has {width} columns (a separator inside a value that is "
                "not in quotes?); this row was not read. Put that value in quotes, or remove the "
                "extra values, and import again"
            )
        elif extra:
            beyond.append(i + 1)
        values = tuple(r[:width]) + ("",) * (width - len(r))
        rows.append(SourceRow(i + 1, values, problem))
    return SourceTable(path, header_cells, rows, at + 1, skipped_rows=skipped, cells_beyond_header=beyond)
