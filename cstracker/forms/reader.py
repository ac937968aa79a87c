"""Read completed consultation forms: by defined name, converted by the schema, in a pool of workers.

A form arrives by e-mail from outside the coordinator's control, so each file
is opened with ``safe_xlsx`` (limits before parsing) inside a persistent pool
of worker processes, each with an address-space limit and a per-form time
limit: a hostile file can take down one worker, never the command, and the
pool is replaced when that happens.

Fields are found by their defined names. When a spreadsheet program has lost
the names, each input is found by the label beside it (the layout is shared
with the writer, ``forms.form_sections``) and the form carries a warning that
says so. A formula in an input cell is refused with its cell named; its cached
value is never used.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cstracker.core.convert import parse_flag
from cstracker.core.new_codes import confident_suggestion, new_code
from cstracker.core.problems import Problem
from cstracker.core.rules import Finding, convert_record
from cstracker.core.schema import FIELDS_BY_KEY, CodeLists, Field
from cstracker.forms.workbook import (
    KNOWN_FORM_VERSIONS,
    NAME_FORM_ID,
    NAME_FORM_VERSION,
    NAME_PREFIX,
    PREFILL,
    PREFILL_REFERRAL,
    SHEET_FORM,
    SHEET_META,
    FormItem,
    FormSection,
    form_items,
    form_sections,
)
from cstracker.tracker.written import unpack
from cstracker.xlsx.parts import col_letters
from cstracker.xlsx.safe_read import (
    DAMAGED_FILE_ERRORS,
    DEFAULT_LIMITS,
    Cell,
    Limits,
    SafeWorkbook,
    UnreadableFile,
    name_target,
    split_cell,
)

__all__ = ["DEFAULT_LIMITS", "FormRead", "Limits", "FormReaderPool", "read_form", "read_forms"]


@dataclass
class FormRead:
    """What one form file gave: its identity, a typed record of its fields, and any problems."""

    path: Path
    form_id: str | None = None
    form_version: str | None = None
    #: field key -> typed value for every field the form carries (blank -> None; ticks -> True/False)
    record: dict[str, Any] = field(default_factory=dict)
    #: field key -> the cell it was read from, e.g. "B13"
    cells: dict[str, str] = field(default_factory=dict)
    #: field key -> a value its open list does not hold yet, taken as a new code (``new_codes.py``)
    new_codes: dict[str, str] = field(default_factory=dict)
    sheet: str = SHEET_FORM
    problems: list[Problem] = field(default_factory=list)
    names_lost: bool = False
    #: a pre-filled form: the Referral ID it was pre-filled from, and the fingerprints of what (``written.py``)
    prefill_referral: str | None = None
    prefill: dict[str, str] | None = None
    #: field keys whose value is already reported as wrong (not reported again by the cross-field rules)
    bad_keys: set[str] = field(default_factory=set)

    @property
    def rejected(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def read_form(path: str | Path, lists: CodeLists, limits: Limits = DEFAULT_LIMITS) -> FormRead:
    """Read one form in this process. Never raises for a bad file: its problems say what is wrong."""
    result = FormRead(Path(path))
    name = str(path)
    try:
        with SafeWorkbook(result.path, limits) as wb:
            raw, cells = _raw_values(wb, lists, result)
            date1904 = wb.date1904
        # every field is checked, even after a bad one: a practitioner hears of every mistake at once
        _convert(raw, cells, lists, result, date1904)
    except UnreadableFile as e:
        result.problems.append(Problem(file=name, rule=e.rule, message=e.message, sheet=e.sheet, cell=e.cell))
    except MemoryError:
        result.problems.append(_too_much(name, "needs more memory to read than any consultation form"))
    except _TimeUp:
        result.problems.append(_too_much(name, f"took longer than {limits.seconds:g} s to read"))
    except DAMAGED_FILE_ERRORS as e:
        # a file shaped in a way no spreadsheet program writes; say so rather than fail. Only the errors
        # a damaged or odd file raises: anything else (TypeError, AttributeError, IndexError ...) is a
        # bug in cstracker and goes on to the error boundary (exit 3 and a log), not to the coordinator
        # as "send the form again".
        result.problems.append(_unreadable(name, e))
    return result


def _unreadable(name: str, error: BaseException) -> Problem:
    return Problem(
        file=name,
        rule="unreadable",
        message=f"could not be read as a consultation form ({type(error).__name__}); "
        "open it in Excel, save it as .xlsx and send it again",
    )


def _too_much(name: str, what: str) -> Problem:
    return Problem(
        file=name,
        rule="too-big",
        message=f"{what}; it is not a normal consultation form and was not read",
    )


def _raw_values(
    wb: SafeWorkbook, lists: CodeLists, result: FormRead
) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw values and cells, keyed by the input's defined name (lower case)."""
    meta = wb.cells(SHEET_META)  # the small hidden sheet, parsed once for the identity and the pre-fill
    version, form_id = _identity(wb, meta)
    if version is None:
        raise UnreadableFile(
            "not-our-form",
            "is not a consultation form made by cstracker (it has no form version); "
            "make forms with: cstracker form",
        )
    result.form_version, result.form_id = version, form_id
    _prefill(meta, result)
    if version not in KNOWN_FORM_VERSIONS:
        raise UnreadableFile(
            "unknown-form-version",
            f"is form version {version}, which this cstracker cannot read (it reads version "
            f"{', '.join(KNOWN_FORM_VERSIONS)}); update cstracker, or copy the answers into a new form",
        )
    sections = form_sections(lists)
    items = form_items(lists)
    targets, wanted = _named_targets(wb.names)
    if targets:
        broken = next((n for n, where in targets.items() if where is None and n in items), None)
        if broken is not None:
            raise UnreadableFile(
                "cell-deleted",
                f"the input cell of {_label(items[broken])} was deleted (its name {broken} points nowhere); "
                "copy the answers into a new form",
            )
    else:
        if SHEET_FORM not in wb.sheets:
            raise UnreadableFile(
                "not-our-form",
                f"has no '{SHEET_FORM}' sheet and no named input cells; it is not a cstracker form",
            )
        found = _by_labels(wb.cells(SHEET_FORM), sections, wb.merges(SHEET_FORM))
        targets = {n: (SHEET_FORM, cell) for n, cell in found.items()}
        result.names_lost = True
        result.problems.append(
            Problem(
                file=str(result.path),
                rule="names-lost",
                sheet=SHEET_FORM,
                message="the form's named cells are missing (a spreadsheet program dropped them); its fields "
                f"were found by the labels beside them instead ({len(found)} of {len(items)}): check the row",
                severity="warning",
            )
        )
        wanted = _by_sheet(targets)
    values = {sheet: wb.cells(sheet, cells) for sheet, cells in wanted.items()}
    raw: dict[str, Any] = {}
    cells_by_name: dict[str, str] = {}
    for n, where in targets.items():
        if where is None:
            continue  # a broken name of no input: nothing to read
        sheet, cell = where
        got = values.get(sheet, {}).get(cell, _NO_CELL)
        result.sheet = sheet
        item = items.get(n)
        if got.formula and item is not None and item.is_tick and _stored_true(got.formula_text):
            # LibreOffice stores a typed TRUE as the formula =TRUE(): the practitioner typed a tick
            got = Cell(True)
        if got.formula:
            result.problems.append(
                Problem(
                    file=str(result.path),
                    rule="formula-in-field",
                    message=_formula_message(item, got.formula_text),
                    sheet=sheet,
                    cell=cell,
                    field=_label(item) if item is not None else n,
                )
            )
            if item is not None:
                result.bad_keys.add("primary_concern" if item.concern else item.key or n)
            continue
        raw[n] = got.value
        cells_by_name[n] = cell
    return raw, cells_by_name


_NO_CELL = Cell(None)
_TARGETS: list[tuple[dict[str, str], dict[str, tuple[str, str] | None], dict[str, set[str]]]] = []


def _named_targets(
    names: dict[str, str],
) -> tuple[dict[str, tuple[str, str] | None], dict[str, set[str]]]:
    """Input name -> (sheet, cell) or None when broken, and the cells wanted per sheet.

    Forms of one layout share one parsed workbook part (and so one ``names`` dict): worked out once.
    """
    for seen, targets, wanted in _TARGETS:
        if seen is names:
            return targets, wanted
    targets = {n: name_target(ref) for n, ref in names.items() if n.startswith(NAME_PREFIX)}
    wanted = _by_sheet(targets)
    _TARGETS[:] = [(names, targets, wanted), *_TARGETS[:3]]
    return targets, wanted


def _by_sheet(targets: dict[str, tuple[str, str] | None]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for where in targets.values():
        if where is not None:
            wanted.setdefault(where[0], set()).add(where[1])
    return wanted


def _stored_true(formula: str) -> bool:
    """The formula is exactly TRUE() (how LibreOffice saves a typed TRUE), nothing more."""
    return formula.strip().lstrip("=").replace(" ", "").upper() == "TRUE()"


def _formula_message(item: FormItem | None, formula: str) -> str:
    if (
        item is not None
        and item.is_tick
        and formula.strip().lstrip("=").replace(" ", "").upper() == "FALSE()"
    ):
        return "holds FALSE; leave the box empty when it does not apply (a form's formulas are never read)"
    return "holds a formula; type the value itself (a form's formulas are never read)"


def _label(item: FormItem) -> str:
    f = item.field
    return f.label if f is not None else item.label


def _identity(wb: SafeWorkbook, meta: dict[str, Cell]) -> tuple[str | None, str | None]:
    """(form version, Form ID) from the defined names, else from the hidden metadata sheet (``meta``)."""
    got: dict[str, Any] = {}
    where = {key: name_target(wb.names.get(key, "")) for key in (NAME_FORM_VERSION, NAME_FORM_ID)}
    sheets = {w[0] for w in where.values() if w}
    if len(sheets) == 1:
        sheet = sheets.pop()
        values = meta if sheet == SHEET_META else wb.cells(sheet, {w[1] for w in where.values() if w})
        got = {key: values.get(w[1], Cell(None)).value for key, w in where.items() if w}
    if got.get(NAME_FORM_VERSION) in (None, ""):
        for key, value in _meta_rows(meta).items():
            if key in (NAME_FORM_VERSION, NAME_FORM_ID):
                got[key] = value

    def text(value: Any) -> str | None:
        if value is None or str(value).strip() == "":
            return None
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()

    return text(got.get(NAME_FORM_VERSION)), text(got.get(NAME_FORM_ID))


def _meta_rows(meta: dict[str, Cell]) -> dict[Any, Any]:
    """The hidden metadata sheet's key (column A) -> value (column B)."""
    rows: dict[int, dict[int, Any]] = {}
    for ref, c in meta.items():
        rc = split_cell(ref)
        if rc:
            rows.setdefault(rc[0], {})[rc[1]] = c.value
    return {row.get(1): row.get(2) for row in rows.values() if isinstance(row.get(1), str)}


def _prefill(meta: dict[str, Cell], result: FormRead) -> None:
    """What a form pre-filled from the tracker was pre-filled with (nothing for a blank form)."""
    rows = _meta_rows(meta)
    referral, base = rows.get(PREFILL_REFERRAL), unpack(rows.get(PREFILL))
    if isinstance(referral, str) and referral.strip() and base is not None:
        result.prefill_referral, result.prefill = referral.strip(), base


def _by_labels(
    cells: dict[str, Cell], sections: Sequence[FormSection], merges: list[tuple[int, int, int, int]]
) -> dict[str, str]:
    """Input name -> cell, found by the label text beside it (or above it) within its section."""
    texts: dict[tuple[int, int], str] = {}
    for ref, c in cells.items():
        rc = split_cell(ref)
        if rc and isinstance(c.value, str):
            texts[rc] = c.value.strip()
    merge_end = {(r1, c1): c2 for r1, c1, _r2, c2 in merges}
    by_title = {s.title: s for s in sections}
    starts = sorted((r, t) for (r, c), t in texts.items() if c == 1 and t in by_title)
    found: dict[str, str] = {}
    for i, (first, title) in enumerate(starts):
        last = starts[i + 1][0] if i + 1 < len(starts) else 10**9
        for item in by_title[title].items:
            spots = [rc for rc, t in texts.items() if first < rc[0] < last and t == item.label]
            if len(spots) == 1:
                r, c = spots[0]
                row, col = (r + 1, c) if item.below else (r, merge_end.get((r, c), c) + 1)
                found[item.name] = f"{col_letters(col)}{row}"
    return found


def _convert(
    raw: dict[str, Any], cells: dict[str, str], lists: CodeLists, result: FormRead, date1904: bool = False
) -> None:
    """Raw values by input name -> the typed record, one Problem per value that will not convert."""
    items = form_items(lists)
    where = {"file": str(result.path), "sheet": result.sheet}
    raw_by_key: dict[str, Any] = {}
    fields: list[Field] = []
    concerns: list[tuple[str, str]] = []
    has_concern_ticks = False
    for name, value in raw.items():
        item = items.get(name)
        if item is None:
            _unknown_input(name, value, cells.get(name, ""), result, where)
            continue
        if item.concern is not None:
            has_concern_ticks = True
            tick = parse_flag(value) if value is not None else None
            if tick is not None and not tick.ok:
                result.bad_keys.add("primary_concern")
                result.problems.append(
                    Problem(
                        rule="not-a-tick",
                        message=tick.error or "is not a tick",
                        field=f"{FIELDS_BY_KEY['primary_concern'].label}: {item.concern}",
                        value=str(value)[:60],
                        cell=cells[name],
                        **where,
                    )
                )
            elif tick is not None and tick.value:
                concerns.append((item.concern, cells[name]))
            continue
        f = item.field
        if f is None:
            continue  # narrative: stays on the form
        raw_by_key[f.key] = value
        result.cells[f.key] = cells[name]
        fields.append(f)
    record, findings = convert_record(raw_by_key, lists, fields, date1904)
    fields_by_key = {f.key: f for f in fields}
    findings = [g for f in findings if (g := _off_open_list(f, fields_by_key, lists, record, result, where))]
    result.bad_keys.update(f.field_key for f in findings)
    for finding in findings:
        result.problems.append(
            finding.to_problem(fields_by_key, cell=result.cells.get(finding.field_key, ""), **where)
        )
    if len(concerns) > 1:
        result.bad_keys.add("primary_concern")
        result.problems.append(
            Problem(
                rule="primary-concern-not-one",
                message=f"{len(concerns)} contexts are ticked ({', '.join(c for c, _ in concerns)}); tick ONE only",
                field=FIELDS_BY_KEY["primary_concern"].label,
                cell=concerns[1][1],
                **where,
            )
        )
    elif has_concern_ticks:
        record["primary_concern"] = concerns[0][0] if concerns else None
        if concerns:
            result.cells["primary_concern"] = concerns[0][1]
    result.record = record


def _off_open_list(
    finding: Finding,
    fields: dict[str, Field],
    lists: CodeLists,
    record: dict[str, Any],
    result: FormRead,
    where: dict[str, str],
) -> Finding | None:
    """A value off an open list is taken as a new code (None: no finding; a warning instead) or
    refused with the code it probably means; any other finding is returned as it is."""
    f = fields.get(finding.field_key)
    if finding.rule != "not-in-list" or f is None or not f.code_list:
        return finding
    code = new_code(f.code_list, finding.value, lists)
    if code is None:
        guess = (
            confident_suggestion(f.code_list, finding.value, lists)
            if isinstance(finding.value, str)
            else None
        )
        if guess is None:
            return finding
        return replace(finding, message=f"did you mean {guess.code!r}? It {finding.message}")
    record[f.key] = result.new_codes[f.key] = code
    result.problems.append(
        Problem(
            rule="new-list-value",
            message=f"is not on the tracker's {f.label} list yet; it is added to the Lists sheet when this form "
            "goes in (if it is a team already listed under another name, choose that one on the form)",
            field=f.label,
            value=code,
            cell=result.cells.get(f.key, ""),
            severity="warning",
            **where,
        )
    )
    return None


def _unknown_input(name: str, value: Any, cell: str, result: FormRead, where: dict[str, str]) -> None:
    """A tick for a theme or intervention the tracker does not list is an error; anything else is ignored."""
    for kind in ("theme", "intervention"):
        if name.startswith(f"{NAME_PREFIX}{kind}_") and value is not None:
            tick = parse_flag(value)
            if tick.ok and tick.value:
                result.problems.append(
                    Problem(
                        rule="not-in-list",
                        message=f"ticks a {kind} ({name[len(NAME_PREFIX) + len(kind) + 1 :]}) that this "
                        f"tracker does not list; add it to the tracker's {kind}s or untick it",
                        cell=cell,
                        **where,
                    )
                )


# ---------------------------------------------------------------------------
# The worker pool
# ---------------------------------------------------------------------------


class _TimeUp(Exception):
    """A form took longer than its time limit (raised in a worker by SIGALRM)."""


_worker: dict[str, Any] = {}


def _alarm(_signum: int, _frame: Any) -> None:
    raise _TimeUp()


#: how often a worker looks whether the command that started it is still there (seconds)
PARENT_CHECK_SECONDS = 0.5


def _watch_parent(parent: int, first_ppid: int) -> None:
    """End this worker as soon as the command that started it is gone (killed, crashed, stopped).

    A worker blocked on its task queue would otherwise wait forever: it holds both ends of the
    queue's pipe, so it never sees the parent go. Either sign is enough: this process was
    re-parented (its forkserver ends with the command), or the command's process id is gone.
    """
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        gone = os.getppid() != first_ppid
        if not gone:
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                gone = True
            except PermissionError:  # a process with that id exists (not ours to signal)
                pass
        if gone:
            os._exit(0)


def _init_worker(
    lists: CodeLists, limits: Limits, parent: int | None = None, reader: Callable[..., FormRead] | None = None
) -> None:
    """Each worker: its lists and limits, a watch on its parent, an address-space cap, a per-form alarm."""
    _worker["lists"], _worker["limits"], _worker["read"] = lists, limits, reader or read_form
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent, os.getppid()), daemon=True).start()
    # a worker inherits its forkserver's preloaded objects: keep the collector off them (no copy-on-write churn)
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _alarm)
    try:
        import resource  # not on Windows: there the parent's watchdog is the only limit

        with open("/proc/self/status", encoding="ascii") as fh:
            vm = next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:")), 0)
        cap = vm + limits.memory_bytes
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no rlimits (not Linux): the time limit and the size checks still hold


def _work(paths: list[str]) -> list[FormRead]:
    return [_work_one(p) for p in paths]


def _work_one(path: str) -> FormRead:
    limits: Limits = _worker["limits"]
    alarm = hasattr(signal, "setitimer")
    if alarm:
        signal.setitimer(signal.ITIMER_REAL, limits.seconds)
    try:
        return _worker["read"](path, _worker["lists"], limits)
    except _TimeUp:
        return FormRead(
            Path(path), problems=[_too_much(path, f"took longer than {limits.seconds:g} s to read")]
        )
    except MemoryError:
        return FormRead(
            Path(path), problems=[_too_much(path, "needs more memory to read than any consultation form")]
        )
    # anything else raised here is a bug: it travels back to the command (ProcessPoolExecutor re-raises
    # it from the future, with the worker's traceback) and ends at the error boundary
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _context() -> Any:
    """The start method, chosen on purpose: forkserver where there is one (Linux, macOS), else spawn.

    Never a plain fork of the command: the command has threads (the reader libraries', tqdm's), and
    a fork of a multi-threaded process can deadlock the child (Python 3.12+ warns; 3.14 changes the
    default). The forkserver is a small single-threaded process that has imported this module once,
    so starting a worker from it is still cheap.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return mp.get_context("spawn")


class FormReaderPool:
    """A persistent pool of reader processes; replaced whenever a hostile file kills a worker."""

    def __init__(
        self,
        lists: CodeLists,
        limits: Limits = DEFAULT_LIMITS,
        workers: int | None = None,
        reader: Callable[..., FormRead] | None = None,
    ) -> None:
        # reader: what a worker calls per form (read_form); tests give a module-level stand-in by name
        self.lists, self.limits, self.reader = lists, limits, reader
        self.workers = max(1, workers or min(4, os.cpu_count() or 1))
        self._pool: cf.ProcessPoolExecutor | None = None

    def _start(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                self.workers,
                mp_context=_context(),
                initializer=_init_worker,
                initargs=(self.lists, self.limits, os.getpid(), self.reader),
            )
        return self._pool

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # a worker stuck in C code ignores its alarm; end it so the batch can go on
        for proc in list(getattr(pool, "_processes", {}).values()):
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> FormReaderPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            # stopped (Ctrl-C, SIGTERM) or failed: end the workers now rather than wait out their forms
            self._kill()
        else:
            self.close()

    def read(
        self,
        paths: Sequence[str | Path],
        done: Callable[[FormRead], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[FormRead]:
        """Read every path; results in the order given.

        ``done`` is called as each form finishes; ``meanwhile`` once, while the workers read (the
        caller's own work, e.g. loading the tracker, overlaps the reading).
        """
        results: dict[int, FormRead] = {}
        queue = list(range(len(paths)))
        suspects: list[int] = []  # unfinished when a worker died: retried one at a time to find the culprit
        while queue or suspects:
            if suspects:
                batch, size = [suspects.pop(0)], 1
            else:
                batch, queue = queue, []
                # a few forms per task keeps the hand-over cost small; several tasks per worker keep them busy
                size = max(1, min(16, len(batch) // (self.workers * 4)))
            failed = self._run(batch, size, paths, results, done, meanwhile)
            meanwhile = None
            if failed and len(batch) == 1:
                i = batch[0]
                results[i] = FormRead(
                    Path(paths[i]),
                    problems=[
                        _too_much(str(paths[i]), "stopped the reader (too big, too slow or malformed)")
                    ],
                )
                if done:
                    done(results[i])
            else:
                suspects.extend(failed)
        if meanwhile is not None:
            meanwhile()
        return [results[i] for i in range(len(paths))]

    def _run(
        self,
        batch: list[int],
        size: int,
        paths: Sequence[str | Path],
        results: dict[int, FormRead],
        done: Callable[[FormRead], None] | None,
        meanwhile: Callable[[], None] | None,
    ) -> list[int]:
        """Submit ``batch`` in chunks; collect what finishes. Returns the indexes lost to a dead or stuck worker."""
        pool = self._start()
        chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
        futures = {pool.submit(_work, [str(paths[i]) for i in chunk]): chunk for chunk in chunks}
        if meanwhile is not None:
            meanwhile()
        waiting = set(futures)
        broken = False
        while waiting and not broken:
            # every form has its own alarm; no progress for longer than a chunk's worth means a worker is stuck
            finished, waiting = cf.wait(
                waiting, timeout=self.limits.seconds * size + 10, return_when=cf.FIRST_COMPLETED
            )
            if not finished:
                broken = True
            for fut in finished:
                try:
                    reads = fut.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    continue
                for i, read in zip(futures[fut], reads, strict=True):
                    results[i] = read
                    if done:
                        done(read)
        if broken:
            self._kill()
        return [i for i in batch if i not in results]


def read_forms(
    paths: Sequence[str | Path],
    lists: CodeLists,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
    done: Callable[[FormRead], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    reader: Callable[..., FormRead] | None = None,
) -> list[FormRead]:
    """Read many forms in a pool of workers; one FormRead per path, in order (see FormReaderPool.read)."""
    if not paths:
        if meanwhile is not None:
            meanwhile()
        return []
    workers = min(len(paths), workers or os.cpu_count() or 1)
    with FormReaderPool(lists, limits, workers=workers, reader=reader) as pool:
        return pool.read(paths, done, meanwhile)
