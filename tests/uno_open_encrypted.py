"""Open a password-protected tracker in LibreOffice itself and print what it shows.

Run with Debian's Python, which has the UNO bridge:

    /usr/bin/python3 tests/uno_open_encrypted.py TRACKER.xlsx PASSWORD

Prints one JSON object: whether the file opened with the password, the
Referrals sheet's Referral IDs (column A, rows 2 to 500, blanks skipped), and
whether it opened WITHOUT the password (it must not).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from uno_edit import connect, free_port, prop


def _load(desktop, url: str, password: str | None):
    props = [prop("Hidden", True)]
    if password is not None:
        props.append(prop("Password", password))
    try:
        return desktop.loadComponentFromURL(url, "_blank", 0, tuple(props))
    except Exception:  # LibreOffice raises its own error types when a file will not open
        return None


def main(src: str, password: str) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    workdir = Path(tempfile.mkdtemp(prefix="cstracker-uno-"))
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
    )
    out = {"opened": False, "ids": [], "opened_without_password": False}
    try:
        ctx = connect(port, proc)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        url = Path(src).resolve().as_uri()
        doc = _load(desktop, url, password)
        if doc is not None:
            out["opened"] = True
            sheet = doc.Sheets.getByName("Referrals")
            for row in range(1, 500):
                text = sheet.getCellByPosition(0, row).getString()
                if text:
                    out["ids"].append(text)
            doc.close(True)
        bare = _load(desktop, url, None)
        if bare is not None:
            out["opened_without_password"] = True
            bare.close(True)
        with contextlib.suppress(Exception):  # the bridge drops as soffice quits
            desktop.terminate()
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
