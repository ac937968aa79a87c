"""Every published count as one figure: what is counted, over which months, in which category.

A published pack is a set of figures. The same figure in two tables or two packs
has one key, so it is one unknown to a reader who has them all, and one decision
(shown or ``c``) for us. A key is ``(measure, first month, last month, condition)``:

* measure: ``recv`` (referrals by date received), ``cons`` (consultations held, by
  consultation date), ``due`` (follow-ups by due date), ``decided`` (decisions by
  decision date);
* months: ``"2026-07"`` to ``"2026-09"``, both included (every published figure covers
  whole months: a month, a quarter, a year or four quarters);
* condition: sorted ``(dimension, value)`` pairs, e.g. ``(("concern", "Home"),)``.

What a determined reader knows about how figures relate is described by
*families*: grids of unpublished *atoms* that every figure is a sum of. A
partition family splits a measure's total by its dimensions (the months of the
totals series; per quarter, the categories of each breakdown), so its atoms sum to
the total; a part family covers only some of the measure (actions by the context of
the concern); a flag family counts the records with one flag (a theme, an
intervention), never more than the total, and a pair of flags never more than
either flag. ``disclosure.py`` turns this into the reader's linear system.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cstracker.core.periods import add_months

Cond = tuple[tuple[str, str], ...]
Key = tuple[str, str, str, Cond]


def month_code(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def month_index(code: str) -> int:
    return int(code[:4]) * 12 + int(code[5:7]) - 1


def key(measure: str, start: dt.date, end: dt.date, *cond: tuple[str, str]) -> Key:
    return (measure, month_code(start), month_code(end), tuple(sorted(cond)))


@dataclass(frozen=True, order=True)
class Change:
    """A published change (the Summary's change columns): figure ``now`` minus figure ``then``, and
    that change as a share of ``then``.

    It is shown only where both figures are shown: then it tells a reader nothing they could not
    subtract themselves, while next to a ``c`` it would give the ``c`` away. It is still one more
    thing the reader knows, so the reader's system (``disclosure.System``) holds every change that
    will be shown as the equation it is.
    """

    now: Key
    then: Key

    def shown(self, hidden: dict[Key, bool]) -> bool:
        return not hidden.get(self.now, False) and not hidden.get(self.then, False)


def describe(k: Key) -> str:
    """One line for a key (messages, the ledger)."""
    measure, a, b, cond = k
    where = ", ".join(f"{d}={v}" for d, v in cond)
    return f"{measure} {a}..{b}" + (f" [{where}]" if where else "")


@dataclass(frozen=True)
class Family:
    """A grid of atoms: one per time unit (a month or a quarter) and category combination."""

    name: str
    measure: str
    grain: int  # months per time unit: 1 or 3
    dims: tuple[str, ...] = ()
    cats: tuple[tuple[str, ...], ...] = ()
    kind: str = "partition"  # "partition", "part" or "flag"
    #: a flag family's own condition; its atoms count the records that meet it
    cond: Cond = ()
    #: flag families (names) whose atoms bound this one's from above, unit by unit
    within: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return math.prod(len(c) for c in self.cats)


@dataclass
class Model:
    """Families and their true atom counts for months ``first``..``last`` (indexes, whole quarters)."""

    families: dict[str, Family]
    first: int
    last: int
    #: family name -> array (units, size) of true counts
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    _index: dict = field(default_factory=dict, repr=False)

    def units(self, fam: Family) -> int:
        return (self.last - self.first + 1) // fam.grain

    def unit_span(self, fam: Family, a: int, b: int) -> range | None:
        """The family's units covering months a..b exactly, or None."""
        if (
            a < self.first
            or b > self.last
            or (a - self.first) % fam.grain
            or (b + 1 - self.first) % fam.grain
        ):
            return None
        return range((a - self.first) // fam.grain, (b + 1 - self.first) // fam.grain)

    def expressions(self, k: Key) -> Iterator[tuple[Family, list[int]]]:
        """Each family that can count ``k``, with the flat atom indexes (unit * size + cell) it sums."""
        measure, a, b, cond = k
        ia, ib = month_index(a), month_index(b)
        if not self._index:
            for f in self.families.values():
                self._index.setdefault((f.measure, f.cond if f.kind == "flag" else None), []).append(f)
        for fam in (
            self._index.get((measure, None), []) + self._index.get((measure, cond), [])
            if cond
            else (self._index.get((measure, None), []))
        ):
            span = self.unit_span(fam, ia, ib)
            if span is None:
                continue
            if fam.kind == "flag":
                if cond == fam.cond:
                    yield fam, list(span)
                continue
            if fam.kind == "part" and cond == (("part", fam.name),):
                yield fam, [u * fam.size + c for u in span for c in range(fam.size)]
                continue
            wanted = dict(cond)
            if fam.kind == "part" and not wanted:
                continue  # a part family does not cover the whole measure
            if not set(wanted) <= set(fam.dims) or len(wanted) != len(cond):
                continue
            cells = self._cells(fam, wanted)
            if cells is None:
                continue
            yield fam, [u * fam.size + c for u in span for c in cells]

    def _cells(self, fam: Family, wanted: dict[str, str]) -> list[int] | None:
        if not fam.dims:
            return [0]
        ranges: list = []
        for dim, cats in zip(fam.dims, fam.cats, strict=True):
            if dim in wanted:
                if wanted[dim] not in cats:
                    return None
                ranges.append([cats.index(wanted[dim])])
            else:
                ranges.append(range(len(cats)))
        shape = [len(c) for c in fam.cats]
        return [int(np.ravel_multi_index(ix, shape)) for ix in itertools.product(*ranges)]

    def value(self, k: Key) -> int:
        for fam, atoms in self.expressions(k):
            return int(self.truth[fam.name].reshape(-1)[atoms].sum())
        raise KeyError(f"no family counts {describe(k)}")


# -- the families of a published pack ------------------------------------------------------------


def _flat_index(unit: np.ndarray, codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    flat = unit.astype(np.int64)
    for c, n in zip(codes, sizes, strict=True):
        flat = flat * n + c.astype(np.int64)
    return flat


def build_model(d, first: dt.date, last: dt.date) -> Model:
    """Families and true counts from ``report/data.py`` ReportData for months first..last (whole quarters)."""
    from cstracker.core.schema import CONTEXT_ACTION_FIELD
    from cstracker.report.data import AGE_BANDS, NOT_RECORDED, codes_with_blank
    from cstracker.report.tables import age_band

    first = dt.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    last_q = dt.date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
    last = add_months(last_q, 2)
    i0, i1 = month_index(month_code(first)), month_index(month_code(last))
    lists = d.lists
    df = d.df

    def codes_of(series_cat) -> tuple[tuple[str, ...], np.ndarray]:
        cat = pd.Categorical(series_cat)
        return tuple(str(c) for c in cat.categories), np.asarray(cat.codes)

    concern_cats, concern = codes_of(d.concern)
    dims: dict[str, tuple[tuple[str, ...], np.ndarray]] = {"concern": (concern_cats, concern)}
    dims["decision"] = codes_of(codes_with_blank(df["suitability"], lists.codes("suitability")))
    dims["team"] = codes_of(codes_with_blank(df["referrer_team"], lists.codes("referrer_team")))
    bands = tuple(f"{lo}-{hi}" for lo, hi in AGE_BANDS) + (NOT_RECORDED,)
    dims["age"] = codes_of(pd.Categorical(df["age"].map(age_band), categories=list(bands)))
    for k in ("gender", "ethnicity", "legal_status", "education"):
        dims[k] = codes_of(codes_with_blank(df[k], lists.codes(k)))

    fams: list[Family] = []
    data: dict[str, np.ndarray] = {}
    n_months = i1 - i0 + 1

    month_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def unit_of(dates: pd.Series, grain: int) -> tuple[np.ndarray, np.ndarray]:
        if id(dates) not in month_of:  # four date columns, each worked out once
            ok = dates.notna().to_numpy().copy()
            idx = np.full(len(dates), -1, dtype=np.int64)
            ds = dates[ok]
            idx[ok] = (ds.dt.year.to_numpy() * 12 + ds.dt.month.to_numpy() - 1 - i0).astype(np.int64)
            ok &= (idx >= 0) & (idx < n_months)
            month_of[id(dates)] = (ok, idx)
        ok, idx = month_of[id(dates)]
        return ok, idx // grain

    def add(fam: Family, mask: np.ndarray, dates: pd.Series, codes: list[np.ndarray] = ()) -> None:
        ok, unit = unit_of(dates, fam.grain)
        ok = ok & mask
        sizes = [len(c) for c in fam.cats]
        flat = _flat_index(unit[ok], [c[ok] for c in codes], sizes)
        units = n_months // fam.grain
        data[fam.name] = np.bincount(flat, minlength=units * fam.size).reshape(units, fam.size)
        fams.append(fam)

    everyone = np.ones(len(df), dtype=bool)
    received, consulted = d.received, d.consulted
    add(Family("recv/month", "recv", 1), everyone, received)
    for dd in (
        ("concern",),
        ("decision",),
        ("team", "decision"),
        ("age", "concern"),
        ("gender", "concern"),
        ("ethnicity", "concern"),
        ("legal_status", "concern"),
        ("education", "concern"),
    ):
        cats = tuple(dims[x][0] for x in dd)
        add(Family("recv/" + "+".join(dd), "recv", 3, dd, cats), everyone, received, [dims[x][1] for x in dd])
    add(
        Family("recv/repeat", "recv", 3, kind="flag", cond=(("repeat", "yes"),)),
        d.repeat.to_numpy(),
        received,
    )

    add(Family("cons/month", "cons", 1), everyone, consulted)
    contexts = tuple(c for c in lists.codes("primary_concern") if c in CONTEXT_ACTION_FIELD)
    has_action = {
        c: (df[CONTEXT_ACTION_FIELD[c]].astype("string").str.strip().fillna("") != "").to_numpy()
        for c in contexts
    }
    own = np.zeros(len(df), dtype=bool)
    ctx_code = np.full(len(df), -1)
    for j, c in enumerate(contexts):
        is_c = concern == concern_cats.index(c)
        ctx_code[is_c] = j
        own[is_c] = has_action[c][is_c]
    in_ctx = ctx_code >= 0
    add(
        Family(
            "cons/concern+action", "cons", 3, ("concern", "action"), (contexts, ("yes", "no")), kind="part"
        ),
        in_ctx,
        consulted,
        [np.where(in_ctx, ctx_code, 0), np.where(own, 0, 1)],
    )
    for c in contexts:
        add(
            Family(f"cons/action_for:{c}", "cons", 3, kind="flag", cond=(("action_for", c),)),
            has_action[c],
            consulted,
        )
    flags = {t: df[f"theme:{t}"].to_numpy(dtype=bool) for t in d.themes}
    for t in d.themes:
        add(Family(f"cons/theme:{t}", "cons", 3, kind="flag", cond=(("theme", t),)), flags[t], consulted)
    for i, a in enumerate(d.themes):
        for b in d.themes[i + 1 :]:
            cond = tuple(sorted((("theme", a), ("theme", b))))
            fam = Family(
                f"cons/theme:{a}|{b}",
                "cons",
                3,
                kind="flag",
                cond=cond,
                within=(f"cons/theme:{a}", f"cons/theme:{b}"),
            )
            add(fam, flags[a] & flags[b], consulted)
    for i in d.interventions:
        add(
            Family(f"cons/intervention:{i}", "cons", 3, kind="flag", cond=(("intervention", i),)),
            df[f"intervention:{i}"].to_numpy(dtype=bool),
            consulted,
        )
    add(
        Family("cons/decided", "cons", 3, kind="flag", cond=(("dated", "decision"),)),
        d.decided.notna().to_numpy(),
        consulted,
    )
    add(Family("decided", "decided", 3), d.received.notna().to_numpy(), d.decided)
    add(Family("due", "due", 3), everyone, d.due)
    model = Model({f.name: f for f in fams}, i0, i1)
    model.truth = data
    return model
