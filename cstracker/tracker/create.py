"""Create a new, empty Referral Tracker workbook (``cstracker init``).

The workbook is self-describing: its code lists (``Lists`` sheet, each behind a
defined name ``list_<key>``), its settings (hidden ``_cstracker`` sheet, each
behind a defined name ``cs_<setting>``) and its schema version travel inside
it. Every later command reads them back from the workbook (``layout.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from cstracker.core import derived
from cstracker.core.config import Config
from cstracker.core.schema import (
    DEFAULT_CODE_LISTS,
    SCHEMA_VERSION,
    Field,
    Kind,
    example_referral_id,
    help_for,
)
from cstracker.version import __version__
from cstracker.xlsx.printing import row_height

SHEET_REFERRALS = "Referrals"
SHEET_LISTS = "Lists"
SHEET_ABOUT = "About"
SHEET_META = "_cstracker"
#: the audit trail (``audit.py``), hidden, at the end of the workbook
SHEET_AUDIT = "Audit"
TABLE_NAME = derived.TABLE_NAME
LIST_NAME_PREFIX = "list_"
SETTING_NAME_PREFIX = "cs_"
#: Validations and formats cover the whole sheet below the header, so rows
#: added later (by cstracker or by hand) are covered without touching them.
LAST_ROW = 1_048_575  # zero-based index of Excel's last row
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
#: About: column widths (characters) and print scale (%): A4 portrait, readable (printing.MIN_SCALE)
ABOUT_WIDTHS = (28, 78)
ABOUT_PRINT_SCALE = 85
LISTS_PRINT_SCALE = 70
#: A fixed creation time keeps generated templates byte-stable.
TEMPLATE_TIME = dt.datetime(2026, 1, 1)

HOW_TO = (
    "Add one row per referral on the Referrals sheet, suitable or not; pick coded values from the dropdowns.",
    'Completed consultation forms go in with: cstracker ingest "Referral Tracker.xlsx" inbox/',
    'Past spreadsheets go in with: cstracker import "Referral Tracker.xlsx" old.xlsx --dry-run (then without it).',
    'After typing or pasting rows by hand, check them with: cstracker validate "Referral Tracker.xlsx"',
    'Monthly figures: cstracker report "Referral Tracker.xlsx" --month 2026-10 (add --publish for partners).',
)


def list_name(key: str) -> str:
    return LIST_NAME_PREFIX + key


def setting_name(key: str) -> str:
    return SETTING_NAME_PREFIX + key


def create_tracker(path, config: Config, created: dt.datetime | None = None, audit_rows=None):
    """Write a new empty tracker to ``path`` (which must not be open elsewhere), or into a binary file object.

    Into a file object the workbook is built in memory (xlsxwriter's ``in_memory``): nothing of
    it goes through the system temp folder, as an encrypted tracker needs.
    """
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    if hasattr(path, "write"):
        target = path
        options["in_memory"] = True
    else:
        path = Path(path)
        target = str(path)
    created = created or TEMPLATE_TIME
    if config.settings.tracker_start is None:
        # by default the tracker starts the day it is made: anything older is history
        config = Config(replace(config.settings, tracker_start=created.date()), config.lists)
    wb = xlsxwriter.Workbook(target, options)
    wb.set_properties(
        {
            "title": f"Contextual Safeguarding Referral Tracker - {config.settings.authority_name}",
            "subject": "Contextual Safeguarding case consultation referrals",
            "comments": f"cstracker {__version__}, schema {SCHEMA_VERSION}",
            "created": created,
        }
    )
    fields = config.lists.fields()
    referrals = wb.add_worksheet(SHEET_REFERRALS)
    _write_lists(wb, config)
    _write_meta(wb, config, created)
    _write_referrals(wb, referrals, fields, config)
    from cstracker.tracker.trends_sheet import add_trends_sheet

    add_trends_sheet(wb, config)
    _write_about(wb, config, fields)
    if audit_rows:
        _write_audit(wb, audit_rows)
    referrals.activate()
    wb.close()
    return path


def _formats(wb: xlsxwriter.Workbook) -> dict[str, object]:
    base = {"valign": "top", "font_size": 10}
    return {
        "header": wb.add_format(
            {
                **base,
                "bold": True,
                "text_wrap": True,
                "bg_color": "#1F4E78",
                "font_color": "#FFFFFF",
                "border": 1,
                "valign": "vcenter",
            }
        ),
        Kind.DATE: wb.add_format({**base, "num_format": DATE_FORMAT}),
        Kind.DATETIME: wb.add_format({**base, "num_format": DATETIME_FORMAT}),
        Kind.FORMULA: wb.add_format({**base, "num_format": DATE_FORMAT, "bg_color": "#F2F2F2"}),
        "status": wb.add_format({**base, "bg_color": "#F2F2F2"}),
        Kind.MOSAIC: wb.add_format({**base, "num_format": "@"}),
        Kind.ID: wb.add_format({**base, "num_format": "@", "bold": True}),
        Kind.LONGTEXT: wb.add_format({**base, "text_wrap": True}),
        Kind.INT: wb.add_format({**base, "num_format": "0", "align": "center"}),
        Kind.FLAG: wb.add_format({**base, "align": "center"}),
        "text": wb.add_format({**base}),
        "overdue": wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006", "bold": True}),
    }


def column_format(formats: dict[str, object], f: Field) -> object:
    if f.key == "status":
        return formats["status"]
    return formats.get(f.kind, formats["text"])


def _write_referrals(wb: xlsxwriter.Workbook, ws, fields: tuple[Field, ...], config: Config) -> None:
    formats = _formats(wb)
    columns = []
    for i, f in enumerate(fields):
        ws.set_column(i, i, f.width, column_format(formats, f))
        col: dict[str, object] = {"header": f.label, "header_format": formats["header"]}
        if f.key in derived.FORMULAS:
            col["formula"] = derived.FORMULAS[f.key]()
            col["format"] = column_format(formats, f)
        columns.append(col)
    last_col = len(fields) - 1
    # One empty data row: an Excel Table cannot have none. Readers skip blank rows.
    ws.add_table(0, 0, 1, last_col, {"name": TABLE_NAME, "columns": columns, "style": "Table Style Light 9"})
    ws.set_row(0, 45)
    ws.freeze_panes(1, 1)
    # Printed, it runs across many pages: each repeats the headings and the Referral ID.
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.repeat_rows(0)
    ws.repeat_columns(0)
    ws.print_across()
    ws.set_footer("&L&A&RPage &P of &N")
    for i, f in enumerate(fields):
        _add_validation(ws, i, f, config.settings.referral_id_prefix)
    _add_overdue_highlight(ws, fields, formats["overdue"])


def _add_validation(ws, col: int, f: Field, prefix: str) -> None:
    options = field_validation(f, prefix)
    if options is not None:
        ws.data_validation(1, col, LAST_ROW, col, options)


def field_validation(f: Field, referral_id_prefix: str = "CS") -> dict[str, object] | None:
    """Excel data validation for a field's cells (tracker column or form input); None: no rule.

    Lists always come from a defined name on the Lists sheet, never an inline
    list (Excel caps those at 255 characters). Examples use the tracker's own Referral ID prefix.
    """
    title = f.label[:32]
    message = help_for(f, referral_id_prefix)[:255]
    common = {"input_title": title, "input_message": message, "error_type": "stop", "error_title": title}
    if f.kind in (Kind.CODE, Kind.FLAG):
        options = {
            "validate": "list",
            "source": "=" + list_name(f.code_list or "tick"),
            "error_message": f"Pick {f.label} from the dropdown (the Lists sheet shows what is allowed)."[
                :255
            ],
        }
    elif f.kind is Kind.DATE:
        options = {
            "validate": "date",
            "criteria": "between",
            "minimum": dt.date(1990, 1, 1),
            "maximum": dt.date(2100, 12, 31),
            "error_message": "Type a date, dd/mm/yyyy.",
        }
    elif f.kind is Kind.INT and f.bounds:
        lo, hi = f.bounds
        options = {
            "validate": "integer",
            "criteria": "between",
            "minimum": lo,
            "maximum": hi,
            "error_message": f"Type a whole number from {lo} to {hi}.",
        }
    elif f.kind is Kind.MOSAIC:
        options = {
            "validate": "length",
            "criteria": "between",
            "minimum": 1,
            "maximum": 12,
            "error_message": "A Mosaic ID is 1 to 12 digits.",
        }
    elif f.help:
        options = {"validate": "any"}
    else:
        return None
    return {**common, **options}


def _add_overdue_highlight(ws, fields: tuple[Field, ...], fmt: object) -> None:
    keys = [f.key for f in fields]
    due = xl_col_to_name(keys.index("follow_up_due"))
    done = xl_col_to_name(keys.index("follow_up_date"))
    rule = {"type": "formula", "criteria": f'=AND(${due}2<>"",${done}2="",${due}2<TODAY())', "format": fmt}
    for key in ("follow_up_due", "status"):
        col = keys.index(key)
        ws.conditional_format(1, col, LAST_ROW, col, rule)


def _write_lists(wb: xlsxwriter.Workbook, config: Config) -> None:
    ws = write_lists_sheet(
        wb,
        config.lists.lists,
        "The values each dropdown on the Referrals sheet allows. "
        "Change them with a config file at init, not here.",
    )
    ws.freeze_panes(2, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_print_scale(LISTS_PRINT_SCALE)
    ws.repeat_rows(1)
    ws.set_footer("&L&A&RPage &P of &N")


def list_title(key: str) -> str:
    """The heading of a list on a Lists sheet (row 2): the code list's title."""
    return DEFAULT_CODE_LISTS[key].title if key in DEFAULT_CODE_LISTS else key.replace("_", " ").capitalize()


def write_lists_sheet(wb: xlsxwriter.Workbook, lists: Mapping[str, Sequence[str]], note: str) -> Any:
    """The one writer of a ``Lists`` sheet: the tracker's and the consultation form's copy.

    ``note`` in A1; each list's title in row 2 and its codes below it; the defined name
    ``list_<key>`` over the codes, which every dropdown's validation refers to (never an inline list:
    Excel caps those at 255 characters). Returns the worksheet for the caller's page set-up.
    """
    ws = wb.add_worksheet(SHEET_LISTS)
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    )
    ws.write_string(0, 0, note, wb.add_format({"italic": True}))
    for col, (key, codes) in enumerate(lists.items()):
        ws.write_string(1, col, list_title(key), head)
        for row, code in enumerate(codes, start=2):
            ws.write_string(row, col, code)
        ws.set_column(col, col, max(12, min(36, max(len(c) for c in codes) + 2)))
        first = xl_rowcol_to_cell(2, col, row_abs=True, col_abs=True)
        last = xl_rowcol_to_cell(1 + len(codes), col, row_abs=True, col_abs=True)
        wb.define_name(list_name(key), f"={SHEET_LISTS}!{first}:{last}")
    return ws


def _write_meta(wb: xlsxwriter.Workbook, config: Config, created: dt.datetime) -> None:
    ws = wb.add_worksheet(SHEET_META)
    ws.write_row(0, 0, ["key", "value"])
    rows: list[tuple[str, object]] = [
        ("schema_version", SCHEMA_VERSION),
        ("tool_version", __version__),
        ("created", created.strftime("%Y-%m-%d %H:%M:%S")),
        *config.settings.to_pairs(),
    ]
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, (key, value) in enumerate(rows, start=1):
        ws.write_string(r, 0, key)
        if value is None:
            pass  # a setting with no default (retention_years): its cell waits, empty, for a value
        elif isinstance(value, dt.date):
            # a date serial: the Status and Follow-up due formulas compare dates with it
            ws.write_datetime(r, 1, dt.datetime.combine(value, dt.time()), date_format)
        elif isinstance(value, int):
            ws.write_number(r, 1, value)
        else:
            ws.write_string(r, 1, str(value))
        wb.define_name(setting_name(key), f"='{SHEET_META}'!$B${r + 1}")
    # Style exemplars the tracker writer reuses for new cells: text that must never
    # be read as a formula keeps Excel's quote prefix.
    ws.write_string(len(rows) + 2, 0, "style:quote_prefix")
    ws.write_string(
        len(rows) + 2, 1, "=text", wb.add_format({"quote_prefix": True, "valign": "top", "font_size": 10})
    )
    ws.hide()


def _write_audit(wb: xlsxwriter.Workbook, rows) -> None:
    """The audit trail's first entry (``audit.py``), on its own hidden sheet at the end."""
    ws = wb.add_worksheet(SHEET_AUDIT)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, int | float) and not isinstance(value, bool):
                ws.write_number(r, c, value)
            elif value not in (None, ""):
                ws.write_string(r, c, str(value))
    ws.hide()


def _write_about(wb: xlsxwriter.Workbook, config: Config, fields: tuple[Field, ...]) -> None:
    ws = wb.add_worksheet(SHEET_ABOUT)
    title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F4E78"})
    bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "font_size": 10})
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "font_size": 10})
    ws.set_column(0, 0, ABOUT_WIDTHS[0])
    ws.set_column(1, 1, ABOUT_WIDTHS[1])
    ws.write(0, 0, "Contextual Safeguarding Referral Tracker", title)
    ws.set_row(0, 24)

    def line(r: int, key: str, value: str, key_format=bold) -> None:
        # every row gets the height its wrapped text needs: printed, nothing is cut or overlaps
        ws.write_string(r, 0, key, key_format)
        ws.write_string(r, 1, value, wrap)
        ws.set_row(r, max(row_height(key, ABOUT_WIDTHS[0]), row_height(value, ABOUT_WIDTHS[1])))

    facts = [
        ("Local authority", config.settings.authority_name),
        (
            "What this is",
            "Every referral for a Contextual Safeguarding case consultation, suitable or not, "
            "with the data entry form's themes, agreed actions and follow-up.",
        ),
        ("Schema version", SCHEMA_VERSION),
        ("Made by", f"cstracker {__version__}"),
        ("Follow-up period (days)", str(config.settings.follow_up_days)),
        (
            "Referral IDs",
            f"{config.settings.referral_id_prefix}-year-number, e.g. "
            f"{example_referral_id(config.settings.referral_id_prefix)}; cstracker makes them.",
        ),
        (
            "Places (Detail)",
            "Name the school, gang, place or group in Detail. Several? Separate them with ; or a line "
            "break (e.g. Riverside Park; Oakfield Academy): each one counts for the report's hotspots.",
        ),
        (
            "Tracker start",
            f"{config.settings.tracker_start:%d/%m/%Y}: consultations held before it are history; "
            f"their Status is '{derived.HISTORIC}' and no follow-up is expected of them.",
        ),
        ("Personal data", "Keyed on Mosaic ID; holds no names. Narrative stays on the consultation form."),
    ]
    for r, (k, v) in enumerate(facts, start=2):
        line(r, k, v)
    r = len(facts) + 3
    for i, text in enumerate(HOW_TO, start=1):
        line(r + i - 1, "How to use it" if i == 1 else "", f"{i}. {text}")
    r += len(HOW_TO) + 1
    ws.write_string(r, 0, "Column", bold)
    ws.write_string(r, 1, "What goes in it", bold)
    for i, f in enumerate(fields, start=1):
        line(r + i, f.label, help_for(f, config.settings.referral_id_prefix), wrap)
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_print_scale(ABOUT_PRINT_SCALE)
    ws.repeat_rows(0)
    ws.print_area(0, 0, r + len(fields), 1)
    ws.set_footer("&L&A&RPage &P of &N")
