"""Where a study's trials run: on the driver's threads, or as tasks on a Dask cluster
(a local one of the driver's own, or ``dask://``'s), and how an interrupted search
stops them."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from ..project import Project

POLL_SECONDS = 0.1


class Runner:
    """Runs one queue entry to its Outcome: here, or on a Dask cluster."""

    def __init__(self, client: Any = None, cluster: Any = None) -> None:
        self.client, self.cluster = client, cluster
        self.futures: dict[Any, str] = {}  # the Dask tasks submitted and not yet ended -> their entries
        self.lock = threading.Lock()
        self.stop_file: Path | None = None  # set (and the file made) when the search is interrupted

    def __call__(self, root: str, entry_id: str) -> Any:
        from functools import partial

        from ..experiments.executor import run_entry

        if self.client is None:
            return run_entry(root, entry_id)
        with self.lock:
            if self.stop_file is None:
                self.stop_file = Project(root).search_dir / f"stop-{os.getpid()}-{id(self)}"
            # A task that claims its entry after an interrupt gives it back (it may start
            # on its worker after the interrupt's stop has run there).
            should_stop = partial(os.path.exists, str(self.stop_file))
            future = self.client.submit(run_entry, root, entry_id, should_stop=should_stop, pure=False)
            self.futures[future] = entry_id
        try:
            return future.result()
        finally:
            with self.lock:
                self.futures.pop(future, None)

    def stop(self, project: Project) -> None:
        """Stop the runs under way, their entries back in the queue (the search was
        interrupted): this process's stages, or on Dask every worker's, then the tasks
        are given a moment to put their entries back before the cluster goes."""
        from ..experiments.queue import stop_running

        if self.client is None:
            stop_running(project, "requeue", pid=os.getpid())
            return
        from ..experiments.dask_executor import GRACE_SECONDS, stop_worker_runs

        with self.lock:
            if self.stop_file is not None:
                self.stop_file.parent.mkdir(parents=True, exist_ok=True)
                self.stop_file.touch()
            futures, ids = list(self.futures), list(self.futures.values())
        try:
            # Only this search's runs: another process's may share the workers.
            self.client.run(stop_worker_runs, str(project.root), ids)
            deadline = time.monotonic() + GRACE_SECONDS  # each task's entry back in the queue
            while any(not f.done() for f in futures) and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        if self.stop_file is not None:
            self.stop_file.unlink(missing_ok=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_runner(executor: str | None, jobs: int) -> Runner:
    from ..experiments.dask_executor import DaskExecutor, executor_for

    chosen = executor_for(executor)
    if isinstance(chosen, DaskExecutor):
        client, cluster = chosen._client(jobs)
        return Runner(client, cluster)
    return Runner()
