"""The column-wise reading of stored values agrees with the one reading of a cell, value for value."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cstracker.core.reading import Formula, read_cell, read_stored
from cstracker.core.schema import CodeLists, Kind

LISTS = CodeLists()
FIELDS = [f for f in LISTS.fields() if f.kind is not Kind.FORMULA]
BY_KIND = {}
for _f in FIELDS:
    BY_KIND.setdefault(_f.kind, _f)

#: what a cell holds as the scan or calamine gives it: text near every canonical shape, numbers, ticks, dates
_TEXTS = st.one_of(
    st.sampled_from(["CS-2026-0001", "cs-2026-0001", " CS-2026-0001", "0091000", "91000", "9100000000000"]),
    st.sampled_from(["Yes", "yes", "x", "TRUE", "No", "", "   ", "=TRUE()", "Female", "F", "female "]),
    st.sampled_from(["Suitable", "Not suitable", "Awaiting decision", "Health", "03/10/2026", "2026-10-03"]),
    st.from_regex(r"[A-Z0-9][A-Z0-9/_\-]{0,44}", fullmatch=True),
    st.from_regex(r"\d{1,14}", fullmatch=True),
    st.text(max_size=12),
)
_VALUES = st.one_of(
    _TEXTS,
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e13),
    st.integers(min_value=0, max_value=120).map(float),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1)),
    st.builds(Formula, st.sampled_from(["TRUE()", "A1+1", "FALSE"]), st.one_of(st.none(), _TEXTS)),
)


@given(st.sampled_from(list(BY_KIND.values()) + FIELDS[:12]), st.lists(_VALUES, max_size=30), st.booleans())
def test_read_stored_is_read_cell_of_each_value(field, raws, date1904):
    got = read_stored(field, raws, LISTS, date1904)
    assert got == [read_cell(field, raw, LISTS, date1904) for raw in raws]


def test_read_stored_reads_canonical_shapes_without_a_call():
    ids = [f for f in FIELDS if f.kind is Kind.ID][0]
    got = read_stored(ids, ["CS-2026-0001", "cs-2026-0002", None], LISTS)
    assert [r.value for r in got] == ["CS-2026-0001", "CS-2026-0002", None]
    assert [r.state.value for r in got] == ["canonical", "readable", "canonical"]
