"""xlsx/table_cells.py: the column-wise reading gives the values python-calamine gives."""

from __future__ import annotations

import pytest
import python_calamine
import xlsxwriter

from cstracker.xlsx.table_cells import as_date


def test_a_serial_in_a_date_cell_reads_as_calamine_reads_it(tmp_path):
    """The column-wise reading's dates equal python-calamine's, also before 01/03/1900, where Excel's
    1900 system counts a 29 February that never was (found by validate's property test)."""
    serials = [0.5, 1, 18, 59, 59.5, 60, 60.5, 61, 62, 45_000, 45_000.25]
    path = tmp_path / "serials.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    day = wb.add_format({"num_format": "dd/mm/yyyy"})
    for i, serial in enumerate(serials):
        ws.write_number(i, 0, serial, day)
    wb.close()
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [as_date(s, False) for s in serials] == [r[0] for r in rows]


#: the serials where a reader's rounding, range or day count could part from calamine's (found comparing
#: as_date with calamine over thousands of random serials): below 1 and negative (a time of day), a
#: fraction that rounds to midnight (a date-time still), half a millisecond (rounded away from zero),
#: the last day a reader has (31/12/9999) and beyond it, chrono's first day and before it
_EDGES = [
    0,
    0.5,
    0.9999999999,
    0.99999999,
    5e-324,
    -5e-324,
    -0.5,
    -1,
    -1.25,
    -10,
    -96_439_724,
    -96_439_724.5,
    -96_441_186,
    -96_441_187,
    1.9999999999,
    59.9999999999,
    60.9999999999,
    45_000.999999999,
    32_157.63022689236,
    2_928_318.332496811,
    2_953_481.326463281,
    2_957_003.5,
    2_958_465,
    2_958_465.5,
    2_958_466,
    1e10,
    -1e10,
]


@pytest.mark.parametrize("date1904", [False, True])
def test_any_serial_in_a_date_cell_reads_as_calamine_reads_it(tmp_path, date1904):
    path = tmp_path / "edges.xlsx"
    wb = xlsxwriter.Workbook(path, {"date_1904": date1904})
    ws = wb.add_worksheet()
    day = wb.add_format({"num_format": "dd/mm/yyyy"})
    for i, serial in enumerate(_EDGES):
        ws.write_number(i, 0, serial, day)
    wb.close()
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    got = [as_date(float(s), date1904) for s in _EDGES]
    assert [(type(g), g) for g in got] == [(type(r[0]), r[0]) for r in rows]
