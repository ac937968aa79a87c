"""Rows added in one session: checked fast, held compact, turned into sheet XML only while saving.

A bulk import adds tens of thousands of rows in one ``upsert``. Each new row
is held as one tuple of values in field order (sharing the caller's value
objects), not as dicts or cell objects, and becomes XML one row at a time
while ``save`` streams the sheet, so memory grows by a few hundred bytes a
row. Records from ``rules.convert_record`` already hold typed, clean values:
a value that is exactly what ``convert`` would return is taken as it is, and
anything else still goes through ``convert``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from cstracker.core import derived
from cstracker.core.convert import (
    DATE1904_OFFSET,
    EXCEL_CELL_LIMIT,
    EXCEL_EPOCH,
    MOSAIC_PATTERN,
    REFERRAL_ID_PATTERN,
    looks_like_formula,
)
from cstracker.core.schema import CodeLists, Field, Kind, normalise_token
from cstracker.tracker.layout import Layout
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.patch import Cell, formula_cell_xml, formula_element, number_xml, text_xml

#: the Mosaic IDs and Referral IDs that ``convert`` returns unchanged


def excel_serial(value: dt.date, date1904: bool = False) -> int | float:
    """The serial number a spreadsheet stores for ``value``, in the workbook's date system."""
    shift = DATE1904_OFFSET if date1904 else 0
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return round(delta.days - shift + delta.seconds / 86400, 8)
    return (value - EXCEL_EPOCH).days - shift


def _clean_text(v: Any) -> bool:
    # isprintable() is False for every character clean_text() would remove (and for new lines
    # and non-breaking spaces, which then take the slow path).
    return type(v) is str and v != "" and v.isprintable() and v == v.strip() and len(v) <= EXCEL_CELL_LIMIT


def already_clean(fields: tuple[Field, ...], lists: CodeLists) -> list[Callable[[Any], bool]]:
    """Per field, in order: is a value exactly what ``convert`` would return for it (so needs no converting)?"""
    checks: list[Callable[[Any], bool]] = []
    for f in fields:
        kind = f.kind
        if kind is Kind.DATE:
            checks.append(lambda v: type(v) is dt.date)
        elif kind is Kind.DATETIME:
            checks.append(lambda v: type(v) is dt.datetime and v.microsecond == 0)
        elif kind is Kind.INT:
            lo, hi = f.bounds or (-(2**31), 2**31 - 1)
            checks.append(lambda v, lo=lo, hi=hi: type(v) is int and lo <= v <= hi)
        elif kind is Kind.FLAG:
            checks.append(lambda v: type(v) is bool)
        elif kind is Kind.MOSAIC:
            checks.append(lambda v: type(v) is str and MOSAIC_PATTERN.fullmatch(v) is not None)
        elif kind is Kind.ID:
            checks.append(lambda v: type(v) is str and REFERRAL_ID_PATTERN.fullmatch(v) is not None)
        elif kind is Kind.CODE:
            table = lists.lookup(f.code_list or "")
            # only the codes that are their own spelling: a code that also names another is converted
            codes = frozenset(c for c in lists.codes(f.code_list or "") if table.get(normalise_token(c)) == c)
            checks.append(lambda v, codes=codes: type(v) is str and v in codes)
        elif kind is Kind.FORMULA:
            checks.append(lambda v: False)
        else:
            checks.append(_clean_text)
    return checks


class NewRows:
    """The rows added since the last save (sheet row -> values in field order), written by SheetPatcher."""

    def __init__(self, rows: dict[int, tuple[Any, ...]], layout: Layout, tick: str):
        self.rows = rows
        self.numbers = sorted(rows)
        self.tick = tick
        self.quote_prefix_style = layout.quote_prefix_style
        self.date1904 = layout.date1904
        #: (position in the tuple, column, column letters, the field) in column order
        self.plan = sorted(
            (
                (i, layout.columns[f.key], col_letters(layout.columns[f.key]).encode(), f)
                for i, f in enumerate(layout.fields)
            ),
            key=lambda p: p[1],
        )
        self.max_col = max((p[1] for p in self.plan), default=0)
        self.formulas = {key: formula_element(make()) for key, make in derived.FORMULAS.items()}

    def cell(self, f: Field, value: Any) -> Cell:
        """One value as a Cell (for merging into a row element the sheet already has)."""
        if f.key in derived.FORMULAS:
            cached = excel_serial(value, self.date1904) if isinstance(value, dt.date) else (value or "")
            return Cell("f", cached, derived.FORMULAS[f.key]())
        if value is None or value is False:
            return Cell("")
        if value is True:
            return Cell("s", self.tick)
        if isinstance(value, dt.date):
            return Cell("n", excel_serial(value, self.date1904))
        if isinstance(value, int):
            return Cell("n", value)
        text = str(value)
        return Cell("s", text, style=self.quote_prefix_style if looks_like_formula(text) else None)

    def cells(self, number: int) -> dict[int, Cell]:
        values = self.rows[number]
        return {col: self.cell(f, values[i]) for i, col, _, f in self.plan}

    def render(self, number: int, column_style: Callable[[int], int | None]) -> bytes:
        """The cells of a row the sheet does not have yet; the same XML ``cells`` would give."""
        values = self.rows[number]
        n = b"%d" % number
        qp = self.quote_prefix_style
        out = []
        for i, col, letters, f in self.plan:
            v = values[i]
            formula = self.formulas.get(f.key)
            if formula is not None:
                cached = excel_serial(v, self.date1904) if isinstance(v, dt.date) else (v or "")
                out.append(formula_cell_xml(letters + n, column_style(col), formula, cached))
            elif v is None or v is False:
                continue
            elif type(v) is str:  # the commonest value first
                forced = qp if looks_like_formula(v) else None
                out.append(text_xml(letters + n, forced if forced is not None else column_style(col), v))
            elif v is True:
                out.append(text_xml(letters + n, column_style(col), self.tick))
            elif isinstance(v, dt.date):
                out.append(number_xml(letters + n, column_style(col), excel_serial(v, self.date1904)))
            elif isinstance(v, int):
                out.append(number_xml(letters + n, column_style(col), v))
            else:
                text = str(v)
                forced = qp if looks_like_formula(text) else None
                out.append(text_xml(letters + n, forced if forced is not None else column_style(col), text))
        return b"".join(out)
