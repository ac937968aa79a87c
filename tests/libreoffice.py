"""Drive LibreOffice headless from tests: recalculate, convert, re-save like a user's spreadsheet.

Each call uses its own empty profile folder whose settings make Calc recalculate
every formula on load (by default it keeps an .xlsx file's cached values).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""

#: CI sets CSTRACKER_REQUIRE_LIBREOFFICE=1 so that a missing LibreOffice fails the run instead of skipping.
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("CSTRACKER_REQUIRE_LIBREOFFICE") != "1",
    reason="LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui",
)


def _profile(recalc: bool) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cstracker-lo-"))
    if recalc:
        (folder / "user").mkdir()
        (folder / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
    return folder


def convert(src: Path, outdir: Path, to: str, recalc: bool = True, timeout: int = 180) -> Path:
    """``soffice --convert-to <to>``; returns the converted file. ``to`` may carry filter options."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice is not installed")
    profile = _profile(recalc)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                to,
                "--outdir",
                str(outdir),
                str(src),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = to.split(":")[0]
    out = outdir / (src.stem + "." + ext)
    if out.exists():
        return out
    # With a sheet option the CSV filter names its output <stem>-<sheet>.csv.
    produced = sorted(outdir.glob(f"{src.stem}-*.{ext}"), key=lambda p: p.stat().st_mtime)
    if not produced:
        raise RuntimeError(f"LibreOffice did not write {out}")
    return produced[-1]


def sheet_as_rows(src: Path, sheet: str | int, workdir: Path) -> list[list[str]]:
    """Recalculate ``src`` and return one sheet as text rows (ISO dates, UTF-8).

    Uses the CSV filter's sheet option; dates come out as LibreOffice formats
    them for the cell's number format in the en-US locale (month first), so
    tests should compare numbers and texts, or give date columns an ISO format.
    """
    sheet_opt = sheet if isinstance(sheet, int) else -1
    if isinstance(sheet, str):
        import openpyxl

        names = openpyxl.load_workbook(src, read_only=True).sheetnames
        sheet_opt = names.index(sheet) + 1
    # 44 = comma, 34 = double quote, 76 = UTF-8, 1 = first line, then quoted/detect/…/sheet number
    out = convert(
        src,
        workdir,
        f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet_opt}",
    )
    produced = sorted(workdir.glob(f"{src.stem}*.csv"))
    path = produced[-1] if produced else out
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


#: the Debian interpreter that has python3-uno, to drive LibreOffice the way a user does
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_uno() -> bool:
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0
    except OSError:
        return False


needs_uno = pytest.mark.skipif(
    not _has_uno() and os.environ.get("CSTRACKER_REQUIRE_LIBREOFFICE") != "1",
    reason="Debian python3-uno is not installed: apt-get install -y python3-uno",
)
