"""Helpers the test modules share: what a repository holds (experiment refs, chains,
queue states), waiting on a condition, and the processes running on this machine
(read from /proc: no pgrep or psutil). Fixtures are conftest.py's."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from conftest import git

from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.project import Project

T = TypeVar("T")


# -- what the repository holds ------------------------------------------------------------
def exp_refs(root: Path, full: bool = False) -> dict[str, str]:
    """Every experiment ref's commit, by experiment name (``full``: by full ref name)."""
    field = "refname" if full else "refname:lstrip=4"
    out = git(root, "for-each-ref", f"--format=%({field}) %(objectname)", "refs/exps")
    return dict(line.split() for line in out.splitlines())


def exp_chain(root: Path, name: str) -> list[str]:
    """Experiment ``name``'s commits on HEAD, back to (not including) HEAD, newest first."""
    head = git(root, "rev-parse", "HEAD").strip()
    tip = git(root, "rev-parse", f"refs/exps/{head[:2]}/{head[2:]}/{name}").strip()
    return git(root, "rev-list", "--first-parent", tip, f"^{head}").split()


def queue_states(root: Path) -> dict[str, str]:
    """Each queue entry's state, by experiment name."""
    return {e.name: e.state for e in QueueStore(Project(root)).entries()}


def statuses(results) -> dict[str, str]:
    """What a reproduction did to each stage, by stage."""
    return {r.stage: r.status for r in results}


# -- waiting ------------------------------------------------------------------------------
def wait_for(condition: Callable[[], T], what: str = "condition", timeout: float = 30.0, poll: float = 0.02) -> T:
    """``condition()``'s first true value, polled until ``timeout`` seconds; a test
    waits on what it needs instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


# -- processes ----------------------------------------------------------------------------
def _processes() -> Iterator[tuple[int, list[bytes], Path | None]]:
    """``(pid, argv, working directory or None)`` of every process we may read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        try:
            cwd: Path | None = Path(os.readlink(entry / "cwd"))
        except OSError:
            cwd = None
        yield int(entry.name), argv, cwd


def pids(*, running: str | None = None, inside: Path | None = None, argv: list[str] | None = None) -> list[int]:
    """Pids of the processes (not this one, nor pytest) whose command line contains the
    text ``running``, that work ``inside`` a directory, and whose argv holds every
    word of ``argv``."""
    found = []
    for pid, words, cwd in _processes():
        line = b" ".join(words).decode(errors="replace")
        if pid == os.getpid() or "pytest" in line:
            continue
        if running is not None and running not in line:
            continue
        if inside is not None and (cwd is None or not cwd.is_relative_to(inside)):
            continue
        if argv is not None and not all(word.encode() in words for word in argv):
            continue
        found.append(pid)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in "ZX"
    except (FileNotFoundError, IndexError):
        return False


def group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
