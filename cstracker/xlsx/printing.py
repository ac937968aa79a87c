"""What every printed sheet shares: the readable scale, and row heights that never cut wrapped text.

A spreadsheet program does not grow a row for wrapped text it did not lay out itself (a
workbook written by cstracker has no measured heights), so a long cell prints cut off or
over the row below. Rows that wrap get a height worked out here instead. Print scales are
fixed, never "fit to page", so the printed size is known: readable means at least
``MIN_SCALE`` percent. tests/test_printing.py prints every workbook with LibreOffice (fonts
pinned: Carlito for Calibri, DejaVu) and checks the page counts.
"""

from __future__ import annotations

import textwrap

#: the smallest print scale (%) at which 10-point text is still comfortable to read
MIN_SCALE = 70


def row_height(text: str, width: float, font_size: float = 10) -> float:
    """Points needed to show ``text`` wrapped in a column ``width`` characters wide, without cutting it.

    A 10-point character is narrower than the column unit (the width of a '0' in 11 point); 1.25 per
    unit errs on the generous side, so a line is never cut in Excel or LibreOffice.
    """
    per_line = max(8, int(width * 1.25 * 10 / font_size))
    lines = sum(max(1, len(textwrap.wrap(part, per_line))) for part in text.split("\n"))
    return lines * font_size * 1.35 + 3
