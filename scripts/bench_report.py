"""Benchmark section "report": a one-month trend report against the floor of its two unavoidable steps.

    python scripts/bench.py report            # trackers of 10,000 and 100,000 rows
    python scripts/bench.py report --quick    # 10,000 rows only

The floor is what any report must do at least: read the Referrals table with
the fastest reader (fastexcel into pandas) and write as many cells as the
report holds with xlsxwriter. Target: the report within 2x the floor, and
under 500 MB peak memory at 100,000 rows. The published pack also runs the
disclosure audit (``disclosure.py``); its target is 3x the time of reading the
Referrals sheet with fastexcel alone.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from bench_tracker import build
from benchutil import measure

from cstracker.core.periods import parse_period

TODAY = dt.date(2026, 11, 27)
PERIOD = "2026-10"


def ours(tracker: Path, out: Path, publish: bool) -> None:
    from cstracker.report.workbook import make_report

    make_report(tracker, parse_period(month=PERIOD), out, publish=publish, today=TODAY)


def cells_in(report: Path) -> int:
    with zipfile.ZipFile(report) as z:
        return sum(
            len(re.findall(rb"<c ", z.read(n))) for n in z.namelist() if n.startswith("xl/worksheets/sheet")
        )


def floor(tracker: Path, out: Path, cells: int) -> None:
    import fastexcel
    import xlsxwriter

    fastexcel.read_excel(str(tracker)).load_sheet_by_name("Referrals").to_pandas()
    wb = xlsxwriter.Workbook(str(out))
    ws = wb.add_worksheet()
    width = 10
    for i in range(cells):
        ws.write_number(i // width, i % width, i)
    wb.close()


def read_only(tracker: Path) -> None:
    import fastexcel

    fastexcel.read_excel(str(tracker)).load_sheet_by_name("Referrals").to_pandas()


def run(workdir: Path, quick: bool) -> None:
    sizes = (10_000,) if quick else (10_000, 100_000)
    for n in sizes:
        tracker = workdir / f"T{n}.xlsx"
        # Built in a child process: a forked measurement would otherwise count the
        # builder's memory as the report's.
        measure(build, tracker, n)
        for publish in (False, True):
            kind = "published" if publish else "internal"
            out = workdir / f"report{n}-{kind}.xlsx"
            t1, m1 = measure(ours, tracker, out, publish)
            cells = cells_in(out)
            t2, m2 = measure(floor, tracker, workdir / f"floor{n}.xlsx", cells)
            verdict = "ok" if t1 <= 2 * t2 and (n < 100_000 or m1 < 500) else "OVER TARGET"
            print(
                f"report {PERIOD} ({kind}) over {n:,} rows, {cells:,} cells: "
                f"cstracker {t1:6.2f} s {m1:5.0f} MiB | floor {t2:6.2f} s {m2:5.0f} MiB"
                f" | x{t1 / t2:.2f} of the floor (target <= 2), {verdict}",
                flush=True,
            )
            if publish:
                t3, _ = measure(read_only, tracker)
                verdict = "ok" if t1 <= 3 * t3 else "OVER TARGET"
                print(
                    f"report {PERIOD} (published) over {n:,} rows: cstracker {t1:6.2f} s | fastexcel reading "
                    f"Referrals {t3:6.2f} s | x{t1 / t3:.2f} of the read (target <= 3), {verdict}",
                    flush=True,
                )
