"""The values an import does not recognise, grouped, with suggestions; and which lists grow.

Before any row is converted, every coded column of the source (one code per cell,
or several in one cell such as a Themes column) is read once: each distinct value
that is not on its list (nor a synonym, nor in the mapping file) becomes one
``UnknownValue`` with how many rows have it, the first few cells, and what it
probably means (``suggest.py``). The dry run shows these groups, the draft
mapping fills them in, and the rows that have them are rejected until a mapping
says what they are.

An *open* list (the authority's own, see ``CodeList.open``) grows instead: a
value on it with no good suggestion is added to the list, so the import takes
it and the tracker's dropdown offers it from then on. A value with a good
suggestion is not added (``Schools`` is School, not a new team): the user says
so in the mapping file, which may also keep it as a new value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cstracker.core.codelists import list_title
from cstracker.core.convert import clean_text, is_blank, split_list_cell
from cstracker.core.new_codes import can_be_added
from cstracker.core.reading import is_open_list
from cstracker.core.schema import CodeLists, Kind, normalise_token
from cstracker.core.suggest import Matcher, Suggestion
from cstracker.legacy.column_mapping import LIST_COLUMNS, ColumnMapping, ColumnMatch
from cstracker.legacy.source_reader import SourceTable

#: cells shown per value ("first few cells")
SHOWN_CELLS = 3


@dataclass
class UnknownValue:
    """One value (as first spelled) of one column that is not on its list."""

    column: ColumnMatch
    list_key: str
    value: str
    count: int = 0
    cells: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    #: on an open list with no good suggestion: added to the list by this import
    added: bool = False

    @property
    def good(self) -> Suggestion | None:
        """The suggestion the draft fills in, if one is good enough."""
        return self.suggestions[0] if self.suggestions and self.suggestions[0].confident else None

    @property
    def several(self) -> bool:
        return self.column.list_key is not None

    @property
    def title(self) -> str:
        return list_title(self.list_key)


def coded_columns(mapping: ColumnMapping) -> list[tuple[ColumnMatch, str]]:
    """(column, list key) for every source column read against a code list."""
    out = []
    for c in mapping.columns:
        if c.list_key is not None and c.list_key in mapping.lists.lists:
            out.append((c, c.list_key))
        elif c.key is not None:
            f = mapping.fields[c.key]
            if f.kind is Kind.CODE and f.code_list:
                out.append((c, f.code_list))
    return out


def find_unknown(table: SourceTable, mapping: ColumnMapping) -> list[UnknownValue]:
    """Every distinct unrecognised value per coded column, in column order, commonest first."""
    lists = mapping.lists
    found: list[UnknownValue] = []
    for column, list_key in coded_columns(mapping):
        lookup = lists.lookup(list_key)
        several = mapping.several.get(list_key, {})
        groups: dict[str, UnknownValue] = {}
        # each distinct cell is split and folded once: old trackers repeat a handful of values
        folded: dict[tuple[type, Any], list[tuple[str, str]]] = {}
        for src in table.rows:
            if getattr(src, "problem", ""):  # a row whose structure is broken is rejected as it is
                continue
            value = src.values[column.index] if column.index < len(src.values) else None
            if value is None or value == "":
                continue
            key = (type(value), value)  # True and 1 are equal keys, but not the same cell
            parts = folded.get(key)
            if parts is None:
                if is_blank(value):
                    parts = []
                else:
                    split = split_list_cell(value) if column.list_key else [clean_text(value)]
                    parts = [(part, normalise_token(part)) for part in split]
                    parts = [(p, t) for p, t in parts if t and t not in lookup and t not in several]
                folded[key] = parts
            for part, token in parts:
                group = groups.get(token)
                if group is None:
                    group = groups[token] = UnknownValue(column, list_key, part)
                group.count += 1
                if len(group.cells) < SHOWN_CELLS:
                    group.cells.append(f"{column.letter}{src.row}")
        if not groups:
            continue
        matcher = Matcher(lookup, lists.codes(list_key))
        for group in sorted(groups.values(), key=lambda g: (-g.count, g.value.lower())):
            group.suggestions = matcher.suggest(group.value, several=column.list_key is not None)
            found.append(group)
    return found


def grow_open_lists(unknown: list[UnknownValue], lists: CodeLists) -> dict[str, list[str]]:
    """Mark and return (list key -> new codes) the open-list values with no good suggestion."""
    added: dict[str, list[str]] = {}
    for u in unknown:
        if (
            is_open_list(u.list_key)
            and u.list_key not in LIST_COLUMNS
            and u.good is None
            and can_be_added(u.value)
        ):
            u.added = True
            codes = added.setdefault(u.list_key, [])
            if normalise_token(u.value) not in {normalise_token(c) for c in codes}:
                codes.append(u.value.strip())
    return added


def with_codes(lists: CodeLists, added: dict[str, list[str]]) -> CodeLists:
    """The lists with ``added`` codes appended (the lists themselves are not changed)."""
    if not added:
        return lists
    grown = dict(lists.lists)
    for key, codes in added.items():
        grown[key] = (*grown[key], *codes)
    return CodeLists(lists=grown, extra_synonyms=lists.extra_synonyms)
