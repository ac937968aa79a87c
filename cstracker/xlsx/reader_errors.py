"""What the spreadsheet-reading libraries raise for a file they cannot read, and nothing more.

Why two libraries over one Rust engine (calamine): fastexcel hands a sheet over as Arrow columns
with their types (the whole-tracker read, ``Tracker.dataframe``, and its slices: vectorised, no
Python object per cell); python-calamine hands over the cell grid as Python values as stored (the
small sheets, a legacy source read row by row, validate's per-cell readings). A file one of them
reads, the other reads the same way.

python-calamine and fastexcel (Rust) raise their own exception classes for a damaged or odd
workbook (CalamineError, FastExcelError and their subclasses); pyarrow raises ArrowException
for columns it cannot build. A ``try`` around a read catches these tuples, never ``Exception``:
an error inside cstracker's own code (TypeError, AttributeError, KeyError ...) is a bug and
must reach the error boundary (boundary.py: exit 3 and a log), not be told to a coordinator as
"the sheet cannot be read". The libraries are imported only when an error is being matched
(``except calamine_errors():`` evaluates the call then), so start-up stays light.
"""

from __future__ import annotations

import zipfile

#: what the standard library raises for a file that is cut short or holds a value out of range (a date
#: before year 1). Not OSError: a full disk or a permission is the machine's problem, and the error
#: boundary says so with the file's name (exit 1), rather than "the sheet cannot be read".
_FILE_ERRORS: tuple[type[BaseException], ...] = (EOFError, zipfile.BadZipFile, ValueError, OverflowError)
_FILE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    ValueError,
    OverflowError,
)


def calamine_errors() -> tuple[type[BaseException], ...]:
    """python-calamine's errors for a file it cannot read, with the file-level ones."""
    import python_calamine

    return (python_calamine.CalamineError, *_FILE_ERRORS)


def fastexcel_errors() -> tuple[type[BaseException], ...]:
    """fastexcel's (and the Arrow tables it builds) errors for a sheet it cannot read, with calamine's."""
    import fastexcel
    import pyarrow

    return (fastexcel.FastExcelError, pyarrow.ArrowException, *calamine_errors())
