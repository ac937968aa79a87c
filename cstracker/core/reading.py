"""One reading of a tracker cell, used by validate, validate --fix, the report and the Trends sheet's tests.

A cell as stored (text, number, TRUE/FALSE, blank, or a formula with its cached
value) is one of:

* **canonical**: exactly what cstracker writes: the list's code, a real date (a
  number), a number, the Tick list's code (``Yes``), blank for unticked, a Mosaic
  ID as text. The live Trends sheet (COUNTIFS on the exact text) counts these.
* **readable but not canonical**: a synonym, other spacing or case, ``x``/``Y``/
  ``TRUE``/``=TRUE()`` ticks, ``No``/``n``/``0``/``-`` unticks, a date typed as
  text, a number stored as text, a Mosaic ID stored as a number, a value not yet
  on an *open* list (``NEW``). Everything reads it as what it means;
  ``cstracker validate --fix`` rewrites it to ``canonical_cell(...)``.
* **unreadable**: no reading; validate reports it as an error, the report counts
  it as not recorded and --fix leaves it alone.

The value a cell means comes from ``convert.convert`` (the converters ingest and
import use), so every reader agrees on it; this module adds which of the three it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cstracker.core.convert import (
    DATE1904_OFFSET,
    EXCEL_EPOCH,
    MOSAIC_PATTERN,
    clean_text,
    convert,
    is_blank,
)
from cstracker.core.schema import DEFAULT_CODE_LISTS, CodeLists, Field, Kind, normalise_token


class State(StrEnum):
    CANONICAL = "canonical"
    READABLE = "readable"  # readable but not canonical
    NEW = "new-list-value"  # readable: a value an open list does not hold yet
    UNREADABLE = "unreadable"
    FORMULA = "formula"  # a formula where a value belongs (its cached value is read, never rewritten)


@dataclass(frozen=True)
class Formula:
    """A formula cell as stored: its formula text (without '=') and its cached value."""

    text: str
    cached: Any = None


@dataclass(frozen=True)
class Reading:
    value: Any
    state: State
    error: str | None = None

    @property
    def readable(self) -> bool:
        return self.state is not State.UNREADABLE

    @property
    def fixable(self) -> bool:
        return self.state in (State.READABLE, State.NEW)


#: a formula that is only a typed TRUE/FALSE: LibreOffice stores a typed TRUE as =TRUE()
_BOOL_FORMULA = re.compile(r"^\s*=?\s*(TRUE|FALSE)\s*(\(\s*\))?\s*$", re.I)


def is_open_list(list_key: str) -> bool:
    """An open list grows with the authority (a new referrer team): a value off it is still readable."""
    cl = DEFAULT_CODE_LISTS.get(list_key)
    return bool(cl and cl.open)


def new_list_value(raw: Any) -> str:
    """The spelling a new open-list value is kept in: trimmed, inner spacing collapsed."""
    return re.sub(r"\s+", " ", clean_text(raw))


def read_cell(field: Field, raw: Any, lists: CodeLists, date1904: bool = False) -> Reading:
    """What the stored value ``raw`` of one cell of ``field`` means, and whether it is canonical.

    ``date1904``: the workbook counts days in the 1904 date system (its serials are 1462 lower).
    """
    if isinstance(raw, Formula):
        return _read_formula(field, raw, lists, date1904)
    if raw is None or raw == "":
        return Reading(False if field.kind is Kind.FLAG else None, State.CANONICAL)
    if is_blank(raw):  # spaces only: means blank; the canonical form is an empty cell
        return Reading(False if field.kind is Kind.FLAG else None, State.READABLE)
    kind = field.kind
    if kind is Kind.FORMULA:
        return Reading(raw, State.CANONICAL)
    if kind is Kind.FLAG and isinstance(raw, str) and raw.lstrip().startswith("="):
        m = _BOOL_FORMULA.match(raw)
        if m:  # the text of a typed TRUE, as a reader that shows formulas gives it
            return Reading(m[1].upper() == "TRUE", State.READABLE)
    got = convert(field, raw, lists, date1904)
    if not got.ok:
        if kind is Kind.CODE and is_open_list(field.code_list or "") and isinstance(raw, str):
            text = new_list_value(raw)
            if text and len(text) <= 255:
                return Reading(_first_spelling(lists, field.code_list or "", text), State.NEW)
        return Reading(None, State.UNREADABLE, got.error)
    return Reading(
        got.value, State.CANONICAL if _is_canonical(field, raw, got.value, lists) else State.READABLE
    )


#: the stored shape of a canonical ID / Mosaic ID text, as ``read_column`` checks it
_CANONICAL_TEXT = {Kind.ID: r"[A-Z0-9][A-Z0-9/_\-]{0,39}", Kind.MOSAIC: r"\d{1,12}"}


def read_stored(field: Field, raws: Any, lists: CodeLists, date1904: bool = False) -> list[Reading]:
    """``read_cell`` of each value of a column as stored (str, float, bool, date, ``Formula``, None).

    Column-wise: the values already in the canonical stored shape of their kind (an ID or a
    Mosaic ID as text, a code of the list, the tick) are told apart in one vectorised step
    and need no reading; every other distinct value is read once by ``read_cell``. Gives
    exactly what ``read_cell`` gives for each value (tests/test_reading.py).
    """
    import numpy as np
    import pandas as pd

    raws = list(raws)
    kind = field.kind
    fast = np.zeros(len(raws), dtype=bool)
    if kind in _CANONICAL_TEXT or kind in (Kind.CODE, Kind.FLAG):
        texts = pd.Series([r if type(r) is str else None for r in raws], dtype="string")
        if kind in _CANONICAL_TEXT:
            fast = texts.str.fullmatch(_CANONICAL_TEXT[kind]).fillna(False).to_numpy(dtype=bool)
        elif kind is Kind.CODE:
            fast = texts.isin(lists.codes(field.code_list or "")).fillna(False).to_numpy(dtype=bool)
        else:
            fast = (texts == tick(lists)).fillna(False).to_numpy(dtype=bool)
    out: list[Reading] = [None] * len(raws)  # type: ignore[list-item]
    yes = Reading(True, State.CANONICAL)
    for i in np.flatnonzero(fast).tolist():
        out[i] = yes if kind is Kind.FLAG else Reading(raws[i], State.CANONICAL)
    seen: dict[tuple[type, Any], Reading] = {}
    for i in np.flatnonzero(~fast).tolist():
        raw = raws[i]
        key = (type(raw), raw)
        got = seen.get(key)
        if got is None:
            got = seen[key] = read_cell(field, raw, lists, date1904)
        out[i] = got
    return out


def read_record(raw: Any, lists: CodeLists, fields: Any = None, date1904: bool = False) -> dict[str, Any]:
    """A row's stored values (field key -> value) as every reader reads them: readable values only.

    Used wherever an existing tracker row is read for matching or comparing (``Tracker.records``,
    ingest), so a value validate calls readable is never dropped there.
    """
    record: dict[str, Any] = {}
    for f in fields if fields is not None else lists.fields():
        if f.key in raw and f.kind is not Kind.FORMULA:
            got = read_cell(f, raw[f.key], lists, date1904)
            if got.readable:
                record[f.key] = got.value
    return record


def _first_spelling(lists: CodeLists, list_key: str, text: str) -> str:
    """One spelling per new value: the first met (``fire service`` and ``Fire Service`` are one team)."""
    seen = lists.__dict__.setdefault("_new_values", {}).setdefault(list_key, {})
    return seen.setdefault(normalise_token(text), text)


def _is_canonical(field: Field, raw: Any, value: Any, lists: CodeLists) -> bool:
    kind = field.kind
    number = isinstance(raw, int | float) and not isinstance(raw, bool)
    if kind is Kind.CODE:
        return isinstance(raw, str) and raw == value
    if kind is Kind.FLAG:
        return isinstance(raw, str) and raw == tick(lists) and value is True
    if kind in (Kind.DATE, Kind.DATETIME):
        return number or isinstance(raw, dt.date)
    if kind is Kind.INT:
        return number
    if kind is Kind.MOSAIC:
        return isinstance(raw, str) and MOSAIC_PATTERN.fullmatch(raw) is not None
    if kind is Kind.ID:
        return isinstance(raw, str) and raw == value
    return True  # free text is the coordinator's own words: read trimmed, never rewritten


def _read_formula(field: Field, raw: Formula, lists: CodeLists, date1904: bool = False) -> Reading:
    m = _BOOL_FORMULA.match(raw.text)
    if field.kind is Kind.FLAG and m:
        return Reading(m[1].upper() == "TRUE", State.READABLE)
    if field.kind is Kind.FORMULA:
        return Reading(raw.cached, State.CANONICAL)
    inner = read_cell(field, raw.cached, lists, date1904)
    return Reading(inner.value if inner.readable else None, State.FORMULA, inner.error)


def tick(lists: CodeLists) -> str:
    return lists.codes("tick")[0]


def canonical_cell(field: Field, value: Any, lists: CodeLists, date1904: bool = False) -> Any:
    """The stored form of a value: text, a number (dates as serials of the workbook's date system)
    or None for an empty cell."""
    shift = DATE1904_OFFSET if date1904 else 0
    if value is None or value is False:
        return None
    if value is True:
        return tick(lists)
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        return round(delta.days - shift + delta.seconds / 86400, 8)
    if isinstance(value, dt.date):
        return (value - EXCEL_EPOCH).days - shift
    if isinstance(value, int):
        return value
    return str(value)


def shown(raw: Any) -> Any:
    """A stored value as a person would recognise it in a message."""
    if isinstance(raw, Formula):
        return "=" + raw.text
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return raw


def described(field: Field, value: Any, lists: CodeLists) -> str:
    """What a reading is written as by --fix, in words: 'Female', 'Yes', '03/10/2026 (a date)', 'blank'."""
    if value is None or value is False:
        return "blank"
    if field.sensitive:
        return "the same digits stored as text"
    if value is True:
        return repr(tick(lists))
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M} (a date)"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y} (a date)"
    if isinstance(value, int):
        return f"{value} (a number)"
    return repr(str(value))


#: how a spreadsheet reader's text view shows a real date cell, and a number cell
_DATE_TEXT = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
_NUMBER_TEXT = r"^-?\d+(\.\d+)?$"


@dataclass
class ColumnReading:
    """One column read: its values (typed as the report wants them) and per-row state masks."""

    values: Any  # pandas Series
    not_canonical: Any  # bool array: readable, not canonical (new open-list values included)
    new_value: Any  # bool array: a value an open list does not hold yet
    unreadable: Any  # bool array


def read_column(field: Field, texts: Any, lists: CodeLists, date1904: bool = False) -> ColumnReading:
    """A column of the Referrals sheet as a spreadsheet reader's text view gives it -> what it means.

    Each distinct text is read once (``read_cell``), except texts already in the
    canonical shape for their kind (checked in one vectorised step). The text view
    cannot tell a number from a number stored as text, so those count as canonical
    here; ``cstracker validate`` reads the cells themselves and tells them apart.
    """
    import numpy as np
    import pandas as pd

    texts = texts.astype("string")
    n = len(texts)
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    uniques = pd.Series(uniques, dtype="string")
    kind = field.kind
    dates = kind in (Kind.DATE, Kind.DATETIME) or field.key == "follow_up_due"
    # per distinct text: 0 canonical, 1 readable, 2 new list value, 3 unreadable (or a formula)
    u_state = np.zeros(len(uniques), dtype=np.int8)
    if kind in (Kind.TEXT, Kind.LONGTEXT) or (kind is Kind.FORMULA and not dates):
        return ColumnReading(texts, np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool))
    if dates:
        fast = pd.to_datetime(
            uniques.where(uniques.str.match(_DATE_TEXT)), format="%Y-%m-%d %H:%M:%S", errors="coerce"
        )
        u_value = np.array(fast.astype(object).where(fast.notna(), None).tolist() + [None], dtype=object)[:-1]
        slow = fast.isna().to_numpy()
    else:
        if kind is Kind.MOSAIC:
            fast = uniques.str.fullmatch(r"\d{1,12}").fillna(False).to_numpy()
        elif kind is Kind.ID:
            fast = uniques.str.fullmatch(r"[A-Z0-9][A-Z0-9/_\-]{0,39}").fillna(False).to_numpy()
        elif kind is Kind.CODE:
            fast = uniques.isin(lists.codes(field.code_list or "")).fillna(False).to_numpy()
        elif kind is Kind.FLAG:
            fast = (uniques == tick(lists)).fillna(False).to_numpy()
        else:
            fast = np.zeros(len(uniques), dtype=bool)
        u_value = np.array(uniques.astype(object).tolist() + [None], dtype=object)[:-1]
        if kind is Kind.FLAG:
            u_value[fast] = True
        slow = ~fast
    for i in np.flatnonzero(slow):
        text = uniques.iloc[i]
        raw: Any = text
        if re.match(_NUMBER_TEXT, text) and kind in (Kind.INT, Kind.DATE, Kind.DATETIME, Kind.FORMULA):
            raw = float(text)  # the text view of a number cell
        r = read_cell(field, raw, lists, date1904)
        value = r.value
        if dates and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        u_value[i] = value
        u_state[i] = _STATE_CODE[r.state]
    blank = codes < 0
    take = np.where(blank, len(uniques), codes)  # the extra last slot is blank
    state = np.append(u_state, 0)[take]
    if kind is Kind.FLAG:
        values = pd.Series(np.append(np.array([v is True for v in u_value], dtype=bool), False)[take])
    elif kind is Kind.INT:
        values = pd.Series(pd.array([*u_value, None], dtype="Int64")).take(take).reset_index(drop=True)
    elif dates:
        values = pd.Series(pd.to_datetime(pd.Series([*u_value, None], dtype=object)).to_numpy()[take])
    else:
        values = pd.Series(pd.array([*u_value, None], dtype="string")).take(take).reset_index(drop=True)
    return ColumnReading(values, (state == 1) | (state == 2), state == 2, state == 3)


_STATE_CODE = {State.CANONICAL: 0, State.READABLE: 1, State.NEW: 2, State.UNREADABLE: 3, State.FORMULA: 3}
