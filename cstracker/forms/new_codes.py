"""The new open-list codes a batch of forms brings (a referrer team the tracker does not list yet).

Each form is read on its own (in a worker), so two practitioners may spell one new team two
ways: the batch keeps the first spelling met, in the order the forms were read, as import
does. A code joins the Lists sheet only when a row that goes in carries it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from cstracker.core.schema import Field, normalise_token
from cstracker.forms.reader import FormRead


def one_spelling(reads: Sequence[FormRead]) -> None:
    """Give every form's new code of a field the first spelling met for it in the batch."""
    first: dict[tuple[str, str], str] = {}
    for read in reads:
        for key, code in read.new_codes.items():
            kept = first.setdefault((key, normalise_token(code)), code)
            if kept != code:
                read.new_codes[key] = kept
                if read.record.get(key) == code:
                    read.record[key] = kept
                read.problems = [
                    replace(p, value=kept) if p.rule == "new-list-value" and p.value == code else p
                    for p in read.problems
                ]


def codes_going_in(
    reads: Iterable[FormRead], records: Iterable[Mapping[str, Any]], fields: Mapping[str, Field]
) -> dict[str, list[str]]:
    """(list key -> new codes) that the rows about to be written carry, in the order first met."""
    wanted = {(key, code) for read in reads for key, code in read.new_codes.items()}
    out: dict[str, list[str]] = {}
    for record in records:
        for key, value in record.items():
            if (key, value) in wanted:
                codes = out.setdefault(fields[key].code_list or "", [])
                if value not in codes:
                    codes.append(value)
    return out
