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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..processes import alive, start_time

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


def record_stage(path: Path, pgid: int) -> None:
    """Note that this process runs the stage command of group ``pgid`` (``path`` is
    per project), so that the next engine can stop it if this process dies first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pgid} {os.getpid()} {start_time(pgid)}\n")


def stop_orphaned_stage(path: Path, timeout: float = 5.0) -> bool:
    """Kill the stage command recorded at ``path`` if the engine that ran it is dead.

    A SIGKILLed engine leaves its stage running: a checkpoint stage would go on
    writing outputs beside the next run's stage. Called under the project lock, so a
    live recorded engine is another project's run (or a reused pid) and is left alone.
    The group is killed only if its leader is the very process recorded (same start
    time): a pid reused since by another program is never touched.
    """
    try:
        pgid, engine, started = path.read_text().split()
        pgid, engine = int(pgid), int(engine)
    except (FileNotFoundError, ValueError):
        return False
    if engine != os.getpid() and alive(engine):
        return False
    path.unlink(missing_ok=True)
    if (engine == os.getpid() and pgid in _active) or started == "None" or start_time(pgid) != started:
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    return True


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
    monitor: Callable[[], None] | None = None,
) -> CommandResult:
    """Run one shell command to completion, streaming its output.

    ``on_start`` gets the command's process group id (= its pid) once it runs.
    ``monitor`` is called every few milliseconds from a thread while the command runs
    (checkpoint signals); if it raises, the command is stopped and the error re-raised.
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
    watcher, stop_watch, failures = _watch(proc, monitor)
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
        stop_watch.set()
        if watcher is not None:
            watcher.join()
        with _active_lock:
            _active.discard(proc.pid)
        proc.stdout.close()
    if failures:
        raise failures[0]
    return CommandResult(returncode, b"".join(tail).decode(errors="replace")[-TAIL_BYTES:])


MONITOR_SECONDS = 0.02


def _watch(proc: subprocess.Popen, monitor: Callable[[], None] | None):
    """Start the thread that calls ``monitor`` while ``proc`` runs."""
    stop = threading.Event()
    failures: list[BaseException] = []
    if monitor is None:
        return None, stop, failures

    def loop() -> None:
        while not stop.wait(MONITOR_SECONDS):
            try:
                monitor()
            except BaseException as exc:  # the command cannot go on without its checkpoint
                failures.append(exc)
                _stop(proc)
                return

    thread = threading.Thread(target=loop, name="jupyter-exp-monitor", daemon=True)
    thread.start()
    return thread, stop, failures


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
