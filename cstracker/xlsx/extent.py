"""Cell references checked before a reader library sees a sheet.

calamine (and fastexcel on top of it) sizes its grid from the first to the last
cell a sheet holds: one value typed in XFD1048576 makes it allocate a grid of 17
billion cells and abort the process; a value (or an empty styled cell, which is
what a note leaves) far down costs gigabytes. So before a sheet of a tracker or
an import source goes to a reader, its XML is streamed once and any cell or row
beyond the limits is refused with one line that names the cell and says how to
remove it. Forms have the same check in ``safe_read`` (their limits are smaller).

The scan looks only for references *beyond* the limits (a pattern built from the
limits), so it finds nothing quickly in a sane sheet.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from defusedxml import ElementTree as SafeET

from cstracker.core.errors import CstrackerError
from cstracker.xlsx.huge_dates import HugeDate, HugeDates
from cstracker.xlsx.parts import (
    BIG_PART_BYTES,
    SMALL_PART_BYTES,
    PartTooBig,
    ZipBomb,
    check_member,
    col_letters,
    part_relationships,
    read_part,
)

if TYPE_CHECKING:
    from cstracker.xlsx.cellscan import Located

CHUNK = 4 * 1024 * 1024

#: a sheet part over BOMB_FROM bytes that unpacks to more than BOMB_RATIO times its packed size is a bomb
BOMB_FROM, BOMB_RATIO = 10 * 1024 * 1024, 200

MAX_SHEET_ROW = 1_048_576


def _greater(limit: str, alphabet: str, max_len: int) -> str:
    """A regex for the strings over ``alphabet`` (no leading zero digit) that compare above ``limit``:
    longer ones, and same-length ones greater at their first difference."""
    first, last = alphabet[0], alphabet[-1]
    low_first = "1" if alphabet[0] == "0" else first
    n = len(limit)
    alts = [f"[{low_first}-{last}][{first}-{last}]{{{n},{max_len - 1}}}"] if n < max_len else []
    for i, ch in enumerate(limit):
        if ch == last:
            continue
        nxt = chr(ord(ch) + 1)
        rest = n - i - 1
        alts.append(
            re.escape(limit[:i]) + f"[{nxt}-{last}]" + (f"[{first}-{last}]{{{rest}}}" if rest else "")
        )
    return "(?:" + "|".join(alts) + ")" if alts else "(?!)"


_BEYOND_SHEET = "[A-Z]{4,}[0-9]*|[A-Z]{1,3}[0-9]{8,}"


def _patterns(max_row: int, max_col: int) -> list[re.Pattern[bytes]]:
    """Patterns for a cell beyond the columns and a row beyond the rows.

    Each starts with a literal (``<c r="``, ``<row r="``), the shape every spreadsheet program
    writes, so the regex engine skips to it in C: a sane 100 MB sheet is scanned in about a second.
    A cell's own row number is not matched separately (its row element carries the same number).
    """
    rows = _greater(str(max_row), "0123456789", 7)
    cols = _greater(col_letters(max_col), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3)
    # and references beyond any sheet (four letters, eight digits), which a reader takes at face value
    return [
        re.compile(rf'<c r="(?P<cell>{cols}[0-9]+|{_BEYOND_SHEET})"'.encode()),
        re.compile(rf'<row r="(?P<line>{rows}|[0-9]{{8,}})"'.encode()),
    ]


def _odd_patterns(max_row: int, max_col: int) -> list[re.Pattern[bytes]]:
    """For any other shape (a namespace prefix, attributes in another order): slower, and exact."""
    rows = _greater(str(max_row), "0123456789", 7)
    cols = _greater(col_letters(max_col), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3)
    return [
        re.compile(
            rf'<(?:\w+:)?c\b[^>]*?\br="(?P<cell>{cols}[0-9]+|[A-Z]{{1,3}}{rows}|{_BEYOND_SHEET})"'.encode()
        ),
        re.compile(rf'<(?:\w+:)?row\b[^>]*?\br="(?P<line>{rows}|[0-9]{{8,}})"'.encode()),
    ]


_ODD_SHAPE = re.compile(rb"<\w+:(?:c|row)\b|<(?:c|row) (?!r=)")
_REF = re.compile(rb'r="([A-Z]*)([0-9]*)"')


class FarCells:
    """Finds a cell (or row) beyond the limits in pieces of a sheet part, as another pass streams it;
    with ``date_styles`` (``table_cells.date_styles``), also a date cell no reader can hold (``huge_dates``)."""

    def __init__(self, max_row: int, max_col: int, date_styles: Collection[int] = ()):
        self.max_row, self.max_col = max_row, max_col
        self.fast, self.odd = _patterns(max_row, max_col), None
        self.huge = HugeDates(date_styles) if date_styles else None

    def find(self, data: bytes, located: Located | None = None) -> str | HugeDate | None:
        """The first cell (or row, as 'row N') in ``data`` beyond the limits, or a ``HugeDate``; None
        when there is neither.

        ``located``: ``cellscan.locate(data)`` when the caller has it: then the patterns run only
        when a located cell or row may be beyond the limits (a sane piece costs no search).
        """
        if self.huge is not None:
            huge = self.huge.find(data)
            if huge is not None:
                return huge
        if located is not None and not self._may_be_beyond(located):
            return None
        patterns = self.fast
        if _ODD_SHAPE.search(data):
            self.odd = self.odd or _odd_patterns(self.max_row, self.max_col)
            patterns = self.odd
        for pattern in patterns:
            m = pattern.search(data)
            if m and "cell" in pattern.groupindex and m["cell"]:
                return m["cell"].decode("ascii")
            if m:
                # name the row's first cell when it is there: what a person can go to
                inner = _REF.search(data, m.end(), m.end() + 4096)
                return (
                    (inner[1] + inner[2]).decode("ascii") if inner and inner[1] else f"row {int(m['line'])}"
                )
        return None

    def _may_be_beyond(self, located: Located) -> bool:
        """Whether a located cell or row may be beyond the limits (a superset of what the patterns find:
        columns past the last, four letters or more, eight digits or more, rows past the last)."""
        return bool(
            (located.col > self.max_col).any()
            or (located.letters > 3).any()
            or (located.digits >= 8).any()
            or (located.row_number > self.max_row).any()
            or (located.row_digits >= 8).any()
        )


def far_cell(
    zf: zipfile.ZipFile, part: str, max_row: int, max_col: int, date_styles: Collection[int] = ()
) -> str | HugeDate | None:
    """The first cell (or row, as 'row N') of ``part`` beyond the limits, or a date cell no reader can
    hold (``HugeDate``, with ``date_styles``); None when there is none."""
    far = FarCells(max_row, max_col, date_styles)
    tail = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                return None
            data = tail + chunk
            found = far.find(data)
            if found:
                return found
            tail = data[-512:]


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part name, from the workbook and its relationships (small parts)."""
    names = set(zf.namelist())
    book = "xl/workbook.xml"
    if book not in names:
        return {}
    # parts.part_relationships caps the part's size and refuses a DTD: PartTooBig and
    # DefusedXmlException are ValueErrors, as _small_xml raises
    targets = {rid: target for rid, (_type, target) in part_relationships(zf, book).items()}
    out = {}
    for el in _small_xml(zf, book).iter():
        if el.tag.rpartition("}")[2] == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.rpartition("}")[2] == "id"), "")
            if rid in targets and targets[rid] in names:
                out[el.get("name", "")] = targets[rid]
    return out


def _small_xml(zf: zipfile.ZipFile, name: str) -> ET.Element:
    """A small part, size-capped (``parts.read_part``) and parsed with defusedxml: a part too big and a
    DTD both raise a ValueError (``PartTooBig``, ``DefusedXmlException``)."""
    return SafeET.fromstring(read_part(zf, name, SMALL_PART_BYTES), forbid_dtd=True)


def check_sheet(
    zf: zipfile.ZipFile,
    part: str,
    where: str,
    max_row: int,
    max_col: int,
    error: Callable[[str], CstrackerError],
    hint: str,
    cells: bool = True,
    date_styles: Collection[int] = (),
) -> None:
    """Refuse a sheet part that is too big to unpack or holds a cell beyond the limits, or (with the
    workbook's ``date_styles``) a date cell no reader can hold (``huge_dates``).

    ``cells=False``: only its size; the caller's own pass over the part looks for far cells
    (``FarCells``) before any reader sees it, and refuses them with ``far_message``.
    """
    try:
        info = zf.getinfo(part)
        size = info.file_size
        try:
            check_member(info, BIG_PART_BYTES, BOMB_RATIO, BOMB_FROM)
        except ZipBomb as e:
            raise error(
                f"{where}: unpacks to {e.ratio:,} times its packed size (a 'zip bomb'; "
                f"a real sheet packs about 10 to 1); it was not read. {hint}"
            ) from None
        except PartTooBig:
            raise error(
                f"{where}: unpacks to {size // (1024 * 1024):,} MB, more than any sheet cstracker reads"
            ) from None
        found = far_cell(zf, part, max_row, max_col, date_styles) if cells else None
    except (zipfile.BadZipFile, KeyError, EOFError, zlib.error, NotImplementedError, RuntimeError, OSError):
        raise error(f"{where}: is damaged (the workbook's zip is not whole); {hint}") from None
    if found:
        raise error(far_message(where, found, max_row, max_col, hint))


def far_message(where: str, found: str | HugeDate, max_row: int, max_col: int, hint: str) -> str:
    """The one line for what ``FarCells`` found: a far cell (with ``hint``, how to remove it) or a huge date."""
    if isinstance(found, HugeDate):
        return found.message(where)
    return (
        f"{where}: has a value or note at {found}, far outside the area cstracker reads "
        f"(at most {max_row:,} rows and {max_col:,} columns, up to {col_letters(max_col)}): a reader would need "
        f"gigabytes for it. {hint}"
    )
