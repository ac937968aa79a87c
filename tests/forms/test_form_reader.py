"""Reading completed forms: by name, by label when names are lost, converted by the schema, in safe workers."""

from __future__ import annotations

import datetime as dt
import re
import time
import zipfile
from pathlib import Path
from xml.dom import minidom

from cstracker.core.config import Config
from cstracker.core.schema import CodeLists
from cstracker.forms import reader as form_reader
from cstracker.forms.fill import fill_form
from cstracker.forms.reader import Limits, read_form, read_forms
from cstracker.forms.workbook import SHEET_FORM, form_items, write_form
from cstracker.synthetic import synthetic_records
from tests.conftest import TODAY

LISTS = CodeLists()
FORM_KEYS = {i.key for i in form_items(LISTS).values() if i.key} | {"primary_concern"}


def consulted_record(seed: int = 7) -> dict:
    """A synthetic referral with a consultation, as the form carries it."""
    for r in synthetic_records(40, seed=seed, end=TODAY, today=TODAY):
        if r.get("primary_concern") and r.get("known_since"):
            return {k: v for k, v in r.items() if k in FORM_KEYS}
    raise AssertionError("no consulted record in the sample")


def new_form(tmp_path: Path, name: str = "form.xlsx", form_id: str = "F-READ00000001") -> Path:
    return write_form(tmp_path / name, Config(), form_id=form_id)


def patch_part(path: Path, part: str, change) -> None:
    """Rewrite one part of an .xlsx in place (what another program might leave behind)."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def with_formula(xml: bytes, ref: str, formula: str, cached: str) -> bytes:
    """The sheet with cell ``ref`` holding ``formula`` and its cached value, as Excel saves one.

    Parsed as XML (DOM keeps every prefix and namespace declaration as written), so it does not
    matter how the writer spelled an empty cell: ``<c r="B13" s="4"/>`` or ``<c ...></c>`` (openpyxl
    with lxml).
    """
    doc = minidom.parseString(xml)
    cells = [c for c in doc.getElementsByTagName("c") if c.getAttribute("r") == ref]
    assert len(cells) == 1, f"no cell {ref} in the sheet"
    target = cells[0]
    while target.firstChild is not None:
        target.removeChild(target.firstChild)
    if target.hasAttribute("t"):
        target.removeAttribute("t")  # a number: no type
    for tag, text in (("f", formula), ("v", cached)):
        child = doc.createElement(tag)
        child.appendChild(doc.createTextNode(text))
        target.appendChild(child)
    return doc.toxml(encoding="UTF-8")


def cell(path: Path, name: str) -> str:
    """The cell behind a form's defined name, e.g. 'B13'."""
    return form_reader.SafeWorkbook(path).names[name].split("!")[1].replace("$", "")


def lines(read) -> list[str]:
    return [p.line() for p in read.problems]


def test_reads_back_what_was_typed(tmp_path):
    record = consulted_record()
    path = fill_form(new_form(tmp_path), record)
    got = read_form(path, LISTS)
    assert got.problems == []
    assert got.form_id == "F-READ00000001" and got.form_version == "1"
    for key in FORM_KEYS:
        want = record.get(key)
        assert got.record.get(key) == (
            False if key.startswith(("theme:", "intervention:")) and not want else want
        ), key
    assert got.cells["mosaic_id"].startswith("B")


def test_values_typed_loosely_are_converted(tmp_path):
    path = fill_form(
        new_form(tmp_path),
        {},
        extra={
            "f_date_received": "03/10/2026",  # typed as text: 3 October
            "f_age": " 14 ",  # a number typed as text, with stray spaces
            "f_referrer": "  Sam Reid ",
            "f_gender": "f",
            "f_mosaic_id": 912345,  # a number: kept as text
            "f_theme_cse": "x",
            "f_theme_gangs": "Y",
            "f_theme_hsb": "yes",
            "f_theme_sen": True,
            "f_theme_online": "TRUE",
            "f_theme_county_lines": "✓",
            "f_primary_concern_school": "x",
            "f_notes_home": "Lives with mum; narrative stays on the form",
        },
    )
    got = read_form(path, LISTS)
    assert got.problems == []
    r = got.record
    assert r["date_received"] == dt.date(2026, 10, 3)
    assert r["age"] == 14 and r["referrer"] == "Sam Reid" and r["gender"] == "Female"
    assert r["mosaic_id"] == "912345"
    assert all(r[f"theme:{t}"] for t in ("CSE", "Gangs", "HSB", "SEN", "Online", "County Lines"))
    assert r["theme:CP Plan"] is False
    assert r["primary_concern"] == "School"
    assert not any("Lives with mum" in str(v) for v in r.values())


def test_more_than_one_primary_concern_is_refused(tmp_path):
    path = fill_form(
        new_form(tmp_path), {}, extra={"f_primary_concern_home": "✓", "f_primary_concern_school": "x"}
    )
    got = read_form(path, LISTS)
    assert got.rejected
    assert lines(got) == [
        f"{path}, {SHEET_FORM}!{cell(path, 'f_primary_concern_school')}: Primary concern: 2 contexts are ticked (Home, School); tick ONE only "
        "[primary-concern-not-one]"
    ]


def test_bad_values_are_named_by_cell_and_a_mosaic_id_is_never_echoed(tmp_path):
    path = fill_form(
        new_form(tmp_path), {}, extra={"f_mosaic_id": "12AB45", "f_age": 40, "f_theme_cse": "maybe"}
    )
    got = read_form(path, LISTS)
    assert sorted(lines(got)) == sorted(
        [
            f"{path}, {SHEET_FORM}!{cell(path, 'f_mosaic_id')}: Mosaic ID: is not a number; a Mosaic ID is 1 to 12 digits [bad-mosaic-id]",
            f"{path}, {SHEET_FORM}!{cell(path, 'f_age')}: Age: is out of range; use a whole number from 5 to 25 (value '40') "
            "[out-of-range]",
            f"{path}, {SHEET_FORM}!{cell(path, 'f_theme_cse')}: Theme: CSE: is not a tick; use Yes (or ✓, x, Y, TRUE, 1) or leave blank "
            "(value 'maybe') [not-a-tick]",
        ]
    )
    assert "12AB45" not in " ".join(lines(got))


def test_a_formula_is_refused_and_its_cached_value_never_used(tmp_path):
    path = fill_form(new_form(tmp_path), {"referrer": "Sam Reid"})
    # what Excel saves for =10+4 typed into Age: the formula and its cached result
    age = cell(path, "f_age")
    patch_part(path, "xl/worksheets/sheet1.xml", lambda xml: with_formula(xml, age, "10+4", "14"))
    got = read_form(path, LISTS)
    assert lines(got) == [
        f"{path}, {SHEET_FORM}!{age}: Age: holds a formula; type the value itself (a form's formulas are never read) "
        "[formula-in-field]"
    ]
    assert "age" not in got.record


def test_lost_names_fall_back_to_the_labels_and_say_so(tmp_path):
    record = consulted_record(seed=11)
    path = fill_form(new_form(tmp_path), record)
    named = read_form(path, LISTS)
    patch_part(path, "xl/workbook.xml", lambda xml: re.sub(rb"<definedNames>.*</definedNames>", b"", xml))
    got = read_form(path, LISTS)
    assert got.names_lost
    assert got.record == named.record
    assert got.form_id == "F-READ00000001"
    n = len(form_items(LISTS))
    assert lines(got) == [
        f"{path}, sheet {SHEET_FORM}: the form's named cells are missing (a spreadsheet program dropped them); "
        f"its fields were found by the labels beside them instead ({n} of {n}): check the row [warning: names-lost]"
    ]


# -- the worker pool: a hostile file takes down a worker, never the batch ------------------------------


def test_a_crashing_slow_or_greedy_file_costs_one_form_not_the_batch(tmp_path):
    # the workers start from a forkserver, not a fork of this process: they import the stand-in reader
    from hostile_reader import read as hostile_read

    good = [
        fill_form(new_form(tmp_path, f"good{i}.xlsx", f"F-GOOD0000000{i}"), {"referrer": f"R{i}"})
        for i in range(3)
    ]
    bad = []
    for name in ("crash.xlsx", "slow.xlsx", "hog.xlsx"):
        (tmp_path / name).write_bytes(good[0].read_bytes())
        bad.append(tmp_path / name)
    paths = [good[0], bad[0], good[1], bad[1], bad[2], good[2]]
    start = time.perf_counter()
    got = read_forms(paths, LISTS, Limits(seconds=1.5), workers=2, reader=hostile_read)
    assert time.perf_counter() - start < 25
    assert [g.path for g in got] == paths
    for g, i in zip((got[0], got[2], got[5]), range(3), strict=True):
        assert g.problems == [] and g.record["referrer"] == f"R{i}"
    assert lines(got[1]) == [
        f"{bad[0]}: stopped the reader (too big, too slow or malformed); it is not a normal consultation form "
        "and was not read [too-big]"
    ]
    assert lines(got[3]) == [
        f"{bad[1]}: took longer than 1.5 s to read; it is not a normal consultation form and was not read [too-big]"
    ]
    assert lines(got[4]) == [
        f"{bad[2]}: needs more memory to read than any consultation form; it is not a normal consultation form "
        "and was not read [too-big]"
    ]
