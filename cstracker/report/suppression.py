"""Small-count suppression for published tables: primary and secondary.

A published count from 1 up to the threshold is shown as ``c`` (primary
suppression). That alone is not enough: with a row total published, a single
hidden cell is the total minus the others. So more cells are hidden
(secondary suppression) until no hidden cell can be worked out from the
published cells of its rows and columns, even by someone who knows that every
hidden count is at least 1 (true zeros stay 0, so a ``c`` is never 0).

How it is decided. A table with totals is a set of equations: each interior row
sums to its row total, each column to its column total, the totals to the grand
total. Think of rows and columns as nodes and hidden cells as edges. If a hidden
cell lies on a cycle of hidden cells, adding 1 and taking 1 alternately around
the cycle keeps every equation true, so the published table also fits another
value of that cell: it cannot be worked out. The cycle is only usable in a
direction in which no cell would fall below 1. A cell with such a cycle has a
*certificate*; a cell without one gets one by hiding the cheapest published
cells that close a cycle (a shortest-path search), preferring small interior
counts over totals. Lines without an equation (a table without row totals has
no row equations) are merged into one free node, which needs no balancing.

This is sound (a certificate is an explicit second table that fits everything
published) but conservative: a cell may occasionally be hidden that an exact
solver would have found safe.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FREE = ("free", 0)
_INTERIOR, _TOTAL, _GRAND = 1_000, 5_000, 20_000


@dataclass
class Protected:
    """A grid after suppression; ``hidden[i][j]`` True means show ``c``."""

    values: list[list[int]]
    hidden: list[list[bool]]
    primary: list[list[bool]]

    def shown(self, symbol: str = "c") -> list[list[int | str]]:
        return [
            [symbol if h else v for v, h in zip(row, hrow, strict=True)]
            for row, hrow in zip(self.values, self.hidden, strict=True)
        ]


@dataclass(frozen=True)
class _Cell:
    i: int
    j: int
    value: int
    sign: int  # +1 interior or grand total, -1 a row or column total
    cost: int
    row_node: tuple
    col_node: tuple

    def arcs(self) -> list[tuple[tuple, tuple]]:
        """Directed moves through this cell that keep it at 1 or more."""
        out = []
        # row -> column adds 1 to the equation variable; the count moves by ``sign``.
        if self.sign > 0 or self.value >= 2:
            out.append((self.row_node, self.col_node))
        if self.sign < 0 or self.value >= 2:
            out.append((self.col_node, self.row_node))
        return out


def _check(grid: list[list[int]], row_totals: bool, col_totals: bool) -> None:
    for row in grid:
        for v in row:
            if v < 0:
                raise ValueError("counts must not be negative")
    if row_totals:
        rows = grid if not col_totals else grid[:-1]
        for r, row in enumerate(rows):
            if sum(row[:-1]) != row[-1]:
                raise ValueError(f"row {r}: the last column is not the row's total")
        if col_totals and sum(grid[-1][:-1]) != grid[-1][-1]:
            raise ValueError("the grand total is not the sum of the column totals")
    if col_totals:
        cols = len(grid[0]) - (1 if row_totals else 0)
        for c in range(cols):
            if sum(grid[r][c] for r in range(len(grid) - 1)) != grid[-1][c]:
                raise ValueError(f"column {c}: the last row is not the column's total")


def _cells(grid: list[list[int]], row_totals: bool, col_totals: bool) -> list[list[_Cell]]:
    n_rows, n_cols = len(grid), len(grid[0])
    out = []
    for i in range(n_rows):
        in_total_row = col_totals and i == n_rows - 1
        line = []
        for j in range(n_cols):
            in_total_col = row_totals and j == n_cols - 1
            if in_total_row and in_total_col:
                sign, cost = 1, _GRAND
            elif in_total_row or in_total_col:
                sign, cost = -1, _TOTAL
            else:
                sign, cost = 1, _INTERIOR
            # A row is an equation only when row totals are published (the totals
            # row itself only when the grand total is); likewise for columns.
            row_node = ("r", i) if row_totals and (not in_total_row or col_totals) else FREE
            col_node = ("c", j) if col_totals and (not in_total_col or row_totals) else FREE
            v = int(grid[i][j])
            line.append(_Cell(i, j, v, sign, cost + v, row_node, col_node))
        out.append(line)
    return out


Graph = dict[tuple, list[tuple[tuple, "_Cell"]]]


def _graph(flat: list[_Cell]) -> Graph:
    """Every allowed move through every non-zero cell (true zeros are never hidden)."""
    graph: Graph = {}
    for cell in flat:
        if cell.value:
            for a, b in cell.arcs():
                graph.setdefault(a, []).append((b, cell))
    return graph


def _path(
    graph: Graph, hidden: set[tuple[int, int]], skip: _Cell, source: tuple, target: tuple
) -> tuple[float, list[_Cell]]:
    """Cheapest directed path source -> target avoiding ``skip``; hidden cells are free, published ones cost."""
    best = {source: 0}
    back: dict[tuple, tuple[tuple, _Cell]] = {}
    queue = [(0, 0, source)]
    tie = 0
    while queue:
        dist, _, node = heapq.heappop(queue)
        if node == target:
            path = []
            while node != source:
                node, cell = back[node]
                path.append(cell)
            return dist, path
        if dist > best.get(node, float("inf")):
            continue
        for nxt, cell in graph.get(node, ()):
            if cell is skip:
                continue
            nd = dist + (0 if (cell.i, cell.j) in hidden else cell.cost)
            if nd < best.get(nxt, float("inf")):
                best[nxt] = nd
                back[nxt] = (node, cell)
                tie += 1
                heapq.heappush(queue, (nd, tie, nxt))
    return float("inf"), []


def _certify(cell: _Cell, graph: Graph, hidden: set[tuple[int, int]]) -> tuple[float, list[_Cell]]:
    """(extra cost, the other cells of the cheapest cycle through ``cell``)."""
    if cell.row_node == cell.col_node:
        return 0, []
    best: tuple[float, list[_Cell]] = (float("inf"), [])
    for a, b in cell.arcs():
        found = _path(graph, hidden, cell, b, a)
        if found[0] < best[0]:
            best = found
    return best


def protect(
    grid: Sequence[Sequence[int]],
    threshold: int,
    row_totals: bool = False,
    col_totals: bool = False,
    forced: Iterable[tuple[int, int]] = (),
) -> Protected:
    """Suppress ``grid`` (totals already in its last column/row when the flags say so).

    ``forced``: cells to hide whatever their value (except true zeros), e.g. because the
    same figure is hidden in another table.
    """
    values = [[int(v) for v in row] for row in grid]
    if not values or not values[0]:
        return Protected(values, [[False] * len(r) for r in values], [[False] * len(r) for r in values])
    _check(values, row_totals, col_totals)
    flat = [c for row in _cells(values, row_totals, col_totals) for c in row]
    graph = _graph(flat)
    primary = [[1 <= v <= threshold for v in row] for row in values]
    hidden = {(c.i, c.j) for c in flat if primary[c.i][c.j]}
    hidden |= {(i, j) for i, j in forced if values[i][j] != 0}
    # Hiding more never breaks a cycle, so a certified cell stays certified.
    certified: set[tuple[int, int]] = set()
    changed = True
    while changed:
        changed = False
        for cell in sorted((c for c in flat if (c.i, c.j) in hidden), key=lambda c: (c.value, c.i, c.j)):
            if (cell.i, cell.j) in certified:
                continue
            cost, cycle = _certify(cell, graph, hidden)
            if cost == float("inf"):
                extra = {(c.i, c.j) for c in flat if c.value} - hidden
                hidden |= extra
                changed = changed or bool(extra)
                continue
            new = {(c.i, c.j) for c in cycle} - hidden
            hidden |= new
            certified |= {(cell.i, cell.j)} | {(c.i, c.j) for c in cycle}
            changed = changed or bool(new)
    mask = [[(i, j) in hidden for j in range(len(values[0]))] for i in range(len(values))]
    return Protected(values, mask, primary)


def uncertified(
    grid: Sequence[Sequence[int]],
    hidden: Sequence[Sequence[bool]],
    row_totals: bool = False,
    col_totals: bool = False,
) -> list[tuple[int, int]]:
    """Hidden cells that have no certificate (should be none after ``protect``)."""
    values = [[int(v) for v in row] for row in grid]
    flat = [c for row in _cells(values, row_totals, col_totals) for c in row]
    mask = {(c.i, c.j) for c in flat if hidden[c.i][c.j]}
    hidden_cells = [c for c in flat if (c.i, c.j) in mask]
    graph = _graph(hidden_cells)
    return [(c.i, c.j) for c in hidden_cells if _certify(c, graph, mask)[0] != 0]


def protect_tables(tables: Iterable, threshold: int, max_rounds: int = 50) -> dict[str, set[tuple[str, str]]]:
    """Hidden (row, column) cells of each report table (``report/data.py`` Table) to publish.

    Count blocks are protected table by table; a figure hidden in one table is then
    forced hidden wherever else it appears (same id), until nothing changes. Shares
    and statistics are hidden when a count they are worked out from is hidden, or
    when they summarise a small number of cases.
    """
    tables = [t for t in tables if not t.internal]
    hidden_ids: set[str] = set()
    hidden: dict[str, set[tuple[str, str]]] = {t.key: set() for t in tables}
    for _ in range(max_rounds):
        grew = False
        for t in tables:
            if not t.counts or t.data.empty:
                continue
            rows, cols = [str(r) for r in t.data.index], list(t.counts)
            grid = t.data[cols].fillna(0).astype(int).to_numpy().tolist()
            forced = [
                (i, j)
                for i, r in enumerate(rows)
                for j, c in enumerate(cols)
                if t.cell_id(r, c) in hidden_ids
            ]
            result = protect(grid, threshold, t.row_totals, t.col_totals, forced)
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    if result.hidden[i][j]:
                        hidden[t.key].add((r, c))
                        fid = t.cell_id(r, c)
                        if fid not in hidden_ids:
                            hidden_ids.add(fid)
                            grew = True
        if not grew:
            break
    for t in tables:
        for cell, ids in t.basis.items():
            if any(i in hidden_ids for i in ids) or 1 <= t.n.get(cell, threshold + 1) <= threshold:
                hidden[t.key].add(cell)
    return hidden
