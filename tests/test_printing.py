"""Printed, every workbook gives readable pages and nothing else (LibreOffice -> PDF -> pdftotext).

Page counts depend on the fonts: CI installs Carlito (metric-compatible with Calibri, the
workbooks' font) and DejaVu (.ci/run), so the counts below are stable. Readable means a print
scale of at least 70% (``printing.MIN_SCALE``); no cell may print as ``###``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from libreoffice import convert, needs_libreoffice

from cstracker.core.config import Config, load_config
from cstracker.core.schema import help_for
from cstracker.forms.fill import fill_form
from cstracker.forms.framework import CONTEXTS, POINTS, make_framework
from cstracker.forms.guidance import GUIDANCE
from cstracker.forms.workbook import new_form_id, write_form
from cstracker.synthetic import synthetic_records
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.xlsx.printing import MIN_SCALE
from tests.conftest import TODAY

TEMPLATE = Path(__file__).resolve().parent.parent / "workbook_templates" / "Consultation form (blank).xlsx"

#: like LibreOffice: a missing pdftotext skips on a developer's machine, fails under CI (CSTRACKER_REQUIRE_LIBREOFFICE=1)
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None and os.environ.get("CSTRACKER_REQUIRE_LIBREOFFICE") != "1",
    reason="poppler-utils is not installed: apt-get install -y poppler-utils",
)


def pdf_pages(xlsx: Path, folder: Path) -> list[str]:
    """The printed pages of a workbook, as text (one string per page, laid out)."""
    pdf = convert(xlsx, folder, "pdf")
    count = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", pdf))[1])
    return [_run("pdftotext", "-layout", "-f", str(i), "-l", str(i), pdf, "-") for i in range(1, count + 1)]


def _run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9']+", text)


def assert_all_words_printed(text: str, page: str) -> None:
    """Every word of ``text`` is on ``page``: nothing was cut off or printed over."""
    printed = set(words(page))
    missing = [w for w in words(text) if w not in printed]
    assert not missing, f"not printed: {missing} of {text!r}"


def footer_sheet(page: str) -> str:
    """The sheet a tracker page belongs to, from its footer ('Trends ... Page 3 of 9')."""
    last = [line for line in page.splitlines() if line.strip()][-1].split()
    return last[0]


def page_setups(xlsx: Path) -> dict[str, str]:
    """Each visible sheet's <pageSetup> and <sheetPr> XML, by sheet part."""
    out = {}
    with zipfile.ZipFile(xlsx) as z:
        workbook = z.read("xl/workbook.xml").decode()
        visible = [m for m in re.findall(r"<sheet [^>]*>", workbook) if 'state="hidden"' not in m]
        for i, _sheet in enumerate(re.findall(r"<sheet [^>]*>", workbook), start=1):
            xml = z.read(f"xl/worksheets/sheet{i}.xml").decode()
            if _sheet in visible:
                out[f"sheet{i}"] = xml
    return out


def assert_readable_scale(xlsx: Path) -> None:
    for part, xml in page_setups(xlsx).items():
        assert "fitToPage" not in xml, f"{part}: fit to page hides the real scale"
        scale = re.search(r'<pageSetup [^>]*scale="(\d+)"', xml)
        assert scale is None or int(scale[1]) >= MIN_SCALE, f"{part}: printed at {scale[1]}%"


FILLED = {
    "date_received": dt.date(2026, 10, 1),
    "known_since": dt.date(2019, 9, 1),
    "referrer": "Sam Reid",
    "referrer_team": "Children's Social Care",
    "mosaic_id": "9100001",
    "suitability": "Suitable",
    "decision_date": dt.date(2026, 10, 2),
    "consultation_date": dt.date(2026, 10, 9),
    "cs_practitioner": "CS Practitioner A",
    "practitioners_present": "Social worker, school DSL, youth worker, police schools officer",
    "age": 14,
    "gender": "Female",
    "ethnicity": "White - British",
    "legal_status": "Child Protection Plan",
    "primary_concern": "School",
    "detail": "Northgate Academy",
    "theme:CSE": True,
    "theme:Poor school attendance": True,
    "action_school": "Meet the DSL about lunchtime supervision; map the peer group with the school. " * 2,
    "action_home": "Parents offered the support group.",
    "intervention:Peer-group mapping": True,
}


@needs_libreoffice
@needs_poppler
@pytest.mark.parametrize("which", ["blank", "filled"])
def test_the_form_prints_two_pages_and_its_guidance_page_only(tmp_path, which):
    form = TEMPLATE
    if which == "filled":
        form = fill_form(write_form(tmp_path / "form.xlsx", Config(), form_id=new_form_id()), FILLED)
    assert_readable_scale(form)
    pages = pdf_pages(form, tmp_path / "pdf")
    assert len(pages) == 3, [p[:80] for p in pages]
    assert all("Contextual Safeguarding case consultation" in p for p in pages[:2])
    assert "Data entry form" in pages[1]
    guidance = pages[2]
    assert guidance.lstrip().startswith("Guidance for the consultation form")
    for text in GUIDANCE.values():
        assert_all_words_printed(text, guidance)
    # the dropdown lists do not print
    assert not any("White - Irish" in p for p in pages)
    assert not any("###" in p for p in pages)
    if which == "filled":
        assert "Friday 9 October 2026" in pages[0]
        assert "Thursday 1 October 2026" in pages[1]


@needs_libreoffice
@needs_poppler
def test_the_tracker_prints_its_about_and_trends_sheets_readably(tmp_path):
    tracker = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    with Tracker.open_for_update(tracker) as t:
        t.upsert(synthetic_records(20, today=TODAY), today=TODAY)
        t.save()
    assert_readable_scale(tracker)
    pages = pdf_pages(tracker, tmp_path / "pdf")
    by_sheet: dict[str, list[str]] = {}
    for page in pages:
        by_sheet.setdefault(footer_sheet(page), []).append(page)
    counts = {sheet: len(p) for sheet, p in by_sheet.items()}
    # the Referrals sheet runs across pages for its many columns; the rest are short
    assert counts["Lists"] == 2 and counts["Trends"] == 3 and counts["About"] == 2, counts
    assert len(pages) <= 16, counts  # it was 32 pages for 20 rows
    about = "\n".join(by_sheet["About"])
    opened = Tracker.open(tracker)
    for f in opened.fields:
        assert_all_words_printed(help_for(f, opened.settings.referral_id_prefix), about)
    trends = "\n".join(by_sheet["Trends"])
    for heading in (
        "Referrals received",
        "No primary concern",
        "Mental Health (Parental)",
        "Unauthorised Absences",
    ):
        assert_all_words_printed(heading, trends)
    assert not any("###" in p for p in pages)


@needs_libreoffice
@needs_poppler
def test_the_demo_tracker_prints_without_hashes(tmp_path):
    from cstracker.demo import run_demo

    result = run_demo(tmp_path / "demo", today=TODAY, echo=lambda _line: None)
    assert_readable_scale(result.tracker)
    pages = pdf_pages(result.tracker, tmp_path / "pdf")
    counts: dict[str, int] = {}
    for page in pages:
        counts[footer_sheet(page)] = counts.get(footer_sheet(page), 0) + 1
    assert counts["Trends"] == 3 and counts["About"] == 2 and counts["Lists"] == 2, counts
    assert not any("###" in p for p in pages)


@needs_libreoffice
@needs_poppler
def test_the_framework_sheet_is_one_a4_landscape_page_with_room_to_write(tmp_path):
    path = make_framework(tmp_path / "framework.xlsx")
    assert_readable_scale(path)
    pdf = convert(path, tmp_path / "pdf", "pdf")
    info = _run("pdfinfo", pdf)
    assert re.search(r"Pages:\s+1\n", info)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # landscape
    (page,) = pdf_pages(path, tmp_path / "pdf2")
    for context, _ in CONTEXTS:
        assert_all_words_printed(context, page)
    for point, _ in POINTS:
        assert_all_words_printed(point, page)


def report_pages(pdf: Path, sheets: list[str], title: str) -> dict[str, list[str]]:
    """A report's printed pages by sheet, from each page's footer ('Summary: October 2026 ... 1 of 2').

    The footer is found in the page's text in reading order (a chart's legend may print on the same
    line of the laid-out text).
    """
    count = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", pdf))[1])
    by_sheet: dict[str, list[str]] = {}
    for i in range(1, count + 1):
        raw = _run("pdftotext", "-raw", "-f", str(i), "-l", str(i), pdf, "-")
        sheet = max((s for s in sheets if f"{s}: {title}" in raw), key=len)
        by_sheet.setdefault(sheet, []).append(
            _run("pdftotext", "-layout", "-f", str(i), "-l", str(i), pdf, "-")
        )
    return by_sheet


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory):
    from cstracker.demo import run_demo

    result = run_demo(tmp_path_factory.mktemp("demo"), today=TODAY, echo=lambda _line: None)
    return result.files["report"], result.files["published"]


#: pages each sheet of the demo's reports prints on (fonts pinned, see the module's docstring)
DEMO_INTERNAL_PAGES = {
    "Summary": 3,
    "Monthly trend": 1,
    "Themes": 2,
    "Themes together": 1,
    "Referrers": 1,
    "Young people": 3,
    "Contexts": 1,
    "Actions": 2,
    "Timeliness": 1,
    "Data quality": 2,
    "All contexts": 1,
    "All actions missing": 1,
    "Overdue follow-ups": 1,
    "All data problems": 1,
}  # 21 pages (13 before, when every sheet was shrunk to fit the page width)
DEMO_PUBLISHED_PAGES = {
    "Summary": 3,
    "Quarterly trend": 1,
    "Themes": 2,
    "Themes together": 1,
    "Referrers": 1,
    "Young people": 3,
    "Actions": 1,
    "Timeliness": 1,
}  # 13 pages (16 before)


@needs_libreoffice
@needs_poppler
@pytest.mark.parametrize("which", ["internal", "published"])
def test_the_demo_reports_print_readably_on_their_pages(demo_reports, tmp_path, which):
    import openpyxl

    path = demo_reports[0 if which == "internal" else 1]
    assert_readable_scale(path)
    sheets = openpyxl.load_workbook(path).sheetnames
    by_sheet = report_pages(convert(path, tmp_path / "pdf", "pdf"), sheets, "October 2026")
    pages = [p for printed in by_sheet.values() for p in printed]
    counts = {sheet: len(p) for sheet, p in by_sheet.items()}
    assert counts == (DEMO_INTERNAL_PAGES if which == "internal" else DEMO_PUBLISHED_PAGES), counts
    assert not any("###" in p for p in pages)
    # the title rows repeat: every page says what it is and when it was made
    for sheet, printed in by_sheet.items():
        for page in printed:
            assert "Made 27/11/2026 by cstracker" in page, (sheet, page[:200])
    summary = by_sheet["Summary"][0]
    for words in ("Referrals received", "Change since Sep 2026", "Oct 2025"):
        assert_all_words_printed(words, summary)
    if which == "internal":
        assert_all_words_printed("Do not share it outside the team", summary)


@needs_libreoffice
@needs_poppler
def test_a_legacy_trackers_long_lists_stay_on_their_page(tmp_path):
    """The overdue follow-ups, contexts and data problems of a big old tracker: capped where they are
    read, whole on their own sheets (which run to pages, their heading row on each)."""
    import openpyxl
    from long_lists import legacy_records

    from cstracker.core.config import Settings
    from cstracker.core.periods import parse_period
    from cstracker.core.schema import CodeLists
    from cstracker.report.data import frame_from_records
    from cstracker.report.tables import build_report
    from cstracker.report.workbook import write_report

    lists = CodeLists()
    frame = frame_from_records(legacy_records(), lists)
    report = build_report(frame, parse_period(month="2026-10"), lists, Settings(), TODAY)
    path = write_report(report, tmp_path / "legacy.xlsx").path
    assert_readable_scale(path)
    sheets = openpyxl.load_workbook(path).sheetnames
    by_sheet = report_pages(convert(path, tmp_path / "pdf", "pdf"), sheets, "October 2026")
    counts = {sheet: len(p) for sheet, p in by_sheet.items()}
    assert counts["Timeliness"] == 1 and counts["Contexts"] == 1, counts
    assert counts["Data quality"] <= 3 and counts["Actions"] <= 2, counts  # every field's completeness
    assert counts["Overdue follow-ups"] > 1, counts
    assert "more — see sheet 'Overdue follow-ups'" in by_sheet["Timeliness"][0]
    for page in by_sheet["Overdue follow-ups"]:
        assert_all_words_printed("Follow-up due Days overdue", page)  # the heading row repeats
    assert not any("###" in p for printed in by_sheet.values() for p in printed)
