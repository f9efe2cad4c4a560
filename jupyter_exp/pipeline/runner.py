"""The one place that starts stage processes.

A command runs through the user's shell in the stage's wdir, with its output
streamed live to ``echo`` (the terminal, or the notebook cell) and the tail kept for
error messages. A KeyboardInterrupt (Ctrl+C, a kernel interrupt) is passed on to
the command's process group, which is then waited for before the interrupt
propagates.

The command is done when its own process exits, not when its output ends: a
background child that keeps the output pipe open (``(sleep 60 &); echo ok``) does
not hold the engine, as it does not hold DVC. And a command never outlives its
engine: a small watchdog process (a shell reading a pipe only the engine holds)
sees the engine die, however it dies (SIGKILL, the OOM killer), and stops the
command's process group.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import JupyterExpError
from ..kernel import in_kernel
from ..processes import alive, group_alive, same_group, start_time, stop_group

TAIL_BYTES = 4000

# Process groups of the commands running now, so that a stop (Ctrl+C while several
# experiments run in threads, `queue stop --kill`) can reach every one of them.
_active: set[int] = set()
_active_lock = threading.Lock()


def interrupt_all() -> int:
    """Stop every running command's process group (SIGINT, then SIGTERM, then SIGKILL,
    as :func:`processes.stop_group` escalates), all at once; return how many."""
    with _active_lock:
        groups = [(pgid, start_time(pgid)) for pgid in _active]
    stoppers = [threading.Thread(target=stop_group, args=group, daemon=True) for group in groups]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join()
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
        group_text, engine_text, started = path.read_text().split()
        pgid, engine = int(group_text), int(engine_text)
    except (FileNotFoundError, ValueError):
        return False
    if engine != os.getpid() and alive(engine):
        return False
    path.unlink(missing_ok=True)
    if engine == os.getpid() and pgid in _active:
        return False
    # An orphan gets no grace: its engine is gone and it may be writing outputs.
    if group_alive(pgid) and not same_group(pgid, started):
        return False  # the id names another program now
    stopped = stop_group(pgid, started, signals=(signal.SIGKILL,), grace=timeout)
    # Until its zombies are reaped too (its watchdog may have stopped it first): the dead
    # engine's watchdog polls the group and ends with it, and the id is not free before.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    return stopped.signal is not None


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    tail: str


def interpreter_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the directory of this process's interpreter on ``PATH``, so that a
    stage's ``python`` is the one the engine (the kernel) runs on.

    A kernel registered from a virtualenv, or ``venv/bin/ipython`` started by path,
    does not have its ``bin/`` first on ``PATH``: its stages would run another
    ``python`` and fail on their imports. In a kernel the
    interpreter's directory goes first, since the user chose that interpreter and
    not ``PATH``; elsewhere (the command line, a script) it is added first only when
    it is not on ``PATH`` at all (an interpreter started by its path): a ``PATH``
    arranged on purpose (an activated venv, pyenv's own ``bin``) stays as DVC would
    run it. Nothing is written into ``dvc.yaml``.
    """
    bindir = os.path.dirname(sys.executable)
    if not bindir:
        return env
    parts = env.get("PATH", os.defpath).split(os.pathsep)
    interactive = in_kernel()
    normalized = [os.path.realpath(p) for p in parts if p]
    if normalized[:1] == [os.path.realpath(bindir)] or (not interactive and os.path.realpath(bindir) in normalized):
        return env
    return dict(env, PATH=os.pathsep.join([bindir, *(p for p in parts if p != bindir)]))


def _default_echo(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_command(
    cmd: str,
    cwd: str | os.PathLike,
    env: dict[str, str],
    echo: Callable[[str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    monitor: Callable[[], object] | None = None,
) -> CommandResult:
    """Run one shell command to completion, streaming its output.

    ``on_start`` gets the command's process group id (= its pid) once it runs.
    ``monitor`` is called every few milliseconds from a thread while the command runs
    (checkpoint signals); if it raises, the command is stopped and the error re-raised.
    """
    echo = echo or _default_echo
    env = interpreter_path(env)
    if not os.path.isdir(cwd):  # a wdir that vanished or is a symlink loop: one line
        raise JupyterExpError(
            f"Cannot run the stage in '{cwd}': it is not a directory (a missing "
            "directory or a symlink loop); fix the stage's wdir."
        )
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
    watchdog = _Watchdog.start(proc.pid)
    tail: collections.deque[bytes] = collections.deque()
    tail_size = 0
    # Output arrives in arbitrary chunks: a multi-byte character may span two.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def emit(chunk: bytes) -> None:
        nonlocal tail_size
        text = decoder.decode(chunk)
        if text:
            echo(text)
        tail.append(chunk)
        tail_size += len(chunk)
        while tail_size > TAIL_BYTES and len(tail) > 1:
            tail_size -= len(tail.popleft())

    assert proc.stdout is not None
    with _active_lock:
        _active.add(proc.pid)
    if on_start is not None:
        on_start(proc.pid)
    watcher, stop_watch, failures = _watch(proc, monitor)
    try:
        _pump(proc, proc.stdout.fileno(), emit)
        rest = decoder.decode(b"", final=True)
        if rest:
            echo(rest)
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
        watchdog.release()
    if failures:
        raise failures[0]
    return CommandResult(returncode, b"".join(tail).decode(errors="replace")[-TAIL_BYTES:])


READ_BYTES = 65536
DRAIN_SECONDS = 0.2  # after the command exits: how long to collect output still buffered
POLL_MS = 50  # where pidfd_open is missing: how often to look whether the command exited


def _pidfd(pid: int) -> int | None:
    """A descriptor that turns readable when ``pid`` exits (Linux 5.3+), else None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _pump(proc: subprocess.Popen, fd: int, emit: Callable[[bytes], None]) -> None:
    """Pass ``proc``'s output to ``emit`` until the pipe ends or ``proc`` itself exits.

    When ``proc`` exits while something else (a background child) still holds the
    pipe, what is already buffered is read, for at most DRAIN_SECONDS, and the rest
    is left to that child: waiting for the end of output would wait for the child.
    """
    pidfd = _pidfd(proc.pid)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    try:
        while True:
            ready = {f for f, _ in poller.poll(None if pidfd is not None else POLL_MS)}
            if fd in ready:
                chunk = os.read(fd, READ_BYTES)
                if not chunk:
                    return  # nobody writes any more
                emit(chunk)
            if (pidfd is not None and pidfd in ready) or (pidfd is None and proc.poll() is not None):
                _drain(fd, emit)
                return
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _drain(fd: int, emit: Callable[[bytes], None]) -> None:
    """Read what ``fd`` holds now, without waiting for more."""
    os.set_blocking(fd, False)
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, READ_BYTES)
        except BlockingIOError:
            return
        if not chunk:
            return
        emit(chunk)


# The watchdog: a shell whose stdin is a pipe only the engine can write. The engine
# writes a line when the command is done; end of file without that line means the
# engine died, and the command's group gets SIGTERM, then SIGKILL if it lingers.
_WATCHDOG_SCRIPT = (
    "read -r done && exit 0\n"
    'kill -TERM -"$1" 2>/dev/null || exit 0\n'
    "i=0\n"
    'while [ "$i" -lt 30 ] && kill -0 -"$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done\n'
    'kill -KILL -"$1" 2>/dev/null\n'
    "exit 0\n"
)


@dataclass
class _Watchdog:
    """Stops a command's process group when the engine dies first.

    A pipe's end, unlike PR_SET_PDEATHSIG, is tied to the process, not to the thread
    that started the command (queue runs start commands from worker threads), and
    it also reaches the command's own children, which a parent-death signal set on
    the shell would not. The watchdog runs in a session of its own, so a signal to
    the engine's process group (Ctrl+C in a terminal) does not take it along.
    """

    proc: subprocess.Popen | None
    write_fd: int | None

    @classmethod
    def start(cls, pgid: int) -> _Watchdog:
        read_fd, write_fd = os.pipe()  # not inherited by other children (PEP 446)
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG_SCRIPT, "jupyter-exp-watchdog", str(pgid)],
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            # No /bin/sh for the watchdog: the command still runs; only the next
            # engine's stop_orphaned_stage guards against this one dying.
            os.close(write_fd)
            return cls(None, None)
        finally:
            os.close(read_fd)
        return cls(proc, write_fd)

    def release(self) -> None:
        """The command is done: let the watchdog exit without signalling."""
        if self.write_fd is None:
            return
        with contextlib.suppress(OSError):
            os.write(self.write_fd, b"done\n")
        os.close(self.write_fd)
        self.write_fd = None
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)


MONITOR_SECONDS = 0.02


def _watch(proc: subprocess.Popen, monitor: Callable[[], object] | None):
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
    stop_group(proc.pid, start_time(proc.pid))
    proc.wait()
