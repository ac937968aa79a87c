"""A number in a date-formatted cell beyond what the spreadsheet readers' date arithmetic holds.

calamine (under fastexcel and python-calamine) turns a number in a date-formatted cell into a
date by counting its milliseconds in a 64-bit integer. A number below about -1.07e11 days (a
12-digit number with a minus sign: a phone number pasted in as a sum, or a stray minus before an ID)
overflows it, and the Rust library panics: the command would end with a crash, whatever the cell.
(Large positive numbers are range-checked first and read as numbers.) Excel shows such a cell as
######. So the passes that look at a sheet before a reader sees it (``extent.check_sheet``
and ``FarCells``) also look for these cells, and refuse the sheet with one line naming the cell.

Only cells whose style is a date format count: the same number in a General or Number cell is
read as the number it is.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

#: days before 1900 (negative); chrono's bound is 2**63 milliseconds, about 1.0675e11 days
HUGE_DAYS = 1e11

#: a negative value of 12 digits or more, or in exponent form: the candidates (a sane sheet has none)
_CANDIDATE = re.compile(rb"<v>\s*(-(?:[0-9]{12}[0-9.]*|[0-9.]+[eE]\+?[0-9]+))\s*</v>")
#: the same with a namespace prefix (a rare writer): slower, used only when the piece has one
_CANDIDATE_PREFIXED = re.compile(
    rb"<(?:\w+:)?v>\s*(-(?:[0-9]{12}[0-9.]*|[0-9.]+[eE]\+?[0-9]+))\s*</(?:\w+:)?v>"
)
_PREFIXED = re.compile(rb"<\w+:c\b")
_CELL_START = re.compile(rb"<(?:\w+:)?c\b([^>]*)>\s*(?:<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*)?$")
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]+)"')
_STYLE = re.compile(rb'\bs="([0-9]+)"')
_TYPE = re.compile(rb'\bt="([^"]*)"')


@dataclass(frozen=True)
class HugeDate:
    """A date-formatted cell holding a number no reader can turn into a date."""

    cell: str
    value: str

    def message(self, where: str) -> str:
        return (
            f"{where}: cell {self.cell} holds the number {self.value} in a date format, far before any date "
            f"(Excel shows it as ######; a long number pasted into a date column?), and no spreadsheet "
            f"reader can read it. Type the date there, or clear the cell, and run the command again"
        )


class HugeDates:
    """Finds, in pieces of a sheet part, a date-formatted cell whose number is beyond any date."""

    def __init__(self, date_styles: Collection[int]):
        self.styles = frozenset(date_styles)

    def find(self, data: bytes) -> HugeDate | None:
        if not self.styles:
            return None
        pattern = _CANDIDATE_PREFIXED if _PREFIXED.search(data) else _CANDIDATE
        for m in pattern.finditer(data):
            try:
                days = float(m[1])
            except ValueError:
                continue
            if days > -HUGE_DAYS:
                continue
            # the cell's own start tag: the last one before the value (a formula may stand between)
            start = max(data.rfind(b"<c ", 0, m.start()), data.rfind(b":c ", 0, m.start()) - 16)
            head = _CELL_START.search(data, max(start, 0), m.start())
            if head is None:
                continue
            attrs = head[1]
            style, kind, ref = _STYLE.search(attrs), _TYPE.search(attrs), _REF.search(attrs)
            if style is None or int(style[1]) not in self.styles or (kind is not None and kind[1] != b"n"):
                continue
            return HugeDate(ref[1].decode("ascii") if ref else "(no reference)", m[1].decode("ascii"))
        return None
