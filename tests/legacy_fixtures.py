"""Messy old spreadsheets made from synthetic records, and what importing them must give.

Writes into tests/golden/import/ (or the folder given):

    legacy.csv                Windows-1252, semicolons, title rows, other column names, one column per theme
    legacy.xlsx               a title, real/serial/text dates, numbers for IDs, themes listed in one cell
    legacy_mapping.toml       the local column names and spellings legacy.xlsx needs
    expected_<name>.json      the tracker rows the import must produce, the rejects and the counts

The expected files come from the synthetic records themselves and from the
corruptions this script made on purpose, never from running the importer.

    python scripts/make_legacy_fixtures.py [OUTDIR]

It lives in tests/ because the tests use it (``write_legacy_csv``, ``LegacyStyle``, ``expected_record``);
the script and the import benchmark import it from here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core.convert import EXCEL_EPOCH
from cstracker.core.schema import CODE_SYNONYMS, WRITTEN_BY_CSTRACKER, CodeLists, Field, Kind
from cstracker.legacy.column_mapping import HeaderMatcher
from cstracker.synthetic import synthetic_records

GOLDEN = Path(__file__).resolve().parent / "golden" / "import"
SEED = 4242
TODAY = dt.date(2026, 11, 27)

DATE_STYLES = (
    lambda d: d.strftime("%d/%m/%Y"),
    lambda d: f"{d.day}/{d.month}/{d:%y}",
    lambda d: d.strftime("%d.%m.%Y"),
    lambda d: d.strftime("%d-%m-%Y"),
    lambda d: d.isoformat(),
    lambda d: d.strftime("%Y-%m-%d 00:00:00"),
    lambda d: f"{d.day} {d:%b %Y}",
    lambda d: f"{d.day}{_ordinal(d.day)} {d:%B %Y}",
    lambda d: d.strftime("%d-%b-%y"),
    lambda d: str((d - EXCEL_EPOCH).days),
)
TICKS = ("Y", "Yes", "x", "X", "✓", "TRUE", "1", "yes")
UNTICKS = ("", "", "", "N", "No", "0")
#: fields never written by an old spreadsheet (the tracker works them out)
NOT_EXPORTED = WRITTEN_BY_CSTRACKER


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


@dataclass
class LegacyStyle:
    """One old spreadsheet's habits: its column names, ticks, dates, spellings and encoding."""

    headers: dict[str, str]  # field key (or "list:themes") -> column heading
    encoding: str = "utf-8"
    delimiter: str = ","
    title_rows: list[str] = field(default_factory=list)
    themes_in_one_cell: bool = False
    date_styles: tuple = DATE_STYLES
    ticks: tuple[str, ...] = TICKS
    messy_values: bool = True
    trailing_empty_columns: int = 0


def exported_fields(lists: CodeLists, themes_in_one_cell: bool) -> list[Field]:
    return [
        f
        for f in lists.fields()
        if f.key not in NOT_EXPORTED and not (themes_in_one_cell and f.key.startswith("theme:"))
    ]


def random_style(
    rng: random.Random, lists: CodeLists, encoding: str | None = None, delimiter: str | None = None
) -> LegacyStyle:
    """Column names from each field's label and synonyms (only names that mean that field), in random case."""
    matcher = HeaderMatcher(lists.fields(), lists)
    one_cell = rng.random() < 0.5
    headers: dict[str, str] = {}
    for f in exported_fields(lists, one_cell):
        names = [n for n in (f.label, *f.synonyms) if matcher.resolve(n)[0] == f.key]
        name = rng.choice(names)
        headers[f.key] = rng.choice((name, name.lower(), name.upper(), f" {name} "))
    if one_cell:
        headers["list:themes"] = rng.choice(("Themes", "THEMES", "themes"))
    encoding = encoding or rng.choice(("utf-8", "utf-8-sig", "cp1252"))
    ticks = tuple(t for t in TICKS if encoding != "cp1252" or t != "✓")
    return LegacyStyle(
        headers=headers,
        encoding=encoding,
        delimiter=delimiter or rng.choice((",", ";")),
        title_rows=rng.choice(([], ["Contextual Safeguarding consultations"], ["CS tracker (old)", ""])),
        themes_in_one_cell=one_cell,
        ticks=ticks,
        trailing_empty_columns=rng.choice((0, 0, 2)),
    )


def legacy_value(f: Field, value: Any, rng: random.Random, style: LegacyStyle) -> str:
    """A typed value as an old spreadsheet might hold it, as text."""
    if f.kind is Kind.FLAG:
        return rng.choice(style.ticks) if value else rng.choice(UNTICKS)
    if value is None or value == "":
        return ""
    if f.kind is Kind.DATE:
        return rng.choice(style.date_styles)(value)
    if not style.messy_values:
        return str(value)
    if f.kind is Kind.INT:
        return rng.choice((str(value), f"{value}.0", f" {value}"))
    if f.kind is Kind.MOSAIC:
        return rng.choice((value, f"{value}.0", f" {value} "))
    if f.kind is Kind.ID:
        return rng.choice((value, value.lower(), f" {value}"))
    if f.kind is Kind.CODE:
        spellings = [s for s, c in CODE_SYNONYMS.get(f.code_list or "", {}).items() if c == value]
        return rng.choice((value, value.upper(), value.lower(), *spellings))
    return value


def themes_cell(record: dict[str, Any], lists: CodeLists, rng: random.Random) -> str:
    codes = [c for c in lists.themes if record.get(f"theme:{c}")]
    spellings = []
    for code in codes:
        others = [s for s, c in CODE_SYNONYMS["themes"].items() if c == code]
        spellings.append(rng.choice((code, code.lower(), *others)))
    sep = rng.choice(("; ", ", ", " | ", ";"))
    return sep.join(spellings)


def legacy_rows(
    records: list[dict[str, Any]], style: LegacyStyle, lists: CodeLists, rng: random.Random
) -> tuple[list[str], list[list[str]]]:
    """(header cells, data rows) in the style, one row per record, in order."""
    fields = exported_fields(lists, style.themes_in_one_cell)
    keys = [f.key for f in fields if f.key in style.headers]
    header = [style.headers[k] for k in keys]
    if style.themes_in_one_cell:
        at = next(i for i, k in enumerate(keys) if k == "theme_other_text")
        keys.insert(at, "list:themes")
        header.insert(at, style.headers["list:themes"])
    by_key = {f.key: f for f in fields}
    rows = []
    for r in records:
        row = []
        for k in keys:
            if k == "list:themes":
                row.append(themes_cell(r, lists, rng))
            else:
                row.append(legacy_value(by_key[k], r.get(k), rng, style))
        rows.append(row)
    return header, rows


def write_legacy_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    style: LegacyStyle,
) -> dict[int, int]:
    """Write the CSV; returns data row index -> the file row number a spreadsheet shows."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=style.delimiter, lineterminator="\r\n")
    pad = [""] * style.trailing_empty_columns
    line = 0
    for title in style.title_rows:
        writer.writerow([title] if title else [])
        line += 1
    writer.writerow(header + pad)
    line += 1
    numbers = {}
    for i, row in enumerate(rows):
        writer.writerow(row + pad)
        line += 1
        numbers[i] = line
    path.write_bytes(out.getvalue().encode(style.encoding))
    return numbers


def expected_record(record: dict[str, Any], lists: CodeLists, with_id: bool) -> dict[str, Any]:
    """The record as the tracker must hold it after import, in JSON terms (dates ISO)."""
    out = {}
    for f in lists.fields():
        v = record.get(f.key)
        if f.key in NOT_EXPORTED or v is None or v is False or v == "":
            continue
        if f.key == "referral_id" and not with_id:
            continue
        out[f.key] = v.isoformat() if isinstance(v, dt.date) else v
    return out


# ---------------------------------------------------------------------------
# the golden CSV
# ---------------------------------------------------------------------------


def _unique_pairs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for r in records:
        pair = (r["mosaic_id"], r["date_received"])
        if pair not in seen:
            seen.add(pair)
            out.append(r)
    return out


def make_csv(outdir: Path, lists: CodeLists) -> None:
    rng = random.Random(SEED)
    records = _unique_pairs(synthetic_records(40, seed=SEED, lists=lists, today=TODAY))
    # text that reaches the tracker exactly as typed: Windows-1252 letters, and formula look-alikes
    records[1]["detail"] = "Café on Market St"
    records[2]["follow_up_notes"] = "£20 bus pass agreed"
    records[3]["referrer"] = '=HYPERLINK("http://example.invalid","x")'
    records[4]["practitioners_present"] = "+44 team; @DSL"
    style = random_style(rng, lists, encoding="cp1252", delimiter=";")
    style.themes_in_one_cell = False
    style.headers = {k: v for k, v in style.headers.items() if k != "list:themes"}
    style.title_rows = ["Anytown CS consultations 2019-2025 (old tracker)", ""]
    style.trailing_empty_columns = 2
    header, rows = legacy_rows(records, style, lists, rng)
    col = {k: header.index(style.headers[k]) for k in style.headers}
    bad: dict[int, list[tuple[str, str, Any]]] = {}

    def spoil(i: int, key: str, value: str, rule: str) -> None:
        bad.setdefault(i, []).append((style.headers[key], rule, rows[i][col[key]]))
        rows[i][col[key]] = value

    spoil(5, "date_received", "31/02/2025", "bad-date")
    spoil(8, "primary_concern", "Team Rocket", "not-in-list")  # a closed list: never grows
    spoil(11, "age", "99", "out-of-range")
    spoil(14, "mosaic_id", "98AB123", "bad-mosaic-id")
    spoil(17, "date_received", "02/13/2025", "bad-date")  # month first: never swapped
    spoil(20, "siblings", "two", "bad-number")
    spoil(20, "gender", "Alien", "not-in-list")
    # an exact repeat of row 0 and a clash with row 2 (same Referral ID, another age)
    rows.append(list(rows[0]))
    clash = list(rows[2])
    clash[col["age"]] = str(records[2]["age"] + 1 if records[2]["age"] < 25 else 5)
    rows.append(clash)
    numbers = write_legacy_csv(outdir / "legacy.csv", header, rows, style)
    good = []
    for i, r in enumerate(records):
        if i not in bad:
            good.append({**expected_record(r, lists, True), "source": f"import: legacy.csv row {numbers[i]}"})
    rejects = [
        {
            "row": numbers[i],
            "problems": [
                {"column": " ".join(c.split()), "rule": rule, "fix": fix} for c, rule, fix in bad[i]
            ],
        }
        for i in sorted(bad)
    ]
    rejects.append(
        {"row": numbers[len(rows) - 1], "problems": [{"column": "Row", "rule": "conflicting-duplicate"}]}
    )
    counts = {"read": len(rows), "added": len(good), "updated": 0, "duplicate": 1, "rejected": len(rejects)}
    _dump(outdir / "expected_legacy_csv.json", {"rows": good, "rejects": rejects, "counts": counts})


# ---------------------------------------------------------------------------
# the golden XLSX
# ---------------------------------------------------------------------------

MAPPING_TOML = """\
# legacy.xlsx's own column names and spellings (see the README, "The mapping file")
[columns]
"YP Mosaic" = "Mosaic ID"
"Worker" = "CS practitioner"
"Concerns identified" = "themes"
"Internal notes" = "ignore"

[values.referrer_team]
"North Locality SW" = "Children's Social Care"

[values.themes]
"CCE" = "County Lines"
"""


def make_xlsx(outdir: Path, lists: CodeLists) -> None:
    import xlsxwriter

    rng = random.Random(SEED + 1)
    records = _unique_pairs(synthetic_records(30, seed=SEED + 1, lists=lists, today=TODAY, with_ids=False))
    (outdir / "legacy_mapping.toml").write_text(MAPPING_TOML, encoding="utf-8")
    style = random_style(rng, lists, encoding="utf-8")
    style.headers = {k: v for k, v in style.headers.items() if not k.startswith("theme:")}
    style.themes_in_one_cell = True
    style.headers.update(
        {"mosaic_id": "YP Mosaic", "cs_practitioner": "Worker", "list:themes": "Concerns identified"}
    )
    header, rows = legacy_rows(records, style, lists, rng)
    col = {k: header.index(style.headers[k]) for k in style.headers}
    header.append("Internal notes")
    for i, r in enumerate(records):
        rows[i].append("see file" if i % 4 == 0 else "")
        if r["referrer_team"] == "Children's Social Care" and i % 2:
            rows[i][col["referrer_team"]] = "North Locality SW"
        if r.get("theme:County Lines"):
            rows[i][col["list:themes"]] = rows[i][col["list:themes"]] + "; CCE"
    bad: dict[int, list[tuple[str, str, Any]]] = {}

    def spoil(i: int, key: str, value: Any, rule: str) -> None:
        bad.setdefault(i, []).append((style.headers[key], rule, rows[i][col[key]]))
        rows[i][col[key]] = value

    spoil(3, "date_received", "31/02/2025", "bad-date")
    spoil(6, "list:themes", "Gangs; Knife crime", "not-in-list")
    spoil(9, "age", 99, "out-of-range")
    spoil(12, "mosaic_id", "9AB1234", "bad-mosaic-id")
    spoil(15, "referrer_team", "Unknown team", "not-in-list")
    rows.append(list(rows[0]))  # a repeat: same Mosaic ID and date received

    date_keys = [k for k in col if k in lists_field_keys(lists, Kind.DATE)]
    wb = xlsxwriter.Workbook(str(outdir / "legacy.xlsx"), {"strings_to_numbers": False})
    wb.set_properties({"created": dt.datetime(2026, 1, 1)})
    ws = wb.add_worksheet("Consultations")
    datefmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_string(0, 0, "Anytown CS consultations 2019-2025")
    ws.write_string(1, 0, "Exported from the old tracker; do not edit")
    top = 3  # row 4 holds the header
    for c, h in enumerate(header):
        ws.write_string(top, c, h)
    numbers = {}
    for i, row in enumerate(rows):
        excel_row = top + 1 + i
        numbers[i] = excel_row + 1
        src = records[i] if i < len(records) else records[0]
        for c, value in enumerate(row):
            key = next((k for k, v in col.items() if v == c), "")
            _write_cell(ws, excel_row, c, key, value, src, date_keys, datefmt, rng, i in bad)
    other = wb.add_worksheet("Lookups")
    other.write_string(0, 0, "Team codes")
    wb.close()
    kept = [(i, r) for i, r in enumerate(records) if i not in bad]
    good = []
    for i, r in kept:
        g = expected_record(r, lists, False)
        g["source"] = f"import: legacy.xlsx row {numbers[i]}"
        good.append(g)
    rejects = [
        {
            "row": numbers[i],
            "problems": [
                {"column": " ".join(c.split()), "rule": rule, "fix": fix} for c, rule, fix in bad[i]
            ],
        }
        for i in sorted(bad)
    ]
    counts = {"read": len(rows), "added": len(good), "updated": 0, "duplicate": 1, "rejected": len(rejects)}
    _dump(outdir / "expected_legacy_xlsx.json", {"rows": good, "rejects": rejects, "counts": counts})


def lists_field_keys(lists: CodeLists, kind: Kind) -> set[str]:
    return {f.key for f in lists.fields() if f.kind is kind}


def _write_cell(ws, r, c, key, value, src, date_keys, datefmt, rng, spoilt) -> None:
    """Dates as real date cells, serial numbers or text; numbers as numbers; ticks sometimes TRUE."""
    if value == "" or value is None:
        return
    if key in date_keys and not spoilt and src.get(key) is not None:
        day = src[key]
        how = rng.randrange(3)
        if how == 0:
            ws.write_datetime(r, c, dt.datetime.combine(day, dt.time()), datefmt)
        elif how == 1:
            ws.write_number(r, c, (day - EXCEL_EPOCH).days)
        else:
            ws.write_string(r, c, str(value))
        return
    if key in ("age", "siblings", "previous_referrals", "mosaic_id") and isinstance(value, str):
        text = value.strip().removesuffix(".0")
        if text.isdigit() and rng.random() < 0.7:
            ws.write_number(r, c, int(text))
            return
    if isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif key.startswith("intervention:") and rng.random() < 0.3:
        ws.write_boolean(r, c, value.strip().lower() in ("y", "yes", "x", "✓", "true", "1"))
    else:
        ws.write_string(r, c, str(value))


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def main(outdir: Path = GOLDEN) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    lists = CodeLists()
    make_csv(outdir, lists)
    make_xlsx(outdir, lists)
    print(f"Wrote legacy fixtures and expected results to {outdir}")
