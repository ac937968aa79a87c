"""Which source column is which tracker field, and why.

Headers are compared with case, spacing and punctuation folded away
(``schema.normalise_token``), in this order of trust:

1. the mapping file's ``[columns]`` (a person said so);
2. a field's exact label (``Date received``, ``Theme: County Lines``);
3. a field's synonyms from the schema (``Date of referral``, ``Mosaic No``, ``County Lines``),
   and ``Theme: <any spelling of a theme>``;
4. a list title (``Themes``, ``Interventions``): a column listing several in one cell;
5. a theme's own synonyms (``Domestic violence`` -> ``Theme: DV In home``).

Every column ends up either mapped (field or list-in-one-cell, with the rule
that matched it) or ignored (with the reason). The optional mapping file also
adds local spellings of coded values; see the README ("The mapping file").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cstracker.core.config import read_toml
from cstracker.core.errors import ConfigError
from cstracker.core.personal import personal_data_kind
from cstracker.core.reading import is_open_list
from cstracker.core.schema import (
    DEFAULT_CODE_LISTS,
    INTERVENTION_PREFIX,
    THEME_PREFIX,
    CodeLists,
    Field,
    Kind,
    normalise_token,
)
from cstracker.xlsx.parts import col_letters

RULE_MAPPING = "mapping file"
RULE_LABEL = "exact label"
RULE_SYNONYM = "synonym"
RULE_LIST_TITLE = "list title"
RULE_CODE_SYNONYM = "theme synonym"
RULE_PERSONAL = "personal data"
IGNORE_TARGET = "ignore"
NOT_A_FIELD = "not a tracker field"
#: the two columns a rejects file adds; read back as what they are, never as data
REJECTS_COLUMNS = ("Import problems", "Rejected from")
#: the code lists whose codes may be listed several to a cell, each with its flag key prefix
LIST_COLUMNS = {"themes": "theme:", "interventions": "intervention:"}


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (a source's columns count from 0)."""
    return col_letters(index + 1)


@dataclass(frozen=True)
class ColumnMatch:
    """What became of one source column."""

    index: int
    header: str
    key: str | None = None  # the field key, when mapped to one field
    list_key: str | None = None  # "themes" / "interventions", when the cell lists several
    rule: str = ""  # how it was matched; blank when ignored
    note: str = ""  # why it is ignored
    #: "a name", "an address" …: the young person's personal data, never read
    personal: str = ""
    #: for a heading not recognised: what it may be ("did you mean"), best first
    suggestions: tuple = ()
    #: the column's place in the file, when ``index`` counts without the personal-data columns
    source_index: int | None = None

    @property
    def letter(self) -> str:
        return column_letter(self.index if self.source_index is None else self.source_index)

    @property
    def used(self) -> bool:
        return self.key is not None or self.list_key is not None


@dataclass
class MappingFile:
    """The optional TOML mapping file, checked against the tracker's fields and lists."""

    path: Path | None = None
    #: normalised source header -> field key, "list:<list key>" or IGNORE_TARGET
    columns: dict[str, str] = field(default_factory=dict)
    #: list key -> {spelling: code}
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: list key -> {spelling: several codes}, for a cell that lists them ("CSE/Gangs" = ["CSE", "Gangs"])
    several: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    #: open list key -> codes the file names that are not on the list yet (added to the Lists sheet)
    new_codes: dict[str, list[str]] = field(default_factory=dict)
    #: the file's text, remembered by a rejects file so that fixing and importing it needs no --mapping
    text: str = ""


@dataclass
class ColumnMapping:
    """Every source column's fate, and the code lists (with local spellings) to convert with."""

    columns: list[ColumnMatch]
    fields: dict[str, Field]
    lists: CodeLists
    #: list key -> {normalised spelling: codes}, from the mapping file
    several: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    mapping_file: MappingFile | None = None

    def personal(self) -> list[ColumnMatch]:
        return [c for c in self.columns if c.personal]

    def used(self) -> list[ColumnMatch]:
        return [c for c in self.columns if c.used]

    def missing_required(self) -> list[Field]:
        """Fields every row needs that no column supplies (every row would be rejected)."""
        keys = {c.key for c in self.columns}
        return [f for f in self.fields.values() if f.required and f.key not in keys]

    def lines(self) -> list[str]:
        """The mapping, one line per column, as the dry run shows it."""
        out = []
        for c in self.columns:
            head = f"  column {c.letter} {c.header!r}"
            if c.key is not None:
                out.append(f"{head} -> {self.fields[c.key].label} ({c.rule})")
            elif c.list_key is not None:
                title = (
                    DEFAULT_CODE_LISTS[c.list_key].title if c.list_key in DEFAULT_CODE_LISTS else c.list_key
                )
                out.append(f"{head} -> {title}, several in one cell ({c.rule})")
            elif c.personal:
                out.append(f"{head} not imported: {c.note}")
            else:
                hint = ""
                if c.suggestions:
                    hint = (
                        "; did you mean "
                        + " or ".join(
                            repr(self.fields[s.code].label) if s.code in self.fields else repr(s.code)
                            for s in c.suggestions[:3]
                        )
                        + "?"
                    )
                out.append(f"{head} ignored: {c.note}{hint}")
        return out


# ---------------------------------------------------------------------------
# the mapping file
# ---------------------------------------------------------------------------


def load_mapping(path: str | Path | None, fields: Sequence[Field], lists: CodeLists) -> MappingFile:
    """Read and check a mapping file; ``None`` gives an empty mapping. Raises ConfigError naming the key."""
    if path is None:
        return MappingFile()
    mapping = mapping_from_dict(read_toml(path, "mapping file"), fields, lists, str(path))
    mapping.text = Path(path).read_text(encoding="utf-8-sig")
    return mapping


def mapping_from_text(text: str, fields: Sequence[Field], lists: CodeLists, where: str) -> MappingFile:
    """A mapping remembered as text (beside or inside a rejects file)."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    mapping = mapping_from_dict(data, fields, lists, where)
    mapping.text = text
    return mapping


def mapping_from_dict(
    data: dict, fields: Sequence[Field], lists: CodeLists, where: str = "mapping"
) -> MappingFile:
    for key in data:
        if key not in ("columns", "values"):
            raise ConfigError(f"{where}: unknown section '{key}'; allowed: [columns], [values.<list>]")
    targets = _targets(fields, lists)
    columns: dict[str, str] = {}
    section = data.get("columns", {})
    if not isinstance(section, dict):
        raise ConfigError(f'{where}: [columns] must be a table of "source column" = "field"')
    for header, target in section.items():
        if not isinstance(target, str) or normalise_token(target) not in targets:
            raise ConfigError(
                f"{where}: columns.{header!r}: {target!r} is not a tracker field; use a field label "
                f"(e.g. 'Date received', 'Theme: County Lines'), 'themes' or 'interventions' for a list "
                f"in one cell, or 'ignore'"
            )
        columns[normalise_token(header)] = targets[normalise_token(target)]
    values: dict[str, dict[str, str]] = {}
    several: dict[str, dict[str, tuple[str, ...]]] = {}
    new_codes: dict[str, list[str]] = {}
    section = data.get("values", {})
    if not isinstance(section, dict):
        raise ConfigError(f'{where}: [values.<list>] tables must hold "local spelling" = "code"')
    list_names = _list_names(fields, lists)
    for name, table in section.items():
        list_key = list_names.get(normalise_token(name))
        if list_key is None:
            raise ConfigError(
                f"{where}: values.{name}: not a code list; lists are: {', '.join(_user_lists(lists))}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f'{where}: values.{name} must be a table of "local spelling" = "code"')
        known = {normalise_token(c): c for c in lists.codes(list_key)}
        is_open = is_open_list(list_key)
        for spelling, code in table.items():
            if isinstance(code, list) and list_key in LIST_COLUMNS and code:
                codes = tuple(
                    _known_code(c, known, list_key, lists, f"{where}: values.{name}.{spelling!r}")
                    for c in code
                )
                several.setdefault(list_key, {})[normalise_token(spelling)] = codes
                continue
            if isinstance(code, str) and normalise_token(code) not in known and is_open:
                new = _new_code(code, f"{where}: values.{name}.{spelling!r}")
                known[normalise_token(new)] = new
                new_codes.setdefault(list_key, []).append(new)
            code = _known_code(code, known, list_key, lists, f"{where}: values.{name}.{spelling!r}")
            values.setdefault(list_key, {})[spelling] = code
    return MappingFile(Path(where), columns, values, several, new_codes)


def _known_code(code: object, known: dict[str, str], list_key: str, lists: CodeLists, where: str) -> str:
    if not isinstance(code, str) or normalise_token(code) not in known:
        several = " (or a list of them, for a column listing several)" if list_key in LIST_COLUMNS else ""
        raise ConfigError(
            f"{where}: {code!r} is not on the {list_key} list; allowed{several}: "
            + ", ".join(lists.codes(list_key))
        )
    return known[normalise_token(code)]


def _new_code(code: str, where: str) -> str:
    """A new value for an open list, as the Lists sheet will hold it."""
    text = code.strip()
    if not text or len(text) > 60 or text[0] in "=+-@":
        raise ConfigError(
            f"{where}: {code!r}: a new list value must be 1 to 60 characters, not starting with = + - @"
        )
    return text


def _user_lists(lists: CodeLists) -> list[str]:
    return [k for k in lists.lists if k != "tick"]


def _list_names(fields: Sequence[Field], lists: CodeLists) -> dict[str, str]:
    """Every name a person may give a code list: its key, its title, a field label that uses it."""
    names: dict[str, str] = {}
    for key in _user_lists(lists):
        names[normalise_token(key)] = key
        if key in DEFAULT_CODE_LISTS:
            names[normalise_token(DEFAULT_CODE_LISTS[key].title)] = key
    for f in fields:
        if f.kind is Kind.CODE and f.code_list in lists.lists:
            names.setdefault(normalise_token(f.label), f.code_list)
    return names


def _targets(fields: Sequence[Field], lists: CodeLists) -> dict[str, str]:
    targets: dict[str, str] = {IGNORE_TARGET: IGNORE_TARGET}
    for list_key in LIST_COLUMNS:
        targets[normalise_token(list_key)] = f"list:{list_key}"
        if list_key in DEFAULT_CODE_LISTS:
            targets[normalise_token(DEFAULT_CODE_LISTS[list_key].title)] = f"list:{list_key}"
    for f in fields:
        if not f.computed:
            targets[normalise_token(f.key)] = f.key
            targets[normalise_token(f.label)] = f.key
    return targets


# ---------------------------------------------------------------------------
# matching headers
# ---------------------------------------------------------------------------


class HeaderMatcher:
    """Resolves one header to (field key or list:<key>, rule), or (None, reason)."""

    def __init__(self, fields: Sequence[Field], lists: CodeLists, mapping: MappingFile | None = None):
        self.mapping = mapping or MappingFile()
        self.fields = {f.key: f for f in fields}
        self.labels: dict[str, str] = {}
        self.synonyms: dict[str, set[str]] = {}
        for f in fields:
            self.labels.setdefault(normalise_token(f.label), f.key)
        for f in fields:
            for s in f.synonyms:
                self.synonyms.setdefault(normalise_token(s), set()).add(f.key)
        self.list_titles: dict[str, str] = {}
        for list_key in LIST_COLUMNS:
            title = DEFAULT_CODE_LISTS[list_key].title if list_key in DEFAULT_CODE_LISTS else list_key
            for name in (list_key, title, title.rstrip("s")):
                self.list_titles[normalise_token(name)] = list_key
        self.code_lookup = {k: lists.lookup(k) for k in LIST_COLUMNS if k in lists.lists}
        self._heading_matcher = None
        self.rejects_columns = {normalise_token(h) for h in REJECTS_COLUMNS}
        self.prefixes = {
            normalise_token(THEME_PREFIX): "themes",
            normalise_token(INTERVENTION_PREFIX): "interventions",
        }

    def resolve(self, header: str) -> tuple[str | None, str]:
        token = normalise_token(header)
        if not token:
            return None, "no header"
        if token in self.rejects_columns:
            return None, "written by an earlier import's rejects file"
        if token not in self.labels and token not in self.synonyms and personal_data_kind(header):
            return None, RULE_PERSONAL
        if token in self.mapping.columns:
            target = self.mapping.columns[token]
            if target == IGNORE_TARGET:
                return None, "the mapping file says ignore"
            return target, RULE_MAPPING
        if token in self.labels:
            return self._usable(self.labels[token], RULE_LABEL)
        prefixed = self._prefixed(token)
        if prefixed:
            return prefixed, RULE_SYNONYM
        keys = self.synonyms.get(token, set())
        if len(keys) == 1:
            return self._usable(next(iter(keys)), RULE_SYNONYM)
        if len(keys) > 1:
            labels = " or ".join(sorted(self.fields[k].label for k in keys))
            return None, f"could be {labels}; name it in the mapping file"
        if token in self.list_titles:
            return f"list:{self.list_titles[token]}", RULE_LIST_TITLE
        code = self.code_lookup.get("themes", {}).get(token)
        if code is not None and f"theme:{code}" in self.fields:
            return f"theme:{code}", RULE_CODE_SYNONYM
        return None, f"{NOT_A_FIELD} (add it to the mapping file to import it)"

    def suggest(self, header: str) -> list:
        """What an unrecognised heading may be: field keys (or list:<key>), best first."""
        from cstracker.core.suggest import Matcher

        if self._heading_matcher is None:
            table: dict[str, str] = {}
            for f in self.fields.values():
                if f.computed:
                    continue
                for name in (f.label, *f.synonyms):
                    table.setdefault(normalise_token(name), f.key)
            for token, list_key in self.list_titles.items():
                table.setdefault(token, f"list:{list_key}")
            self._heading_matcher = Matcher(table, [f.key for f in self.fields.values()])
        return [s for s in self._heading_matcher.suggest(header) if s.code in self.fields]

    def _prefixed(self, token: str) -> str | None:
        for prefix, list_key in self.prefixes.items():
            if token.startswith(prefix + " ") and list_key in self.code_lookup:
                code = self.code_lookup[list_key].get(token[len(prefix) + 1 :])
                key = f"{LIST_COLUMNS[list_key]}{code}"
                if code is not None and key in self.fields:
                    return key
        return None

    def _usable(self, key: str, rule: str) -> tuple[str | None, str]:
        if self.fields[key].computed:
            return None, f"{self.fields[key].label} is worked out by the tracker"
        return key, rule

    def score(self, cells: Sequence[str]) -> int:
        """How many cells of a row are recognised headers (finds the header row)."""
        return sum(1 for c in cells if c and self.resolve(c)[0] is not None)


def map_columns(
    headers: Sequence[str], fields: Sequence[Field], lists: CodeLists, mapping: MappingFile | None = None
) -> ColumnMapping:
    """Decide every column's fate. A field read from two columns keeps the first; the second is ignored."""
    mapping = mapping or MappingFile()
    matcher = HeaderMatcher(fields, lists, mapping)
    taken: dict[str, ColumnMatch] = {}
    out: list[ColumnMatch] = []
    for i, header in enumerate(headers):
        target, rule = matcher.resolve(header)
        if target is None and rule == RULE_PERSONAL:
            kind = personal_data_kind(header) or "personal data"
            note = f"personal data ({kind} of a young person); the tracker holds no names or contact details"
            out.append(ColumnMatch(i, header, note=note, personal=kind))
            continue
        if target is None:
            hints = tuple(matcher.suggest(header)) if rule.startswith(NOT_A_FIELD) else ()
            out.append(ColumnMatch(i, header, note=rule, suggestions=hints))
            continue
        if target in taken:
            first = taken[target]
            out.append(ColumnMatch(i, header, note=f"same field as column {first.letter} {first.header!r}"))
            continue
        match = (
            ColumnMatch(i, header, list_key=target[5:], rule=rule)
            if target.startswith("list:")
            else ColumnMatch(i, header, key=target, rule=rule)
        )
        taken[target] = match
        out.append(match)
    extra = {k: dict(v) for k, v in lists.extra_synonyms.items()}
    for list_key, table in mapping.values.items():
        for spelling, code in table.items():
            extra.setdefault(list_key, {})[normalise_token(spelling)] = code
    grown = dict(lists.lists)
    for list_key, codes in mapping.new_codes.items():
        grown[list_key] = (*grown[list_key], *(c for c in codes if c not in grown[list_key]))
    merged = CodeLists(lists=grown, extra_synonyms=extra)
    return ColumnMapping(out, {f.key: f for f in fields}, merged, dict(mapping.several), mapping)
