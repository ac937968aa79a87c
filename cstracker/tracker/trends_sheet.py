"""The tracker's own live ``Trends`` sheet: COUNTIFS formulas over the Referrals table.

The figures update while a coordinator types rows in Excel, without running
cstracker. The months end with the current month (worked out from TODAY()),
so the sheet never needs refreshing by a command. The formulas use structured
references (``Referrals[Date received]``), which keep pointing at the right
column when columns are moved or the table grows.

Three blocks, each one row per month plus a total row:

* referrals received by primary concern (date received);
* referrals received by suitability decision (date received);
* consultations held by theme (consultation date, up to today).

The same definitions as the report (``report/tables.py``), so for the same
month the two agree.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from cstracker.core.config import Config
from cstracker.core.derived import TABLE_NAME
from cstracker.core.schema import FIELDS_BY_KEY, flag_field
from cstracker.xlsx.printing import row_height

SHEET_TRENDS = "Trends"
MONTHS = 12
#: Row (zero-based) of the first block's heading row.
FIRST_BLOCK_ROW = 3
#: column widths (characters) and the print scale (%), readable (printing.MIN_SCALE)
MONTH_WIDTH = 10
COUNT_WIDTH = 12
PRINT_SCALE = 75
INTRO_COLUMNS = 10


def _escape(label: str) -> str:
    # In a structured reference the characters [ ] # ' are escaped with a leading '.
    return "".join("'" + ch if ch in "[]#'" else ch for ch in label)


def column_ref(label: str) -> str:
    return f"{TABLE_NAME}[{_escape(label)}]"


def _col(key: str) -> str:
    return column_ref(FIELDS_BY_KEY[key].label)


def _text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def add_trends_sheet(wb: xlsxwriter.Workbook, config: Config) -> None:
    ws = wb.add_worksheet(SHEET_TRENDS)
    fmt = {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E78"}),
        "block": wb.add_format({"bold": True, "font_size": 11, "font_color": "#1F4E78"}),
        "head": wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "intro": wb.add_format({"text_wrap": True, "valign": "top", "font_size": 10}),
        "month": wb.add_format({"num_format": "mmm yyyy", "bold": True, "border": 1}),
        "num": wb.add_format({"num_format": "0", "border": 1}),
        "total_label": wb.add_format({"bold": True, "border": 1, "top": 2}),
        "total": wb.add_format({"num_format": "0", "bold": True, "border": 1, "top": 2}),
    }
    ws.write(0, 0, f"Live trends: the last {MONTHS} months", fmt["title"])
    ws.set_row(0, 20)
    intro = (
        "Formulas over the Referrals table: they update as rows are added, and the months move on by "
        "themselves. Run cstracker report for the full report."
    )
    # wrapped within the first printed page's width, so they neither spill nor get cut
    how = (
        "They count values exactly as the lists spell them (Female, Yes) and rows inside the table: after "
        "typing or pasting by hand, cstracker validate --fix rewrites other spellings (F, x) and brings rows "
        "typed below the table into it."
    )
    for r, text in ((1, intro), (2, how)):
        ws.merge_range(r, 0, r, INTRO_COLUMNS, text, fmt["intro"])
        ws.set_row(r, row_height(text, MONTH_WIDTH + INTRO_COLUMNS * COUNT_WIDTH, font_size=10))
    lists = config.lists
    received, concern = _col("date_received"), _col("primary_concern")
    suitability, consulted = _col("suitability"), _col("consultation_date")
    tick = lists.codes("tick")[0]

    def by_received(month: str, end: str) -> str:
        return f'{received},">="&{month},{received},"<"&{end}'

    def by_consulted(month: str, end: str) -> str:
        return f'{consulted},">="&{month},{consulted},"<"&{end},{consulted},"<="&TODAY()'

    concerns = lists.codes("primary_concern")
    row = FIRST_BLOCK_ROW
    row = _block(
        ws,
        fmt,
        row,
        "Referrals received per month by primary concern",
        "TrendsByConcern",
        [("Referrals received", None, None)]
        + [(c, concern, _text(c)) for c in concerns]
        + [("No primary concern", concern, '""')],
        by_received,
    )
    decisions = lists.codes("suitability")
    row = _block(
        ws,
        fmt,
        row,
        "Referrals received per month by suitability decision",
        "TrendsByDecision",
        [(d, suitability, _text(d)) for d in decisions] + [("No decision recorded", suitability, '""')],
        by_received,
    )
    ws.set_h_pagebreaks([row])  # the wide theme block starts its own printed page
    _block(
        ws,
        fmt,
        row,
        "Consultations held per month by theme (a consultation can have several themes)",
        "TrendsByTheme",
        [("Consultations held", None, None)]
        + [(t, column_ref(flag_field(t, "themes").label), _text(tick)) for t in lists.themes],
        by_consulted,
    )
    ws.set_column(0, 0, MONTH_WIDTH)
    ws.set_column(1, 1 + max(len(lists.themes), len(concerns) + 1), COUNT_WIDTH)
    ws.freeze_panes(0, 1)
    # printed: A4 landscape at a readable scale; the wide theme block runs on across pages,
    # each repeating the Month column
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_print_scale(PRINT_SCALE)
    ws.repeat_columns(0)
    ws.set_footer("&L&A&RPage &P of &N")


def _headings(columns) -> list[str]:
    """Month, then the columns' headings, unique ignoring case (an Excel Table's header must be)."""
    out: list[str] = []
    for heading in ["Month", *(c[0] for c in columns)]:
        name, n = heading, 2
        while name.lower() in (o.lower() for o in out):
            name, n = f"{heading} ({n})", n + 1
        out.append(name)
    return out


def _block(ws, fmt, row: int, title: str, name: str, columns, window) -> int:
    """One month-per-row block; returns the row after it. ``columns``: (heading, range, criterion).

    The block is an Excel Table with a header row (named ``name``), so a screen reader announces
    the month and the heading with each figure and Excel's Accessibility Checker finds the header:
    one header row of text, no merged cells in it (the merged intro lines are above the first
    block), the block title above it in column A. No filter buttons (sorting would move the Total
    row among the months) and no Table style: the formats here are the look. The Table writes the
    header cells itself, so its column names and the cells agree.
    """
    ws.write(row, 0, title, fmt["block"])
    head = row + 1
    total = head + 1 + MONTHS
    ws.add_table(
        head,
        0,
        total,
        len(columns),
        {
            "name": name,
            "columns": [{"header": h, "header_format": fmt["head"]} for h in _headings(columns)],
            "autofilter": False,
            "banded_rows": False,
            "style": None,
            "title": title,
        },
    )
    # headings wrap: the row is as tall as the longest needs, so none spills into the first month
    ws.set_row(head, max(row_height(c[0], COUNT_WIDTH) for c in columns))
    first = head + 1
    for i in range(MONTHS):
        r = first + i
        ws.write_formula(r, 0, f"=DATE(YEAR(TODAY()),MONTH(TODAY())-{MONTHS - 1 - i},1)", fmt["month"])
        month = xl_rowcol_to_cell(r, 0, col_abs=True)
        span = window(month, f"EDATE({month},1)")
        for j, (_, rng, criterion) in enumerate(columns, start=1):
            extra = f",{rng},{criterion}" if rng else ""
            ws.write_formula(r, j, f"=COUNTIFS({span}{extra})", fmt["num"])
    total = first + MONTHS
    ws.write(total, 0, "Total", fmt["total_label"])
    for j in range(1, len(columns) + 1):
        top, bottom = xl_rowcol_to_cell(first, j), xl_rowcol_to_cell(total - 1, j)
        ws.write_formula(total, j, f"=SUM({top}:{bottom})", fmt["total"])
    return total + 3
