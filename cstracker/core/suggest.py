"""'Did you mean …?' for values and column headings an import does not recognise.

Simple rules first, because they are right when they fire and say why:
UK/US spelling (``Neighborhood``), plural or singular (``Schools``),
abbreviations and initials (``YJS``, ``Ref No``), word order (``Group Peer``),
a shorter form of one name (``Youth Justice``), several words that each name
the same code (``Individual YP``) and ``/`` or ``&`` separated alternatives
(``CSE / Gangs``). Then a fuzzy match (rapidfuzz) for typing slips, accepted
only when it is close and clearly better than the next code.

A suggestion is *confident* when it may be filled in for the user (the draft
mapping does); anything else is only shown as an alternative. No suggestion at
all is better than a wrong one: ``Children in Need`` suggests nothing on the
referrer team list, however many words it shares with ``Children's Social Care``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cstracker.core.schema import normalise_token

#: fuzzy scores (0-100, rapidfuzz ``ratio`` on folded text): fill in from FILL_SCORE, show from SHOW_SCORE
FILL_SCORE = 88.0
SHOW_SCORE = 75.0
#: a fuzzy best must beat the next different code by this much to be filled in
MARGIN = 6.0
#: words too short to fuzzy-match safely (an initialism is handled by its own rule)
MIN_FUZZY_LENGTH = 5
WORDS_MAX = 6

RULE_SPELLING = "UK/US spelling"
RULE_PLURAL = "plural/singular"
RULE_ABBREVIATION = "abbreviation"
RULE_INITIALS = "initials"
RULE_ORDER = "word order"
RULE_SHORT = "short for"
RULE_WORDS = "every word means it"
RULE_ALTERNATIVES = "alternatives"
RULE_FUZZY = "close spelling"
RULE_GENERIC = "without the word team/service/…"
RULE_BRACKETS = "without the words in brackets"
#: words that say what kind of body something is, not which one ("CAMHS team", "Police dept")
GENERIC_WORDS = frozenset(
    {
        "team",
        "teams",
        "service",
        "services",
        "dept",
        "department",
        "unit",
        "hub",
        "org",
        "organisation",
        "organization",
        "office",
        "agency",
    }
)

#: US -> UK word spellings met in children's services data (the reverse is applied too)
_US_UK = {
    "neighborhood": "neighbourhood",
    "neighborhoods": "neighbourhoods",
    "neighbor": "neighbour",
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "behavioral": "behavioural",
    "color": "colour",
    "center": "centre",
    "program": "programme",
    "offense": "offence",
    "offenses": "offences",
    "defense": "defence",
    "license": "licence",
    "practice": "practise",
    "counselor": "counsellor",
    "counseling": "counselling",
    "labor": "labour",
    "enrollment": "enrolment",
    "pediatric": "paediatric",
    "judgment": "judgement",
}
_UK_US = {uk: us for us, uk in _US_UK.items()}
_SUFFIXES = (
    ("ization", "isation"),
    ("izations", "isations"),
    ("ize", "ise"),
    ("ized", "ised"),
    ("yze", "yse"),
)

#: word abbreviations -> what they stand for (one or more words)
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "no": ("number",),
    "num": ("number",),
    "nbr": ("number",),
    "ref": ("referral", "reference"),
    "refs": ("referrals",),
    "dt": ("date",),
    "yp": ("young person",),
    "cyp": ("young person",),
    "prev": ("previous",),
    "cons": ("consultation",),
    "consult": ("consultation",),
    "recd": ("received",),
    "rec d": ("received",),
    "rcvd": ("received",),
    "grp": ("group",),
    "grps": ("groups",),
    "sch": ("school",),
    "schl": ("school",),
    "svc": ("service",),
    "svcs": ("services",),
    "serv": ("service",),
    "dept": ("department",),
    "mh": ("mental health",),
    "ed": ("education",),
    "educ": ("education",),
    "soc": ("social",),
    "hsg": ("housing",),
    "vol": ("voluntary",),
    "comm": ("community",),
    "nbhd": ("neighbourhood",),
    "ind": ("individual",),
    "indiv": ("individual",),
    "par": ("parental",),
    "prac": ("practitioner",),
    "pract": ("practitioner",),
    "eth": ("ethnicity",),
    "gen": ("gender",),
    "fu": ("follow up",),
    "f u": ("follow up",),
    "dv": ("domestic violence",),
    "yr": ("year",),
    "yrs": ("years",),
    "info": ("information",),
    "mgr": ("manager",),
    "amt": ("amount",),
    "excl": ("exclusion",),
    "sw": ("social worker",),
    "yo": ("youth offending",),
}
_STOP = {"and", "of", "in", "the", "for", "to", "s", "a"}


@dataclass(frozen=True)
class Suggestion:
    """Codes (one, or several for a cell that lists them) a value probably means, and why."""

    codes: tuple[str, ...]
    why: str
    confident: bool = True
    score: float = 100.0

    @property
    def code(self) -> str:
        return self.codes[0]

    def text(self) -> str:
        shown = " + ".join(repr(c) for c in self.codes)
        return f"{shown} ({self.why})"


class Matcher:
    """Suggestions against one vocabulary: folded spelling -> target (a code, or a field key)."""

    def __init__(self, table: Mapping[str, str], order: Iterable[str] | None = None):
        self.table = {k: v for k, v in table.items() if k}
        #: the targets in list order (alternatives are shown in this order)
        self.order = {t: i for i, t in enumerate(dict.fromkeys(order or self.table.values()))}
        self.by_words: dict[tuple[str, ...], set[str]] = {}
        self.initials: dict[str, set[str]] = {}
        for spelling, target in self.table.items():
            words = spelling.split()
            self.by_words.setdefault(tuple(sorted(words)), set()).add(target)
            meaningful = [w for w in words if w not in _STOP]
            if len(meaningful) >= 2:
                self.initials.setdefault("".join(w[0] for w in meaningful), set()).add(target)

    # -- one spelling ----------------------------------------------------------------------------
    def suggest(self, value: str, several: bool = False) -> list[Suggestion]:
        """Best first; [] when nothing is close. ``several``: the cell may name several codes."""
        token = normalise_token(value)
        if not token:
            return []
        if token in self.table:
            return [Suggestion((self.table[token],), "known spelling")]
        found = self._rules(token)
        if found:
            return found
        bare = re.sub(r"\([^)]*\)", " ", value)
        if bare != value and normalise_token(bare):
            found = self.suggest(bare, several)
            return [Suggestion(s.codes, _join(s.why, RULE_BRACKETS), s.confident, s.score) for s in found]
        parts = [p for p in re.split(r"\s*(?:/|&|\+|\band\b|\bor\b)\s*", value) if p.strip()]
        if len(parts) > 1:
            return self._alternatives(value, parts, several)
        return self._fuzzy(token)

    def _rules(self, token: str) -> list[Suggestion]:
        words = token.split()
        if len(words) > WORDS_MAX:
            return []
        hits: dict[str, str] = {}
        for variant, why in self._variants(words):
            joined = " ".join(variant)
            if joined in self.table:
                hits.setdefault(self.table[joined], why)
            targets = self.by_words.get(tuple(sorted(variant)), set())
            if len(targets) == 1 and joined not in self.table:
                hits.setdefault(next(iter(targets)), _join(why, RULE_ORDER))
        if len(hits) == 1:
            code, why = next(iter(hits.items()))
            return [Suggestion((code,), why)]
        if len(hits) > 1:
            return self._ambiguous(hits)
        if len(words) == 1 and 2 <= len(token) <= 6 and token.isalpha():
            targets = self.initials.get(token, set())
            if len(targets) == 1:
                return [Suggestion((next(iter(targets)),), RULE_INITIALS)]
            if len(targets) > 1:
                return self._ambiguous(dict.fromkeys(targets, RULE_INITIALS))
        found = self._shorter(words) or self._every_word(words)
        if found:
            return found
        kept = [w for w in words if w not in GENERIC_WORDS]
        if kept and len(kept) < len(words):
            found = self._rules(" ".join(kept))
            return [Suggestion(s.codes, _join(s.why, RULE_GENERIC), s.confident, s.score) for s in found]
        return []

    def _variants(self, words: list[str]) -> Iterable[tuple[tuple[str, ...], str]]:
        options = [_word_options(w) for w in words]
        for combo in itertools.islice(itertools.product(*options), 512):
            variant = tuple(itertools.chain.from_iterable(w.split() for w, _ in combo))
            why = _join(*(r for _, r in combo if r))
            yield variant, why or "same words"

    def _shorter(self, words: list[str]) -> list[Suggestion]:
        """'Youth Justice' -> 'Youth Justice Service': the words start one name, and only one."""
        if len(words) < 2:
            return []
        targets = set()
        for spelling, target in self.table.items():
            have = spelling.split()
            if len(have) > len(words) and have[: len(words)] == words:
                targets.add(target)
        if len(targets) == 1:
            return [Suggestion((next(iter(targets)),), RULE_SHORT)]
        return []

    def _every_word(self, words: list[str]) -> list[Suggestion]:
        """'Individual YP': each word on its own names the same code."""
        if len(words) < 2:
            return []
        targets = set()
        for w in words:
            if w in _STOP:
                continue
            got = {self.table[" ".join(v)] for v, _ in self._variants([w]) if " ".join(v) in self.table}
            if len(got) != 1:
                return []
            targets |= got
        if len(targets) == 1:
            return [Suggestion((next(iter(targets)),), RULE_WORDS)]
        return []

    def _alternatives(self, value: str, parts: list[str], several: bool) -> list[Suggestion]:
        """'CSE / Gangs': each part on its own; several codes for a list cell, one code otherwise."""
        codes: list[str] = []
        unmatched: list[str] = []
        for part in parts:
            got = self.suggest(part)
            if got and got[0].confident:
                codes.extend(c for c in got[0].codes if c not in codes)
            else:
                unmatched.append(part.strip())
        if not codes:
            return []
        note = RULE_ALTERNATIVES + (
            f"; {', '.join(repr(u) for u in unmatched)} not recognised" if unmatched else ""
        )
        if several or len(codes) == 1:
            return [Suggestion(tuple(codes), note)]
        # one value allowed and the parts disagree: show them, fill in none
        return [Suggestion((c,), note, confident=False, score=90.0) for c in self._sorted(codes)]

    def _fuzzy(self, token: str) -> list[Suggestion]:
        from rapidfuzz import fuzz, process

        if len(token.replace(" ", "")) < MIN_FUZZY_LENGTH:
            return []
        best: dict[str, float] = {}
        for spelling, score, _ in process.extract(
            token, list(self.table), scorer=fuzz.ratio, limit=12, score_cutoff=SHOW_SCORE - 10
        ):
            target = self.table[spelling]
            best[target] = max(best.get(target, 0.0), score)
        for spelling, score, _ in process.extract(
            token, list(self.table), scorer=fuzz.token_sort_ratio, limit=12, score_cutoff=SHOW_SCORE - 10
        ):
            target = self.table[spelling]
            best[target] = max(best.get(target, 0.0), score - 2)  # a reorder costs a little
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], self.order.get(kv[0], 0)))
        ranked = [(t, s) for t, s in ranked if s >= SHOW_SCORE]
        if not ranked:
            return []
        top, top_score = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 0.0
        out = []
        for i, (target, score) in enumerate(ranked[:3]):
            confident = i == 0 and top_score >= FILL_SCORE and top_score - runner >= MARGIN
            out.append(Suggestion((target,), f"{RULE_FUZZY}, {score:.0f}%", confident, score))
        return out

    def _ambiguous(self, hits: Mapping[str, str]) -> list[Suggestion]:
        return [Suggestion((t,), hits[t], confident=False, score=90.0) for t in self._sorted(hits)]

    def _sorted(self, targets: Iterable[str]) -> list[str]:
        return sorted(targets, key=lambda t: self.order.get(t, 0))


def _join(*rules: str) -> str:
    return ", ".join(dict.fromkeys(r for r in rules if r and r != "same words"))


def _word_options(word: str) -> list[tuple[str, str]]:
    """A word and what the rules say it may also be: (spelling, rule that gave it)."""
    out = [(word, "")]
    for w in (_US_UK.get(word), _UK_US.get(word)):
        if w:
            out.append((w, RULE_SPELLING))
    for us, uk in _SUFFIXES:
        if word.endswith(us):
            out.append((word[: -len(us)] + uk, RULE_SPELLING))
        elif word.endswith(uk):
            out.append((word[: -len(uk)] + us, RULE_SPELLING))
    for w, rule in list(out):
        for other in _plural_forms(w):
            out.append((other, _join(rule, RULE_PLURAL)))
    for expansion in ABBREVIATIONS.get(word, ()):
        out.append((expansion, RULE_ABBREVIATION))
    return list(dict.fromkeys(out))


def _plural_forms(word: str) -> list[str]:
    if len(word) < 3 or not word.isalpha():
        return []
    if word.endswith("ies") and len(word) > 4:
        return [word[:-3] + "y"]
    if word.endswith("ses") or word.endswith("xes") or word.endswith("ches") or word.endswith("shes"):
        return [word[:-2], word[:-1]]
    if word.endswith("ss") or word.endswith("us"):
        return [word + "es"]
    if word.endswith("s"):
        return [word[:-1]]
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return [word[:-1] + "ies"]
    return [word + "s"]
