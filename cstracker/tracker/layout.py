"""Read a tracker workbook's structure straight from its zip package.

Where the Referrals sheet and its Table live (the part names), which column
holds which field (found by heading, so a coordinator may insert, reorder,
sort or filter columns), the settings (defined names ``cs_<setting>``) and the
code lists (defined names ``list_<key>`` on the Lists sheet). Only small XML
parts are parsed here; the rows themselves are read by ``tracker.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from cstracker.core.config import Settings
from cstracker.core.errors import REPAIR, TrackerError, TrackerLayoutError
from cstracker.core.inputs import TRACKER_BYTES, check_regular
from cstracker.core.schema import DEFAULT_CODE_LISTS, CodeLists, Field, normalise_token
from cstracker.tracker.create import (
    LIST_NAME_PREFIX,
    SETTING_NAME_PREFIX,
    SHEET_LISTS,
    SHEET_META,
    SHEET_REFERRALS,
    TABLE_NAME,
)
from cstracker.xlsx.extent import MAX_SHEET_ROW, FarCells, check_sheet, far_message
from cstracker.xlsx.parts import (
    NS_MAIN,
    NS_REL,
    PartTooBig,
    col_letters,
    is_date1904,
    parse_range,
    part_relationships,
    read_part,
    rels_part,
)
from cstracker.xlsx.parts import defined_name_target as _target
from cstracker.xlsx.reader_errors import calamine_errors
from cstracker.xlsx.safety import backups_folder
from cstracker.xlsx.table_cells import date_styles

QUOTE_PREFIX_KEY = "style:quote_prefix"


@dataclass
class Layout:
    """Where everything cstracker owns lives in one tracker file."""

    path: Path
    sheet_part: str
    table_part: str
    #: (first col, first row (the header), last col, last row) of the Table
    table_ref: tuple[int, int, int, int]
    headers: dict[int, str]
    #: field key -> 1-based sheet column
    columns: dict[str, int]
    fields: tuple[Field, ...]
    settings: Settings
    lists: CodeLists
    defined_names: dict[str, str] = field(default_factory=dict)
    quote_prefix_style: int | None = None
    totals_row: bool = False
    #: the workbook counts days in the 1904 date system (dates read and written with its serials)
    date1904: bool = False
    #: every sheet's name -> its worksheet part (the hidden sheets' writer needs them)
    sheet_parts: dict[str, str] = field(default_factory=dict)
    #: read with ``far_cells_later``: the Referrals sheet's limits (max row, max column), which the
    #: caller's own pass over the sheet checks (``referrals_far_cells``) before any reader sees it
    far_cells_later: tuple[int, int] | None = None
    #: with ``far_cells_later``: the cell styles that show a date (a date cell no reader can hold is
    #: refused in the same pass, ``huge_dates``)
    date_styles: frozenset[int] = frozenset()

    def referrals_far_cells(self) -> tuple[FarCells, Callable[[str], TrackerError]] | None:
        """For a pass over the Referrals sheet that checks its far cells itself: the finder and the
        error to raise (the same one line ``read_layout`` gives); None when they were checked already."""
        if self.far_cells_later is None:
            return None
        max_row, max_col = self.far_cells_later
        where = f"{self.path}, sheet {SHEET_REFERRALS}"
        return FarCells(max_row, max_col, self.date_styles), lambda found: TrackerError(
            far_message(where, found, max_row, max_col, _REMOVE_IT)
        )

    def list_range(self, list_key: str) -> tuple[str, tuple[int, int, int, int]] | None:
        """(sheet, (col, first row, col, last row)) of a code list on the Lists sheet."""
        return _target(self.defined_names.get(LIST_NAME_PREFIX + list_key, ""))

    def created(self) -> dt.date | None:
        """The day the tracker was made (the hidden sheet's ``created`` row), or None."""
        got = _target(self.defined_names.get(SETTING_NAME_PREFIX + "created", ""))
        if got is None:
            return None
        sheet, (c, r, _, _) = got
        try:
            value = _cell(_sheet_values(self.path, sheet), c, r)
        except TrackerLayoutError:
            return None
        if isinstance(value, dt.datetime | dt.date):
            return value if not isinstance(value, dt.datetime) else value.date()
        try:
            return dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            return None

    @property
    def header_row(self) -> int:
        return self.table_ref[1]

    @property
    def fields_by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}


def _part(zf: zipfile.ZipFile, name: str, where: Path) -> bytes:
    """A small part of the tracker (workbook, table, styles, the hidden sheet), size-capped."""
    try:
        return read_part(zf, name)
    except KeyError:
        raise TrackerError(f"{where}: not a Referral Tracker (the workbook has no {name})") from None
    except PartTooBig as e:
        raise TrackerError(f"{where}: the workbook part {name} is damaged ({e})") from None


def _xml(zf: zipfile.ZipFile, name: str, where: Path) -> ET.Element:
    """A small part parsed with defusedxml: a DTD is refused, never expanded."""
    try:
        return SafeET.fromstring(_part(zf, name, where), forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException) as e:
        raise TrackerError(f"{where}: the workbook part {name} is damaged ({e})") from None


def _rels(zf: zipfile.ZipFile, part: str, where: Path) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part name) for a part (``parts.part_relationships``)."""
    try:
        return part_relationships(zf, part)
    except (ET.ParseError, DefusedXmlException, PartTooBig) as e:
        raise TrackerError(f"{where}: the workbook part {rels_part(part)} is damaged ({e})") from None


def _sheet_names(zf: zipfile.ZipFile, where: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(sheet name -> part name, defined name -> formula text)."""
    wb = _xml(zf, "xl/workbook.xml", where)
    rels = _rels(zf, "xl/workbook.xml", where)
    sheets = {}
    for s in wb.iter(f"{{{NS_MAIN}}}sheet"):
        rid = s.get(f"{{{NS_REL}}}id", "")
        if rid in rels:
            sheets[s.get("name", "")] = rels[rid][1]
    names = {}
    for d in wb.iter(f"{{{NS_MAIN}}}definedName"):
        if d.get("localSheetId") is None and d.text:
            names[d.get("name", "")] = d.text
    return sheets, names


def _find_table(zf: zipfile.ZipFile, sheet_part: str, where: Path) -> tuple[str, ET.Element]:
    for rel_type, target in _rels(zf, sheet_part, where).values():
        if rel_type.endswith("/table"):
            table = _xml(zf, target, where)
            if table.get("name") == TABLE_NAME or table.get("displayName") == TABLE_NAME:
                return target, table
    raise TrackerLayoutError(
        f"{where}: sheet {SHEET_REFERRALS}: the Excel Table named '{TABLE_NAME}' is missing "
        "(was it converted to a range?). Restore it from a backup or make it a Table named Referrals again."
    )


def _sheet_values(path: Path, sheet: str, src: Path | bytes | None = None) -> list[list[Any]]:
    """A small sheet as a grid of values from A1 (row 0 = sheet row 1); ``src``: the decrypted bytes, if any."""
    from cstracker.xlsx.encryption import calamine_book

    try:
        book = calamine_book(src if src is not None else path)
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except calamine_errors() as e:
        raise TrackerLayoutError(f"{path}: sheet {sheet} cannot be read ({e}); {REPAIR}") from None


def _cell(grid: list[list[Any]], col: int, row: int) -> Any:
    if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
        return grid[row - 1][col - 1]
    return None


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _settings_and_lists(
    path: Path, names: dict[str, str], missing: list[str], src: Path | bytes | None = None
) -> tuple[Settings, CodeLists]:
    grids: dict[str, list[list[Any]]] = {}

    def values(formula: str, raw: bool = False) -> list[Any] | None:
        got = _target(formula)
        if got is None:
            return None
        sheet, (c1, r1, c2, r2) = got
        if sheet not in grids:
            grids[sheet] = _sheet_values(path, sheet, src)
        grid = grids[sheet]
        cells = [_cell(grid, c, r) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        return cells if raw else [_text(v) for v in cells]

    pairs: dict[str, Any] = {}
    for key in Settings.__dataclass_fields__:
        # a date setting is read as the cell holds it (a date cell, or a serial number)
        got = values(names.get(SETTING_NAME_PREFIX + key, ""), raw=key == "tracker_start")
        if got:
            pairs[key] = got[0]
    lists: dict[str, tuple[str, ...]] = {}
    for key in DEFAULT_CODE_LISTS:
        name = LIST_NAME_PREFIX + key
        got = values(names[name]) if name in names else None
        codes = tuple(v for v in got or () if v)
        if not codes:
            missing.append(
                f"the list '{DEFAULT_CODE_LISTS[key].title}' (defined name {name} on sheet {SHEET_LISTS})"
            )
            codes = DEFAULT_CODE_LISTS[key].codes
        lists[key] = codes
    try:
        settings = Settings.from_pairs(pairs)
    except (ValueError, TypeError):
        raise TrackerLayoutError(
            f"{path}: sheet {SHEET_META}: a setting is not a number where one is needed; "
            "restore the hidden _cstracker sheet from a backup"
        ) from None
    return settings, CodeLists(lists=lists)


def _quote_prefix_style(
    zf: zipfile.ZipFile, path: Path, sheets: dict[str, str], src: Path | bytes | None = None
) -> int | None:
    """The style index of the exemplar cell on the hidden sheet, else any quote-prefix style."""
    if SHEET_META in sheets:
        grid = _sheet_values(path, SHEET_META, src)
        for r, row in enumerate(grid, start=1):
            if row and _text(row[0]) == QUOTE_PREFIX_KEY:
                xml = _part(zf, sheets[SHEET_META], path).decode("utf-8")
                m = re.search(rf'<c\b[^>]*\br="B{r}"[^>]*>', xml)
                s = re.search(r'\bs="(\d+)"', m[0]) if m else None
                if s:
                    return int(s[1])
    styles = _part(zf, "xl/styles.xml", path).decode("utf-8") if "xl/styles.xml" in zf.namelist() else ""
    xfs = re.search(r"<cellXfs\b.*?</cellXfs>", styles, re.S)
    if xfs:
        for i, xf in enumerate(re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs[0], re.S)):
            if re.search(r'\bquotePrefix="(1|true)"', xf):
                return i
    return None


def read_layout(path: str | Path, written_by_us: bool = False, far_cells_later: bool = False) -> Layout:
    """The layout of the tracker at ``path``; TrackerLayoutError names everything missing at once.

    ``written_by_us``: the file is what this process has just saved (``Tracker.save``), whose
    Referrals sheet part it wrote itself row by row: the extent check of that part (a pass over
    the whole sheet) is not repeated. ``far_cells_later``: the caller streams the Referrals sheet
    itself before any reader sees it and checks it for far cells in that pass
    (``Layout.referrals_far_cells``), so it is not streamed twice.
    """
    path = Path(path)
    check_regular(path, TRACKER_BYTES, TrackerError, "tracker")
    from cstracker.xlsx.encryption import as_file, source

    src = source(path)
    try:
        zf = zipfile.ZipFile(as_file(src))
    except (zipfile.BadZipFile, OSError) as e:
        raise TrackerError(f"{path}: {_not_xlsx(path, None) or f'not an .xlsx workbook ({e})'}") from None
    with zf:
        wrong = _not_xlsx(path, zf)
        if wrong:
            raise TrackerError(f"{path}: {wrong}")
        sheets, names = _sheet_names(zf, path)
        if SHEET_REFERRALS not in sheets:
            raise TrackerLayoutError(
                f"{path}: the sheet '{SHEET_REFERRALS}' is missing or renamed; sheets are: {', '.join(sheets)}"
            )
        _check_own_sheets(path, sheets, names)
        sheet_part = sheets[SHEET_REFERRALS]
        table_part, table = _find_table(zf, sheet_part, path)
        table_ref = parse_range(table.get("ref", "A1"))
        dates = frozenset(date_styles(zf)) if not written_by_us else frozenset()
        later = _check_extents(zf, path, sheets, table_ref, written_by_us, far_cells_later, dates)
        headers = {
            table_ref[0] + i: (tc.get("name") or "")
            for i, tc in enumerate(table.iter(f"{{{NS_MAIN}}}tableColumn"))
        }
        totals = int(table.get("totalsRowCount", "0") or 0) > 0
        qp_style = _quote_prefix_style(zf, path, sheets, src)
        in_1904 = is_date1904(_part(zf, "xl/workbook.xml", path))

    missing: list[str] = []
    settings, lists = _settings_and_lists(path, names, missing, src)
    fields = lists.fields()
    columns, problems = match_headers(headers, fields)
    problems.extend(missing)
    if problems:
        raise TrackerLayoutError(
            f"{path}: sheet {SHEET_REFERRALS}: {'; '.join(problems)}. "
            "Put the headings back exactly as cstracker wrote them (the About sheet lists every column), "
            "or restore the tracker from its backups folder."
        )
    return Layout(
        path=path,
        sheet_part=sheet_part,
        table_part=table_part,
        table_ref=table_ref,
        headers=headers,
        columns=columns,
        fields=fields,
        settings=settings,
        lists=lists,
        defined_names=names,
        quote_prefix_style=qp_style,
        totals_row=totals,
        sheet_parts=sheets,
        far_cells_later=later,
        date_styles=dates,
        date1904=in_1904,
    )


#: how far past the Referrals Table a value may sit (a coordinator's own notes beside or below it)
SLACK_ROWS, SLACK_COLS = 10_000, 100
#: the Lists and hidden settings sheets are small; the widest a Table or sheet of ours may be read
OWN_SHEET_ROWS, MAX_COLS = 10_000, 1_000
_REMOVE_IT = (
    "Delete what is there (in Excel, Ctrl+End goes to the last cell in use; a note counts too), "
    "save, and run the command again"
)


def _check_extents(
    zf: zipfile.ZipFile,
    path: Path,
    sheets: dict[str, str],
    table_ref: tuple[int, int, int, int],
    written_by_us: bool = False,
    far_cells_later: bool = False,
    dates: frozenset[int] = frozenset(),
) -> tuple[int, int] | None:
    """No cell far outside what a tracker holds, before calamine/fastexcel size a grid by it, and
    no date cell (``dates``: its date styles) they cannot hold (with ``far_cells_later``, the
    Referrals sheet's size only: its limits are returned)."""
    for name in (SHEET_LISTS, SHEET_META):
        if name in sheets:
            check_sheet(
                zf, sheets[name], f"{path}, sheet {name}", OWN_SHEET_ROWS, 200, TrackerError, _REMOVE_IT
            )
    if written_by_us:
        return None
    max_row = min(max(table_ref[3], 2) + SLACK_ROWS, MAX_SHEET_ROW)
    max_col = min(table_ref[2] + SLACK_COLS, MAX_COLS)
    check_sheet(
        zf,
        sheets[SHEET_REFERRALS],
        f"{path}, sheet {SHEET_REFERRALS}",
        max_row,
        max_col,
        TrackerError,
        _REMOVE_IT,
        cells=not far_cells_later,
        date_styles=dates,
    )
    return (max_row, max_col) if far_cells_later else None


#: what a coordinator calls the file kinds that are not an .xlsx workbook
_SAVE_AS_XLSX = "open it in Excel or LibreOffice and save it as an Excel workbook (.xlsx)"


def _not_xlsx(path: Path, zf: zipfile.ZipFile | None) -> str | None:
    """Why the file at ``path`` is not an .xlsx tracker, in a coordinator's words; None when it is one."""
    if path.is_dir():
        return "is a folder, not a tracker file; give the path of the .xlsx file"
    if zf is None:
        try:
            with path.open("rb") as f:
                head = f.read(8)
        except OSError as e:
            return f"cannot be read ({e.strerror})"
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return f"is an old Excel 97-2003 (.xls) workbook, not an .xlsx tracker; {_SAVE_AS_XLSX}"
        if path.suffix.lower() in (".csv", ".txt", ".tsv"):
            return (
                "is a text (CSV) file, not an .xlsx tracker; to bring its rows into a tracker use "
                f"cstracker import TRACKER '{path.name}'"
            )
        return "is not an .xlsx workbook (not a spreadsheet file cstracker can read)"
    names = set(zf.namelist())
    if "mimetype" in names and read_part(zf, "mimetype").startswith(b"application/vnd.oasis.opendocument"):
        return f"is an OpenDocument (.ods) spreadsheet, not an .xlsx tracker; {_SAVE_AS_XLSX}"
    if "xl/workbook.xml" in names and path.suffix.lower() not in (".xlsx", ".xlsm"):
        return f"is an Excel workbook but its name ends in '{path.suffix}'; rename it to end in .xlsx"
    return None


def _check_own_sheets(path: Path, sheets: dict[str, str], names: dict[str, str]) -> None:
    """The Lists and hidden settings sheets hold the tracker's own lists and settings: refuse without them.

    A sheet renamed by hand is fine (its defined names follow it); one deleted leaves
    names pointing nowhere (Excel writes #REF!).
    """
    own = [v for k, v in names.items() if k.startswith((LIST_NAME_PREFIX, SETTING_NAME_PREFIX))]
    targets = {(_target(v) or ("#REF",))[0] for v in own}
    if targets <= set(sheets):
        return
    gone = [f"'{s}'" for s in (SHEET_LISTS, SHEET_META) if s not in sheets] or [f"'{SHEET_LISTS}'"]
    if gone:
        what = "sheet" if len(gone) == 1 else "sheets"
        raise TrackerLayoutError(
            f"{path}: the {what} {' and '.join(gone)} (the tracker's code lists and settings) "
            f"{'is' if len(gone) == 1 else 'are'} missing, deleted or renamed; restore the tracker "
            f"from '{backups_folder(path).name}' or rename the {what} back. Sheets are: {', '.join(sheets)}"
        )


def match_headers(headers: dict[int, str], fields: tuple[Field, ...]) -> tuple[dict[str, int], list[str]]:
    """Field key -> column by heading; and one phrase per own column missing, renamed or doubled."""
    by_label = {normalise_token(f.label): f for f in fields}
    columns: dict[str, int] = {}
    doubled: list[str] = []
    for col, text in sorted(headers.items()):
        f = by_label.get(normalise_token(text))
        if f is None:
            continue
        if f.key in columns:
            doubled.append(f"'{f.label}' (columns {col_letters(columns[f.key])} and {col_letters(col)})")
        else:
            columns[f.key] = col
    problems = []
    gone = [f"'{f.label}'" for f in fields if f.key not in columns]
    if gone:
        unknown = [
            f"'{t}'" for c, t in sorted(headers.items()) if normalise_token(t) not in by_label and t.strip()
        ]
        phrase = f"cstracker's own column{'s' if len(gone) > 1 else ''} {', '.join(gone)} missing or renamed"
        if unknown:
            phrase += f" (headings not recognised: {', '.join(unknown[:10])})"
        problems.append(phrase)
    if doubled:
        problems.append("column heading used twice: " + ", ".join(doubled))
    return columns, problems
