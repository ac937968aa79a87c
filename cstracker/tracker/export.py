"""Record-level extracts for analysts (``cstracker export``): CSV, XLSX or Parquet.

An extract is one row per referral. It is not a publication: it is for
analysts inside the authority, under its data-sharing rules, and its first
lines say so. With ``pseudonymise``:

- Mosaic IDs and Referral IDs become keyed pseudonyms (``pseudonym.py``):
  ``young_person`` (``YP-`` + 16 hex) and ``referral`` (``RF-`` + 16 hex);
- every free-text field is dropped (names of people and places live there:
  referrer, practitioners, detail, signposted to, actions, notes, source, Form ID);
- every date becomes its month, ``YYYY-MM``, in a column named ``<field>_month``.

The columns are documented in docs/export.md; a future cross-authority
analysis consumes the pseudonymised extract.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cstracker.core import csvsafe
from cstracker.core.errors import ExportError, UsageError
from cstracker.core.schema import Field, Kind
from cstracker.version import __version__
from cstracker.xlsx.outputs import check_output
from cstracker.xlsx.outputs import stamp as stamp_output

FORMATS = (".csv", ".xlsx", ".parquet")
#: the leading characters a spreadsheet reads as a formula (or a DDE trigger) in a CSV cell
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PSEUDONYM_COLUMNS = {"referral_id": "referral", "mosaic_id": "young_person"}
PSEUDONYM_KINDS = {"referral_id": "RF", "mosaic_id": "YP"}
#: the kinds of field that hold free text (and so names of people and places)
FREE_TEXT = (Kind.TEXT, Kind.LONGTEXT)
NOTICE_TITLE = "RECORD-LEVEL EXTRACT - NOT FOR PUBLICATION."


@dataclass
class Extract:
    path: Path
    rows: int
    columns: list[str]
    pseudonymised: bool
    key_path: Path | None = None
    key_created: bool = False
    notice: list[str] | None = None


def is_date_field(f: Field) -> bool:
    return f.kind in (Kind.DATE, Kind.DATETIME) or f.key == "follow_up_due"


def extract_columns(fields: tuple[Field, ...], pseudonymise: bool) -> list[tuple[Field, str]]:
    """(field, extract column name) in tracker order: what an extract holds."""
    out = []
    for f in fields:
        if not pseudonymise:
            out.append((f, f.key))
        elif f.key in PSEUDONYM_COLUMNS:
            out.append((f, PSEUDONYM_COLUMNS[f.key]))
        elif f.kind in FREE_TEXT or f.kind is Kind.MOSAIC or f.kind is Kind.ID:
            continue
        elif is_date_field(f):
            out.append((f, f"{f.key}_month"))
        else:
            out.append((f, f.key))
    return out


def notice_lines(authority: str, pseudonymise: bool, rows: int, span: str) -> list[str]:
    """The extract's first lines: what it is and who may see it."""
    how = (
        "Pseudonymised: Mosaic and Referral IDs are keyed pseudonyms, free text dropped, dates to the month."
        if pseudonymise
        else "NOT pseudonymised: it identifies children (Mosaic IDs) and holds free text."
    )
    return [
        f"{NOTICE_TITLE} One row per referral from the {authority} Contextual Safeguarding Referral Tracker.",
        f"For analysts inside {authority} under its data-sharing rules only; do not publish or pass on. {how}",
        f"Made by cstracker {__version__} on {dt.date.today():%Y-%m-%d}: {rows} referrals, {span}. "
        "The column headings are on the next line (docs/export.md describes each column).",
    ]


def build_extract(
    frame, fields: tuple[Field, ...], pseudonymise: bool, key=None, date_from=None, date_to=None
):
    """The extract's rows as a pandas frame (columns named as ``extract_columns`` says)."""
    import pandas as pd

    received = frame["date_received"]
    keep = pd.Series(True, index=frame.index)
    if date_from is not None:
        keep &= received >= pd.Timestamp(date_from)
    if date_to is not None:
        keep &= received < pd.Timestamp(date_to + dt.timedelta(days=1))
    frame = frame[keep]
    out = {}
    for f, name in extract_columns(fields, pseudonymise):
        col = frame[f.key]
        if pseudonymise and f.key in PSEUDONYM_KINDS:
            kind = PSEUDONYM_KINDS[f.key]
            out[name] = [key.pseudonym(kind, v) if isinstance(v, str) else None for v in col.tolist()]
        elif pseudonymise and is_date_field(f):
            out[name] = [None if pd.isna(v) else f"{v:%Y-%m}" for v in col.tolist()]
        elif f.kind is Kind.DATE or f.key == "follow_up_due":
            out[name] = [None if pd.isna(v) else v.date() for v in col.tolist()]
        elif f.kind is Kind.DATETIME:
            out[name] = [None if pd.isna(v) else v.to_pydatetime() for v in col.tolist()]
        else:
            out[name] = [None if v is None or v is pd.NA or v != v else v for v in col.tolist()]
    return pd.DataFrame(out, columns=[name for _, name in extract_columns(fields, pseudonymise)])


def export_tracker(
    tracker: str | Path,
    out: str | Path,
    pseudonymise: bool = False,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    key_file: str | Path | None = None,
    overwrite: bool = False,
) -> Extract:
    """Write the extract of ``tracker`` to ``out`` (its suffix picks the format)."""
    from cstracker.tracker.tracker import Tracker

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{out}: --out must end in .csv, .xlsx or .parquet")
    if date_from and date_to and date_from > date_to:
        raise UsageError("--from is after --to")
    if out.resolve() == Path(tracker).resolve():
        raise UsageError(f"{out}: that is the tracker itself; give the extract another name")
    if not out.parent.exists():
        raise UsageError(f"{out}: the folder {out.parent} does not exist")
    # an earlier extract is replaced; anything else only with --overwrite, a tracker never
    check_output(out, "export", overwrite=overwrite)
    t = Tracker.open(tracker)
    key = None
    if pseudonymise:
        from cstracker.tracker.pseudonym import load_key

        key = load_key(key_file)
    frame = build_extract(t.dataframe(), t.fields, pseudonymise, key, date_from, date_to)
    span = (
        f"date received {date_from or 'any'} to {date_to or 'any'}"
        if date_from or date_to
        else "every date received"
    )
    notice = notice_lines(t.settings.authority_name, pseudonymise, len(frame), span)
    writer = {".csv": _csv_bytes, ".xlsx": _xlsx_bytes, ".parquet": _parquet_bytes}[suffix]
    write_bytes_atomically(out, writer(frame, notice))
    return Extract(
        path=out,
        rows=len(frame),
        columns=list(frame.columns),
        pseudonymised=pseudonymise,
        key_path=key.path if key else None,
        key_created=bool(key and key.created),
        notice=notice,
    )


def neutralise(value: Any) -> Any:
    """A text a spreadsheet would run as a formula gets a leading apostrophe (``csvsafe``, reversible)."""
    return csvsafe.neutralise(value) if isinstance(value, str) else value


def _rows(frame):
    """The frame's rows as tuples of Python values, every kind of blank as None."""
    import pandas as pd

    for row in frame.itertuples(index=False, name=None):
        yield tuple(None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in row)


def _csv_bytes(frame, notice: list[str]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    for line in notice:
        w.writerow([f"# {line}"])
    w.writerow(list(frame.columns))
    for row in _rows(frame):
        w.writerow(["" if v is None else _csv_value(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _csv_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "TRUE" if v else ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return neutralise(v)


def _xlsx_bytes(frame, notice: list[str]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    stamp_output(wb, "export")
    wb.set_properties(
        {"title": "Contextual Safeguarding referrals: extract for analysts (not a publication)"}
    )
    ws = wb.add_worksheet("Extract")
    bold = wb.add_format({"bold": True})
    warn = wb.add_format({"bold": True, "font_color": "#9C0006"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, line in enumerate(notice):
        ws.write_string(r, 0, line, warn if r == 0 else None)
    head = len(notice)
    for c, name in enumerate(frame.columns):
        ws.write_string(head, c, str(name), bold)
    for r, row in enumerate(_rows(frame), start=head + 1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, stamp)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), day)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
    ws.freeze_panes(head + 1, 0)
    wb.close()
    return buf.getvalue()


def _parquet_bytes(frame, notice: list[str]) -> bytes:
    """Parquet has no "lines": the notice goes in the file's key-value metadata (``cstracker.notice``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"cstracker.notice"] = "\n".join(notice).encode()
    table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Through the one atomic write (``safety.atomic_write``): a temporary file beside ``path``, then replace."""
    from cstracker.xlsx.safety import atomic_write

    try:
        atomic_write(path, lambda tmp: tmp.write_bytes(data), check_parts=None, keep_backups=0)
    except OSError as e:
        raise ExportError(f"{path}: cannot write the extract ({e.strerror or e})") from None
