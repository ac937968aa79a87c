"""A local authority's settings: defaults, overridden by a TOML file at ``init``.

After ``init`` the settings and code lists live inside the tracker workbook
(hidden ``_cstracker`` sheet and ``Lists`` sheet); every later command reads
them from there, never from a config file found elsewhere.

Example ``ourborough.toml``::

    authority_name = "Anytown Borough Council"
    referral_id_prefix = "CS"
    follow_up_days = 42
    small_count_threshold = 5
    tracker_start = 2026-04-01   # consultations before this are history (default: the day of init)

    [lists]
    referrer_team = ["Social Care North", "Social Care South", "YJS", "Schools", "Police"]

    [themes]
    extra = ["Knife crime"]
    rename = { "DV In home" = "Domestic abuse in home" }

    [synonyms.themes]
    knives = "Knife crime"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cstracker.core.errors import ConfigError
from cstracker.core.inputs import CONFIG_BYTES, read_regular
from cstracker.core.schema import DEFAULT_CODE_LISTS, CodeLists, normalise_token


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
    #: consultations held before this date are history: no follow-up is expected of them.
    #: None: every consultation expects one (a tracker read before it had the setting).
    tracker_start: dt.date | None = None

    def to_pairs(self) -> list[tuple[str, str | int | dt.date | None]]:
        return [(k, getattr(self, k)) for k in self.__dataclass_fields__]

    @classmethod
    def from_pairs(cls, pairs: dict[str, Any]) -> Settings:
        values: dict[str, Any] = {}
        for key, f in cls.__dataclass_fields__.items():
            if key in pairs and pairs[key] not in (None, ""):
                raw = pairs[key]
                if key == "tracker_start":
                    values[key] = setting_date(raw)
                else:
                    values[key] = int(float(raw)) if f.type in INT_TYPES else str(raw)
        return cls(**values)


#: how a whole-number setting's type reads (annotations are strings here)
INT_TYPES = ("int", "int | None")
#: settings cstracker keeps itself: never read from a config file
INTERNAL_SETTINGS = frozenset({"referral_ids_issued"})


def setting_date(raw: Any) -> dt.date:
    """A date setting as stored (a date cell, a serial number, ISO or UK text); ValueError if not a date."""
    from cstracker.core.convert import parse_date

    if isinstance(raw, str):
        raw = raw.strip()
        with contextlib.suppress(ValueError):
            raw = float(raw)
    got = parse_date(raw)
    if not got.ok or got.value is None:
        raise ValueError(f"not a date: {raw!r}")
    return got.value


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
    data = read_regular(path, CONFIG_BYTES, ConfigError, what)
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file in UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


#: longest code a list may hold (it becomes a column heading, a dropdown entry, a report label)
CODE_LENGTH = 60
#: longest text setting (the authority's name appears in every report's title)
SETTING_LENGTH = 120
#: characters a spreadsheet would run as a formula at the start of a cell
FORMULA_TRIGGERS = "=+-@"
#: control characters (C0, DEL, C1) and what XML cannot carry: a tracker holding one cannot be opened
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class _Problems(list):
    """Every problem of one config file, said all at once (one line each)."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def add(self, message: str) -> None:
        self.append(f"{self.where}: {message}")

    def raise_any(self) -> None:
        if self:
            raise ConfigError("\n".join(self))


def _shown(text: str) -> str:
    """A value as a message shows it: control characters visible, long ones cut."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)
    return text if len(text) <= CODE_LENGTH else text[:CODE_LENGTH] + "…"


def _check_text(value: str, key: str, problems: _Problems, limit: int = CODE_LENGTH) -> bool:
    """A code or setting text: no control character, not too long, never a formula. False if refused."""
    ok = True
    if _CONTROL.search(value):
        problems.add(
            f"{key}: '{_shown(value)}' holds a control character (a tab, line break or similar); remove it"
        )
        ok = False
    if len(value) > limit:
        problems.add(f"{key}: '{_shown(value)}' is {len(value)} characters; at most {limit}")
        ok = False
    if value[:1] in FORMULA_TRIGGERS:
        problems.add(
            f"{key}: '{_shown(value)}' must be at most {limit} characters and not start with = + - @ "
            "(a spreadsheet would run it as a formula)"
        )
        ok = False
    return ok


def _before_other(codes: list[str], extra: tuple[str, ...]) -> list[str]:
    """Extra codes go before a closing 'Other' (a catch-all stays last), else at the end."""
    if codes and normalise_token(codes[-1]) == normalise_token("Other"):
        return [*codes[:-1], *extra, codes[-1]]
    return [*codes, *extra]


def config_from_dict(data: dict[str, Any], where: str = "config") -> Config:
    """A Config from a TOML table; ConfigError with one line per problem, every problem at once."""
    problems = _Problems(where)
    for key in data:
        if key not in _KNOWN_TOP:
            allowed = ", ".join(sorted(_KNOWN_TOP))
            problems.add(f"unknown key '{key}'; allowed keys: {allowed}")
    settings = _settings(data, problems)
    lists = {k: cl.codes for k, cl in DEFAULT_CODE_LISTS.items()}

    for key, value in _table(data, "lists", problems).items():
        if key not in DEFAULT_CODE_LISTS:
            problems.add(f"lists.{key} is not a code list; lists are: {', '.join(DEFAULT_CODE_LISTS)}")
        elif not DEFAULT_CODE_LISTS[key].configurable:
            problems.add(f"lists.{key} is fixed by the toolkit and cannot be changed")
        else:
            codes = _codes(value, f"lists.{key}", problems)
            if codes:
                lists[key] = codes

    for list_key in ("themes", "interventions"):
        section = _table(data, list_key, problems)
        for key in section:
            if key not in ("extra", "rename"):
                problems.add(f"unknown key '{list_key}.{key}'; allowed: extra, rename")
        codes = list(lists[list_key])
        for old, new in _table(section, "rename", problems, f"{list_key}.rename").items():
            if old not in codes:
                problems.add(f"{list_key}.rename: '{_shown(old)}' is not one of the {list_key}")
            elif not isinstance(new, str) or not new.strip():
                problems.add(f"{list_key}.rename.'{_shown(old)}' must be a non-empty text")
            elif _check_text(new.strip(), f"{list_key}.rename.'{_shown(old)}'", problems):
                codes[codes.index(old)] = new.strip()
        if "extra" in section:
            codes = _before_other(codes, _codes(section["extra"], f"{list_key}.extra", problems))
        lists[list_key] = _unique(tuple(codes), list_key, problems)

    synonyms: dict[str, dict[str, str]] = {}
    for list_key, table in _table(data, "synonyms", problems).items():
        if list_key not in lists:
            problems.add(f"synonyms.{list_key} is not a code list")
            continue
        if not isinstance(table, dict):
            problems.add(f"synonyms.{list_key} must be a table of spelling = code")
            continue
        for spelling, code in table.items():
            key = f"synonyms.{list_key}.{_shown(spelling)}"
            if not isinstance(code, str) or code not in lists[list_key]:
                shown = _shown(code) if isinstance(code, str) else code
                problems.add(f"{key}: '{shown}' is not on the {list_key} list")
                continue
            if _check_text(spelling, f"synonyms.{list_key}", problems, limit=SETTING_LENGTH):
                synonyms.setdefault(list_key, {})[normalise_token(spelling)] = code
    problems.raise_any()
    return Config(settings=settings, lists=CodeLists(lists=lists, extra_synonyms=synonyms))


def _settings(data: dict[str, Any], problems: _Problems) -> Settings:
    s = Settings()
    for key, f in Settings.__dataclass_fields__.items():
        if key not in data or key in INTERNAL_SETTINGS:
            continue
        value = data[key]
        if key == "tracker_start":
            try:
                if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
                    raise ValueError(value)
                s = replace(s, tracker_start=setting_date(value))
            except ValueError:
                problems.add("tracker_start must be a date, e.g. 2026-04-01")
            continue
        if f.type in INT_TYPES:
            lo, hi = _INT_LIMITS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                problems.add(f"{key} must be a whole number from {lo} to {hi}")
                continue
        elif not isinstance(value, str) or not value.strip():
            problems.add(f"{key} must be a non-empty text")
            continue
        elif not _check_text(value.strip(), key, problems, limit=SETTING_LENGTH):
            continue
        s = replace(s, **{key: value.strip() if isinstance(value, str) else value})
    if not re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", s.referral_id_prefix):
        problems.add(
            "referral_id_prefix must be 1 to 10 capital letters or digits, starting with a letter (e.g. CS)"
        )
    return s


def _table(data: dict[str, Any], key: str, problems: _Problems, name: str = "") -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.add(f"{name or key} must be a table ([{name or key}])")
        return {}
    return value


def _codes(value: Any, key: str, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add(f"{key} must be a non-empty list of texts")
        return ()
    codes = tuple(v.strip() for v in value)
    good = tuple(c for c in codes if _check_text(c, key, problems))
    return _unique(good, key, problems) if len(good) == len(codes) else ()


def _unique(codes: tuple[str, ...], key: str, problems: _Problems) -> tuple[str, ...]:
    seen: set[str] = set()
    for c in codes:
        n = normalise_token(c)
        if n in seen:
            problems.add(f"{key}: '{_shown(c)}' is listed twice")
        seen.add(n)
    return codes
