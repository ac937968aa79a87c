"""A form reader with a bug in it, for tests: module level, so a worker process can import it by name."""

from __future__ import annotations


def buggy_reader(path, lists, limits):
    raise AttributeError("synthetic bug in a worker")
