"""Fill a generated consultation form the way a practitioner would: cell by cell, in a spreadsheet program.

Used by ``cstracker demo`` and by the tests. openpyxl stands in for Excel here
(fine for forms, which are the practitioner's own files; the tracker is never
written with it). Each value goes into the cell behind the field's defined name, typed
as a person would type it: a date as dd/mm/yyyy text in the form's text date cells (a date
elsewhere), a number as a number, a code as its dropdown text, a tick as ✓.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from cstracker.core.schema import CONTEXT_ACTION_FIELD, WRITTEN_BY_CSTRACKER
from cstracker.forms.workbook import TICK_MARK, input_name


def cell_of(wb: openpyxl.Workbook, name: str):
    """The cell behind a workbook-level defined name."""
    dn = wb.defined_names[name]
    ((sheet, ref),) = list(dn.destinations)
    return wb[sheet][ref.replace("$", "")]


def fill_form(
    src: Path,
    record: dict[str, Any],
    out: Path | None = None,
    *,
    dates_as_text: bool = False,
    tick: str = TICK_MARK,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Type ``record``'s values into the form at ``src``; save to ``out`` (default: over ``src``).

    ``extra`` maps a defined name to a raw value typed as is (e.g. a formula, or a narrative note).
    """
    wb = openpyxl.load_workbook(src)
    for key, value in record.items():
        if key in WRITTEN_BY_CSTRACKER:
            continue
        if key == "primary_concern":
            for context in CONTEXT_ACTION_FIELD:
                cell_of(wb, input_name("primary_concern_" + context)).value = (
                    tick if value == context else None
                )
            continue
        name = input_name(key)
        if name not in wb.defined_names:
            continue  # a field the form does not carry (follow-up)
        cell = cell_of(wb, name)
        if isinstance(value, bool):
            cell.value = tick if value else None
        elif isinstance(value, dt.date):
            # a form's date cells are text cells (form_dates.py): what a person types there stays text
            as_text = dates_as_text or cell.number_format == "@"
            cell.value = value.strftime("%d/%m/%Y") if as_text else dt.datetime.combine(value, dt.time())
        elif isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
            # a person typing text that starts like a formula gets it stored as text
            cell.value = value
            cell.data_type = "s"
        else:
            cell.value = value
    for name, value in (extra or {}).items():
        cell_of(wb, name).value = value
    out = out or src
    from cstracker.xlsx.outputs import write_output

    write_output(out, lambda tmp: wb.save(tmp))
    return Path(out)
