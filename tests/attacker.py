"""An outside analyst with every published pack and a linear-programming solver.

Written for the tests, apart from the suppression code (it imports nothing of
cstracker's): it reads the *written* workbooks only, works out from each table's
title, row and column labels what every cell counts, and builds its own linear
system. Unknowns:

* per month, the referrals received and the consultations held (``T``);
* per quarter, each breakdown's cells (``B``): the concern of referrals, their
  decision, team x decision, each young-person attribute x concern, themes, pairs of
  themes, interventions, actions. A finer split (by month) adds nothing: no breakdown
  is published by month, and any quarter split of a breakdown can be spread over its
  months to match the months' totals (a transportation problem with equal margins).

What it knows: shown figures are exact; a ``c`` is a whole number >= 1; every count
is >= 0; a figure over several months or quarters is their sum; categories add up to
totals; the same count seen in two tables is one unknown (margins shared between
breakdowns agree); a theme, an intervention, an action or a repeat referral never
exceeds its total, a pair of themes never exceeds either theme. It then asks
SciPy's HiGHS for the least and greatest value of every hidden figure (settling
narrow ranges with an integer solve). Where two feasible whole solutions already
put a figure 4 or more apart, it stops there: that figure has at least 5 values,
and the bounds it reports are then inner bounds of the true range.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix

MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))}  # fmt: skip
YP_ATTRS = {"Age band": "age", "Gender": "gender", "Ethnicity": "ethnicity", "Legal status": "legal",
            "Education": "education"}  # fmt: skip


#: a range this wide (5 whole values or more) needs no exact solve; narrower ones are solved exactly
WIDE = 4


def span_of(label: str) -> tuple[int, int]:
    """Months (index = year * 12 + month - 1) a period label covers: 2026-10, 2026-Q3, 2026, Nov 2025,
    Jul to Sep 2026, Oct 2025 to Sep 2026."""
    label = label.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        i = int(m[1]) * 12 + int(m[2]) - 1
        return i, i
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        i = int(m[1]) * 12 + 3 * (int(m[2]) - 1)
        return i, i + 2
    if m := re.fullmatch(r"(\d{4})", label):
        return int(m[1]) * 12, int(m[1]) * 12 + 11
    if m := re.fullmatch(r"([A-Z][a-z]{2}) (\d{4})", label):
        i = int(m[2]) * 12 + MONTHS[m[1]]
        return i, i
    if m := re.fullmatch(r"([A-Z][a-z]{2}) to ([A-Z][a-z]{2}) (\d{4})", label):
        return int(m[3]) * 12 + MONTHS[m[1]], int(m[3]) * 12 + MONTHS[m[2]]
    if m := re.fullmatch(r"([A-Z][a-z]{2}) (\d{4}) to ([A-Z][a-z]{2}) (\d{4})", label):
        return int(m[2]) * 12 + MONTHS[m[1]], int(m[4]) * 12 + MONTHS[m[3]]
    raise ValueError(f"not a period: {label!r}")


def span_in_title(title: str) -> tuple[int, int]:
    if m := re.search(r"(\d{4}-Q[1-4])", title):
        return span_of(m[1])
    if m := re.search(r"\b([A-Z][a-z]+) to ([A-Z][a-z]+) (\d{4})\b", title):  # "July to September 2026"
        return span_of(f"{m[1][:3]} to {m[2][:3]} {m[3]}")
    if m := re.search(r"in (\d{4})\b|\((\d{4})\)", title):
        return span_of(m[1] or m[2])
    raise ValueError(f"no period in {title!r}")


@dataclass
class Parsed:
    sheet: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list]]


def tables_of(path: Path) -> list[Parsed]:
    """Every table of a written report, as a reader finds it: each Excel Table (its header row first,
    the row labels in its first column), titled by the top line of the text just above it in column A
    (the title, then an optional note)."""
    from openpyxl.utils import range_boundaries

    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        found = []
        for table in ws.tables.values():
            first_col, header, last_col, last_row = range_boundaries(table.ref)
            cols = [str(ws.cell(header, c).value) for c in range(first_col + 1, last_col + 1)]
            above, r = [], header - 1
            while r >= 1 and isinstance(ws.cell(r, first_col).value, str) and ws.cell(r, first_col).value:
                above.append(ws.cell(r, first_col).value)
                r -= 1
            body = [
                (
                    str(ws.cell(r, first_col).value),
                    [ws.cell(r, c).value for c in range(first_col + 1, last_col + 1)],
                )
                for r in range(header + 1, last_row + 1)
            ]
            found.append((header, Parsed(ws.title, above[-1], cols, body)))
        out.extend(p for _, p in sorted(found, key=lambda x: x[0]))
    return out


@dataclass
class Attack:
    """The reader's system: atoms, constraints, and every figure seen (hidden or shown)."""

    atoms: dict[tuple, int] = field(default_factory=dict)
    eq: list[tuple[list[int], list[float], float]] = field(default_factory=list)
    ub: list[tuple[list[int], list[float], float]] = field(default_factory=list)
    shown: dict[tuple, int] = field(default_factory=dict)
    hidden: set = field(default_factory=set)
    #: shown changes: (figure now, figure then, "diff" | "pct", value): now - then = value, or
    #: now - then = value * then (a % change is exact in the cell, whatever its format shows)
    changes: list[tuple] = field(default_factory=list)
    exprs: dict[tuple, list[int]] = field(default_factory=dict)
    cats: dict[str, list[str]] = field(default_factory=dict)
    quarters: set = field(default_factory=set)
    months: set = field(default_factory=set)
    flags: dict[str, set] = field(default_factory=dict)
    cells_seen: int = 0
    hidden_seen: int = 0
    tables_seen: int = 0
    problems: list[str] = field(default_factory=list)

    def atom(self, *name) -> int:
        if name not in self.atoms:
            self.atoms[name] = len(self.atoms)
        return self.atoms[name]

    # -- reading ------------------------------------------------------------------------------------

    def see(self, fig: tuple, value) -> None:
        """A published cell counting ``fig`` = (measure, first month, last month, frozenset(condition))."""
        self.cells_seen += 1
        if value == "c":
            self.hidden_seen += 1
            self.hidden.add(fig)
            if fig in self.shown:
                self.problems.append(f"{fig} shown as {self.shown[fig]} and hidden elsewhere")
        elif isinstance(value, int | float):
            v = int(value)
            if fig in self.shown and self.shown[fig] != v:
                self.problems.append(f"{fig} shown as {self.shown[fig]} and {v}")
            self.shown[fig] = v
        else:
            self.problems.append(f"{fig}: unexpected cell {value!r}")

    def read_pack(self, path: Path) -> None:
        for t in tables_of(path):
            self.tables_seen += 1
            self._table(t)

    def _table(self, t: Parsed) -> None:
        title = t.title
        if title == "Referrals received and consultations held":
            for label, values in t.rows:
                measure = "recv" if label.startswith("Referrals") else "cons"
                now = (measure, *span_of(t.columns[0]), frozenset())
                for col, v in zip(t.columns, values, strict=True):
                    if m := re.fullmatch(r"(%? ?)[Cc]hange since (.+)", col):
                        if isinstance(v, int | float):  # a blank or a c tells nothing
                            then = (measure, *span_of(m[2]), frozenset())
                            self.changes.append((now, then, "pct" if m[1] else "diff", float(v)))
                        continue
                    self.see((measure, *span_of(col), frozenset()), v)
        elif title == "The last 12 months":
            for label, values in t.rows:
                for col, v in zip(t.columns, values, strict=True):
                    self.see(
                        ("recv" if col.startswith("Referrals") else "cons", *span_of(label), frozenset()), v
                    )
        elif title.startswith("Suitability decision on referrals received in"):
            span = span_of(t.columns[0])
            for label, (v,) in t.rows:
                cond = frozenset() if label == "Referrals received" else frozenset({("decision", label)})
                self._cat("decision", label, label != "Referrals received")
                self.see(("recv", *span, cond), v)
        elif title.startswith("Consultations, follow-ups and repeat referrals in"):
            span = span_of(t.columns[0])
            for label, (v,) in t.rows:
                if label == "Consultations held":
                    self.see(("cons", *span, frozenset()), v)
                elif label == "Follow-ups due":
                    self.see(("due", *span, frozenset()), v)
                else:
                    self.see(("recv", *span, frozenset({("repeat", "yes")})), v)
        elif title.startswith(("Time to consultation", "Share of consultations with each theme")):
            return  # shares and medians: checked against their counts by the tests
        elif title.startswith("Referrals received per quarter by primary concern"):
            for label, values in t.rows:
                for col, v in zip(t.columns, values, strict=True):
                    cond = frozenset() if col == "Total" else frozenset({("concern", col)})
                    self._cat("concern", col, col != "Total")
                    self.see(("recv", *span_of(label), cond), v)
        elif title in ("Consultations per theme per quarter", "Consultations held per quarter"):
            spans = self._columns_as_spans(t.columns)
            for label, values in t.rows:
                cond = frozenset() if label == "Consultations held" else frozenset({("theme", label)})
                for span, v in zip(spans, values, strict=True):
                    self.see(("cons", *span, cond), v)
        elif title.startswith("Themes that travel together"):
            span = span_in_title(title)
            for label, values in t.rows:
                for col, v in zip(t.columns, values, strict=True):
                    self.see(("cons", *span, frozenset({("theme", label), ("theme", col)})), v)
        elif title.startswith("Referrals received in") and "referrer team" in title:
            span = span_in_title(title)
            for label, values in t.rows:
                for col, v in zip(t.columns, values, strict=True):
                    if col.startswith("Share"):
                        continue
                    cond = set()
                    if label != "Total":
                        cond.add(("team", label))
                        self._cat("team", label)
                    if col != "Referrals received":
                        cond.add(("decision", col))
                        self._cat("decision", col)
                    self.see(("recv", *span, frozenset(cond)), v)
        elif (attr := title.split(" (")[0].split(" by primary concern")[0]) in YP_ATTRS:
            dim, span = YP_ATTRS[attr], span_in_title(title)
            for label, values in t.rows:
                for col, v in zip(t.columns, values, strict=True):
                    cond = set()
                    if label != "Total":
                        cond.add((dim, label))
                        self._cat(dim, label)
                    if col not in ("Total", "Referrals received"):
                        cond.add(("concern", col))
                        self._cat("concern", col)
                    self.see(("recv", *span, frozenset(cond)), v)
        elif title.startswith("Do the actions match"):
            span = span_in_title(title)
            for label, values in t.rows:
                for col, v in zip(t.columns, values, strict=True):
                    cond = set() if label == "Total" else {("cconcern", label)}
                    if label != "Total":
                        self._cat("cconcern", label)
                    if col.startswith("Action agreed"):
                        cond.add(("action", "yes"))
                    elif col.startswith("No action"):
                        cond.add(("action", "no"))
                    elif label == "Total":
                        cond.add(("action", "any"))
                    self.see(("cons", *span, frozenset(cond)), v)
        elif title.startswith("Agreed actions by context"):
            span = span_in_title(title)
            for label, (v,) in t.rows:
                self.see(("cons", *span, frozenset({("action_for", label)})), v)
        elif title.startswith("Interventions offered"):
            span = span_in_title(title)
            for label, values in t.rows:
                self.see(("cons", *span, frozenset({("intervention", label)})), values[0])
        elif title.startswith("Days between referral, decision and consultation"):
            span = span_in_title(title)
            figs = {
                "Referral to decision": ("decided", *span, frozenset()),
                "Decision to consultation": ("cons", *span, frozenset({("dated", "decision")})),
                "Referral to consultation": ("cons", *span, frozenset()),
            }
            for label, values in t.rows:
                self.see(figs[label], values[0])
        else:
            self.problems.append(f"{t.sheet}: a table the attack cannot read: {title!r}")

    def _columns_as_spans(self, columns: list[str]) -> list[tuple[int, int]]:
        spans = [span_of(c) if c != "Total" else None for c in columns]
        known = [s for s in spans if s]
        return [s if s else (min(a for a, _ in known), max(b for _, b in known)) for s in spans]

    def _cat(self, dim: str, value: str, real: bool = True) -> None:
        if real and value not in self.cats.setdefault(dim, []):
            self.cats[dim].append(value)

    # -- the system ---------------------------------------------------------------------------------

    def expr(self, fig: tuple) -> list[int]:
        """Atoms whose sum is ``fig``."""
        measure, a, b, cond = fig
        cond = dict(sorted(cond)) if len({d for d, _ in cond}) == len(cond) else None
        if fig[3] and cond is None:  # two themes
            (_, t1), (_, t2) = sorted(fig[3])
            return [self.atom("pair", q, t1, t2) for q in self._quarters(a, b)]
        if not cond:
            if measure in ("recv", "cons"):
                for m in range(a, b + 1):
                    self.months.add(m)
                return [self.atom("T", measure, m) for m in range(a, b + 1)]
            return [self.atom(measure, q) for q in self._quarters(a, b)]
        qs = self._quarters(a, b)
        (d0, v0), *rest = cond.items()
        if measure == "cons":
            if d0 == "theme":
                return [self.atom("theme", q, v0) for q in qs]
            if d0 in ("intervention", "action_for", "dated"):
                return [self.atom(d0, q, v0) for q in qs]
            # actions by the context of the primary concern: (cconcern x action)
            acts = ["yes", "no"] if cond.get("action", "any") == "any" else [cond["action"]]
            ctxs = [cond["cconcern"]] if "cconcern" in cond else self.cats["cconcern"]
            return [self.atom("act", q, c, x) for q in qs for c in ctxs for x in acts]
        if d0 == "repeat":
            return [self.atom("repeat", q) for q in qs]
        keys = set(cond)
        if keys == {"concern"}:
            return [self.atom("recv:concern", q, cond["concern"]) for q in qs]
        if keys == {"decision"}:
            return [self.atom("recv:decision", q, cond["decision"]) for q in qs]
        if keys <= {"team", "decision"}:
            teams = [cond["team"]] if "team" in cond else self.cats["team"]
            decs = [cond["decision"]] if "decision" in cond else self.cats["decision"]
            return [self.atom("recv:team", q, t, d) for q in qs for t in teams for d in decs]
        (dim,) = keys - {"concern"}
        concerns = [cond["concern"]] if "concern" in cond else self.cats["concern"]
        return [self.atom(f"recv:{dim}", q, cond[dim], c) for q in qs for c in concerns]

    def _quarters(self, a: int, b: int) -> list[int]:
        assert a % 3 == 0 and (b + 1) % 3 == 0, f"a breakdown over part of a quarter: {a}..{b}"
        qs = list(range(a // 3, (b + 1) // 3))
        self.quarters.update(qs)
        return qs

    def build(self) -> None:
        for fig in set(self.shown) | self.hidden | {f for ch in self.changes for f in ch[:2]}:
            e = self.exprs[fig] = self.expr(fig)
            if fig in self.hidden:
                self.ub.append((e, [-1.0] * len(e), -1.0))
            elif fig in self.shown:
                self.eq.append((e, [1.0] * len(e), float(self.shown[fig])))
        for now, then, kind, v in self.changes:
            a, b = self.exprs[now], self.exprs[then]
            if kind == "diff":
                self.eq.append((a + b, [1.0] * len(a) + [-1.0] * len(b), v))
            else:  # (now - then) / then = v
                self.eq.append((a + b, [1.0] * len(a) + [-(1.0 + v)] * len(b), 0.0))
        for q in sorted(self.quarters):
            months = [m for m in range(3 * q, 3 * q + 3)]
            for measure in ("recv", "cons"):
                total = [self.atom("T", measure, m) for m in months]
                if measure == "recv":
                    parts = [
                        [self.atom("recv:concern", q, c) for c in self.cats.get("concern", [])],
                        [self.atom("recv:decision", q, d) for d in self.cats.get("decision", [])],
                    ]
                    for p in parts:
                        if p:
                            self._same(p, total)
                    for d in self.cats.get("decision", []):
                        self._same(
                            [self.atom("recv:team", q, t, d) for t in self.cats.get("team", [])],
                            [self.atom("recv:decision", q, d)],
                        )
                    for dim in YP_ATTRS.values():
                        for c in self.cats.get("concern", []):
                            if self.cats.get(dim):
                                self._same(
                                    [self.atom(f"recv:{dim}", q, x, c) for x in self.cats[dim]],
                                    [self.atom("recv:concern", q, c)],
                                )
                    self._at_most([self.atom("repeat", q)], total)
                else:
                    acts = [
                        self.atom("act", q, c, x)
                        for c in self.cats.get("cconcern", [])
                        for x in ("yes", "no")
                    ]
                    self._at_most(acts, total)
                    for name, q_, *rest in list(self.atoms):
                        if q_ == q and name in ("theme", "intervention", "action_for", "dated"):
                            self._at_most([self.atom(name, q_, *rest)], total)
                        if q_ == q and name == "pair":
                            for t in rest:
                                self._at_most([self.atom(name, q_, *rest)], [self.atom("theme", q_, t)])

    def _same(self, a: list[int], b: list[int]) -> None:
        self.eq.append((a + b, [1.0] * len(a) + [-1.0] * len(b), 0.0))

    def _at_most(self, a: list[int], b: list[int]) -> None:
        self.ub.append((a + b, [1.0] * len(a) + [-1.0] * len(b), 0.0))

    def ranges(self) -> dict[tuple, tuple[float, float]]:
        """Least and greatest value of every hidden figure."""
        self.build()
        n = len(self.atoms)
        parent = list(range(n))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for vars_, _, _ in self.eq + self.ub:
            for v in vars_[1:]:
                parent[find(v)] = find(vars_[0])
        comp = [find(i) for i in range(n)]
        rng = random.Random(1)
        out = {}
        groups: dict[int, list[tuple]] = {}
        for fig in self.hidden:
            groups.setdefault(comp[self.exprs[fig][0]], []).append(fig)
        members: dict[int, list[int]] = {}
        for i, r in enumerate(comp):
            if r in groups:
                members.setdefault(r, []).append(i)
        eq_of: dict[int, list] = {}
        ub_of: dict[int, list] = {}
        for rows, into in ((self.eq, eq_of), (self.ub, ub_of)):
            for row in rows:
                if comp[row[0][0]] in groups:
                    into.setdefault(comp[row[0][0]], []).append(row)
        for root, figs in groups.items():
            index = {v: j for j, v in enumerate(members[root])}
            a_eq, b_eq = _matrix(eq_of.get(root, []), index)
            a_ub, b_ub = _matrix(ub_of.get(root, []), index)
            # A few solves that push every hidden figure of the block up or down at once: two
            # feasible whole points this far apart already show enough values; the rest are solved exactly.
            seen: dict[tuple, list[float]] = {fig: [] for fig in figs}
            for trial in range(min(10, 2 + len(figs) // 10) if len(figs) > 3 else 0):
                c = np.zeros(len(index))
                signs = {
                    fig: (1 if trial == 0 else -1 if trial == 1 else rng.choice((1, -1))) for fig in figs
                }
                for fig in figs:
                    for v in self.exprs[fig]:
                        c[index[v]] += signs[fig]
                res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
                if res.status != 0:
                    continue
                for fig in figs:
                    seen[fig].append(sum(res.x[index[v]] for v in self.exprs[fig]))
            for fig in figs:
                whole = [round(x) for x in seen[fig] if abs(x - round(x)) < 1e-6]
                if whole and max(whole) - min(whole) >= WIDE:
                    out[fig] = (min(whole), max(whole))
                    continue
                c = np.zeros(len(index))
                for v in self.exprs[fig]:
                    c[index[v]] += 1
                low = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
                assert low.status == 0, f"infeasible or failed: {fig} {low.message}"
                high = linprog(
                    -c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs"
                )
                lo, hi = low.fun, (math.inf if high.status == 3 else -high.fun)
                if hi - lo < WIDE:  # close: the whole-number answer decides
                    cons = [LinearConstraint(a_eq, b_eq, b_eq), LinearConstraint(a_ub, -np.inf, b_ub)]
                    whole = np.ones(len(index))
                    # an LP optimum at a whole-number point is already the integer optimum
                    if not _integral(low.x):
                        lo = milp(c, constraints=cons, integrality=whole, bounds=Bounds(0, np.inf)).fun
                    if not _integral(high.x):
                        hi = -milp(-c, constraints=cons, integrality=whole, bounds=Bounds(0, np.inf)).fun
                out[fig] = (lo, hi)
        return out


def _integral(x) -> bool:
    return x is not None and bool(np.all(np.abs(x - np.round(x)) < 1e-6))


def _matrix(rows: list, index: dict[int, int]):
    data, ri, ci = [], [], []
    for k, (vars_, coefs, _) in enumerate(rows):
        for v, c in zip(vars_, coefs, strict=True):
            ri.append(k)
            ci.append(index[v])
            data.append(c)
    mat = coo_matrix((data, (ri, ci)), shape=(max(len(rows), 1), len(index))).tocsr()
    return mat, np.array([r[2] for r in rows] or [0.0])


def possible_values(lo: float, hi: float) -> float:
    return math.inf if hi == math.inf else math.floor(hi + 1e-6) - math.ceil(lo - 1e-6) + 1
