"""Whether a process lives, and which process a pid is: the tests behind every "its
engine (or worker) was killed" decision. Standard library only: stage scripts import
it through ``live``."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True if a process ``pid`` exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None where
    that cannot be read. A pid and its start time name one process: pids are reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields[19].decode() if len(fields) > 19 else None
