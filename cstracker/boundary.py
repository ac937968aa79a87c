"""The one error boundary of the command line: no traceback ever reaches a coordinator.

Every command runs inside it. A ``CstrackerError`` is already one line (cli.py
prints it). Anything else is sorted here:

* a failure of the file system or the machine (a folder that is not there, no
  permission, a full disk, a symlink loop, not enough memory) is expected: one
  line naming the file, what is wrong and what to do, exit 1;
* anything else is a bug in cstracker: one line saying so, with the path of a
  log file that holds the traceback for whoever fixes it, exit 3.

``install`` also makes printing safe for file names that are not valid UTF-8
(they are shown with backslash escapes instead of crashing the print) and turns
SIGTERM/SIGHUP into the same orderly stop as Ctrl-C, so locks and temporary
files are cleaned up and worker processes are told to go.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

#: exit code of an unexpected failure (a bug); 1 and 2 are the expected ones
BUG_EXIT = 3

_WHAT_TO_DO = {
    errno.ENOENT: "no such file or folder; check the path (create the folder first when writing)",
    errno.ENOTDIR: "part of the path is not a folder; check the path",
    errno.EISDIR: "is a folder, not a file; give a file name",
    errno.EACCES: "permission denied; choose a place you may write to, or ask for access",
    errno.EPERM: "not permitted; choose a place you may write to, or ask for access",
    errno.EROFS: "is on a read-only drive; choose another place",
    errno.ENOSPC: "the disk is full; free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up; free some space and run the command again",
    errno.ELOOP: "is a symbolic link that points back to itself (a link loop); remove or fix the link",
    errno.ENAMETOOLONG: "the file name is too long; use a shorter name",
    errno.EMFILE: "too many files are open; close some programs and run the command again",
    errno.ENXIO: "is a device or pipe with nothing behind it, not a file; give a regular file",
}


def install() -> None:
    """Safe printing of any file name, and SIGTERM/SIGHUP as an orderly stop (like Ctrl-C)."""
    safe_streams()
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            # not the main thread (a test calling main in a thread): leave the signal alone
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, _stop)


def safe_streams() -> None:
    """A file name that is not valid UTF-8 (held as surrogates) prints with backslash escapes."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # a closed or detached stream: nothing to print to anyway
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _stop(signum: int, _frame: object) -> None:
    # KeyboardInterrupt unwinds like Ctrl-C: `with` blocks release the lock and remove temp files
    signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process at once
    raise KeyboardInterrupt


def _os_error(e: BaseException) -> OSError | None:
    """The OSError behind ``e`` (itself, or one a library wrapped, e.g. xlsxwriter's FileCreateError)."""
    seen = 0
    while e is not None and seen < 5:
        if isinstance(e, OSError):
            return e
        inner = next((a for a in getattr(e, "args", ()) if isinstance(a, OSError)), None)
        e = inner or e.__cause__ or e.__context__
        seen += 1
    return None


def describe_failure(e: BaseException) -> tuple[str, int]:
    """(one line, exit code) for an exception that is not a CstrackerError."""
    if isinstance(e, MemoryError):
        return (
            "not enough memory to finish; close other programs, or split the input, and run it again",
            1,
        )
    os_error = _os_error(e)
    if os_error is not None and not isinstance(os_error, (BlockingIOError, ChildProcessError)):
        name = os_error.filename if os_error.filename is not None else ""
        what = _WHAT_TO_DO.get(os_error.errno or -1) or (os_error.strerror or type(os_error).__name__)
        where = f"{os.fsdecode(name)}: " if name != "" else ""
        return f"{where}{what}", 1
    return _bug(e), BUG_EXIT


def log_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cstracker"


def _bug(e: BaseException) -> str:
    """Write the traceback to a log file; the one line that points at it."""
    text = "".join(traceback.format_exception(e))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    header = f"cstracker bug report {stamp}\ncommand: {' '.join(map(os.fsdecode, sys.argv))}\n\n"
    for folder in (log_folder(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"cstracker-bug-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(header + text)
            where = name
            break
        except OSError:
            continue
    else:
        where = "(no log could be written)"
    return (
        f"this is a bug in cstracker (an unexpected {type(e).__name__}), not something you did; "
        f"please report it with the log file {where}"
    )
