"""The consultation form's words: Appendix B's prompts, how to tick and type dates, the Guidance sheet.

Said in our own words, in a practitioner's language. The prompts show as cell notes on the
form and, with how to fill it in, on the printed Guidance sheet (one A4 page).
"""

from __future__ import annotations

from cstracker.xlsx.printing import row_height

SHEET_GUIDANCE = "Guidance"

# Appendix B's prompts, said in our own words, shown as cell notes and on the Guidance sheet.
GUIDANCE = {
    "Professional involvement": "Which workers and agencies make up the network around the young person, "
    "and what does each of them know about harm outside the family?",
    "Child's history / family background": "How long the young person has been known to us or to "
    "other agencies; earlier referrals and who made the first; the main worries and what is known "
    "about anyone causing harm.",
    "Home": "Who the young person lives with and how they get on; whether carers see the risks outside "
    "the home as we do; family needs already referred (for example domestic abuse, mental health, "
    "substance use); any work with the family on those outside risks.",
    "Peer groups": "Who the young person spends time with and what they do together; their place in "
    "the group (leading or following); what the team and the carers know about these friends and "
    "their families.",
    "School": "The adult at school who matters most to the young person and our contact with them; "
    "what the school is like (peer groups, culture); whether the young person feels safe there.",
    "Neighbourhood": "Where the young person spends time; people or groups there who matter to them; "
    "what is known about the area (gang activity, recent incidents, hotspots).",
    "Social media": "How the young person uses apps and online spaces, whether that is safe, and "
    "whether they, their family or the team need advice or training.",
    "Additional factors": "Anything else that affects risk or safety and fits nowhere above.",
    "Agreed actions": "What each agency will do and what is asked of the CS practitioner (for example "
    "peer-group mapping or group work). Put every action against the context where the harm, or the "
    "strength, is found.",
    "Data entry form": "Complete after the consultation and return the form to the CS coordinator, "
    "who adds it to the Referral Tracker. Pick coded values from the dropdowns.",
    "Primary concern": "Tick the ONE context where the main concern sits. In Detail, name the school, "
    "gang, place or group; several? separate them with ; or a line break (each counts for the hotspots).",
    "Themes": "Tick every theme that came up. If you tick Other, say what it is.",
    "Interventions": "Tick each intervention agreed.",
}


def tick_how(tick: str) -> str:
    """How to tick a box, in a practitioner's words."""
    return (
        f"To tick a box, click it and pick {tick} from the arrow beside it (or type x or Yes). "
        "Leave a box empty for no."
    )


DATE_HOW = (
    "Type dates day first: 03/10/2025 is 3 October 2025. The form spells out each date beside it "
    "(Friday 3 October 2025); check it is the day you mean."
)
#: the note on the young person's GA column
GANG_NOTE = (
    "GA means gang affiliation: is the young person in, or linked to, a gang? "
    "Pick Yes, Suspected, No or Not known from the dropdown."
)

#: Guidance sheet layout (column widths in characters) and its print scale (%), one A4 page
TOPIC_WIDTH = 24
TEXT_WIDTH = 72
PRINT_SCALE = 90


def write_guidance(wb, tick: str) -> None:
    """The Guidance sheet: how to fill in the form, and the prompts; prints on one A4 page."""
    ws = wb.add_worksheet(SHEET_GUIDANCE)
    ws.set_column(0, 0, TOPIC_WIDTH)
    ws.set_column(1, 1, TEXT_WIDTH)
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "font_size": 10})
    bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "font_size": 10})
    head = wb.add_format({"bold": True, "font_size": 11, "font_color": "#1F4E78", "valign": "bottom"})
    ws.write_string(
        0, 0, "Guidance for the consultation form", wb.add_format({"bold": True, "font_size": 14})
    )
    ws.set_row(0, 20)
    row = 1

    def line(topic: str, text: str) -> None:
        nonlocal row
        ws.write_string(row, 0, topic, bold)
        ws.write_string(row, 1, text, wrap)
        ws.set_row(row, max(row_height(text, TEXT_WIDTH), row_height(topic, TOPIC_WIDTH)))
        row += 1

    def heading(text: str) -> None:
        nonlocal row
        ws.write_string(row, 0, text, head)
        ws.set_row(row, 20)
        row += 1

    heading("Filling in the form")
    line(
        "Where to type",
        "Type in the white boxes. Coded answers (gender, suitability, ...) have a dropdown: "
        "click the box and pick from the arrow beside it.",
    )
    line("Ticks", tick_how(tick))
    line("Dates", DATE_HOW)
    line("GA", GANG_NOTE)
    line(
        "What stays on the form",
        "The notes under 'What we know' stay on this form; only the data entry "
        "form, the young person's row and the agreed actions go into the Referral Tracker.",
    )
    heading("Prompts for the consultation")
    line(
        "Start from the case",
        "Not every box needs filling, nor in order. Ask about the places as well as the "
        "young person: what else is known about the school, the peer group and the neighbourhood?",
    )
    for topic, text in GUIDANCE.items():
        line(topic, text)
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_print_scale(PRINT_SCALE)
    ws.print_area(0, 0, row - 1, 1)
    ws.protect("", {"format_rows": True, "format_columns": True})
