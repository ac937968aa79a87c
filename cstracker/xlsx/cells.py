"""A cell's value and the shared strings, as a workbook's sheet XML stores them: the one decoding.

Every reader of sheet XML decodes here: the tracker's sheet scanner (``sheetscan``), validate's pass
(``table_cells``) and the safe reader of untrusted forms (``safe_read``). The rules, once:

- text is UTF-8 with XML's five named entities, numeric character references and Excel's
  ``_xHHHH_`` escapes (``_x000D_`` is a carriage return, ``_x005F_`` a literal ``_``); a line end in
  the XML is a new line, as an XML parser reads it; text is kept as stored, spaces and all (what a
  spreadsheet shows of a text of only spaces is the reader's business, ``table_cells``);
- a rich-text entry is its runs' text; phonetic guides (``rPh``) are not part of the value;
- ``t="s"`` is an index into the shared strings (no such entry, or a negative one: no value),
  ``t="inlineStr"`` its ``<is>`` (none: no value), ``t="b"`` 1/0 (``true``/``false`` as XML Schema
  spells them too), ``t="str"``, ``"e"`` (an error such as ``#N/A``) and ``"d"`` (ISO date) their text,
  anything else a number, or its text when it is not one.

Sheets are read with regular expressions (the shape every spreadsheet program writes; fast). The
shared strings are split into entries with one C-level split and each is decoded when a cell first
asks for it; an unusual shape (namespace prefixes, comments, CDATA) is parsed with defusedxml, which
refuses a DTD. ``SharedStrings`` never sizes anything by the ``count`` a file declares, and can be
told the most entries it may hold (the safe reader's limit for untrusted files).
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

from defusedxml import ElementTree as SafeET

from cstracker.xlsx.parts import BIG_PART_BYTES, part_of_type, read_part

#: a whole row, a whole cell (attributes, body; body None when self-closing), their positions
ROW = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
ROW_REF = re.compile(rb'\br="(\d+)"')
#: a cell's type and style attributes
TYPE = re.compile(rb'\bt="(\w+)"')
STYLE = re.compile(rb'\bs="(\d+)"')
#: a cell's formula element and its text
FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)

_V = re.compile(rb"<v>(.*?)</v>", re.S)
_T = re.compile(rb"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_ESC = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);|_x([0-9A-Fa-f]{4})_")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_OOXML_ESC = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unescape(m: re.Match[str]) -> str:
    if m[2]:
        return chr(int(m[2], 16))
    ent = m[1]
    if ent[0] != "#":
        return _NAMED[ent]
    code = int(ent[2:], 16) if ent[1] == "x" else int(ent[1:])
    if not 0 < code <= 0x10FFFF:
        # what an XML parser refuses as not well formed (a ValueError: the damaged-file error)
        raise ValueError(f"&{ent}; is not a character")
    return chr(code)


def _pairs(text: str) -> str:
    """Excel writes a character outside the BMP as two ``_xHHHH_`` halves: join them; a lone half is U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def text(raw: bytes) -> str:
    """Stored text as it reads: entities, character references and ``_xHHHH_`` escapes undone."""
    out = raw.decode("utf-8", "replace")
    if b"\r" in raw:
        out = out.replace("\r\n", "\n").replace("\r", "\n")  # XML's end-of-line handling
    if b"&" not in raw and b"_x" not in raw:
        return out
    out = _ESC.sub(_unescape, out)
    return _pairs(out) if _SURROGATE.search(out) else out


def undo_ooxml_escapes(value: str) -> str:
    """``_xHHHH_`` escapes of text an XML parser has already read (entities done)."""
    if "_x" not in value:
        return value
    out = _OOXML_ESC.sub(lambda m: chr(int(m[1], 16)), value)
    return _pairs(out) if _SURROGATE.search(out) else out


def shared_index(raw: bytes | str) -> int | None:
    """The shared-string index a ``t="s"`` cell holds; None when it is not a whole number from 0."""
    digits = raw.strip()
    return int(digits) if digits.isascii() and digits.isdigit() else None


def value_of(kind: bytes, raw: str | None, shared: Callable[[int], str | None]) -> Any:
    """A cell's value from its type and the text of its ``<v>`` (decoded): str, float, bool or None."""
    if raw is None:
        return None
    if kind == b"s":
        index = shared_index(raw)
        return None if index is None else shared(index)
    if kind == b"b":
        return raw.strip() in ("1", "true")
    if kind in (b"str", b"e", b"d"):
        return raw
    if kind == b"inlineStr":
        return None  # an inline string is its <is>, never a <v>
    try:
        return float(raw)
    except ValueError:
        return raw


def cell_type(attrs: bytes) -> bytes:
    """The cell's ``t`` attribute (``n`` when it has none)."""
    t = TYPE.search(attrs) if b"t=" in attrs else None
    return t[1] if t else b"n"


def inline_text(body: bytes) -> str | None:
    """The text of an inline string's ``<is>`` (its runs', without phonetic guides); None without one."""
    if body.startswith(b"<is><t>") and body.endswith(b"</t></is>") and body.count(b"<") == 4:
        return text(body[7:-9])  # the shape cstracker writes
    at = body.find(b"<is")
    if at < 0:
        return None
    inner = body[at:]
    if b"<rPh" in inner:
        inner = _PHONETIC.sub(b"", inner)
    return "".join(text(m[1] or b"") for m in _T.finditer(inner))


def cell_value(attrs: bytes, body: bytes | None, shared: Callable[[int], str | None]) -> Any:
    """A cell's value as stored (``<c {attrs}>{body}</c>``): str, float, bool, or None when it holds nothing."""
    if not body:
        return None
    t = TYPE.search(attrs) if b"t=" in attrs else None  # cell_type, inline: this runs for every cell
    kind = t[1] if t else b"n"
    if kind == b"inlineStr":
        return inline_text(body)
    if body.startswith(b"<v>") and body.endswith(b"</v>") and body.count(b"<") == 2:
        raw = body[3:-4]  # a value and nothing else: the common shape, no search
    else:
        v = _V.search(body)
        if v is None:
            return None
        raw = v[1]
    if kind == b"n":
        try:
            return float(raw)
        except ValueError:
            pass
    elif kind == b"s":
        index = shared_index(raw)
        return None if index is None else shared(index)
    return value_of(kind, text(raw), shared)


class TooManyStrings(ValueError):
    """A shared-strings part with more entries than its reader allows."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} shared strings, more than {limit}")
        self.count, self.limit = count, limit


#: an element with a namespace prefix, a comment, CDATA or a processing instruction: parsed as XML
_UNUSUAL = re.compile(rb"<\w+:|<!|<\?(?!xml )")


class SharedStrings:
    """A workbook's shared strings, read when a cell first needs one: ``strings(i)`` -> text or None.

    ``source``: the open workbook zip (its shared-strings part, found by relationship) or a function
    giving the part's bytes (the safe reader's, checked and size-capped). ``max_count``: more entries
    than this raise ``TooManyStrings``. A DTD raises defusedxml's ``DefusedXmlException`` and damaged
    XML ``xml.etree.ElementTree.ParseError`` (both only on the parsed path; each reader says what that
    means for its file).
    """

    def __init__(self, source: zipfile.ZipFile | Callable[[], bytes], max_count: int | None = None) -> None:
        self.source = source
        self.max_count = max_count
        self.items: list[bytes] | None = None  # raw entries, cut at their </si> when first asked for
        self.tree: list[str] | None = None  # entries of a part parsed as XML, decoded
        self.texts: dict[int, str] = {}

    def __call__(self, index: int) -> str | None:
        if self.items is None and self.tree is None:
            self.load()
        if index < 0:
            return None
        if self.tree is not None:
            return self.tree[index] if index < len(self.tree) else None
        items = self.items or []
        if index >= len(items):
            return None
        got = self.texts.get(index)
        if got is None:
            got = self.texts[index] = _entry_text(items[index].split(b"</si>", 1)[0])
        return got

    get = __call__

    def __len__(self) -> int:
        if self.items is None and self.tree is None:
            self.load()
        return len(self.tree if self.tree is not None else self.items or [])

    def load(self) -> None:
        """Read and split the part now (else on the first look-up): where its errors are raised."""
        if self.items is not None or self.tree is not None:
            return
        data = self._data()
        if not data:
            self.items = []
            return
        if data.count(b"<si>") == data.count(b"<si") and not _UNUSUAL.search(data):
            self._check_count(data.count(b"<si>"))
            self.items = data.split(b"<si>")[1:]  # one C-level split
        else:
            self.tree = self._parse(data)

    def _data(self) -> bytes:
        if callable(self.source):
            return self.source()
        name = shared_strings_part(self.source)
        return read_part(self.source, name, BIG_PART_BYTES) if name is not None else b""

    def _check_count(self, count: int) -> None:
        if self.max_count is not None and count > self.max_count:
            raise TooManyStrings(count, self.max_count)

    def _parse(self, data: bytes) -> list[str]:
        """Entries of an unusually spelled part, one at a time (elements are dropped as they are read)."""
        out: list[str] = []
        root = None
        for event, el in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if root is None:
                root = el
            if event != "end" or _local(el.tag) != "si":
                continue
            out.append(rich_text(el))
            self._check_count(len(out))
            root.clear()
        return out


def rich_text(el: Any) -> str:
    """The text of a parsed ``<si>`` or ``<is>`` element (both are rich text, CT_Rst): its own ``<t>``
    or its runs' (``<r><t>``); a phonetic guide (``<rPh><t>``) is not part of the value."""
    parts = [c.text or "" for c in el if _local(c.tag) == "t"]
    for run in el:
        if _local(run.tag) == "r":
            parts += [t.text or "" for t in run if _local(t.tag) == "t"]
    return undo_ooxml_escapes("".join(parts))


@functools.lru_cache(maxsize=4096)
def _entry_text(raw: bytes) -> str:
    """One shared-strings entry's text (cached: forms of one layout share their codes and answers)."""
    if b"<rPh" in raw:
        raw = _PHONETIC.sub(b"", raw)
    return "".join(text(m[1] or b"") for m in _T.finditer(raw))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def shared_strings_part(zf: zipfile.ZipFile) -> str | None:
    """The workbook's shared-strings part (by its relationship), if it has one."""
    return part_of_type(zf, "xl/workbook.xml", "sharedStrings")
