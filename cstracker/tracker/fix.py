"""``cstracker validate --fix``: rewrite what is readable but not canonical, in place.

Every cell whose reading (``reading.py``) is readable but not in the tracker's
own form is rewritten to that form (``F`` -> ``Female``, ``x`` -> ``Yes``, ``No``
-> blank, a date typed as text -> a real date), a value new to an open list is
added to the Lists sheet, and rows typed below the Table are brought into it
with their Status and Follow-up due formulas. Nothing else changes: no Last
updated stamp (a tidy-up is not an edit of the referral), no cell that is
unreadable or a formula (other than a typed ``=TRUE()``), and every part of the
package outside the Referrals sheet, its Table, the Lists sheet and
workbook.xml's defined names is copied byte for byte. Writes go through the
lock, the owner-file check, a backup and an atomic replace (``safety.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstracker.core import derived
from cstracker.core.convert import looks_like_formula
from cstracker.core.errors import TrackerLayoutError
from cstracker.core.reading import State, canonical_cell, described, shown
from cstracker.tracker.create import SHEET_REFERRALS
from cstracker.tracker.lists_sheet import grow_lists
from cstracker.tracker.validate import read_rows
from cstracker.xlsx.patch import Cell, SheetPatcher, patch_table


@dataclass
class Change:
    where: str  # "Referrals!F12"
    what: str  # the column, or what happened to the row
    before: str = ""
    after: str = ""

    def line(self) -> str:
        if self.before or self.after:
            return f"{self.where}: {self.what}: {self.before} -> {self.after}"
        return f"{self.where}: {self.what}"


@dataclass
class FixResult:
    path: Path
    changes: list[Change] = field(default_factory=list)
    cells: int = 0
    rows_moved: int = 0
    list_values: int = 0
    written: bool = False
    backup: Path | None = None


def fix_tracker(
    path: str | Path, dry_run: bool = False, today: dt.date | None = None, force: bool = False
) -> FixResult:
    """Rewrite every readable-but-not-canonical cell of the tracker at ``path`` (nothing when ``dry_run``)."""
    from cstracker.tracker.tracker import Tracker

    path = Path(path)
    result = FixResult(path)
    with Tracker.open_for_update(path, force=force) as t:
        lay = t.layout
        lists = t.lists
        fields = lay.fields_by_key
        qp = lay.quote_prefix_style
        updates: dict[int, dict[int, Cell]] = {}
        new_values: dict[str, list[str]] = {}
        rows = read_rows(t)
        for row in rows:
            for key, reading in row.readings.items():
                if not reading.fixable:
                    continue
                f = fields[key]
                stored = canonical_cell(f, reading.value, lists, lay.date1904)
                raw = row.raw.get(key)
                if reading.state is State.NEW:
                    new_values.setdefault(f.code_list or "", []).append(stored)
                    if stored == raw:  # already as it will be on the list: only the list grows
                        continue
                if stored is None:
                    cell = Cell("")
                elif isinstance(stored, str):
                    cell = Cell("s", stored, style=qp if looks_like_formula(stored) else None)
                else:
                    cell = Cell("n", stored, column_style_first=True)
                updates.setdefault(row.row, {})[lay.columns[key]] = cell
                before = "a number" if f.sensitive else repr(shown(raw))
                result.changes.append(
                    Change(
                        f"{SHEET_REFERRALS}!{row.cells[key]}",
                        f.label,
                        before,
                        described(f, reading.value, lists),
                    )
                )
                result.cells += 1
        outside = [r for r in rows if r.outside]
        for row in outside:
            record = row.record
            computed = derived.computed_values(record, t.settings.follow_up_days, today)
            for key, make in derived.FORMULAS.items():
                value = computed[key]
                cached: Any = (
                    canonical_cell(fields[key], value, lists, lay.date1904)
                    if isinstance(value, dt.date)
                    else value
                )
                updates.setdefault(row.row, {})[lay.columns[key]] = Cell("f", cached or "", make())
            result.changes.append(
                Change(
                    f"{SHEET_REFERRALS} row {row.row}",
                    "brought into the Referrals table (with its Status and Follow-up due formulas)",
                )
            )
            result.rows_moved += 1
        unique = {k: list(dict.fromkeys(v)) for k, v in new_values.items()}
        growth = grow_lists(path, lay, unique)
        for where, key, code in growth.added:
            label = next((f.label for f in lay.fields if f.code_list == key), key)
            result.changes.append(Change(where, f"{label} list: added {code!r}"))
            result.list_values += 1
        if dry_run or not (updates or growth.patches):
            return result
        last = max(r.row for r in outside) if outside else None
        patches = dict(growth.patches)
        if last is not None and lay.totals_row:
            raise TrackerLayoutError(
                f"{path}: sheet {SHEET_REFERRALS}: the Table has a Total Row; turn it off "
                "(Table Design > Total Row) so the rows below it can be brought in"
            )
        # The Referrals sheet: SheetPatcher rewrites only the updated rows, cell by cell.
        patches[lay.sheet_part] = SheetPatcher(updates, qp)
        if last is not None:
            patches[lay.table_part] = lambda src, dst: dst.write(patch_table(src.read(), last))
        from cstracker.tracker.audit import AuditEntry, stage

        fixed = [str(r.raw.get("referral_id")) for r in rows if r.row in updates and r.raw.get("referral_id")]
        stage(t, AuditEntry("validate --fix", updated=fixed))
        added = t.own_sheet_patches(patches)
        checked = tuple(p for p in patches if p != lay.sheet_part) + tuple(added)
        # through the tracker's one package write: an encrypted tracker stays encrypted
        result.backup = t.write_package(patches, checked, add=added)
        result.written = True
    return result
