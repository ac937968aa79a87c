"""Issue 12: a bulk import a coordinator finishes in one sitting.

Suggestions for unknown values and headings, the draft mapping, open lists that
grow, personal-data columns left out, historic records, warnings in the dry run,
and the rejects round trip that remembers the mapping and the original rows.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from legacy_authority import make_legacy
from libreoffice import convert, needs_libreoffice

from cstracker.cli import cli
from cstracker.core import derived
from cstracker.core.config import load_config
from cstracker.core.errors import ConfigError
from cstracker.core.periods import parse_period
from cstracker.core.personal import personal_data_kind
from cstracker.core.schema import CodeLists
from cstracker.core.suggest import Matcher
from cstracker.legacy.column_mapping import load_mapping, map_columns
from cstracker.legacy.importer import import_file
from cstracker.report.tables import build_report
from cstracker.tracker.create import create_tracker
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.validate import validate_tracker
from tests.conftest import TODAY

LISTS = CodeLists()
FIELDS = LISTS.fields()


def matcher(list_key: str) -> Matcher:
    return Matcher(LISTS.lookup(list_key), LISTS.codes(list_key))


# -- the suggestion engine ---------------------------------------------------------------------

SPELLINGS = [
    # (list, spelling, the codes to fill in; None = no suggestion may be filled in)
    ("referrer_team", "Youth Justice", ("Youth Justice Service",)),
    ("referrer_team", "Schools", ("School",)),
    ("referrer_team", "YJS", ("Youth Justice Service",)),
    ("referrer_team", "Youth Offending Team", ("Youth Justice Service",)),
    ("referrer_team", "CAMHS team", ("CAMHS",)),
    ("referrer_team", "Police Dept", ("Police",)),
    ("referrer_team", "Social Care Team", ("Children's Social Care",)),
    ("referrer_team", "Helth", ("Health",)),
    ("referrer_team", "Youth Servce", ("Youth Service",)),
    ("referrer_team", "VS", ("Voluntary sector",)),
    ("referrer_team", "Children in Need", None),
    ("referrer_team", "Social Services", None),
    ("referrer_team", "School nurse", None),
    ("referrer_team", "GP", None),
    ("referrer_team", "Housing & Community Safety", None),  # two teams: which one is for a person to say
    ("primary_concern", "Neighborhood", ("Neighbourhood",)),
    ("primary_concern", "Peers", ("Peer Group",)),
    ("primary_concern", "Individual YP", ("Individual",)),
    ("primary_concern", "Group Peer", ("Peer Group",)),
    ("primary_concern", "Scool", ("School",)),
    ("primary_concern", "Neighbourhood (estate)", ("Neighbourhood",)),
    ("primary_concern", "Family home", ("Home",)),
    ("primary_concern", "Online", None),
    ("primary_concern", "Peer Group / School", None),
    ("primary_concern", "Gang", None),
    ("themes", "CCE / county lines", ("County Lines",)),
    ("themes", "CSE/Gangs", ("CSE", "Gangs")),
    ("themes", "DV & Missing", ("DV In home", "Missing episodes")),
    ("themes", "Radicalization", ("Radicalisation",)),
    ("themes", "Missing Episode", ("Missing episodes",)),
    ("themes", "Unauthorized absence", ("Unauthorised Absences",)),
    ("themes", "Harmful sexual behavior", ("HSB",)),
    ("themes", "Knife crime", None),
    ("themes", "Exploitation", None),
    ("themes", "Bullying", None),
    ("gender", "Boy", ("Male",)),
    ("gender", "Trans", None),
    ("ethnicity", "White British", ("White - British",)),
    ("ethnicity", "Mixed", None),
    ("legal_status", "Child in need", ("Child in Need",)),
    ("legal_status", "Looked after", None),  # s20 or care order: not for the tool to guess
]


@pytest.mark.parametrize(("list_key", "spelling", "codes"), SPELLINGS)
def test_suggestion_table(list_key, spelling, codes):
    got = matcher(list_key).suggest(spelling, several=list_key == "themes")
    filled = got[0].codes if got and got[0].confident else None
    assert filled == codes, [s.text() for s in got]


@pytest.mark.parametrize(
    ("heading", "label"),
    [
        ("Ref No", "Referral ID"),
        ("Date of Referal", "Date received"),
        ("Consult date", "Consultation date"),
        ("Prev refs", "Previous referrals"),
        ("Internal notes", None),
        ("Colour", None),
    ],
)
def test_heading_suggestions(heading, label):
    mapping = map_columns([heading], FIELDS, LISTS)
    column = mapping.columns[0]
    assert column.key is None
    good = [s for s in column.suggestions if s.confident]
    got = mapping.fields[good[0].code].label if good else None
    assert got == label, [s.text() for s in column.suggestions]


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("YP Name", "a name"),
        ("Name", "a name"),
        ("Surname", "a name"),
        ("Child's full name", "a name"),
        ("DOB", "a date of birth"),
        ("Date of Birth", "a date of birth"),
        ("Home address", "an address"),
        ("Postcode", "an address"),
        ("Contact Tel", "a phone number"),
        ("Mobile number", "a phone number"),
        ("Email", "an e-mail address"),
        ("Referrer name", None),
        ("School name", None),
        ("Worker", None),
        ("Mosaic No", None),
        ("Date received", None),
    ],
)
def test_personal_data_headings(heading, kind):
    assert personal_data_kind(heading) == kind
    column = map_columns([heading], FIELDS, LISTS).columns[0]
    assert (column.personal or None) == kind
    if kind is None and heading == "Referrer name":
        assert column.key == "referrer"


# -- the mapping file: open lists, several codes -----------------------------------------------


def test_mapping_file_may_add_to_an_open_list_but_not_a_fixed_one(tmp_path):
    ok = tmp_path / "ok.toml"
    ok.write_text(
        '[values.referrer_team]\n"CIN" = "Children in Need"\n'
        '[values.themes]\n"CSE/Gangs" = ["CSE", "Gangs"]\n',
        encoding="utf-8",
    )
    m = load_mapping(ok, FIELDS, LISTS)
    assert m.new_codes == {"referrer_team": ["Children in Need"]}
    assert m.several == {"themes": {"cse gangs": ("CSE", "Gangs")}}
    bad = tmp_path / "bad.toml"
    bad.write_text('[values.primary_concern]\n"Online" = "Online"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'Online' is not on the primary_concern list"):
        load_mapping(bad, FIELDS, LISTS)


# -- the whole journey -------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def package_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def rows_by_mosaic(tracker: Path) -> dict[str, dict]:
    return {r["mosaic_id"]: r for r in Tracker.open(tracker).records()}


@needs_libreoffice
def test_legacy_file_dry_run_draft_import_rejects_round_trip(tmp_path):
    tracker = create_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    start = Tracker.open(tracker).settings.tracker_start
    legacy = make_legacy(tmp_path / "old tracker.csv")
    source = legacy.path

    # 1. the dry run: grouped values with suggestions, the allowed list once per column, no names
    draft = tmp_path / "draft.toml"
    code, out = run("import", tracker, source, "--dry-run", "--write-mapping", draft)
    assert code == 1, out
    assert "  column A 'Ref No' ignored: not a tracker field" in out and "did you mean 'Referral ID'?" in out
    assert re.search(r"\d+ x 'Schools': did you mean 'School'\? \(plural/singular\)", out)
    assert re.search(r"\d+ x 'Youth Justice': did you mean 'Youth Justice Service'\?", out)
    assert re.search(r"\d+ x 'Children in Need': new; would be added to the list", out)
    assert re.search(r"\d+ x 'Online': no close match", out)
    assert "would add 'Children in Need' to Referrer team/service" in out
    assert out.count("allowed: Individual, Home, Peer Group, School, Neighbourhood") == 1
    assert "column C 'YP Name' not imported: personal data (a name of a young person)" in out
    for r in legacy.rows:
        assert r.name not in out
        assert r.cells[3] not in out  # date of birth
        assert r.cells[11] not in out  # phone number
    assert Tracker.open(tracker).records() == []  # a dry run writes nothing to the tracker

    # 2. the draft: every column, suggestions filled in, the unsure left for the user
    text = draft.read_text(encoding="utf-8")
    assert '"Ref No" = "Referral ID"' in text
    assert '"YP Name" = "ignore"' in text
    assert '"Schools" = "School"' in text
    assert '"CSE/Gangs" = ["CSE", "Gangs"]' in text
    assert '"Children in Need" = "Children in Need"' in text
    assert '# "Online" = ""  # TODO' in text and '# "Knife crime" = ""  # TODO' in text
    assert "Allowed: Individual, Home, Peer Group, School, Neighbourhood" in text
    for r in legacy.rows:
        assert r.name not in text

    # 3. the import with the draft unchanged: every row whose only problem was vocabulary lands
    rejects = tmp_path / "rejected.xlsx"
    code, out = run("import", tracker, source, "--mapping", draft, "--rejects", rejects)
    assert code == 1, out
    assert "added 'Children in Need' to Referrer team/service" in out
    assert "Column C 'YP Name' not imported: personal data (a name)." in out
    got = rows_by_mosaic(tracker)
    blocked = {r.mosaic for r in legacy.rows if r.blocked_by}
    assert set(got) == {r.mosaic for r in legacy.rows} - blocked
    for r in legacy.rows:
        if r.blocked_by:
            continue
        row = got[r.mosaic]
        assert row["referrer_team"] == (r.team or r.new_team), r
        assert (row.get("primary_concern") or "") == r.concern
        ticked = tuple(k.split(":", 1)[1] for k, v in row.items() if k.startswith("theme:") and v)
        assert sorted(ticked) == sorted(r.themes)
        assert row["gender"] == r.gender
        assert row["source"] == f"import: {source.name} row {r.row}"
        # historic consultations are not overdue: no follow-up expected
        if r.consulted and r.consulted < start:
            assert row["status"] == derived.HISTORIC and row["follow_up_due"] is None
    t = Tracker.open(tracker)
    assert "Children in Need" in t.lists.codes("referrer_team")
    assert "Online" not in t.lists.codes("primary_concern")  # a fixed list never grows
    assert "Knife crime" not in t.lists.themes
    whole = package_text(tracker)
    for r in legacy.rows:
        assert r.name not in whole and r.cells[11] not in whole

    # 4. the rejects file: no personal data; fixed and saved by LibreOffice; imported with no --mapping
    wb = openpyxl.load_workbook(rejects)
    assert wb["_cstracker_import"].sheet_state == "hidden"
    ws = wb["Rejected"]
    header = [c.value for c in ws[1]]
    assert "YP Name" not in header and "DOB" not in header and "Contact Tel" not in header
    for r in legacy.rows:
        assert r.name not in package_text(rejects)
    fixes = {"Online": "Individual", "Knife crime": "Other", "31/02/2024": "28/02/2024"}
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.value in fixes:
                cell.value = fixes[cell.value]
    ws.delete_rows(2)  # a row the coordinator gives up on: the others keep their origins
    wb.save(rejects)
    resaved = convert(rejects, tmp_path / "resaved", "xlsx")
    fixed = tmp_path / "rejected fixed.xlsx"
    fixed.write_bytes(resaved.read_bytes())
    code, out = run("import", tracker, fixed)
    assert code == 0, out
    got = rows_by_mosaic(tracker)
    gave_up = sorted(r.row for r in legacy.rows if r.blocked_by)[0]
    for r in legacy.rows:
        if r.blocked_by and r.row != gave_up:
            assert got[r.mosaic]["source"] == f"import: {source.name} row {r.row}"
            assert got[r.mosaic]["referrer_team"] == (r.team or r.new_team)

    # 5. the report's overdue list leaves historic consultations out
    t = Tracker.open(tracker)
    report = build_report(t.dataframe(), parse_period(month="2026-10"), t.lists, t.settings, TODAY)
    overdue = report.table("overdue").data
    recent = {r.mosaic for r in legacy.rows if r.consulted and start <= r.consulted and r.row != gave_up}
    assert len(overdue) == len(recent) > 0
    assert all(d >= start for d in overdue["Consultation date"])


def test_warnings_in_the_dry_run_match_validate_after_the_import(tmp_path):
    tracker = create_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    legacy = make_legacy(tmp_path / "old.csv")
    draft = tmp_path / "draft.toml"
    code, out = run("import", tracker, legacy.path, "--dry-run", "--write-mapping", draft)
    dry = import_file(tracker, legacy.path, mapping_path=draft, dry_run=True, today=TODAY)
    by_rule = Counter(p.rule for p in dry.warnings)
    assert by_rule["missing-decision-date"] > 10 and by_rule["not-signposted"] > 0
    code, out = run("import", tracker, legacy.path, "--mapping", draft, "--dry-run")
    for rule, count in by_rule.items():
        assert re.search(
            rf"  {count} x {rule}: .* \(first: [A-Z]*\d+|  {count} x {rule}: .* \(first: row", out
        )
    import_file(tracker, legacy.path, mapping_path=draft, today=TODAY)
    after = validate_tracker(tracker, today=TODAY)
    assert Counter(p.rule for p in after.warnings) == by_rule


def test_open_list_grows_without_a_mapping_file(blank_tracker, tmp_path):
    source = tmp_path / "old.csv"
    source.write_text(
        "Mosaic No,Date of referral,Referring Team,Gender\n"
        "101,03/10/2025,Children in Need,F\n"
        "102,04/10/2025,Schools,Alien\n"
        "103,05/10/2025,N/A,M\n",
        encoding="utf-8",
    )
    result = import_file(blank_tracker, source, today=TODAY)
    assert result.added_lines() == ["added 'Children in Need' to Referrer team/service"]
    assert [r.row for r in result.rejected] == [3, 4]  # 'Schools' has a suggestion, 'N/A' is no team
    assert "did you mean 'School'?" in result.rejected[0].reasons[0]
    t = Tracker.open(blank_tracker)
    assert t.lists.codes("referrer_team")[-1] == "Children in Need"
    assert "Alien" not in t.lists.codes("gender")
    # the dropdown's range on the Lists sheet covers the new value
    rows = t.layout.list_range("referrer_team")
    assert rows is not None and rows[1][3] - rows[1][1] + 1 == len(t.lists.codes("referrer_team"))


def test_write_mapping_needs_dry_run(blank_tracker, tmp_path):
    code, out = run("import", blank_tracker, tmp_path / "x.csv", "--write-mapping", tmp_path / "d.toml")
    assert code == 2 and "--write-mapping needs --dry-run" in out


def _corrected_in_libreoffice(rejects: Path, tmp_path: Path, import_again) -> Path:
    """The coordinator corrects the rejects workbook, deletes its 'Rejected from' column (the hidden
    sheet still knows the row) and LibreOffice saves it."""
    wb = openpyxl.load_workbook(rejects)
    ws = wb["Rejected"]
    ws["B2"] = "28/02/2025"
    ws.delete_cols(ws.max_column)
    wb.save(rejects)
    return convert(rejects, tmp_path / "lo", "xlsx")


def _corrected_as_text(rejects: Path, tmp_path: Path, import_again) -> Path:
    """A CSV keeps its mapping beside it; the same import again replaces its own rejects and mapping
    files without --overwrite; the coordinator corrects the CSV as text."""
    beside = tmp_path / "rejected.mapping.toml"
    assert '"Online" = "Individual"' in beside.read_text(encoding="utf-8")
    import_again()
    text = rejects.read_text(encoding="utf-8-sig")
    rejects.write_text(text.replace("31/02/2025", "28/02/2025"), encoding="utf-8-sig")
    return rejects


@pytest.mark.parametrize(
    ("suffix", "correct"),
    [
        pytest.param(
            ".xlsx", _corrected_in_libreoffice, marks=needs_libreoffice, id="xlsx-saved-by-libreoffice"
        ),
        pytest.param(".csv", _corrected_as_text, id="csv"),
    ],
)
def test_a_corrected_rejects_file_imports_with_the_mapping_it_remembers(
    blank_tracker, tmp_path, suffix, correct
):
    source = tmp_path / "old.csv"
    source.write_text(
        "Case No,Date of referral,Worker,Main Concern\n"
        "201,03/10/2025,CS Practitioner A,Peer Grp\n"
        "202,31/02/2025,CS Practitioner B,Online\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "ours.toml"
    mapping.write_text(
        '[columns]\n"Case No" = "Mosaic ID"\n"Worker" = "CS practitioner"\n'
        '[values.primary_concern]\n"Online" = "Individual"\n',
        encoding="utf-8",
    )
    rejects = tmp_path / f"rejected{suffix}"

    def import_with_rejects():
        return import_file(blank_tracker, source, mapping_path=mapping, rejects_path=rejects, today=TODAY)

    assert [r.row for r in import_with_rejects().rejected] == [3]
    corrected = correct(rejects, tmp_path, import_with_rejects)
    again = import_file(blank_tracker, corrected, today=TODAY)  # no --mapping: the rejects file remembers it
    assert again.rejected == [] and again.added == 1
    row = Tracker.open(blank_tracker).find(mosaic_id="202")
    assert row["cs_practitioner"] == "CS Practitioner B" and row["primary_concern"] == "Individual"
    assert row["source"] == "import: old.csv row 3"


def test_someone_elses_file_where_the_mapping_would_go_is_not_replaced(blank_tracker, tmp_path):
    source = tmp_path / "old.csv"
    source.write_text("Case No,Date of referral\n401,31/02/2025\n", encoding="utf-8")
    mapping = tmp_path / "ours.toml"
    mapping.write_text('[columns]\n"Case No" = "Mosaic ID"\n', encoding="utf-8")
    theirs = tmp_path / "rejected.mapping.toml"
    theirs.write_text("# my own notes\n", encoding="utf-8")
    before = Path(blank_tracker).read_bytes()
    with pytest.raises(Exception, match="already exists"):
        import_file(
            blank_tracker, source, mapping_path=mapping, rejects_path=tmp_path / "rejected.csv", today=TODAY
        )
    assert theirs.read_text(encoding="utf-8") == "# my own notes\n"
    assert Path(blank_tracker).read_bytes() == before
