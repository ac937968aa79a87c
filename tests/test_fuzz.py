"""Fault and fuzz: damaged, hostile and odd inputs against every entry point, through the CLI (issue 8).

A corpus is built from our own valid files (a tracker with rows, a blank and a filled form, a CSV and
an .xlsx source, a config) and mutated: truncated zips, broken XML, wrong content types, a bomb,
far-off cells, huge strings, control characters, formulas, mixed encodings, odd file names, symlinks
and files that are not regular. Hypothesis adds random values and random damage. Every run must:

* end with exit 0, 1 or 2 and no traceback (3, a bug, fails the test);
* leave no worker process behind;
* leave the tracker byte-identical, or changed exactly as the summary printed (rows added and
  updated as counted; no row lost).

CI runs a bounded number of examples; ``python scripts/fuzz.py --examples 300`` runs more and prints
the figures (``FUZZ_REPORT`` names the JSON file they are written to).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsx_mutations import far_cell, rewrite, sheet_part

from cstracker.cli import cli

#: random examples per hypothesis property (scripts/fuzz.py raises it)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
#: every mutation against every command (scripts/fuzz.py); CI runs the slow commands on a core set
FULL = bool(os.environ.get("FUZZ_FULL"))
CORE = {
    "truncated-50%",
    "broken-xml",
    "wrong-content-types",
    "far-cell-referrals",
    "far-cell-lists",
    "huge-string",
    "formula",
    "latin1-bytes",
}
FIGURES: dict[str, Counter] = defaultdict(Counter)

PROPS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


# --------------------------------------------------------------------------------------------------
# the corpus: our own valid files
# --------------------------------------------------------------------------------------------------


class Corpus:
    def __init__(self, root: Path) -> None:
        from cstracker.core.config import Config
        from cstracker.forms.fill import fill_form
        from cstracker.forms.workbook import write_form
        from cstracker.synthetic import synthetic_records
        from cstracker.tracker.create import create_tracker
        from cstracker.tracker.tracker import Tracker

        self.root = root
        self.tracker = create_tracker(root / "valid tracker.xlsx", Config())
        records = synthetic_records(6, seed=8, with_ids=True)
        with Tracker.open_for_update(self.tracker) as t:
            t.upsert(records, source="fuzz corpus")
            t.save()
        self.ids = [r["referral_id"] for r in records]
        self.blank_form = write_form(root / "blank form.xlsx", Config(), form_id="F-FUZZ00000001")
        self.form = fill_form(
            write_form(root / "form base.xlsx", Config(), form_id="F-FUZZ00000002"),
            {
                "referral_id": "CS-2026-0900",
                "mosaic_id": "90000123",
                "date_received": "03/10/2026",
                "referrer": "Sam Reid",
                "age": 15,
            },
            root / "filled form.xlsx",
        )
        self.csv = root / "old.csv"
        self.csv.write_text(
            "Mosaic ID,Date received,Referrer name,Age\n"
            "7000001,01/02/2026,Ann Lee,14\n"
            "7000002,02/02/2026,Bo Chan,15\n",
            encoding="utf-8",
        )
        import xlsxwriter

        self.xlsx = root / "old.xlsx"
        wb = xlsxwriter.Workbook(str(self.xlsx))
        ws = wb.add_worksheet("Old")
        ws.write_row(0, 0, ["Mosaic ID", "Date received", "Referrer name", "Age"])
        ws.write_row(1, 0, ["7000003", "03/02/2026", "Cy Dee", 13])
        wb.close()
        self.config = root / "ours.toml"
        self.config.write_text(
            'authority_name = "Anytown"\n[themes]\nextra = ["Knife crime"]\n', encoding="utf-8"
        )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield
    path = os.environ.get("FUZZ_REPORT")
    if path:
        Path(path).write_text(
            json.dumps({k: dict(v) for k, v in FIGURES.items()}, indent=2), encoding="utf-8"
        )


# --------------------------------------------------------------------------------------------------
# mutations of an .xlsx (each: src -> dst)
# --------------------------------------------------------------------------------------------------


def _first_sheet(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile:
        return "xl/worksheets/sheet1.xml"
    return next((n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml")), names[0])


def _cell_xml(text: bytes) -> bytes:
    return b'<row r="3000"><c r="B3000" t="inlineStr"><is><t>' + text + b"</t></is></c></row>"


def _add_row(xml: bytes, row: bytes) -> bytes:
    if b"<sheetData/>" in xml:
        return xml.replace(b"<sheetData/>", b"<sheetData>" + row + b"</sheetData>")
    return xml.replace(b"</sheetData>", row + b"</sheetData>", 1)


def _truncate(fraction: float):
    def mutate(src: Path, dst: Path) -> Path:
        data = src.read_bytes()
        dst.write_bytes(data[: int(len(data) * fraction)])
        return dst

    return mutate


def _part(change, part: str | None = None):
    def mutate(src: Path, dst: Path) -> Path:
        return rewrite(src, dst, part or _first_sheet(src), change)

    return mutate


def _sheet(name: str, change):
    def mutate(src: Path, dst: Path) -> Path:
        try:
            part = sheet_part(src, name)
        except KeyError:
            part = _first_sheet(src)
        return rewrite(src, dst, part, change)

    return mutate


def _drop(part: str):
    def mutate(src: Path, dst: Path) -> Path:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                if info.filename != part:
                    zout.writestr(info, zin.read(info))
        return dst

    return mutate


def _bomb(src: Path, dst: Path) -> Path:
    # 20 MB of spaces inside the first sheet: packs to ~20 KB (ratio ~1000)
    return rewrite(src, dst, _first_sheet(src), lambda xml: _add_row(xml, b" " * (20 * 1024 * 1024)))


def _duplicate_entry(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    with zipfile.ZipFile(dst, "a") as zf:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zf.writestr(_first_sheet(src), b"<worksheet/>")
    return dst


XLSX_MUTATIONS = {
    "truncated-10%": _truncate(0.1),
    "truncated-50%": _truncate(0.5),
    "truncated-99%": _truncate(0.99),
    "broken-xml": _part(lambda xml: xml[: len(xml) // 2]),
    "broken-workbook-xml": _part(lambda xml: xml[:-40], "xl/workbook.xml"),
    "no-workbook-part": _drop("xl/workbook.xml"),
    "no-shared-strings": _drop("xl/sharedStrings.xml"),
    "wrong-content-types": _part(lambda _xml: b"<Types/>", "[Content_Types].xml"),
    "no-content-types": _drop("[Content_Types].xml"),
    "bomb": _bomb,
    "far-cell-XFD1048576": _part(far_cell("XFD1048576")),
    "far-cell-referrals": _sheet("Referrals", far_cell("XFD1048576")),
    "far-cell-lists": _sheet("Lists", far_cell("A1048576")),
    "far-row-A900000": _sheet("Referrals", far_cell("A900000")),
    "huge-string": _part(lambda xml: _add_row(xml, _cell_xml(b"x" * 1_000_000))),
    "control-char-raw": _part(lambda xml: _add_row(xml, _cell_xml(b"a\x01b\x0bc"))),
    "control-char-ref": _part(lambda xml: _add_row(xml, _cell_xml(b"a&#1;b"))),
    "control-char-escape": _part(lambda xml: _add_row(xml, _cell_xml(b"a_x0001_b"))),
    "formula": _part(
        lambda xml: _add_row(
            xml, b'<row r="3001"><c r="A3001"><f>HYPERLINK("http://x","y")</f><v>0</v></c></row>'
        )
    ),
    "dtd-entity": _part(
        lambda xml: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml.split(b"?>", 1)[-1]
    ),
    "utf16-declared": _part(lambda xml: xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)),
    "latin1-bytes": _part(lambda xml: _add_row(xml, _cell_xml(b"caf\xe9 \xff"))),
    "inf-number": _part(lambda xml: re.sub(rb"<v>[0-9]+</v>", b"<v>1e999</v>", xml)),
    "bad-cell-ref": _part(lambda xml: _add_row(xml, b'<row r="3002"><c r="ZZZZ99999999"><v>1</v></c></row>')),
    "duplicate-entry": _duplicate_entry,
    "not-a-zip": lambda src, dst: (dst.write_bytes(b"PK\x03\x04" + os.urandom(64)), dst)[1],
    "empty": lambda src, dst: (dst.write_bytes(b""), dst)[1],
}


def _special(kind: str, dst: Path) -> Path:
    """A path that is not a regular file of ours: links, pipes, folders."""
    if kind == "link-to-dev-zero":
        dst.symlink_to("/dev/zero")
    elif kind == "link-loop":
        dst.symlink_to(dst.name)
    elif kind == "dangling-link":
        dst.symlink_to("nowhere-at-all.xlsx")
    elif kind == "fifo":
        os.mkfifo(dst)
    elif kind == "folder":
        dst.mkdir()
    return dst


SPECIALS = ["link-to-dev-zero", "link-loop", "dangling-link", "fifo", "folder"]

#: file names a coordinator's system may hand us (bytes: not all are valid UTF-8)
ODD_NAMES = [
    b"caf\xe9.xlsx",
    b"-x.xlsx",
    b"sp ace  .xlsx",
    b"new\nline.xlsx",
    b"\xff\xfe.xlsx",
    "名前.xlsx".encode(),
]


# --------------------------------------------------------------------------------------------------
# running a command and checking the properties
# --------------------------------------------------------------------------------------------------


def _forkserver_children() -> list[int]:
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    return _children(pid) if pid else []


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def _records(tracker: Path) -> dict[str, dict]:
    from cstracker.tracker.tracker import Tracker

    skip = {"last_updated", "status", "follow_up_due", "source", "form_id"}
    return {
        r["referral_id"]: {k: v for k, v in r.items() if k not in skip}
        for r in Tracker.open(tracker).records()
    }


def _readable(tracker: Path) -> dict[str, dict] | None:
    from cstracker.core.errors import CstrackerError

    try:
        return _records(tracker)
    except CstrackerError:
        return None


_INGEST = re.compile(r"(\d+) forms?: (\d+) added, (\d+) updated")
_IMPORT = re.compile(r"rows? read = (\d+) (?:would be )?added \+ (\d+) (?:would be )?updated")


def run(entry: str, args: list, tracker: Path | None = None, writes: bool = False) -> None:
    """Run one command; assert the properties; count the figures for ``entry``."""
    before = tracker.read_bytes() if tracker is not None and tracker.is_file() else None
    rows_before = _readable(tracker) if writes and before is not None else None
    result = CliRunner().invoke(cli, [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args])
    figures = FIGURES[entry]
    figures["inputs tried"] += 1
    figures[f"exit {result.exit_code}"] += 1
    crashed = result.exit_code not in (0, 1, 2) or "Traceback" in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crashed = True
    figures["tracebacks"] += int(crashed)
    orphans = [p for p in _forkserver_children() if p not in _KNOWN_HELPERS]
    figures["orphans"] += len(orphans)
    assert not crashed, f"{entry} {args}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert orphans == [], f"{entry} {args}: workers left running: {orphans}"
    if before is None:
        return
    after = tracker.read_bytes()
    if after == before:
        return
    assert writes, f"{entry} {args}: a command that does not write changed the tracker"
    if rows_before is None:
        # a damaged tracker the row reader refuses but the writer's own scan could read (e.g. a sheet
        # declaring UTF-16 while holding UTF-8): the change cannot be checked row by row here
        figures["changed, rows not checkable"] += 1
        return
    m = _INGEST.search(result.output) or _IMPORT.search(result.output)
    assert m, f"{entry} {args}: the tracker changed but no summary says how\n{result.output}"
    added, updated = (int(m[2]), int(m[3])) if m.re is _INGEST else (int(m[1]), int(m[2]))
    rows_after = _records(tracker)
    lost = [rid for rid in rows_before if rid not in rows_after]
    new = [rid for rid in rows_after if rid not in rows_before]
    changed = [rid for rid in rows_before if rid in rows_after and rows_after[rid] != rows_before[rid]]
    figures["rows lost"] += len(lost)
    figures["rows added (as printed)"] += len(new)
    figures["rows changed (as printed)"] += len(changed)
    mismatch = len(new) != added or len(changed) != updated
    figures["changes not as printed"] += int(mismatch)
    assert lost == [], f"{entry} {args}: rows lost: {lost}"
    assert not mismatch, f"{entry} {args}: printed {added} added, {updated} updated; found {new}, {changed}"


_KNOWN_HELPERS: set[int] = set()


def fresh(corpus: Corpus, tmp: Path, name: str = "T.xlsx") -> Path:
    path = tmp / name
    shutil.copy(corpus.tracker, path)
    return path


# --------------------------------------------------------------------------------------------------
# the mutation corpus against every entry point
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mutation", list(XLSX_MUTATIONS))
def test_a_damaged_tracker_is_one_line_for_every_command(corpus, tmp_path, mutation):
    bad = XLSX_MUTATIONS[mutation](corpus.tracker, tmp_path / "T.xlsx")
    run("open/validate", ["validate", bad], bad)
    run("ingest", ["ingest", bad, corpus.form], bad, writes=True)
    if FULL or mutation in CORE:
        run("report", ["report", bad, "--month", "2026-10", "--out", tmp_path / "r.xlsx"], bad)
        run("form", ["form", tmp_path / "f.xlsx", "--tracker", bad, "--referral", corpus.ids[0]], bad)
        run("import", ["import", bad, corpus.csv], bad, writes=True)


@pytest.mark.parametrize("mutation", list(XLSX_MUTATIONS))
def test_a_damaged_form_or_source_never_harms_the_tracker(corpus, tmp_path, mutation):
    tracker = fresh(corpus, tmp_path)
    form = XLSX_MUTATIONS[mutation](corpus.form, tmp_path / "form.xlsx")
    run("ingest", ["ingest", tracker, form, corpus.blank_form], tracker, writes=True)
    source = XLSX_MUTATIONS[mutation](corpus.xlsx, tmp_path / "old.xlsx")
    run("import", ["import", tracker, source, "--rejects", tmp_path / "rejects.xlsx"], tracker, writes=True)


@pytest.mark.parametrize("kind", SPECIALS)
def test_links_pipes_and_folders_in_every_place(corpus, tmp_path, kind):
    tracker = fresh(corpus, tmp_path)
    special_xlsx = _special(kind, tmp_path / "x.xlsx")
    special_csv = _special(kind, tmp_path / "x.csv")
    special_toml = _special(kind, tmp_path / "x.toml")
    run("open/validate", ["validate", special_xlsx])
    run("report", ["report", special_xlsx, "--month", "2026-10", "--out", tmp_path / "r.xlsx"])
    run("form", ["form", tmp_path / "f.xlsx", "--tracker", special_xlsx])
    run("ingest", ["ingest", tracker, special_xlsx], tracker, writes=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _special(kind, inbox / "in.xlsx")
    run("ingest", ["ingest", tracker, inbox], tracker, writes=True)
    run("import", ["import", tracker, special_csv], tracker, writes=True)
    run("import", ["import", tracker, special_xlsx], tracker, writes=True)
    run("import", ["import", tracker, corpus.csv, "--mapping", special_toml], tracker, writes=True)
    run("init", ["init", tmp_path / "new.xlsx", "--config", special_toml])


@pytest.mark.parametrize("name", ODD_NAMES, ids=lambda n: n.decode("utf-8", "backslashreplace"))
def test_odd_file_names_everywhere(corpus, tmp_path, name):
    base = Path(os.fsdecode(bytes(tmp_path) + b"/" + name))
    tracker = base.with_name(base.name.replace(".xlsx", " T.xlsx"))
    shutil.copy(corpus.tracker, tracker)
    form = base.with_name(base.name.replace(".xlsx", " form.xlsx"))
    shutil.copy(corpus.form, form)
    source = base.with_suffix(".csv")
    shutil.copy(corpus.csv, source)
    run("open/validate", ["validate", tracker], tracker)
    run("ingest", ["ingest", tracker, form], tracker, writes=True)
    run("import", ["import", tracker, source], tracker, writes=True)
    run(
        "report",
        ["report", tracker, "--month", "2026-10", "--out", base.with_suffix(".report.xlsx")],
        tracker,
    )
    run("form", ["form", base.with_suffix(".new.xlsx"), "--tracker", tracker], tracker)
    run("init", ["init", base.with_suffix(".init.xlsx")])


CSV_CASES = {
    "unterminated-quote": 'Mosaic ID,Date received\n7000001,"01/02/2026\n7000002,02/02/2026\n',
    "text-after-quote": 'Mosaic ID,Date received\n"7000001"x,01/02/2026\n',
    "more-values": "Mosaic ID,Date received\n7000001,01/02/2026,extra,more\n",
    "5000-digit-age": "Mosaic ID,Date received,Age\n7000001,01/02/2026," + "9" * 5000 + "\n",
    "inf-nan": "Mosaic ID,Date received,Age\n7000001,01/02/2026,inf\n7000002,01/02/2026,nan\n",
    "year-9999": "Mosaic ID,Date received\n7000001,31/12/9999\n7000002,0001-01-01\n",
    "formulas": 'Mosaic ID,Date received,Referrer name\n7000001,01/02/2026,"=HYPERLINK(""http://x"",""y"")"\n',
    "control-chars": "Mosaic ID,Date received,Referrer name\n7000001,01/02/2026,a\x01b\x0bc\x7f\n",
    "huge-value": "Mosaic ID,Date received,Detail\n7000001,01/02/2026," + "d" * 200_000 + "\n",
    "nul": "Mosaic ID,Date received\n7000001,01/0\x002/2026\n",
    "only-header": "Mosaic ID,Date received\n",
    "empty": "",
}
CSV_BYTES = {
    "mixed-encodings": "Mosaic ID,Date received,Referrer name\n7000001,01/02/2026,Zoë\n".encode()
    + b"7000002,01/02/2026,Zo\xeb\n",
    "utf16": "Mosaic ID,Date received\n7000001,01/02/2026\n".encode("utf-16"),
    "binary": os.urandom(2048),
    "bom-then-latin1": b"\xef\xbb\xbfMosaic ID,Date received\n7000001,01/02/2026 \xa3\n",
}


@pytest.mark.parametrize("case", [*CSV_CASES, *CSV_BYTES])
def test_damaged_csv_sources(corpus, tmp_path, case):
    tracker = fresh(corpus, tmp_path)
    source = tmp_path / "old.csv"
    if case in CSV_CASES:
        source.write_text(CSV_CASES[case], encoding="utf-8")
    else:
        source.write_bytes(CSV_BYTES[case])
    run("import", ["import", tracker, source, "--dry-run"], tracker)
    run("import", ["import", tracker, source, "--rejects", tmp_path / "rejects.xlsx"], tracker, writes=True)


def test_report_periods_at_the_edges(corpus, tmp_path):
    tracker = fresh(corpus, tmp_path)
    for args in (
        ["--from", "01/01/2026", "--to", "31/12/9999"],
        ["--from", "01/01/0001", "--to", "01/01/2026"],
        ["--month", "9999-12"],
        ["--year", "0"],
        ["--from", "29/02/2025", "--to", "01/03/2025"],
        ["--quarter", "2026-Q9"],
    ):
        run("report", ["report", tracker, *args, "--out", tmp_path / "r.xlsx"], tracker)


def test_form_into_places_that_do_not_exist(corpus, tmp_path):
    run("form", ["form", tmp_path / "missing" / "f.xlsx"])
    run("form", ["form", tmp_path])
    (tmp_path / "file").write_text("x")
    run("form", ["form", tmp_path / "file" / "f.xlsx"])


# --------------------------------------------------------------------------------------------------
# hypothesis: random values and random damage
# --------------------------------------------------------------------------------------------------

_nasty_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cs", "Zl", "Zp", "Co"]), max_size=20),
    st.sampled_from(["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=x", "inf", "nan", "-0", "1e999", "9" * 4400]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)


@PROPS
@given(rows=st.lists(st.lists(_nasty_text, min_size=1, max_size=6), min_size=1, max_size=5))
def test_random_csv_values_never_crash_import(corpus, tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("csv")
    tracker = fresh(corpus, tmp)
    source = tmp / "old.csv"
    lines = ["Mosaic ID,Date received,Referrer name,Age,Detail,Gender"]
    lines += [",".join(cell.replace("\n", " ").replace("\r", " ") for cell in row) for row in rows]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    run("import", ["import", tracker, source], tracker, writes=True)


_toml_text = st.text(max_size=70).map(lambda t: json.dumps(t))  # a JSON string is a TOML basic string


@PROPS
@given(
    extra=st.lists(_toml_text, max_size=4),
    team=st.lists(_toml_text, max_size=4),
    rename=_toml_text,
    name=_toml_text,
    days=st.integers(-5, 400),
)
def test_random_configs_never_give_a_tracker_no_command_can_open(
    tmp_path_factory, extra, team, rename, name, days
):
    tmp = tmp_path_factory.mktemp("cfg")
    config = tmp / "ours.toml"
    config.write_text(
        f"authority_name = {name}\nfollow_up_days = {days}\n"
        f"[lists]\nreferrer_team = [{', '.join(team)}]\n"
        f"[themes]\nextra = [{', '.join(extra)}]\nrename = {{ 'DV In home' = {rename} }}\n",
        encoding="utf-8",
        errors="surrogatepass",
    )
    tracker = tmp / "T.xlsx"
    run("init", ["init", tracker, "--config", config])
    if tracker.exists():
        # whatever init accepted, every later command can open
        run("open/validate", ["validate", tracker], tracker)
        result = CliRunner().invoke(cli, ["validate", str(tracker)])
        assert result.exit_code == 0, result.output


@PROPS
@given(data=st.data())
def test_random_damage_to_a_form_or_tracker(corpus, tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("bytes")
    which = data.draw(st.sampled_from(["form", "tracker"]))
    original = (corpus.form if which == "form" else corpus.tracker).read_bytes()
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=8))
    cut = data.draw(st.integers(len(original) // 2, len(original)))
    damaged = bytearray(original[:cut])
    for at, value in flips:
        if at < len(damaged):
            damaged[at] = value
    if which == "form":
        tracker = fresh(corpus, tmp)
        form = tmp / "form.xlsx"
        form.write_bytes(bytes(damaged))
        run("ingest", ["ingest", tracker, form], tracker, writes=True)
    else:
        tracker = tmp / "T.xlsx"
        tracker.write_bytes(bytes(damaged))
        run("open/validate", ["validate", tracker], tracker)
        run("ingest", ["ingest", tracker, corpus.form], tracker, writes=True)
