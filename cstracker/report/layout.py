"""How a report sheet prints: column widths from what the tables hold, a fixed readable scale, page breaks.

A report sheet is printed A4 landscape at a fixed scale (never "fit to page", so the printed
size is known; ``printing.MIN_SCALE`` is the least). Before anything is written, each sheet's
columns are sized from its tables (a heading wraps at its words, a number is never wider than
its column, so nothing prints as ``###``); the scale is the largest that fits the widest row of
columns and charts across the page; a table that would run over the foot of a page starts on the
next one, and the sheet's title rows repeat on every page.
"""

from __future__ import annotations

import math
import re
import textwrap

from cstracker.xlsx.printing import MIN_SCALE

#: the narrowest a number column is (characters), the narrowest and widest label column (a longer label
#: wraps), the widest any column is
NUMBER_WIDTH, LABEL_MIN, LABEL_MAX, MAX_WIDTH = 8, 14, 58, 60
#: the narrowest column under a heading printed on its side
TURNED_WIDTH = 5
#: points per line of 10-point text, for rows whose headings or text wrap
LINE_HEIGHT = 13
#: the height of a row nothing makes taller (points): set as the sheet's default row height, so Excel and
#: LibreOffice (which otherwise sizes rows to their font) print the same rows on a page
ROW_HEIGHT = 13.5
#: A4 landscape inside 0.5-inch side margins is 1026 pixels at 96 dpi; LibreOffice draws columns a little
#: wider than Excel's pixel rule, so plan for less
PAGE_WIDTH_PX = 940
#: A4 landscape inside 0.6-inch top and bottom margins is 509 points; a little spare for rounding
PAGE_HEIGHT_PT = 500
#: characters per unit of column width for text in each style (a unit is a '0' of 11 point)
SIZE_FACTOR = {"title": 1.45, "subtitle": 1.12, "plain": 1.0, "note": 0.85}
#: points per character of a heading turned on its side, and its padding
ROTATED_PT_PER_CHAR, ROTATED_PAD = 6.2, 8


def px(width: float) -> int:
    """Pixels of a column ``width`` characters wide (Calibri 11: 7 pixels a character and 5 of padding)."""
    return int(width * 7 + 0.5) + 5


def shown_text(value, fmt: str) -> str:
    """A cell's value as its number format shows it, to size its column."""
    if value is None:
        return ""
    try:
        if fmt == "int":
            return f"{int(value):,}"
        if fmt == "pct":
            return f"{float(value):.0%}"
        if fmt == "pct_change":
            return f"{float(value):+.0%}"
        if fmt == "change":
            return f"{int(value):+,}"
        if fmt == "date":
            return "00/00/0000"
        return str(int(value)) if fmt in ("days", "plain") else str(value)
    except (TypeError, ValueError, OverflowError):
        return str(value)


def heading_width(text: str) -> int:
    """A heading wraps at its words: its column is as wide as its longest word."""
    return max((len(w) for w in str(text).split()), default=0) + 2


def wrapped_lines(text: str, width: float) -> int:
    """Lines 10-point ``text`` takes wrapped at its words in a column ``width`` characters wide (a
    10-point character is narrower than the unit, an 11-point '0': about 1.25 to a unit, less a margin)."""
    per_line = max(int((width - 0.5) * 1.25), 1)
    return sum(
        max(1, len(textwrap.wrap(part, per_line, break_long_words=True))) for part in str(text).split("\n")
    )


def wrap(text: str, width_units: float, style: str) -> list[str]:
    """``text`` in lines that fit ``width_units`` of column width in ``style``.

    A text that fits stays one line. Otherwise it breaks between sentences, then between the
    parts of a long sentence (after a comma), and only then between words: each line reads as a
    whole, so a line can be found (or read out) on its own.
    """
    per_line = max(int(width_units / SIZE_FACTOR[style]), 20)
    if len(text) <= per_line:
        return [text]
    lines: list[str] = []
    for sentence in re.split(r"(?<=[.;:])\s+", text.strip()):
        if len(sentence) <= per_line:
            lines.append(sentence)
            continue
        line = ""
        for part in re.split(r"(?<=,)\s+", sentence):
            if len(part) > per_line:
                if line:
                    lines.append(line)
                *whole, line = textwrap.wrap(part, per_line)
                lines.extend(whole)
            elif not line:
                line = part
            elif len(line) + 1 + len(part) <= per_line:
                line = f"{line} {part}"
            else:
                lines.append(line)
                line = part
        if line:
            lines.append(line)
    return lines or [""]


def header_height(headings: dict[int, str], widths: dict[int, float], rotated: bool) -> float:
    if rotated:
        return max(len(h) for h in headings.values()) * ROTATED_PT_PER_CHAR + ROTATED_PAD
    lines = max(wrapped_lines(h, widths.get(c, NUMBER_WIDTH)) for c, h in headings.items())
    return max(ROW_HEIGHT, LINE_HEIGHT * lines + 4)


def print_scale(widths: dict[int, float], charts: list[tuple[int, int]]) -> int:
    """The largest whole scale at which the columns (and any chart: first column, width in px) fit a page."""
    last = max(widths) if widths else 0
    edges = [sum(px(widths.get(c, NUMBER_WIDTH)) for c in range(last + 1))]
    for col, width in charts:
        edges.append(sum(px(widths.get(c, NUMBER_WIDTH)) for c in range(col)) + width)
    scale = math.floor(PAGE_WIDTH_PX * 100 / max(edges))
    return max(MIN_SCALE, min(100, scale))


def page_breaks(
    blocks: list[tuple[int, int]],
    heights: dict[int, float],
    top_rows: int,
    scale: int,
    together: list[tuple[int, int]] = (),
) -> list[int]:
    """Rows to start a new page at, so that a block (a table from its title to its last row, a chart)
    that fits on a page is not split across two.

    ``heights``: rows not of ``ROW_HEIGHT`` points; ``top_rows``: the rows repeated on every page;
    ``together``: row spans (a table and the chart under it) kept on one page when they fit one.
    """
    page = PAGE_HEIGHT_PT * 100 / scale

    def height(r: int) -> float:
        return heights.get(r, ROW_HEIGHT)

    repeated = sum(height(r) for r in range(top_rows))
    blocks = list(blocks)
    for first, last in together:
        if sum(height(r) for r in range(first, last + 1)) <= page - repeated:
            blocks = [b for b in blocks if not first <= b[0] <= last] + [(first, last)]
    merged: list[list[int]] = []
    for first, last in sorted(blocks):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)  # a chart beside a table: one block
        else:
            merged.append([first, last])
    breaks: list[int] = []
    start = 0  # the first row of the page being filled

    def fill(upto: int) -> float:
        """Follow the pages' own breaks up to row ``upto``; the height used on its page after it."""
        nonlocal start
        while True:
            used = repeated if start else 0.0
            r = start
            while r <= upto and used + height(r) <= page:
                used += height(r)
                r += 1
            if r > upto:
                return used
            start = max(r, start + 1)

    page_of_last = -1  # the first row of the page the last block ended on
    for first, last in merged:
        before = fill(first - 1) if first > start else (repeated if start else 0.0)
        size = sum(height(r) for r in range(first, last + 1))
        # a new page helps only when a block already printed on this one and this one fits a page
        shares = page_of_last == start
        if before + size > page and size <= page - repeated and first > start and shares:
            breaks.append(first)
            start = first
        fill(last)
        page_of_last = start
    return breaks
