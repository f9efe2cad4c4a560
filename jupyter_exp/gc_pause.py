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
                if gc.get_count()[0] > BIG_PAUSE:
                    _promote()
                gc.enable()


BIG_PAUSE = 100_000  # objects made during a pause past which they are promoted unscanned


def _promote() -> None:
    """Move every object the collector tracks to its oldest generation without walking
    them: the young generation would otherwise hold the build's hundreds of thousands of
    objects, and its next collection (the next allocation) walked them all, to find
    them alive (half a second for 10,000 rows). Not where the host froze objects (the
    server, see ``server/session.py``): unfreezing would undo that, freezing again
    would keep whatever else lives now from ever being collected."""
    if not gc.get_freeze_count():
        gc.freeze()
        gc.unfreeze()
