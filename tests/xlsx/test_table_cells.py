"""xlsx/table_cells.py: the column-wise reading gives the values python-calamine gives."""

from __future__ import annotations

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
