"""Locale-proof dates on the consultation form.

A spreadsheet reads a typed date by its own locale: LibreOffice set to English (USA)
turns ``03/10/2025`` into 10 March, and the form's dd/mm/yyyy format then shows
``10/03/2025`` as if nothing happened. So a form's date inputs are text cells (``@``):
what the practitioner types is kept as typed, and ingest reads it day first
(``convert.parse_date``). Beside each date a locked cell spells it out ("Friday 3
October 2025"), worked out by formulas that never ask the locale: the text is split
at its separators and the words come from lists, not from TEXT(), whose format codes
and day names change with the locale. A hidden helper cell holds the date's serial
number (or ``?`` when it is no date), so the spelled-out formula stays short.
"""

from __future__ import annotations

import datetime as dt

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
NOT_A_DATE = "not a date yet: type it day first, e.g. 03/10/2025"
#: what the helper cell holds for text that is no date
NO_DATE = "?"


def spelled(day: dt.date) -> str:
    """'Friday 3 October 2025': the same words the form's formula gives."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def typed(day: dt.date) -> str:
    """How a pre-filled date is written into a form's text date cell."""
    return f"{day:%d/%m/%Y}"


def serial_formula(cell: str) -> str:
    """The helper cell: the date typed in ``cell`` as a serial number, day first; "" blank; "?" no date.

    Accepts 3/10/2025, 03.10.25, 3-10-2025 and 2025-10-03 (ISO), as ingest does; a date
    pasted as a real date (a number) is taken as it is.
    """
    s = f'SUBSTITUTE(SUBSTITUTE(TRIM({cell}),".","/"),"-","/")'
    first = f'FIND("/",{s})'
    second = f'FIND("/",{s},{first}+1)'
    p1 = f"VALUE(LEFT({s},{first}-1))"
    p2 = f"VALUE(MID({s},{first}+1,{second}-{first}-1))"
    p3 = f"VALUE(MID({s},{second}+1,9))"
    iso = f"{first}=5"
    year = f"IF({iso},{p1},IF({p3}<100,{p3}+IF({p3}<70,2000,1900),{p3}))"
    day = f"IF({iso},{p3},{p1})"
    date = f"DATE({year},{p2},{day})"
    # DATE rolls 31/02 over into March: a real date gives back its own day and month
    real = f"IF(AND(DAY({date})={day},MONTH({date})={p2},{p2}>=1,{p2}<=12),{date},{_text(NO_DATE)})"
    return f'=IF(TRIM({cell})="","",IF(ISNUMBER({cell}),INT({cell}),IFERROR({real},{_text(NO_DATE)})))'


def spelled_formula(helper: str) -> str:
    """The locked cell beside a date: the helper's date in words, or how to type one."""
    days = ",".join(_text(d) for d in (DAY_NAMES[-1], *DAY_NAMES[:-1]))  # WEEKDAY(): 1 = Sunday
    months = ",".join(_text(m) for m in MONTH_NAMES)
    words = f'CHOOSE(WEEKDAY({helper}),{days})&" "&DAY({helper})&" "&CHOOSE(MONTH({helper}),{months})&" "&YEAR({helper})'
    return f'=IF({helper}="","",IF(ISNUMBER({helper}),{words},{_text(NOT_A_DATE)}))'


def _text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'
