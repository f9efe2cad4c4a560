"""Queued experiments on a Dask cluster (``--executor dask[://ADDRESS]``).

With a shared file system each entry is one task, ``run_entry(root, entry_id)``, the
function local workers run: it claims the entry (a file lock, so a second executor
never runs it twice), runs it in a directory of its own and records the experiment.
Without one (``--no-shared-fs``, or detected: a worker that cannot read a probe file
written into the project) each entry is a self-contained task: the snapshot travels as
a git bundle, data through the DVC remote, and the result comes back to be recorded
here (``remote_batch.py``, ``remote_task.py``, ``remote_worker.py``).

Without an address a local cluster of ``jobs`` single-threaded worker processes is
started; with one, the tasks go to that scheduler's workers (which have jupyter_exp
installed). Either way the cluster and its client are kept for the next batch of this
process (starting a cluster costs more than a batch of small experiments). Output goes
to each entry's log (``queue logs NAME``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial

from ..errors import JupyterExpError, option
from ..pipeline.results import Echo
from .exceptions import DaskUnavailableError
from .executor import Control, Executor, Outcome, run_entry

SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")
POLL_SECONDS = 0.1
GRACE_SECONDS = 10.0  # after an interrupt, for tasks to record how their entries ended
SHARED_FS = {";shared-fs": True, ";no-shared-fs": False}  # how a spec string carries the choice

_clusters: dict[tuple[str | None, int], tuple] = {}  # (address, local size) -> (client, cluster)
_clusters_lock = threading.Lock()


class DaskExecutor(Executor):
    """Entries as tasks on a Dask cluster: a local one per batch, or ``address``'s."""

    def __init__(self, address: str | None = None, shared_fs: bool | None = None) -> None:
        self.address = address
        self.shared_fs = shared_fs

    def _key(self, jobs: int) -> tuple[str | None, int]:
        # A local cluster has ``jobs`` workers (that is what bounds the batch's runs at
        # a time): one is kept per size. A scheduler's workers are what they are.
        return (self.address, 0 if self.address else max(1, jobs))

    def kept_client(self, jobs: int):
        """This process's client of the cluster, kept for later batches."""
        key = self._key(jobs)
        with _clusters_lock:
            client, cluster = _clusters.get(key, (None, None))
            if client is not None and client.status != "running":
                _close(client, cluster)
                client = None
            if client is None:
                client, cluster = self._client(jobs)
                _clusters[key] = (client, cluster)
            return client

    def _client(self, jobs: int):
        """A new client (and local cluster) of the caller's own, closed by the caller
        (a search study's driver uses one this way)."""
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

    def _shares_files(self, client, root: str) -> bool:
        """Whether every worker sees the project at ``root``: each is asked to read a
        probe file written there just now (same path and same content: the same file
        system, not a look-alike). No worker connected yet: assume not."""
        if self.shared_fs is not None:
            return self.shared_fs
        if self.address is None:
            return True  # a local cluster runs on this machine
        from ..project import Project
        from .queue_store import pending_dir

        folder = pending_dir(Project(root))
        folder.mkdir(parents=True, exist_ok=True)
        probe, content = folder / f"probe-{uuid.uuid4().hex}", uuid.uuid4().hex
        probe.write_text(content)
        try:
            seen = client.run(_reads, str(probe), content)
        finally:
            probe.unlink(missing_ok=True)
        return bool(seen) and all(seen.values())

    def run(
        self, root: str, entry_ids: list[str], jobs: int, echo_for: Callable[[str], Echo | None], control: Control
    ) -> list[Outcome]:
        client = self.kept_client(jobs)
        if not self._shares_files(client, root):
            from ..project import Project
            from .remote_batch import run_batch

            return run_batch(client, self.address or "local", Project(root), entry_ids, echo_for, control)
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
        except BaseException:
            self.forget(jobs)  # a client that lost its scheduler is not kept
            raise

    def has_pending(self, root: str) -> bool:
        from ..project import Project
        from .remote_task import read_pending

        return self.shared_fs is not True and bool(read_pending(Project(root)))

    def forget(self, jobs: int = 1) -> None:
        """Close and drop this executor's kept client (and local cluster)."""
        with _clusters_lock:
            client, cluster = _clusters.pop(self._key(jobs), (None, None))
        if client is not None:
            _close(client, cluster)

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


def _close(client, cluster) -> None:
    with contextlib.suppress(Exception):  # a scheduler already gone
        client.close()
        if cluster is not None:
            cluster.close()


@atexit.register
def close_clusters() -> None:
    """Close every kept client and local cluster (at exit, or when a test asks)."""
    with _clusters_lock:
        kept = list(_clusters.values())
        _clusters.clear()
    for client, cluster in kept:
        _close(client, cluster)


def _reads(path: str, content: str) -> bool:
    """On a worker: whether ``path`` exists there with ``content``."""
    try:
        with open(path, encoding="utf-8") as fobj:
            return fobj.read() == content
    except OSError:
        return False


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


def stop_worker_runs(root: str, ids: list[str] | None = None) -> int:
    """On a Dask worker: stop the stage commands of the entries this worker process runs
    (``ids``: of those entries only; another process's runs may share the worker),
    marked to go back to the queue (SIGINT, SIGTERM, SIGKILL). Returns how many."""
    import os

    from ..project import Project
    from .queue import stop_running

    return len(stop_running(Project(root), "requeue", pid=os.getpid(), ids=set(ids) if ids is not None else None))


def executor_for(spec: str | None) -> Executor:
    """``local`` (None), ``dask`` (a local cluster) or ``dask://HOST:PORT`` /
    ``tcp://HOST:PORT`` (that scheduler); ``;shared-fs`` or ``;no-shared-fs`` at the end
    (see :func:`with_shared_fs`) sets what is otherwise detected."""
    from .executor import LocalExecutor

    shared_fs = None
    for suffix, value in SHARED_FS.items():
        if spec and spec.endswith(suffix):
            spec, shared_fs = spec[: -len(suffix)], value
    if spec in (None, "", "local"):
        if shared_fs is not None:
            raise JupyterExpError(
                "--shared-fs/--no-shared-fs apply to a Dask executor; add --executor dask[://HOST:PORT]."
            )
        return LocalExecutor()
    if spec == "dask":
        return DaskExecutor(shared_fs=shared_fs)
    if spec.startswith("dask://"):
        return DaskExecutor("tcp://" + spec[len("dask://") :], shared_fs)
    if spec.startswith(SCHEMES):
        return DaskExecutor(spec, shared_fs)
    raise JupyterExpError(f"Unknown executor '{spec}'; use local, dask or dask://HOST:PORT.")


def with_shared_fs(spec: str | None, shared_fs: bool | None) -> str | None:
    """``spec`` carrying the ``--shared-fs``/``--no-shared-fs`` choice (None: detect), as
    one string that passes through the queue's workers unchanged."""
    if shared_fs is None:
        return spec
    return f"{spec or 'local'};{'shared-fs' if shared_fs else 'no-shared-fs'}"
