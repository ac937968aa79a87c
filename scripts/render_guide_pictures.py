"""Redraw the pictures in docs/guide.md from `cstracker demo` output.

    python scripts/render_guide_pictures.py            # write docs/images/*.png
    python scripts/render_guide_pictures.py --out DIR  # somewhere else

Runs the demo (synthetic data, a fixed "today" so the pictures only change when the
layout does), prints the tracker, a filled-in form and the internal report to PDF with
LibreOffice, and turns one page of each into a small PNG with pdftoppm (poppler-utils).
Run it again whenever the layout of a workbook changes, and commit the pictures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
TODAY = dt.date(2026, 11, 27)
#: picture name -> (which demo file, page to show, crop box as fractions of the page: left, top, width, height)
PICTURES = {
    "tracker.png": ("tracker", 1, (0.0, 0.0, 1.0, 0.62)),
    "form.png": ("form", 2, (0.0, 0.0, 1.0, 0.62)),
    "report.png": ("report", 1, (0.0, 0.0, 1.0, 0.75)),
}
RESOLUTION = 70  # dots per inch: readable on screen, a few tens of KB a picture


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        sys.exit("LibreOffice is needed: apt-get install -y libreoffice-calc-nogui")
    if not shutil.which("pdftoppm"):
        sys.exit("pdftoppm is needed: apt-get install -y poppler-utils")
    return found


def to_pdf(src: Path, folder: Path) -> Path:
    # the one LibreOffice driver (tests/libreoffice.py), with the file's own cached values
    from tests.libreoffice import convert

    return convert(src, folder, "pdf", recalc=False, timeout=300)


def page_png(pdf: Path, page: int, crop: tuple[float, float, float, float], out: Path) -> None:
    """One page of ``pdf`` as a PNG, cropped to ``crop`` (fractions of the page)."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size:")).split()
    width, height = (float(size[2]) * RESOLUTION / 72, float(size[4]) * RESOLUTION / 72)
    left, top, w, h = crop
    stem = out.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            "-r",
            str(RESOLUTION),
            "-x",
            str(int(left * width)),
            "-y",
            str(int(top * height)),
            "-W",
            str(int(w * width)),
            "-H",
            str(int(h * height)),
            str(pdf),
            str(stem),
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNGs (default docs/images)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from cstracker.demo import run_demo

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cstracker-guide-") as tmp:
        work = Path(tmp)
        result = run_demo(work / "demo", today=TODAY, echo=lambda _line: None)
        sources = {
            "tracker": result.tracker,
            "form": sorted((work / "demo" / "forms ingested").glob("*.xlsx"))[0],
            "report": result.files["report"],
        }
        pdfs = {key: to_pdf(path, work / "pdf") for key, path in sources.items()}
        for name, (key, page, crop) in PICTURES.items():
            page_png(pdfs[key], page, crop, args.out / name)
            print(f"wrote {args.out / name} ({(args.out / name).stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
