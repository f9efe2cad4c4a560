"""``exp clean``: remove what killed experiment runs left behind.

DVC's ``exp clean`` clears its task queue's spent messages. Ours has none of those, so it
removes the temporary files of ours that only a killed process leaves: the run
directories under ``.dvc/tmp/exps`` of queue entries nobody is running (a run removes its
own when it ends, also after a failure) and scratch git indexes under
``.dvc/tmp/jupyter_exp``. Nothing a live run uses is touched: a run directory goes only
while its entry's run lock is held here (a worker holds it for the whole run), one
without an entry and a scratch index only once they are an hour old. Queue entries,
their logs, experiments and the cache stay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..pipeline.cache import remove
from ..project import Project
from .queue_store import QueueStore

STALE_SECONDS = 3600  # older than any scratch index a live command holds


@dataclass(frozen=True)
class CleanReport:
    """What ``exp clean`` removed: run directories (by queue entry id) and scratch files."""

    run_dirs: tuple[str, ...] = ()
    scratch_files: int = 0


def _old(path: Path, now: float) -> bool:
    try:
        return now - path.lstat().st_mtime > STALE_SECONDS
    except FileNotFoundError:
        return False


def clean(project: Project) -> CleanReport:
    """Remove leftover run directories and scratch indexes (see the module docstring)."""
    now = time.time()
    store = QueueStore(project)
    removed: list[str] = []
    for entry_id, run_dir in project.exp_run_dirs().items():
        if run_dir.is_symlink() or not run_dir.is_dir():
            continue  # not a directory a run made
        if store.get(entry_id) is None:
            if _old(run_dir, now):
                remove(run_dir)
                removed.append(entry_id)
            continue
        with store.try_lock(entry_id) as held:
            if held:  # no worker is running it: its directory is a killed run's
                remove(run_dir)
                removed.append(entry_id)
    scratch = 0
    own = project.own_tmp_dir
    for path in sorted(own.glob("index-*")) if own.is_dir() else []:
        if path.is_file() and not path.is_symlink() and _old(path, now):
            path.unlink(missing_ok=True)
            scratch += 1
    return CleanReport(tuple(removed), scratch)
