"""The panel's run and queue buttons: each checks the JSON body it got and calls the
api (``jupyter_exp.api.queue``), returning the JSON answer.

Experiments never run in the server process: a run is queued (the snapshot is made
here, as ``exp run --queue`` makes it) and a detached worker process runs the queue,
so runs survive a browser reload and a server restart.
"""

from __future__ import annotations

from typing import Any

from ..api import queue as api
from ..errors import JupyterExpError
from ..project import Project

CONNECT_SECONDS = 3.0  # how long Start waits to reach a Dask scheduler typed in


class BadRequest(JupyterExpError):
    """A body field of the wrong type (a 400)."""


def _list(body: dict, key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f'"{key}" must be a list of strings.')
    return value


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f'"{key}" must be a string or null.')
    return value or None


def _flag(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f'"{key}" must be true or false.')
    return value


def _jobs(body: dict) -> int:
    value = body.get("jobs", 1)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest('"jobs" must be a whole number.')
    return value


def run(project: Project, body: dict) -> dict[str, Any]:
    """POST run: queue the experiments ``set_params`` names (``-S`` syntax, sweeps
    included); unless ``queue``, start a detached worker running ``jobs`` at a time."""
    queue_only = body.get("queue", True)
    if not isinstance(queue_only, bool):
        raise BadRequest('"queue" must be true or false.')
    jobs = _jobs(body)
    if not queue_only:
        from ..arguments import check_jobs

        check_jobs(jobs)  # refused before anything is queued
    entries = api.queue(
        _list(body, "targets") or None,
        set_params=_list(body, "set_params"),
        name=_text(body, "name"),
        message=_text(body, "message"),
        quiet=True,
        root=str(project.root),
    )
    listed = [{"id": e.id, "name": e.name} for e in entries]
    if queue_only:
        return {"queued": listed}
    try:
        api.queue_start(jobs, threads=False, root=str(project.root))
    except JupyterExpError:
        # "The queue is empty": a worker already running took them meanwhile.
        ours = {e.id for e in entries}
        if any(e.id in ours and e.state == "queued" for e in api.queue_status(root=str(project.root)).entries):
            raise
    return {"started": listed}


def _executor(body: dict) -> str | None:
    """Where the queue runs: ``local`` (None), ``dask`` (a local cluster) or
    ``dask://HOST:PORT``, checked here so a typo starts nothing."""
    spec = _text(body, "executor")
    if spec in (None, "local"):
        return None
    if spec == "dask":
        return spec
    if not spec.startswith("dask://"):
        raise BadRequest(f'Unknown executor "{spec}"; choose local, dask or dask://HOST:PORT.')
    host, colon, port = spec[len("dask://") :].rpartition(":")
    if not (colon and host and port.isdigit() and 0 < int(port) < 65536) or any(c in host for c in "/ ;@?#"):
        raise BadRequest(
            f'"{spec}" is not a Dask scheduler address; type it as dask://HOST:PORT (e.g. dask://10.0.0.5:8786).'
        )
    _answers(host.strip("[]"), int(port))
    return spec


def _answers(host: str, port: int) -> None:
    """Something listens at ``host:port``: else the detached worker would only find out
    after Dask's connect timeout and leave the entries queued, with nothing in the panel."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise BadRequest(
            f"No Dask scheduler answers at {host}:{port} ({why}); start it (dask scheduler) or check the address."
        ) from None


def _shared_fs(body: dict, executor: str | None) -> bool | None:
    """``shared_fs``: true, false, or null (detected); only with a Dask executor."""
    value = body.get("shared_fs")
    if value is not None and not isinstance(value, bool):
        raise BadRequest('"shared_fs" must be true, false or null (detect).')
    if value is not None and executor is None:
        raise BadRequest(
            '"shared_fs" applies to a Dask executor; choose dask or dask://HOST:PORT, or leave it on auto.'
        )
    return value


def _where(executor: str | None, shared_fs: bool | None) -> str:
    if executor is None:
        return ""
    place = (
        " on a local Dask cluster" if executor == "dask" else f" on the Dask scheduler at {executor[len('dask://') :]}"
    )
    return place + {None: "", True: " (shared file system)", False: " (no shared file system)"}[shared_fs]


def queue_start(project: Project, body: dict) -> dict[str, str]:
    """POST queue/start: a detached worker running ``jobs`` at a time on ``executor``
    (local, dask, dask://HOST:PORT), ``shared_fs`` true/false/null (detect).

    Raises:
        BadRequest: a field of the wrong type or an executor that is not one of those.
    """
    jobs = _jobs(body)
    executor = _executor(body)
    shared_fs = _shared_fs(body, executor)
    (worker,) = api.queue_start(jobs, threads=False, executor=executor, shared_fs=shared_fs, root=str(project.root))
    where = _where(executor, shared_fs)
    return {"message": f"Started a queue worker process (pid {worker.pid}) running {jobs} at a time{where}."}


def queue_stop(project: Project, body: dict) -> dict[str, str]:
    kill = _flag(body, "kill")
    report = api.queue_stop(kill=kill, root=str(project.root))
    message = f"Asked {int(report)} worker(s) to stop after the experiments running now."
    if kill:
        stopped = "; ".join(f"{name}: {what}" for name, what in report.stopped)
        message = f"Asked {int(report)} worker(s) to stop; running experiments go back to the queue."
        message += f" {stopped}." if stopped else ""
    return {"message": message}


def queue_kill(project: Project, body: dict) -> dict[str, str]:
    ids = _list(body, "ids")
    if not ids:
        raise BadRequest('Name the entries to kill in "ids".')
    force = _flag(body, "force")
    return {"message": " ".join(api.queue_kill(name, force=force, root=str(project.root)) for name in ids)}


def queue_retry(project: Project, body: dict) -> dict[str, str]:
    names = api.queue_retry(_list(body, "ids"), root=str(project.root))
    return {"message": f"Queued again: {', '.join(names)}; start the queue to run them."}


def queue_remove(project: Project, body: dict) -> dict[str, str]:
    removed = api.queue_remove(
        _list(body, "ids") or None, all=_flag(body, "all"), force=_flag(body, "force"), root=str(project.root)
    )
    return {"message": f"Removed {', '.join(removed)} from the queue." if removed else "Nothing to remove."}
