"""CSV that a spreadsheet can open safely, and read back exactly.

Every CSV cstracker writes neutralises formula triggers the OWASP way: a text
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
single quote in front, so Excel or LibreOffice shows it as text instead of
running it (``=HYPERLINK(...)`` pasted into a tracker stays inert in a
``validate --format csv`` file). A text that already starts with quotes
followed by a trigger gets one more, so the change can always be undone:
``restore`` takes exactly one quote off such a text, and a CSV cstracker
writes and reads back (a rejects file given to ``import``) comes back
unchanged. JSON output is for programs and is never changed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

#: the characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)
TRIGGERS = "=+-@\t\r"
_NEEDS_QUOTE = re.compile("'*[" + re.escape(TRIGGERS) + "]")
_QUOTED = re.compile("'+[" + re.escape(TRIGGERS) + "]")

#: said in --help wherever cstracker writes CSV
HELP = (
    "In CSV a text starting with = + - @, a tab or a carriage return gets a leading ' (so a spreadsheet "
    "never runs it as a formula; importing a rejects CSV takes it off again)"
)


def neutralise(text: str) -> str:
    """``=1+1`` -> ``'=1+1``; ``'=x`` -> ``''=x`` (so ``restore`` is exact); anything else unchanged."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def restore(value: Any) -> Any:
    """Undo ``neutralise``: one leading quote off a text that is quotes then a trigger."""
    if isinstance(value, str) and _QUOTED.match(value):
        return value[1:]
    return value


def cell_text(value: Any) -> str:
    """One value as CSV text: None is empty, text is neutralised, numbers are written as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return neutralise(str(value))


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows to CSV text, every cell through ``cell_text``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
    return out.getvalue()
