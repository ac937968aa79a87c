"""Benchmark: ingest and import on an encrypted tracker against the same tracker unencrypted.

For a 10,000- and a 100,000-row tracker: ingest a batch of forms and import a
legacy CSV, once into a plain copy and once into an encrypted copy. An encrypted
command does what a plain one does plus, at least, one decrypt and one encrypt of
the whole file (both in memory). Target: encrypted time within 1.5x the plain
time plus the time of one decrypt + encrypt of the file.

    python scripts/bench.py encryption            # 10,000 and 100,000 rows
    python scripts/bench.py encryption --quick    # 1,000 and 5,000 rows
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from benchutil import measure

TODAY = dt.date(2026, 11, 27)
PASSWORD = "bench password 1"
N_FORMS = 50
N_IMPORT = 2_000


def _tracker(path: Path, n_rows: int) -> None:
    from cstracker.core.config import load_config
    from cstracker.synthetic import synthetic_records
    from cstracker.tracker.newfile import init_tracker
    from cstracker.tracker.tracker import Tracker

    init_tracker(path, load_config(None))
    records = synthetic_records(n_rows, seed=1, end=TODAY, today=TODAY)
    with Tracker.open_for_update(path) as t:
        t.upsert(
            [{k: v for k, v in r.items() if k not in ("status", "follow_up_due")} for r in records],
            today=TODAY,
        )
        t.save()


def _forms(folder: Path) -> None:
    from cstracker.core.config import Config
    from cstracker.forms.workbook import new_form_id, write_form
    from cstracker.synthetic import synthetic_records

    folder.mkdir()
    fresh = synthetic_records(
        N_FORMS, seed=2, start=dt.date(2026, 6, 1), end=TODAY, today=TODAY, with_ids=False
    )
    drop = {"status", "follow_up_due", "follow_up_date", "follow_up_notes"}
    for i, r in enumerate(fresh):
        record = {**{k: v for k, v in r.items() if k not in drop}, "mosaic_id": f"8{i:06d}"}
        write_form(folder / f"form {i:03d}.xlsx", Config(), record=record, form_id=new_form_id())


def _csv(path: Path) -> None:
    from cstracker.synthetic import synthetic_records

    rows = synthetic_records(
        N_IMPORT, seed=5, start=dt.date(2026, 1, 1), end=TODAY, today=TODAY, with_ids=False
    )
    lines = ["Date received,Mosaic ID,Age,Suitability decision"]
    for i, r in enumerate(rows):
        lines.append(f"{r['date_received']:%d/%m/%Y},7{i:06d},{r.get('age') or ''},Awaiting decision")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _encrypt(path: Path) -> None:
    from cstracker.tracker.protect import encrypt_tracker

    encrypt_tracker(path)


def _ingest(tracker: Path, forms: Path) -> None:
    from cstracker.forms.ingest import ingest

    result = ingest(tracker, [forms], today=TODAY)
    if result.count("added") != N_FORMS:
        raise SystemExit(f"ingest did not add every form: {[p.line() for p in result.problems][:5]}")


def _import(tracker: Path, source: Path) -> None:
    from cstracker.legacy.importer import import_file

    result = import_file(tracker, source, today=TODAY)
    if result.rejected or result.added != N_IMPORT:
        raise SystemExit(f"import went wrong: {result.summary()}")


def _cycle(path: Path) -> None:
    """One decrypt and one encrypt of the whole file, in memory: the least encryption can add."""
    from cstracker.xlsx import encryption

    plain = encryption.decrypt_bytes(path.read_bytes(), PASSWORD, path)
    encryption.encrypt_bytes(plain, PASSWORD)


def run(workdir: Path, quick: bool) -> None:
    os.environ["CSTRACKER_PASSWORD"] = PASSWORD
    sizes = (1_000, 5_000) if quick else (10_000, 100_000)
    forms, source = workdir / "forms", workdir / "legacy.csv"
    measure(_forms, forms)
    _csv(source)
    for n in sizes:
        base = workdir / f"plain-{n}.xlsx"
        setup, _ = measure(_tracker, base, n)
        sealed = workdir / f"sealed-{n}.xlsx"
        shutil.copy(base, sealed)
        measure(_encrypt, sealed)
        shutil.rmtree(workdir / f"sealed-{n} backups", ignore_errors=True)
        print(
            f"{n}-row tracker: {base.stat().st_size / 2**20:.1f} MiB plain, "
            f"{sealed.stat().st_size / 2**20:.1f} MiB encrypted (setup {setup:.0f} s)",
            flush=True,
        )
        t_cycle, m_cycle = min(measure(_cycle, sealed) for _ in range(2))
        print(f"  one decrypt + encrypt of the file: {t_cycle:6.2f} s {m_cycle:5.0f} MiB", flush=True)
        for label, fn, arg in (
            (f"ingest {N_FORMS} forms", _ingest, forms),
            (f"import {N_IMPORT} CSV rows", _import, source),
        ):
            plain_runs, sealed_runs = [], []
            for i in range(1 if quick or n >= 100_000 else 2):
                # the forms are moved by nothing here (no --archive), so the same folder serves every run
                a, b = workdir / f"p{i}.xlsx", workdir / f"s{i}.xlsx"
                shutil.copy(base, a)
                shutil.copy(sealed, b)
                plain_runs.append(measure(fn, a, arg))
                sealed_runs.append(measure(fn, b, arg))
                for p in (a, b):
                    p.unlink()
                    shutil.rmtree(p.with_name(f"{p.stem} backups"), ignore_errors=True)
            (tp, mp), (ts, ms) = min(plain_runs), min(sealed_runs)
            limit = 1.5 * tp + t_cycle
            verdict = "ok" if ts <= limit else "OVER TARGET"
            print(
                f"  {label:<22} plain {tp:6.2f} s {mp:5.0f} MiB | encrypted {ts:6.2f} s {ms:5.0f} MiB | "
                f"x{ts / tp:.2f}; target <= 1.5 x plain + one cycle = {limit:.2f} s: {verdict}",
                flush=True,
            )
