"""When an open code list takes a value it does not hold yet (a referrer team met for the first time).

One rule for import and ingest. A value goes onto an open list (``CodeList.open``) as it is
spelt when it names something and is probably not a code the list already has: ``Fire and
Rescue Service`` is a new team, ``Schools`` is School misspelt (the suggester is confident of
it), ``TBC`` or ``Unknown team`` says nothing and ``=HYPERLINK(...)`` is not a name.
"""

from __future__ import annotations

from cstracker.core.convert import looks_like_formula
from cstracker.core.reading import is_open_list, new_list_value
from cstracker.core.schema import CodeLists, normalise_token
from cstracker.core.suggest import GENERIC_WORDS, Matcher, Suggestion

#: what an old tracker or a hurried practitioner writes for "nothing known": never a new list value
PLACEHOLDERS = frozenset(
    {
        "",
        "n a",
        "na",
        "none",
        "unknown",
        "not known",
        "nk",
        "tbc",
        "tba",
        "other",
        "misc",
        "various",
        "see notes",
    }
)
#: longer than this is a sentence typed into the wrong box, not the name of a team
MAX_NEW_CODE = 60


def can_be_added(value: str) -> bool:
    """A value an open list may take as it is (whatever the list already holds)."""
    text = value.strip()
    # 'Unknown team' says no more than 'Unknown'
    words = " ".join(w for w in normalise_token(text).split() if w not in GENERIC_WORDS)
    return (
        bool(text)
        and len(text) <= MAX_NEW_CODE
        and not looks_like_formula(text)
        and words not in PLACEHOLDERS
        and any(ch.isalpha() for ch in text)
    )


def confident_suggestion(list_key: str, value: str, lists: CodeLists) -> Suggestion | None:
    """The listed code ``value`` is probably a spelling of, when the suggester is sure enough to say so."""
    found = Matcher(lists.lookup(list_key), lists.codes(list_key)).suggest(value)
    return found[0] if found and found[0].confident else None


def new_code(list_key: str, raw: object, lists: CodeLists) -> str | None:
    """``raw`` as the new code an open list takes (trimmed, spacing collapsed), or None when it takes none."""
    if not is_open_list(list_key) or not isinstance(raw, str):
        return None
    text = new_list_value(raw)
    if not can_be_added(text) or confident_suggestion(list_key, text, lists) is not None:
        return None
    return text
