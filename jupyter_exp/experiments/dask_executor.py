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

from typing import Callable

from ..errors import JupyterExpError
from ..pipeline.results import Echo
from .executor import Control, Executor, Outcome, run_entry

SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")


class DaskUnavailableError(JupyterExpError):
    """Dask is missing, or its scheduler cannot be reached."""


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
            cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            return Client(cluster), cluster
        try:
            return Client(self.address, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise DaskUnavailableError(
                f"Cannot reach the Dask scheduler at {self.address} ({exc}); start one with "
                "`dask scheduler`, or use --executor dask for a local cluster."
            ) from None

    def run(self, root: str, entry_ids: list[str], jobs: int,
            echo_for: Callable[[str], Echo | None], control: Control) -> list[Outcome]:
        from distributed import as_completed

        client, cluster = self._client(jobs)
        try:
            futures = {client.submit(run_entry, root, entry_id, pure=False,
                                     key=f"jupyter-exp-{entry_id}"): entry_id for entry_id in entry_ids}
            outcomes: dict[str, Outcome] = {}
            try:
                for future in as_completed(futures):
                    if control.cancel.is_set() or control.drain.is_set():
                        client.cancel([f for f in futures if not f.done()])
                    entry_id = futures[future]
                    if future.cancelled():
                        outcomes[entry_id] = Outcome(entry_id, entry_id, "skipped")
                        continue
                    try:
                        outcome = future.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker, ...)
                        outcome = Outcome(entry_id, entry_id, "failed", error=f"{type(exc).__name__}: {exc}")
                    outcomes[entry_id] = outcome
                    echo = echo_for(entry_id)
                    if echo is not None and outcome.state != "skipped":
                        echo(f"{outcome.state} on the Dask cluster; `jupyter exp queue logs {outcome.name}` "
                             "shows its output.\n")
                    if control.on_finish is not None and outcome.state != "skipped":
                        control.on_finish(outcome)
            except KeyboardInterrupt:
                client.cancel(list(futures))
                raise
            return [outcomes.get(i, Outcome(i, i, "skipped")) for i in entry_ids]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def executor_for(spec: str | None) -> Executor:
    """``local`` (None), ``dask`` (a local cluster) or ``dask://HOST:PORT`` /
    ``tcp://HOST:PORT`` (that scheduler)."""
    from .executor import LocalExecutor

    if spec in (None, "", "local"):
        return LocalExecutor()
    if spec == "dask":
        return DaskExecutor()
    if spec.startswith("dask://"):
        return DaskExecutor("tcp://" + spec[len("dask://"):])
    if spec.startswith(SCHEMES):
        return DaskExecutor(spec)
    raise JupyterExpError(f"Unknown executor '{spec}'; use local, dask or dask://HOST:PORT.")
