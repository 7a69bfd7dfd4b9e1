"""Helpers for the bulk paths (features, scoring): a million rows of Python objects at a time."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while bulk code builds millions of short-lived tuples and lists.

    Each batch of new container objects triggers a collection, and the older generations get re-walked while
    a million of them are alive: building the contributions of 210,000 entities took 1.8 s with it running and
    0.6 s without. Reference counting still frees everything; only cycles wait until the collector resumes.
    Nested and concurrent uses are counted: the collector resumes when the last one ends (if it was on).
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
