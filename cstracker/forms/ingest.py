"""Completed consultation forms into the tracker (``cstracker ingest``).

A batch: read every form (``form_reader``, in a pool of workers), match each to
a tracker row (Referral ID, else the row this Form ID went into before, else
Mosaic ID + date received), work out what would change, then make one
``Tracker.upsert`` and one save. A bad form never stops the batch: it is
rejected with its problems and the good forms still go in.

What a form may change follows the three-way rule of ``written.py``: the
tracker remembers, per Form ID, what the form last wrote (a pre-filled form
carries what it was pre-filled with). A field the form did not change since
that version is left as the tracker has it, whatever the coordinator did since;
a field changed on both sides keeps the tracker's value and is reported as a
conflict (``prefer_form`` takes the form's). A form with no last version fills
blanks and reports a different value already there as a conflict. The same
Referral ID with another Mosaic ID is a different young person: refused
(``identity.py``).
"""

from __future__ import annotations

import datetime as dt
import errno
import glob
import os
import re
import shutil
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cstracker.core import identity
from cstracker.core.convert import MOSAIC_PATTERN, REFERRAL_ID_PATTERN
from cstracker.core.problems import Problem, plural, shown_value
from cstracker.core.rules import Record, check_converted
from cstracker.core.schema import COMPUTED_KEYS, WRITTEN_BY_CSTRACKER, Field, with_prefix
from cstracker.forms.new_codes import codes_going_in, one_spelling
from cstracker.forms.reader import DEFAULT_LIMITS, FormRead, Limits, read_forms
from cstracker.tracker.written import Written, fingerprint, fingerprints, form_origin, merge

FORM_SUFFIXES = (".xlsx", ".xlsm", ".xls")
#: keys whose stored text, when it matches, is exactly what the converter returns
_ALREADY_CLEAN = {"referral_id": REFERRAL_ID_PATTERN, "mosaic_id": MOSAIC_PATTERN}
_STORED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( 00:00:00)?$")
#: keys a form never changes on a matched row: the row's identity and its bookkeeping
_NOT_FROM_FORM = ("referral_id", *WRITTEN_BY_CSTRACKER)


@dataclass
class FormOutcome:
    path: Path
    outcome: str  # "added", "updated", "unchanged" or "rejected"
    referral_id: str | None = None
    form_id: str | None = None
    #: labels of the fields that changed (updated) or were filled (added)
    changed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    archived_to: Path | None = None


@dataclass
class IngestResult:
    tracker: Path
    outcomes: list[FormOutcome] = field(default_factory=list)
    dry_run: bool = False
    backup: Path | None = None
    saved: bool = False
    #: lines the save said (a tracker that got its start date)
    notes: list[str] = field(default_factory=list)
    #: list key -> codes this batch added (or, in a dry run, would add) to an open list
    added_codes: dict[str, list[str]] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def problems(self) -> list[Problem]:
        return [p for o in self.outcomes for p in o.problems]

    @property
    def exit_code(self) -> int:
        return 1 if self.count("rejected") else 0


def _expand(inputs: Iterable[str | Path]) -> tuple[dict[Path, Path], list[FormOutcome]]:
    """Form path -> its resolved path (what makes two paths one file), in order; missing ones rejected."""
    paths: dict[Path, Path] = {}
    missing: list[FormOutcome] = []
    seen: set[Path] = set()

    def add(p: Path, key: Path) -> None:
        if key not in seen:
            seen.add(key)
            paths[p] = key

    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            folder = p.resolve()
            # scandir's entries carry their type: no stat (or resolve) per form of a large inbox
            with os.scandir(p) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    name = entry.name
                    # skip Excel's "~$" owner files and LibreOffice's ".~lock" files
                    if name.startswith(("~$", ".")) or Path(name).suffix.lower() not in FORM_SUFFIXES:
                        continue
                    child = p / name
                    try:
                        if not entry.is_file():
                            continue
                        add(child, child.resolve() if entry.is_symlink() else folder / name)
                    except (OSError, RuntimeError):  # a link loop (RuntimeError from resolve before 3.13)
                        missing.append(_missing(str(child), _LOOP))
        elif p.exists():
            add(p, p.resolve())
        elif p.is_symlink():
            missing.append(
                _missing(str(raw), _LOOP if _is_loop(p) else "is a link to a file that is not there")
            )
        elif glob.has_magic(str(raw)):
            matched = sorted(Path(m) for m in glob.glob(str(raw)) if Path(m).is_file())
            if not matched:
                missing.append(_missing(str(raw), "matches no file"))
            for m in matched:
                add(m, m.resolve())
        else:
            missing.append(_missing(str(raw), "no such file or folder"))
    return paths, missing


_LOOP = "is a symbolic link that points back to itself (a link loop); fix or remove the link"


def _is_loop(p: Path) -> bool:
    try:
        os.stat(p)
    except OSError as e:
        return e.errno == errno.ELOOP
    return False


def _missing(name: str, message: str) -> FormOutcome:
    return FormOutcome(
        Path(name), "rejected", problems=[Problem(file=name, rule="no-such-file", message=message)]
    )


@dataclass(eq=False)
class _Row:
    """A tracker row as this batch sees it: what is on it now, plus what earlier forms in the batch set."""

    referral_id: str | None
    record: Record
    form_id: str | None
    new: bool = False
    changes: dict[str, Any] = field(default_factory=dict)
    outcomes: list[FormOutcome] = field(default_factory=list)


class _Index:
    """Tracker rows as "the same referral" finds them (``Tracker.row_index``), kept current in a batch.

    The tracker's one index: its key columns read in one scan of the sheet; the whole of the
    few rows the forms touch is fetched in one more (``prefetch``), typed as every reader types it.
    """

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker
        self.fields: tuple[Field, ...] = tracker.fields
        self.by_key = {f.key: f for f in self.fields}
        self.states: dict[int, _Row] = {}  # sheet row -> its state, once a form has touched it
        self.rows = tracker.row_index()
        self.same: identity.SameReferral[_Row | int] = self.rows.same

    def prefetch(self, reads: Sequence[FormRead]) -> None:
        """Fetch, in one read, every tracker row a form of the batch may be about."""
        wanted = []
        for read in reads:
            rec = read.record or {}
            for ref in (
                self.same.referral(rec.get("referral_id")),
                self.same.person(rec.get("mosaic_id"), rec.get("date_received")),
                self.same.form(read.form_id),
            ):
                if isinstance(ref, int):
                    wanted.append(ref)
        self.rows.prefetch(wanted)

    def row(self, ref: _Row | int | None) -> _Row | None:
        """The batch's view of a row, made (typed) the first time a form touches it."""
        if ref is None or isinstance(ref, _Row):
            return ref
        state = self.states.get(ref)
        if state is None:
            stored = self.rows.record(ref) or {}
            # what the tracker holds that a form could set: not its formulas' cached values
            record = {k: v for k, v in stored.items() if k not in COMPUTED_KEYS}
            state = self.states[ref] = _Row(record.get("referral_id"), record, record.get("form_id"))
        return state

    def remember(self, state: _Row) -> None:
        rec = state.record
        self.same.add(
            state,
            referral_id=state.referral_id,
            form_id=state.form_id,
            mosaic_id=rec.get("mosaic_id"),
            date_received=rec.get("date_received"),
            replace=True,
        )


def ingest(
    tracker: str | Path,
    inputs: Sequence[str | Path],
    *,
    dry_run: bool = False,
    archive: str | Path | None = None,
    force: bool = False,
    today: dt.date | None = None,
    progress: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
    prefer_form: bool = False,
    encrypt_archive: bool = False,
) -> IngestResult:
    """Read completed forms and add or update their tracker rows; one save for the whole batch.

    ``prefer_form``: where a field changed on the form and on the tracker, take the form's value
    (by default the tracker keeps its own and the conflict is reported). ``encrypt_archive``: the
    forms moved to ``archive`` are stored encrypted with the tracker's password (a form holds the
    narrative the tracker leaves out).
    """
    from cstracker.tracker.tracker import Tracker

    tracker = Path(tracker)
    today = today or dt.date.today()
    result = IngestResult(tracker, dry_run=dry_run)
    found, missing = _expand(inputs)
    # "inbox/*.xlsx" may well match the tracker itself when it lives beside the forms
    itself = tracker.resolve()
    paths = [p for p, key in found.items() if key != itself]
    opener = nullcontext(Tracker.open(tracker)) if dry_run else Tracker.open_for_update(tracker, force=force)
    with opener as t:
        indexes: list[_Index] = []
        # the tracker's rows load in this process while the workers read the forms
        reads = _read_all(paths, t.lists, limits, workers, progress, lambda: indexes.append(_Index(t)))
        index = indexes[0]
        index.prefetch(reads)
        one_spelling(reads)
        planner = _Planner(t, index, today, Written.load(t), prefer_form)
        planner.note_shared_form_ids(reads)
        outcomes = [planner.plan(read) for read in reads]
        # the forms were read without the tracker: their examples of a Referral ID take its prefix now
        prefix = t.settings.referral_id_prefix
        for outcome in outcomes:
            outcome.problems = [replace(p, message=with_prefix(p.message, prefix)) for p in outcome.problems]
        new_codes = codes_going_in(reads, planner.records, {f.key: f for f in t.fields})
        if dry_run:
            result.added_codes = new_codes
            planner.name_new_rows(planner.preview_ids())
        else:
            for list_key, codes in new_codes.items():
                added = t.add_codes(list_key, codes)
                if added:
                    result.added_codes[list_key] = added
            if planner.records:
                upserted = t.upsert(planner.records, today=today)
                planner.name_new_rows(upserted.added)
                if upserted.added or upserted.updated:
                    _stage_audit(t, outcomes, upserted)
            planner.stage_written()
            result.backup = t.save()
            result.saved = bool(planner.records) or result.backup is not None
            result.notes = list(t.notes)
    result.outcomes = outcomes + missing
    if archive is not None and not dry_run:
        password = None
        if encrypt_archive:
            from cstracker.xlsx import encryption

            password = encryption.password_for(tracker, new=not encryption.is_encrypted_file(tracker))
        _archive(result.outcomes, Path(archive), password)
    return result


def _stage_audit(t: Any, outcomes: list[FormOutcome], upserted: Any) -> None:
    """The audit trail's entry for this batch: the command, and one row per form read."""
    from cstracker.tracker.audit import AuditEntry, SourceFile, stage

    sources = [
        SourceFile(
            o.path,
            added=[o.referral_id] if o.outcome == "added" and o.referral_id else [],
            updated=[o.referral_id] if o.outcome == "updated" and o.referral_id else [],
            refused=1 if o.outcome == "rejected" else 0,
        )
        for o in outcomes
    ]
    entry = AuditEntry(
        "ingest",
        added=list(upserted.added),
        updated=list(upserted.updated),
        refused=sum(1 for o in outcomes if o.outcome == "rejected"),
        sources=sources,
    )
    stage(t, entry)


def _read_all(
    paths: list[Path],
    lists: Any,
    limits: Limits,
    workers: int | None,
    progress: bool,
    meanwhile: Callable[[], None],
) -> list[FormRead]:
    if not progress or not sys.stderr.isatty():
        return read_forms(paths, lists, limits, workers, meanwhile=meanwhile)
    from tqdm import tqdm

    # delay: a batch that takes less than a moment shows no bar at all
    with tqdm(total=len(paths), unit="form", file=sys.stderr, delay=1.0, leave=False) as bar:
        return read_forms(paths, lists, limits, workers, lambda _read: bar.update(1), meanwhile)


class _Planner:
    """Decides, form by form, what each does to the tracker; collects one upsert record per row."""

    def __init__(
        self, tracker: Any, index: _Index, today: dt.date, written: Written, prefer_form: bool = False
    ) -> None:
        self.t, self.index, self.today = tracker, index, today
        self.written, self.prefer_form = written, prefer_form
        #: (Form ID, the row, fingerprints) to remember once new rows have their Referral IDs
        self.to_remember: list[tuple[str, _Row, dict[str, str]]] = []
        self.lists = tracker.lists
        self.by_key = index.by_key
        self.order = [f.key for f in index.fields]  # the tracker's column order, for messages
        self.rows: list[_Row] = []  # rows with changes, in first-touched order
        self.shared_ids: set[str] = set()

    @property
    def records(self) -> list[dict[str, Any]]:
        out = []
        for row in self.rows:
            rec = dict(row.changes)
            if row.referral_id:
                rec["referral_id"] = row.referral_id
            out.append(rec)
        return out

    def note_shared_form_ids(self, reads: list[FormRead]) -> None:
        """Form IDs carried by several files of this batch: copies of one form, so not an identity."""
        files: dict[str, list[FormRead]] = {}
        for read in reads:
            if read.form_id and not read.rejected:
                files.setdefault(read.form_id, []).append(read)
        self.shared_ids = {fid for fid, group in files.items() if len(group) > 1}
        for fid in self.shared_ids:
            for read in files[fid]:
                read.problems.append(
                    Problem(
                        file=str(read.path),
                        rule="copied-form",
                        message=f"has the same Form ID ({fid}) as {plural(len(files[fid]) - 1, 'other form')} in this "
                        "batch (one form copied?); it was matched by Referral ID, or Mosaic ID and date "
                        "received, only. Make a new form for each consultation with: cstracker form",
                        severity="warning",
                    )
                )

    def plan(self, read: FormRead) -> FormOutcome:
        outcome = FormOutcome(read.path, "rejected", form_id=read.form_id, problems=list(read.problems))
        where = {"file": str(read.path), "sheet": read.sheet}
        if read.rejected:
            # already refused; still say what else is wrong, so one round of corrections fixes it all
            outcome.problems += self._other_problems(read, where)
            return outcome
        rec = {k: v for k, v in read.record.items() if k in self.by_key}
        form_id = None if read.form_id in self.shared_ids else read.form_id
        state, notes = self._match(rec, form_id, where, read.cells)
        outcome.problems += notes
        if any(p.severity == "error" for p in notes):
            return outcome
        if state is None:
            return self._add(rec, read, outcome, where)
        return self._update(state, rec, read, outcome, where)

    def _match(
        self, rec: Record, form_id: str | None, where: dict[str, str], cells: dict[str, str]
    ) -> tuple[_Row | None, list[Problem]]:
        idx = self.index
        rid = rec.get("referral_id")
        notes: list[Problem] = []
        found = idx.same.referral(rid)
        if found is not None:
            return idx.row(found), notes
        state = idx.row(idx.same.person(rec.get("mosaic_id"), rec.get("date_received")))
        if state is None and form_id:
            # the row this form filled before, e.g. before a corrected date received
            state = idx.row(idx.same.form(form_id))
            if (
                state is not None
                and identity.different_person(state.record.get("mosaic_id"), rec.get("mosaic_id"))
                and not self._coordinator_changed_mosaic(form_id, state, rec)
            ):
                # one blank form copied for several young people: the Form ID does not identify the row
                state = None
        if state is not None and not state.referral_id and not state.new:
            notes.append(
                Problem(
                    rule="row-without-id",
                    message="matches a tracker row (same Mosaic ID and date received) that has no Referral ID; "
                    "give that row an ID (cstracker validate suggests one), then ingest this form again",
                    **where,
                )
            )
        elif state is not None and rid and rid != state.referral_id:
            notes.append(
                Problem(
                    rule="referral-id-differs",
                    message=f"says {rid}, which is not on the tracker; the form went to "
                    f"{state.referral_id or 'the new row'} (matched by its Form ID or Mosaic ID and date)",
                    field=self.by_key["referral_id"].label,
                    cell=cells.get("referral_id", ""),
                    severity="warning",
                    **where,
                )
            )
        elif state is None and rid:
            notes.append(
                Problem(
                    rule="referral-id-unknown",
                    message=f"{rid} is not on the tracker; a new row was added with this Referral ID",
                    field=self.by_key["referral_id"].label,
                    cell=cells.get("referral_id", ""),
                    severity="warning",
                    **where,
                )
            )
        return state, notes

    def _check(self, merged: Record, read: FormRead, where: dict[str, str]) -> list[Problem]:
        return [p for p, _ in self._check_keyed(merged, read, where)]

    def _other_problems(self, read: FormRead, where: dict[str, str]) -> list[Problem]:
        """The cross-field problems of a form refused for its values (nothing is written for it)."""
        if not read.record:
            return []
        rec = {k: v for k, v in read.record.items() if k in self.by_key}
        state, _ = self._match(
            rec, None if read.form_id in self.shared_ids else read.form_id, where, read.cells
        )
        merged = {
            **(state.record if state is not None else {}),
            **{k: v for k, v in rec.items() if not _blank(v)},
        }
        return [p for p, _ in self._check_keyed(merged, read, where, read.bad_keys)]

    def _check_keyed(
        self, merged: Record, read: FormRead, where: dict[str, str], failed: Collection[str] = ()
    ) -> list[tuple[Problem, str]]:
        found = check_converted(merged, failed, self.lists, self.today)
        return [
            (f.to_problem(self.by_key, cell=read.cells.get(f.field_key, ""), **where), f.field_key)
            for f in found
            if f.field_key in read.record or f.severity == "error"
        ]

    def _add(self, rec: Record, read: FormRead, outcome: FormOutcome, where: dict[str, str]) -> FormOutcome:
        values = {k: v for k, v in rec.items() if not _blank(v)}
        problems = self._check(values, read, where)
        outcome.problems += problems
        if any(p.severity == "error" for p in problems):
            return outcome
        state = _Row(rec.get("referral_id"), dict(values), read.form_id, new=True)
        state.changes = {**values, **self._provenance(read)}
        self.index.remember(state)
        self.rows.append(state)
        self._remember(read, state, fingerprints({k: v for k, v in rec.items() if k not in _NOT_FROM_FORM}))
        outcome.outcome, outcome.referral_id = "added", state.referral_id
        outcome.changed = [self.by_key[k].label for k in self.order if k in values and k != "referral_id"]
        state.outcomes.append(outcome)
        return outcome

    def _coordinator_changed_mosaic(self, form_id: str, state: _Row, rec: Record) -> bool:
        """The form still says what it wrote into this row; the coordinator corrected the Mosaic ID since."""
        last = self.written.last(form_origin(form_id), state.referral_id)
        return last is not None and last.get("mosaic_id") == fingerprint("mosaic_id", rec.get("mosaic_id"))

    def _form_id(self, read: FormRead) -> str | None:
        """The Form ID that identifies this form (not one shared by copies in this batch)."""
        return None if read.form_id in self.shared_ids else read.form_id

    def _last_version(self, read: FormRead, state: _Row) -> dict[str, str] | None:
        """What this form last wrote into this row, else what it was pre-filled with from it; None: neither."""
        form_id = self._form_id(read)
        if form_id and state.referral_id:
            last = self.written.last(form_origin(form_id), state.referral_id)
            if last is not None:
                return last
        if (
            read.prefill is not None
            and state.referral_id
            and identity.referral_key(read.prefill_referral) == identity.referral_key(state.referral_id)
        ):
            return dict(read.prefill)
        return None

    def _remember(self, read: FormRead, state: _Row, fps: dict[str, str]) -> None:
        form_id = self._form_id(read)
        if form_id:
            self.to_remember.append((form_id, state, fps))

    def stage_written(self) -> None:
        """Remember what each form wrote (after the upsert named the new rows), for the same save."""
        for form_id, state, fps in self.to_remember:
            if state.referral_id:
                self.written.put(form_origin(form_id), state.referral_id, fps)
        self.written.stage(self.t)

    def _update(
        self, state: _Row, rec: Record, read: FormRead, outcome: FormOutcome, where: dict[str, str]
    ) -> FormOutcome:
        outcome.referral_id = state.referral_id
        incoming = {k: v for k, v in rec.items() if k not in _NOT_FROM_FORM}
        got = merge(
            incoming,
            state.record,
            self._last_version(read, state),
            prefer_incoming=self.prefer_form,
            never_cleared=("mosaic_id",),
        )
        mosaic = self.by_key["mosaic_id"]
        if ("mosaic_id" in got.take or "mosaic_id" in got.conflicts) and identity.different_person(
            state.record.get("mosaic_id"), rec.get("mosaic_id")
        ):
            outcome.problems.append(
                Problem(
                    rule=identity.RULE,
                    message=identity.refusal(state.referral_id),
                    field=mosaic.label,
                    cell=read.cells.get("mosaic_id", ""),
                    **where,
                )
            )
            return outcome
        changed = [k for k in self.order if k in got.take]
        merged = {**state.record, **got.take}
        problems = self._check(merged, read, where)
        problems += [self._conflict(key, state, rec, read, where) for key in got.conflicts]
        outcome.problems += problems
        if any(p.severity == "error" for p in problems):
            return outcome
        self._remember(read, state, got.remember)
        if not changed:
            outcome.outcome = "unchanged"
            return outcome
        state.record = merged
        state.changes.update({k: got.take[k] for k in changed})
        state.changes.update(self._provenance(read))
        state.form_id = read.form_id or state.form_id
        self.index.remember(state)
        if state not in self.rows:
            self.rows.append(state)
        # a second form for a row this batch adds: together they still add one row
        outcome.outcome = "added" if state.new else "updated"
        outcome.changed = [self.by_key[k].label for k in changed]
        state.outcomes.append(outcome)
        return outcome

    def _conflict(self, key: str, state: _Row, rec: Record, read: FormRead, where: dict[str, str]) -> Problem:
        """One line: the form, the cell, the field, both values (never a sensitive field's), and the way out."""
        f = self.by_key[key]
        ours = shown_value(_show(state.record.get(key)), f.sensitive)
        theirs = shown_value(_show(rec.get(key)), f.sensitive)
        values = f" (form {theirs!r}, tracker {ours!r})" if ours or theirs else ""
        return Problem(
            rule="conflict",
            message=f"the form and the tracker differ{values} and the tracker's value did not come from this "
            "form; the tracker keeps it. To take the form's, ingest the form again with --prefer-form",
            field=f.label,
            cell=read.cells.get(key, ""),
            severity="warning",
            **where,
        )

    def _provenance(self, read: FormRead) -> dict[str, Any]:
        out: dict[str, Any] = {"source": f"form: {read.path.name}"}
        if read.form_id:
            out["form_id"] = read.form_id
        return out

    def preview_ids(self) -> list[str]:
        """In a dry run, the Referral IDs the new rows would get (the save hands out the same)."""
        ids = self.t.referral_ids()  # a copy: planning uses nothing up
        out: list[str] = []
        for state in self.rows:
            if not state.new:
                continue
            if state.referral_id:
                ids.note(state.referral_id)
                out.append(state.referral_id)
            else:
                out.append(ids.take(state.record.get("date_received")))
        return out

    def name_new_rows(self, ids: list[str]) -> None:
        """Give the new rows' outcomes the Referral IDs they were (or would be) given, in order."""
        new_rows = [s for s in self.rows if s.new]
        for state, rid in zip(new_rows, ids, strict=True):
            state.referral_id = rid
            for outcome in state.outcomes:
                outcome.referral_id = rid


def _blank(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str) and not value.strip())


def _show(value: Any) -> Any:
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if value is True:
        return "ticked"
    return value


def _archive(outcomes: list[FormOutcome], folder: Path, password: str | None = None) -> None:
    """Move every form that went in (added, updated or unchanged) into ``folder`` (encrypted, with a password)."""
    for outcome in outcomes:
        if outcome.outcome == "rejected":
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / outcome.path.name
            n = 2
            while target.exists():
                target = folder / f"{outcome.path.stem} ({n}){outcome.path.suffix}"
                n += 1
            _move(outcome.path, target, password)
            outcome.archived_to = target
        except OSError as e:
            outcome.problems.append(
                Problem(
                    file=str(outcome.path),
                    rule="not-archived",
                    message=f"went into the tracker but could not be moved to {folder} ({e.strerror or e})",
                    severity="warning",
                )
            )


def _move(src: Path, target: Path, password: str | None = None) -> None:
    """``src`` copied into ``target`` (encrypted, with a password) through the one atomic write, then
    ``src`` removed. The archive may be on another file system, where a move is a copy: a copy
    written in place and cut short (a full disk, a crash) would leave a torn form in the archive;
    this way the form is whole in one place or the other (both, at worst), never lost."""
    from cstracker.xlsx.safety import atomic_write

    if password is None:
        atomic_write(target, lambda tmp: shutil.copy2(src, tmp), check_parts=None, keep_backups=0)
    else:
        from cstracker.xlsx import encryption

        sealed = encryption.encrypt_bytes(src.read_bytes(), password)
        atomic_write(target, lambda tmp: tmp.write_bytes(sealed), check_parts=None, keep_backups=0)
    src.unlink()
