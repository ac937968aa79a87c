"""The report workbook: reopened cell by cell, charts read from the package, published version attacked."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from libreoffice import convert, needs_libreoffice

from cstracker.cli import cli
from cstracker.core.config import Settings
from cstracker.core.periods import parse_period
from cstracker.core.schema import Kind
from cstracker.report.data import ReportData, frame_from_records
from cstracker.report.published import build_published
from cstracker.report.tables import build_report
from cstracker.report.workbook import COUNT_FORMAT, write_report
from cstracker.synthetic import synthetic_records
from tests.conftest import TODAY
from tests.report.test_report_tables import LISTS, hand_frame, hand_records
from tests.report.test_suppression import recover

OCTOBER = parse_period(month="2026-10")
THRESHOLD = Settings().small_count_threshold


@pytest.fixture(scope="module")
def hand_report():
    return build_report(hand_frame(), OCTOBER, LISTS, Settings(), TODAY)


@pytest.fixture(scope="module")
def internal(hand_report, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "CS trends 2026-10.xlsx"
    return write_report(hand_report, out)


@pytest.fixture(scope="module")
def synthetic():
    records = synthetic_records(1500, seed=7, today=TODAY)
    return records, build_report(frame_from_records(records, LISTS), OCTOBER, LISTS, Settings(), TODAY)


@pytest.fixture(scope="module")
def published_report(synthetic):
    data = ReportData(frame_from_records(synthetic[0], LISTS), LISTS, Settings(), TODAY)
    return build_published(data, OCTOBER, LISTS, Settings(), {})[0]


@pytest.fixture(scope="module")
def published(published_report, tmp_path_factory):
    out = tmp_path_factory.mktemp("published") / "CS trends 2026-10 (published).xlsx"
    return write_report(published_report, out, publish=True)


def table_values(ws, placed, columns=None):
    """{row label: [values]} of a placed table, read back from the sheet."""
    out = {}
    for r in range(placed.first_row, placed.last_row + 1):
        label = ws.cell(r + 1, placed.first_col + 1).value
        values = [ws.cell(r + 1, placed.first_col + 2 + j).value for j in range(len(placed.columns))]
        if columns is not None:
            values = [v for c, v in zip(placed.columns, values, strict=True) if c in columns]
        out[label] = values
    return out


# -- internal -----------------------------------------------------------------------------------


def test_internal_report_has_every_sheet_and_real_numbers(internal):
    wb = openpyxl.load_workbook(internal.path)
    assert wb.sheetnames == [
        "Summary", "Monthly trend", "Themes", "Themes together", "Referrers", "Young people", "Contexts",
        "Actions", "Timeliness", "Data quality",
        # each long list whole on its own sheet (capped on the sheets above)
        "All contexts", "All actions missing", "Overdue follow-ups", "All data problems",
    ]  # fmt: skip
    ws = wb["Summary"]
    assert ws["A1"].value == "Contextual Safeguarding referrals: October 2026"
    assert "INTERNAL" in ws["A3"].value
    decisions = table_values(ws, internal.placed["summary_decisions"])
    assert decisions["Referrals received"][:3] == [8, 2, 1]
    assert decisions["Suitable"][:3] == [6, 1, 1]
    header = internal.placed["summary_decisions"].header_row + 1
    assert [ws.cell(header, c).value for c in (2, 3, 4)] == ["Oct 2026", "Sep 2026", "Oct 2025"]
    cell = ws.cell(internal.placed["summary_decisions"].first_row + 1, 2)
    assert cell.data_type == "n" and cell.number_format == COUNT_FORMAT
    median = table_values(ws, internal.placed["summary_timeliness"])
    assert median == {"Median days from referral to consultation": [15, 5, 12, 10, None, 3, None]}
    trend = table_values(wb["Monthly trend"], internal.placed["monthly_trend"])
    assert trend["Oct 2026"] == [0, 0, 1, 2, 1, 4, 8]
    assert trend["Total"] == [0, 0, 1, 3, 2, 5, 11]
    overdue = table_values(wb["Timeliness"], internal.placed["overdue"])
    assert list(overdue) == ["CS-2026-0090", "CS-2026-0101"]
    assert overdue["CS-2026-0090"][:3] == [dt.datetime(2026, 9, 15), dt.datetime(2026, 10, 27), 31]
    contexts = table_values(wb["Contexts"], internal.placed["contexts"])
    assert contexts["St. Aidans High"] == ["School", 1, 2, 2, 2, None]
    shares = table_values(wb["Themes"], internal.placed["themes_shares"])
    assert shares["CSE"][-5:] == [None, 0, 0, 0.75, 0.5]  # Jul: none held; Aug 0/1, Sep 0/1, Oct 3/4, all 3/6


def test_sheets_are_printable(internal):
    """A4 landscape at a fixed, readable scale (never fit to page), title rows repeated on every page."""
    from cstracker.xlsx.printing import MIN_SCALE

    with zipfile.ZipFile(internal.path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        for n in range(1, len(internal.sheets) + 1):
            xml = z.read(f"xl/worksheets/sheet{n}.xml").decode()
            assert 'orientation="landscape"' in xml and 'paperSize="9"' in xml
            assert "fitToPage" not in xml
            scale = re.search(r'<pageSetup [^>]*scale="(\d+)"', xml)  # none: 100%
            assert scale is None or int(scale[1]) >= MIN_SCALE
            assert re.search(rf'<definedName name="_xlnm.Print_Titles" localSheetId="{n - 1}">', workbook)


def _chart_refs(path: Path) -> dict[str, list[str]]:
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in sorted(n for n in z.namelist() if n.startswith("xl/charts/chart")):
            out[name] = re.findall(r"<c:f>([^<]+)</c:f>", z.read(name).decode())
    return out


def _ref(sheet, r1, c1, r2=None, c2=None):
    from xlsxwriter.utility import xl_range_abs, xl_rowcol_to_cell

    quoted = f"'{sheet}'" if " " in sheet else sheet
    if r2 is None:
        return f"{quoted}!{xl_rowcol_to_cell(r1, c1, True, True)}"
    return f"{quoted}!{xl_range_abs(r1, c1, r2, c2)}"


def test_charts_point_at_the_right_ranges(internal):
    refs = _chart_refs(internal.path)
    assert len(refs) == 2
    months = internal.placed["summary_months"]
    summary = refs["xl/charts/chart1.xml"]
    # series 1 and 2: name, categories (the 12 month labels), values
    assert summary == [
        _ref("Summary", months.header_row, 1),
        _ref("Summary", months.first_row, 0, months.last_row, 0),
        _ref("Summary", months.first_row, 1, months.last_row, 1),
        _ref("Summary", months.header_row, 2),
        _ref("Summary", months.first_row, 0, months.last_row, 0),
        _ref("Summary", months.first_row, 2, months.last_row, 2),
    ]
    assert months.last_row - months.first_row + 1 == 12
    trend = internal.placed["monthly_trend"]
    got = refs["xl/charts/chart2.xml"]
    assert len(got) == 3 * 6  # five contexts and Not recorded; not the Total column
    assert got[1] == _ref("Monthly trend", trend.first_row, 0, trend.last_row - 1, 0)  # months, not Total
    assert got[2] == _ref("Monthly trend", trend.first_row, 1, trend.last_row - 1, 1)
    wb = openpyxl.load_workbook(internal.path)
    ws = wb["Monthly trend"]
    assert ws.cell(trend.first_row + 1, 1).value == "Nov 2025"
    assert ws.cell(trend.last_row, 1).value == "Oct 2026"  # the last row the chart reads
    assert ws.cell(trend.header_row + 1, 2).value == "Individual"


def test_themes_heat_map(internal):
    wb = openpyxl.load_workbook(internal.path)
    ws = wb["Themes"]
    p = internal.placed["themes_shares"]
    from xlsxwriter.utility import xl_range

    wanted = xl_range(p.first_row, p.first_col + 1, p.last_row, p.last_col)
    rules = {str(cf.sqref): [r.type for r in cf.rules] for cf in ws.conditional_formatting}
    assert rules == {wanted: ["colorScale"]}


# -- published ----------------------------------------------------------------------------------


def _free_texts(records):
    keys = [f.key for f in LISTS.fields() if f.kind in (Kind.TEXT, Kind.LONGTEXT) and not f.computed]
    texts = {str(r[k]) for r in records for k in keys if r.get(k)}
    # a free-text field may hold a word that is also a code ("School" as initial referrer)
    texts -= {code for codes in LISTS.lists.values() for code in codes}
    return texts | {r["referral_id"] for r in records} | {r["mosaic_id"] for r in records}


def test_published_has_no_small_counts_identifiers_or_free_text(synthetic, published):
    records, _ = synthetic
    wb = openpyxl.load_workbook(published.path)
    assert "Contexts" not in wb.sheetnames and "Data quality" not in wb.sheetnames
    note = wb["Summary"]["A3"].value
    assert note.startswith(f"c = a count from 1 to {THRESHOLD}")
    secrets = _free_texts(records)
    # Codes and labels the schema or the lists own may appear; every other text must not.
    mosaic = re.compile(r"\b9\d{6}\b")
    referral_id = re.compile(r"\bCS-\d{4}-\d{3,}\b")
    counted = hidden = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, str):
                    assert not mosaic.search(v) and not referral_id.search(v), (ws.title, cell.coordinate)
                    assert v not in secrets, (ws.title, cell.coordinate, v)
                    hidden += v == "c"
                elif isinstance(v, int | float) and not isinstance(v, bool):
                    if cell.number_format == COUNT_FORMAT:
                        counted += 1
                        assert v == 0 or v > THRESHOLD, (ws.title, cell.coordinate, v)
                    else:
                        # shares, whole days, and changes (of two shown counts)
                        assert cell.number_format in ("0%", "0", "+#,##0;-#,##0;0", "+0%;-0%;0%"), (
                            ws.title,
                            cell.coordinate,
                        )
                        assert float(v).is_integer() or "%" in cell.number_format
    assert counted > 100 and hidden == published.hidden_cells > 0
    header = published.placed["referrers"].columns
    assert "Top themes" not in header


def test_published_recovery_attack_fails(published_report, published):
    report = published_report
    wb = openpyxl.load_workbook(published.path)
    attacked = 0
    for tables in report.sheets.values():
        for t in tables:
            if t.internal or not t.counts or (not t.row_totals and not t.col_totals):
                continue
            placed = published.placed[t.key]
            shown = table_values(wb[placed.sheet], placed, columns=t.counts)
            grid = [shown[str(label)] for label in t.data.index]
            truth = t.data[list(t.counts)].astype(int).to_numpy().tolist()
            for row, true_row in zip(grid, truth, strict=True):
                for v, true in zip(row, true_row, strict=True):
                    assert v == "c" or v == true
            assert recover(grid, t.row_totals, t.col_totals, truth=truth) == {}, t.key
            attacked += 1
    assert attacked >= 10


def test_a_figure_shown_twice_is_hidden_in_both_places(published_report, published):
    report = published_report
    wb = openpyxl.load_workbook(published.path)
    seen: dict[str, set] = {}
    for tables in report.sheets.values():
        for t in tables:
            if t.internal or not t.counts:
                continue
            placed = published.placed[t.key]
            shown = table_values(wb[placed.sheet], placed, columns=t.counts)
            for label in t.data.index:
                for c, v in zip(t.counts, shown[str(label)], strict=True):
                    fid = t.ids.get((str(label), c))
                    if fid:
                        seen.setdefault(fid, set()).add(v)
    shared = {k: v for k, v in seen.items() if len(v) > 1}
    assert shared == {}
    assert len(seen) > 50


def test_published_shares_are_hidden_with_their_counts(published):
    wb = openpyxl.load_workbook(published.path)
    p = published.placed["interventions"]
    for count, share in table_values(wb["Actions"], p).values():
        assert count != "c" or share == "c"


def test_a_published_pack_needs_a_built_published_report(synthetic, tmp_path):
    with pytest.raises(ValueError, match="build_published"):
        write_report(synthetic[1], tmp_path / "x.xlsx", publish=True)


# -- LibreOffice --------------------------------------------------------------------------------


@needs_libreoffice
def test_reports_open_in_libreoffice(internal, published, tmp_path):
    for written in (internal, published):
        pdf = convert(written.path, tmp_path, "pdf", recalc=False)
        assert pdf.stat().st_size > 5000
        assert pdf.read_bytes().startswith(b"%PDF")


# -- the command --------------------------------------------------------------------------------


@pytest.fixture
def tracker(tmp_path):
    from cstracker.core.config import load_config
    from cstracker.tracker.newfile import init_tracker
    from cstracker.tracker.tracker import Tracker

    path = tmp_path / "Referral Tracker.xlsx"
    init_tracker(path, load_config(None))
    with Tracker.open_for_update(path) as t:
        t.upsert(hand_records(), source="test", today=TODAY)
        t.save()
    return path


def test_report_command_writes_beside_the_tracker(tracker):
    result = CliRunner().invoke(cli, ["report", str(tracker), "--month", "2026-10", "--today", "27/11/2026"])
    assert result.exit_code == 0, result.output
    out = tracker.with_name("CS trends 2026-10.xlsx")
    assert (
        f"Wrote {out}: internal (not for sharing) report for October 2026, 8 referrals received"
        in result.output
    )
    wb = openpyxl.load_workbook(out)
    ws = wb["Summary"]
    rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in (2, 3, 4)] for r in range(1, 40)}
    assert rows["Referrals received"] == [8, 2, 1]
    assert rows["Consultations held"] == [4, 1, 1]
    assert rows["Repeat referrals (same Mosaic ID within 12 months)"] == [1, 0, 0]

    result = CliRunner().invoke(
        cli,
        [
            "report",
            str(tracker),
            "--quarter",
            "2026-Q4",
            "--publish",
            "--out",
            str(tracker.parent / "q4.xlsx"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "published (small counts hidden)" in result.output
    assert openpyxl.load_workbook(tracker.parent / "q4.xlsx")["Summary"]["A1"].value.endswith(
        "October to December 2026"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--month", "2026-13"], 2, "--month '2026-13' is not a month; use YYYY-MM"),
        ([], 2, "give exactly one period"),
        (["--month", "2026-10", "--out", "report.csv"], 1, "the report must be an .xlsx file"),
        (
            ["--from", "01/09/2026", "--to", "15/11/2026", "--publish"],
            2,
            "a published pack covers a month, a quarter or a year",
        ),
    ],
)
def test_report_command_errors(tracker, args, code, message):
    result = CliRunner().invoke(cli, ["report", str(tracker), *args])
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_report_command_on_a_missing_tracker(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nope.xlsx"), "--month", "2026-10"])
    assert result.exit_code == 1
    assert "nope.xlsx: no such tracker file" in result.output
