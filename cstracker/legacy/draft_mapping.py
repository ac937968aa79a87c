"""The draft mapping file a dry run writes (``--dry-run --write-mapping draft.toml``).

Complete for its source: every column, with how it was matched (a recognised
column is written out too, so the file says everything the import will do),
and every value not on its list with the suggestion filled in, the other
suggestions and the allowed list as comments. A value with no good suggestion
is left for the user: its line is commented out and marked ``TODO``, so the
file imports unchanged and those rows stay rejected until someone decides.
On an open list such a value is written as itself: the import adds it to the
list (the comment says so; change the line to map it to a listed value instead).

Personal-data columns are written as ``ignore`` with their heading only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from cstracker.core.codelists import list_title
from cstracker.core.reading import is_open_list
from cstracker.core.schema import normalise_token
from cstracker.legacy.column_mapping import IGNORE_TARGET, LIST_COLUMNS, ColumnMapping, ColumnMatch
from cstracker.legacy.vocabulary import UnknownValue

TODO = "TODO"


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    """Text safe on a comment line (no line breaks)."""
    return " ".join(str(text).split())


def draft_mapping(
    source_name: str, mapping: ColumnMapping, unknown: Iterable[UnknownValue], today: dt.date | None = None
) -> str:
    """The draft's text."""
    today = today or dt.date.today()
    unknown = list(unknown)
    lines = [
        f"# Mapping for {_comment(source_name)}: a draft written by cstracker import --dry-run on {today:%d/%m/%Y}.",
        "# Every column and every value not on its list, with what it probably means filled in.",
        f"# Lines marked {TODO} need you: they are commented out (# at the start), so as it is this",
        "# file imports the rows it can and leaves those rows rejected. Check the filled-in lines too.",
        f'# Then: cstracker import TRACKER "{_comment(source_name)}" --mapping THIS-FILE --dry-run',
        "",
        "[columns]",
    ]
    seen: set[str] = set()
    for c in mapping.columns:
        got = _column_lines(c, mapping)
        token = normalise_token(c.header)
        if token in seen and got and not got[0].startswith("#"):
            # TOML allows a key once; the tracker reads the first column of a heading anyway
            got = [f"# {got[0]}  (the same heading again: only the first is read)"]
        seen.add(token)
        lines.extend(got)
    by_list: dict[str, list[UnknownValue]] = {}
    for u in unknown:
        by_list.setdefault(u.list_key, []).append(u)
    earlier = mapping.mapping_file
    for list_key, values in by_list.items():
        lines.append("")
        lines.append(f"[values.{list_key}]")
        lines.append(
            f"# {list_title(list_key)}: {'an open list' if is_open_list(list_key) else 'a fixed list'}."
        )
        if is_open_list(list_key):
            lines.append("# A value mapped to itself is added to the list (and to the tracker's dropdown).")
        allowed = ", ".join(mapping.lists.codes(list_key))
        lines.append(f"# Allowed: {_comment(allowed)}")
        if list_key in LIST_COLUMNS:
            lines.append('# Several in one cell: "CSE/Gangs" = ["CSE", "Gangs"]')
        for u in values:
            lines.extend(_value_lines(u))
        # what an earlier mapping file already said for this list stays
        if earlier is not None:
            for spelling, code in earlier.values.get(list_key, {}).items():
                lines.append(
                    f"{toml_string(spelling)} = {toml_string(code)}  # from {_comment(earlier.path or '')}"
                )
    for list_key, table in earlier.values.items() if earlier is not None else ():
        if list_key in by_list:
            continue
        lines.append("")
        lines.append(f"[values.{list_key}]")
        for spelling, code in table.items():
            lines.append(f"{toml_string(spelling)} = {toml_string(code)}")
    return "\n".join(lines) + "\n"


def _column_lines(c: ColumnMatch, mapping: ColumnMapping) -> list[str]:
    head = toml_string(c.header)
    where = f"column {c.letter}"
    if not c.header.strip():
        return [f"# {where} has no heading: it is not read"]
    if c.personal:
        return [f'{head} = "{IGNORE_TARGET}"  # {where}: personal data ({c.personal}), never imported']
    if c.key is not None:
        return [f"{head} = {toml_string(mapping.fields[c.key].label)}  # {where}: {c.rule}"]
    if c.list_key is not None:
        return [f"{head} = {toml_string(c.list_key)}  # {where}: several in one cell ({c.rule})"]
    if c.suggestions:
        best = c.suggestions[0]
        label = mapping.fields[best.code].label
        others = ", ".join(repr(mapping.fields[s.code].label) for s in c.suggestions[1:3])
        if best.confident:
            also = f"; or {others}" if others else ""
            return [f"{head} = {toml_string(label)}  # {where}: suggested ({best.why}){also}; CHECK"]
        return [
            f"# {head} = {toml_string(label)}  # {TODO} {where}: not recognised; perhaps {label!r}"
            + (f" or {others}" if others else "")
            + f', else "{IGNORE_TARGET}"'
        ]
    return [f'{head} = "{IGNORE_TARGET}"  # {where}: {_comment(c.note)}; name a field here to import it']


def _value_lines(u: UnknownValue) -> list[str]:
    key = toml_string(u.value)
    rows = f"{u.count} row{'s' if u.count != 1 else ''} ({', '.join(u.cells)}{' …' if u.count > len(u.cells) else ''})"
    good = u.good
    others = [s for s in u.suggestions if s is not good]
    alternatives = "; other suggestions: " + ", ".join(s.text() for s in others[:3]) if others else ""
    if good is not None:
        if len(good.codes) > 1 or u.several:
            target = "[" + ", ".join(toml_string(c) for c in good.codes) + "]"
        else:
            target = toml_string(good.code)
        keep = " (or map it to itself to add it as a new value)" if is_open_list(u.list_key) else ""
        return [f"{key} = {target}  # {rows}: {good.why}{alternatives}{keep}"]
    if u.added:
        return [
            f"{key} = {key}  # {rows}: no close match, so it is ADDED to the list; map it to a listed value instead if it is one"
        ]
    hint = f"perhaps {', '.join(s.text() for s in u.suggestions[:3])}" if u.suggestions else "no close match"
    return [f'# {key} = ""  # {TODO} {rows}: {hint}; put one of the allowed values between the quotes']
