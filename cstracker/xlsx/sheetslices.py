"""Read a very large Referrals sheet a slice of rows at a time.

fastexcel (the Rust calamine reader) holds every cell of a sheet in memory while
it reads, whatever columns or rows it is asked for: about 400 MB for 100,000
rows of 67 columns. Here the sheet XML is streamed (``sheetscan.sheet_data_regions``) and
each slice of whole rows is copied, behind the heading row, into a small
stand-alone workbook in a temporary folder (stored, not compressed), with the
parts a reader needs to give the same values: styles (number formats tell
dates from numbers), shared strings and the 1904 date system. Each slice is read
with the caller's own reader call; only one slice's cells are held at a time.

Rows keep their sheet row numbers; the heading row is moved to just above each
slice, so a reader's row i of a slice is sheet row (heading row + 1 + i).
"""

from __future__ import annotations

import itertools
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstracker.xlsx.cells import ROW_REF as _ROW_R
from cstracker.xlsx.cells import shared_strings_part
from cstracker.xlsx.parts import (
    BIG_PART_BYTES,
    NS_REL,
    SMALL_PART_BYTES,
    is_date1904,
    part_of_type,
    read_part,
)
from cstracker.xlsx.parts import NS_MAIN as _MAIN
from cstracker.xlsx.parts import NS_PKG_REL as _PKG_REL
from cstracker.xlsx.sheetscan import has_all_refs, sheet_data_regions

if TYPE_CHECKING:
    from cstracker.xlsx.cellscan import Located

_ROW_START = re.compile(rb"<row\b([^>]*)>")
_CELL_ROW = re.compile(rb'(<c\b[^>]*?\br="[A-Z]+)\d+"')
_WORKSHEET_TAG = re.compile(rb"<(?:\w+:)?worksheet\b[^>]*>")

_XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_REL = NS_REL + "/"


class NotSliceable(Exception):
    """The sheet XML is not in the shape slicing relies on; read the sheet whole instead."""


def _part_by_type(zf: zipfile.ZipFile, kind: str) -> str | None:
    return part_of_type(zf, "xl/workbook.xml", kind)


def _fixed_parts(zf: zipfile.ZipFile) -> dict[str, bytes]:
    """Every part of a slice workbook but its sheet: one sheet named like the original, its styles and strings."""
    styles = _part_by_type(zf, "styles")
    strings = shared_strings_part(zf)
    wb = read_part(zf, "xl/workbook.xml", SMALL_PART_BYTES)
    overrides = [
        ("/xl/workbook.xml", "sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", "worksheet+xml"),
    ]
    rels = [("rId1", "worksheet", "worksheets/sheet1.xml")]
    parts: dict[str, bytes] = {}
    if styles:
        overrides.append(("/xl/styles.xml", "styles+xml"))
        rels.append(("rId2", "styles", "styles.xml"))
        parts["xl/styles.xml"] = read_part(zf, styles, SMALL_PART_BYTES)
    if strings:
        overrides.append(("/xl/sharedStrings.xml", "sharedStrings+xml"))
        rels.append(("rId3", "sharedStrings", "sharedStrings.xml"))
        parts["xl/sharedStrings.xml"] = read_part(zf, strings, BIG_PART_BYTES)
    parts["[Content_Types].xml"] = (
        _XML
        + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{_CT}{t}"/>' for p, t in overrides)
            + "</Types>"
        ).encode()
    )
    parts["_rels/.rels"] = (
        _XML
        + (
            f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_REL}officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ).encode()
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        _XML
        + (
            f'<Relationships xmlns="{_PKG_REL}">'
            + "".join(f'<Relationship Id="{i}" Type="{_REL}{t}" Target="{p}"/>' for i, t, p in rels)
            + "</Relationships>"
        ).encode()
    )
    pr = '<workbookPr date1904="1"/>' if is_date1904(wb) else ""
    parts["xl/workbook.xml"] = (
        _XML
        + (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL[:-1]}">{pr}'
            '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode()
    )
    return parts


class _Slice:
    """One slice workbook being written: fixed parts, then the sheet streamed row piece by row piece."""

    def __init__(self, path: Path, parts: dict[str, bytes], tag: bytes, header: bytes, at: int):
        self.path = path
        self.zf = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED)
        for name, data in parts.items():
            self.zf.writestr(name, data)
        self.sheet = self.zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        row = _ROW_START.match(header)
        head = header[: row.start(1)] + _ROW_R.sub(b'r="%d"' % at, row[1], count=1) + header[row.end(1) :]
        self.sheet.write(_XML + tag + b"<sheetData>" + _CELL_ROW.sub(rb'\g<1>%d"' % at, head))
        self.header_at = at

    def write(self, data: bytes) -> None:
        self.sheet.write(data)

    def close(self) -> None:
        if self.sheet is not None:
            self.sheet.write(b"</sheetData></worksheet>")
            self.sheet.close()
            self.sheet = None
        self.zf.close()


def read_in_slices(
    path: Path,
    sheet_part: str,
    sheet_name: str,
    header_row: int,
    rows_per_slice: int,
    read: Callable[[str, int], Any],
    far: tuple[Any, Callable[[str], Exception]] | None = None,
    inspect: Callable[[bytes, Located | None], None] | None = None,
) -> list[tuple[Any, int]]:
    """``read(slice file, 0-based heading row)`` for each slice; (its result, its heading row number) in order.

    Raises NotSliceable, having read nothing it returns, when a row lacks its
    position, the heading row is not found or no row follows it. ``far``: (``extent.FarCells``,
    the error for what it finds): each piece is checked for cells far outside the sheet's area
    before it goes into a slice, so no reader sees one. ``inspect(piece, located)``: called with
    each piece of the sheet XML (whole rows, checked) and its cells (``cellscan.locate``; None
    for a piece in another shape), so a caller's own search of the sheet needs no second pass.

    The sheet is streamed and the slices written in a second thread while this one reads the
    slice written before (the reader lets go of the interpreter): the reading and the streaming
    take the time of the slower one, not of both. The reader runs in the calling thread, so its
    memory comes and goes as it did (a reader's memory freed in another thread stays with it).
    """
    from cstracker.xlsx.cellscan import locate

    out: list[tuple[Any, int]] = []
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="cstracker-read-") as tmp:
        parts = _fixed_parts(zf)
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"{name}", _attr(sheet_name))
        with zf.open(sheet_part) as src:
            tag = _WORKSHEET_TAG.search(src.read(1 << 16))
        if tag is None:
            raise NotSliceable("no worksheet element")
        # the slices written and not yet read: at most one waits while one is read
        written: queue.Queue = queue.Queue(maxsize=1)
        stopped = threading.Event()

        def hand_over(item: Any) -> None:
            while not stopped.is_set():
                try:
                    written.put(item, timeout=0.05)
                    return
                except queue.Full:
                    continue

        def stream() -> None:
            header: bytes | None = None
            current: _Slice | None = None
            end = 0
            numbers = itertools.count()
            try:
                with zf.open(sheet_part) as src:
                    for region in sheet_data_regions(src):
                        if stopped.is_set():
                            return
                        located = locate(region)
                        if far is not None:
                            found = far[0].find(region, located)
                            if found:
                                raise far[1](found)
                        if located is None and not has_all_refs(region):
                            raise NotSliceable("a row or cell without its position")
                        if inspect is not None:
                            inspect(region, located)
                        if current is not None and _last_row(region) < end:
                            current.write(region)
                            continue
                        starts = [m for m in _ROW_START.finditer(region)]
                        for i, m in enumerate(starts):
                            stop = starts[i + 1].start() if i + 1 < len(starts) else len(region)
                            number = int(_ROW_R.search(m[1])[1])
                            if number < header_row:
                                continue
                            if number == header_row:
                                header = region[m.start() : stop]
                                continue
                            if header is None:
                                raise NotSliceable("no heading row")
                            if current is None or number >= end:
                                if current is not None:
                                    current.close()
                                    hand_over(current)
                                current = _Slice(
                                    Path(tmp) / f"slice{next(numbers)}.xlsx",
                                    parts,
                                    tag[0],
                                    header,
                                    number - 1,
                                )
                                end = number + rows_per_slice
                            current.write(region[m.start() : stop])
                if current is not None:
                    current.close()
                    hand_over(current)
                    current = None
                hand_over(None)
            except BaseException as e:  # every failure goes to the reading thread, which raises it
                hand_over(e)
            finally:
                if current is not None:
                    current.close()

        streamer = threading.Thread(target=stream, name="cstracker-slices", daemon=True)
        streamer.start()
        try:
            while (done := written.get()) is not None:
                if isinstance(done, BaseException):
                    raise done
                try:
                    out.append((read(str(done.path), done.header_at - 1), done.header_at))
                finally:
                    done.path.unlink()
        finally:
            # the temporary folder goes only once the stream has stopped writing into it
            stopped.set()
            streamer.join()
            _give_back_memory()
    if not out:
        raise NotSliceable("no rows below the heading")
    return out


def _give_back_memory() -> None:
    """Return to the system what the streaming thread freed: glibc keeps a thread's freed memory
    in that thread's own arena, where the rest of the command cannot reuse it (about 10 MB of a
    100,000-row read, on top of the peak). Elsewhere than glibc, nothing to do."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _last_row(region: bytes) -> int:
    last = region.rfind(b"<row")
    m = _ROW_R.search(region, last, region.find(b">", last)) if last >= 0 else None
    return int(m[1]) if m else 0


def _attr(text: str) -> bytes:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").encode()
