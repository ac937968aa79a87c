"""A problem found in a file: one record that feeds the terminal, a CSV, JSON and an Excel sheet."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one value, said so that a coordinator can fix it."""

    file: str
    rule: str  # a stable code, e.g. "not-in-list", "bad-date"
    message: str  # what is wrong and what is allowed
    sheet: str = ""
    cell: str = ""  # e.g. "F12", when known
    row: int | None = None  # spreadsheet row number (1-based) or source data row
    field: str = ""  # the field's label
    value: str = ""  # the offending value as text; blank for sensitive fields
    severity: str = "error"  # "error" rejects; "warning" is reported only

    def where(self) -> str:
        """'tracker.xlsx, Referrals!F12' or 'old.csv, row 14' — the place, in a coordinator's words."""
        place = self.file
        if self.sheet and self.cell:
            place += f", {self.sheet}!{self.cell}"
        elif self.sheet and self.row is not None:
            place += f", {self.sheet} row {self.row}"
        elif self.cell:
            place += f", cell {self.cell}"
        elif self.row is not None:
            place += f", row {self.row}"
        elif self.sheet:
            place += f", sheet {self.sheet}"
        return place

    def line(self) -> str:
        """The one line shown in the terminal."""
        head = f"{self.where()}: "
        if self.field:
            head += f"{self.field}: "
        shown = f" (value {self.value!r})" if self.value else ""
        tag = f"warning: {self.rule}" if self.severity == "warning" else self.rule
        return f"{head}{self.message}{shown} [{tag}]"


PROBLEM_COLUMNS = tuple(f.name for f in fields(Problem))


def to_csv(problems: Iterable[Problem]) -> str:
    """Problems as CSV, formula triggers neutralised (``csvsafe``): a pasted =HYPERLINK stays text."""
    from cstracker.core.csvsafe import csv_text

    return csv_text([PROBLEM_COLUMNS, *([getattr(p, k) for k in PROBLEM_COLUMNS] for p in problems)])


def to_json(problems: Iterable[Problem]) -> str:
    """Problems as JSON, exact (for programs: nothing is neutralised)."""
    return json.dumps([asdict(p) for p in problems], indent=2, ensure_ascii=False)


def shown_value(raw: object, sensitive: bool, limit: int = 60) -> str:
    """The value as it may appear in a message: never for sensitive fields, cut when long."""
    if sensitive or raw is None:
        return ""
    text = day_text(raw) if isinstance(raw, dt.date) else str(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def day_text(day: dt.date) -> str:
    """A date as a coordinator reads it: 03/04/2026 (with the time when it has one)."""
    if isinstance(day, dt.datetime) and (day.hour or day.minute):
        return f"{day:%d/%m/%Y %H:%M}"
    return f"{day:%d/%m/%Y}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 form', '2 forms', '0 forms'; ``many`` for words that do not just take an s ('1 entry')."""
    return f"{n} {word if n == 1 else many or word + 's'}"
