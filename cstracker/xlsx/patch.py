"""Patch an .xlsx package in a stream: only the rows cstracker writes change.

Every zip member except the ones being patched is copied as its compressed
bytes, untouched, so whatever a coordinator added in Excel or LibreOffice
(charts, images, comments, pivot tables, slicers, x14 validations, extLst
sections, other sheets) is carried over byte for byte. The sheet XML is read
in chunks; rows that are not updated are copied verbatim (whole chunks when
no update falls inside them), so time is proportional to the sheet's size
and memory stays flat. Only the rows being updated are taken apart, and only
into cells; a cell outside cstracker's columns is kept as it was. New rows
come from an ``AppendedRows`` source one row at a time (``newrows.py``), so a
save of 50,000 new rows never holds them all as cells or XML.
"""

from __future__ import annotations

import copy
import re
import struct
import xml.parsers.expat
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from cstracker.xlsx.cells import CELL as _CELL
from cstracker.xlsx.cells import CELL_REF as _CELL_R
from cstracker.xlsx.cells import FORMULA as _FORMULA
from cstracker.xlsx.cells import ROW_REF as _ROW_R
from cstracker.xlsx.cells import STYLE as _ATTR_S
from cstracker.xlsx.parts import col_index, col_letters, parse_range

CHUNK = 1 << 20
_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_ROW_OPEN = re.compile(rb"<row\b([^>]*?)(/?)>")
_COL = re.compile(rb"<col\b([^>]*?)/?>")
_DIMENSION = re.compile(rb'<dimension\b[^>]*?\bref="([^"]*)"')


@dataclass(frozen=True)
class Cell:
    """A value to write. kind: "s" text, "n" number, "f" formula with a cached value, "" clear."""

    kind: str
    value: str | int | float | None = None
    formula: str | None = None
    #: a style forced for this cell (the quote-prefix style); None = the column's style
    style: int | None = None
    #: take the column's own style over the cell's (a date typed as text becoming a real date
    #: must show as a date, whatever style the pasted text carried)
    column_style_first: bool = False
    #: a formula cell: write ``formula`` even where the cell has one (else an existing, maybe
    #: shared, formula element is kept as it is)
    replace_formula: bool = False


#: text that reads as one of Excel's ``_xHHHH_`` escapes (``cells.text``): its "_" is written escaped
_LIKE_AN_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _esc(text: str) -> bytes:
    if "_x" in text:
        text = _LIKE_AN_ESCAPE.sub("_x005F_", text)  # so "_x0041_" reads back as typed, not as "A"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _number(value: int | float) -> bytes:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).encode() if isinstance(value, int) else repr(value).encode()


def text_xml(ref: bytes, style: int | None, text: str) -> bytes:
    """A text cell, stored inline (no shared-strings part to rewrite)."""
    s = b' s="%d"' % style if style is not None else b""
    space = b' xml:space="preserve"' if text != text.strip() or "\n" in text else b""
    return b'<c r="%s"%s t="inlineStr"><is><t%s>%s</t></is></c>' % (ref, s, space, _esc(text))


def number_xml(ref: bytes, style: int | None, value: int | float) -> bytes:
    s = b' s="%d"' % style if style is not None else b""
    return b'<c r="%s"%s><v>%s</v></c>' % (ref, s, _number(value))


def formula_cell_xml(ref: bytes, style: int | None, f: bytes, cached: str | int | float | None) -> bytes:
    """A formula cell: ``f`` is the whole ``<f>`` element, ``cached`` the value shown until recalculation."""
    s = b' s="%d"' % style if style is not None else b""
    if isinstance(cached, int | float):
        return b'<c r="%s"%s>%s<v>%s</v></c>' % (ref, s, f, _number(cached))
    return b'<c r="%s"%s t="str">%s<v>%s</v></c>' % (ref, s, f, _esc(str(cached or "")))


def formula_element(formula: str) -> bytes:
    return b"<f>%s</f>" % _esc(formula)


def cell_xml(ref: bytes, cell: Cell, style: int | None, formula_xml: bytes | None = None) -> bytes:
    """One <c> element. ``formula_xml`` keeps an existing (maybe shared) formula element as it was."""
    if cell.kind == "s":
        return text_xml(ref, style, str(cell.value))
    if cell.kind == "n":
        return number_xml(ref, style, cell.value)  # type: ignore[arg-type]
    if cell.kind == "f":
        f = formula_xml if formula_xml is not None else formula_element(cell.formula or "")
        return formula_cell_xml(ref, style, f, cell.value)
    s = b' s="%d"' % style if style is not None else b""
    return b'<c r="%s"%s/>' % (ref, s)


_SHEET_DATA_OPEN = b'<sheetData xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


class RowChecker:
    """Every row cstracker writes or merges must be well-formed XML; ValueError at the first that is not.

    One expat parser reads the rows as they are written (a parser per row costs
    more than writing the row). No namespace processing: a merged row keeps
    attributes such as ``x14ac:dyDescent`` whose prefix is declared on the
    worksheet element, outside the rows.
    """

    def __init__(self) -> None:
        self.parser = xml.parsers.expat.ParserCreate()
        self.parser.Parse(_SHEET_DATA_OPEN, False)

    def __call__(self, row: bytes) -> bytes:
        try:
            self.parser.Parse(row, False)
        except xml.parsers.expat.ExpatError as e:
            raise ValueError(f"a rewritten row is not well-formed XML ({e})") from None
        return row

    def close(self) -> None:
        self(b"</sheetData>")
        try:
            self.parser.Parse(b"", True)
        except xml.parsers.expat.ExpatError as e:
            raise ValueError(f"a rewritten row is not well-formed XML ({e})") from None


def check_row(row: bytes) -> bytes:
    """A row cstracker wrote or merged must be well-formed XML on its own; ValueError if not."""
    checker = RowChecker()
    checker(row)
    checker.close()
    return row


class AppendedRows(Protocol):
    """New rows produced one at a time while the sheet is written, so they are never all in memory."""

    #: the sheet rows to write, ascending
    numbers: list[int]
    max_col: int

    def render(self, number: int, column_style: Callable[[int], int | None]) -> bytes:
        """The cells (``<c>`` elements, in column order) of a row that is not in the sheet yet."""
        ...

    def cells(self, number: int) -> dict[int, Cell]:
        """The same row as cells, merged into a row element the sheet already has (e.g. an empty Table row)."""
        ...


class SheetPatcher:
    """Rewrites one worksheet part: ``updates`` = sheet row -> {column: Cell}, plus ``appended`` rows."""

    def __init__(
        self,
        updates: dict[int, dict[int, Cell]],
        quote_prefix_style: int | None = None,
        appended: AppendedRows | None = None,
    ):
        self.updates = updates
        self.appended = appended
        numbers = set(updates) | set(appended.numbers if appended else ())
        self.pending = deque(sorted(numbers))
        self.quote_prefix_style = quote_prefix_style
        self.col_styles: dict[int, int] = {}
        self.prev_row = b""
        self._prev_styles: dict[int, int | None] | None = None
        self.current = 0
        self.max_col = max(
            [*(c for cells in updates.values() for c in cells), appended.max_col if appended else 0],
            default=0,
        )
        self.check = RowChecker()

    # -- the whole part --------------------------------------------------------------------------
    def __call__(self, src: IO[bytes], dst: IO[bytes]) -> None:
        buf = b""
        for chunk in _chunks(src):
            buf += chunk
            i = buf.find(b"<sheetData")
            if i >= 0:
                j = buf.find(b">", i)
                if j >= 0:
                    break
        else:
            raise ValueError("the worksheet has no <sheetData>")
        head, tag, buf = buf[:i], buf[i : j + 1], buf[j + 1 :]
        dst.write(self._patch_head(head))
        if tag.endswith(b"/>"):
            dst.write(b"<sheetData>")
            self._flush_pending(None, dst)
            self.check.close()
            dst.write(b"</sheetData>")
            dst.write(buf)
            for chunk in _chunks(src):
                dst.write(chunk)
            return
        dst.write(tag)
        chunks = _chunks(src)
        while True:
            end = buf.find(b"</sheetData>")
            if end >= 0:
                self._rows(buf[:end], dst)
                self._flush_pending(None, dst)
                self.check.close()
                dst.write(buf[end:])
                break
            cut = buf.rfind(b"</row>")
            if cut >= 0:
                cut += 6
                self._rows(buf[:cut], dst)
                buf = buf[cut:]
            more = next(chunks, None)
            if more is None:
                raise ValueError("the worksheet ends inside <sheetData>")
            buf += more
        for chunk in chunks:
            dst.write(chunk)

    def _patch_head(self, head: bytes) -> bytes:
        for m in _COL.finditer(head):
            attrs = m[1]
            lo, hi, st = (re.search(rb'\b%s="(\d+)"' % k, attrs) for k in (b"min", b"max", b"style"))
            if lo and hi and st:
                for c in range(int(lo[1]), min(int(hi[1]), 16384) + 1):
                    self.col_styles[c] = int(st[1])
        last_row = self.pending[-1] if self.pending else 0
        m = _DIMENSION.search(head)
        if m and last_row:
            try:
                c1, r1, c2, r2 = parse_range(m[1].decode())
            except ValueError:
                c1, r1, c2, r2 = 1, 1, self.max_col, last_row
            ref = f"{col_letters(c1)}{r1}:{col_letters(max(c2, self.max_col))}{max(r2, last_row)}"
            head = head[: m.start(1)] + ref.encode() + head[m.end(1) :]
        return head

    # -- rows ------------------------------------------------------------------------------------
    def _set_prev(self, row: bytes) -> None:
        self.prev_row = row
        self._prev_styles = None

    def _rows(self, region: bytes, dst: IO[bytes]) -> None:
        """Rows in ``region`` (whole rows only), with updates merged and new rows inserted in order."""
        if not region.strip():
            dst.write(region)
            return
        last = region.rfind(b"<row")
        opening = _ROW_OPEN.match(region, last) if last >= 0 else None
        m = _ROW_R.search(opening[0]) if opening else None
        if m and (not self.pending or self.pending[0] > int(m[1])):
            self.current = int(m[1])
            self._set_prev(region[last:])
            dst.write(region)
            return
        pos = 0
        for rm in _ROW.finditer(region):
            dst.write(region[pos : rm.start()])
            pos = rm.end()
            row = rm[0]
            rr = _ROW_R.search(_ROW_OPEN.match(row)[0])
            number = int(rr[1]) if rr else self.current + 1
            self._flush_pending(number, dst)
            if self.pending and self.pending[0] == number:
                self.pending.popleft()
                cells = self.updates.get(number)
                if cells is None and self.appended is not None:
                    cells = self.appended.cells(number)
                row = self.check(self._merge(row, number, cells or {}))
            self.current = number
            self._set_prev(row)
            dst.write(row)
        dst.write(region[pos:])

    def _flush_pending(self, before: int | None, dst: IO[bytes]) -> None:
        """New rows for every pending row number below ``before`` (all of them when None)."""
        while self.pending and (before is None or self.pending[0] < before):
            number = self.pending.popleft()
            if number in self.updates or self.appended is None:
                cells = self._cells({}, number, self.updates.get(number, {}))
            else:
                cells = self.appended.render(number, self.column_style)
            row = self.check(b'<row r="%d">%s</row>' % (number, cells))
            self.current = number
            dst.write(row)
            self._set_prev(row)

    def column_style(self, col: int) -> int | None:
        """The style a new cell in ``col`` takes: the column's own, else the cell above's."""
        style = self.col_styles.get(col)
        return style if style is not None else self._prev_style(col)

    def _style_for(self, col: int, cell: Cell, existing: int | None) -> int | None:
        if cell.style is not None:
            return cell.style
        if cell.column_style_first and self.col_styles.get(col) is not None:
            return self.col_styles[col]
        if existing is not None and existing != self.quote_prefix_style:
            return existing
        return self.column_style(col)

    def _prev_style(self, col: int) -> int | None:
        if self._prev_styles is None:
            self._prev_styles = {}
            for m in _CELL.finditer(self.prev_row):
                r = _CELL_R.search(m[1])
                if r:
                    s = _ATTR_S.search(m[1])
                    self._prev_styles.setdefault(col_index(r[1].decode()), int(s[1]) if s else None)
        return self._prev_styles.get(col)

    def _cells(self, existing: dict[int, bytes], number: int, updates: dict[int, Cell]) -> bytes:
        out = []
        for col in sorted(set(existing) | set(updates)):
            old = existing.get(col)
            if col not in updates:
                out.append(old or b"")
                continue
            cell = updates[col]
            if old is None and cell.kind == "":
                continue
            old_style = None
            formula_xml = None
            if old is not None:
                attrs = _CELL.match(old)
                s = _ATTR_S.search(attrs[1]) if attrs else None
                old_style = int(s[1]) if s else None
                f = _FORMULA.search(attrs[2] or b"") if attrs else None
                formula_xml = f[0] if f and cell.kind == "f" and not cell.replace_formula else None
            ref = col_letters(col).encode() + str(number).encode()
            out.append(cell_xml(ref, cell, self._style_for(col, cell, old_style), formula_xml))
        return b"".join(out)

    def _merge(self, row: bytes, number: int, updates: dict[int, Cell]) -> bytes:
        opening = _ROW_OPEN.match(row)
        attrs = re.sub(rb'\s*\bspans="[^"]*"', b"", opening[1])
        if not _ROW_R.search(attrs):
            attrs = b' r="%d"' % number + attrs
        body = b"" if opening[2] else row[opening.end() : -len(b"</row>")]
        existing: dict[int, bytes] = {}
        col = 0
        pos = 0
        for m in _CELL.finditer(body):
            pos = m.end()
            r = _CELL_R.search(m[1])
            col = col_index(r[1].decode()) if r else col + 1
            xml = m[0]
            if not r:
                xml = b'<c r="%s%d"' % (col_letters(col).encode(), number) + xml[2:]
            existing[col] = xml
        rest = body[pos:]
        return b"<row%s>" % attrs + self._cells(existing, number, updates) + rest + b"</row>"


def patch_table(xml: bytes, last_row: int) -> bytes:
    """Extend the Table's ref (and its autoFilter's) down to ``last_row``; never shrink it."""

    def grow(m: re.Match[bytes]) -> bytes:
        c1, r1, c2, r2 = parse_range(m[2].decode())
        ref = f"{col_letters(c1)}{r1}:{col_letters(c2)}{max(r2, last_row)}"
        return m[1] + ref.encode() + m[3]

    xml = re.sub(rb'(<table\b[^>]*?\bref=")([^"]+)(")', grow, xml, count=1)
    return re.sub(rb'(<autoFilter\b[^>]*?\bref=")([^"]+)(")', grow, xml, count=1)


def _chunks(src: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            return
        yield chunk


# -- the package ---------------------------------------------------------------------------------

Patch = Callable[[IO[bytes], IO[bytes]], None]


def rewrite_package(
    src: Path,
    dst: Path,
    patches: dict[str, Patch],
    compresslevel: int = 1,
    add: dict[str, bytes | Callable[[IO[bytes]], None]] | None = None,
) -> None:
    """Write ``dst``: ``src``'s members in order, raw-copied except those in ``patches``; then ``add``'s new parts (bytes, or a writer of them)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in add or {}:
            if name in zin.NameToInfo:
                raise ValueError(f"the package already has a part {name}")
        for info in zin.infolist():
            if info.filename in patches:
                zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = info.external_attr
                _set_level(zi, compresslevel)
                with zin.open(info) as fin, zout.open(zi, "w", force_zip64=info.file_size > 1 << 30) as fout:
                    patches[info.filename](fin, fout)
            else:
                copy_member_raw(zin, zout, info)
        for name, data in (add or {}).items():
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            _set_level(zi, compresslevel)
            with zout.open(zi, "w", force_zip64=False) as fout:
                if callable(data):
                    data(fout)
                else:
                    fout.write(data)


def _set_level(zi: zipfile.ZipInfo, level: int) -> None:
    for attr in ("compress_level", "_compresslevel"):
        try:
            setattr(zi, attr, level)
            return
        except AttributeError:
            continue


def _strip_zip64(extra: bytes) -> bytes:
    out = b""
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[i : i + 4])
        if kind != 0x0001:
            out += extra[i : i + 4 + size]
        i += 4 + size
    return out


def copy_member_raw(zin: zipfile.ZipFile, zout: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Copy one member's compressed bytes as they are (no recompression, same CRC)."""
    fp = zin.fp
    if fp is None or zout.fp is None or info.flag_bits & 0x1:
        zout.writestr(copy.copy(info), zin.read(info))
        return
    fp.seek(info.header_offset)
    header = fp.read(30)
    if header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    zi = copy.copy(info)
    zi.flag_bits &= ~0x08  # sizes go in the local header, so no data descriptor follows
    zi.extra = _strip_zip64(info.extra)
    zi.header_offset = zout.fp.tell()
    zout.fp.write(zi.FileHeader())
    remaining = info.compress_size
    while remaining:
        block = fp.read(min(CHUNK, remaining))
        if not block:
            raise zipfile.BadZipFile(f"{info.filename} is truncated")
        zout.fp.write(block)
        remaining -= len(block)
    zout.filelist.append(zi)
    zout.NameToInfo[zi.filename] = zi
    zout.start_dir = zout.fp.tell()
    zout._didModify = True


def raw_member(path: Path, name: str) -> bytes:
    """A member's compressed bytes as stored (for tests that prove a raw copy)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
        assert zf.fp is not None
        zf.fp.seek(info.header_offset)
        header = zf.fp.read(30)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        zf.fp.seek(info.header_offset + 30 + name_len + extra_len)
        return zf.fp.read(info.compress_size)
