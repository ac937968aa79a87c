"""A coordinator's own edits win: what each form last wrote, conflicts said, --prefer-form; the hidden record."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
from libreoffice import SYSTEM_PYTHON, needs_libreoffice, needs_uno

from cstracker.forms.fill import cell_of, fill_form
from cstracker.forms.workbook import SHEET_FORM
from cstracker.legacy.importer import import_file
from cstracker.tracker.tracker import Tracker
from cstracker.tracker.written import SHEET, Written, fingerprint, merge
from tests.conftest import TODAY
from tests.forms.test_ingest import example, filled, lines, new_tracker, run, tracker_rows

HERE = Path(__file__).parent.parent


def cell_ref(tracker: Path, key: str, referral_id: str = "CS-2026-0001") -> str:
    (row,) = [r for r in Tracker.open(tracker).rows() if r.raw.get("referral_id") == referral_id]
    return row.cells[key]


def edit_xml(tracker: Path, values: dict[str, str], referral_id: str = "CS-2026-0001") -> None:
    """Type ``values`` (key -> text) into a row by rewriting the sheet XML, as a spreadsheet would."""
    t = Tracker.open(tracker)
    refs = {cell_ref(tracker, k, referral_id): v for k, v in values.items()}
    with zipfile.ZipFile(tracker) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    xml = parts[t.layout.sheet_part].decode()
    for ref, value in refs.items():
        cell = re.compile(rf'<c r="{ref}"( s="\d+")?[^>]*?(/>|>.*?</c>)', re.S)
        m = cell.search(xml)
        assert m, ref
        xml = (
            xml[: m.start()]
            + f'<c r="{ref}"{m[1] or ""} t="inlineStr"><is><t>{value}</t></is></c>'
            + xml[m.end() :]
        )
    parts[t.layout.sheet_part] = xml.encode()
    with zipfile.ZipFile(tracker, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def edit_in_libreoffice(tracker: Path, values: dict[str, str]) -> None:
    """Type ``values`` into row CS-2026-0001 in LibreOffice and save as .xlsx over the tracker."""
    assignments = [f"Referrals!{cell_ref(tracker, k)}={v}" for k, v in values.items()]
    out = tracker.with_name("saved by LibreOffice.xlsx")
    subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "uno_cells.py"), str(tracker), str(out), *assignments],
        check=True,
        timeout=240,
    )
    shutil.move(out, tracker)


def copy_of(form: Path, name: str) -> Path:
    """The practitioner e-mails the same form again: a byte copy under another name."""
    return Path(shutil.copy(form, form.with_name(name)))


def only_row(tracker: Path) -> dict:
    (row,) = tracker_rows(tracker)
    return row


def conflict_line(form: Path, key: str, values: str) -> str:
    cell = cell_of(openpyxl.load_workbook(form), f"f_{key}").coordinate
    label = {"gender": "Gender", "detail": "Detail", "age": "Age"}[key]
    return (
        f"  {form}, {SHEET_FORM}!{cell}: {label}: the form and the tracker differ ({values}) and the tracker's "
        "value did not come from this form; the tracker keeps it. To take the form's, ingest the form again "
        "with --prefer-form [warning: conflict]"
    )


# -- the issue's scenario -----------------------------------------------------------------------------------


def _scenario(tmp_path: Path, edit) -> None:
    tracker = new_tracker(tmp_path)
    form = filled(tmp_path, "a.xlsx", example())
    assert run("ingest", tracker, form).exit_code == 0
    edit(tracker, {"detail": "Eastgate Academy", "gender": "Male"})
    edited = tracker.read_bytes()

    # the same form again (an identical copy): nothing changes, no "updated" line
    again = copy_of(form, "a (again).xlsx")
    result = run("ingest", tracker, again)
    assert result.exit_code == 0
    assert lines(result.output) == [
        f"unchanged CS-2026-0001   {again}",
        "1 form: 0 added, 0 updated, 1 unchanged, 0 rejected (nothing to save).",
    ]
    assert tracker.read_bytes() == edited
    assert only_row(tracker)["gender"] == "Male" and only_row(tracker)["detail"] == "Eastgate Academy"

    # a corrected form changing another field: only that field updates
    corrected = fill_form(copy_of(form, "a (corrected).xlsx"), {"age": 15})
    result = run("ingest", tracker, corrected)
    assert result.exit_code == 0
    assert lines(result.output)[0] == f"updated   CS-2026-0001   {corrected} (Age)"
    row = only_row(tracker)
    assert (row["age"], row["gender"], row["detail"]) == (15, "Male", "Eastgate Academy")

    # a form changing Gender too: a conflict line; the tracker keeps the coordinator's value
    both = fill_form(copy_of(corrected, "a (gender).xlsx"), {"gender": "Non-binary"})
    before = tracker.read_bytes()
    result = run("ingest", tracker, both)
    assert result.exit_code == 0
    assert lines(result.output)[:2] == [
        f"unchanged CS-2026-0001   {both}",
        conflict_line(both, "gender", "form 'Non-binary', tracker 'Male'"),
    ]
    assert tracker.read_bytes() == before
    assert only_row(tracker)["gender"] == "Male"

    # with --prefer-form the form's value wins (and only where the form changed it)
    result = run("ingest", tracker, both, "--prefer-form")
    assert result.exit_code == 0
    assert lines(result.output)[0] == f"updated   CS-2026-0001   {both} (Gender)"
    row = only_row(tracker)
    assert (row["age"], row["gender"], row["detail"]) == (15, "Non-binary", "Eastgate Academy")

    # and the same form once more changes nothing
    settled = tracker.read_bytes()
    result = run("ingest", tracker, both)
    assert lines(result.output)[0] == f"unchanged CS-2026-0001   {both}"
    assert tracker.read_bytes() == settled


def test_coordinator_edits_win_over_a_resent_form(tmp_path):
    _scenario(tmp_path, edit_xml)


@needs_libreoffice
@needs_uno
def test_coordinator_edits_in_libreoffice_win_and_the_record_survives_its_save(tmp_path):
    _scenario(tmp_path, edit_in_libreoffice)


@needs_libreoffice
@needs_uno
def test_the_record_survives_a_libreoffice_resave_hidden(tmp_path):
    tracker = new_tracker(tmp_path)
    form = filled(tmp_path, "a.xlsx", example())
    run("ingest", tracker, form)
    before = Written.load(Tracker.open(tracker)).records
    assert list(before) and before[next(iter(before))][0] == "CS-2026-0001"
    edit_in_libreoffice(tracker, {})
    assert Written.load(Tracker.open(tracker)).records == before
    with zipfile.ZipFile(tracker) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    assert re.search(rf'<sheet name="{SHEET}"[^>]*state="hidden"', workbook)


# -- forms without a last version ---------------------------------------------------------------------------


def _typed_row(tracker: Path, **values) -> None:
    with Tracker.open_for_update(tracker) as t:
        t.upsert(
            [
                {
                    "date_received": dt.date(2026, 10, 1),
                    "mosaic_id": "9100001",
                    "suitability": "Suitable",
                    "decision_date": dt.date(2026, 10, 2),
                    **values,
                }
            ],
            today=TODAY,
        )
        t.save()


def test_a_blank_forms_first_ingest_fills_blanks_and_says_what_differs(tmp_path):
    tracker = new_tracker(tmp_path)
    _typed_row(tracker, gender="Male", referrer="Sam Reid")
    form = filled(tmp_path, "a.xlsx", example())  # Female, referrer Sam Reid, detail ...
    result = run("ingest", tracker, form)
    assert result.exit_code == 0
    out = lines(result.output)
    assert out[0].startswith(f"updated   CS-2026-0001   {form} (Referrer team/service, Consultation date")
    assert "Gender" not in out[0] and "Referrer," not in out[0]
    assert out[1] == conflict_line(form, "gender", "form 'Female', tracker 'Male'")
    row = only_row(tracker)
    assert row["gender"] == "Male" and row["detail"] == "Northgate Academy"
    # the same form again: the conflict is said again, nothing changes
    before = tracker.read_bytes()
    again = run("ingest", tracker, form)
    assert lines(again.output)[:2] == [f"unchanged CS-2026-0001   {form}", out[1]]
    assert tracker.read_bytes() == before
    preferred = run("ingest", tracker, form, "--prefer-form")
    assert lines(preferred.output)[0] == f"updated   CS-2026-0001   {form} (Gender)"
    assert only_row(tracker)["gender"] == "Female"


def test_a_prefilled_form_knows_what_it_was_prefilled_with(tmp_path):
    tracker = new_tracker(tmp_path)
    _typed_row(tracker, gender="Female", detail="Northgate Academy", age=14)
    form = tmp_path / "CS-2026-0001.xlsx"
    assert run("form", form, "--tracker", tracker, "--referral", "CS-2026-0001").exit_code == 0
    # the coordinator changes gender and detail after the form went out
    edit_xml(tracker, {"gender": "Male", "detail": "Eastgate Academy"})
    # the practitioner leaves detail, changes gender and age
    fill_form(form, {"gender": "Non-binary", "age": 15})
    result = run("ingest", tracker, form)
    assert result.exit_code == 0
    out = lines(result.output)
    assert out[0] == f"updated   CS-2026-0001   {form} (Age)"
    assert out[1] == conflict_line(form, "gender", "form 'Non-binary', tracker 'Male'")
    row = only_row(tracker)
    assert (row["age"], row["gender"], row["detail"]) == (15, "Male", "Eastgate Academy")


def test_a_form_that_clears_a_value_it_wrote_clears_it_unless_the_coordinator_changed_it(tmp_path):
    tracker = new_tracker(tmp_path)
    form = filled(tmp_path, "a.xlsx", example())
    run("ingest", tracker, form)
    edit_xml(tracker, {"detail": "Eastgate Academy"})
    fill_form(form, {"detail": None, "theme:CSE": False})
    result = run("ingest", tracker, form)
    assert lines(result.output)[0] == f"updated   CS-2026-0001   {form} (Theme: CSE)"
    row = only_row(tracker)
    assert row["theme:CSE"] is False and row["detail"] == "Eastgate Academy"


# -- the rule itself ----------------------------------------------------------------------------------------


def test_merge_rule_table():
    fp = fingerprint
    base = {"a": fp("a", "x"), "b": fp("b", "x"), "c": fp("c", "x"), "d": fp("d", "x")}
    tracker = {"a": "x", "b": "coordinator", "c": "coordinator", "d": None, "e": "typed"}
    incoming = {"a": "form", "b": "x", "c": "form", "d": "form", "e": "new"}
    got = merge(incoming, tracker, base)
    assert got.take == {"a": "form", "d": "form"}
    assert got.conflicts == ["c", "e"]
    # with no last version: fill blanks, conflict on a different value, a blank never clears
    got = merge({"a": "form", "d": "form", "f": None}, {"a": "x", "d": None, "f": "kept"}, None)
    assert got.take == {"d": "form"} and got.conflicts == ["a"]
    assert merge({"a": "form"}, {"a": "x"}, None, prefer_incoming=True).take == {"a": "form"}
    # an import never blanks: a blank source value leaves the tracker's
    assert merge({"a": None}, {"a": "x"}, {"a": fp("a", "x")}, clears=False).take == {}
    assert merge({"a": None}, {"a": "x"}, {"a": fp("a", "x")}).take == {"a": None}
    # Mosaic IDs compare as digits with leading zeros ignored
    assert fp("mosaic_id", "0091000") == fp("mosaic_id", "91000") == fp("mosaic_id", 91000.0)


# -- re-imports: the same rule, keyed by source file and row -------------------------------------------------

HEADER = "Referral ID,Mosaic ID,Date received,Age,Gender,Detail\n"


def test_a_reimport_keeps_the_coordinators_edits_and_says_what_both_changed(tmp_path):
    tracker = new_tracker(tmp_path)
    source = tmp_path / "old.csv"
    source.write_text(HEADER + "CS-2025-0001,9000001,03/10/2025,14,Female,Northgate\n")
    assert import_file(tracker, source, today=TODAY).added == 1
    edit_xml(tracker, {"gender": "Male", "detail": "Eastgate"}, "CS-2025-0001")
    edited = tracker.read_bytes()
    again = run("import", tracker, source)
    assert again.exit_code == 0
    assert "1 row read = 0 added + 0 updated + 1 already in the tracker" in again.output
    assert "conflict" not in again.output
    assert tracker.read_bytes() == edited

    source.write_text(HEADER + "CS-2025-0001,9000001,03/10/2025,15,Female,Northgate\n")
    assert import_file(tracker, source, today=TODAY).updated == 1
    row = only_row(tracker)
    assert (row["age"], row["gender"], row["detail"]) == (15, "Male", "Eastgate")

    source.write_text(HEADER + "CS-2025-0001,9000001,03/10/2025,15,Non-binary,Northgate\n")
    before = tracker.read_bytes()
    result = run("import", tracker, source)
    assert result.exit_code == 0
    assert (
        "old.csv, cell E2: Gender (column E): differs from CS-2025-0001 on the tracker (source 'Non-binary', "
        "tracker 'Male'), whose value did not come from this row; the tracker keeps it. To take the source's, "
        "import again with --prefer-source [warning: conflict]"
    ) in lines(result.output)
    assert "Detail" not in result.output
    assert tracker.read_bytes() == before

    result = run("import", tracker, source, "--prefer-source")
    assert result.exit_code == 0 and "conflict" not in result.output
    row = only_row(tracker)
    assert (row["age"], row["gender"], row["detail"]) == (15, "Non-binary", "Eastgate")


def test_a_first_import_over_a_typed_row_fills_blanks_and_keeps_what_differs(tmp_path):
    tracker = new_tracker(tmp_path)
    with Tracker.open_for_update(tracker) as t:
        t.upsert(
            [
                {
                    "referral_id": "CS-2025-0001",
                    "mosaic_id": "9000001",
                    "date_received": dt.date(2025, 10, 3),
                    "gender": "Male",
                }
            ]
        )
        t.save()
    source = tmp_path / "old.csv"
    source.write_text(HEADER + "CS-2025-0001,9000001,03/10/2025,14,Female,Northgate\n")
    result = import_file(tracker, source, today=TODAY)
    assert result.updated == 1 and [p.field for p in result.conflicts] == ["Gender (column E)"]
    row = only_row(tracker)
    assert (row["age"], row["gender"], row["detail"]) == (14, "Male", "Northgate")
