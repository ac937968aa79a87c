"""A stand-in form reader for the worker-pool tests, importable by a worker (not a fork of the test)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from cstracker.forms.reader import read_form


def read(path, lists, limits):
    name = Path(path).name
    if name == "crash.xlsx":
        os._exit(3)  # what a reader aborting in native code looks like
    if name == "slow.xlsx":
        time.sleep(30)
    if name == "hog.xlsx":
        return bytearray(8 * 1024**3)  # far above the worker's address-space cap
    return read_form(path, lists, limits)
