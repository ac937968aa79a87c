"""Column headings that say a column holds a young person's personal data.

The tracker keys on Mosaic ID and holds no names (DESIGN.md, data
minimisation). Old spreadsheets often have a name, an address, a date of birth
or a phone number beside the Mosaic ID; an import recognises those columns by
their heading and never reads them: not into a field, not into a notes field,
not into the dry run's output, not into the rejects file. Only the heading is
ever shown, never a value.

A heading that names someone else's name (``Referrer name``, ``Worker``,
``School name``) is not personal data of the young person; those match a
tracker field or are left as unrecognised columns.
"""

from __future__ import annotations

from cstracker.core.schema import normalise_token

_NAME_WORDS = {"name", "names", "forename", "forenames", "surname", "firstname", "lastname", "fullname"}
#: a name heading with one of these is someone or something else's name
_NOT_THE_CHILD = {
    "referrer",
    "referring",
    "worker",
    "practitioner",
    "sw",
    "officer",
    "manager",
    "consultant",
    "lead",
    "school",
    "gang",
    "team",
    "agency",
    "service",
    "location",
    "place",
    "area",
    "estate",
    "park",
    "group",
    "file",
    "form",
    "user",
}
_DATE_OF_BIRTH = ("dob", "d o b", "date of birth", "birth date", "birthdate", "birthday", "born")
_ADDRESS = ("address", "postcode", "post code", "street", "home address", "addr")
_PHONE = ("phone", "telephone", "tel", "mobile", "mob", "contact number", "phone number", "tel no")
_EMAIL = ("email", "e mail", "email address")


def personal_data_kind(header: str) -> str | None:
    """'a name', 'an address', 'a date of birth', 'a phone number', 'an e-mail address', or None."""
    token = normalise_token(header)
    if not token:
        return None
    words = token.split()
    padded = f" {token} "

    def has(phrases: tuple[str, ...]) -> bool:
        return any(f" {p} " in padded for p in phrases)

    if has(_DATE_OF_BIRTH):
        return "a date of birth"
    if has(_EMAIL):
        return "an e-mail address"
    if has(_PHONE):
        return "a phone number"
    if has(_ADDRESS):
        return "an address"
    if _NAME_WORDS & set(words) and not _NOT_THE_CHILD & set(words):
        return "a name"
    if token in ("young person", "child", "yp", "client", "pupil", "student", "child s name"):
        return "a name"
    return None
