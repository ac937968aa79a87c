"""Open an untrusted .xlsx defensively and read just the cells asked for.

Cheap checks come first (file size, what kind of file it is, each zip member's
size and compression ratio) so that nothing is unpacked or parsed before it is
known to be sane. No part with a DTD is parsed (so no entity can be declared,
let alone expanded). A sheet shaped the way spreadsheet programs write it is
scanned with regular expressions for just the wanted cells (fast: a form is
read in about a millisecond); anything unusual is parsed with defusedxml. Cells are decoded by
``cells`` (the tracker's decoding too). Every way a file can be bad
ends in one ``UnreadableFile`` with a rule code and a message for a coordinator.

A formula is reported as such with its cell, and its cached value is never
returned: a form's fields must hold what was typed.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import posixpath
import re
import stat
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from cstracker.core.errors import FormError
from cstracker.xlsx.cells import (
    SharedStrings,
    TooManyStrings,
    cell_value,
    rich_text,
    text,
    undo_ooxml_escapes,
    value_of,
)
from cstracker.xlsx.parts import (
    CONTENT_TYPES,
    PartTooBig,
    ZipBomb,
    check_member,
    col_index,
    col_letters,
    content_types,
    is_date1904,
    read_part,
    relationships,
    rels_part,
)

T = TypeVar("T")
MB = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CELL_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
_MACRO_MARKS = ("macroEnabled", "vbaProject")


@dataclass(frozen=True)
class Limits:
    """What an untrusted workbook may never exceed. A real consultation form is about 20 KB."""

    file_bytes: int = 20 * MB
    part_bytes: int = 50 * MB  # any one part, unpacked
    total_bytes: int = 100 * MB  # all parts, unpacked
    shared_strings_bytes: int = 20 * MB
    shared_strings: int = 200_000  # entries; a form has a few hundred
    ratio: int = 100  # unpacked / packed, for parts over 1 MB
    max_row: int = 10_000
    max_col: int = 200
    seconds: float = 20.0  # per file, in a worker
    memory_bytes: int = 768 * MB  # address space a worker may use beyond what it starts with


DEFAULT_LIMITS = Limits()


class UnreadableFile(FormError):
    """A file that cannot be read as a workbook (or not safely); ``rule`` is a stable code."""

    def __init__(self, rule: str, message: str, sheet: str = "", cell: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.sheet, self.cell = rule, message, sheet, cell


class Cell(NamedTuple):
    value: Any  # str, int, float, bool or None
    formula: bool = False
    #: the formula as stored (no leading '='), when the cell has one written out
    formula_text: str = ""


def split_cell(ref: str) -> tuple[int, int] | None:
    """'B13' -> (13, 2)."""
    m = CELL_RE.match(ref)
    return (int(m[2]), col_index(m[1])) if m else None


@functools.lru_cache(maxsize=4096)
def name_target(ref: str) -> tuple[str, str] | None:
    """ "'Consultation form'!$B$13" -> ("Consultation form", "B13"); None when broken (e.g. #REF!)."""
    sheet, bang, cell = ref.rpartition("!")
    if not bang:
        return None
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    m = CELL_RE.match(cell.split(":")[0])
    return (sheet, f"{m[1]}{m[2]}") if m else None


def check_file(path: Path, limits: Limits) -> None:
    """Size and kind of file, before anything is unpacked."""
    try:
        # without blocking: a named pipe must not hang the reader; fstat checks what was opened
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableFile(
                    "not-xlsx", "is not a regular file (a device, pipe or socket); a form is a saved .xlsx"
                )
            size = st.st_size
            head = fh.read(8)
    except FileNotFoundError:
        raise UnreadableFile("no-such-file", "no such file") from None
    except IsADirectoryError:
        raise UnreadableFile("not-xlsx", "is a folder, not a form") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnreadableFile(
                "unreadable", "is a symbolic link that points back to itself (a link loop)"
            ) from None
        raise UnreadableFile("unreadable", f"cannot be read ({e.strerror or e})") from None
    except ValueError:  # a NUL in the name
        raise UnreadableFile("unreadable", "is not a usable file name") from None
    if size > limits.file_bytes:
        raise UnreadableFile(
            "too-big",
            f"is {size / MB:.0f} MB; a consultation form is well under {limits.file_bytes // MB} MB",
        )
    if head == OLE_MAGIC:
        if _is_encrypted(path):
            raise UnreadableFile(
                "password-protected",
                "is protected with a password; ask the sender to remove the password "
                "(File > Info > Protect Workbook) and send it again",
            )
        raise UnreadableFile(
            "not-xlsx",
            "is an old-style Excel file (.xls); open it in Excel and save it as .xlsx (Excel Workbook)",
        )
    if path.suffix.lower() == ".xlsm":
        raise UnreadableFile(
            "macro-workbook",
            "is a macro-enabled workbook (.xlsm); a form must be saved as Excel Workbook (.xlsx)",
        )
    if not head.startswith(b"PK"):
        raise UnreadableFile(
            "not-xlsx", "is not an Excel .xlsx file; a consultation form is an .xlsx workbook"
        )


def _is_encrypted(path: Path) -> bool:
    """An encrypted .xlsx is an OLE file holding an EncryptedPackage (msoffcrypto-tool tells)."""
    try:
        import msoffcrypto

        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:
        # msoffcrypto cannot even parse it: some other OLE file, reported as an old .xls
        return False


#: what the standard library raises for a damaged or odd file that the checks above let through: a zip
#: that fails part-way (BadZipFile, zlib.error, EOFError), XML that does not parse, a value that does not
#: decode or convert (ValueError, UnicodeError is one), a number out of range (OverflowError). Nothing
#: else is caught as "the file is bad": any other exception is a bug in cstracker.
DAMAGED_FILE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ET.ParseError,
    ValueError,
    OverflowError,
)

_DAMAGED = "is damaged or incomplete (not a complete .xlsx file); ask for it to be sent again"


class SafeWorkbook:
    """An untrusted .xlsx, checked on open; read sheets' cells with ``cells``."""

    def __init__(self, path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path, self.limits = Path(path), limits
        check_file(self.path, limits)
        try:
            self.zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise UnreadableFile("damaged-file", _DAMAGED) from None
        try:
            self._open()
        except BaseException:
            self.zf.close()
            raise
        # read when a wanted cell first needs one, checked (_guard) and with the entries capped
        self._strings = SharedStrings(self._shared_strings_data, limits.shared_strings)
        self._strings_loaded = False

    def __enter__(self) -> SafeWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zf.close()

    def _open(self) -> None:
        self.infos = self._check_parts()
        if CONTENT_TYPES not in self.infos:
            raise UnreadableFile("not-xlsx", "is a zip file but not an Excel workbook; a form is an .xlsx")
        types = self._parsed(CONTENT_TYPES, "content types", content_types)
        named = [*types.all(), *types.overrides, *self.infos]
        if any(mark in name for name in named for mark in _MACRO_MARKS):
            raise UnreadableFile(
                "macro-workbook",
                "is a macro-enabled workbook; a form must be saved as Excel Workbook (.xlsx)",
            )
        book = next(
            (p for t, p in self._rels("").values() if t.endswith("/officeDocument")), "xl/workbook.xml"
        )
        if book not in self.infos:
            raise UnreadableFile("not-xlsx", "is a zip file but not an Excel workbook; a form is an .xlsx")
        book_xml = self.read_part(book)
        sheets, self.names = _workbook(book_xml)
        # a form saved with the 1904 date system (the Mac option) stores its dates 1462 lower
        self.date1904 = is_date1904(book_xml)
        rels = self._rels(book)
        self.sheets = {
            n: rels[rid][1] for n, rid in sheets.items() if rid in rels and rels[rid][1] in self.infos
        }
        shared = next((p for t, p in rels.values() if t.endswith("/sharedStrings")), None)
        self._shared_part = shared if shared in self.infos else None

    def _check_parts(self) -> dict[str, zipfile.ZipInfo]:
        """Every member by its declared sizes (``parts.check_member``), before anything is unpacked."""
        limits, infos, total = self.limits, {}, 0
        for info in self.zf.infolist():
            name, size = info.filename, info.file_size
            total += size
            if info.flag_bits & 0x1:
                raise UnreadableFile(
                    "password-protected", "is protected with a password; ask the sender to remove it"
                )
            strings = name.lower().endswith("sharedstrings.xml")
            try:
                check_member(
                    info, limits.shared_strings_bytes if strings else limits.part_bytes, limits.ratio, MB
                )
            except ZipBomb as e:
                raise UnreadableFile(
                    "zip-bomb",
                    f"has a part ({name}) that unpacks to {e.ratio} times its "
                    "stored size (a 'zip bomb'); it was not opened",
                ) from None
            except PartTooBig:
                if strings:
                    raise UnreadableFile(
                        "too-big",
                        f"has a shared-strings part of {size / MB:.0f} MB; a consultation form's is under "
                        f"{limits.shared_strings_bytes // MB} MB, so this is not a normal form",
                    ) from None
                raise UnreadableFile(
                    "too-big",
                    f"has a part ({name}) of {size / MB:.0f} MB unpacked; a form's parts are under "
                    f"{limits.part_bytes // MB} MB, so this is not a normal form",
                ) from None
            infos[name] = info
        if total > limits.total_bytes:
            raise UnreadableFile(
                "too-big", f"unpacks to {total / MB:.0f} MB; a form is under {limits.total_bytes // MB} MB"
            )
        return infos

    def read_part(self, name: str) -> bytes:
        """A part's bytes, capped (``parts.read_part``): never more than ``Limits.part_bytes``."""
        try:
            return read_part(self.zf, name, self.limits.part_bytes)
        # Each is a way a damaged or odd zip fails to give a part (NotImplementedError: a compression
        # method zipfile lacks; RuntimeError: an encrypted member; BadZipFile: among others a CRC that
        # does not match, which a member unpacking to other than its declared size gives). None is
        # swallowed: the form is refused with its reason and the batch goes on.
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, OSError):
            raise UnreadableFile("damaged-file", _DAMAGED) from None
        except KeyError:  # a part the package's own relationships name, missing from the zip
            raise UnreadableFile("damaged-file", f"has no part {name} although it refers to one") from None
        except PartTooBig:
            raise UnreadableFile(
                "too-big", f"has a part ({name}) larger than it says; it is not a normal form"
            ) from None

    def _parsed(self, name: str, what: str, parse: Callable[[bytes], T]) -> T:
        """``parse`` of a small part, checked (``_guard``); a DTD or damaged XML is an unreadable form."""
        data = self.read_part(name)
        _guard(data, what)
        with _xml_errors(what):
            return parse(data)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship Id -> (type, part name) for ``part`` ('' = the package)."""
        folder = posixpath.dirname(part)
        rels_name = rels_part(part)
        if rels_name not in self.infos:
            return {}
        return self._parsed(rels_name, rels_name, lambda data: relationships(data, folder))

    def cells(self, sheet: str, wanted: set[str] | None = None) -> dict[str, Cell]:
        """Cell -> Cell for the ``wanted`` cells of ``sheet`` (every cell when None); {} if no such sheet."""
        part = self.sheets.get(sheet)
        if part is None:
            return {}
        data = self.read_part(part)
        _guard(data, f"sheet {sheet}")
        _check_extent(data, sheet, self.limits)
        got = _sheet_fast(data, wanted, self.shared_string)
        return got if got is not None else _sheet_tree(data, sheet, wanted, self.limits, self.shared_string)

    def merges(self, sheet: str) -> list[tuple[int, int, int, int]]:
        """Merged ranges of ``sheet`` as (row1, col1, row2, col2)."""
        part = self.sheets.get(sheet)
        if part is None:
            return []
        out = []
        for el in _tree(self.read_part(part), f"sheet {sheet}").iter():
            if _local(el.tag) == "mergeCell":
                a, _, b = el.get("ref", "").partition(":")
                pa, pb = split_cell(a), split_cell(b or a)
                if pa and pb:
                    out.append((*pa, *pb))
        return out

    def shared_string(self, index: int) -> str | None:
        """Entry ``index`` of the shared strings (``cells.SharedStrings``); None when there is none."""
        if not self._strings_loaded:
            try:
                with _xml_errors("shared strings"):
                    self._strings.load()
            except TooManyStrings as e:
                raise UnreadableFile(
                    "too-big",
                    f"has {e.count:,} shared strings; a consultation form has a few hundred "
                    f"(at most {e.limit:,}), so this is not a normal form",
                ) from None
            self._strings_loaded = True
        return self._strings(index)

    def _shared_strings_data(self) -> bytes:
        if self._shared_part is None:
            return b""
        data = self.read_part(self._shared_part)
        _guard(data, "shared strings")
        return data


def _guard(data: bytes, what: str) -> None:
    """No DTD (so no entity can be declared, let alone expanded) and UTF-8, as every spreadsheet writes.

    Why by hand as well as defusedxml: most parts are read by regular expressions (the fast paths),
    which never meet an XML parser for defusedxml to guard. Refusing a DTD here, before either path,
    makes the fast and the parsed path agree on every file; defusedxml refuses it again on the parsed
    path (``_tree``, ``parts.relationships``, ``cells.SharedStrings``).
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnreadableFile(
            "damaged-file", f"has a DTD in {what}, which an .xlsx never has; it was not read"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:
        raise UnreadableFile(
            "damaged-file", f"has {what} in an encoding spreadsheets do not write; it was not read"
        )


def _tree(data: bytes, what: str) -> ET.Element:
    # _guard already refused a DTD; defusedxml refuses one too (and any entity or external reference),
    # so an untrusted part never reaches a parser that would expand what it declares.
    _guard(data, what)
    with _xml_errors(what):
        return SafeET.fromstring(data, forbid_dtd=True)


@contextlib.contextmanager
def _xml_errors(what: str) -> Iterator[None]:
    """What defusedxml and the parser raise for an untrusted part, as the form's one line."""
    try:
        yield
    except DefusedXmlException:
        raise UnreadableFile(
            "damaged-file", f"has a DTD in {what}, which an .xlsx never has; it was not read"
        ) from None
    except ET.ParseError as e:
        raise UnreadableFile("damaged-file", f"has a damaged part ({what}: {e})") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


_SHEET_TAG = re.compile(rb'<sheet name="([^"]*)" sheetId="\d+"(?: state="\w+")? r:id="([^"]*)"/>')
_NAME_TAG = re.compile(rb'<definedName name="([^"]*)"([^>]*)>([^<]*)</definedName>')


@functools.lru_cache(maxsize=32)
def _workbook(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """Sheet name -> relationship id; workbook-level defined name (lower case) -> its text."""
    _guard(data, "workbook")
    sheets_fast = _SHEET_TAG.findall(data)
    names_fast = _NAME_TAG.findall(data)
    if len(sheets_fast) == data.count(b"<sheet ") and len(names_fast) == data.count(b"<definedName "):
        return (
            {text(n): rid.decode("utf-8") for n, rid in sheets_fast},
            {
                text(n).lower(): text(ref).strip()
                for n, attrs, ref in names_fast
                if b"localSheetId" not in attrs
            },
        )
    sheets: dict[str, str] = {}
    names: dict[str, str] = {}
    for el in _tree(data, "workbook").iter():
        t = _local(el.tag)
        if t == "sheet":
            sheets[el.get("name", "")] = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
        elif t == "definedName" and el.get("localSheetId") is None:
            names[el.get("name", "").lower()] = (el.text or "").strip()
    return sheets, names


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell formula, not <formula1> of a validation
_FORMULA_TEXT = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?>(.*?)</(?:\w+:)?f>", re.S)
#: a cell tag without its reference first (or with odd white space), or with a namespace prefix (which
#: the cell patterns would not see at all): the tree reads such a sheet
_CELL_NO_REF = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="))')
_CELL_PREFIXED = re.compile(rb"<\w+:c\b")
_CELL_FAST = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_FAR = re.compile(rb'<c r="((?:[A-Z]{2,3}[0-9]+)|(?:[A-Z][0-9]{5,}))"')
_ROW = re.compile(rb'<row r="([0-9]{5,})"')


def _check_extent(data: bytes, sheet: str, limits: Limits) -> None:
    """A cell far outside any form (XFD1048576) is refused before a reader could size a grid by it."""
    for ref in (*_FAR.findall(data), *(b"A" + r for r in _ROW.findall(data))):
        rc = split_cell(ref.decode("ascii"))
        if rc and (rc[0] > limits.max_row or rc[1] > limits.max_col):
            _too_far(sheet, rc, limits)


def _too_far(sheet: str, rc: tuple[int, int], limits: Limits) -> None:
    raise UnreadableFile(
        "absurd-size",
        f"has a cell at {col_letters(rc[1])}{rc[0]}, far outside a consultation form "
        f"(at most {limits.max_row} rows, {limits.max_col} columns); it was not read",
        sheet=sheet,
    )


_PATTERNS: dict[frozenset[str], re.Pattern[bytes]] = {}


def _cell_pattern(wanted: set[str] | None) -> re.Pattern[bytes]:
    """A pattern matching only the wanted cells, so the scan skips the rest in C (cached per layout)."""
    if wanted is None:
        return _CELL_FAST
    key = frozenset(wanted)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        refs = _trie(sorted(w.encode("ascii") for w in key if split_cell(w)))
        pattern = re.compile(rb'<c r="(' + refs + rb')"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
        if len(_PATTERNS) > 64:
            _PATTERNS.clear()
        _PATTERNS[key] = pattern
    return pattern


def _trie(words: list[bytes]) -> bytes:
    """An alternation sharing prefixes (B(?:13|14)), so each cell is ruled out in a step or two."""
    if not words:
        return b"(?!)"
    heads: dict[bytes, list[bytes]] = {}
    for w in words:
        heads.setdefault(w[:1], []).append(w[1:])
    alts = [re.escape(h) + _trie(rest) if h else b"" for h, rest in heads.items()]
    return alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"


def _form_value(is_error: bool, value: Any) -> Any:
    """What a form's cell gives (``cells.cell_value``), with the form reader's two rules: an error
    (``#N/A``) is no answer, and a whole number is an int."""
    if is_error:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _sheet_fast(
    data: bytes, wanted: set[str] | None, shared: Callable[[int], str | None]
) -> dict[str, Cell] | None:
    """Cells by regex when the XML has the shape every spreadsheet program writes; else None."""
    if _CELL_NO_REF.search(data) or (b":c" in data and _CELL_PREFIXED.search(data)):
        return None
    found: dict[str, Cell] = {}
    for ref_b, attrs, inner in _cell_pattern(wanted).findall(data):
        ref = ref_b.decode("ascii")
        if not inner:
            found[ref] = Cell(None, False)  # an empty (styled) cell: most of a form
            continue
        value = _form_value(b't="e"' in attrs, cell_value(attrs, inner, shared))
        # a value and nothing else (the common shape) holds no formula: no search
        fm = _FORMULA.search(inner) if inner.count(b"<") > 2 else None
        if fm is None:
            found[ref] = Cell(value, False)
        else:
            ft = _FORMULA_TEXT.search(inner)
            found[ref] = Cell(value, True, text(ft[1]) if ft else "")
    return found


def _sheet_tree(
    data: bytes, sheet: str, wanted: set[str] | None, limits: Limits, shared: Callable[[int], str | None]
) -> dict[str, Cell]:
    """Cells from the parsed tree: for XML shaped unusually (prefixes, cells without references)."""
    found: dict[str, Cell] = {}
    for el in _tree(data, f"sheet {sheet}").iter():
        if _local(el.tag) == "sheetData":
            rows = el
            break
    else:
        return found
    row_no = 0
    for row in rows:
        r = row.get("r")
        row_no = int(r) if r and r.isdigit() else row_no + 1
        col_no = 0
        for c in row:
            ref = c.get("r")
            rc = split_cell(ref) if ref else (row_no, col_no + 1)
            if rc is None:
                raise UnreadableFile("damaged-file", f"has a cell with a bad reference on sheet {sheet}")
            if rc[0] > limits.max_row or rc[1] > limits.max_col:
                _too_far(sheet, rc, limits)
            col_no = rc[1]
            cell = f"{col_letters(rc[1])}{rc[0]}"
            if wanted is not None and cell not in wanted:
                continue
            kind = c.get("t", "n").encode("ascii", "replace")
            formula, formula_text, stored, inline = False, "", None, None
            for child in c:
                t = _local(child.tag)
                if t == "f":
                    formula, formula_text = True, undo_ooxml_escapes(child.text or "")
                elif t == "v":
                    stored = undo_ooxml_escapes(child.text or "")
                elif t == "is":
                    inline = rich_text(child)
            # the same rules as the fast path (cells.value_of): an inline string is its <is>
            value = inline if kind == b"inlineStr" else value_of(kind, stored, shared)
            found[cell] = Cell(_form_value(kind == b"e", value), formula, formula_text)
    return found
