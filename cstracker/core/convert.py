"""Converters: a raw value from a form, an import or a typed row -> a clean value or a reason.

Pure functions, no workbook needed. Each returns ``Converted(value, error)``;
``error`` is the message (what is wrong, what is allowed) or ``None``. A bad
value is never silently blanked: the caller keeps the raw value and reports it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from cstracker.core.schema import (
    ID_PATTERN_EXAMPLE,
    TICK_VALUES,
    UNTICK_VALUES,
    CodeLists,
    Field,
    Kind,
    normalise_token,
)

#: Excel's day zero (with its 1900 leap-year bug folded in, as every reader does).
EXCEL_EPOCH = dt.date(1899, 12, 30)
#: A workbook in the 1904 date system (the Mac option, ``<workbookPr date1904="1"/>``) numbers each
#: day this much lower than the 1900 system: its serials are shifted by it before reading, and after writing.
DATE1904_OFFSET = 1462
#: Serial numbers taken as dates: 1 Jan 1950 .. 31 Dec 2099. Outside that a number is not a date.
SERIAL_RANGE = (18264, 73415)

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
_WORDY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([A-Za-z]+)\.?,?[\s\-]+(\d{2}|\d{4})$")
_TIME_TAIL = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2})?$")
MOSAIC_PATTERN = re.compile(r"^\d{1,12}$")
REFERRAL_ID_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9/_\-]{0,39}$")
#: characters XML 1.0 cannot carry; a spreadsheet would refuse the file
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_CELL_LIMIT = 32767
#: more digits than any whole number a tracker holds; longer ones are refused before int() sees them
MAX_INT_DIGITS = 18
#: the years a date may have: what a spreadsheet can store (from 1900) and a four-digit year
YEAR_RANGE = (1900, 9999)

DATE_FORMATS_HELP = "a date such as 03/10/2026 (day first), 2026-10-03 or 3 Oct 2026"


@dataclass(frozen=True)
class Converted:
    value: Any
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and raw.strip() == ""


def clean_text(raw: Any) -> str:
    """Text as stored: trimmed, XML-illegal characters removed, whole numbers without '.0'."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, dt.datetime):
        raw = raw.strftime("%d/%m/%Y %H:%M") if (raw.hour or raw.minute) else raw.strftime("%d/%m/%Y")
    elif isinstance(raw, dt.date):
        raw = raw.strftime("%d/%m/%Y")
    return _XML_ILLEGAL.sub("", str(raw)).strip()


def _year(two_or_four: str) -> int:
    y = int(two_or_four)
    if len(two_or_four) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _make_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _in_years(got: dt.date) -> Converted:
    if not YEAR_RANGE[0] <= got.year <= YEAR_RANGE[1]:
        return Converted(
            None, f"is outside the years {YEAR_RANGE[0]} to {YEAR_RANGE[1]}; use {DATE_FORMATS_HELP}"
        )
    return Converted(got)


def parse_date(raw: Any, date1904: bool = False) -> Converted:
    """UK day-first dates, ISO dates, Excel serials and real dates. Never guesses month-first.

    ``date1904``: a serial number comes from a workbook in the 1904 date system.
    """
    got = _parse_date(raw, date1904)
    return _in_years(got.value) if got.ok and got.value is not None else got


def _parse_date(raw: Any, date1904: bool = False) -> Converted:
    if isinstance(raw, dt.datetime):
        return Converted(raw.date())
    if isinstance(raw, dt.date):
        return Converted(raw)
    if isinstance(raw, bool):
        return Converted(None, f"is not a date; use {DATE_FORMATS_HELP}")
    if isinstance(raw, int | float):
        return _from_serial(raw, date1904)
    text = clean_text(raw)
    if re.fullmatch(r"\d+(\.0+)?", text):
        return _from_serial(float(text), date1904)
    text = _TIME_TAIL.sub("", text) if not _ISO.match(text) else text
    if m := _DAY_FIRST.match(text):
        d, mo, y = int(m[1]), int(m[2]), _year(m[3])
        got = _make_date(y, mo, d)
        if got is None:
            return Converted(None, f"is not a real date (day {d} of month {mo}); use {DATE_FORMATS_HELP}")
        return Converted(got)
    if m := _ISO.match(text):
        got = _make_date(int(m[1]), int(m[2]), int(m[3]))
        if got is None:
            return Converted(None, f"is not a real date; use {DATE_FORMATS_HELP}")
        return Converted(got)
    if m := _WORDY.match(text):
        month = _MONTHS.get(m[2].lower())
        if month is not None:
            got = _make_date(_year(m[3]), month, int(m[1]))
            if got is None:
                return Converted(None, f"is not a real date; use {DATE_FORMATS_HELP}")
            return Converted(got)
    return Converted(None, f"is not a date; use {DATE_FORMATS_HELP}")


def _from_serial(number: float, date1904: bool = False) -> Converted:
    if date1904:
        number = number + DATE1904_OFFSET
    if number != number or not (SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]):
        return Converted(None, f"is not a date; use {DATE_FORMATS_HELP}")
    return Converted(EXCEL_EPOCH + dt.timedelta(days=int(number)))


def parse_datetime(raw: Any, date1904: bool = False) -> Converted:
    if isinstance(raw, dt.datetime):
        if not YEAR_RANGE[0] <= raw.year <= YEAR_RANGE[1]:
            return Converted(None, f"is outside the years {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
        return Converted(raw.replace(microsecond=0))
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = raw + DATE1904_OFFSET if date1904 else raw
        if SERIAL_RANGE[0] <= raw <= SERIAL_RANGE[1]:
            stamp = dt.datetime(1899, 12, 30) + dt.timedelta(days=float(raw))
            return Converted(stamp.replace(microsecond=0))
        return Converted(None, "is not a date and time")
    text = clean_text(raw)
    m = re.match(r"^(.*?)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$", text)
    day = parse_date(m[1] if m else text, date1904)
    if not day.ok:
        return Converted(None, "is not a date and time, e.g. 03/10/2026 14:30")
    h, mi, s = (int(m[2]), int(m[3]), int(m[4] or 0)) if m else (0, 0, 0)
    if h > 23 or mi > 59 or s > 59:
        return Converted(None, "is not a real time of day")
    return Converted(dt.datetime.combine(day.value, dt.time(h, mi, s)))


def parse_int(raw: Any, bounds: tuple[int, int] | None) -> Converted:
    lo, hi = bounds or (-(2**31), 2**31 - 1)
    allowed = f"a whole number from {lo} to {hi}"
    if isinstance(raw, bool):
        return Converted(None, f"is not a number; use {allowed}")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return Converted(None, f"is not a number; use {allowed}")
        if not raw.is_integer():
            return Converted(None, f"is not a whole number; use {allowed}")
        raw = int(raw)
    if isinstance(raw, int):
        number = raw
    else:
        text = clean_text(raw)
        if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
            return Converted(None, f"is not a whole number; use {allowed}")
        digits = text.split(".")[0].lstrip("+-").lstrip("0")
        if len(digits) > MAX_INT_DIGITS:
            # never handed to int(): 5,000 digits exceed Python's own limit, and no count is that long
            return Converted(None, f"is out of range ({len(digits):,} digits); use {allowed}")
        number = int(text.split(".")[0])
    if not lo <= number <= hi:
        return Converted(None, f"is out of range; use {allowed}")
    return Converted(number)


def parse_mosaic(raw: Any) -> Converted:
    """A Mosaic ID stays text: leading zeros kept, never a trailing '.0'. Never echoes the value."""
    if isinstance(raw, bool):
        return Converted(None, "is not a number; a Mosaic ID is 1 to 12 digits")
    if isinstance(raw, float):
        if not raw.is_integer():
            return Converted(None, "is not a whole number; a Mosaic ID is 1 to 12 digits")
        raw = int(raw)
    text = clean_text(raw).replace(" ", "")
    text = re.sub(r"\.0+$", "", text)
    if not MOSAIC_PATTERN.match(text):
        return Converted(None, "is not a number; a Mosaic ID is 1 to 12 digits")
    return Converted(text)


def parse_referral_id(raw: Any) -> Converted:
    text = re.sub(r"\.0+$", "", clean_text(raw)).upper().replace(" ", "")
    if not REFERRAL_ID_PATTERN.match(text):
        return Converted(
            None, f"is not a Referral ID; use letters, digits and dashes{ID_PATTERN_EXAMPLE} (at most 40)"
        )
    return Converted(text)


def parse_code(raw: Any, list_key: str, lists: CodeLists) -> Converted:
    text = clean_text(raw)
    code = lists.lookup(list_key).get(normalise_token(text))
    if code is None:
        return Converted(None, f"is not on the list; allowed: {allowed_text(lists.codes(list_key))}")
    return Converted(code)


def allowed_text(codes: tuple[str, ...], limit: int = 12) -> str:
    if len(codes) <= limit:
        return ", ".join(codes)
    return ", ".join(codes[:limit]) + f" … ({len(codes)} in all, see the Lists sheet)"


def parse_flag(raw: Any) -> Converted:
    if raw is True or raw is False:
        return Converted(bool(raw))
    if isinstance(raw, int | float):
        if raw in (0, 1):
            return Converted(bool(raw))
        return Converted(None, "is not a tick; use Yes (or ✓, x, Y, TRUE, 1) or leave blank")
    text = clean_text(raw).lower()
    if text in TICK_VALUES:
        return Converted(True)
    if text in UNTICK_VALUES:
        return Converted(False)
    return Converted(None, "is not a tick; use Yes (or ✓, x, Y, TRUE, 1) or leave blank")


def parse_text(raw: Any) -> Converted:
    text = clean_text(raw)
    if len(text) > EXCEL_CELL_LIMIT:
        return Converted(None, f"is too long for a spreadsheet cell ({len(text)} characters; at most 32,767)")
    return Converted(text)


def convert(field: Field, raw: Any, lists: CodeLists, date1904: bool = False) -> Converted:
    """Convert one raw value for one field. Blank -> None (flags: False), never an error.

    ``date1904``: the value was read from a workbook in the 1904 date system (serials shifted).
    """
    if is_blank(raw):
        return Converted(False if field.kind is Kind.FLAG else None)
    kind = field.kind
    if kind is Kind.DATE:
        return parse_date(raw, date1904)
    if kind is Kind.DATETIME:
        return parse_datetime(raw, date1904)
    if kind is Kind.INT:
        return parse_int(raw, field.bounds)
    if kind is Kind.MOSAIC:
        return parse_mosaic(raw)
    if kind is Kind.ID:
        return parse_referral_id(raw)
    if kind is Kind.CODE:
        return parse_code(raw, field.code_list or "", lists)
    if kind is Kind.FLAG:
        return parse_flag(raw)
    if kind is Kind.FORMULA:
        return Converted(raw)
    return parse_text(raw)


def split_list_cell(raw: Any) -> list[str]:
    """'County Lines; CSE, Gangs' -> ['County Lines', 'CSE', 'Gangs'] (also / | and new lines)."""
    text = clean_text(raw)
    return [part.strip() for part in re.split(r"[;,|\n]+", text) if part.strip()]


def looks_like_formula(text: str) -> bool:
    """Text a spreadsheet would run as a formula if typed: the injection risk."""
    return bool(text) and text[0] in "=+-@\t\r"
