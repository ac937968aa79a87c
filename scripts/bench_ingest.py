"""Benchmark: ingest 1,000 completed forms into a 5,000-row tracker, against the floor.

The floor is what no form ingest can beat: reading the same forms' named cells
with the fastest reader there is (python-calamine, names resolved once from the
first form) plus one tracker append of the same number of rows. cstracker's
ingest does more (size and zip checks, a worker pool with memory and time
limits, conversion and rules, matching, conflict reports); the target is at
most twice the floor.

    python scripts/bench.py ingest            # 1,000 forms, 5,000 rows
    python scripts/bench.py ingest --quick    # 60 forms, 300 rows
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from benchutil import measure

TODAY = dt.date(2026, 11, 27)


def _new_referrals(n_forms: int) -> list[dict]:
    """The referrals the forms carry: other young people, received after the tracker's last row."""
    from cstracker.synthetic import synthetic_records

    fresh = synthetic_records(
        n_forms, seed=2, start=dt.date(2026, 6, 1), end=TODAY, today=TODAY, with_ids=False
    )
    drop = {"status", "follow_up_due", "follow_up_date", "follow_up_notes"}
    return [
        {**{k: v for k, v in r.items() if k not in drop}, "mosaic_id": f"8{i:06d}"}
        for i, r in enumerate(fresh)
    ]


def _setup(workdir: Path, n_forms: int, n_rows: int) -> None:
    from cstracker.core.config import Config, load_config
    from cstracker.forms.workbook import new_form_id, write_form
    from cstracker.synthetic import synthetic_records
    from cstracker.tracker.newfile import init_tracker
    from cstracker.tracker.tracker import Tracker

    tracker = init_tracker(workdir / "tracker.xlsx", load_config(None))
    existing = synthetic_records(n_rows, seed=1, end=TODAY, today=TODAY)
    with Tracker.open_for_update(tracker) as t:
        t.upsert(
            [{k: v for k, v in r.items() if k not in ("status", "follow_up_due")} for r in existing],
            today=TODAY,
        )
        t.save()
    forms = workdir / "forms"
    forms.mkdir()
    for i, r in enumerate(_new_referrals(n_forms)):
        # a form pre-filled with every answer is byte for byte what a filled-in form holds
        write_form(forms / f"form {i:04d}.xlsx", Config(), record=r, form_id=new_form_id())


def _ours(tracker: Path, forms: Path) -> None:
    from cstracker.forms.ingest import ingest

    result = ingest(tracker, [forms], today=TODAY)
    if result.count("added") != len(list(forms.iterdir())):
        raise SystemExit(f"ingest did not add every form: {[p.line() for p in result.problems][:5]}")


def _floor(tracker: Path, forms: Path, records: list[dict]) -> None:
    import fastexcel
    import python_calamine

    from cstracker.tracker.tracker import Tracker
    from cstracker.xlsx.safe_read import name_target

    paths = sorted(forms.iterdir())
    targets: dict[str, list[tuple[str, int, int]]] = {}
    for dn in fastexcel.read_excel(str(paths[0])).defined_names():
        where = name_target(dn.formula)
        if where and (dn.name.startswith("f_") or dn.name.startswith("form_")):
            from cstracker.xlsx.safe_read import split_cell

            row, col = split_cell(where[1])
            targets.setdefault(where[0], []).append((dn.name, row - 1, col - 1))
    for path in paths:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        values = {}
        for sheet, cells in targets.items():
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            for name, r, c in cells:
                values[name] = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
    with Tracker.open_for_update(tracker) as t:
        t.upsert(records, today=TODAY)
        t.save()


def run(workdir: Path, quick: bool) -> None:
    n_forms, n_rows = (60, 300) if quick else (1000, 5000)
    # setup runs in its own process: the measured runs start from a light process, as a command does
    setup_time, _ = measure(_setup, workdir, n_forms, n_rows)
    print(f"setup: {n_forms} forms, {n_rows}-row tracker in {setup_time:.1f} s", flush=True)
    tracker, forms, records = workdir / "tracker.xlsx", workdir / "forms", _new_referrals(n_forms)
    os.sync()  # the forms just written are on disk, so no measured run competes with their write-back

    def copy_of(name: str, n: int) -> Path:
        copy = workdir / f"{name}-{n}.xlsx"
        shutil.copy(tracker, copy)
        return copy

    # the quickest of a few runs (the machine is shared), each on a fresh copy of the tracker; the two
    # take turns, so a busy spell on the machine slows both rather than one
    runs = 1 if quick else 3
    ours, floor = [], []
    for n in range(runs):
        ours.append(measure(_ours, copy_of("ours", n), forms))
        floor.append(measure(_floor, copy_of("floor", n), forms, records))
    (t_ours, m_ours), (t_floor, m_floor) = min(ours), min(floor)
    print(
        f"ingest {n_forms} forms into {n_rows} rows (best of {runs}): cstracker {t_ours:6.2f} s "
        f"({n_forms / t_ours:6.0f} forms/s, {m_ours:5.0f} MiB) | floor (python-calamine named cells + one append) "
        f"{t_floor:6.2f} s ({n_forms / t_floor:6.0f} forms/s, {m_floor:5.0f} MiB) | ratio x{t_ours / t_floor:.2f} "
        "(target <= 2)"
    )
