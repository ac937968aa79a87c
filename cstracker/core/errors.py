"""The one exception tree of cstracker.

Library code raises these; the CLI turns each into one clear line and an exit
code. Every message is written for a coordinator: which file, which sheet, cell
or row, what is wrong and what is allowed.
"""

from __future__ import annotations


class CstrackerError(Exception):
    """Base of every error cstracker raises on purpose."""

    exit_code = 1


class ConfigError(CstrackerError):
    """A local configuration file is unreadable or has a bad key or value."""

    exit_code = 2


class TrackerError(CstrackerError):
    """The tracker workbook cannot be opened, read or written."""


class TrackerLayoutError(TrackerError):
    """The tracker's own columns or sheets were renamed or deleted by hand."""


class TrackerBusyError(TrackerError):
    """Another cstracker command is writing the tracker (lock held)."""


class TrackerOpenElsewhereError(TrackerError):
    """The tracker is open in Excel or LibreOffice (an owner file exists)."""


class SaveError(TrackerError):
    """A save did not complete; the previous tracker is untouched."""


class FormError(CstrackerError):
    """A consultation form cannot be read or is not valid."""


class SourceError(CstrackerError):
    """An import source file cannot be read."""


class UsageError(CstrackerError):
    """The command was used wrongly (bad option combination or value)."""

    exit_code = 2


class OutputError(CstrackerError):
    """An output file (report, rejects, form) may not or cannot be written where asked."""


class ReportError(CstrackerError):
    """A trend report cannot be made or written."""


class ExportError(CstrackerError):
    """An extract cannot be written."""


#: what to do about a tracker a reader library cannot read (the end of its one line)
REPAIR = (
    "open it in Excel or LibreOffice and save it again, or restore it from its backups folder "
    "(the newest backup is the last good copy)"
)
