"""Queued experiments on a Dask cluster (``--executor dask[://ADDRESS]``).

Each entry is one task, ``run_entry(root, entry_id)``, the function local workers run:
it claims the entry (a file lock, so a second executor never runs it twice), runs it in
a directory of its own and records the experiment. Without an address a local cluster
of ``jobs`` single-threaded worker processes is started for the batch; with one, the
tasks go to that scheduler's workers, which must see the project at the same path (a
shared file system) and have jupyter_exp installed. Output goes to each entry's log
(``queue logs NAME``), not to the caller.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from ..errors import JupyterExpError, option
from ..pipeline.results import Echo
from .exceptions import DaskUnavailableError
from .executor import Control, Executor, Outcome, run_entry

SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")
POLL_SECONDS = 0.1
GRACE_SECONDS = 10.0  # after an interrupt, for tasks to record how their entries ended


class DaskExecutor(Executor):
    """Entries as tasks on a Dask cluster: a local one per batch, or ``address``'s."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def _client(self, jobs: int):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise DaskUnavailableError(
                "The Dask executor needs dask.distributed; pip install 'jupyter_exp[dask]'."
            ) from None
        if self.address is None:
            cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None)
            return Client(cluster), cluster
        try:
            return Client(self.address, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise DaskUnavailableError(
                f"Cannot reach the Dask scheduler at {self.address} ({exc}); start one with "
                f"`dask scheduler`, or use {option('executor', 'dask')} for a local cluster."
            ) from None

    def run(
        self, root: str, entry_ids: list[str], jobs: int, echo_for: Callable[[str], Echo | None], control: Control
    ) -> list[Outcome]:
        client, cluster = self._client(jobs)
        try:
            # A task that starts on its worker after a `queue stop` (before this loop has
            # cancelled it) reads the stop file itself and gives its entry back.
            should_stop = None if control.stop_file is None else partial(os.path.exists, str(control.stop_file))
            futures = {
                client.submit(
                    run_entry, root, entry_id, should_stop=should_stop, pure=False, key=f"jupyter-exp-{entry_id}"
                ): entry_id
                for entry_id in entry_ids
            }
            outcomes: dict[str, Outcome] = {}
            pending = list(futures)
            interrupted = None
            try:
                while pending:
                    if control.cancel.is_set() and interrupted is None:
                        # Stop the stage commands on every worker (escalating); their tasks
                        # then put their entries back in the queue, given a moment to do so.
                        client.run(stop_worker_runs, root)
                        interrupted = time.monotonic()
                    if control.stopping():
                        self._cancel_unclaimed(client, root, pending, futures)
                    if interrupted is not None and time.monotonic() - interrupted > GRACE_SECONDS:
                        client.cancel(pending)  # the cluster's end stops what is left
                    finished, pending = split_done(pending)
                    for future in finished:
                        outcomes[futures[future]] = self._outcome(future, futures[future], echo_for, control, root)
                    time.sleep(POLL_SECONDS)
            except KeyboardInterrupt:
                client.run(stop_worker_runs, root)
                client.cancel(list(futures))
                raise
            return [outcomes.get(i, Outcome(i, i, "skipped")) for i in entry_ids]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    @staticmethod
    def _cancel_unclaimed(client, root: str, pending: list, futures: dict) -> None:
        """``queue stop``: cancel the tasks whose entries no worker has claimed yet; the
        running ones finish."""
        from ..project import Project
        from .queue_store import QueueStore

        waiting = {e.id for e in QueueStore(Project(root)).entries() if e.state == "queued"}
        unclaimed = [f for f in pending if futures[f] in waiting]
        if unclaimed:
            client.cancel(unclaimed)

    @staticmethod
    def _outcome(
        future, entry_id: str, echo_for: Callable[[str], Echo | None], control: Control, root: str | None = None
    ) -> Outcome:
        if future.cancelled():
            outcome = _recorded(root, entry_id) or Outcome(entry_id, entry_id, "skipped")
        else:
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker, ...)
                outcome = _recorded(root, entry_id) or Outcome(
                    entry_id, entry_id, "failed", error=f"{type(exc).__name__}: {exc}"
                )
        echo = echo_for(entry_id)
        if echo is not None and outcome.state != "skipped":
            echo(f"{outcome.state} on the Dask cluster; `jupyter exp queue logs {outcome.name}` shows its output.\n")
        if control.on_finish is not None and outcome.state != "skipped":
            control.on_finish(outcome)
        return outcome


def split_done(pending: list) -> tuple[list, list]:
    """The futures that are done and those still pending, from one look at each.

    Looking twice (once to collect the done ones, once to keep the rest) loses a future
    that finishes in between: it is in neither list, and its entry is left out of the
    outcomes and of ``--run-all``'s summary. Collecting an outcome fetches its result
    from a worker, so "in between" is milliseconds, and several runs ending together
    hit it often."""
    finished: list = []
    waiting: list = []
    for future in pending:
        (finished if future.done() else waiting).append(future)
    return finished, waiting


def _recorded(root: str | None, entry_id: str) -> Outcome | None:
    """How the entry's record says its run ended, when the future cannot tell: the client
    lost the scheduler (a loaded machine: its futures are cancelled) after the task ran."""
    if root is None:
        return None
    from ..project import Project
    from .queue import QueueStore

    entry = QueueStore(Project(root)).get(entry_id)
    if entry is None or entry.state not in ("success", "failed"):
        return None
    return Outcome(entry_id, entry.name, entry.state, exp_rev=entry.exp_rev, error=entry.error)


def stop_worker_runs(root: str) -> int:
    """On a Dask worker: stop the stage commands of the entries this worker process runs
    (SIGINT, SIGTERM, SIGKILL), marked to go back to the queue. Returns how many."""
    import os

    from ..project import Project
    from .queue import stop_running

    return len(stop_running(Project(root), "requeue", pid=os.getpid()))


def executor_for(spec: str | None) -> Executor:
    """``local`` (None), ``dask`` (a local cluster) or ``dask://HOST:PORT`` /
    ``tcp://HOST:PORT`` (that scheduler)."""
    from .executor import LocalExecutor

    if spec in (None, "", "local"):
        return LocalExecutor()
    if spec == "dask":
        return DaskExecutor()
    if spec.startswith("dask://"):
        return DaskExecutor("tcp://" + spec[len("dask://") :])
    if spec.startswith(SCHEMES):
        return DaskExecutor(spec)
    raise JupyterExpError(f"Unknown executor '{spec}'; use local, dask or dask://HOST:PORT.")
