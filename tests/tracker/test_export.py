"""cstracker export: record-level extracts, keyed pseudonyms, formula-safe CSV."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cstracker.cli import cli
from cstracker.core.config import load_config
from cstracker.synthetic import synthetic_records
from cstracker.tracker.export import NOTICE_TITLE, export_tracker
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.pseudonym import PseudonymKey, load_key
from cstracker.tracker.tracker import Tracker
from tests.conftest import TODAY

NOTICE = 3


@pytest.fixture
def tracker(tmp_path) -> Path:
    path = init_tracker(tmp_path / "Referral Tracker.xlsx", load_config(None))
    records = synthetic_records(12, today=TODAY)
    records[0]["detail"] = '=HYPERLINK("http://x")'
    records[0]["mosaic_id"] = "1234567"
    records[1]["mosaic_id"] = "1234567"  # the same young person twice
    with Tracker.open_for_update(path) as t:
        t.upsert(records, today=TODAY)
        t.save()
    return path


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    head, body = lines[:NOTICE], lines[NOTICE:]
    return head, list(csv.DictReader(io.StringIO("\n".join(body))))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def key_file(tmp_path) -> Path:
    p = tmp_path / "team.key"
    p.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    return p


def test_plain_extract_has_every_row_and_a_notice(tracker, tmp_path):
    out = tmp_path / "extract.csv"
    got = export_tracker(tracker, out)
    head, rows = _csv(out)
    assert head[0].startswith(f"# {NOTICE_TITLE}") and "do not publish" in head[1]
    assert len(rows) == got.rows == 12
    recs = Tracker.open(tracker).records()
    assert [r["referral_id"] for r in rows] == [r["referral_id"] for r in recs]
    assert rows[0]["mosaic_id"] == "1234567"
    # formula triggers neutralised in the CSV
    assert rows[0]["detail"] == '\'=HYPERLINK("http://x")'


def test_pseudonymised_csv_drops_free_text_coarsens_dates_and_keys_ids(tracker, tmp_path, key_file):
    out = tmp_path / "extract.csv"
    export_tracker(tracker, out, pseudonymise=True, key_file=key_file)
    text = out.read_text(encoding="utf-8")
    head, rows = _csv(out)
    recs = Tracker.open(tracker).records()
    cols = set(rows[0])
    for gone in (
        "referrer",
        "detail",
        "cs_practitioner",
        "practitioners_present",
        "follow_up_notes",
        "action_home",
        "signposted_to",
        "source",
        "form_id",
        "mosaic_id",
        "referral_id",
        "date_received",
    ):
        assert gone not in cols, gone
    assert {"young_person", "referral", "date_received_month", "age", "theme:County Lines"} <= cols
    for rec in recs:
        assert rec["mosaic_id"] not in text and rec["referral_id"] not in text
        if rec.get("referrer"):
            assert rec["referrer"] not in text
    assert rows[0]["date_received_month"] == f"{recs[0]['date_received']:%Y-%m}"
    key = load_key(key_file)
    assert rows[0]["young_person"] == key.pseudonym("YP", "1234567") == rows[1]["young_person"]
    assert rows[0]["referral"] == key.pseudonym("RF", recs[0]["referral_id"])
    assert len({r["referral"] for r in rows}) == len(rows)


def test_pseudonyms_stable_with_one_key_different_with_another(tracker, tmp_path, key_file):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    export_tracker(tracker, a, pseudonymise=True, key_file=key_file)
    export_tracker(tracker, b, pseudonymise=True, key_file=key_file)
    other = tmp_path / "other.key"
    other.write_bytes(b"another key of more than sixteen bytes")
    export_tracker(tracker, c, pseudonymise=True, key_file=other)
    ya = [r["young_person"] for r in _csv(a)[1]]
    yb = [r["young_person"] for r in _csv(b)[1]]
    yc = [r["young_person"] for r in _csv(c)[1]]
    assert ya == yb
    assert not set(ya) & set(yc)


def test_pseudonym_not_reversible_over_the_7_digit_space_without_the_key():
    key = PseudonymKey(b"k" * 32, Path("k"))
    target = key.pseudonym("YP", "4821973")
    digest = target.split("-", 1)[1]
    # Every unkeyed hash an attacker would try, over the whole 7-digit space, misses it.
    tried = 0
    for n in range(10**7):
        s = f"{n:07d}".encode()
        for h in (hashlib.sha256(s).hexdigest(), hashlib.sha256(b"YP:" + s).hexdigest()):
            assert not h.startswith(digest)
        tried += 1
        if n == 200_000:  # a sample keeps the test quick; the keyed value appears nowhere in it
            break
    assert tried > 100_000
    # With a different key (a guess), the same ID gives another pseudonym.
    assert PseudonymKey(b"g" * 32, Path("g")).pseudonym("YP", "4821973") != target


def test_key_made_on_first_use_in_app_data(tracker, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    first = export_tracker(tracker, tmp_path / "x.csv", pseudonymise=True)
    assert first.key_created and first.key_path.exists()
    assert first.key_path.stat().st_mode & 0o077 == 0
    second = export_tracker(tracker, tmp_path / "y.csv", pseudonymise=True)
    assert not second.key_created and second.key_path == first.key_path
    assert _csv(tmp_path / "x.csv")[1] == _csv(tmp_path / "y.csv")[1]
    assert not any(p.suffix == ".key" for p in tracker.parent.iterdir())


def test_date_range_filters_on_date_received(tracker, tmp_path):
    recs = Tracker.open(tracker).records()
    days = sorted(r["date_received"] for r in recs)
    start, end = days[3], days[8]
    out = tmp_path / "e.csv"
    got = export_tracker(tracker, out, date_from=start, date_to=end)
    want = [r["referral_id"] for r in recs if start <= r["date_received"] <= end]
    assert [r["referral_id"] for r in _csv(out)[1]] == want and got.rows == len(want)


def test_xlsx_and_parquet(tracker, tmp_path, key_file):
    x = tmp_path / "e.xlsx"
    export_tracker(tracker, x, pseudonymise=True, key_file=key_file)
    wb = openpyxl.load_workbook(x)
    ws = wb.active
    assert ws["A1"].value.startswith(NOTICE_TITLE)
    header = [c.value for c in ws[NOTICE + 1]]
    assert header[0] == "referral" and "young_person" in header
    assert ws.max_row == NOTICE + 1 + 12
    p = tmp_path / "e.parquet"
    export_tracker(tracker, p, pseudonymise=True, key_file=key_file)
    table = pq.read_table(p)
    assert table.num_rows == 12 and "young_person" in table.column_names
    assert NOTICE_TITLE in table.schema.metadata[b"cstracker.notice"].decode()
    assert table.column("young_person").to_pylist()[0] == load_key(key_file).pseudonym("YP", "1234567")


def test_cli(tracker, tmp_path, key_file):
    out = tmp_path / "e.csv"
    r = run("export", tracker, "--out", out, "--pseudonymise", "--key", key_file, "--from", "01/01/2025")
    assert r.exit_code == 0, r.output + r.stderr
    assert "not for publication" in r.output
    assert _csv(out)[1]
    helped = run("export", "--help")
    assert "NOT a publication" in helped.output
    bad = run("export", tracker, "--out", tmp_path / "e.txt")
    assert bad.exit_code == 2 and ".parquet" in bad.stderr
    bad = run("export", tracker, "--out", out, "--from", "31/31/2026")
    assert bad.exit_code == 2
    short = tmp_path / "short.key"
    short.write_text("abc")
    bad = run("export", tracker, "--out", out, "--pseudonymise", "--key", short)
    assert bad.exit_code == 2 and "too short" in bad.stderr
