"""Benchmark section "tracker": append 100 rows, and read the whole Referrals table into pandas.

    python scripts/bench.py tracker            # 1,000 / 10,000 / 100,000 rows
    python scripts/bench.py tracker --quick    # 1,000 / 10,000 rows

cstracker's streaming patch against a plain openpyxl load + append + save, and
``Tracker.dataframe()`` against plain fastexcel reading the same sheet.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from benchutil import measure, row

from cstracker.core.config import load_config
from cstracker.synthetic import synthetic_records
from cstracker.tracker.newfile import init_tracker
from cstracker.tracker.tracker import Tracker

TODAY = dt.date(2026, 11, 27)
BUILD_CHUNK = 20_000


def build(path: Path, n: int) -> Path:
    """A tracker with ``n`` synthetic rows, written by cstracker itself in a few large upserts."""
    init_tracker(path, load_config(None))
    records = synthetic_records(n, today=TODAY)
    for start in range(0, n, BUILD_CHUNK):
        with Tracker.open_for_update(path) as t:
            t.upsert(records[start : start + BUILD_CHUNK], source="bench", today=TODAY)
            t.save()
    return path


def _new_records() -> list[dict]:
    return synthetic_records(100, seed=7, today=TODAY, with_ids=False)


def ours_append(path: Path) -> None:
    with Tracker.open_for_update(path) as t:
        t.upsert(_new_records(), source="bench", today=TODAY)
        t.save()


def openpyxl_append(path: Path) -> None:
    import openpyxl

    from cstracker.core.schema import CodeLists

    keys = [f.key for f in CodeLists().fields()]
    wb = openpyxl.load_workbook(path)
    ws = wb["Referrals"]
    for rec in _new_records():
        ws.append([("Yes" if v is True else None if v is False else v) for v in (rec.get(k) for k in keys)])
    wb.save(path)


def ours_read(path: Path) -> None:
    Tracker.open(path).dataframe()


def fastexcel_read(path: Path) -> None:
    import fastexcel

    fastexcel.read_excel(str(path)).load_sheet_by_name("Referrals").to_pandas()


def run(workdir: Path, quick: bool) -> None:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    for n in sizes:
        base = workdir / f"T{n}.xlsx"
        measure(build, base, n)  # in a child process, so the measured children start small
        size_mb = base.stat().st_size / 1e6
        a, b = workdir / f"ours{n}.xlsx", workdir / f"openpyxl{n}.xlsx"
        shutil.copy(base, a)
        shutil.copy(base, b)
        print(
            row(
                f"append 100 to {n:,} rows ({size_mb:.1f} MB)",
                measure(ours_append, a),
                measure(openpyxl_append, b),
                "openpyxl",
            ),
            flush=True,
        )
        ours = measure(ours_read, base)
        theirs = measure(fastexcel_read, base)
        print(
            row(f"read {n:,} rows into pandas", ours, theirs, "fastexcel"),
            f"| time ratio {ours[0] / theirs[0]:.2f}",
            flush=True,
        )
