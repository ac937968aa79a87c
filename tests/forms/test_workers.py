"""Issue 8, item 7: reader workers end with the command that started them, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import time
from cstracker.boundary import install
from cstracker.forms.reader import FormReaderPool
from cstracker.core.schema import CodeLists

install()  # what the CLI does: SIGTERM stops like Ctrl-C
try:
    with FormReaderPool(CodeLists(), workers=2) as pool:
        ex = pool._start()
        futures = [ex.submit(time.sleep, 600) for _ in range(2)]
        while len(ex._processes) < 2:
            time.sleep(0.05)
        time.sleep(0.5)
        print(" ".join(str(p) for p in ex._processes), flush=True)
        time.sleep(600)
except KeyboardInterrupt:
    print("Stopped.")
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux) to find the processes")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_workers_end_with_their_parent(how):
    parent = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        line = parent.stdout.readline()
        workers = [int(p) for p in line.split()]
        assert len(workers) == 2, (line, parent.stderr.read() if parent.poll() is not None else "")
        helpers = children(parent.pid)  # the forkserver (and the resource tracker)
        assert all(alive(p) for p in workers)
        parent.send_signal(how)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in [*workers, *helpers]):
            time.sleep(0.1)
        left = [p for p in [*workers, *helpers] if alive(p)]
        assert left == [], f"still running after {how.name}: {left}"
        assert "Traceback" not in parent.stderr.read()
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_the_pool_never_forks_the_multi_threaded_command():
    from cstracker.forms.reader import _context

    assert _context().get_start_method() in ("forkserver", "spawn")
