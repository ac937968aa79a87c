"""The tracker API every command uses: open, read, upsert, save.

Reading uses fastexcel (the Rust calamine reader) on the Referrals sheet, with
columns found by their heading. Writing never goes through a spreadsheet
library: ``save`` streams a patch of the Referrals sheet part and its Table
part and raw-copies every other part of the package (``xlsxpatch.py``),
through the atomic, backed-up, locked save of ``safety.py``.

The class is put together from one module per job, each a mixin on ``state.TrackerState``:
``reader.py`` (reading), ``rowindex.py`` (the row index), ``staging.py`` (staging edits) and
``saving.py`` (saving). New tracker files are made by ``newfile.init_tracker``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from cstracker.tracker.layout import read_layout
from cstracker.tracker.reader import TrackerReading
from cstracker.tracker.rowindex import TrackerIndex
from cstracker.tracker.saving import TrackerSaving
from cstracker.tracker.staging import TrackerStaging
from cstracker.xlsx import safety


class Tracker(TrackerSaving, TrackerStaging, TrackerIndex, TrackerReading):
    """An open tracker. ``open`` reads; ``open_for_update`` also locks and allows ``upsert``/``save``.

    Reading rows (``rows``, ``records``, ``dataframe``) loads the sheet with fastexcel. Adding or
    updating rows needs much less (the IDs in use, the last row used and the rows being updated),
    so when nothing has been read yet ``upsert`` streams the sheet XML for just that
    (``sheetscan.py``) instead of holding every cell of a large tracker in memory.
    """

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, far_cells_later: bool = False) -> Tracker:
        """Read-only. ``far_cells_later``: the caller's own first pass over the Referrals sheet checks
        it for far cells before any reader sees it (``Layout.referrals_far_cells``)."""
        path = Path(path)
        return cls(path, read_layout(path, far_cells_later=far_cells_later))

    @classmethod
    @contextmanager
    def open_for_update(cls, path: str | Path, force: bool = False) -> Iterator[Tracker]:
        given = Path(path)
        # Two names for one file (a symlink) must share one lock and one owner-file check, and a
        # save must replace the real file, not the link: work on the real file.
        path = safety.real_path(given)
        with safety.tracker_lock(path):
            safety.check_not_open_elsewhere(path, force, also=given)
            t = cls(path, read_layout(path), writable=True)
            t._plan_start_date()
            yield t

    def _plan_start_date(self) -> None:
        """A tracker made before the tracker_start setting gets it (its creation date) when next saved."""
        if self.layout.settings.tracker_start is not None:
            return
        start = self.layout.created() or dt.date.today()
        self.layout.settings = replace(self.layout.settings, tracker_start=start)
        self._needs_start = True
