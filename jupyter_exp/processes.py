"""Whether a process lives, which process a pid is, and how a process group is
stopped: the tests behind every "its engine (or worker) was killed" decision, and the
one escalation (SIGINT, SIGTERM, SIGKILL) every kill path uses. Standard library only:
stage scripts import it through ``live``."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass


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


# -- stopping a process group -----------------------------------------------------------
ESCALATION = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)


def grace_seconds() -> float:
    """How long each signal gets before the next, stronger one (3 s; tests set
    ``JUPYTER_EXP_KILL_GRACE`` to be quick)."""
    try:
        return max(0.0, float(os.environ.get("JUPYTER_EXP_KILL_GRACE", "3")))
    except ValueError:
        return 3.0


@dataclass(frozen=True)
class Stopped:
    """What stopping a process group did."""

    signal: str | None  # the signal it ended with; None: nothing was signalled
    seconds: float
    gone: bool  # no process of the group is left
    reason: str = ""  # why nothing was signalled

    def describe(self) -> str:
        if self.signal is None:
            return self.reason or "was not running"
        if not self.gone:
            return f"is still running {self.seconds:.1f} s after SIGKILL"
        return f"stopped with {self.signal} after {self.seconds:.1f} s"


def _members(pgid: int) -> list[int] | None:
    """Pids of the live (not zombie) processes of group ``pgid``; None without /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    found = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z":
            found.append(int(name))
    return found


def group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (zombies waiting to be reaped do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    members = _members(pgid)
    return True if members is None else bool(members)


def same_group(pgid: int, started: str | None) -> bool:
    """Whether group ``pgid`` is still the one whose leader started at ``started``.

    A pid (and so a group id) is not reused while any process of its group lives: a
    group whose leader has exited but whose members run on is still the same group.
    """
    if not started or started == "None":
        return False  # never signal a stored id we cannot check
    now = start_time(pgid)
    if now is not None:
        return now == started
    return group_alive(pgid)


def stop_group(
    pgid: int, started: str | None, *, signals: tuple[int, ...] = ESCALATION, grace: float | None = None
) -> Stopped:
    """Stop process group ``pgid``, escalating through ``signals`` (SIGINT, SIGTERM,
    SIGKILL): each gets ``grace`` seconds (default :func:`grace_seconds`) to end the
    group before the next is sent. ``started`` is the leader's start time recorded
    with the id: a group that is not that one any more (the id reused) is left alone.
    Returns what happened, for the user to be told.
    """
    grace = grace_seconds() if grace is None else grace
    if not group_alive(pgid):
        return Stopped(None, 0.0, True, "had already ended")
    if not same_group(pgid, started):
        return Stopped(None, 0.0, True, "had already ended (its process id now names another program)")
    began = time.monotonic()
    sent = None
    for index, sig in enumerate(signals):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        except PermissionError:
            return Stopped(sent, time.monotonic() - began, False, "may not be signalled by this user")
        sent = signal.Signals(sig).name
        last = index == len(signals) - 1
        deadline = time.monotonic() + (max(grace, 5.0) if last else grace)
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not group_alive(pgid):
            break
    return Stopped(sent, time.monotonic() - began, not group_alive(pgid))
