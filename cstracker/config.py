"""A local authority's settings: defaults, overridden by a TOML file at ``init``.

After ``init`` the settings and code lists live inside the tracker workbook
(hidden ``_cstracker`` sheet and ``Lists`` sheet); every later command reads
them from there, never from a config file found elsewhere.

Example ``ourborough.toml``::

    authority_name = "Anytown Borough Council"
    referral_id_prefix = "CS"
    follow_up_days = 42
    small_count_threshold = 5

    [lists]
    referrer_team = ["Social Care North", "Social Care South", "YJS", "Schools", "Police"]

    [themes]
    extra = ["Knife crime"]
    rename = { "DV In home" = "Domestic abuse in home" }

    [synonyms.themes]
    knives = "Knife crime"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cstracker.errors import ConfigError
from cstracker.schema import DEFAULT_CODE_LISTS, CodeLists, normalise_token


@dataclass(frozen=True)
class Settings:
    """Scalar settings of one tracker. Stored as key/value pairs in the workbook."""

    authority_name: str = "Your local authority"
    referral_id_prefix: str = "CS"
    follow_up_days: int = 42
    small_count_threshold: int = 5
    hotspot_threshold: int = 3
    backups_kept: int = 10
    #: how long a referral is kept after its last activity; no default: the authority's
    #: information-governance team decides, and ``cstracker retention`` refuses to run without it
    retention_years: int | None = None
    #: days the backup made by a retention run is kept (then the next command removes it)
    retention_grace_days: int = 30
    #: the highest Referral ID ever issued per prefix and year ("CS-2019-0042, CS-2020-0107"), kept
    #: by cstracker (not a config key) so IDs of removed referrals are never issued again
    referral_ids_issued: str = ""

    def to_pairs(self) -> list[tuple[str, str | int | None]]:
        return [(k, getattr(self, k)) for k in self.__dataclass_fields__]

    @classmethod
    def from_pairs(cls, pairs: dict[str, Any]) -> Settings:
        values: dict[str, Any] = {}
        for key, f in cls.__dataclass_fields__.items():
            if key in pairs and pairs[key] not in (None, ""):
                raw = pairs[key]
                values[key] = int(float(raw)) if f.type in INT_TYPES else str(raw)
        return cls(**values)


#: how a whole-number setting's type reads (annotations are strings here)
INT_TYPES = ("int", "int | None")
#: settings cstracker keeps itself: never read from a config file
INTERNAL_SETTINGS = frozenset({"referral_ids_issued"})


@dataclass
class Config:
    settings: Settings = field(default_factory=Settings)
    lists: CodeLists = field(default_factory=CodeLists)


_INT_LIMITS = {
    "follow_up_days": (1, 365),
    "small_count_threshold": (0, 100),
    "hotspot_threshold": (2, 100),
    "backups_kept": (0, 1000),
    "retention_years": (1, 100),
    "retention_grace_days": (0, 3650),
}
_KNOWN_TOP = (set(Settings.__dataclass_fields__) - INTERNAL_SETTINGS) | {
    "lists",
    "themes",
    "interventions",
    "synonyms",
}


def load_config(path: str | Path | None) -> Config:
    """Read a config file; ``None`` gives the defaults. Raises ConfigError naming the key."""
    if path is None:
        return Config()
    return config_from_dict(read_toml(path, "config file"), str(path))


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """A TOML file's table; ConfigError in one line for a missing, non-UTF-8 or malformed file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file in UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def config_from_dict(data: dict[str, Any], where: str = "config") -> Config:
    for key in data:
        if key not in _KNOWN_TOP:
            allowed = ", ".join(sorted(_KNOWN_TOP))
            raise ConfigError(f"{where}: unknown key '{key}'; allowed keys: {allowed}")
    settings = _settings(data, where)
    lists = {k: cl.codes for k, cl in DEFAULT_CODE_LISTS.items()}

    for key, value in _table(data, "lists", where).items():
        if key not in DEFAULT_CODE_LISTS:
            raise ConfigError(
                f"{where}: lists.{key} is not a code list; lists are: {', '.join(DEFAULT_CODE_LISTS)}"
            )
        if not DEFAULT_CODE_LISTS[key].configurable:
            raise ConfigError(f"{where}: lists.{key} is fixed by the toolkit and cannot be changed")
        lists[key] = _codes(value, f"lists.{key}", where)

    for list_key in ("themes", "interventions"):
        section = _table(data, list_key, where)
        for key in section:
            if key not in ("extra", "rename"):
                raise ConfigError(f"{where}: unknown key '{list_key}.{key}'; allowed: extra, rename")
        codes = list(lists[list_key])
        renames = _table(section, "rename", f"{where}: {list_key}")
        for old, new in renames.items():
            if old not in codes:
                raise ConfigError(f"{where}: {list_key}.rename: '{old}' is not one of the {list_key}")
            if not isinstance(new, str) or not new.strip():
                raise ConfigError(f"{where}: {list_key}.rename.'{old}' must be a non-empty text")
            codes[codes.index(old)] = new.strip()
        if "extra" in section:
            codes.extend(_codes(section["extra"], f"{list_key}.extra", where))
        lists[list_key] = _unique(tuple(codes), list_key, where)

    synonyms: dict[str, dict[str, str]] = {}
    for list_key, table in _table(data, "synonyms", where).items():
        if list_key not in lists:
            raise ConfigError(f"{where}: synonyms.{list_key} is not a code list")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: synonyms.{list_key} must be a table of spelling = code")
        for spelling, code in table.items():
            if code not in lists[list_key]:
                raise ConfigError(
                    f"{where}: synonyms.{list_key}.{spelling}: '{code}' is not on the {list_key} list"
                )
            synonyms.setdefault(list_key, {})[normalise_token(spelling)] = code
    return Config(settings=settings, lists=CodeLists(lists=lists, extra_synonyms=synonyms))


def _settings(data: dict[str, Any], where: str) -> Settings:
    s = Settings()
    for key, f in Settings.__dataclass_fields__.items():
        if key not in data or key in INTERNAL_SETTINGS:
            continue
        value = data[key]
        if f.type in INT_TYPES:
            lo, hi = _INT_LIMITS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise ConfigError(f"{where}: {key} must be a whole number from {lo} to {hi}")
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {key} must be a non-empty text")
        s = replace(s, **{key: value.strip() if isinstance(value, str) else value})
    if not re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", s.referral_id_prefix):
        raise ConfigError(
            f"{where}: referral_id_prefix must be 1 to 10 capital letters or digits, starting with a letter (e.g. CS)"
        )
    return s


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} must be a table ([{key}])")
    return value


def _codes(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key} must be a non-empty list of texts")
    codes = tuple(v.strip() for v in value)
    for c in codes:
        if len(c) > 60 or c[0] in "=+-@":
            raise ConfigError(
                f"{where}: {key}: '{c[:60]}' must be at most 60 characters and not start with = + - @"
            )
    return _unique(codes, key, where)


def _unique(codes: tuple[str, ...], key: str, where: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for c in codes:
        n = normalise_token(c)
        if n in seen:
            raise ConfigError(f"{where}: {key}: '{c}' is listed twice")
        seen.add(n)
    return codes
