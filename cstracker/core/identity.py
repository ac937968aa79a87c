"""Who a record is about: one rule for every way in (ingest, import, validate, ``Tracker.upsert``).

A referral is one young person. The same Referral ID with a different Mosaic ID
is a different young person: refused, never merged. Mosaic IDs are compared as
digits with leading zeros ignored, after cleaning spaces and a stray ``.0``,
because a spreadsheet may have stored the ID as a number and dropped its
zeros. A blank on either side is a value to fill in, never a different young
person. A different date received for the same Referral ID and Mosaic ID is a
correction of that referral.

``SameReferral`` is the one index of "the same referral" every batch uses: by
Referral ID, by Form ID (the row a form filled before) and by Mosaic ID + date
received (a row without a Referral ID). ``ReferralIds`` is the one count of the
Referral IDs issued, which gives the next free one (``Tracker.upsert``, import,
ingest's dry run and validate's suggestion all ask a copy of the tracker's).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cstracker.core.convert import clean_text

RULE = "different-person"
T = TypeVar("T")
#: a Referral ID cstracker issues: PREFIX-YEAR-NUMBER
SEQ_ID = re.compile(r"^([A-Z][A-Z0-9]*)-(\d{4})-(\d+)$")


def mosaic_key(value: Any) -> str | None:
    """The Mosaic ID as compared: digits without leading zeros ("0091.0" -> "91"); None when blank."""
    if type(value) is str and value.isascii() and value.isdigit():
        return value.lstrip("0") or "0"  # the stored shape: nothing to clean
    if value is None or value is False:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\.0+$", "", clean_text(value).replace(" ", ""))
    if not text:
        return None
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text.upper()


def different_person(existing_mosaic: Any, incoming_mosaic: Any) -> bool:
    """True when both Mosaic IDs are given and name different young people."""
    a, b = mosaic_key(existing_mosaic), mosaic_key(incoming_mosaic)
    return a is not None and b is not None and a != b


def refusal(referral_id: str | None, what: str = "form") -> str:
    """The one line (without file and cell) every way in gives for a different young person."""
    on = referral_id or "this referral"
    return (
        f"differs from the Mosaic ID on the tracker for {on}; "
        f"check which young person this {what} is about (nothing was changed)"
    )


_PLAIN_ID = re.compile(r"[A-Z0-9][A-Z0-9/_\-]*")


def referral_key(value: Any) -> str | None:
    """A Referral ID as compared: upper case, spaces and a stray ".0" removed (as ``convert`` reads it)."""
    if type(value) is str and _PLAIN_ID.fullmatch(value):
        return value  # the stored shape: nothing to clean
    text = clean_text(value).replace(" ", "").upper() if value is not None else ""
    return re.sub(r"\.0+$", "", text) or None


def form_key(value: Any) -> str | None:
    """A Form ID as compared: trimmed text; None when blank."""
    if type(value) is str and value and not value[0].isspace() and not value[-1].isspace():
        return value  # the stored shape: nothing to clean
    text = clean_text(value) if value is not None else ""
    return text or None


def person_key(mosaic: Any, received: Any) -> tuple[str, dt.date] | None:
    key = mosaic_key(mosaic)
    if key is None or not isinstance(received, dt.date):
        return None
    return key, received.date() if isinstance(received, dt.datetime) else received


@dataclass
class SameReferral(Generic[T]):
    """Rows (or anything standing for one) by Referral ID, Form ID and Mosaic ID + date received.

    The first row seen keeps a Referral ID or a person (a duplicate later in the sheet is
    validate's business); a Form ID goes to the row it filled last. With ``keep_all``, every
    row of each key is kept as well, so validate finds the keys held by more than one row
    (``repeated_ids``, ``repeated_forms``, ``repeated_people``) with the same keys the ways in
    look rows up by: what validate calls the same referral is what they find.
    """

    by_id: dict[str, T] = field(default_factory=dict)
    by_form: dict[str, T] = field(default_factory=dict)
    by_person: dict[tuple[str, dt.date], T] = field(default_factory=dict)
    keep_all: bool = False
    #: with ``keep_all``: key -> every row of that key, in the order added
    all_ids: dict[str, list[T]] = field(default_factory=dict)
    all_forms: dict[str, list[T]] = field(default_factory=dict)
    all_people: dict[tuple[str, dt.date], list[T]] = field(default_factory=dict)

    @classmethod
    def of_ids(cls, pairs: Iterable[tuple[Any, T]]) -> SameReferral[T]:
        """By Referral ID only, from (Referral ID, item) pairs in sheet order: the first item of each ID.

        What a write needs of a large tracker, made without the other keys' work per row."""
        by_id: dict[str, T] = {}
        for referral_id, item in pairs:
            rid = referral_key(referral_id)
            if rid and rid not in by_id:
                by_id[rid] = item
        return cls(by_id)

    def add(
        self,
        item: T,
        referral_id: Any = None,
        form_id: Any = None,
        mosaic_id: Any = None,
        date_received: Any = None,
        replace: bool = False,
    ) -> None:
        rid = referral_key(referral_id)
        if rid:
            if replace:
                self.by_id[rid] = item
            else:
                self.by_id.setdefault(rid, item)
            if self.keep_all:
                self.all_ids.setdefault(rid, []).append(item)
        form = form_key(form_id)
        if form:
            self.by_form[form] = item
            if self.keep_all:
                self.all_forms.setdefault(form, []).append(item)
        person = person_key(mosaic_id, date_received)
        if person is not None:
            self.by_person.setdefault(person, item)
            if self.keep_all:
                self.all_people.setdefault(person, []).append(item)

    def referral(self, referral_id: Any) -> T | None:
        rid = referral_key(referral_id)
        return self.by_id.get(rid) if rid else None

    def form(self, form_id: Any) -> T | None:
        form = form_key(form_id)
        return self.by_form.get(form) if form else None

    def person(self, mosaic_id: Any, date_received: Any) -> T | None:
        key = person_key(mosaic_id, date_received)
        return self.by_person.get(key) if key is not None else None

    def repeated_ids(self) -> dict[str, list[T]]:
        """Referral ID -> its rows, for the IDs on more than one row (``keep_all``)."""
        return {k: v for k, v in self.all_ids.items() if len(v) > 1}

    def repeated_forms(self) -> dict[str, list[T]]:
        """Form ID -> its rows, for the Form IDs on more than one row (``keep_all``)."""
        return {k: v for k, v in self.all_forms.items() if len(v) > 1}

    def repeated_people(self) -> dict[tuple[str, dt.date], list[T]]:
        """(Mosaic ID, date received) -> its rows, for those on more than one row (``keep_all``)."""
        return {k: v for k, v in self.all_people.items() if len(v) > 1}

    def copy(self) -> SameReferral[T]:
        """An index to add a batch's own rows to, leaving this one as it is."""
        return SameReferral(dict(self.by_id), dict(self.by_form), dict(self.by_person))


@dataclass
class ReferralIds:
    """The highest number issued per (prefix, year), and so the next free ``PREFIX-YEAR-NNNN``.

    Seeded from what the settings keep (IDs of removed rows are never given again) and every ID
    in the file; ``note`` an ID as it is used, ``take`` the next free one. ``copy`` it to plan
    (a dry run, a suggestion) without using anything up.
    """

    prefix: str
    highest: dict[tuple[str, int], int] = field(default_factory=dict)

    @classmethod
    def from_text(cls, prefix: str, text: str | None) -> ReferralIds:
        """From the settings' record of IDs issued ("CS-2019-0042, CS-2026-0007")."""
        ids = cls(prefix)
        for rid in re.split(r"[\s,;]+", text or ""):
            ids.note(rid.strip().upper())
        return ids

    def note(self, referral_id: Any) -> None:
        m = SEQ_ID.match(referral_id) if isinstance(referral_id, str) else None
        if m:
            key = (m[1], int(m[2]))
            self.highest[key] = max(self.highest.get(key, 0), int(m[3]))

    def next(self, date_received: dt.date | None = None) -> str:
        """The next free ID for the year of ``date_received`` (today when None), not yet taken."""
        year = (date_received or dt.date.today()).year
        return f"{self.prefix}-{year}-{self.highest.get((self.prefix, year), 0) + 1:04d}"

    def take(self, date_received: dt.date | None = None) -> str:
        """The next free ID, now issued."""
        rid = self.next(date_received)
        self.note(rid)
        return rid

    def copy(self) -> ReferralIds:
        return ReferralIds(self.prefix, dict(self.highest))

    def text(self) -> str:
        """The highest ID issued per prefix and year: "CS-2019-0042, CS-2026-0007"."""
        return ", ".join(f"{p}-{y}-{n:04d}" for (p, y), n in sorted(self.highest.items()))
