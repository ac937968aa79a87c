"""The figure model and the run-wide audit on small hand-made systems, and the ledger file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cstracker.core.errors import ReportError
from cstracker.report.disclosure import (
    MIN_VALUES,
    System,
    audit,
    ledger_path,
    n_values,
    protect,
    read_ledger,
    write_ledger,
)
from cstracker.report.figures import Family, Model, month_index


def quarter_model(months: list[int], concern: list[int]) -> Model:
    """One quarter (Jul to Sep 2026): three month totals, and the quarter split by two concerns."""
    assert sum(months) == sum(concern)
    fams = {
        "recv/month": Family("recv/month", "recv", 1),
        "recv/concern": Family("recv/concern", "recv", 3, ("concern",), (("Home", "School"),)),
    }
    first = month_index("2026-07")
    m = Model(fams, first, first + 2)
    m.truth = {"recv/month": np.array(months).reshape(3, 1), "recv/concern": np.array(concern).reshape(1, 2)}
    return m


MONTHS = [("recv", f"2026-0{i}", f"2026-0{i}", ()) for i in (7, 8, 9)]
QUARTER = ("recv", "2026-07", "2026-09", ())
HOME = ("recv", "2026-07", "2026-09", (("concern", "Home"),))
SCHOOL = ("recv", "2026-07", "2026-09", (("concern", "School"),))


def test_a_figure_is_the_same_count_in_every_family():
    m = quarter_model([10, 12, 3], [20, 5])
    assert m.value(QUARTER) == 25 and m.value(MONTHS[2]) == 3 and m.value(SCHOOL) == 5
    assert [f.name for f, _ in m.expressions(QUARTER)] == ["recv/month", "recv/concern"]
    assert [f.name for f, _ in m.expressions(HOME)] == ["recv/concern"]
    assert list(m.expressions(("recv", "2026-07", "2026-08", (("concern", "Home"),)))) == []


def test_the_audit_finds_a_month_given_away_by_its_quarter():
    m = quarter_model([10, 12, 3], [20, 5])
    hidden = {k: False for k in [*MONTHS, QUARTER, HOME, SCHOOL]}
    hidden[MONTHS[2]] = hidden[SCHOOL] = True
    ranges = audit(System(m, hidden))
    assert ranges[MONTHS[2]] == (3, 3)  # 25 - 10 - 12
    assert ranges[SCHOOL] == (5, 5)  # 25 - 20


def test_protect_hides_more_until_every_hidden_figure_has_three_values():
    m = quarter_model([10, 12, 3], [20, 5])
    figures = [*MONTHS, QUARTER, HOME, SCHOOL]
    start = {k: 1 <= m.value(k) <= 5 for k in figures}
    final = protect(m, start, set(figures))
    assert final[MONTHS[2]] and final[SCHOOL]
    assert sum(final.values()) > sum(start.values())
    ranges = audit(System(m, final))
    assert ranges and all(n_values(*r) >= MIN_VALUES for r in ranges.values())


def test_a_figure_hidden_in_an_earlier_pack_stays_hidden_and_is_protected():
    m = quarter_model([10, 12, 30], [20, 32])
    # An earlier pack hid August (secondary); this pack shows the quarter and July.
    earlier = {MONTHS[1]: True, MONTHS[0]: False}
    states = {**earlier, MONTHS[2]: False, QUARTER: False, HOME: False, SCHOOL: False}
    final = protect(m, states, {MONTHS[2], QUARTER, HOME, SCHOOL})
    assert final[MONTHS[1]] and not final[MONTHS[0]]
    assert all(n_values(*r) >= MIN_VALUES for r in audit(System(m, final)).values())
    # September or the quarter had to go: otherwise August = quarter - July - September.
    assert final[MONTHS[2]] or final[QUARTER]


def test_nothing_new_means_nothing_changes():
    m = quarter_model([10, 12, 30], [20, 32])
    states = {MONTHS[0]: False, MONTHS[1]: True, MONTHS[2]: True, QUARTER: False}
    assert protect(m, states, set()) == states


def test_the_ledger_keeps_keys_and_shown_values_never_a_hidden_value(tmp_path):
    tracker = tmp_path / "Referral Tracker.xlsx"
    path = ledger_path(tracker)
    assert path.name == "Referral Tracker published figures.json"
    write_ledger(path, {QUARTER: (False, 25), SCHOOL: (True, None)}, ["2026-Q3"])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["packs"] == ["2026-Q3"]
    assert {f["shown"] for f in data["figures"]} == {25, "c"}
    assert read_ledger(path) == {QUARTER: (False, 25), SCHOOL: (True, None)}
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReportError, match="cannot be read"):
        read_ledger(path)
