"""The durable queue: put experiments in it, run it now or in the background, watch,
stop, kill, remove and retry its entries."""

from __future__ import annotations

from ..options import ReproOptions
from . import as_list, echo_stdout, overrides, project_at, silent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..display import QueueStatus
    from ..experiments.executor import Outcome
    from ..experiments.queue_store import QueueEntry
    from ..experiments.workers import StopReport, WorkerInfo

__all__ = [
    "queue",
    "queue_kill",
    "queue_logs",
    "queue_remove",
    "queue_retry",
    "queue_start",
    "queue_status",
    "queue_stop",
    "queue_wait",
    "queue_with",
    "run_all",
]


def queue(
    targets: list[str] | str | None = None,
    *,
    params: dict[str, Any] | None = None,
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    rev: str | None = None,
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
    force_downstream: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    recursive: bool = False,
    allow_missing: bool = False,
    pull: bool = False,
    quiet: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[QueueEntry]:
    """Snapshot the workspace with these params into the durable queue; nothing runs.
    Returns the entries: one, or one per combination of a sweep (``lr=0.1,0.2``,
    ``range()``, ``choice()``; ``name`` then gives ``name-1`` ...).

    ``copy_paths`` copies git-ignored files into the run; ``rev`` resumes from any
    checkpoint of an experiment. The other keywords as in :func:`run`; run the queue
    with :func:`run_all` or :func:`queue_start`.
    """
    options = ReproOptions.from_keywords(locals())  # first: locals() holds only the keywords
    return queue_with(
        as_list(targets),
        options,
        set_params=overrides(params, set_params),
        name=name,
        message=message,
        copy_paths=copy_paths,
        rev=rev,
        echo=silent if quiet else echo,
        root=root,
    )


def queue_with(
    targets: list[str] | None,
    options: ReproOptions,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    rev: str | None = None,
    echo: Callable[[str], None] | None = None,
    root: str | None = None,
) -> list[QueueEntry]:
    """:func:`queue` with the reproduction flags as one :class:`ReproOptions` (what the CLI passes)."""
    from ..experiments import run as runs

    return runs.queue(
        project_at(root),
        targets,
        options,
        set_params=set_params,
        name=name,
        message=message,
        copy_paths=copy_paths,
        resume_rev=rev,
        echo=echo,
    )


def run_all(
    jobs: int = 1,
    *,
    executor: str | None = None,
    shared_fs: bool | None = None,
    echo: Callable[[str], None] | None = None,
    root: str | None = None,
) -> list[Outcome]:
    """Run the queue in the foreground, ``jobs`` at a time; return the Outcomes.
    ``executor``: ``"dask"`` runs them on a local Dask cluster, ``"dask://HOST:PORT"``
    on that scheduler's workers (default: threads of this process). ``shared_fs``:
    whether the workers see this project at the same path (None: detected); without
    one each experiment travels as a self-contained task (git bundle + DVC remote)."""
    from ..arguments import check_jobs
    from ..experiments.dask_executor import executor_for, with_shared_fs
    from ..experiments.workers import run_all as _run_all

    check_jobs(jobs)
    chosen = executor_for(with_shared_fs(executor, shared_fs))
    return _run_all(project_at(root), jobs=jobs, echo=echo, executor=chosen)


def queue_start(
    jobs: int = 1,
    *,
    threads: bool | None = None,
    executor: str | None = None,
    shared_fs: bool | None = None,
    root: str | None = None,
    on_finish: Callable[[Any], None] | None = None,
) -> list[WorkerInfo]:
    """Start a background worker running ``jobs`` queued experiments at a time.

    In a kernel (``threads`` None: detected) it is a thread, so the notebook stays
    usable, and ``on_finish`` hears of each experiment that ends (then of None when the
    worker stops); from a shell it is a detached process. ``executor`` as in
    :func:`run_all`, and ``shared_fs``. Returns the WorkerInfo.
    """
    from ..arguments import check_jobs
    from ..experiments.dask_executor import with_shared_fs
    from ..experiments.workers import start
    from ..kernel import in_kernel

    check_jobs(jobs)
    if threads is None:
        threads = in_kernel()
    return start(
        project_at(root), jobs, threads=threads, on_finish=on_finish, executor=with_shared_fs(executor, shared_fs)
    )


def queue_stop(*, kill: bool = False, root: str | None = None) -> StopReport:
    """Ask the workers to stop after their current experiments (``kill``: stop those
    now, SIGINT then SIGTERM then SIGKILL; they go back to the queue). Returns a
    StopReport: ``workers`` asked (``int()`` of it) and what happened to each stage."""
    from ..experiments.workers import stop

    return stop(project_at(root), kill=kill)


def queue_status(*, root: str | None = None) -> QueueStatus:
    """Every queue entry (name, created, state, ...) and the live workers."""
    from ..display import QueueStatus
    from ..experiments.queue_store import QueueStore
    from ..experiments.workers import list_workers

    project = project_at(root)
    return QueueStatus(QueueStore(project).entries(), list_workers(project))


def queue_wait(timeout: float | None = None, *, root: str | None = None) -> QueueStatus:
    """Block until nothing is queued or running (or ``timeout`` seconds pass); return the status."""
    import time

    project = project_at(root)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        status = queue_status(root=str(project.root))
        counts = status.counts()
        idle = counts["running"] == 0 and (counts["queued"] == 0 or not status.workers)
        if idle or (deadline is not None and time.monotonic() > deadline):
            return status
        time.sleep(0.2)


def queue_logs(
    name: str, *, follow: bool = False, root: str | None = None, echo: Callable[[str], None] | None = None
) -> str:
    """The log of a queued experiment; ``follow`` streams it until the run ends."""
    from ..experiments.queue import logs

    return logs(project_at(root), name, follow=follow, echo=echo or echo_stdout)


def queue_kill(name: str, *, force: bool = False, root: str | None = None) -> str:
    """Stop a running queued experiment: SIGINT, then SIGTERM, then SIGKILL, a grace
    period apart (``force``: SIGKILL at once). Returns what happened, in one line."""
    from ..experiments.queue import kill

    return kill(project_at(root), name, force=force)


def queue_remove(
    names: list[str] | str | None = None,
    *,
    all: bool = False,
    queued: bool = False,
    failed: bool = False,
    success: bool = False,
    force: bool = False,
    root: str | None = None,
) -> list[str]:
    """Remove queue entries by name or state (a running one needs ``force``)."""
    from ..experiments.queue import remove_entries

    return remove_entries(
        project_at(root), as_list(names), all=all, queued=queued, failed=failed, success=success, force=force
    )


def queue_retry(names: list[str] | str | None = None, *, failed: bool = False, root: str | None = None) -> list[str]:
    """Put failed entries back in the queue."""
    from ..experiments.queue import retry

    return retry(project_at(root), as_list(names), failed=failed)
