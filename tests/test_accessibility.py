"""Accessible workbooks (issue 13): what Excel's Accessibility Checker and the public guidance on
accessible spreadsheets look for, read from the written XML of the reports (both demo reports and
reports of known data), the tracker, the form and the framework sheet.

* every chart has alternative text (``<xdr:cNvPr descr=...>``) saying, from the data, what it shows:
  the period and the measure, and never a figure hidden as c;
* every table's header row is marked: each block of figures is an Excel Table with a header row of
  unique, non-empty text, and every figure on a sheet is inside one;
* no meaning by colour alone: the heat map's cells show their numbers, its note says the colour only
  repeats them, and text stays readable on its colours;
* descriptive sheet names, each sheet opening at A1 with its title there, the first sheet active;
  reading order top to bottom (charts below the tables, not beside them).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from cstracker.core.config import Config, Settings
from cstracker.core.periods import parse_period
from cstracker.report.data import ReportData, frame_from_records
from cstracker.report.published import build_published
from cstracker.report.tables import build_report
from cstracker.report.workbook import CHART_DATA_COL, write_report
from cstracker.synthetic import synthetic_records
from cstracker.xlsx.parts import parse_ref
from tests.conftest import TODAY
from tests.report.test_report_tables import LISTS, hand_frame

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
OCTOBER = parse_period(month="2026-10")


# -- reading the package ----------------------------------------------------------------------


def _cell(ref: str) -> tuple[int, int]:
    """'B12' -> (11, 1), zero-based."""
    col, row = parse_ref(ref)
    return row - 1, col - 1


def _range(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    (r1, c1), (r2, c2) = _cell(first), _cell(last or first)
    return r1, c1, r2, c2


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    p = PurePosixPath(part)
    name = str(p.parent / "_rels" / (p.name + ".rels"))
    if name not in z.namelist():
        return {}
    out = {}
    for rel in ET.fromstring(z.read(name)).findall("rel:Relationship", NS):
        target = rel.get("Target")
        path = target.lstrip("/") if target.startswith("/") else str(p.parent / target)
        parts: list[str] = []
        for bit in path.split("/"):
            if bit == "..":
                parts.pop()
            else:
                parts.append(bit)
        out[rel.get("Id")] = "/".join(parts)
    return out


class Sheet:
    def __init__(self, z: zipfile.ZipFile, name: str, state: str | None, part: str, shared: list[str]):
        self.name, self.state, self.part = name, state, part
        self.xml = ET.fromstring(z.read(part))
        rels = _rels(z, part)
        self.tables = []
        for tp in self.xml.findall("m:tableParts/m:tablePart", NS):
            table = ET.fromstring(z.read(rels[tp.get(f"{{{NS['r']}}}id")]))
            self.tables.append(table)
        self.drawing = None
        d = self.xml.find("m:drawing", NS)
        if d is not None:
            self.drawing = rels[d.get(f"{{{NS['r']}}}id")]
        self.cells: dict[tuple[int, int], tuple[str, object]] = {}
        for c in self.xml.iter(f"{{{NS['m']}}}c"):
            kind = c.get("t", "n")
            v = c.find("m:v", NS)
            if kind == "s" and v is not None:
                value: object = shared[int(v.text)]
            elif kind == "inlineStr":
                value = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
            elif v is not None and v.text is not None:
                value = v.text if kind in ("str", "e", "b") else float(v.text)
            else:
                continue
            self.cells[_cell(c.get("r"))] = (kind, value)
        self.hidden_cols: set[int] = set()
        for col in self.xml.findall("m:cols/m:col", NS):
            if col.get("hidden") == "1":
                self.hidden_cols.update(range(int(col.get("min")) - 1, int(col.get("max"))))

    def table_ranges(self) -> list[tuple[int, int, int, int]]:
        return [_range(t.get("ref")) for t in self.tables]


class Package:
    """The parts of an .xlsx that accessibility is about, read with the standard library only."""

    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as z:
            self.workbook = ET.fromstring(z.read("xl/workbook.xml"))
            shared = []
            if "xl/sharedStrings.xml" in z.namelist():
                for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
                    shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
            rels = _rels(z, "xl/workbook.xml")
            self.sheets = [
                Sheet(z, s.get("name"), s.get("state"), rels[s.get(f"{{{NS['r']}}}id")], shared)
                for s in self.workbook.findall("m:sheets/m:sheet", NS)
            ]
            self.drawings = {}
            self.charts = {}
            for sheet in self.sheets:
                if sheet.drawing:
                    self.drawings[sheet.name] = ET.fromstring(z.read(sheet.drawing))
                    crels = _rels(z, sheet.drawing)
                    for frame in self.drawings[sheet.name].iter(f"{{{NS['xdr']}}}graphicFrame"):
                        chart = frame.find(".//c:chart", NS)
                        self.charts[id(frame)] = ET.fromstring(z.read(crels[chart.get(f"{{{NS['r']}}}id")]))
            self.styles = ET.fromstring(z.read("xl/styles.xml"))

    @property
    def visible(self) -> list[Sheet]:
        return [s for s in self.sheets if s.state not in ("hidden", "veryHidden")]

    def chart_frames(self):
        """(sheet, anchor, graphicFrame, chart XML) for every chart of the workbook."""
        for sheet in self.sheets:
            drawing = self.drawings.get(sheet.name)
            if drawing is None:
                continue
            for anchor in drawing:
                frame = anchor.find("xdr:graphicFrame", NS)
                if frame is not None:
                    yield sheet, anchor, frame, self.charts[id(frame)]


def chart_title(chart: ET.Element) -> str:
    title = chart.find("c:chart/c:title", NS)
    return "".join(t.text or "" for t in title.iter(f"{{{NS['a']}}}t")) if title is not None else ""


# -- the reports --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from cstracker.demo import run_demo

    result = run_demo(tmp_path_factory.mktemp("demo") / "demo", seed=11, today=TODAY, echo=lambda _l: None)
    return result.files["report"], result.files["published"]


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    report = build_report(hand_frame(), OCTOBER, LISTS, Settings(), TODAY)
    return write_report(report, tmp_path_factory.mktemp("hand") / "CS trends 2026-10.xlsx")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    records = synthetic_records(1500, seed=7, today=TODAY)
    frame = frame_from_records(records, LISTS)
    folder = tmp_path_factory.mktemp("synthetic")
    internal = write_report(build_report(frame, OCTOBER, LISTS, Settings(), TODAY), folder / "internal.xlsx")
    data = ReportData(frame, LISTS, Settings(), TODAY)
    published = build_published(data, OCTOBER, LISTS, Settings(), {})[0]
    return internal, write_report(published, folder / "published.xlsx", publish=True)


def all_reports(demo, synthetic) -> list[Path]:
    return [*demo, synthetic[0].path, synthetic[1].path]


def test_every_chart_has_alt_text(demo, synthetic):
    for path in all_reports(demo, synthetic):
        pkg = Package(path)
        frames = list(pkg.chart_frames())
        assert len(frames) == 2, path  # the Summary's and the trend sheet's
        for sheet, _anchor, frame, chart in frames:
            pr = frame.find("xdr:nvGraphicFramePr/xdr:cNvPr", NS)
            descr = pr.get("descr") or ""
            assert len(descr) > 60, f"{path.name} {sheet.name}: chart without alt text"
            assert chart_title(chart) and chart_title(chart).lower() not in ("chart 1", "")
            assert not re.search(r"\.(png|jpe?g|xlsx)\b", descr)  # the Checker flags file names


#: what each chart measures, by its title: the words a board member would look for in its alt text
MEASURES = {
    "Referrals and consultations, last 12 months": ("referrals received", "consultations held"),
    "Referrals received per month by primary concern": ("referrals received", "primary concern"),
    "Referrals received per quarter by primary concern": ("referrals received", "primary concern"),
}


def _categories(pkg: Package, chart: ET.Element) -> list[str]:
    """The category labels a chart reads, from the cells its first series points at."""
    ref = chart.find(".//c:ser/c:cat//c:f", NS).text
    sheet_name, _, cells = ref.rpartition("!")
    sheet = next(s for s in pkg.sheets if s.name == sheet_name.strip("'").replace("''", "'"))
    r1, c1, r2, _ = _range(cells.replace("$", ""))
    return [str(sheet.cells[(r, c1)][1]) for r in range(r1, r2 + 1)]


def test_alt_text_names_the_period_and_the_measure(demo, synthetic):
    for path in all_reports(demo, synthetic):
        pkg = Package(path)
        for sheet, _anchor, frame, chart in pkg.chart_frames():
            descr = frame.find("xdr:nvGraphicFramePr/xdr:cNvPr", NS).get("descr")
            where = f"{path.name} {sheet.name}: {descr}"
            assert "October 2026" in descr, where  # the report's period
            labels = _categories(pkg, chart)
            # what the chart spans: 'Nov 2025 to Oct 2026', or for labels that are spans themselves
            # '8 quarters, the first Oct to Dec 2024 and the last Jul to Sep 2026'
            if any(" to " in label for label in labels):
                assert f"the first {labels[0]} and the last {labels[-1]}" in descr, where
            else:
                assert f"{labels[0]} to {labels[-1]}" in descr, where
            assert "largest for one line" not in descr
            kind = "Line chart" if chart.find(".//c:lineChart", NS) is not None else "Column chart"
            assert descr.startswith(kind), where
            for measure in MEASURES[chart_title(chart)]:
                assert measure in descr.lower(), where


def test_alt_text_is_worked_out_from_the_figures(hand):
    """The hand-made report's figures are known, so its alt text is too."""
    pkg = Package(hand.path)
    texts = {
        sheet.name: frame.find("xdr:nvGraphicFramePr/xdr:cNvPr", NS).get("descr")
        for sheet, _a, frame, _c in pkg.chart_frames()
    }
    months = hand.placed["summary_months"]
    summary = next(s for s in pkg.sheets if s.name == "Summary")
    received = {
        summary.cells[(r, 0)][1]: summary.cells[(r, 1)][1]
        for r in range(months.first_row, months.last_row + 1)
    }
    top = max(received.values())
    first_top = next(m for m, v in received.items() if v == top)
    assert f"Referrals received were highest in {first_top} ({int(top)})" in texts["Summary"]
    last = list(received)[-1]
    assert f"{int(received[last])} in {last}" in texts["Summary"]
    # the trend chart: the months' total and the primary concern with the most referrals
    trend = hand.placed["monthly_trend"]
    sheet = next(s for s in pkg.sheets if s.name == "Monthly trend")
    total_row = trend.last_row
    totals = {trend.columns[j - 1]: sheet.cells[(total_row, j)][1] for j in range(1, len(trend.columns))}
    best = max(totals, key=lambda k: totals[k])
    grand = sheet.cells[(total_row, len(trend.columns))][1]
    assert f"{int(grand)} in all" in texts["Monthly trend"]
    assert f"{best} ({int(totals[best])})" in texts["Monthly trend"]


def test_published_alt_text_never_gives_a_hidden_figure(demo, synthetic):
    for path in (demo[1], synthetic[1].path):
        pkg = Package(path)
        for sheet, _anchor, frame, _chart in pkg.chart_frames():
            descr = frame.find("xdr:nvGraphicFramePr/xdr:cNvPr", NS).get("descr")
            shown = {
                int(v) for (_r, c), (kind, v) in sheet.cells.items() if c > CHART_DATA_COL and kind == "n"
            }
            # every figure the alt text gives is one the chart draws, or a sum of shown ones said as such
            for figure in re.findall(r"\((\d+)\)", descr):
                assert int(figure) in shown, f"{path.name} {sheet.name}: {figure} is not drawn: {descr}"
            assert "gap" in descr.lower() or "hidden" in descr.lower()


def test_charts_sit_below_the_tables_in_reading_order(demo, synthetic):
    for path in all_reports(demo, synthetic):
        pkg = Package(path)
        for sheet, anchor, _frame, _chart in pkg.chart_frames():
            start = anchor.find("xdr:from", NS)
            row, col = int(start.find("xdr:row", NS).text), int(start.find("xdr:col", NS).text)
            assert col == 0, f"{path.name} {sheet.name}: a chart beside the tables is read out of order"
            assert all(row > r2 for _r1, _c1, r2, _c2 in sheet.table_ranges()), (path.name, sheet.name)


def test_every_table_header_row_is_marked(demo, synthetic):
    for path in all_reports(demo, synthetic):
        pkg = Package(path)
        names = []
        for sheet in pkg.visible:
            assert sheet.tables, f"{path.name} {sheet.name}: no Excel Table"
            ranges = sheet.table_ranges()
            for table, (r1, c1, _r2, c2) in zip(sheet.tables, ranges, strict=True):
                names.append(table.get("name").lower())
                assert table.get("headerRowCount", "1") != "0"
                columns = [tc.get("name") for tc in table.findall("m:tableColumns/m:tableColumn", NS)]
                assert len(columns) == c2 - c1 + 1
                assert all(c and c.strip() for c in columns), (sheet.name, columns)
                assert len({c.lower() for c in columns}) == len(columns), (sheet.name, columns)
                # the header cells hold the same text (a mismatch is a file Excel must repair)
                header = [sheet.cells.get((r1, c)) for c in range(c1, c2 + 1)]
                assert [h[1] if h else None for h in header] == columns, (sheet.name, header, columns)
                assert all(h[0] in ("s", "inlineStr", "str") for h in header)
            for i, a in enumerate(ranges):  # tables never overlap
                for b in ranges[i + 1 :]:
                    assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]
            # every figure on the sheet is inside a marked table (the chart copy is hidden columns)
            for (r, c), (kind, value) in sheet.cells.items():
                if c in sheet.hidden_cols:
                    continue
                inside = any(r1 <= r <= r2 and c1 <= c <= c2 for r1, c1, r2, c2 in ranges)
                if kind == "n" or value == "c":
                    assert inside, f"{path.name} {sheet.name}: figure at {(r, c)} outside any table"
                elif not inside:
                    # titles and notes run down column A, so a screen reader meets them in order
                    assert c == 0, f"{path.name} {sheet.name}: {value!r} at {(r, c)} beside the tables"
        assert len(names) == len(set(names))


def test_the_trends_sheet_marks_its_header_rows(blank_tracker):
    """The tracker's live Trends sheet: each month-by-month block is an Excel Table headed Month."""
    pkg = Package(blank_tracker)
    trends = next(s for s in pkg.sheets if s.name == "Trends")
    assert len(trends.tables) == 3
    for table, (r1, c1, _r2, c2) in zip(trends.tables, trends.table_ranges(), strict=True):
        columns = [tc.get("name") for tc in table.findall("m:tableColumns/m:tableColumn", NS)]
        assert columns[0] == "Month" and len(columns) == c2 - c1 + 1
        assert len({c.lower() for c in columns}) == len(columns)
        assert [trends.cells[(r1, c)][1] for c in range(c1, c2 + 1)] == columns
    for (r, c), (kind, _value) in trends.cells.items():
        if kind == "n":  # every live figure (a formula) is inside one of them
            assert any(a <= r <= b and x <= c <= y for a, x, b, y in trends.table_ranges()), (r, c)
    # the Referrals Table is still the only one on the Referrals sheet, found by its name
    referrals = next(s for s in pkg.sheets if s.name == "Referrals")
    assert [t.get("name") for t in referrals.tables] == ["Referrals"]


def test_each_placed_table_is_one_excel_table(hand, synthetic):
    for written in (hand, *synthetic):
        pkg = Package(written.path)
        for key, p in written.placed.items():
            sheet = next(s for s in pkg.sheets if s.name == p.sheet)
            assert (p.header_row, p.first_col, p.last_row, p.last_col) in sheet.table_ranges(), key


def _luminance(rgb: str) -> float:
    def channel(h: str) -> float:
        v = int(h, 16) / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    rgb = rgb[-6:]
    r, g, b = (channel(rgb[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_heat_map_shows_its_numbers_and_stays_readable(synthetic):
    internal = synthetic[0]
    pkg = Package(internal.path)
    sheet = next(s for s in pkg.sheets if s.name == "Themes")
    scales = sheet.xml.findall("m:conditionalFormatting", NS)
    assert scales
    shares = internal.placed["themes_shares"]
    for cf in scales:
        r1, c1, r2, c2 = _range(cf.get("sqref"))
        assert (r1, c1, r2, c2) == (shares.first_row, shares.first_col + 1, shares.last_row, shares.last_col)
        for color in cf.iter(f"{{{NS['m']}}}color"):
            assert contrast(color.get("rgb"), "000000") >= 4.5, color.get("rgb")  # black figures on it
        # every coloured cell carries its figure as a number (a month with no consultation is blank)
        filled = [sheet.cells.get((r, c)) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        assert sum(1 for f in filled if f and f[0] == "n") >= len(filled) * 0.9
    note = sheet.cells[(shares.header_row - 1, 0)][1]
    assert "colour" in note and "figure" in note


def test_text_colours_are_readable(demo, synthetic):
    for path in all_reports(demo, synthetic):
        pkg = Package(path)
        for font in pkg.styles.findall("m:fonts/m:font", NS):
            color = font.find("m:color", NS)
            if color is not None and color.get("rgb"):
                assert contrast(color.get("rgb"), "FFFFFF") >= 4.5, (path.name, color.get("rgb"))


def test_suppressed_cells_say_so_in_words(synthetic):
    pkg = Package(synthetic[1].path)
    summary = pkg.visible[0]
    notes = " ".join(str(v) for (r, c), (_k, v) in summary.cells.items() if c == 0 and isinstance(v, str))
    assert "c = a count from 1 to" in notes
    themes = next(s for s in pkg.sheets if s.name == "Themes")
    assert any(v == "c" for _k, v in themes.cells.values())


# -- every workbook cstracker writes ------------------------------------------------------------


def assert_opens_at_a1(path: Path) -> None:
    pkg = Package(path)
    assert pkg.visible, path
    for sheet in pkg.sheets:
        assert not re.fullmatch(r"(?i)sheet\s*\d*", sheet.name), (
            f"{path.name}: default sheet name {sheet.name}"
        )
        assert len(sheet.name) <= 31
    active = pkg.workbook.find("m:bookViews/m:workbookView", NS).get("activeTab", "0")
    assert pkg.sheets[int(active)] is pkg.visible[0], f"{path.name}: the first sheet is not the one shown"
    for sheet in pkg.sheets:
        view = sheet.xml.find("m:sheetViews/m:sheetView", NS)
        if view is None:
            continue
        assert (view.get("tabSelected") == "1") == (sheet is pkg.visible[0]), (path.name, sheet.name)
        assert view.get("topLeftCell", "A1") == "A1", (path.name, sheet.name)
        pane = view.find("m:pane", NS)
        split_row = int(float(pane.get("ySplit", 0))) if pane is not None else 0
        split_col = int(float(pane.get("xSplit", 0))) if pane is not None else 0
        if pane is not None:
            # frozen headings: the scrolling part starts right after them, i.e. at the top
            assert _cell(pane.get("topLeftCell")) == (split_row, split_col), (path.name, sheet.name)
        for sel in view.findall("m:selection", NS):
            cell = sel.get("activeCell")
            if cell is not None:
                r, c = _cell(cell)
                assert r <= split_row and c <= split_col, (path.name, sheet.name, cell)
    for sheet in pkg.visible:
        title = sheet.cells.get((0, 0))
        assert title and isinstance(title[1], str) and title[1].strip(), f"{path.name} {sheet.name}: A1"
    for sheet, _anchor, frame, _chart in pkg.chart_frames():
        assert frame.find("xdr:nvGraphicFramePr/xdr:cNvPr", NS).get("descr"), (path.name, sheet.name)


def test_reports_open_at_a1_on_their_first_sheet(demo, synthetic):
    for path in all_reports(demo, synthetic):
        assert_opens_at_a1(path)


def test_tracker_form_and_framework_open_at_a1(tmp_path, blank_tracker):
    from cstracker.forms.framework import make_framework
    from cstracker.forms.workbook import new_form_id, write_form

    assert_opens_at_a1(blank_tracker)
    form = write_form(tmp_path / "form.xlsx", Config(), form_id=new_form_id())
    assert_opens_at_a1(Path(form))
    assert_opens_at_a1(make_framework(tmp_path / "framework.xlsx"))
    names = [s.name for s in Package(blank_tracker).visible]
    assert names == ["Referrals", "Lists", "Trends", "About"]


def _doc_title(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        core = ET.fromstring(z.read("docProps/core.xml"))
    title = core.find("{http://purl.org/dc/elements/1.1/}title")
    return title.text if title is not None and title.text else ""


def test_every_workbook_has_a_descriptive_title(demo, synthetic, tmp_path, blank_tracker):
    """The document title (File > Info) is what a screen reader says first and what a website lists."""
    from cstracker.forms.framework import make_framework
    from cstracker.forms.workbook import new_form_id, write_form

    internal, published = demo
    for path, kind in ((internal, "INTERNAL"), (published, "published")):
        title = _doc_title(path)
        assert "Contextual Safeguarding" in title and "October 2026" in title, title
        assert kind in title and "Demoshire Council" in title, title
    assert "Contextual Safeguarding" in _doc_title(blank_tracker)
    form = write_form(tmp_path / "form.xlsx", Config(), form_id=new_form_id())
    assert "Contextual Safeguarding" in _doc_title(Path(form))
    assert "Contextual Safeguarding" in _doc_title(make_framework(tmp_path / "framework.xlsx"))


def test_rejects_file_and_extract_open_at_a1(tmp_path):
    """The other workbooks cstracker writes: an import's rejects file and the analysts' extract."""
    from cstracker.demo import run_demo
    from cstracker.tracker.export import export_tracker

    result = run_demo(tmp_path / "demo", seed=11, today=TODAY, echo=lambda _l: None)
    assert_opens_at_a1(result.files["rejects"])
    assert "rejected" in _doc_title(result.files["rejects"]).lower()
    extract = tmp_path / "extract.xlsx"
    export_tracker(result.tracker, extract, pseudonymise=True)
    assert_opens_at_a1(extract)
    assert "extract" in _doc_title(extract).lower()
