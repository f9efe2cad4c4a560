"""The one place that starts stage processes.

A command runs through the user's shell in the stage's wdir, with its output
streamed live to ``echo`` (the terminal, or the notebook cell) and the tail kept for
error messages. A KeyboardInterrupt (Ctrl+C, a kernel interrupt) is passed on to
the command's process group, which is then waited for before the interrupt
propagates.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Callable

TAIL_BYTES = 4000

# Process groups of the commands running now, so that a stop (Ctrl+C while several
# experiments run in threads, `queue stop --kill`) can reach every one of them.
_active: set[int] = set()
_active_lock = threading.Lock()


def interrupt_all(sig: int = signal.SIGINT) -> int:
    """Send ``sig`` to every running command's process group; return how many."""
    with _active_lock:
        groups = list(_active)
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
    return len(groups)


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    tail: str


def _default_echo(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_command(
    cmd: str,
    cwd: str | os.PathLike,
    env: dict[str, str],
    echo: Callable[[str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> CommandResult:
    """Run one shell command to completion, streaming its output.

    ``on_start`` gets the command's process group id (= its pid) once it runs.
    """
    echo = echo or _default_echo
    proc = subprocess.Popen(
        cmd,
        shell=True,
        executable=os.environ.get("SHELL") or "/bin/sh",
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tail: collections.deque[bytes] = collections.deque()
    tail_size = 0
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    with _active_lock:
        _active.add(proc.pid)
    if on_start is not None:
        on_start(proc.pid)
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            echo(chunk.decode(errors="replace"))
            tail.append(chunk)
            tail_size += len(chunk)
            while tail_size > TAIL_BYTES and len(tail) > 1:
                tail_size -= len(tail.popleft())
        returncode = proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        with _active_lock:
            _active.discard(proc.pid)
        proc.stdout.close()
    return CommandResult(returncode, b"".join(tail).decode(errors="replace")[-TAIL_BYTES:])


def _stop(proc: subprocess.Popen) -> None:
    """Interrupt the command's process group, then terminate, then kill."""
    for sig, grace in ((signal.SIGINT, 5.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait()
