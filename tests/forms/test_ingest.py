"""Completed forms into the tracker: round trips, idempotency, dry run, archive, updates and every bad input."""

from __future__ import annotations

import datetime as dt
import struct
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from libreoffice import convert, needs_libreoffice

from cstracker.cli import cli
from cstracker.core.config import Config, load_config
from cstracker.core.schema import CONTEXT_ACTION_FIELD, CodeLists, Kind
from cstracker.forms.fill import cell_of, fill_form
from cstracker.forms.ingest import ingest
from cstracker.forms.workbook import SHEET_FORM, form_items, input_name, new_form_id, write_form
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

LISTS = CodeLists()
ITEMS = form_items(LISTS)
FORM_KEYS = sorted({i.key for i in ITEMS.values() if i.key} | {"primary_concern"})
FLAG_KEYS = {k for k in FORM_KEYS if k.startswith(("theme:", "intervention:"))}


def run(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def new_tracker(folder: Path) -> Path:
    return init_tracker(folder / "Referral Tracker.xlsx", load_config(None))


def filled(folder: Path, name: str, record: dict, **kw) -> Path:
    """A fresh form (its own Form ID), filled in by hand with ``record``."""
    return fill_form(write_form(folder / name, Config(), form_id=new_form_id()), record, **kw)


def tracker_rows(path: Path) -> list[dict]:
    return Tracker.open(path).records()


def form_part(record: dict) -> dict:
    """What a tracker row holds of the form's fields (a flag not ticked is False, a blank is None)."""
    return {k: bool(record.get(k)) if k in FLAG_KEYS else record.get(k) for k in FORM_KEYS}


def example(mosaic: str = "9100001", **extra) -> dict:
    """A valid consulted referral, as a practitioner would fill the form."""
    record = {
        "date_received": dt.date(2026, 10, 1),
        "referrer": "Sam Reid",
        "referrer_team": "School",
        "mosaic_id": mosaic,
        "suitability": "Suitable",
        "decision_date": dt.date(2026, 10, 2),
        "consultation_date": dt.date(2026, 10, 9),
        "cs_practitioner": "CS Practitioner A",
        "age": 14,
        "gender": "Female",
        "primary_concern": "School",
        "detail": "Northgate Academy",
        "theme:CSE": True,
        "theme:Poor school attendance": True,
        "action_school": "Meet DSL about lunchtime supervision",
        "intervention:Peer-group mapping": True,
    }
    record.update(extra)
    return record


def lines(output: str) -> list[str]:
    return output.splitlines()


# -- the round trip ---------------------------------------------------------------------------------------

_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,'()/&<>\"!?éñ–"
texts = st.one_of(
    st.text(_TEXT, min_size=1, max_size=30).map(str.strip).filter(bool),
    st.sampled_from(["=SUM(A1:A9)", "+44 7700 900123", "-not a formula", "@home"]),
)
long_texts = st.text(_TEXT + "\n", min_size=1, max_size=80).map(str.strip).filter(bool)


@st.composite
def valid_records(draw) -> dict:
    received = draw(st.dates(dt.date(2020, 1, 1), TODAY))
    r: dict = {"date_received": received, "mosaic_id": draw(st.from_regex(r"\A[0-9]{1,12}\Z"))}
    for f in (ITEMS[input_name(k)].field for k in FORM_KEYS if input_name(k) in ITEMS):
        if f.key in r or f.key in ("decision_date", "consultation_date", "known_since", "suitability"):
            continue
        if f.key == "referral_id":
            value = draw(st.none() | st.integers(100, 999).map(lambda n: f"CS-2026-{n:04d}"))
        elif f.kind is Kind.FLAG:
            value = draw(st.booleans())
        elif f.kind is Kind.CODE:
            value = draw(st.none() | st.sampled_from(LISTS.codes(f.code_list)))
        elif f.kind is Kind.INT:
            value = draw(st.none() | st.integers(*f.bounds))
        elif f.kind is Kind.LONGTEXT:
            value = draw(st.none() | long_texts)
        else:
            value = draw(st.none() | texts)
        r[f.key] = value
    if draw(st.booleans()):
        r["known_since"] = draw(st.dates(dt.date(1995, 1, 1), received))
    r["suitability"] = draw(st.sampled_from(LISTS.codes("suitability")))
    if r["suitability"] != "Awaiting decision":
        r["decision_date"] = draw(st.dates(received, TODAY))
    consulted = r["suitability"] == "Suitable" and draw(st.booleans())
    if consulted:
        r["consultation_date"] = draw(st.dates(r["decision_date"], TODAY))
        r["primary_concern"] = draw(st.sampled_from(list(CONTEXT_ACTION_FIELD)))
    else:
        r["primary_concern"] = None
    return r


@settings(max_examples=20)
@given(record=valid_records())
def test_any_valid_record_survives_form_and_ingest(record):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tracker = new_tracker(folder)
        form = filled(folder, "form.xlsx", record)
        result = ingest(tracker, [form], today=TODAY, workers=1)
        assert [o.outcome for o in result.outcomes] == ["added"], [p.line() for p in result.problems]
        assert not [p for p in result.problems if p.severity == "error"]
        (row,) = tracker_rows(tracker)
        want = form_part(record)
        if not record.get("referral_id"):
            want["referral_id"] = f"CS-{record['date_received'].year}-0001"
        assert form_part(row) == want
        assert row["form_id"] == result.outcomes[0].form_id
        assert row["source"] == "form: form.xlsx"


@needs_libreoffice
def test_a_form_resaved_by_libreoffice_ingests_to_the_same_row(tmp_path):
    record = example(
        known_since=dt.date(2025, 3, 1), previous_referrals=2, siblings=3, referrer="=cmd|' /C calc'!A0"
    )
    form = filled(tmp_path, "consultation.xlsx", record)
    resaved = convert(form, tmp_path / "resaved", "xlsx", recalc=False)
    tracker = new_tracker(tmp_path)
    result = ingest(tracker, [resaved], today=TODAY)
    assert [(o.outcome, o.referral_id) for o in result.outcomes] == [("added", "CS-2026-0001")]
    assert result.problems == []
    (row,) = tracker_rows(tracker)
    assert form_part(row) == {**form_part(record), "referral_id": "CS-2026-0001"}
    # text that starts like a formula went in as text, never as a formula
    ws = openpyxl.load_workbook(tracker)["Referrals"]
    col = [c.value for c in ws[1]].index("Referrer") + 1
    assert ws.cell(2, col).value == "=cmd|' /C calc'!A0" and ws.cell(2, col).data_type == "s"


# -- one batch, one save ----------------------------------------------------------------------------------


def test_the_same_form_twice_changes_nothing(tmp_path):
    tracker = new_tracker(tmp_path)
    form = filled(tmp_path, "a.xlsx", example())
    first = run("ingest", tracker, form)
    assert first.exit_code == 0
    assert lines(first.output)[0] == f"added     CS-2026-0001   {form}"
    before = tracker.read_bytes()
    second = run("ingest", tracker, form)
    assert second.exit_code == 0
    assert lines(second.output) == [
        f"unchanged CS-2026-0001   {form}",
        "1 form: 0 added, 0 updated, 1 unchanged, 0 rejected (nothing to save).",
    ]
    assert tracker.read_bytes() == before


def test_dry_run_writes_nothing_and_shows_what_would_happen(tmp_path):
    tracker = new_tracker(tmp_path)
    forms = [filled(tmp_path, f"{n}.xlsx", example(mosaic=f"91000{n}")) for n in (1, 2)]
    before = tracker.read_bytes()
    result = run("ingest", tracker, tmp_path / "*.xlsx", "--dry-run", "--archive", tmp_path / "done")
    assert result.exit_code == 0
    assert lines(result.output) == [
        f"added     CS-2026-0001   {forms[0]}",
        f"added     CS-2026-0002   {forms[1]}",
        "2 forms: 2 added, 0 updated, 0 unchanged, 0 rejected (dry run: nothing was written).",
    ]
    assert tracker.read_bytes() == before
    assert not (tmp_path / "done").exists() and all(f.exists() for f in forms)
    real = run("ingest", tracker, *forms)
    assert lines(real.output)[:2] == lines(result.output)[:2]


def test_archive_moves_the_forms_that_went_in(tmp_path):
    tracker = new_tracker(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = filled(inbox, "good.xlsx", example())
    bad = inbox / "bad.xlsx"
    bad.write_text("not a workbook")
    (inbox / "~$good.xlsx").write_bytes(b"owner file")  # Excel's lock file is skipped
    done = tmp_path / "done"
    result = run("ingest", tracker, inbox, "--archive", done)
    assert result.exit_code == 1
    assert lines(result.output)[:2] == [
        f"{'rejected':<9} {'':<14} {bad}",
        f"  {bad}: is not an Excel .xlsx file; a consultation form is an .xlsx workbook [not-xlsx]",
    ]
    assert lines(result.output)[2] == f"added     CS-2026-0001   {good} -> {done / 'good.xlsx'}"
    assert (done / "good.xlsx").exists() and not good.exists() and bad.exists()
    assert len(tracker_rows(tracker)) == 1


def test_a_corrected_resubmission_updates_the_row_and_names_the_changes(tmp_path):
    tracker = new_tracker(tmp_path)
    form = filled(tmp_path, "a.xlsx", example())
    run("ingest", tracker, form)
    fill_form(form, {"age": 15, "theme:CSE": False, "action_home": "Parents offered support group"})
    result = run("ingest", tracker, form)
    assert result.exit_code == 0
    assert lines(result.output)[0] == f"updated   CS-2026-0001   {form} (Age, Theme: CSE, Actions: Home)"
    (row,) = tracker_rows(tracker)
    assert row["age"] == 15 and row["theme:CSE"] is False
    assert row["action_home"] == "Parents offered support group"
    assert row["theme:Poor school attendance"] is True


def test_a_prefilled_form_takes_what_the_practitioner_changed_and_says_what_both_changed(tmp_path):
    tracker = new_tracker(tmp_path)
    with Tracker.open_for_update(tracker) as t:
        t.upsert(
            [
                {
                    "date_received": dt.date(2026, 10, 1),
                    "mosaic_id": "9100001",
                    "referrer": "Sam Reid",
                    "age": 14,
                    "suitability": "Suitable",
                    "decision_date": dt.date(2026, 10, 2),
                }
            ],
            today=TODAY,
        )
        t.save()
    form = tmp_path / "CS-2026-0001.xlsx"
    assert run("form", form, "--tracker", tracker, "--referral", "CS-2026-0001").exit_code == 0
    # after the form was made, the coordinator corrects the age on the tracker
    with Tracker.open_for_update(tracker) as t:
        t.upsert([{"referral_id": "CS-2026-0001", "age": 15}])
        t.save()
    # the practitioner corrects the referrer's name and leaves the age as pre-filled (14)
    fill_form(form, {**example(referrer="Sam Reed", age=14), "date_received": dt.date(2026, 10, 1)})
    result = run("ingest", tracker, form)
    assert result.exit_code == 0
    assert lines(result.output)[0] == (
        f"updated   CS-2026-0001   {form} (Referrer, Referrer team/service, Consultation date, CS practitioner, "
        "Gender, Primary concern, Detail, Theme: CSE, Theme: Poor school attendance, Actions: School, "
        "Intervention: Peer-group mapping)"
    )
    assert "conflict" not in result.output
    (row,) = tracker_rows(tracker)
    assert row["referrer"] == "Sam Reed" and row["age"] == 15


def test_a_form_about_another_young_person_is_refused(tmp_path):
    tracker = new_tracker(tmp_path)
    run("ingest", tracker, filled(tmp_path, "a.xlsx", example()))
    other = filled(tmp_path, "b.xlsx", example(mosaic="9100777", referral_id="CS-2026-0001"))
    result = run("ingest", tracker, other)
    assert result.exit_code == 1
    cell = cell_of(openpyxl.load_workbook(other), "f_mosaic_id").coordinate
    assert lines(result.output)[:2] == [
        f"rejected  CS-2026-0001   {other}",
        f"  {other}, {SHEET_FORM}!{cell}: Mosaic ID: differs from the Mosaic ID on the tracker for CS-2026-0001; "
        "check which young person this form is about (nothing was changed) [different-person]",
    ]
    assert "9100777" not in result.output
    assert tracker_rows(tracker)[0]["mosaic_id"] == "9100001"


# -- bad input never stops the batch ------------------------------------------------------------------------


def _zip_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def _write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def not_xlsx(folder, good):
    (folder / "notes.xlsx").write_text("Minutes of the meeting")
    return folder / "notes.xlsx", [
        "{p}: is not an Excel .xlsx file; a consultation form is an .xlsx workbook [not-xlsx]"
    ]


def truncated(folder, good):
    data = good.read_bytes()
    (folder / "cut.xlsx").write_bytes(data[: len(data) // 2])
    return folder / "cut.xlsx", [
        "{p}: is damaged or incomplete (not a complete .xlsx file); ask for it to be sent again [damaged-file]"
    ]


def corrupt(folder, good):
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 50, start + 250):
        data[i] ^= 0x5A
    (folder / "corrupt.xlsx").write_bytes(bytes(data))
    return folder / "corrupt.xlsx", [
        "{p}: is damaged or incomplete (not a complete .xlsx file); ask for it to be sent again [damaged-file]"
    ]


def password(folder, good):
    from msoffcrypto.format.ooxml import OOXMLFile

    with good.open("rb") as src, (folder / "locked.xlsx").open("wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    return folder / "locked.xlsx", [
        "{p}: is protected with a password; ask the sender to remove the password (File > Info > Protect "
        "Workbook) and send it again [password-protected]"
    ]


def old_xls(folder, good):
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))
    return folder / "old.xls", [
        "{p}: is an old-style Excel file (.xls); open it in Excel and save it as .xlsx (Excel Workbook) [not-xlsx]"
    ]


def xlsm(folder, good):
    (folder / "macros.xlsm").write_bytes(good.read_bytes())
    return folder / "macros.xlsm", [
        "{p}: is a macro-enabled workbook (.xlsm); a form must be saved as Excel Workbook (.xlsx) [macro-workbook]"
    ]


def xlsm_renamed(folder, good):
    parts = _zip_parts(good)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"sheet.main+xml", b"sheet.macroEnabled.main+xml"
    )
    return _write_zip(folder / "renamed.xlsx", parts), [
        "{p}: is a macro-enabled workbook; a form must be saved as Excel Workbook (.xlsx) [macro-workbook]"
    ]


def not_our_form(folder, good):
    wb = xlsxwriter.Workbook(str(folder / "budget.xlsx"))
    wb.add_worksheet("Budget").write(0, 0, "Total")
    wb.close()
    return folder / "budget.xlsx", [
        "{p}: is not a consultation form made by cstracker (it has no form version); make forms with: "
        "cstracker form [not-our-form]"
    ]


def unknown_version(folder, good):
    wb = openpyxl.load_workbook(good)
    cell_of(wb, "form_version").value = "9"
    wb.save(folder / "future.xlsx")
    return folder / "future.xlsx", [
        "{p}: is form version 9, which this cstracker cannot read (it reads version 1); update cstracker, or "
        "copy the answers into a new form [unknown-form-version]"
    ]


def missing_mosaic(folder, good):
    form = filled(folder, "no-id.xlsx", {**example(), "mosaic_id": None})
    cell = cell_of(openpyxl.load_workbook(form), "f_mosaic_id").coordinate
    return form, [f"{{p}}, {SHEET_FORM}!{cell}: Mosaic ID: is required and is blank [missing-required]"]


def formula(folder, good):
    form = filled(folder, "formula.xlsx", example(), extra={"f_referrer": "=A1&B1"})
    cell = cell_of(openpyxl.load_workbook(form), "f_referrer").coordinate
    return form, [
        f"{{p}}, {SHEET_FORM}!{cell}: Referrer: holds a formula; type the value itself (a form's formulas are "
        "never read) [formula-in-field]"
    ]


def far_cell(folder, good):
    wb = openpyxl.load_workbook(good)
    wb[SHEET_FORM]["XFD1048576"] = "x"
    wb.save(folder / "far.xlsx")
    return folder / "far.xlsx", [
        f"{{p}}, sheet {SHEET_FORM}: has a cell at XFD1048576, far outside a consultation form (at most 10000 "
        "rows, 200 columns); it was not read [absurd-size]"
    ]


def zip_bomb(folder, good):
    parts = _zip_parts(good)
    parts["xl/media/image1.png"] = bytes(40 * 1024 * 1024)
    path = _write_zip(folder / "bomb.xlsx", parts)
    info = zipfile.ZipFile(path).getinfo("xl/media/image1.png")
    ratio = info.file_size // info.compress_size
    return path, [
        f"{{p}}: has a part (xl/media/image1.png) that unpacks to {ratio} times its stored size (a 'zip bomb'); "
        "it was not opened [zip-bomb]"
    ]


def huge_shared_strings(folder, good):
    """A shared-strings part that says it is 500 MB: refused from the zip directory, before unpacking."""
    path = write_form(folder / "huge.xlsx", Config(), form_id=new_form_id())
    data = bytearray(path.read_bytes())
    name = b"xl/sharedStrings.xml"
    at = data.find(b"PK\x01\x02")  # the zip's central directory: one entry per part
    while data[at + 46 : at + 46 + struct.unpack_from("<H", data, at + 28)[0]] != name:
        at = data.find(b"PK\x01\x02", at + 4)
        assert at > 0, "no shared-strings part"
    struct.pack_into("<I", data, at + 24, 500 * 1024 * 1024)
    path.write_bytes(bytes(data))
    return path, [
        "{p}: has a shared-strings part of 500 MB; a consultation form's is under 20 MB, so this is not a "
        "normal form [too-big]"
    ]


BAD_INPUTS = [
    not_xlsx,
    truncated,
    corrupt,
    password,
    old_xls,
    xlsm,
    xlsm_renamed,
    not_our_form,
    unknown_version,
    missing_mosaic,
    formula,
    far_cell,
    zip_bomb,
    huge_shared_strings,
]


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=[f.__name__ for f in BAD_INPUTS])
def test_a_bad_form_is_rejected_with_one_clear_line_and_the_others_go_in(tmp_path, make_bad):
    tracker = new_tracker(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = filled(inbox, "a first.xlsx", example(mosaic="9100001"))
    bad, expected = make_bad(inbox, first)
    last = filled(inbox, "z last.xlsx", example(mosaic="9100002"))
    result = run("ingest", tracker, first, bad, last)
    assert result.exit_code == 1
    assert lines(result.output) == [
        f"added     CS-2026-0001   {first}",
        f"rejected  {'':<14} {bad}",
        *(f"  {e.format(p=bad)}" for e in expected),
        f"added     CS-2026-0002   {last}",
        f"3 forms: 2 added, 0 updated, 0 unchanged, 1 rejected (saved {tracker}, backup "
        + lines(result.output)[-1].split(", backup ")[1],
    ]
    assert "Traceback" not in result.output
    assert sorted(r["mosaic_id"] for r in tracker_rows(tracker)) == ["9100001", "9100002"]


def test_a_missing_file_is_rejected_and_the_rest_go_in(tmp_path):
    tracker = new_tracker(tmp_path)
    good = filled(tmp_path, "good.xlsx", example())
    result = run("ingest", tracker, good, tmp_path / "nowhere.xlsx", tmp_path / "none-*.xlsx")
    assert result.exit_code == 1
    assert lines(result.output)[1:5] == [
        f"{'rejected':<9} {'':<14} {tmp_path / 'nowhere.xlsx'}",
        f"  {tmp_path / 'nowhere.xlsx'}: no such file or folder [no-such-file]",
        f"{'rejected':<9} {'':<14} {tmp_path / 'none-*.xlsx'}",
        f"  {tmp_path / 'none-*.xlsx'}: matches no file [no-such-file]",
    ]
    assert len(tracker_rows(tracker)) == 1


def test_a_form_from_the_blank_template_has_no_form_id_and_still_goes_in_once(tmp_path):
    from cstracker.forms.workbook import write_blank_template

    tracker = new_tracker(tmp_path)
    form = fill_form(write_blank_template(tmp_path / "from template.xlsx", Config()), example())
    first = ingest(tracker, [form], today=TODAY)
    assert [(o.outcome, o.form_id) for o in first.outcomes] == [("added", None)]
    second = ingest(tracker, [form], today=TODAY)
    assert [(o.outcome, o.referral_id) for o in second.outcomes] == [("unchanged", "CS-2026-0001")]
    (row,) = tracker_rows(tracker)
    assert row["form_id"] is None and row["source"] == "form: from template.xlsx"


def test_a_bad_referral_id_on_a_form_is_explained_with_the_trackers_prefix(tmp_path):
    from cstracker.core.config import config_from_dict
    from cstracker.tracker.create import create_tracker

    tracker = create_tracker(tmp_path / "t.xlsx", config_from_dict({"referral_id_prefix": "WCS"}))
    form = filled(tmp_path, "f.xlsx", example(referral_id="not an id!"))
    result = ingest(tracker, [form], today=TODAY)
    [problem] = [p for p in result.problems if p.rule == "bad-referral-id"]
    assert "e.g. WCS-2026-0001" in problem.message
    assert "CS-2026" not in problem.message.replace("WCS-2026", "") and "pattern" not in problem.message


def test_archiving_to_another_disk_never_leaves_a_half_copied_form(tmp_path, monkeypatch):
    """The archive folder may be on another file system (a shared drive): the form is copied there
    through the one atomic write, then removed from the inbox, so a failure half-way (a full disk, a
    crash) leaves it whole in the inbox and nothing in the archive, never a torn copy or no form at all."""
    import errno
    import os
    import shutil

    tracker = new_tracker(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = filled(inbox, "good.xlsx", example())
    original = good.read_bytes()
    done = tmp_path / "done"

    def cross_device(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    def disk_full(src, dst, *args, **kwargs):
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "rename", cross_device)
    monkeypatch.setattr(shutil, "copyfile", disk_full)
    result = ingest(tracker, [good], archive=done, today=TODAY)
    assert [(o.outcome, o.archived_to) for o in result.outcomes] == [("added", None)]
    assert [p.rule for p in result.problems] == ["not-archived"]
    assert good.read_bytes() == original
    assert sorted(done.iterdir()) == []
    monkeypatch.undo()
    # and when the copy succeeds, the form is in the archive, whole, and no longer in the inbox
    again = ingest(tracker, [good], archive=done, today=TODAY)
    assert [o.archived_to for o in again.outcomes] == [done / "good.xlsx"]
    assert (done / "good.xlsx").read_bytes() == original and not good.exists()
