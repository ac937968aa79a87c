"""The reader's linear system over every pack published so far, and the suppression that defeats it.

A reader with all the packs knows every shown figure, that every ``c`` is a whole
number of at least 1, and how figures relate (``figures.py``: months add up to
quarters and years, categories to totals, a theme never exceeds the consultations,
the same count in two breakdowns is one count). Unknowns are the atoms of the
families; each shown figure fixes a sum of atoms, each hidden one bounds it below.

``audit`` finds, for every hidden figure, the least and greatest value it can take
(SciPy's HiGHS: the LP relaxation, settled with an integer solve when it is close),
one connected block of the system at a time. ``protect`` hides more of the new
pack's figures, smallest first and nearest the weak cell, until every hidden figure
has at least ``MIN_VALUES`` possible whole values. Figures of earlier packs keep the
state they were published with (the ledger), so a figure hidden once stays hidden.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from cstracker.core.errors import ReportError
from cstracker.report.figures import Change, Family, Key, Model, month_code
from cstracker.xlsx.safety import atomic_write

#: every hidden figure must have at least this many possible whole values
MIN_VALUES = 3
#: an LP range at most this wide is settled with an integer solve
BORDERLINE = 4

Row = tuple[tuple[int, ...], tuple[float, ...], str, float]  # vars, coefs, "eq" | "ub", rhs


def n_values(lo: float, hi: float) -> float:
    if hi == math.inf:
        return math.inf
    return math.floor(hi + 1e-6) - math.ceil(lo - 1e-6) + 1


class System:
    """The reader's constraints for figure states ``hidden`` (key -> True when shown as c).

    ``changes``: the pack's change figures; each one whose two figures are both shown is shown too,
    and the reader knows it as an equation (now - then = the change).
    """

    def __init__(self, model: Model, hidden: dict[Key, bool], changes: Iterable[Change] = ()):
        self.model = model
        self.changes = list(changes)
        self.offset: dict[str, int] = {}
        n = 0
        for fam in model.families.values():
            self.offset[fam.name] = n
            n += model.units(fam) * fam.size
        self.n = n
        self.hidden = dict(hidden)
        self.exprs: dict[Key, list[tuple[int, ...]]] = {}
        self.rows_of: dict[Key, list[Row]] = {}
        self.fixed: list[Row] = self._structure()
        for k in hidden:
            self._figure_rows(k)

    def _expr(self, k: Key) -> list[tuple[int, ...]]:
        if k not in self.exprs:
            self.exprs[k] = [
                tuple(self.offset[fam.name] + a for a in atoms) for fam, atoms in self.model.expressions(k)
            ]
        return self.exprs[k]

    def _figure_rows(self, k: Key) -> None:
        exprs = self._expr(k)
        rows: list[Row] = []
        if exprs:
            if self.hidden[k]:
                rows.append((exprs[0], (-1.0,) * len(exprs[0]), "ub", -1.0))
                rows += _links(exprs)
            else:
                v = float(self.model.value(k))
                rows += [(e, (1.0,) * len(e), "eq", v) for e in exprs]
        self.rows_of[k] = rows

    def set_hidden(self, k: Key) -> None:
        self.hidden[k] = True
        self._figure_rows(k)

    def set_shown(self, k: Key) -> None:
        self.hidden[k] = False
        self._figure_rows(k)

    def _structure(self) -> list[Row]:
        """What holds whatever is published: shared margins agree, flags never exceed their totals."""
        m = self.model
        rows: list[Row] = []
        by_measure: dict[str, list[Family]] = {}
        for fam in m.families.values():
            by_measure.setdefault(fam.measure, []).append(fam)
        for measure, fams in by_measure.items():
            parts = [f for f in fams if f.kind == "partition" and f.grain == 3]
            shared = {
                (),
                *(tuple(sorted(set(a.dims) & set(b.dims))) for a in parts for b in parts if a is not b),
            }
            for q in range(m.first, m.last + 1, 3):
                a, b = _code(q), _code(q + 2)
                for dims in shared:
                    combos = _combos(parts, dims)
                    for combo in combos:
                        k = (measure, a, b, tuple(sorted(zip(dims, combo, strict=True))))
                        if k not in self.hidden:
                            rows += _links(self._expr(k))
                total = self._expr((measure, a, b, ()))
                for fam in fams:
                    if fam.kind == "partition":
                        continue
                    span = m.unit_span(fam, q, q + 2)
                    if span is None:
                        continue
                    u = span[0]
                    base = self.offset[fam.name] + u * fam.size
                    own = tuple(range(base, base + fam.size))
                    caps = [total[0]] if total else []
                    caps += [(self.offset[w] + u,) for w in fam.within]
                    for cap in caps:
                        rows.append((own + cap, (1.0,) * len(own) + (-1.0,) * len(cap), "ub", 0.0))
        return rows

    def rows(self) -> list[Row]:
        out = list(self.fixed)
        for rows in self.rows_of.values():
            out += rows
        return out + self.change_rows()

    def change_rows(self) -> list[Row]:
        """now - then = value, for every change that is shown (both its figures are)."""
        out: list[Row] = []
        for ch in self.changes:
            if not ch.shown(self.hidden):
                continue
            now, then = self._expr(ch.now), self._expr(ch.then)
            if not now or not then:
                continue
            value = float(self.model.value(ch.now) - self.model.value(ch.then))
            out.append((now[0] + then[0], (1.0,) * len(now[0]) + (-1.0,) * len(then[0]), "eq", value))
        return out


def _code(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _combos(parts: list[Family], dims: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not dims:
        return [()]
    for fam in parts:
        if set(dims) <= set(fam.dims):
            cats = [fam.cats[fam.dims.index(d)] for d in dims]
            import itertools

            return list(itertools.product(*cats))
    return []


def _links(exprs: list[tuple[int, ...]]) -> list[Row]:
    """Every way of counting the same figure gives the same number."""
    out = []
    for e in exprs[1:]:
        if e != exprs[0]:
            out.append((e + exprs[0], (1.0,) * len(e) + (-1.0,) * len(exprs[0]), "eq", 0.0))
    return out


# -- solving -----------------------------------------------------------------------------------


def _components(n: int, rows: list[Row]) -> np.ndarray:
    """Block of each variable: variables that share a constraint are in one block."""
    heads, tails = [], []
    for vars_, _, _, _ in rows:
        if len(vars_) > 1:
            heads.extend(vars_[:-1])
            tails.extend(vars_[1:])
    graph = coo_matrix((np.ones(len(heads)), (heads, tails)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


@dataclass
class Block:
    """One connected block of the system, ready for the solver."""

    index: dict[int, int]
    a_eq: object
    b_eq: np.ndarray
    a_ub: object
    b_ub: np.ndarray

    @classmethod
    def make(cls, variables: list[int], rows: list[Row]) -> Block:
        index = {v: i for i, v in enumerate(variables)}
        mats = {}
        for sense in ("eq", "ub"):
            data, ri, ci, rhs = [], [], [], []
            for vars_, coefs, s, b in rows:
                if s != sense:
                    continue
                r = len(rhs)
                rhs.append(b)
                for v, c in zip(vars_, coefs, strict=True):
                    ri.append(r)
                    ci.append(index[v])
                    data.append(c)
            mat = coo_matrix((data, (ri, ci)), shape=(len(rhs), len(index))).tocsr() if rhs else None
            mats[sense] = (mat, np.array(rhs, dtype=float))
        return cls(index, mats["eq"][0], mats["eq"][1], mats["ub"][0], mats["ub"][1])

    def objective(self, expr: Iterable[int], sign: float = 1.0) -> np.ndarray:
        c = np.zeros(len(self.index))
        for v in expr:
            c[self.index[v]] += sign
        return c

    def lp(self, c: np.ndarray) -> np.ndarray | None:
        """An optimal point minimising c.x, or None when unbounded."""
        res = linprog(
            c,
            A_ub=self.a_ub,
            b_ub=self.b_ub if self.a_ub is not None else None,
            A_eq=self.a_eq,
            b_eq=self.b_eq if self.a_eq is not None else None,
            bounds=(0, None),
            method="highs",
        )
        if res.status == 3:
            return None
        if res.status != 0:
            raise ReportError(f"the published figures do not fit together (solver: {res.message})")
        return res.x

    def ip(self, c: np.ndarray) -> float | None:
        cons = []
        if self.a_eq is not None:
            cons.append(LinearConstraint(self.a_eq, self.b_eq, self.b_eq))
        if self.a_ub is not None:
            cons.append(LinearConstraint(self.a_ub, -np.inf, self.b_ub))
        res = milp(c, constraints=cons, integrality=np.ones(len(c)), bounds=Bounds(0, np.inf))
        if res.status == 0:
            return float(res.fun)
        return None

    def range_of(self, expr: tuple[int, ...]) -> tuple[float, float]:
        """Least and greatest value of sum(expr): LP, settled by integer solves when narrow."""
        lo_c, hi_c = self.objective(expr), self.objective(expr, -1.0)
        x = self.lp(lo_c)
        lo = float(lo_c @ x) if x is not None else 0.0
        y = self.lp(hi_c)
        hi = -float(hi_c @ y) if y is not None else math.inf
        if hi - lo <= BORDERLINE:
            # A whole-number optimum of the LP is the integer optimum; otherwise solve for it.
            if not _whole(x):
                lo = self.ip(lo_c) if self.ip(lo_c) is not None else lo
            if y is not None and not _whole(y):
                got = self.ip(hi_c)
                hi = -got if got is not None else hi
        return lo, hi


def _whole(x: np.ndarray | None) -> bool:
    return x is not None and bool(np.all(np.abs(x - np.round(x)) < 1e-6))


def audit(
    system: System, keys: Iterable[Key] | None = None, touching: Iterable[Key] | None = None, seed: int = 0
) -> dict[Key, tuple[float, float]]:
    """Range of every hidden figure in ``keys`` (default: all hidden) that some family counts.

    ``touching``: only the blocks that hold one of these figures (what a new pack changed).
    """
    rows = system.rows()
    comp = _components(system.n, rows)
    wanted = [
        k
        for k in (keys if keys is not None else system.hidden)
        if system.hidden.get(k) and system.exprs.get(k)
    ]
    if touching is not None:
        blocks = {int(comp[e[0]]) for k in touching for e in system.exprs.get(k, ()) if e}
        wanted = [k for k in wanted if int(comp[system.exprs[k][0][0]]) in blocks]
    by_comp: dict[int, list[Key]] = {}
    for k in wanted:
        by_comp.setdefault(int(comp[system.exprs[k][0][0]]), []).append(k)
    rows_by_comp: dict[int, list[Row]] = {}
    for row in rows:
        c = int(comp[row[0][0]])
        if c in by_comp:
            rows_by_comp.setdefault(c, []).append(row)
    out: dict[Key, tuple[float, float]] = {}
    rng = random.Random(seed)
    for c, keys_here in by_comp.items():
        variables = [int(v) for v in np.flatnonzero(comp == c)]
        block = Block.make(variables, rows_by_comp.get(c, []))
        exprs = {k: system.exprs[k][0] for k in keys_here}
        # A few solves that move every hidden figure at once settle most of them: two
        # feasible points whose values differ by BORDERLINE or more prove the range.
        seen: dict[Key, list[float]] = {k: [] for k in keys_here}
        trials = 0 if len(keys_here) < 3 else min(12, 4 + len(keys_here) // 8)
        for trial in range(trials):
            signs = {
                k: (1.0 if trial == 0 else -1.0 if trial == 1 else rng.choice((1.0, -1.0))) for k in keys_here
            }
            cvec = np.zeros(len(variables))
            for k, e in exprs.items():
                cvec += block.objective(e, signs[k])
            x = block.lp(cvec)
            if x is None:
                continue
            for k, e in exprs.items():
                seen[k].append(float(sum(x[block.index[v]] for v in e)))
        for k in keys_here:
            whole = [round(v) for v in seen[k] if abs(v - round(v)) < 1e-6]
            if whole and max(whole) - min(whole) >= MIN_VALUES - 1:
                out[k] = (min(whole), max(whole))  # two whole points this far apart: enough
            else:
                out[k] = block.range_of(exprs[k])
    return out


def weak(ranges: dict[Key, tuple[float, float]]) -> list[Key]:
    return [k for k, (lo, hi) in ranges.items() if n_values(lo, hi) < MIN_VALUES]


def protect(
    model: Model,
    hidden: dict[Key, bool],
    new: set[Key],
    keep_hidden: set[Key] | frozenset = frozenset(),
    max_rounds: int = 200,
    changes: Iterable[Change] = (),
) -> dict[Key, bool]:
    """Hide more of the ``new`` figures until every hidden figure has MIN_VALUES possible values.

    ``keep_hidden``: figures that must stay hidden (small counts, figures hidden in earlier packs).
    A figure hidden here only to protect others that turns out to be given away by what earlier
    packs showed (so nothing hidden now can protect it) is shown after all: hiding it protects
    nothing, showing it tells no more than the earlier packs do.
    """
    system = System(model, hidden, changes)
    values = {k: model.value(k) for k in new if system.exprs.get(k)}
    released: set[Key] = set()
    # Hiding more only loosens the system, so a figure found safe stays safe: check it once.
    certified: set[Key] = set()
    for _ in range(max_rounds):
        todo = [k for k, h in system.hidden.items() if h and k not in certified]
        ranges = audit(system, keys=todo, touching=new)
        failing = weak(ranges)
        certified |= set(ranges) - set(failing)
        if not failing:
            return system.hidden
        grew = False
        rows = system.rows()
        comp = _components(system.n, rows)
        for k in failing:
            pick = _candidate(system, rows, comp, k, new - released, values)
            if pick is not None and not system.hidden[pick]:
                system.set_hidden(pick)
                grew = True
        if grew:
            continue
        loose = [k for k in failing if k in new and k not in keep_hidden]
        if not loose:
            raise ReportError(
                "cannot protect the published figures: a hidden figure of an earlier pack would be "
                "worked out; see the ledger beside the tracker"
            )
        for k in loose:
            system.set_shown(k)
            released.add(k)
        certified = set()  # showing tightens the system: check everything again
    raise ReportError("cannot protect the published figures (too many rounds)")


def _candidate(
    system: System, rows: list[Row], comp: np.ndarray, k: Key, new: set[Key], values: dict[Key, int]
) -> Key | None:
    """The new shown figure nearest ``k``, smallest first: one counting some of the same atoms, else
    one in a constraint with them, else any in the same block of the system."""
    near = {a for e in system.exprs[k] for a in e}
    touching = set(near)
    for row in rows:
        if near.intersection(row[0]):
            touching.update(row[0])
    block = int(comp[system.exprs[k][0][0]])
    best = None
    for c in new:
        if system.hidden.get(c) or not values.get(c) or not system.exprs.get(c):
            continue
        atoms = {a for e in system.exprs[c] for a in e}
        if atoms & near:
            place = 0
        elif atoms & touching:
            place = 1
        elif any(int(comp[e[0]]) == block for e in system.exprs[c]):
            place = 2
        else:
            continue
        rank = (place, values[c], len(atoms), c)
        if best is None or rank < best[0]:
            best = (rank, c)
    return best[1] if best else None


# -- the ledger --------------------------------------------------------------------------------


def ledger_path(tracker: Path) -> Path:
    return tracker.with_name(f"{tracker.stem} published figures.json")


def read_ledger(path: Path) -> dict[Key, tuple[bool, int | None]]:
    """Key -> (hidden, shown value or None): what earlier packs published."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        out = {}
        for f in data["figures"]:
            k = (f["measure"], f["from"], f["to"], tuple(tuple(p) for p in f["where"]))
            out[k] = (f["shown"] == "c", None if f["shown"] == "c" else int(f["shown"]))
        return out
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ReportError(f"{path}: the ledger of published figures cannot be read ({e})") from None


def write_ledger(path: Path, figures: dict[Key, tuple[bool, int | None]], packs: list[str]) -> None:
    """Keys, shown values and which were hidden; never a hidden value. Written atomically."""
    rows = [
        {
            "measure": k[0],
            "from": k[1],
            "to": k[2],
            "where": [list(p) for p in k[3]],
            "shown": "c" if h else v,
        }
        for k, (h, v) in sorted(figures.items())
    ]
    data = {
        "about": "Figures published by cstracker report --publish: which were shown (with the value) and "
        "which were hidden (c). Kept so that a figure hidden once stays hidden. Hidden values are never "
        "stored here.",
        "packs": sorted(set(packs)),
        "figures": rows,
    }
    text = json.dumps(data, indent=1, ensure_ascii=False)
    try:  # through the one atomic write (safety.atomic_write)
        atomic_write(
            path, lambda tmp: tmp.write_text(text, encoding="utf-8"), check_parts=None, keep_backups=0
        )
    except OSError as e:
        raise ReportError(
            f"{path}: cannot write the ledger of published figures ({e.strerror or e})"
        ) from None


def read_packs(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("packs", []))
    except (OSError, ValueError):
        return []


__all__ = [
    "MIN_VALUES",
    "System",
    "audit",
    "protect",
    "read_ledger",
    "write_ledger",
    "ledger_path",
    "month_code",
]
