"""Primary and secondary suppression, and an independent attack that tries to undo it.

The attack is written here, separately from the algorithm: it knows only the
published grid (numbers and "c"), which lines carry totals, and that a "c" is
a whole number of at least 1 (zeros are published). It first tightens every
hidden cell's bounds by constraint propagation over the row and column
equations, then, for each hidden cell, searches for a table that fits
everything published but gives that cell a different value. A cell for which
no such table exists is recovered.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cstracker.report.suppression import protect, uncertified

HIDDEN = "c"


class Inconclusive(Exception):
    pass


def _equations(grid, row_totals, col_totals):
    """Each equation as [(cell, coefficient)], summing to 0, over the published layout."""
    n_rows, n_cols = len(grid), len(grid[0])
    eqs = []
    # With both totals the totals row and column carry equations too (they meet at the grand total).
    if row_totals:
        for i in range(n_rows):
            eqs.append([((i, j), 1) for j in range(n_cols - 1)] + [((i, n_cols - 1), -1)])
    if col_totals:
        for j in range(n_cols):
            eqs.append([((i, j), 1) for i in range(n_rows - 1)] + [((n_rows - 1, j), -1)])
    return eqs


def _propagate(eqs, grid, bounds):
    """Tighten bounds in place; False when the bounds admit no table."""
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            const = -sum(coef * grid[i][j] for (i, j), coef in eq if grid[i][j] != HIDDEN)
            unknown = [(cell, coef) for cell, coef in eq if grid[cell[0]][cell[1]] == HIDDEN]
            low = {cell: min(c * bounds[cell][0], c * bounds[cell][1]) for cell, c in unknown}
            high = {cell: max(c * bounds[cell][0], c * bounds[cell][1]) for cell, c in unknown}
            all_low, all_high = sum(low.values()), sum(high.values())
            for cell, coef in unknown:
                lo_rest, hi_rest = all_low - low[cell], all_high - high[cell]
                # coef * x = const - rest
                a, b = (const - hi_rest) * coef, (const - lo_rest) * coef
                lo, hi = max(bounds[cell][0], min(a, b)), min(bounds[cell][1], max(a, b))
                if lo > hi:
                    return False
                if (lo, hi) != bounds[cell]:
                    bounds[cell] = (lo, hi)
                    changed = True
    return True


def _solve(eqs, grid, bounds, budget):
    """A table (hidden cell -> value) fitting the equations within ``bounds``, or None."""
    budget[0] -= 1
    if budget[0] < 0:
        raise Inconclusive
    bounds = dict(bounds)
    if not _propagate(eqs, grid, bounds):
        return None
    open_cells = [c for c, (lo, hi) in bounds.items() if lo < hi]
    if not open_cells:
        values = [[bounds.get((i, j), (v, v))[0] for j, v in enumerate(row)] for i, row in enumerate(grid)]
        if all(sum(coef * values[i][j] for (i, j), coef in eq) == 0 for eq in eqs):
            return {c: lo for c, (lo, _) in bounds.items()}
        return None
    cell = min(open_cells, key=lambda c: bounds[c][1] - bounds[c][0])
    lo, hi = bounds[cell]
    return _solve(eqs, grid, {**bounds, cell: (lo, lo)}, budget) or _solve(
        eqs, grid, {**bounds, cell: (lo + 1, hi)}, budget
    )


def recover(published, row_totals=False, col_totals=False, truth=None, budget=50_000):
    """Hidden cells the attack pins to one value: {(i, j): value}.

    ``truth`` (the real grid) only says which alternative to look for first; every
    table the search finds fits all that is published, so it proves by itself that
    the cells it changes cannot be worked out.
    """
    eqs = _equations(published, row_totals, col_totals)
    numbers = [v for row in published for v in row if v != HIDDEN]
    cap = 2 * sum(numbers) + 50  # far above any value a hidden cell could take
    hidden = [(i, j) for i, row in enumerate(published) for j, v in enumerate(row) if v == HIDDEN]
    bounds = {cell: (1, cap) for cell in hidden}
    assert _propagate(eqs, published, bounds), "the published table admits no values at all"
    pinned = {cell: bounds[cell][0] for cell in hidden if bounds[cell][0] == bounds[cell][1]}
    guess = {cell: (truth[cell[0]][cell[1]] if truth else bounds[cell][0]) for cell in hidden}
    proven: set = set()
    for cell in hidden:
        if cell in pinned or cell in proven:
            continue
        lo, hi = bounds[cell]
        g = guess[cell]
        for part in ((lo, g - 1), (g + 1, hi)):
            if part[0] > part[1]:
                continue
            found = _solve(eqs, published, {**bounds, cell: part}, [budget])
            if found:
                proven |= {c for c, v in found.items() if v != guess[c]}
                break
        if cell not in proven:
            pinned[cell] = g
    return pinned


def with_totals(interior, row_totals=True, col_totals=True):
    grid = [list(r) + ([sum(r)] if row_totals else []) for r in interior]
    if col_totals:
        grid.append([sum(col) for col in zip(*grid, strict=True)])
    return grid


def published(grid, threshold, row_totals, col_totals, **kw):
    p = protect(grid, threshold, row_totals, col_totals, **kw)
    return p, p.shown()


# -- the algorithm ------------------------------------------------------------------------------


def test_single_small_cell_in_a_row_takes_a_partner():
    grid = with_totals([[3, 10, 12], [8, 9, 20], [15, 14, 30]])
    p, shown = published(grid, 5, True, True)
    assert shown[0][0] == HIDDEN
    assert sum(row.count(HIDDEN) for row in shown) >= 4  # a cycle: two rows by two columns at least
    assert recover(shown, True, True, truth=grid) == {}
    assert uncertified(grid, p.hidden, True, True) == []


def test_the_attack_recovers_a_lone_hidden_cell():
    grid = with_totals([[3, 10], [8, 9]])
    naive = [[HIDDEN if 1 <= v <= 5 else v for v in row] for row in grid]
    assert recover(naive, True, True) == {(0, 0): 3}


def test_the_attack_uses_the_at_least_one_bound():
    # Row 0 is 1 + 1 = 2: hidden 1s and total, with both columns' totals published.
    naive = [[HIDDEN, HIDDEN, HIDDEN], [10, 10, 20], [11, 11, 22]]
    assert recover(naive, True, True) == {(0, 0): 1, (0, 1): 1, (0, 2): 2}
    grid = with_totals([[1, 1], [10, 10]])
    p, shown = published(grid, 5, True, True)
    assert recover(shown, True, True, truth=grid) == {}


def test_true_zeros_stay_zero_and_big_counts_are_shown():
    grid = with_totals([[0, 0, 4], [0, 12, 30], [7, 0, 25]])
    p, shown = published(grid, 5, True, True)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v == 0:
                assert shown[i][j] == 0
            if 1 <= v <= 5:
                assert shown[i][j] == HIDDEN
    assert recover(shown, True, True, truth=grid) == {}


def test_nothing_small_means_nothing_hidden():
    grid = with_totals([[10, 20], [30, 40]])
    p, shown = published(grid, 5, True, True)
    assert shown == grid
    assert protect(with_totals([[1, 2], [3, 4]]), 0, True, True).shown() == with_totals([[1, 2], [3, 4]])


def test_rows_only_and_columns_only():
    rows_only = with_totals([[2, 30, 40], [50, 60, 70]], col_totals=False)
    p, shown = published(rows_only, 5, True, False)
    assert shown[0][0] == HIDDEN and sum(r.count(HIDDEN) for r in shown) >= 2
    assert shown[1] == [50, 60, 70, 180]  # the other row has no equation with row 0
    assert recover(shown, True, False, truth=rows_only) == {}
    cols_only = with_totals([[2, 30], [50, 60], [40, 1]], row_totals=False)
    p, shown = published(cols_only, 5, False, True)
    assert recover(shown, False, True, truth=cols_only) == {}
    assert shown[0][0] == HIDDEN and shown[2][1] == HIDDEN


def test_no_totals_means_primary_only():
    grid = [[2, 30], [50, 4]]
    p, shown = published(grid, 5, False, False)
    assert shown == [[HIDDEN, 30], [50, HIDDEN]]


def test_forced_cells_are_hidden_and_protected():
    grid = with_totals([[10, 20, 30], [40, 50, 60]])
    p, shown = published(grid, 5, True, True, forced=[(0, 1)])
    assert shown[0][1] == HIDDEN
    assert recover(shown, True, True, truth=grid) == {}


def test_a_small_total_is_hidden_too():
    grid = with_totals([[2, 0, 1], [20, 30, 40]])
    p, shown = published(grid, 5, True, True)
    assert shown[0][3] == HIDDEN
    assert recover(shown, True, True, truth=grid) == {}


def test_inconsistent_totals_are_refused():
    import pytest

    with pytest.raises(ValueError, match="row 0"):
        protect([[1, 2, 4], [3, 4, 7]], 5, row_totals=True)


counts = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 20])


@given(
    st.integers(1, 4).flatmap(
        lambda c: st.lists(st.lists(counts, min_size=c, max_size=c), min_size=1, max_size=4)
    ),
    st.sampled_from([(True, True), (True, False), (False, True)]),
    st.sampled_from([3, 5]),
)
def test_no_hidden_cell_can_be_recovered(interior, flags, threshold):
    row_totals, col_totals = flags
    grid = with_totals(interior, row_totals, col_totals)
    p, shown = published(grid, threshold, row_totals, col_totals)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if 1 <= v <= threshold:
                assert shown[i][j] == HIDDEN
            if v == 0:
                assert shown[i][j] == 0
    assert uncertified(grid, p.hidden, row_totals, col_totals) == []
    assert recover(shown, row_totals, col_totals, truth=grid) == {}
