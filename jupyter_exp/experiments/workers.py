"""Running the queue: in the foreground (``--run-all``) or by background workers
(``queue start``): detached processes from the shell, threads from a kernel so the
notebook stays usable. Workers leave a record in ``.dvc/tmp/jupyter_exp/workers/``
while they live; ``queue stop`` asks them to finish what runs: through a stop file
that every background worker (process or thread, of any process) reads before it
claims an entry, and an event for threads of this process. ``--kill`` also stops what
runs (SIGINT, SIGTERM, SIGKILL; those entries go back to the queue).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import JupyterExpError, option
from ..pipeline.results import Echo, echo_stdout
from ..pipeline.runner import interrupt_all
from ..processes import alive
from ..project import Project
from .exceptions import RunInterrupted
from .executor import Control, Executor, LocalExecutor, Outcome
from .queue import mark_running, stop_marked, stop_running
from .queue_store import QueueStore


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    kind: str  # process | thread
    jobs: int
    started: float


def list_workers(project: Project) -> list[WorkerInfo]:
    """Workers alive now (records of dead ones are cleared)."""
    found = []
    folder = project.workers_dir
    for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            info = WorkerInfo(**json.loads(record.read_text()))
        except (ValueError, TypeError):
            record.unlink(missing_ok=True)
            continue
        if info.kind == "thread":
            # A thread worker of this process lives while its thread does.
            living = (record.stem in _threads) if info.pid == os.getpid() else alive(info.pid)
        else:
            living = alive(info.pid)
        if living:
            found.append(info)
        else:
            record.unlink(missing_ok=True)
    return found


LINE_LIMIT = 65536  # characters of one line held back before it is shown in pieces


def _line_prefixer(prefix: str, echo: Echo, lock: threading.Lock) -> Echo:
    """An echo that writes whole lines, each prefixed (several runs share one screen).

    Linear in the output: the unfinished line is kept as a list of pieces, never
    re-joined and re-split per chunk, and a line longer than LINE_LIMIT is shown in
    LINE_LIMIT pieces, so memory stays bounded whatever a stage prints without a
    newline. (The entry's log gets the output as it came.)
    """
    pending: list[str] = []
    size = 0

    def write(text: str) -> None:
        nonlocal size
        *complete, last = text.split("\n")
        shown: list[str] = []
        for piece in complete:
            pending.append(piece)
            shown.append(f"{prefix}{''.join(pending)}\n")
            pending.clear()
            size = 0
        pending.append(last)
        size += len(last)
        if size >= LINE_LIMIT:
            line = "".join(pending)
            cut = len(line) - len(line) % LINE_LIMIT
            shown.extend(f"{prefix}{line[i : i + LINE_LIMIT]}\n" for i in range(0, cut, LINE_LIMIT))
            pending[:] = [line[cut:]]
            size = len(line) - cut
        if shown:
            with lock:
                echo("".join(shown))

    return write


def drain_queue(
    project: Project, jobs: int, control: Control, echo_for, executor: Executor | None = None
) -> list[Outcome]:
    """Run queued entries until none is left (or ``control`` says stop); entries queued
    meanwhile are picked up too."""
    executor = executor or LocalExecutor()
    store = QueueStore(project)
    outcomes: list[Outcome] = []
    tried: set[str] = set()
    first = True
    while not control.stopping():
        ids = [e.id for e in store.entries() if e.state == "queued" and e.id not in tried]
        if not ids and not (first and executor.has_pending(str(project.root))):
            break
        first = False
        tried.update(ids)
        outcomes += executor.run(str(project.root), ids, jobs, echo_for, control)
    return outcomes


def run_all(
    project: Project, jobs: int = 1, echo: Echo | None = None, executor: Executor | None = None
) -> list[Outcome]:
    """Run the queue in the foreground, ``jobs`` at a time, each line prefixed with its
    experiment's name. Ctrl+C (a kernel interrupt) stops cleanly: what ran goes back
    to the queue."""
    echo = echo or echo_stdout
    store = QueueStore(project)
    entries = {e.id: e for e in store.entries()}
    pending = executor is not None and executor.has_pending(str(project.root))
    if not pending and not any(e.state == "queued" for e in entries.values()):
        echo("No queued experiments to run.\n")
        return []
    lock = threading.Lock()
    control = Control.new()

    def echo_for(entry_id: str) -> Echo:
        entry = entries.get(entry_id) or store.get(entry_id)
        return _line_prefixer(f"[{entry.name if entry else entry_id}] ", echo, lock)

    try:
        outcomes = drain_queue(project, jobs, control, echo_for, executor)
    except KeyboardInterrupt:
        control.cancel.set()
        interrupt_all()  # an executor that did not stop them itself
        back = [e.name for e in store.entries() if e.state == "queued"]
        raise RunInterrupted(
            f"Interrupted; {len(back)} experiment(s) are in the queue ({', '.join(back)}); "
            f"resume with `jupyter exp queue start` or {option('run_all')}."
        ) from None
    done = [o for o in outcomes if o.state in ("success", "failed")]
    for outcome in done:
        echo(f"{outcome.name}: {outcome.state}" + (f" ({outcome.error})" if outcome.error else "") + "\n")
    return outcomes


# -- background workers -------------------------------------------------------------
_threads: dict[str, tuple[threading.Thread, Control]] = {}


def _register(project: Project, key: str, kind: str, jobs: int) -> Path:
    folder = project.workers_dir
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{key}.json"
    record.write_text(json.dumps({"pid": os.getpid(), "kind": kind, "jobs": jobs, "started": time.time()}))
    return record


def start(
    project: Project,
    jobs: int = 1,
    threads: bool = False,
    on_finish: Callable[[Outcome | None], None] | None = None,
    executor: str | None = None,
) -> list[WorkerInfo]:
    """Start a background worker running ``jobs`` experiments at a time.

    ``threads`` runs it in this process (a kernel stays usable; ``on_finish`` then hears
    of each experiment that ends, then of None when the worker is done); otherwise it is
    a detached process that outlives the command that started it. ``executor``: where the experiments run (see
    ``dask_executor.executor_for``; default: this machine).
    """
    from .dask_executor import executor_for

    chosen = executor_for(executor)  # an unknown name fails here, not in the worker
    project.workers_stop_file.unlink(missing_ok=True)
    if not chosen.has_pending(str(project.root)) and not any(
        e.state == "queued" for e in QueueStore(project).entries()
    ):
        raise JupyterExpError(f"The queue is empty; queue experiments with {option('queue')} first.")
    if threads:
        key = f"thread-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        control = Control.new(on_finish, stop_file=project.workers_stop_file)
        record = project.workers_dir / f"{key}.json"

        def work() -> None:
            try:
                drain_queue(project, jobs, control, lambda _id: None, chosen)
            finally:
                _threads.pop(key, None)
                record.unlink(missing_ok=True)
                if on_finish is not None:
                    on_finish(None)  # the worker is done

        thread = threading.Thread(target=work, name=f"jupyter-exp-{key}", daemon=True)
        _threads[key] = (thread, control)  # known before its record is: never taken for dead
        _register(project, key, "thread", jobs)
        thread.start()
        return [WorkerInfo(os.getpid(), "thread", jobs, time.time())]
    log = project.workers_dir
    log.mkdir(parents=True, exist_ok=True)
    with open(log / "workers.log", "a") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_exp.experiments.workers",
                str(project.root),
                "--jobs",
                str(jobs),
                *(["--executor", executor] if executor else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Return once the worker is up (its record written), so `queue status` shows it.
    record = project.workers_dir / f"process-{proc.pid}.json"
    deadline = time.monotonic() + 10
    while not record.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() not in (None, 0):
        raise JupyterExpError(f"The queue worker could not start; see {log / 'workers.log'}.")
    return [WorkerInfo(proc.pid, "process", jobs, time.time())]


def wait(project: Project, timeout: float | None = None) -> bool:
    """Block until no worker of this project is alive (True) or ``timeout`` passes."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while list_workers(project):
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass(frozen=True)
class StopReport:
    """What ``queue stop`` did: how many workers were asked, and (``--kill``) what
    happened to each running experiment's stage."""

    workers: int
    stopped: tuple[tuple[str, str], ...] = ()  # (experiment, "stopped with SIGTERM after 3.0 s")

    def __int__(self) -> int:
        return self.workers


def stop(project: Project, kill: bool = False) -> StopReport:
    """Ask every worker to stop after what runs now. ``kill``: stop what runs too
    (SIGINT, then SIGTERM, then SIGKILL), those entries go back to the queue.

    Reaches thread workers of other processes (a kernel's) through the stop file,
    which every background worker reads before it claims an entry."""
    workers = list_workers(project)
    folder = project.workers_dir
    folder.mkdir(parents=True, exist_ok=True)
    # Written before the running entries are listed: an entry claimed after that
    # listing is given back by its worker, which reads this file after claiming.
    project.workers_stop_file.write_text(str(time.time()))
    # With kill, the runs are marked before any executor is told to cancel: a run that
    # ends on the cancel (a Dask task interrupted on its worker) must find "requeue".
    marked = mark_running(project, "requeue") if kill else []
    for _thread, control in list(_threads.values()):
        control.drain.set()
        if kill:
            control.cancel.set()
    stopped = [(name, result.describe()) for name, result in stop_marked(marked)]
    return StopReport(len(workers), tuple(stopped))


def worker_main(argv: list[str] | None = None) -> int:
    """A detached worker process: drains the queue, then exits."""
    parser = argparse.ArgumentParser(prog="jupyter-exp worker")
    parser.add_argument("root")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--executor", default=None)
    args = parser.parse_args(argv)
    project = Project(args.root)
    control = Control.new(stop_file=project.workers_stop_file)
    record = _register(project, f"process-{os.getpid()}", "process", args.jobs)

    def on_term(_signum, _frame) -> None:
        control.cancel.set()
        # Not in the handler itself: stopping escalates over seconds.
        threading.Thread(target=stop_running, args=(project, "requeue", os.getpid()), daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    from .dask_executor import executor_for

    try:
        drain_queue(project, args.jobs, control, lambda _id: None, executor_for(args.executor))
    finally:
        control.drain.set()
        record.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a detached process
    sys.exit(worker_main())
