"""The consultation form workbook (``cstracker form``): one printable sheet laid out like the toolkit's form.

Every input cell carries a defined name (``f_`` + the field key's slug), so a
completed form is read by name, not by coordinates (``form_reader.py``). The
layout itself (``form_sections``) is plain data shared with the reader, which
falls back to the labels beside the cells when a spreadsheet program has lost
the names. Dropdowns come from the form's own ``Lists`` sheet, a copy of the
tracker's lists when the form is pre-filled, so a local authority's own themes
and teams appear. Narrative notes stay on the form; only fields with a tracker
key are ever ingested.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cstracker.core.config import Config, Settings
from cstracker.core.errors import FormError, UsageError
from cstracker.core.schema import (
    CONTEXT_ACTION_FIELD,
    FIELDS_BY_KEY,
    SCHEMA_VERSION,
    CodeLists,
    Field,
    Kind,
    flag_field,
    slug,
)
from cstracker.forms.dates import serial_formula, spelled, spelled_formula, typed
from cstracker.forms.guidance import DATE_HOW, GANG_NOTE, GUIDANCE, tick_how, write_guidance
from cstracker.tracker.create import field_validation, write_lists_sheet
from cstracker.version import __version__
from cstracker.xlsx.outputs import check_output, write_output

FORM_VERSION = "1"
#: Form versions this cstracker can read.
KNOWN_FORM_VERSIONS = ("1",)
SHEET_FORM = "Consultation form"
SHEET_META = "_form"
NAME_FORM_ID = "form_id"
NAME_FORM_VERSION = "form_version"
NAME_PREFIX = "f_"
#: rows of the hidden sheet of a form pre-filled from the tracker: the referral, and what it was pre-filled with
PREFILL_REFERRAL = "prefilled_from"
PREFILL = "prefilled_values"
TICK_MARK = "✓"
#: the form's own tick list (the tracker's tick list says "Yes"; a form shows a tick)
TICK_LIST = "form_tick"
TEMPLATE_TIME = dt.datetime(2026, 1, 1)
LAST_COL = 9  # columns A..J
#: hidden, outside the print area: each date's serial number, worked out from its text (form_dates.py)
HELPER_COL = 25  # columns Z and AA
#: the form prints on two A4 pages at this scale (%), readable; tests/test_printing.py holds it to that
PRINT_SCALE = 76


@dataclass(frozen=True)
class FormItem:
    """One input cell: its defined name, the label beside it, and the tracker field it feeds (if any)."""

    name: str
    label: str
    key: str | None = None  # tracker field key; None: stays on the form (narrative, name)
    concern: str | None = None  # for the primary concern ticks: the context it stands for
    below: bool = False  # the input is below its label (the young person's row), else right of it
    tall: float = 0  # row height (points) for free-text inputs

    @functools.cached_property
    def field(self) -> Field | None:
        if self.key is None:
            return None
        if self.key.startswith(("theme:", "intervention:")):
            kind, code = self.key.split(":", 1)
            return flag_field(code, "themes" if kind == "theme" else "interventions")
        return FIELDS_BY_KEY[self.key]

    @functools.cached_property
    def is_tick(self) -> bool:
        return self.concern is not None or (self.field is not None and self.field.kind is Kind.FLAG)


@dataclass(frozen=True)
class FormSection:
    title: str  # written in column A; unique, so the label fallback can find the section
    items: tuple[FormItem, ...]
    style: str  # "pairs" (label, input; two per row), "wide" (label, input across), "row", "ticks"
    guidance: str = ""


def input_name(key: str) -> str:
    """The defined name of a field's input cell: 'theme:County Lines' -> 'f_theme_county_lines'."""
    return NAME_PREFIX + slug(key)


def _f(key: str, label: str | None = None, **kw: Any) -> FormItem:
    return FormItem(input_name(key), label or FIELDS_BY_KEY[key].label, key, **kw)


def _note(name: str, label: str, tall: float = 60) -> FormItem:
    return FormItem(NAME_PREFIX + name, label, None, tall=tall)


def form_sections(lists: CodeLists) -> tuple[FormSection, ...]:
    """The form's layout, top to bottom, for the themes and interventions in ``lists``."""
    return _sections(lists.codes("primary_concern"), lists.themes, lists.interventions)


@functools.lru_cache(maxsize=16)
def _sections(
    concerns: tuple[str, ...], themes: tuple[str, ...], interventions: tuple[str, ...]
) -> tuple[FormSection, ...]:
    yp = ("age", "gender", "ethnicity", "disability", "legal_status", "offending", "gang_affiliation")
    return (
        FormSection(
            "Consultation",
            (
                _f("consultation_date", "Date"),
                _f("cs_practitioner"),
                _f("practitioners_present", tall=30),
                _note("professional_involvement", "Professional involvement", 45),
                _note("yp_name", "Name of young person", 0),
            ),
            "wide",
        ),
        FormSection(
            "Young person",
            (
                *(_f(k, "GA" if k == "gang_affiliation" else None, below=True) for k in yp),
                _f("education", below=True),
                _f("siblings", below=True),
            ),
            "row",
        ),
        FormSection(
            "What we know (these notes stay on this form; they are not copied to the tracker)",
            (
                _note("notes_history", "Child's history / family background", 75),
                _note("notes_home", "Home"),
                _note("notes_peer_groups", "Peer groups"),
                _note("notes_school", "School"),
                _note("notes_neighbourhood", "Neighbourhood"),
                _note("notes_social_media", "Social media (online behaviour)", 45),
                _note("notes_additional", "Additional factors", 45),
            ),
            "wide",
        ),
        FormSection(
            "Agreed actions",
            tuple(
                _f(key, "Peer group" if context == "Peer Group" else context, tall=45)
                for context, key in CONTEXT_ACTION_FIELD.items()
            ),
            "wide",
            GUIDANCE["Agreed actions"],
        ),
        FormSection(
            "Data entry form: complete after the consultation and pass to the CS coordinator",
            tuple(
                _f(k)
                for k in (
                    "mosaic_id",
                    "referral_id",
                    "referrer",
                    "referrer_team",
                    "date_received",
                    "known_since",
                    "previous_referrals",
                    "initial_referrer",
                    "suitability",
                    "decision_date",
                    "signposted_to",
                )
            ),
            "pairs",
            GUIDANCE["Data entry form"],
        ),
        FormSection(
            "Primary concern: tick ONE only",
            tuple(
                FormItem(input_name("primary_concern_" + c), c, None, concern=c)
                for c in CONTEXT_ACTION_FIELD
                if c in concerns
            )
            + (_f("detail", "Detail (e.g. name of school, gang, location)"),),
            "ticks",
            GUIDANCE["Primary concern"],
        ),
        FormSection(
            "Themes identified: tick all that apply",
            tuple(_f(f"theme:{t}", t) for t in themes) + (_f("theme_other_text", "Other (state)"),),
            "ticks",
            GUIDANCE["Themes"],
        ),
        FormSection(
            "Interventions agreed: tick all that apply",
            tuple(_f(f"intervention:{i}", i) for i in interventions),
            "ticks",
            GUIDANCE["Interventions"],
        ),
    )


def form_items(lists: CodeLists) -> dict[str, FormItem]:
    """Every input of the form by its defined name (lower case, as the reader keys them)."""
    return _items(lists.codes("primary_concern"), lists.themes, lists.interventions)


@functools.lru_cache(maxsize=16)
def _items(*codes: tuple[str, ...]) -> dict[str, FormItem]:
    return {item.name: item for section in _sections(*codes) for item in section.items}


def new_form_id() -> str:
    """A short unique Form ID, e.g. F-3F9A12C07B4E (48 random bits of a uuid4)."""
    return "F-" + uuid.uuid4().hex[:12].upper()


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def make_form(
    output: str | Path,
    tracker: str | Path | None = None,
    referral: str | None = None,
    overwrite: bool = False,
) -> tuple[Path, str, dict[str, Any]]:
    """``cstracker form``: a blank form, or one pre-filled from the tracker's row for ``referral``.

    Returns (path, form ID, the pre-filled record).
    """
    output = Path(output)
    if referral and not tracker:
        raise UsageError("--referral needs --tracker: the tracker the referral is on")
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"{output}: a form must be saved as .xlsx")
    # Checked before anything is read or written: an existing form may hold a practitioner's
    # answers (replaced only with --overwrite), and a tracker is never replaced by a form.
    check_output(output, "form", overwrite=overwrite)
    config, record = Config(), {}
    if tracker:
        from cstracker.tracker.tracker import Tracker

        t = Tracker.open(tracker)
        config = Config(settings=t.settings, lists=t.lists)
        if referral:
            found = t.find(referral_id=referral.strip().upper())
            if found is None:
                raise FormError(f"{tracker}: Referral ID {referral} is not on the Referrals sheet")
            record = found
    form_id = new_form_id()
    created = dt.datetime.now().replace(microsecond=0)
    write_output(output, lambda tmp: write_form(tmp, config, record=record, form_id=form_id, created=created))
    return output, form_id, record


def write_blank_template(path: str | Path, config: Config) -> Path:
    """The committed blank form: byte-stable, no Form ID (ingest then matches it by Mosaic ID and date)."""
    return write_form(path, config, form_id="", created=TEMPLATE_TIME)


def write_form(
    path: str | Path,
    config: Config,
    record: Mapping[str, Any] | None = None,
    form_id: str | None = None,
    created: dt.datetime | None = None,
) -> Path:
    """Write a consultation form to ``path``, pre-filled with ``record``'s values for the form's fields."""
    import xlsxwriter

    path = Path(path)
    form_id = new_form_id() if form_id is None else form_id
    created = created or TEMPLATE_TIME
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties(
        {
            "title": "Contextual Safeguarding case consultation form",
            "subject": config.settings.authority_name,
            "comments": f"cstracker {__version__}, form version {FORM_VERSION}, schema {SCHEMA_VERSION}",
            "created": created,
        }
    )
    ws = wb.add_worksheet(SHEET_FORM)
    _FormWriter(wb, ws, config, dict(record or {})).write(form_id)
    write_guidance(wb, TICK_MARK)
    _write_lists(wb, config.lists)
    _write_meta(wb, form_id, created, config.settings, _prefill_base(config.lists, record))
    ws.activate()
    try:
        wb.close()
    except OSError as e:
        raise FormError(f"{path}: cannot be written ({e.strerror or e})") from None
    return path


class _FormWriter:
    def __init__(self, wb, ws, config: Config, record: dict[str, Any]) -> None:
        self.wb, self.ws, self.config, self.record = wb, ws, config, record
        self.lists = config.lists
        self.row = 0
        self.date_cells: dict[str, str] = {}  # input name -> its absolute cell, for the spelled-out date
        self.helper_rows: list[int] = []  # the row of each helper cell written so far
        base = {"font_size": 10, "valign": "top", "text_wrap": True, "border": 1}
        add = wb.add_format
        self.fmt = {
            "title": add({"bold": True, "font_size": 14, "font_color": "#1F4E78"}),
            "sub": add(
                {"italic": True, "font_size": 9, "font_color": "#595959", "text_wrap": True, "valign": "top"}
            ),
            "formid": add({"bold": True, "font_size": 10, "align": "right"}),
            "section": add({"bold": True, "font_size": 11, "bg_color": "#1F4E78", "font_color": "#FFFFFF"}),
            "label": add({**base, "bold": True, "bg_color": "#DDEBF7"}),
            "label_c": add({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center"}),
            "input": add({**base, "locked": False}),
            # text, so no locale turns 03/10/2025 into 10 March; ingest reads it day first
            "date": add({**base, "locked": False, "num_format": "@"}),
            "spelled": add(
                {**base, "italic": True, "font_size": 9, "font_color": "#1F4E78", "bg_color": "#F2F2F2"}
            ),
            "helper": add({"num_format": "0"}),
            "text_id": add({**base, "locked": False, "num_format": "@"}),
            "int": add({**base, "locked": False, "num_format": "0", "align": "center"}),
            "tick": add({**base, "locked": False, "align": "center", "valign": "vcenter", "font_size": 12}),
        }

    # -- layout --------------------------------------------------------------

    def write(self, form_id: str) -> None:
        ws = self.ws
        ws.set_column(0, 0, 21)
        ws.set_column(1, LAST_COL, 10)
        ws.merge_range(0, 0, 0, 6, "Contextual Safeguarding case consultation", self.fmt["title"])
        ws.merge_range(0, 7, 0, LAST_COL, f"Form ID {form_id or '(none)'}", self.fmt["formid"])
        ws.merge_range(
            1,
            0,
            1,
            LAST_COL,
            f"{self.config.settings.authority_name}. Type in the white boxes; pick coded answers from the "
            f"dropdowns. {tick_how(TICK_MARK)} Type dates day first (03/10/2025). "
            "Hover over a label with a red corner for prompts; the Guidance sheet has them all.",
            self.fmt["sub"],
        )
        ws.set_row(1, 26)  # two lines of 9-point text
        self.row = 3
        for section in form_sections(self.lists):
            if section.style == "pairs":
                # the data entry form starts the second page, whatever fits on the first
                ws.set_h_pagebreaks([self.row])
            self._section(section)
        ws.set_column(HELPER_COL, HELPER_COL + 1, 10, None, {"hidden": True})
        # a date typed as text is what we want here: no green "two-digit year" warnings
        cells = " ".join(c.replace("$", "") for c in self.date_cells.values())
        ws.ignore_errors({"two_digit_text_year": cells, "number_stored_as_text": cells})
        ws.set_paper(9)  # A4
        ws.set_portrait()
        ws.set_print_scale(PRINT_SCALE)
        ws.repeat_rows(0, 1)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.center_horizontally()
        ws.print_area(0, 0, self.row - 2, LAST_COL)  # the last section ends with a spacer row
        ws.set_footer(f"&L&8Form ID {form_id or '(none)'}&R&8Page &P of &N")
        ws.protect("", {"format_rows": True, "format_columns": True})

    def _section(self, section: FormSection) -> None:
        ws = self.ws
        ws.merge_range(self.row, 0, self.row, LAST_COL, section.title, self.fmt["section"])
        if section.guidance:
            self._comment(self.row, 0, section.guidance)
        self.row += 1
        getattr(self, "_" + section.style)(section.items)
        self.row += 1

    def _wide(self, items: tuple[FormItem, ...]) -> None:
        for item in items:
            self._label(self.row, 0, self.row, 0, item)
            if _is_date(item):
                self._input(self.row, 1, self.row, 3, item)
                self._spelled(self.row, 4, self.row, LAST_COL, item)
            else:
                self._input(self.row, 1, self.row, LAST_COL, item)
            if item.tall:
                self.ws.set_row(self.row, item.tall)
            self.row += 1

    def _pairs(self, items: tuple[FormItem, ...]) -> None:
        for i in range(0, len(items), 2):
            pair = items[i : i + 2]
            # a date gets its spelled-out words in a row beneath; its label spans both rows
            low = 1 if any(_is_date(item) for item in pair) else 0
            for item, (first, last, c1, c2) in zip(pair, ((0, 0, 1, 3), (4, 5, 6, LAST_COL)), strict=False):
                self._label(self.row, first, self.row + low, last, item)
                self._input(self.row, c1, self.row, c2, item)
                if _is_date(item):
                    self._spelled(self.row + 1, c1, self.row + 1, c2, item)
                elif low:
                    self.ws.merge_range(self.row + 1, c1, self.row + 1, c2, "", self.fmt["spelled"])
            self.ws.set_row(self.row, 27)
            if low:
                self.ws.set_row(self.row + 1, 15)
            self.row += 1 + low

    def _row(self, items: tuple[FormItem, ...]) -> None:
        self.ws.write_string(self.row, 0, "", self.fmt["label"])
        self.ws.write_string(self.row + 1, 0, "", self.fmt["label"])
        for col, item in enumerate(items, start=1):
            self._label(self.row, col, self.row, col, item, centred=True)
            self._input(self.row + 1, col, self.row + 1, col, item)
        self.ws.set_row(self.row, 27)
        self.ws.set_row(self.row + 1, 40)
        self.row += 2

    def _ticks(self, items: tuple[FormItem, ...]) -> None:
        ticks = [i for i in items if i.is_tick]
        # three label+tick pairs a row: label A, tick B; label C:E, tick F; label G:I, tick J
        spans = ((0, 0, 1), (2, 4, 5), (6, 8, 9))
        for i, item in enumerate(ticks):
            first, last, tick_col = spans[i % 3]
            self._label(self.row, first, self.row, last, item)
            self._input(self.row, tick_col, self.row, tick_col, item)
            if i % 3 == 2 or i == len(ticks) - 1:
                self.ws.set_row(self.row, 18)
                self.row += 1
        for item in items:
            if not item.is_tick:
                self._label(self.row, 0, self.row, 0, item)
                self._input(self.row, 1, self.row, LAST_COL, item)
                self.ws.set_row(self.row, 27)
                self.row += 1

    # -- cells ---------------------------------------------------------------

    def _label(self, r1: int, c1: int, r2: int, c2: int, item: FormItem, centred: bool = False) -> None:
        fmt = self.fmt["label_c" if centred else "label"]
        if (r1, c1) == (r2, c2):
            self.ws.write_string(r1, c1, item.label, fmt)
        else:
            self.ws.merge_range(r1, c1, r2, c2, item.label, fmt)
        hint = GUIDANCE.get(item.label.split(" (")[0]) if item.key is None and item.concern is None else None
        if item.key == "gang_affiliation":
            hint = GANG_NOTE
        if hint:
            self._comment(r1, c1, hint)

    def _comment(self, row: int, col: int, text: str) -> None:
        self.ws.write_comment(row, col, text, {"x_scale": 2.2, "y_scale": 1.6, "font_size": 9})

    def _input(self, r1: int, c1: int, r2: int, c2: int, item: FormItem) -> None:
        from xlsxwriter.utility import xl_rowcol_to_cell

        fmt, value = self._format(item), self._prefill(item)
        if (r1, c1) != (r2, c2):
            self.ws.merge_range(r1, c1, r2, c2, "", fmt)
        if isinstance(value, dt.date) and _is_date(item):
            self.ws.write_string(r1, c1, typed(value), fmt)
        elif isinstance(value, dt.date):
            self.ws.write_datetime(r1, c1, dt.datetime.combine(value, dt.time()), fmt)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.ws.write_number(r1, c1, value, fmt)
        elif value is not None:
            self.ws.write_string(r1, c1, str(value), fmt)
        elif (r1, c1) == (r2, c2):
            self.ws.write_blank(r1, c1, None, fmt)
        cell = xl_rowcol_to_cell(r1, c1, row_abs=True, col_abs=True)
        self.wb.define_name(item.name, f"='{SHEET_FORM}'!{cell}")
        self._validation(r1, c1, item)
        if _is_date(item):
            self.date_cells[item.name] = cell

    def _spelled(self, r1: int, c1: int, r2: int, c2: int, item: FormItem) -> None:
        """The date in words beside (or under) its input, from a hidden helper cell in the same row as it."""
        from xlsxwriter.utility import xl_rowcol_to_cell

        cell = self.date_cells[item.name]
        row = int(cell.rsplit("$", 1)[1]) - 1
        # two dates can share a row (Date received, Known since): one helper column each
        col = HELPER_COL + self.helper_rows.count(row)
        self.helper_rows.append(row)
        helper = xl_rowcol_to_cell(row, col)
        value = self._prefill(item)
        day = value if isinstance(value, dt.date) else None
        self.ws.write_formula(
            row,
            col,
            serial_formula(cell.replace("$", "")),
            self.fmt["helper"],
            "" if day is None else (day - dt.date(1899, 12, 30)).days,
        )
        words = "" if day is None else spelled(day)
        self.ws.merge_range(r1, c1, r2, c2, "", self.fmt["spelled"])
        self.ws.write_formula(r1, c1, spelled_formula(helper), self.fmt["spelled"], words)

    def _format(self, item: FormItem):
        f = item.field
        if item.is_tick:
            return self.fmt["tick"]
        if f is None:
            return self.fmt["input"]
        return {
            Kind.DATE: self.fmt["date"],
            Kind.MOSAIC: self.fmt["text_id"],
            Kind.ID: self.fmt["text_id"],
            Kind.INT: self.fmt["int"],
        }.get(f.kind, self.fmt["input"])

    def _prefill(self, item: FormItem) -> Any:
        if item.concern is not None:
            return TICK_MARK if self.record.get("primary_concern") == item.concern else None
        if item.key is None:
            return None
        value = self.record.get(item.key)
        if item.is_tick:
            return TICK_MARK if value else None
        return None if value in (None, "") else value

    def _validation(self, row: int, col: int, item: FormItem) -> None:
        f = item.field
        title = item.label[:32]
        if item.is_tick:
            what = "this is the main concern" if item.concern else "it applies"
            options: dict[str, Any] = {
                "validate": "list",
                "source": "=list_" + TICK_LIST,
                "input_title": title,
                "input_message": f"Tick when {what}: pick {TICK_MARK} from the arrow beside this box "
                "(or type x or Yes). Leave it empty for no.",
                # a warning, not a stop: x, Y, yes or TRUE typed by hand are read as ticks too
                "error_type": "warning",
                "error_message": f"Pick {TICK_MARK} from the arrow beside the box, or leave it empty.",
            }
        elif f is None:
            return
        elif f.kind is Kind.DATE:
            # a text cell: no date rule (it would refuse text), just how to type it
            options = {"validate": "any", "input_title": title, "input_message": DATE_HOW[:255]}
        else:
            # the same rule as the tracker's column, so a form never accepts what the tracker refuses
            found = field_validation(f, self.config.settings.referral_id_prefix)
            if found is None:
                return
            options = dict(found)
            if "Lists sheet" in str(options.get("error_message", "")):
                options["error_message"] = f"Pick {f.label} from the dropdown (the arrow beside the box)."[
                    :255
                ]
        self.ws.data_validation(row, col, row, col, options)


def _is_date(item: FormItem) -> bool:
    return item.field is not None and item.field.kind is Kind.DATE


def _write_lists(wb, lists: CodeLists) -> None:
    ws = write_lists_sheet(
        wb,
        {**lists.lists, TICK_LIST: (TICK_MARK,)},
        "The values each dropdown on the form allows (a copy of the tracker's lists).",
    )
    ws.protect("")
    ws.hide()  # the dropdowns still read it; printing the form gives just the form and its Guidance


def _prefill_base(lists: CodeLists, record: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A form pre-filled from a tracker row carries what it was pre-filled with, as fingerprints
    (``written.py``): its first ingest then knows what the practitioner changed."""
    if not record or not record.get("referral_id"):
        return []
    from cstracker.tracker.written import fingerprints, pack

    keys = {item.key for item in form_items(lists).values() if item.key} | {"primary_concern"}
    keys -= {"referral_id"}
    return [
        (PREFILL_REFERRAL, str(record["referral_id"])),
        (PREFILL, pack(fingerprints(record, sorted(keys)))),
    ]


def _write_meta(
    wb, form_id: str, created: dt.datetime, settings: Settings, prefill: list[tuple[str, str]] = ()
) -> None:
    ws = wb.add_worksheet(SHEET_META)
    rows = [
        (NAME_FORM_VERSION, FORM_VERSION),
        (NAME_FORM_ID, form_id),
        ("schema_version", SCHEMA_VERSION),
        ("tool_version", __version__),
        ("created", created.strftime("%Y-%m-%d %H:%M:%S")),
        ("authority_name", settings.authority_name),
        *prefill,
    ]
    ws.write_row(0, 0, ["key", "value"])
    for r, (key, value) in enumerate(rows, start=1):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
        if key in (NAME_FORM_VERSION, NAME_FORM_ID):
            wb.define_name(key, f"='{SHEET_META}'!$B${r + 1}")
    ws.protect("")
    ws.hide()
