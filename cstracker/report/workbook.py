"""Write the trend report workbook (xlsxwriter): internal, or published with small counts hidden.

The internal report holds everything, including the lists a coordinator acts
on (overdue follow-ups by Referral ID, contexts, data problems). The published
report (``--publish``) holds aggregates only: no Referral IDs, Mosaic IDs, free
text, contexts or lists; every count from 1 up to the tracker's threshold is
``c`` and more cells are hidden so that none of them can be worked out
(``suppression.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from cstracker.core.errors import ReportError
from cstracker.core.periods import Period
from cstracker.report.access import header_names, lines_alt_text, stacked_alt_text, table_name
from cstracker.report.data import Report, Table
from cstracker.report.layout import (
    LABEL_MAX,
    LABEL_MIN,
    LINE_HEIGHT,
    MAX_WIDTH,
    NUMBER_WIDTH,
    ROW_HEIGHT,
    SIZE_FACTOR,
    TURNED_WIDTH,
    header_height,
    heading_width,
    page_breaks,
    print_scale,
    px,
    shown_text,
    wrap,
    wrapped_lines,
)
from cstracker.report.tables import build_report
from cstracker.version import __version__
from cstracker.xlsx import safety
from cstracker.xlsx.outputs import check_output, output_key, stamp, write_output
from cstracker.xlsx.printing import MIN_SCALE
from cstracker.xlsx.safety import owner_files

SUPPRESSED = "c"
COUNT_FORMAT = "#,##0"
#: days are whole days (``report/data.py`` WHOLE_DAYS_RULE); a change shows its sign
NUMBER_FORMATS = {
    "int": COUNT_FORMAT,
    "pct": "0%",
    "days": "0",
    "date": "dd/mm/yyyy",
    "plain": "0",
    "change": "+#,##0;-#,##0;0",
    "pct_change": "+0%;-0%;0%",
}
FIRST_TABLE_ROW = 4


@dataclass
class Placed:
    """Where a table landed: its header row and first/last data row and column (zero-based)."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int
    first_col: int
    last_col: int
    columns: list[str]


@dataclass
class WrittenReport:
    path: Path
    published: bool
    period: Period
    sheets: list[str]
    placed: dict[str, Placed] = field(default_factory=dict)
    hidden_cells: int = 0
    referrals: int = 0
    #: what the report read differently from the tracker's live Trends sheet (``Report.warnings``)
    warnings: list[str] = field(default_factory=list)
    #: published packs: the ledger of published figures beside the tracker
    ledger: Path | None = None


def default_report_path(tracker: Path, period: Period, publish: bool) -> Path:
    suffix = " (published)" if publish else ""
    return tracker.with_name(f"CS trends {period.label}{suffix}.xlsx")


def make_report(
    tracker_path: str | Path,
    period: Period,
    out: str | Path | None = None,
    publish: bool = False,
    today: dt.date | None = None,
    overwrite: bool = False,
) -> WrittenReport:
    """Read the tracker, compute every table for ``period`` and write the report workbook.

    An existing file at ``out`` is replaced when it is this tracker's report of the same period and
    kind (internal or published), or with ``overwrite``; never when it is (or might be) a tracker.
    """
    from cstracker.tracker.tracker import Tracker

    tracker_path = Path(tracker_path)
    if not tracker_path.exists():
        raise ReportError(f"{tracker_path}: no such tracker file")
    out_path = Path(out) if out else default_report_path(tracker_path, period, publish)
    if out_path.suffix.lower() != ".xlsx":
        raise ReportError(
            f"{out_path}: the report must be an .xlsx file (e.g. 'CS trends {period.label}.xlsx')"
        )
    if out_path.resolve() == tracker_path.resolve():
        raise ReportError(f"{out_path}: that is the tracker itself; give another --out file")
    today = today or dt.date.today()
    if publish:
        from cstracker.report.published import breakdown_period

        breakdown_period(period)  # a date range is refused before the tracker is read
    key = report_key(tracker_path, period, publish)
    check_output(out_path, "report", key, overwrite)
    tracker = Tracker.open(tracker_path, far_cells_later=True)  # checked in the first pass over the sheet
    if not publish:
        report = build_report(tracker.dataframe(), period, tracker.lists, tracker.settings, today)
        return write_report(report, out_path, publish, key=key)
    return _publish(tracker_path, tracker, period, out_path, today, key)


def _publish(
    tracker_path: Path, tracker, period: Period, out_path: Path, today: dt.date, key: str = ""
) -> WrittenReport:
    """The published pack, protected together with every pack in the ledger; then the ledger grows."""
    from cstracker.report.data import ReportData
    from cstracker.report.disclosure import ledger_path, read_ledger, read_packs, write_ledger
    from cstracker.report.published import build_published

    ledger_file = ledger_path(tracker_path)
    ledger = read_ledger(ledger_file)
    data = ReportData(tracker.dataframe(), tracker.lists, tracker.settings, today)
    report, states, new = build_published(data, period, tracker.lists, tracker.settings, ledger)
    written = write_report(report, out_path, publish=True, key=key)
    for tkey, cells in report.figure_keys.items():
        t = report.table(tkey)
        for (r, c), k in cells.items():
            if k in new:
                ledger[k] = (states[k], None if states[k] else int(t.data.loc[r, c]))
    write_ledger(ledger_file, ledger, [*read_packs(ledger_file), period.label])
    written.ledger = ledger_file
    return written


def report_key(tracker_path: Path, period: Period, publish: bool) -> str:
    """What makes two reports the same output: the real tracker file, the period and the kind."""
    return output_key(safety.real_path(tracker_path).absolute(), period.label, publish)


def write_report(report: Report, out: str | Path, publish: bool = False, key: str = "") -> WrittenReport:
    """Write ``report`` to ``out`` through the one atomic write (``outputs.write_output``)."""
    out = Path(out)
    if not out.parent.exists():
        raise ReportError(f"{out}: the folder {out.parent} does not exist")
    if owner_files(out):
        raise ReportError(
            f"{out}: the report is open in Excel or LibreOffice; close it and run the report again"
        )
    written: list[WrittenReport] = []
    write_output(out, lambda tmp: written.append(_write(report, tmp, publish, key=key)))
    result = written[0]
    result.path = out
    return result


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook, report: Report, publish: bool):
        self.wb = wb
        self.report = report
        self.publish = publish
        base = {"font_size": 10, "valign": "top"}
        self.title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E78"})
        self.subtitle = wb.add_format({"bold": True, "font_size": 11, "font_color": "#1F4E78"})
        self.note = wb.add_format({"italic": True, "font_size": 9, "font_color": "#595959"})
        self.warn = wb.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})
        self.more = wb.add_format({"italic": True, "font_size": 10, "font_color": "#1F4E78"})
        self.head = wb.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.label = wb.add_format({**base, "border": 1, "text_wrap": True})
        self.label_total = wb.add_format({**base, "border": 1, "bold": True, "top": 2, "text_wrap": True})
        # the headings of a grid with a column per theme, on their side so the grid fits the page
        self.head_turned = wb.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "rotation": 90, "valign": "bottom",
             "align": "center"}
        )  # fmt: skip
        self.text = wb.add_format({**base, "border": 1, "text_wrap": True})
        # grey enough to tell c from a figure, dark enough to read (contrast 7:1 on white, WCAG AA)
        self.hidden = wb.add_format({**base, "border": 1, "align": "right", "font_color": "#595959"})
        self.hidden_total = wb.add_format(
            {**base, "border": 1, "align": "right", "font_color": "#595959", "bold": True, "top": 2}
        )
        self.table_names: set[str] = set()
        self.numbers: dict[tuple[str, bool], object] = {}
        # LibreOffice neither widens columns nor grows wrapped rows of an .xlsx on load, so each
        # sheet's widths are planned from its tables (``report/layout.py``) and its row heights kept here
        self.widths: dict[int, float] = {}
        self.heights: dict[int, float] = {}
        self.blocks: list[tuple[int, int]] = []
        self.together: list[tuple[int, int]] = []
        self.charts: list[tuple[int, int]] = []
        self.last_row = self.last_col = 0
        for name, fmt in NUMBER_FORMATS.items():
            for total in (False, True):
                extra = {"bold": True, "top": 2} if total else {}
                self.numbers[(name, total)] = wb.add_format({**base, "border": 1, "num_format": fmt, **extra})

    def sheet(self, name: str, heading: str, tables: list[Table]):
        """A new sheet, its columns sized for ``tables``: A4 landscape at a fixed scale (``finish``)."""
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_default_row(ROW_HEIGHT)
        ws.set_footer(f"&L{name}: {self.report.period.title}&R&P of &N")
        title = f"{heading}: {self.report.period.title}"
        ws.write_string(0, 0, title, self.title)
        who = self.report.settings.authority_name
        made = f"{who}. Made {self.report.today:%d/%m/%Y} by cstracker {__version__}."
        made += " Published version." if self.publish else " INTERNAL: not for sharing."
        ws.write_string(1, 0, made)
        self.widths = self._plan(tables)
        # the titles print on one line: the label column takes what the page needs for them
        need = max(
            len(title) * SIZE_FACTOR["title"],
            len(made) * SIZE_FACTOR["plain"],
            *(len(t.title) * SIZE_FACTOR["subtitle"] for t in tables),
            # the heat map's note is one line: the cell above the map says what its colour means
            *(len(HEATMAP_NOTE) * SIZE_FACTOR["note"] for t in tables if t.heatmap),
        )
        short = need - sum(self.widths.values())
        if short > 0:
            self.widths[0] += math.ceil(short)
        for col, width in self.widths.items():
            ws.set_column(col, col, width)
        self.heights, self.blocks, self.together, self.charts = {0: 19}, [], [], []
        self.last_row, self.last_col = 1, max(self.widths)
        return ws

    def _columns(self, t: Table) -> list[str]:
        return [c for c in t.data.columns if not (self.publish and t.fmt(c) == "text")]

    def _plan(self, tables: list[Table]) -> dict[int, float]:
        """Each column as wide as its widest heading word, number (as shown) or text (up to MAX_WIDTH)."""
        widths: dict[int, float] = {0: LABEL_MIN}
        for t in tables:
            labels = [str(i) for i in t.data.index]
            widths[0] = max(widths[0], min(max((len(x) + 2 for x in labels), default=0), LABEL_MAX))
            shown = t.data.iloc[: t.cap] if t.cap is not None else t.data
            for j, c in enumerate(self._columns(t), start=1):
                fmt = t.fmt(c)
                cells = [v for v in shown[c].tolist() if not _blank(v)]
                longest = max((len(shown_text(v, fmt)) for v in cells), default=1) + 2
                if fmt == "text":
                    need = min(max(longest, heading_width(c), NUMBER_WIDTH), MAX_WIDTH)
                elif t.turned:  # a heading on its side takes no width: the column is as wide as its numbers
                    need = max(longest, TURNED_WIDTH)
                else:
                    need = max(longest, heading_width(c), NUMBER_WIDTH)
                widths[j] = max(widths.get(j, 0), need)
        return widths

    def finish(self, ws, repeat_to: int | None = None) -> None:
        """Row heights, the fixed print scale, the rows repeated on every page, breaks between tables."""
        last_row = max([self.last_row, *(b for _, b in self.blocks)])
        for row in range(last_row + 1):
            # every row's height written, so each program prints the rows the page breaks were planned for
            ws.set_row(row, self.heights.get(row, ROW_HEIGHT))
        scale = print_scale(self.widths, self.charts)
        ws.set_print_scale(scale)
        top = 2 if repeat_to is None else repeat_to + 1
        ws.repeat_rows(0, top - 1)
        if scale == MIN_SCALE:
            ws.repeat_columns(0)  # wider than a page even so: the labels print on every page
        ws.print_area(0, 0, last_row, self.last_col)  # not the hidden columns a published chart reads
        if repeat_to is None and len(self.blocks) > 1:
            breaks = page_breaks(self.blocks, self.heights, top, scale, self.together)
            if breaks:
                ws.set_h_pagebreaks(breaks)

    def chart(self, ws, chart, row: int, col: int, width: int, height: int, description: str) -> int:
        """Insert ``chart`` (``width`` x ``height`` pixels) at (row, col); returns the row under it."""
        chart.set_size({"width": width, "height": height})
        ws.insert_chart(xl_rowcol_to_cell(row, col), chart, {"description": description})
        self.charts.append((col, width))
        rows = math.ceil(height * 0.75 / ROW_HEIGHT)
        if self.blocks and 0 <= row - self.blocks[-1][1] <= 2:
            # right under a table: on the same page as its table when both fit one
            self.together.append((self.blocks[-1][0], row + rows))
        self.blocks.append((row, row + rows))
        edge, end = sum(px(self.widths.get(c, NUMBER_WIDTH)) for c in range(col)) + width, col
        while sum(px(self.widths.get(c, NUMBER_WIDTH)) for c in range(end + 1)) < edge:
            end += 1
        self.last_col = max(self.last_col, end)
        return row + rows + 1

    def note_lines(self, ws, row: int, text: str, style=None) -> int:
        """``text`` wrapped to the sheet's printed width, a row a line; returns the next free row."""
        for line in wrap(text, sum(self.widths.values()), "note"):
            ws.write_string(row, 0, line, style or self.note)
            row += 1
        return row

    def table(
        self, ws, sheet: str, t: Table, row: int, hidden: set[tuple[str, str]], col: int = 0
    ) -> tuple[int, Placed]:
        """Write ``t`` with its top-left at (row, col); returns the next free row and where it went."""
        columns = self._columns(t)
        first = row
        ws.write_string(row, col, t.title, self.subtitle)
        row += 1
        if t.note:
            row = self.note_lines(ws, row, t.note)
        if t.heatmap:  # no meaning by colour alone: the colour repeats a figure the cell shows
            row = self.note_lines(ws, row, HEATMAP_NOTE)
        header = row
        self._mark_table(ws, t, columns, header, col, header + max(len(t.data), 1))
        headings = {col + j: str(c) for j, c in enumerate(columns, start=1)}
        if headings:
            self.heights[header] = header_height(headings, self.widths, t.turned)
        if t.data.empty:
            ws.write_string(row + 1, col, "None in this period.", self.note)
            self.blocks.append((first, row + 1))
            return row + 3, Placed(sheet, header, row + 1, row + 1, col, col + len(columns), columns)
        fmts = [t.fmt(c) for c in columns]
        frame = t.data[columns]
        for i, (label, *values) in enumerate(frame.itertuples(index=True, name=None)):
            r = header + 1 + i
            label = str(label)
            total = t.col_totals and i == len(t.data) - 1
            ws.write_string(r, col, label, self.label_total if total else self.label)
            lines = wrapped_lines(label, self.widths.get(col, LABEL_MIN))
            for j, (v, f) in enumerate(zip(values, fmts, strict=True), start=1):
                if f == "text" and not _blank(v):
                    lines = max(lines, wrapped_lines(str(v), self.widths.get(col + j, NUMBER_WIDTH)))
            if lines > 1:
                self.heights[r] = max(ROW_HEIGHT, LINE_HEIGHT * lines + 3)
            for j, (c, value, fmt) in enumerate(zip(columns, values, fmts, strict=True), start=1):
                self._cell(ws, r, col + j, value, fmt, bool(hidden) and (label, c) in hidden, total)
        last = header + len(t.data)
        placed = Placed(sheet, header, header + 1, last, col, col + len(columns), columns)
        self.blocks.append((first, last))
        if t.heatmap:
            ws.conditional_format(
                header + 1,
                col + 1,
                last,
                col + len(columns),
                {
                    "type": "3_color_scale",
                    "min_color": "#FFFFFF",
                    "mid_color": "#FFD966",
                    # light enough that the black figure on it stays readable (contrast 7:1)
                    "max_color": "#F8696B",
                },
            )
        return last + 2, placed

    def _mark_table(self, ws, t: Table, columns: list[str], header: int, col: int, last: int) -> None:
        """Mark the block as an Excel Table with a header row, so a screen reader announces each
        figure's column heading and Excel's Accessibility Checker finds the header.

        The report's blocks suit Tables: one header row of text, no merged cells, titles and notes
        above the block in column A (outside it), and blocks one under another. No filter buttons
        (sorting would move the Total row among the others) and no Table style: the cell formats
        written here are the look. The header cells are written by the Table itself, so the
        Table's column names and the cells always agree.
        """
        ws.add_table(
            header,
            col,
            last,
            col + len(columns),
            {
                "name": table_name(t.key, self.table_names),
                "columns": [
                    {"header": h, "header_format": self.head_turned if t.turned and j else self.head}
                    for j, h in enumerate(header_names(t, columns))
                ],
                "autofilter": False,
                "banded_rows": False,
                "style": None,
                "title": t.title[:255],
            },
        )

    def _cell(self, ws, r: int, c: int, value, fmt: str, hidden: bool, total: bool) -> None:
        if hidden:
            ws.write_string(r, c, SUPPRESSED, self.hidden_total if total else self.hidden)
            return
        if fmt == "text":
            if _blank(value) or str(value) == "":
                ws.write_blank(r, c, None, self.text)
            else:
                ws.write_string(r, c, str(value), self.text)
            return
        number = self.numbers[(fmt, total)]
        if _blank(value):
            ws.write_blank(r, c, None, number)
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), number)
        else:
            ws.write_number(r, c, float(value) if fmt in ("pct", "pct_change") else int(value), number)


HEATMAP_NOTE = (
    "Each cell shows its figure; the colour only repeats it (the deeper the red, the higher the share)."
)


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NA or value is pd.NaT


SHEET_HEADINGS = {
    "Summary": "Contextual Safeguarding referrals",
    "Monthly trend": "Monthly trend",
    "Themes": "Themes",
    "Themes together": "Themes that occur together",
    "Referrers": "Referrers",
    "Young people": "Young people",
    "Contexts": "Contexts: places and groups",
    "Actions": "Agreed actions and interventions",
    "Timeliness": "Timeliness",
    "Data quality": "Data quality",
}


def _write(report: Report, path: Path, publish: bool, key: str = "") -> WrittenReport:
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    )
    wb.set_properties(
        {
            # the title a screen reader says first and a website lists: what, when, whose, which kind
            "title": f"Contextual Safeguarding referrals: trends for {report.period.title}, "
            f"{report.settings.authority_name}"
            + (" (published)" if publish else " (INTERNAL: not for sharing)"),
            "subject": "Contextual Safeguarding referrals: trends",
            "comments": f"cstracker {__version__}",
            "created": dt.datetime.combine(report.today, dt.time()),
        }
    )
    stamp(wb, "report", key)
    w = _Writer(wb, report, publish)
    threshold = report.settings.small_count_threshold
    if publish and report.hidden is None:
        raise ValueError("a published pack is built by report_published.build_published")
    hidden = report.hidden if publish else {}
    result = WrittenReport(
        path, publish, report.period, [], referrals=report.rows_in_period, warnings=list(report.warnings)
    )
    full_lists: list[Table] = []
    for sheet, tables in report.sheets.items():
        shown = [t for t in tables if not (publish and t.internal)]
        if not shown:
            continue
        ws = w.sheet(sheet, SHEET_HEADINGS.get(sheet, sheet), shown)
        result.sheets.append(sheet)
        row = FIRST_TABLE_ROW
        if sheet == "Summary":
            row = _summary_note(w, ws, report, publish, threshold, shown)
        for t in shown:
            capped = t.cap is not None and len(t.data) > t.cap
            if capped:
                full_lists.append(t)
                head = dataclasses.replace(t, data=t.data.iloc[: t.cap])
                row, placed = w.table(ws, sheet, head, row, hidden.get(t.key, set()))
                more = f"{len(t.data) - t.cap} more — see sheet '{t.full_sheet}'"
                ws.write_string(placed.last_row + 1, 0, more, w.more)
                w.blocks.append((placed.last_row, placed.last_row + 1))
                row += 1
            elif t.full_sheet and not publish:
                full_lists.append(t)  # the list's own sheet is always there, so it can be found
                row, placed = w.table(ws, sheet, t, row, hidden.get(t.key, set()))
            else:
                row, placed = w.table(ws, sheet, t, row, hidden.get(t.key, set()))
            result.placed[t.key] = placed
        # charts go below the tables, at column A: read top to bottom, never beside a table
        if publish:
            _published_charts(w, ws, sheet, report, result.placed, hidden, row)
        elif sheet == "Summary":
            _months_chart(w, ws, report, result.placed["summary_months"], row)
        elif sheet == "Monthly trend":
            _trend_chart(w, ws, report, result.placed["monthly_trend"], row)
        w.finish(ws)
    for t in full_lists:
        # the whole of a long list, on a sheet of its own (most in need of action first)
        whole = dataclasses.replace(t, title=f"{t.title}: all {len(t.data)}", cap=None)
        ws = w.sheet(t.full_sheet, t.full_sheet, [whole])
        result.sheets.append(t.full_sheet)
        _, placed = w.table(ws, t.full_sheet, whole, FIRST_TABLE_ROW, set())
        result.placed[f"{t.key}_all"] = placed
        w.finish(ws, repeat_to=placed.header_row)  # its heading row on every page
    result.hidden_cells = sum(len(v) for v in hidden.values())
    wb.close()
    return result


def _summary_note(w: _Writer, ws, report: Report, publish: bool, threshold: int, tables: list[Table]) -> int:
    """The lines under the Summary's title; the INTERNAL warning highlighted across the sheet's used width."""
    if publish:
        symbols = (
            f"c = a count from 1 to {threshold}, or a figure hidden so that no hidden count can be narrowed "
            "to fewer than 3 possible values, even using every other published pack (months, quarters, "
            "years) with this one. 0 means none."
            if threshold > 0
            else "No figure is hidden: this tracker's small-count threshold is 0 (set in its settings)."
        )
        lines = [
            symbols,
            "Aggregates only: no Referral IDs, Mosaic IDs, names, places or free text. Breakdowns cover whole "
            "quarters (the latest complete quarter in a monthly pack), so packs can be read together safely.",
        ]
        # each line wrapped to the printed width
        lines = [line for text in lines for line in wrap(text, sum(w.widths.values()), "note")]
        style = w.note
        last_col = 0
    else:
        last_col = max(w.widths)
        # each line no wider than the used columns, so the highlight covers all of it
        lines = textwrap.wrap(INTERNAL_BANNER, int(sum(w.widths.values()) * BANNER_CHARS))
        style = w.warn
    for i, line in enumerate(lines):
        ws.write_string(2 + i, 0, line, style)
        for c in range(1, last_col + 1):
            ws.write_blank(2 + i, c, None, style)
    if report.rows_in_period == 0:
        ws.write_string(2 + len(lines), 0, f"No referrals were received in {report.period.title}.", w.warn)
        return 4 + len(lines)
    return 3 + len(lines)


INTERNAL_BANNER = (
    "INTERNAL: this report lists Referral IDs and the places named in consultations. "
    "Do not share it outside the team; for partners run the report with --publish."
)
#: bold 11-point characters per unit of column width (a unit is a '0' of 11 point), with room to spare
BANNER_CHARS = 0.8


def _months_chart(w: _Writer, ws, report: Report, p: Placed, row: int) -> None:
    chart = w.wb.add_chart({"type": "line"})
    for j in range(1, len(p.columns) + 1):
        chart.add_series(
            {
                "name": [p.sheet, p.header_row, p.first_col + j],
                "categories": [p.sheet, p.first_row, p.first_col, p.last_row, p.first_col],
                "values": [p.sheet, p.first_row, p.first_col + j, p.last_row, p.first_col + j],
                "marker": {"type": "circle"},
            }
        )
    chart.set_title({"name": "Referrals and consultations, last 12 months"})
    chart.set_y_axis({"name": "Number", "min": 0})
    chart.set_legend({"position": "bottom"})
    text = lines_alt_text(report.table("summary_months"), p.columns, report.period, "month", set(), False)
    w.chart(ws, chart, row, 0, 620, 300, text)


def _trend_chart(w: _Writer, ws, report: Report, p: Placed, row: int) -> None:
    chart = w.wb.add_chart({"type": "column", "subtype": "stacked"})
    last = p.last_row - 1  # the Total row is not a month
    for j in range(1, len(p.columns)):
        chart.add_series(
            {
                "name": [p.sheet, p.header_row, p.first_col + j],
                "categories": [p.sheet, p.first_row, p.first_col, last, p.first_col],
                "values": [p.sheet, p.first_row, p.first_col + j, last, p.first_col + j],
            }
        )
    chart.set_title({"name": "Referrals received per month by primary concern"})
    chart.set_y_axis({"name": "Referrals", "min": 0})
    chart.set_legend({"position": "bottom"})
    t = report.table("monthly_trend")
    text = stacked_alt_text(t, p.columns[:-1], p.columns[-1], "Total", report.period, "month")
    w.chart(ws, chart, row, 0, 760, 240, text)  # low enough to print under its table


#: published charts read a copy of their table in hidden columns from here, hidden figures left blank
CHART_DATA_COL = 40
GAP_NOTE = "Gaps in the chart are figures hidden as c; they are not zero."


def _published_charts(
    w: _Writer, ws, sheet: str, report: Report, placed: dict[str, Placed], hidden, row: int
) -> None:
    """Charts that leave a hidden figure out (a gap, with a note), never drawing it as a number."""
    if sheet == "Summary":
        t = report.table("summary_months")
        source = _chart_copy(w.wb, ws, t, placed["summary_months"], hidden)
        if source is None:
            ws.write_string(row, 0, "Too few figures can be shown to draw a chart.")
            return
        chart = w.wb.add_chart({"type": "line"})
        _series(chart, source, len(source.columns), source.last_row)
        chart.set_title({"name": "Referrals and consultations, last 12 months"})
        text = lines_alt_text(t, source.columns, report.period, "month", hidden.get(t.key, set()), True)
        _gap_axes(w, chart, ws, "Number", row, 0, 620, 300, text)
    elif sheet == "Quarterly trend":
        t = report.table("quarterly_trend")
        source = _chart_copy(w.wb, ws, t, placed["quarterly_trend"], hidden)
        if source is None:
            ws.write_string(row, 0, "Too few figures can be shown to draw a chart.")
            return
        chart = w.wb.add_chart({"type": "line"})
        _series(chart, source, len(source.columns) - 1, source.last_row)  # not the Total column
        chart.set_title({"name": "Referrals received per quarter by primary concern"})
        text = lines_alt_text(
            t,
            source.columns[:-1],
            report.period,
            "quarter",
            hidden.get(t.key, set()),
            True,
            what="referrals received by primary concern",
            total_column=source.columns[-1],
            what_one="primary concern",
        )
        _gap_axes(w, chart, ws, "Referrals", row, 0, 760, 240, text)


def _chart_copy(wb, ws, t: Table, p: Placed, hidden) -> Placed | None:
    cells = hidden.get(t.key, set())
    count = wb.add_format({"num_format": COUNT_FORMAT})
    col = CHART_DATA_COL
    shown_any = False
    ws.write_string(p.header_row, col, "Chart data (hidden figures left blank)")
    for j, c in enumerate(p.columns, start=1):
        ws.write_string(p.header_row, col + j, str(c))
    for i, label in enumerate(t.data.index):
        ws.write_string(p.first_row + i, col, str(label))
        for j, c in enumerate(p.columns, start=1):
            if (str(label), c) in cells:
                ws.write_blank(p.first_row + i, col + j, None)
            else:
                value = int(t.data.loc[label, c])
                shown_any = shown_any or value > 0
                ws.write_number(p.first_row + i, col + j, value, count)
    ws.set_column(col, col + len(p.columns), None, None, {"hidden": True})
    if not shown_any:
        return None
    return Placed(p.sheet, p.header_row, p.first_row, p.last_row, col, col + len(p.columns), p.columns)


def _series(chart, p: Placed, count: int, last: int) -> None:
    for j in range(1, count + 1):
        chart.add_series(
            {
                "name": [p.sheet, p.header_row, p.first_col + j],
                "categories": [p.sheet, p.first_row, p.first_col, last, p.first_col],
                "values": [p.sheet, p.first_row, p.first_col + j, last, p.first_col + j],
                "marker": {"type": "circle"},
            }
        )


def _gap_axes(
    w: _Writer, chart, ws, name: str, row: int, col: int, width: int, height: int, description: str
) -> None:
    chart.show_blanks_as("gap")
    chart.set_y_axis({"name": name, "min": 0})
    chart.set_legend({"position": "bottom"})
    below = w.chart(ws, chart, row, col, width, height, description)
    ws.write_string(below, col, GAP_NOTE)
    w.blocks[-1] = (row, below)  # the note prints with its chart
    if w.together and w.together[-1][1] == below - 1:
        w.together[-1] = (w.together[-1][0], below)
