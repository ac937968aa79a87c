"""Measuring helpers for the benchmark sections: wall time and peak memory of a call.

Peak memory is measured in a fresh child process (ru_maxrss), so one
measurement never inherits another's high-water mark.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any


def _child(conn, fn: Callable[..., Any], args: tuple) -> None:
    start = time.perf_counter()
    fn(*args)
    elapsed = time.perf_counter() - start
    conn.send((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    conn.close()


def measure(fn: Callable[..., Any], *args: Any) -> tuple[float, float]:
    """(seconds, peak MiB of the whole child process) for ``fn(*args)`` run in a fresh process."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, fn, args))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


def row(label: str, ours: tuple[float, float], theirs: tuple[float, float], theirs_label: str) -> str:
    (t1, m1), (t2, m2) = ours, theirs
    return (
        f"{label:<34} cstracker {t1:7.2f} s {m1:7.0f} MiB | {theirs_label} {t2:7.2f} s {m2:7.0f} MiB"
        f" | time x{t2 / t1 if t1 else float('inf'):.1f} faster, memory {m1 / m2 if m2 else 0:.2f} of theirs"
    )
