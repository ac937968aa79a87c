"""The tracker's scan of the Referrals sheet: which rows an asked-for Referral ID finds."""

from __future__ import annotations

import zipfile

import xlsxwriter

from cstracker.core.identity import referral_key
from cstracker.xlsx.sheetscan import id_text, scan_sheet


def _sheet(path, ids):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Referrals")
    ws.write_row(0, 0, ["Referral ID", "Mosaic ID"])
    for i, rid in enumerate(ids, start=1):
        ws.write(i, 0, rid)
        ws.write_string(i, 1, f"91000{i:02d}")
    wb.close()
    return path


def test_an_id_stored_otherwise_is_found_in_the_one_pass_by_the_index_s_own_key(tmp_path):
    stored = ["CS-2026-0001", "cs-2026- 0002", " CS-2026-0003 ", "CS-2026-0004.0", 20260005.0]
    path = _sheet(tmp_path / "t.xlsx", stored)
    wanted = {referral_key(v) for v in ("CS-2026-0002", "CS-2026-0003", "CS-2026-0004", "20260005")}
    with zipfile.ZipFile(path) as zf:
        found = scan_sheet(
            zf, "xl/worksheets/sheet1.xml", id_col=1, columns={1, 2}, used_cols={1, 2},
            first_row=2, tail_from=10, wanted=wanted,
        )  # fmt: skip
    assert sorted(found.rows) == [3, 4, 5, 6]
    assert found.rows[3][2] == "9100002"
    assert found.ids == {referral_key(v): n for n, v in enumerate(stored, start=2)}


def test_id_text_is_the_identity_key():
    for value in ["CS-2026-0001", "cs-2026- 0001", "CS-2026-0001.0", 7.0, 7, None, "", "  "]:
        assert id_text(value) == (referral_key(7 if value == 7.0 else value) or "")
