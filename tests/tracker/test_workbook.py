"""The new tracker, reopened and checked cell by cell."""

from __future__ import annotations

import openpyxl
import pytest

from cstracker.core.config import load_config
from cstracker.core.schema import DEFAULT_CODE_LISTS, SCHEMA_VERSION, CodeLists, Kind
from cstracker.tracker.create import create_tracker


@pytest.fixture
def wb(blank_tracker):
    return openpyxl.load_workbook(blank_tracker)


def col_dim(ws, letter):
    """The column dimension covering ``letter`` (openpyxl groups alike columns under the first)."""
    idx = openpyxl.utils.column_index_from_string(letter)
    return next(d for d in ws.column_dimensions.values() if d.min <= idx <= d.max)


def header_cols(ws):
    return {c.value: c.column_letter for c in ws[1]}


def test_sheets(wb):
    assert wb.sheetnames == ["Referrals", "Lists", "_cstracker", "Trends", "About"]
    assert wb["_cstracker"].sheet_state == "hidden"
    assert wb["Lists"].sheet_state == "visible"
    assert wb.active.title == "Referrals"


def test_referrals_table_headers_and_layout(wb):
    ws = wb["Referrals"]
    fields = CodeLists().fields()
    assert [c.value for c in ws[1]] == [f.label for f in fields]
    table = ws.tables["Referrals"]
    last = openpyxl.utils.get_column_letter(len(fields))
    assert table.ref == f"A1:{last}2"
    assert ws.freeze_panes == "B2"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$1:$1" and ws.print_title_cols == "$A:$A"
    assert ws.column_dimensions["A"].width > 10


def test_column_formats(wb):
    ws = wb["Referrals"]
    cols = header_cols(ws)
    # openpyxl reports the style of an empty cell from its column's default style
    assert col_dim(ws, cols["Date received"]).number_format == "dd/mm/yyyy"
    assert col_dim(ws, cols["Mosaic ID"]).number_format == "@"
    assert col_dim(ws, cols["Actions: School"]).alignment.wrap_text
    assert col_dim(ws, cols["Age"]).number_format == "0"


def test_every_coded_column_has_a_dropdown_from_the_lists_sheet(wb):
    ws = wb["Referrals"]
    cols = header_cols(ws)
    by_column = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_column[rng.coord.split(":")[0].rstrip("0123456789")] = (dv, str(rng.coord))
    for f in CodeLists().fields():
        letter = cols[f.label]
        if f.kind in (Kind.CODE, Kind.FLAG):
            dv, coord = by_column[letter]
            assert dv.type == "list", f.label
            assert dv.formula1 == f"list_{f.code_list}", f.label  # a named range, never an inline list
            assert coord == f"{letter}2:{letter}1048576"
            assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
            assert dv.prompt and dv.promptTitle
        elif f.kind is Kind.DATE:
            assert by_column[letter][0].type == "date", f.label
        elif f.kind is Kind.INT:
            dv = by_column[letter][0]
            assert (dv.type, dv.formula1, dv.formula2) == ("whole", str(f.bounds[0]), str(f.bounds[1]))


def test_defined_names_point_at_the_lists(wb):
    lists = wb["Lists"]
    for key, cl in DEFAULT_CODE_LISTS.items():
        dest = next(iter(wb.defined_names[f"list_{key}"].destinations))
        assert dest[0] == "Lists"
        cells = [c[0].value for c in lists[dest[1].replace("$", "")]]
        assert tuple(cells) == cl.codes
        # the list's title sits right above its codes
        first = dest[1].replace("$", "").split(":")[0]
        col = first.rstrip("0123456789")
        assert lists[f"{col}2"].value == cl.title


def test_settings_are_in_the_workbook(tmp_path):
    cfg_file = tmp_path / "b.toml"
    cfg_file.write_text(
        'authority_name = "Anytown"\nfollow_up_days = 28\n[themes]\nextra = ["Knife crime"]\n'
    )
    path = create_tracker(tmp_path / "t.xlsx", load_config(cfg_file))
    wb = openpyxl.load_workbook(path)
    meta = {r[0].value: r[1].value for r in wb["_cstracker"].iter_rows(min_row=2) if r[0].value}
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["authority_name"] == "Anytown"
    assert meta["follow_up_days"] == 28
    assert "Theme: Knife crime" in [c.value for c in wb["Referrals"][1]]
    about = [c.value for row in wb["About"].iter_rows() for c in row if c.value]
    assert "Anytown" in about and SCHEMA_VERSION in about
    assert sum(1 for v in about if str(v)[:3] in {"1. ", "2. ", "3. ", "4. ", "5. "}) == 5


def test_formula_columns_and_overdue_highlight(wb):
    ws = wb["Referrals"]
    cols = header_cols(ws)
    assert ws[f"{cols['Status']}2"].value.startswith("=IF(Referrals[[#This Row],[Follow-up date]]")
    assert "cs_follow_up_days" in ws[f"{cols['Follow-up due']}2"].value
    rules = {str(r.sqref): r for r in ws.conditional_formatting}
    due = cols["Follow-up due"]
    assert f"{due}2:{due}1048576" in rules
    formula = rules[f"{due}2:{due}1048576"].rules[0].formula[0]
    assert "TODAY()" in formula and f"${due}2" in formula


def test_quote_prefix_exemplar(wb):
    meta = wb["_cstracker"]
    row = next(r for r in meta.iter_rows() if r[0].value == "style:quote_prefix")
    assert row[1].quotePrefix


def test_about_sheet_and_prompts_use_the_configured_prefix_and_explain_several_places(tmp_path):
    from cstracker.core.config import config_from_dict

    path = create_tracker(tmp_path / "t.xlsx", config_from_dict({"referral_id_prefix": "WCS"}))
    wb = openpyxl.load_workbook(path)
    about = [c for row in wb["About"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    prompts = [dv.prompt or "" for dv in wb["Referrals"].data_validations.dataValidation]
    texts = about + prompts
    assert any("WCS-2026-0001" in t for t in about)
    assert any("WCS-2026-0001" in t for t in prompts)  # the Referral ID column's input message
    assert not any("CS-2026" in t.replace("WCS-2026", "") for t in texts)
    assert any("; or a line break" in t and "hotspot" in t for t in about)
    assert any("; or a line break" in t for t in prompts)  # Detail's input message
