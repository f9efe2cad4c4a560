"""Named points at which the fault-injection tests kill a process.

With ``JUPYTER_EXP_KILL_AT=<point>`` (or ``<point>#<n>`` for its n-th arrival) in the
environment, the process SIGKILLs itself when it reaches that point: nothing runs after
it, no ``finally``, no atexit, as when the machine loses power. tests/test_faults.py
kills every command at every point listed in ``POINTS`` and checks that nothing is
lost. Unset (always, outside those tests), a point costs one comparison.
"""

from __future__ import annotations

import os
import signal

# Each point sits between two writes whose order the recovery depends on.
POINTS = {
    "cache.linked": "an object linked to a temporary name in the cache, before its rename",
    "run.reproduced": "exp run: stages ran, lock written, nothing recorded in git yet",
    "record.committed": "the experiment commit exists, its ref is not written",
    "record.ref-written": "the experiment ref is written, the command has not returned",
    "queue.committed": "exp run --queue: the snapshot commit exists, no record or ref yet",
    "queue.ref-written": "exp run --queue: the entry's ref is written, its record is not",
    "queue.claimed": "a worker marked the entry running, nothing reproduced yet",
    "queue.recorded": "a worker recorded the experiment, the entry still says running",
    "checkpoint.committed": "a step's commit exists, the ref still names the previous step",
    "checkpoint.ref-written": "a step's ref is written, its progress not yet published",
    "apply.saved": "exp apply: workspace and index saved (their saved-workspace ref written), nothing written",
    "apply.files-written": "exp apply: the experiment's files written and staged, the index not restored",
    "apply.index-restored": "exp apply: files written, index restored, cached outputs not checked out",
}


def _target(value: str | None) -> tuple[str, int] | None:
    """``point[#n]`` from the environment; a count that is not a number counts as 1."""
    if not value:
        return None
    name, _, nth = value.partition("#")
    return name, int(nth) if nth.isdigit() else 1


_TARGET = _target(os.environ.get("JUPYTER_EXP_KILL_AT"))
_arrivals: dict[str, int] = {}


def point(name: str) -> None:
    """Die here if the environment asks for it (see the module docstring)."""
    if _TARGET is None or name != _TARGET[0]:
        return
    _arrivals[name] = _arrivals.get(name, 0) + 1
    if _arrivals[name] == _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
