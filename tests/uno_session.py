"""The one way the tests/uno_*.py drivers start LibreOffice, talk to it over UNO, and end it.

Run under Debian's Python, which has the UNO bridge (``apt-get install python3-uno``); each driver
is a script the tests start with ``/usr/bin/python3`` and imports this module from its own folder.

``session()`` starts ``soffice`` headless on a private socket and a fresh profile (optionally with
registry settings, e.g. a locale), yields the Desktop, and however the block ends stops soffice and
its child process group and removes the profile. ``load`` opens a file hidden (retrying while a busy
soffice is still starting), ``save_xlsx`` stores it with Calc's Excel 2007-365 filter, exactly as a
user's "Save as .xlsx" does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue

XLSX_FILTER = "Calc MS Excel 2007 XML"


def prop(name: str, value) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port: int, proc: subprocess.Popen, timeout: float = 90):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except Exception:  # the bridge raises its own NoConnectException until soffice listens
            if time.time() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.5)


@dataclass
class Session:
    ctx: object
    desktop: object
    workdir: Path

    def service(self, name: str):
        return self.ctx.ServiceManager.createInstanceWithContext(name, self.ctx)


@contextlib.contextmanager
def session(registry: str | None = None) -> Iterator[Session]:
    """A private headless soffice; ``registry``: the profile's registrymodifications.xcu text."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("soffice not found")
    workdir = Path(tempfile.mkdtemp(prefix="cstracker-uno-"))
    if registry is not None:
        (workdir / "profile" / "user").mkdir(parents=True)
        (workdir / "profile" / "user" / "registrymodifications.xcu").write_text(registry, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [
            soffice,
            f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # soffice forks soffice.bin: end the whole group, never leave it running
    )
    try:
        ctx = connect(port, proc)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        yield Session(ctx, desktop, workdir)
        with contextlib.suppress(Exception):  # the bridge drops as soffice quits
            desktop.terminate()
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def load(desktop, path: str | Path, *props: PropertyValue, tries: int = 5):
    """The document at ``path``, opened hidden; None when it does not open (e.g. a wrong password)."""
    doc = None
    for _ in range(tries):  # a soffice still starting up on a busy machine can hand back nothing
        try:
            doc = desktop.loadComponentFromURL(
                Path(path).resolve().as_uri(), "_blank", 0, (prop("Hidden", True), *props)
            )
        except Exception:  # LibreOffice raises its own error types when a file will not open
            return None
        if doc is not None:
            return doc
        time.sleep(2)
    return doc


def save_xlsx(doc, dst: str | Path, close: bool = True) -> None:
    """Store as .xlsx; ``close=False`` for a document driven through its frame's dispatcher (closing
    that one disposes the bridge; soffice's end closes it)."""
    doc.storeToURL(Path(dst).resolve().as_uri(), (prop("FilterName", XLSX_FILTER),))
    if close:
        doc.close(True)
    if not Path(dst).exists():
        sys.exit(f"LibreOffice did not write {dst}")


def must_load(desktop, path: str | Path, *props: PropertyValue):
    doc = load(desktop, path, *props)
    if doc is None:
        sys.exit(f"LibreOffice could not open {path}")
    return doc
