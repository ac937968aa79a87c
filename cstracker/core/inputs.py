"""Every file cstracker reads is a regular file of a sane size, checked before it is opened for reading.

A path given to cstracker may be a link to an endless device (/dev/zero), a
named pipe that blocks whoever opens it, a symbolic link loop or a folder. Each
is refused here with one line, instead of hanging, filling memory or raising a
traceback. The file is opened without blocking and checked on the open handle
(``fstat``), so what is checked is what is read, even if the path changes in
between.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from cstracker.core.errors import CstrackerError

MB = 1024 * 1024

#: Size limits per kind of input. A tracker of 100,000 rows is about 15 MB; a config or mapping a few KB.
TRACKER_BYTES = 500 * MB
SOURCE_BYTES = 500 * MB
CONFIG_BYTES = 1 * MB

ErrorType = Callable[[str], CstrackerError]


def _refuse(path: Path, e: OSError, error: ErrorType, what: str) -> CstrackerError:
    if e.errno == errno.ENOENT:
        return error(f"{path}: no such {what if what.endswith('file') else 'file'}")
    if e.errno == errno.ELOOP:
        return error(f"{path}: is a symbolic link that points back to itself (a link loop); fix or remove it")
    if e.errno == errno.EISDIR:
        return error(f"{path}: is a folder, not a file")
    if e.errno in (errno.EACCES, errno.EPERM):
        return error(
            f"{path}: cannot be read (permission denied); ask for access or copy it somewhere you can read"
        )
    return error(f"{path}: cannot be read ({e.strerror or e})")


def check_regular(path: str | Path, max_bytes: int, error: ErrorType, what: str = "file") -> int:
    """The size of ``path`` after checking it is a regular file (links followed) of at most ``max_bytes``."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as e:
        raise _refuse(path, e, error, what) from None
    except ValueError:  # a NUL byte in the name
        raise error(f"{path!r}: is not a usable file name") from None
    return _check_stat(path, st, max_bytes, error, what)


def _check_stat(path: Path, st: os.stat_result, max_bytes: int, error: ErrorType, what: str) -> int:
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise error(
            f"{path}: is not a regular file (a device, pipe or socket); give the path of a saved {what}"
        )
    if st.st_size > max_bytes:
        raise error(
            f"{path}: is {st.st_size / MB:,.0f} MB, more than any {what} cstracker reads "
            f"(at most {max_bytes // MB:,} MB); check it is the right file"
        )
    return st.st_size


def read_regular(path: str | Path, max_bytes: int, error: ErrorType, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; one-line ``error`` for anything else."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise _refuse(path, e, error, what) from None
    except ValueError:
        raise error(f"{path!r}: is not a usable file name") from None
    with os.fdopen(fd, "rb") as fh:
        _check_stat(path, os.fstat(fd), max_bytes, error, what)
        try:
            data = fh.read(max_bytes + 1)
        except OSError as e:
            raise _refuse(path, e, error, what) from None
    if len(data) > max_bytes:  # it grew while we read it
        raise error(f"{path}: is more than {max_bytes // MB:,} MB, more than any {what} cstracker reads")
    return data
