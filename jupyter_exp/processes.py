"""Whether a process lives: the one test behind every "its engine (or worker) was
killed" decision. Standard library only: stage scripts import it through ``live``."""

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
