"""The Contextual Safeguarding framework sheet (toolkit Appendix A): ``cstracker form --framework``.

A one-page grid a CS practitioner sends ahead of a case consultation: the places a
young person spends time (rows) against what the consultation will talk about
(columns), with room to write. It is a workbook of its own, printed on one A4
landscape page; nothing in it is ever read back, so the tracker gets nothing from it.
"""

from __future__ import annotations

from pathlib import Path

from cstracker.core.config import Config
from cstracker.core.errors import FormError, UsageError

SHEET_FRAMEWORK = "Framework"

#: the contexts (rows): label, and a prompt of what to think about
CONTEXTS = (
    ("The young person", "who they are, what matters to them"),
    ("Family / home", "the home or homes they live in"),
    ("Peer groups", "friends and groups they spend time with"),
    ("School", "school, college or other education"),
    ("Neighbourhood spaces", "say which: parks, shops, transport, online"),
)
#: the points for discussion (columns): heading, and a prompt
POINTS = (
    ("Current situation", "What is happening now?"),
    ("What we are concerned about", "What harm, and where?"),
    ("What works well", "Strengths, safe adults, safe places"),
    ("Professional involvement to date", "Who is involved, and what do they know?"),
    ("Planned actions", "Who will do what, and by when?"),
    ("Challenges and barriers", "What gets in the way of this work?"),
)
GUIDANCE = (
    "Before the case consultation: a way to think about each place where the young person spends time, "
    "not only about the young person. You do not have to fill it in; notes here help the conversation. "
    "Write what you know; a gap is a question to take to other workers, not a failing. "
    "Keep names out: use initials or the Mosaic ID."
)
#: print scale (%); the grid is laid out to fit one A4 landscape page at it
PRINT_SCALE = 100
CONTEXT_WIDTH = 19
POINT_WIDTH = 18.5
BOX_HEIGHT = 76  # points: room to write by hand


def make_framework(output: str | Path, config: Config | None = None, overwrite: bool = False) -> Path:
    """Write the framework workbook to ``output`` (.xlsx)."""
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"{output}: the framework sheet must be saved as .xlsx")
    if output.exists() and not overwrite:
        raise FormError(f"{output}: already exists; choose another name or add --overwrite")
    return write_framework(output, config or Config())


def write_framework(path: str | Path, config: Config) -> Path:
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties(
        {
            "title": "Contextual Safeguarding framework: for the case consultation",
            "subject": config.settings.authority_name,
        }
    )
    ws = wb.add_worksheet(SHEET_FRAMEWORK)
    add = wb.add_format
    border = {"border": 1, "text_wrap": True, "valign": "top"}
    fmt = {
        "title": add({"bold": True, "font_size": 14, "font_color": "#1F4E78"}),
        "guide": add({"italic": True, "font_size": 9, "text_wrap": True, "valign": "top"}),
        "field": add({"bold": True, "font_size": 10, "align": "right", "valign": "vcenter"}),
        "blank": add({"bottom": 1, "locked": False, "font_size": 10, "valign": "vcenter"}),
        "corner": add(
            {**border, "bold": True, "font_size": 9, "bg_color": "#DDEBF7", "font_color": "#1F4E78"}
        ),
        "head": add(
            {**border, "bold": True, "font_size": 10, "bg_color": "#1F4E78", "font_color": "#FFFFFF"}
        ),
        "context": add({**border, "bold": True, "font_size": 10, "bg_color": "#DDEBF7"}),
        "box": add({**border, "font_size": 10, "locked": False}),
    }
    last = len(POINTS)
    ws.set_column(0, 0, CONTEXT_WIDTH)
    ws.set_column(1, last, POINT_WIDTH)
    ws.merge_range(
        0,
        0,
        0,
        last,
        "Contextual Safeguarding framework: the places where a young person spends time",
        fmt["title"],
    )
    ws.set_row(0, 22)
    ws.merge_range(1, 0, 1, last, GUIDANCE, fmt["guide"])
    ws.set_row(1, 26)
    # who it is about and when: filled by hand
    ws.write_string(2, 0, "Initials or Mosaic ID", fmt["field"])
    ws.merge_range(2, 1, 2, 2, "", fmt["blank"])
    ws.write_string(2, 3, "Consultation date", fmt["field"])
    ws.write_blank(2, 4, None, fmt["blank"])
    ws.write_string(2, 5, "Practitioner", fmt["field"])
    ws.write_blank(2, 6, None, fmt["blank"])
    ws.set_row(2, 22)
    head = 4
    ws.write_string(head, 0, "Places (rows) and points for discussion (columns)", fmt["corner"])
    rich_bold = add({"bold": True, "font_size": 10, "font_color": "#FFFFFF"})
    rich_prompt = add({"italic": True, "font_size": 8, "font_color": "#FFFFFF"})
    for col, (heading, prompt) in enumerate(POINTS, start=1):
        ws.write_rich_string(head, col, rich_bold, heading, rich_prompt, "\n" + prompt, fmt["head"])
    ws.set_row(head, 42)
    ctx_bold = add({"bold": True, "font_size": 10})
    ctx_prompt = add({"italic": True, "font_size": 8, "font_color": "#595959"})
    for i, (context, prompt) in enumerate(CONTEXTS, start=head + 1):
        ws.write_rich_string(i, 0, ctx_bold, context, ctx_prompt, "\n" + prompt, fmt["context"])
        for col in range(1, last + 1):
            ws.write_blank(i, col, None, fmt["box"])
        ws.set_row(i, BOX_HEIGHT)
    bottom = head + len(CONTEXTS)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.set_print_scale(PRINT_SCALE)
    ws.print_area(0, 0, bottom, last)
    ws.set_footer(f"&L&8{config.settings.authority_name}&R&8Contextual Safeguarding case consultation")
    ws.protect("", {"format_rows": True, "format_columns": True})
    ws.activate()
    try:
        wb.close()
    except OSError as e:
        raise FormError(f"{path}: cannot be written ({e.strerror or e})") from None
    return path
