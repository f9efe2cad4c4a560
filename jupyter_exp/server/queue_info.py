"""The queue as the JupyterLab panel shows it: counts for the status bar, entries with
the params they were queued with, and logs read from a byte offset (a panel follows a
running entry by asking again with the offset it got).

Read-only: nothing here takes the project lock (a "running" entry whose worker died is
marked failed on the way, under that entry's own record lock, as every reader of the
queue does).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from ..experiments import live_state
from ..experiments.queue import this_host
from ..experiments.queue_store import QueueEntry, QueueStore
from ..experiments.workers import list_workers
from ..params import DEFAULT_PARAMS_FILE
from ..params_metrics import params_diff
from ..project import Project

LOG_CHUNK = 256 * 1024  # bytes of log per answer; the panel asks again for more
FINISHED = ("success", "failed")


def status(project: Project) -> dict[str, int]:
    """``{"running", "queued", "failed", "workers"}``: queue entries by state, plus
    experiments running in a workspace that announced themselves (a notebook's ``%exp
    run`` of a checkpoint stage), and the live queue workers."""
    entries = QueueStore(project).entries()
    counts = live_state.count_states(entries)
    in_queue = {e.name for e in entries if e.state == "running"}
    elsewhere = set(live_state.running_progress(project, [])) - in_queue
    return {
        "running": counts["running"] + len(elsewhere),
        "queued": counts["queued"],
        "failed": counts["failed"],
        "workers": live_state.worker_count(project),
    }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat()


def queued_params(project: Project, entry: QueueEntry) -> dict[str, Any]:
    """The params an entry was queued with, where they differ from its baseline, as
    ``-S`` names them (``key`` for params.yaml, ``file:key`` for other files)."""
    found: dict[str, Any] = {}
    for row in params_diff(project, entry.baseline, entry.rev):
        name = row.key if row.path == DEFAULT_PARAMS_FILE else f"{row.path}:{row.key}"
        found[name] = row.new
    return found


def where(entry: QueueEntry) -> str | None:
    """Where an entry runs or ran, when not in a local queue worker's threads: ``Dask
    worker ADDRESS`` (a self-contained task), ``Dask worker, pid N`` (one that shares the
    file system; Dask names its threads ``…Dask-…``), or ``on HOST`` (another machine)."""
    host = entry.host if entry.host and entry.host != this_host() else None
    if entry.worker and entry.worker.startswith("dask "):
        return f"Dask worker {entry.worker[len('dask ') :]}"
    if entry.worker and "Dask-" in entry.worker:
        return f"Dask worker, pid {entry.pid}" + (f" on {host}" if host else "")
    return f"on {host}" if host else None


def entries(project: Project, params_memo: dict[str, dict]) -> dict[str, list[dict]]:
    """``{"entries": [...], "workers": [...]}``. ``params_memo`` keeps each entry's
    params by its snapshot commit between calls (a commit never changes)."""
    store = QueueStore(project)
    listed = []
    for entry in store.entries():
        params = params_memo.get(entry.rev)
        if params is None:
            try:
                params = params_memo[entry.rev] = queued_params(project, entry)
            except Exception as exc:  # noqa: BLE001 - one unreadable snapshot must not hide the queue
                params = {"error": f"{type(exc).__name__}: {exc}"}
        listed.append(
            {
                "id": entry.id,
                "name": entry.name,
                "state": entry.state,
                "params": params,
                "created": _iso(entry.created),
                "started": _iso(entry.started),
                "finished": _iso(entry.finished),
                "error": entry.error,
                "message": entry.message,
                "targets": list(entry.targets),
                "log": store.log_path(entry.id).exists(),
                "where": where(entry),
            }
        )
    workers = [{"pid": w.pid, "jobs": w.jobs, "kind": w.kind} for w in list_workers(project)]
    return {"entries": listed, "workers": workers}


def _decode(data: bytes, final: bool) -> tuple[str, int]:
    """``data`` as text and how many bytes of it that is: a character cut at the end of
    a chunk is left for the next read, unless nothing more will come."""
    if not final:
        for cut in range(min(3, len(data)) + 1):
            try:
                return data[: len(data) - cut].decode("utf-8"), len(data) - cut
            except UnicodeDecodeError as exc:
                if exc.start < len(data) - 4:  # broken in the middle: not a cut character
                    break
    return data.decode("utf-8", errors="replace"), len(data)


def log_from(project: Project, name: str, offset: int) -> dict[str, Any]:
    """The log of entry ``name`` (its name or id) from byte ``offset``:
    ``{"text", "offset", "done", "reset"}``. ``reset`` says the log is shorter than
    ``offset`` (the entry was retried and its log began anew): ``text`` starts at 0.

    Raises:
        QueueError: no such entry.
    """
    store = QueueStore(project)
    entry = store.find(name)
    path = store.log_path(entry.id)
    reset = False
    try:
        with open(path, "rb") as log:
            size = os.fstat(log.fileno()).st_size
            if offset > size:
                offset, reset = 0, True
            log.seek(offset)
            data = log.read(LOG_CHUNK)
    except FileNotFoundError:
        size, data = 0, b""
        reset = offset > 0
        offset = 0
    finished = entry.state in FINISHED
    at_end = offset + len(data) >= size
    text, used = _decode(data, finished and at_end)
    end = offset + used
    return {"text": text, "offset": end, "done": finished and end >= size, "reset": reset}
