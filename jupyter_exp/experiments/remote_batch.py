"""One batch of self-contained tasks on a Dask cluster, followed from the submitting side.

For each queued entry the submitting process takes the entry's run lock (held until
its result is recorded: ``queue status`` sees a live run, a second executor skips it),
builds the task (``remote_task.build_task``), writes a pending record and submits
:func:`remote_worker.run_task`. One loop then follows every task:

- the workers' events (Dask's ``subscribe_topic``): a task started (the entry becomes
  running, claimed by the task's token), log text (appended to the entry's log, so
  ``queue logs -f`` follows it), step progress (published where local runs publish
  theirs, so the table shows it);
- stop requests: ``queue stop --kill`` and ``queue kill`` mark the entry's record (any
  process may); the loop passes the mark on through the scheduler's metadata, and the
  worker stops the stage;
- ``queue stop`` (the stop file): tasks whose entries no worker started are cancelled
  and their entries stay queued;
- results: recorded by ``remote_task.collect``. A task whose worker died ends ``lost``
  (Dask's KilledWorker, or the rescheduled attempt that refuses to run it twice):
  the entry is failed with its log so far.

Tasks of an earlier submitting process (killed, or a kernel restart) are adopted
first (:meth:`RemoteBatch.adopt`): a result that landed meanwhile is recorded, a task
still running is followed as if submitted here, one that never started is dropped (its
entry is still queued and is submitted again).
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pipeline.results import Echo
from ..project import Project
from .executor import Control, Outcome
from .queue import mark_running
from .queue_store import QueueStore
from .remote_task import (
    TaskContext,
    append_log,
    build_task,
    claim,
    clear_pending,
    collect,
    read_pending,
    write_pending,
)
from .remote_worker import META, TOPIC, RemoteResult, run_task

POLL_SECONDS = 0.05
RECORD_SECONDS = 0.5  # how often running entries' records are read for stop requests
GRACE_SECONDS = 15.0  # after an interrupt, for tasks to report how their entries ended

_routes: dict[str, queue.Queue] = {}  # token -> the inbox of the batch following it
_subscribed: set[int] = set()  # clients whose event topic is routed


def _route(event: Any) -> None:
    message = event[1] if isinstance(event, tuple) else event
    inbox = _routes.get(message.get("token", "")) if isinstance(message, dict) else None
    if inbox is not None:
        inbox.put(message)


@dataclass
class Task:
    entry_id: str
    token: str
    future: Any  # None for an adopted task: its result is read from the metadata
    lock: contextlib.ExitStack
    echo: Echo | None = None  # the caller's view of the run's output (a prefixed line writer)
    forwarded: str | None = None  # the stop request passed on to the worker
    received: int = 0  # characters of the worker's output written to the entry's log


class RemoteBatch:
    """Entries of one project as self-contained tasks on ``client``'s cluster."""

    def __init__(
        self, client: Any, address: str, project: Project, echo_for: Callable[[str], Echo | None], control: Control
    ) -> None:
        self.client, self.address, self.project = client, address, project
        self.store = QueueStore(project)
        self.echo_for, self.control = echo_for, control
        self.inbox: queue.Queue = queue.Queue()
        self.tasks: dict[str, Task] = {}
        self.outcomes: dict[str, Outcome] = {}
        if id(client) not in _subscribed:
            client.subscribe_topic(TOPIC, _route)
            _subscribed.add(id(client))

    # -- submitting ----------------------------------------------------------------
    def _lock(self, entry_id: str) -> contextlib.ExitStack | None:
        stack = contextlib.ExitStack()
        if stack.enter_context(self.store.try_lock(entry_id)):
            return stack
        stack.close()
        return None

    def _follow(self, entry_id: str, token: str, future: Any, lock: contextlib.ExitStack) -> None:
        _routes[token] = self.inbox
        self.tasks[token] = Task(entry_id, token, future, lock, self.echo_for(entry_id))

    def submit(self, entry_ids: list[str]) -> None:
        context: TaskContext | None = None
        for entry_id in entry_ids:
            lock = self._lock(entry_id)
            entry = self.store.get(entry_id)
            if lock is None or entry is None or entry.state != "queued" or self.control.stopping():
                if lock is not None:
                    lock.close()
                self.outcomes[entry_id] = Outcome(entry_id, entry.name if entry else entry_id, "skipped")
                continue
            token = uuid.uuid4().hex
            try:
                context = context or TaskContext.of(self.project)
                task = build_task(self.project, entry, token, context)
            except Exception as exc:  # noqa: BLE001 - the entry fails with the reason
                claim(self.store, entry_id, token, "(not submitted)")
                result = RemoteResult(token, "failed", error=str(exc))
                self.outcomes[entry_id] = collect(self.project, entry_id, token, result)
                lock.close()
                continue
            write_pending(self.project, entry_id, self.address, token)
            _routes[token] = self.inbox  # before the task can start: its first events are routed
            future = self.client.submit(run_task, task, key=f"jupyter-exp-{token}", pure=False)
            self._follow(entry_id, token, future, lock)

    def adopt(self) -> None:
        """Follow the tasks an earlier submitting process left on this scheduler."""
        for entry_id, (scheduler, token) in read_pending(self.project).items():
            if scheduler != self.address or token in self.tasks:
                continue
            lock = self._lock(entry_id)
            if lock is None:
                continue  # a live submitter follows it
            entry = self.store.get(entry_id)
            worker = self.client.get_metadata([META, "started", token], None)
            if entry is None or worker is None or entry.claim not in (None, token) or entry.state == "success":
                clear_pending(self.project, entry_id)  # never started, or the entry moved on
                lock.close()
                continue
            if entry.state == "queued":
                # Retried meanwhile: the new run is the one that counts. The old task is
                # stopped where it runs, and whatever it returns is never collected.
                self.client.set_metadata([META, "stop", token], "kill")
                append_log(
                    self.store,
                    entry_id,
                    f"The earlier run (Dask task {token[:8]}) was retried; it is stopped and its result discarded.\n",
                )
                clear_pending(self.project, entry_id)
                lock.close()
                continue
            if entry.state == "failed":  # reported dead when the earlier submitter died
                self.store.transition(entry_id, "running", ("failed",), owner=token, finished=None, error=None)
            received = _received(self.store.log_path(entry_id), entry.name)
            append_log(self.store, entry_id, f"Following Dask task {token[:8]} again (its submitter restarted).\n")
            self._follow(entry_id, token, None, lock)
            self.tasks[token].received = received

    # -- following -----------------------------------------------------------------
    def _event(self, message: dict) -> None:
        task = self.tasks.get(str(message.get("token")))
        if task is None:
            return
        kind = message.get("kind")
        entry = self.store.get(task.entry_id)
        if kind == "start":
            if entry is not None and entry.state == "queued" and (task.future is None or not task.future.cancelled()):
                claim(self.store, task.entry_id, task.token, str(message.get("worker")))
        elif kind == "log" and entry is not None:
            if entry.state == "queued" and entry.claim is None:
                # Its start event was not seen (an event can outrun the subscription): its
                # output says it started.
                worker = str(self.client.get_metadata([META, "started", task.token], ""))
                entry = claim(self.store, task.entry_id, task.token, worker) or entry
            if entry.claim != task.token:
                return
            if message.get("offset") != task.received:
                return  # a piece missed (an earlier submitter's): the result brings the rest
            text = str(message.get("text", ""))
            task.received += len(text)
            append_log(self.store, task.entry_id, text)
            if task.echo is not None:
                task.echo(text)
        elif kind == "progress" and isinstance(message.get("event"), dict):
            from .checkpoints import publish_progress

            publish_progress(self.project, message["event"])

    def _result(self, task: Task) -> RemoteResult | None:
        """The task's result if it ended: from its future, else from the metadata."""
        if task.future is not None:
            if not task.future.done():
                return None
            if not task.future.cancelled():
                try:
                    return RemoteResult.from_dict(task.future.result())
                except Exception:  # noqa: BLE001, S110 - a lost worker (KilledWorker, ...): see below
                    pass
        landed = self.client.get_metadata([META, "result", task.token], None)
        if landed is not None:
            return RemoteResult.from_dict(landed)
        if task.future is not None:
            return RemoteResult(task.token, "lost" if task.future.status == "error" else "interrupted")
        worker = self.client.get_metadata([META, "started", task.token], None)
        if worker not in self.client.scheduler_info().get("workers", {}):
            return RemoteResult(task.token, "lost", worker=str(worker))
        return None

    def _finish(self, task: Task, result: RemoteResult) -> None:
        entry = self.store.get(task.entry_id)
        if entry is not None and entry.state == "queued" and entry.claim is None and result.state != "interrupted":
            # It ran, but no event of it was seen: claimed now, so its whole log is kept.
            entry = claim(self.store, task.entry_id, task.token, result.worker) or entry
        if entry is not None and entry.claim == task.token and len(result.log) > task.received:
            tail = result.log[task.received :]  # what the events did not bring
            append_log(self.store, task.entry_id, tail)
            if task.echo is not None:
                task.echo(tail)
        if result.progress is not None and entry is not None and entry.claim == task.token:
            from .checkpoints import publish_progress

            publish_progress(self.project, result.progress)  # how it ended, if an event was late
        if result.state == "interrupted" and entry is not None and entry.state == "queued":
            outcome = Outcome(task.entry_id, entry.name, "skipped")  # cancelled before it started
            clear_pending(self.project, task.entry_id)
        else:
            outcome = collect(self.project, task.entry_id, task.token, result)
        self.outcomes[task.entry_id] = outcome
        self.client.set_metadata([META, "result", task.token], {"token": task.token, "state": "collected"})
        task.lock.close()
        _routes.pop(task.token, None)
        del self.tasks[task.token]
        echo = task.echo
        if echo is not None and outcome.state != "skipped":
            echo(f"{outcome.state} on the Dask cluster ({result.worker or 'no worker'}).\n")
        if self.control.on_finish is not None and outcome.state != "skipped":
            self.control.on_finish(outcome)

    def _pass_stops(self) -> None:
        """Pass stop marks of running entries on to their workers; cancel what did not
        start when the batch is to stop."""
        stopping = self.control.stopping()
        for task in list(self.tasks.values()):
            entry = self.store.get(task.entry_id)
            if entry is None:  # removed while it ran (`queue remove --force`): stop it there too
                if task.forwarded is None:
                    self.client.set_metadata([META, "stop", task.token], "kill")
                    task.forwarded = "kill"
                continue
            if entry.state == "running" and entry.stop_request and task.forwarded is None:
                self.client.set_metadata([META, "stop", task.token], entry.stop_request)
                task.forwarded = entry.stop_request
            if stopping and entry.state == "queued" and task.future is not None and not task.future.done():
                self.client.cancel([task.future])

    def follow(self) -> None:
        """Until every task is recorded (after an interrupt: GRACE_SECONDS at most)."""
        next_check = 0.0
        interrupted: float | None = None
        while self.tasks:
            try:
                while True:
                    self._event(self.inbox.get_nowait())
            except queue.Empty:
                pass
            if self.control.cancel.is_set() and interrupted is None:
                interrupted = time.monotonic()
                mark_running(self.project, "requeue", pid=os.getpid())
                next_check = 0.0
            checking = time.monotonic() >= next_check
            if checking:
                self._pass_stops()
                next_check = time.monotonic() + RECORD_SECONDS
            if interrupted is not None and time.monotonic() - interrupted > GRACE_SECONDS:
                return  # what is left is found dead by the next look at the queue
            for task in list(self.tasks.values()):
                # An adopted task has no future: its result is looked up now and then.
                if task.future.done() if task.future is not None else checking:
                    result = self._result(task)
                    if result is not None:
                        self._finish(task, result)
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        for task in list(self.tasks.values()):
            task.lock.close()
            _routes.pop(task.token, None)
        self.tasks.clear()


def _received(log: Path, name: str) -> int:
    """How much of a task's output an earlier submitter wrote to the entry's log: all
    since the run's first line (nothing else is written while a task runs)."""
    try:
        text = log.read_text(encoding="utf-8")
    except OSError:
        return 0
    start = text.rfind(f"Running experiment '{name}' on Dask worker")
    return 0 if start < 0 else len(text) - start


def run_batch(
    client: Any,
    address: str,
    project: Project,
    entry_ids: list[str],
    echo_for: Callable[[str], Echo | None],
    control: Control,
) -> list[Outcome]:
    """Adopt earlier tasks, submit ``entry_ids`` and follow all until recorded; Ctrl+C
    interrupts the runs (their entries go back to the queue) and re-raises."""
    batch = RemoteBatch(client, address, project, echo_for, control)
    try:
        batch.adopt()
        batch.submit(entry_ids)
        try:
            batch.follow()
        except KeyboardInterrupt:
            control.cancel.set()
            batch.follow()  # passes the stop on and records how the runs end
            raise
    finally:
        batch.release()
    adopted = [o for i, o in batch.outcomes.items() if i not in entry_ids]
    return adopted + [batch.outcomes.get(i, Outcome(i, i, "skipped")) for i in entry_ids]
