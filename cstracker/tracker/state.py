"""The state every part of an open tracker shares: its file, layout, and what was read or staged.

``Tracker`` (``tracker.py``) is this state with one mixin per job on it: reading the sheet
(``reader.py``), the row index (``rowindex.py``), staging edits (``staging.py``) and
saving (``saving.py``). Each mixin only imports this module, so imports go one way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cstracker.core import identity
from cstracker.core.config import Settings
from cstracker.core.schema import CodeLists, Field, Kind
from cstracker.tracker.layout import Layout


class TrackerState:
    """What an open tracker holds; the methods that use it are the mixins' (``Tracker``)."""

    def __init__(self, path: Path, layout: Layout, writable: bool = False):
        self.path = path
        self.layout = layout
        self.writable = writable
        self._keys = tuple(f.key for f in layout.fields)
        self._pos = {k: i for i, k in enumerate(self._keys)}
        self._blank = tuple(False if f.kind is Kind.FLAG else None for f in layout.fields)
        self._checks: list | None = None
        #: a tracker made before the tracker_start setting: it and the new formulas go in at the next save
        self._needs_start = False
        #: open list key -> codes added in this session (written to the Lists sheet by save)
        self._added_codes: dict[str, list[str]] = {}
        self._lists_on_file: CodeLists | None = None
        #: one line per thing a save did besides the rows (said to the user by the command)
        self.notes: list[str] = []
        #: True / False: the next save writes the tracker encrypted / plain (``encrypt``/``decrypt``);
        #: None: as it is now
        self.seal: bool | None = None
        self._forget()

    def _forget(self) -> None:
        """Drop everything read or staged (after a save the file itself holds it)."""
        self._frame: Any = None
        #: the non-blank rows of the file (valid once _rows_read)
        self._numbers: list[int] = []
        self._rows_read = False
        self._indexed = False
        self._file_empty = False
        #: the one index of "the same referral" (``identity.SameReferral``): sheet row numbers by
        #: Referral ID; also by Form ID and Mosaic ID + date received once ``row_index`` read those
        self._same: identity.SameReferral[int] = identity.SameReferral()
        #: whether ``_same`` has every key (``_keyed``), not only Referral IDs
        self._all_keys = False
        #: the stored values of the row index's key columns (column -> {row: value}), when scanned
        self._key_values: dict[int, dict[int, Any]] | None = None
        #: the Referral IDs issued, so the next free one (``identity.ReferralIds``)
        self._ids = identity.ReferralIds(self.settings.referral_id_prefix)
        self._last_row = 0
        self._any_rows = False
        #: sheet row -> raw values of rows the scan fetched for updating
        self._fetched: dict[int, dict[str, Any]] = {}
        #: sheet row -> values in field order of rows added in this session
        self._new: dict[int, tuple[Any, ...]] = {}
        #: sheet row -> raw values of existing rows updated in this session
        self._touched: dict[int, dict[str, Any]] = {}
        #: sheet row -> {key: value} to write into existing rows
        self._updates: dict[int, dict[str, Any]] = {}
        #: sheet rows whose referral is removed (retention): every Table cell of the row cleared
        self._removed: set[int] = set()
        #: settings to change at the next save (``settings_store.py``)
        self._settings: dict[str, str | int | None] = {}
        #: the tool's own hidden sheets to write whole at the next save (``ownsheets.py``)
        self._sheets: dict[str, list[list[Any]]] = {}

    @property
    def settings(self) -> Settings:
        return self.layout.settings

    @property
    def lists(self) -> CodeLists:
        return self.layout.lists

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.layout.fields
