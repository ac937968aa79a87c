"""Benchmark: importing a large legacy CSV and XLSX into an empty tracker, against the floor.

The floor is the least any importer must do: read the same file (pandas for the
CSV, python-calamine for the XLSX) and write the same rows once with xlsxwriter
in constant-memory mode. Target: cstracker within 2x of the floor. Peak memory
is the whole child process's high-water mark.

    python scripts/bench.py import            # 50,000 rows
    python scripts/bench.py import --quick    # 5,000 rows
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchutil import measure

from cstracker.core.schema import CodeLists
from tests import legacy_fixtures as legacy

TARGET = 2.0
TODAY = dt.date(2026, 11, 27)


def make_sources(workdir: Path, n: int) -> tuple[Path, Path, legacy.LegacyStyle, int]:
    """A messy CSV and an XLSX with the same n rows (title rows above the header)."""
    import xlsxwriter

    lists = CodeLists()
    records = legacy._unique_pairs(
        legacy.synthetic_records(n, seed=7, lists=lists, today=TODAY, start=dt.date(2015, 1, 1))
    )
    rng = random.Random(7)
    style = legacy.random_style(rng, lists, encoding="cp1252", delimiter=";")
    style.title_rows = ["Old CS tracker", ""]
    header, rows = legacy.legacy_rows(records, style, lists, rng)
    csv_path = workdir / "legacy.csv"
    legacy.write_legacy_csv(csv_path, header, rows, style)
    xlsx_path = workdir / "legacy.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    ws = wb.add_worksheet("Consultations")
    ws.write_string(0, 0, "Old CS tracker")
    for c, h in enumerate(header):
        ws.write_string(2, c, h)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if value:
                ws.write_string(r, c, value)
    wb.close()
    return csv_path, xlsx_path, style, len(rows)


def _fresh_tracker(workdir: Path, name: str) -> Path:
    from cstracker.core.config import load_config
    from cstracker.tracker.create import create_tracker

    path = workdir / name
    path.unlink(missing_ok=True)
    return create_tracker(path, load_config(None))


def ours(tracker: Path, source: Path) -> None:
    from cstracker.legacy.importer import import_file

    result = import_file(tracker, source, today=TODAY)
    if result.rejected or result.added != result.read - result.duplicate:
        raise SystemExit(f"benchmark import went wrong: {result.summary()}")


def _write_once(rows: list[list], path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Referrals")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None and value == value and value != "":
                ws.write_string(r, c, str(value))
    wb.close()


def floor_csv(source: Path, style: legacy.LegacyStyle, out: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(
        source, sep=style.delimiter, encoding=style.encoding, dtype=str, skiprows=len(style.title_rows)
    )
    _write_once([list(frame.columns), *frame.itertuples(index=False, name=None)], out)


def floor_xlsx(source: Path, out: Path) -> None:
    import python_calamine

    rows = python_calamine.CalamineWorkbook.from_path(str(source)).get_sheet_by_index(0).to_python()
    _write_once(rows, out)


def run(workdir: Path, quick: bool) -> None:
    n = 5_000 if quick else 50_000
    csv_path, xlsx_path, style, count = make_sources(workdir, n)
    print(f"{count} legacy rows x {len(style.headers)} columns", flush=True)
    lines = []
    for label, source, floor, args in (
        ("CSV", csv_path, floor_csv, (csv_path, style, workdir / "floor-csv.xlsx")),
        ("XLSX", xlsx_path, floor_xlsx, (xlsx_path, workdir / "floor-xlsx.xlsx")),
    ):
        tracker = _fresh_tracker(workdir, f"tracker-{label}.xlsx")
        t1, m1 = measure(ours, tracker, source)
        t2, m2 = measure(floor, *args)
        verdict = "ok" if t1 <= TARGET * t2 else "OVER TARGET"
        lines.append(
            f"import {label:<4} {count} rows: cstracker {t1:6.2f} s {m1:6.0f} MiB | floor (read + write once) "
            f"{t2:6.2f} s {m2:6.0f} MiB | x{t1 / t2:.2f} of the floor (target <= {TARGET:g}) {verdict}"
        )
        print(lines[-1], flush=True)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), "--quick" in sys.argv)
