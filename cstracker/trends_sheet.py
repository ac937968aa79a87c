"""The tracker's own live ``Trends`` sheet: COUNTIFS formulas over the Referrals table.

The figures update while a coordinator types rows in Excel, without running
cstracker. The twelve months end with the current month (worked out from
TODAY()), so the sheet never needs refreshing.
"""

from __future__ import annotations

import xlsxwriter

from cstracker.config import Config
from cstracker.derived import TABLE_NAME
from cstracker.schema import FIELDS_BY_KEY, PRIMARY_CONCERNS

SHEET_TRENDS = "Trends"
MONTHS = 12


def _col(key: str) -> str:
    return f"{TABLE_NAME}[{FIELDS_BY_KEY[key].label}]"


def add_trends_sheet(wb: xlsxwriter.Workbook, config: Config) -> None:
    ws = wb.add_worksheet(SHEET_TRENDS)
    title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E78"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    )
    month_fmt = wb.add_format({"num_format": "mmm yyyy", "bold": True, "border": 1})
    num = wb.add_format({"num_format": "0", "border": 1})
    ws.write(0, 0, "Live trends: referrals received per month by primary concern (last 12 months)", title)
    ws.write(1, 0, "These figures are formulas over the Referrals table and update as rows are added.")
    received = _col("date_received")
    concern = _col("primary_concern")
    header = ["Month", "Referrals received", *PRIMARY_CONCERNS, "No primary concern"]
    ws.write_row(3, 0, header, head)
    for i in range(MONTHS):
        r = 4 + i
        excel_row = r + 1
        ws.write_formula(r, 0, f"=DATE(YEAR(TODAY()),MONTH(TODAY())-{MONTHS - 1 - i},1)", month_fmt)
        start, end = f"$A{excel_row}", f"EDATE($A{excel_row},1)"
        window = f'{received},">="&{start},{received},"<"&{end}'
        ws.write_formula(r, 1, f"=COUNTIFS({window})", num)
        for j, code in enumerate(PRIMARY_CONCERNS):
            ws.write_formula(r, 2 + j, f'=COUNTIFS({window},{concern},"{code}")', num)
        ws.write_formula(r, 2 + len(PRIMARY_CONCERNS), f'=COUNTIFS({window},{concern},"")', num)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 2 + len(PRIMARY_CONCERNS), 13)
    ws.freeze_panes(4, 1)
