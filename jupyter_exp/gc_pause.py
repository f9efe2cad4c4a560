"""Pausing Python's cyclic garbage collector while a big table is built.

Building the rows of 10,000 experiments makes hundreds of thousands of small objects
that live for the whole build. The collector runs every few hundred allocations,
finds them alive, promotes them, and every so often walks the whole heap (the
process's other 10,000 rows included): a build took three times as long, most of it
in collections that free nothing. Reference counting still frees what the build
drops; cycles wait until the pause ends. Threads share the collector: it resumes
when the last pause ends, and never if it was off before the first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (see the module's docstring)."""
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
