"""Saving an open tracker: the staged edits as one patch of the package, through the one atomic write."""

from __future__ import annotations

import io
import xml.parsers.expat
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from cstracker.core import derived
from cstracker.core.errors import SaveError, TrackerError, TrackerLayoutError
from cstracker.tracker import ownsheets
from cstracker.tracker.create import SHEET_REFERRALS
from cstracker.tracker.layout import read_layout
from cstracker.tracker.newrows import NewRows, excel_serial
from cstracker.tracker.ownparts import patch_table_formulas
from cstracker.tracker.state import TrackerState
from cstracker.xlsx import encryption, safety
from cstracker.xlsx.patch import Cell, SheetPatcher, patch_table, rewrite_package


class TrackerSaving(TrackerState):
    """``save`` and ``write_package``: only the parts that change are rewritten, the rest raw-copied."""

    def _atomic_write(self, write: Any, **kwargs: Any) -> Path | None:
        """safety.atomic_write; a damaged workbook found while rewriting it is one SaveError (file untouched)."""
        try:
            return safety.atomic_write(self.path, write, **kwargs)
        except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, xml.parsers.expat.ExpatError) as e:
            raise _save_failed(self.path, e) from None

    def save(self, backup_label: str = "") -> Path | None:
        """Write the staged rows: atomic, backed up, only the Referrals sheet and Table parts change.

        Removed rows, changed settings and the tool's hidden sheets go into the same save (the
        settings sheet and, for a setting the tracker did not have yet, workbook.xml's defined
        names; a hidden sheet's part and, for a sheet not there yet, the workbook's sheet list).
        So do new codes of open lists (the Lists sheet and the list's defined name) and, for a
        tracker made before the tracker_start setting, the setting and the new formulas.
        """
        if not self.writable:
            raise TrackerError(f"{self.path}: opened read-only; use Tracker.open_for_update to write")
        if not (
            self._updates or self._new or self._removed or self._settings or self._sheets or self._added_codes
        ):
            return None
        lay = self.layout
        c1, r1, c2, r2 = lay.table_ref
        last = r2
        patches: dict[str, Any] = {}
        if self._needs_start:
            self._stage_new_formulas(today=None)
            # the setting itself: a date serial the formulas compare with (settings_store adds the
            # row and its defined name cs_tracker_start)
            self._settings["tracker_start"] = excel_serial(self.settings.tracker_start)
        if self._updates or self._new or self._removed:
            if lay.totals_row:
                raise TrackerLayoutError(
                    f"{self.path}: sheet {SHEET_REFERRALS}: the Table has a Total Row; turn it off "
                    "(Table Design > Total Row) so rows can be added below the last one"
                )
            new_rows = NewRows(self._new, lay, self.lists.codes("tick")[0])
            fields = lay.fields_by_key
            updates = {
                number: {lay.columns[k]: new_rows.cell(fields[k], v) for k, v in values.items()}
                for number, values in self._updates.items()
            }
            for number in self._removed:
                updates[number] = {col: Cell("") for col in range(c1, c2 + 1)}
            if self._needs_start:
                # every row's own formula elements are replaced (not kept, as an update keeps them)
                for cells in updates.values():
                    for col, cell in cells.items():
                        if cell.kind == "f":
                            cells[col] = replace(cell, replace_formula=True)
            last = max([*updates, *self._new, r2])
            patches[lay.sheet_part] = SheetPatcher(
                updates, lay.quote_prefix_style, new_rows if self._new else None
            )
            steps = [lambda xml: patch_table(xml, last)]
            if self._needs_start:
                formulas = {fields[k].label: make() for k, make in derived.FORMULAS.items()}
                steps.append(lambda xml: patch_table_formulas(xml, formulas))
            patches[lay.table_part] = _chain(steps)
        if self._settings:
            from cstracker.tracker.settings_store import settings_patches

            try:
                with encryption.open_zip(encryption.source(self.path)) as zf:
                    patches.update(settings_patches(zf, lay, self._settings))
            except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
                raise TrackerError(f"{self.path}: the settings cannot be updated ({e})") from None
        if self._added_codes:
            from cstracker.tracker.lists_sheet import grow_lists

            # the lists as the file has them: add_codes already grew the ones this session converts with
            before = replace(lay, lists=self._lists_on_file or lay.lists)
            growth = grow_lists(self.path, before, self._added_codes)
            for part, patch in growth.patches.items():
                if part == lay.sheet_part or (part in patches and part != "xl/workbook.xml"):
                    raise TrackerLayoutError(
                        f"{self.path}: the Lists sheet is also another sheet cstracker writes"
                    )
                patches[part] = ownsheets.then(patches[part], patch) if part in patches else patch
        added = self.own_sheet_patches(patches)
        backup = self.write_package(
            patches,
            # The sheet part's new rows are checked as they are written (SheetPatcher); a full parse
            # of a 100,000-row sheet would double the time of a save.
            check_parts=(*(p for p in patches if p != lay.sheet_part), *added),
            add=added,
            backup_label=backup_label,
        )
        if self._settings or added or self._added_codes:
            self.layout = read_layout(self.path, written_by_us=True)
            lay = self.layout
        lay.table_ref = (c1, r1, c2, max(r2, last))
        if self._needs_start:
            self.notes.append(
                f"{self.path.name}: now has a tracker start date ({self.settings.tracker_start:%d/%m/%Y}, "
                f"the day it was made): consultations before it show '{derived.HISTORIC}', with no "
                "follow-up expected."
            )
        self._needs_start = False
        self._added_codes = {}
        self._lists_on_file = None
        # The file now holds every staged row; later reads and upserts start from it.
        self._forget()
        return backup

    def own_sheet_patches(self, patches: dict[str, Any]) -> dict[str, Any]:
        """Merge the staged hidden sheets' patches into ``patches``; the new parts to add (``ownsheets.py``)."""
        if not self._sheets:
            return {}
        try:
            with encryption.open_zip(encryption.source(self.path)) as zf:
                own, added, _ = ownsheets.plan(zf, self.layout.sheet_parts, self._sheets)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
            raise TrackerError(f"{self.path}: the workbook cannot be updated ({e})") from None
        for part, patch in own.items():
            patches[part] = ownsheets.then(patches[part], patch) if part in patches else patch
        return added

    def write_package(
        self,
        patches: dict[str, Any],
        check_parts: tuple[str, ...],
        backup_label: str = "",
        add: dict[str, bytes] | None = None,
    ) -> Path | None:
        """The package with ``patches`` applied, through the one atomic write; encrypted trackers stay so.

        An encrypted tracker's new package is built and checked in memory and only its
        encrypted bytes are written: no plaintext reaches the disk, temporary file included.
        """
        src = encryption.source(self.path)
        sealed_out = isinstance(src, bytes) if self.seal is None else self.seal
        if not isinstance(src, bytes) and not sealed_out:
            return self._atomic_write(
                lambda tmp: rewrite_package(self.path, tmp, patches, add=add),
                check_parts=check_parts,
                keep_backups=self.settings.backups_kept,
                backup_label=backup_label,
            )
        buf = io.BytesIO()
        try:
            rewrite_package(encryption.as_file(src), buf, patches, add=add)
        except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, xml.parsers.expat.ExpatError) as e:
            raise _save_failed(self.path, e) from None
        plain = buf.getvalue()
        encryption.check_zip_bytes(plain, check_parts)
        if not sealed_out:  # decrypt: the plain package, written as any plain save is
            backup = self._atomic_write(
                lambda tmp: tmp.write_bytes(plain),
                check_parts=check_parts,
                keep_backups=self.settings.backups_kept,
                backup_label=backup_label,
            )
            encryption.drop_plain(self.path)
            return backup
        sealed = encryption.encrypt_bytes(plain, encryption.password_for(self.path, new=True))
        backup = self._atomic_write(
            lambda tmp: tmp.write_bytes(sealed),
            keep_backups=self.settings.backups_kept,
            backup_label=backup_label,
            verify=False,
        )
        encryption.keep_plain(self.path, plain)
        return backup


def _save_failed(path: Path, e: BaseException) -> SaveError:
    return SaveError(
        f"{path}: cannot be saved, its workbook is damaged ({e}); nothing was changed. Open it in Excel "
        "or LibreOffice and save it again, or restore it from its backups folder"
    )


def _chain(steps: list) -> Any:
    """One part patch that applies each ``bytes -> bytes`` step in turn."""

    def patch(src, dst) -> None:
        xml = src.read()
        for step in steps:
            xml = step(xml)
        dst.write(xml)

    return patch
