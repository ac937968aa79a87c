"""What ``cstracker import`` tells the user, as lines of text (the command only prints them).

A dry run shows: every column and what it became; the values not on their lists,
grouped per column with how many rows have each and what each probably means, the
allowed list once per column; the values an open list would take; the other
problems that reject rows; the warnings grouped by rule, with counts and the
first few cells (the same warnings ``validate`` lists after the import). Values of
personal-data columns are never shown: those columns are named once, in the
column list.
"""

from __future__ import annotations

from pathlib import Path

from cstracker.core.convert import allowed_text
from cstracker.core.problems import plural
from cstracker.legacy.results import ImportResult
from cstracker.legacy.vocabulary import UnknownValue

#: problem lines printed before pointing at --rejects for the rest
SHOWN_PROBLEMS = 20
#: values shown per column before "… and N more"
SHOWN_VALUES = 15


def vocabulary_lines(result: ImportResult) -> list[str]:
    """The unknown values, grouped per column, each with its count and suggestion."""
    if not result.unknown:
        return []
    out = ["Values not on their list (rows with them are rejected until a mapping says what they are):"]
    by_column: dict[tuple[int, str], list[UnknownValue]] = {}
    for u in result.unknown:
        by_column.setdefault((u.column.index, u.list_key), []).append(u)
    for values in by_column.values():
        first = values[0]
        codes = result.mapping.lists.codes(first.list_key)
        added = [u.value for u in values if u.added]
        codes = tuple(c for c in codes if c not in added)
        out.append(
            f"  column {first.column.letter} {first.column.header!r} ({first.title}); "
            f"allowed: {allowed_text(codes, limit=30)}"
        )
        for u in values[:SHOWN_VALUES]:
            out.append("    " + value_line(u, result.dry_run))
        if len(values) > SHOWN_VALUES:
            rest = sum(u.count for u in values[SHOWN_VALUES:])
            out.append(
                f"    … and {plural(len(values) - SHOWN_VALUES, 'more value')} ({plural(rest, 'row')}): see the draft mapping"
            )
    return out


def value_line(u: UnknownValue, dry_run: bool) -> str:
    head = f"{u.count:>4} x {u.value!r}"
    if u.added:
        return f"{head}: new; {'would be' if dry_run else 'was'} added to the list"
    good = u.good
    if good is not None:
        return f"{head}: did you mean {' + '.join(repr(c) for c in good.codes)}? ({good.why})"
    if u.suggestions:
        maybe = " or ".join(repr(s.code) for s in u.suggestions[:3])
        return f"{head}: perhaps {maybe}? (not sure enough to fill in)"
    return f"{head}: no close match"


def warning_lines(result: ImportResult) -> list[str]:
    groups = result.warning_groups()
    if not groups:
        return []
    verb = "would be imported" if result.dry_run else "imported"
    out = [
        f"{plural(len(result.warnings), 'warning')} (the rows {verb}; cstracker validate lists the same after the import):"
    ]
    for rule, count, first, cells in groups:
        more = " …" if count > len(cells) else ""
        out.append(f"  {count} x {rule}: {first} (first: {', '.join(cells)}{more})")
    return out


def top_reason_lines(result: ImportResult, n: int = 5) -> list[str]:
    """The commonest reasons for rejecting, besides values not on a list (grouped above)."""
    from collections import Counter

    grouped = bool(result.unknown)
    problems = [p for p in result.problems if not (grouped and p.rule == "not-in-list")]
    counts = Counter(f"{p.field}: {p.message}" for p in problems).most_common(n)
    if not counts:
        return []
    return ["Top reasons for rejecting:", *(f"  {count} x {reason}" for reason, count in counts)]


def conflict_lines(result: ImportResult, shown: int = SHOWN_PROBLEMS) -> list[str]:
    """Values that differ from the tracker's, which did not come from those rows (the tracker kept its own)."""
    out = [p.line() for p in result.conflicts[:shown]]
    if len(result.conflicts) > shown:
        out.append(f"… and {plural(len(result.conflicts) - shown, 'more conflict')}.")
    if result.conflicts:
        out.append(
            f"{plural(len(result.conflicts), 'value')} {'differs' if len(result.conflicts) == 1 else 'differ'} from the tracker's, which did not come from those rows: "
            "the tracker kept its own (your edits win). To take the source's, import again with --prefer-source."
        )
    return out


def other_problem_lines(result: ImportResult, shown: int = SHOWN_PROBLEMS) -> list[str]:
    """Row problems other than values not on a list (those are grouped above)."""
    grouped = bool(result.unknown)
    problems = [p for p in result.problems if not (grouped and p.rule == "not-in-list")]
    out = [p.line() for p in problems[:shown]]
    if len(problems) > shown:
        out.append(
            f"… and {plural(len(problems) - shown, 'more problem')}; use --rejects FILE to get them all."
        )
    return out


def check_draft_path(path: str | Path, source: str | Path) -> Path:
    """Where the draft goes, checked before anything is read: UsageError in one line if it cannot."""
    from cstracker.core.errors import UsageError

    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise UsageError(f"--write-mapping {path}: must be a .toml file name")
    if path.resolve() == Path(source).resolve():
        raise UsageError(f"--write-mapping {path}: is the file being imported; choose another name")
    if not path.resolve().parent.is_dir():
        raise UsageError(f"--write-mapping {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"--write-mapping {path}: is a folder; give a file name")
    return path


def write_draft(path: str | Path, result: ImportResult, source: str | Path) -> Path:
    """Write the draft mapping for ``result`` through the one atomic write; refuses the source itself."""
    from cstracker.legacy.draft_mapping import draft_mapping
    from cstracker.xlsx.outputs import write_output

    path = check_draft_path(path, source)
    text = draft_mapping(result.table.name, result.mapping, result.unknown)
    write_output(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"), zip_package=False)
    return path
