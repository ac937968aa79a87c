"""Type values into a workbook's cells in LibreOffice itself and save it as .xlsx, as a coordinator would.

Run with Debian's Python, which has the UNO bridge (``apt-get install python3-uno``):

    /usr/bin/python3 tests/uno_cells.py IN.xlsx OUT.xlsx "Referrals!F2=Male" "Referrals!Q2=Eastgate"

Each value is typed as text (a cell's String), like typing into the cell. Without any
assignment the workbook is only opened and saved again (a plain re-save).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from uno_edit import connect, free_port, prop


def main(src: str, dst: str, assignments: list[str]) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("soffice not found")
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
    try:
        ctx = connect(port, proc)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(Path(src).resolve().as_uri(), "_blank", 0, (prop("Hidden", True),))
        for assignment in assignments:
            where, _, value = assignment.partition("=")
            sheet, _, ref = where.rpartition("!")
            doc.Sheets.getByName(sheet).getCellRangeByName(ref).String = value
        doc.storeToURL(Path(dst).resolve().as_uri(), (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
        with contextlib.suppress(Exception):  # the bridge drops as soffice quits
            desktop.terminate()
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    if not Path(dst).exists():
        sys.exit(f"LibreOffice did not write {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
