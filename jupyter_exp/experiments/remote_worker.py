"""The worker's side of a self-contained queue task (``--no-shared-fs``): a Dask task that
runs one queued experiment knowing only what the task carries.

The task (:class:`RemoteTask`) carries the entry's record, a git bundle with its
snapshot commit (relative to commits the worker has or can fetch from the project's git
remote), the DVC remote's settings and the ``-C`` files. The worker keeps a home of its
own that persists between tasks (``JUPYTER_EXP_WORKER_HOME``, default
``~/.cache/jupyter_exp/dask-worker``): a bare object store every task's commits go into,
and a DVC cache every task's data is fetched into, so a second task of the same project
fetches only what changed. Each task runs in a scratch repository of its own under
``tasks/<token>`` (borrowing the object store), through the same :func:`execute` local
queued runs use; the experiment is recorded there, its outputs pushed to the DVC remote,
and its commit bundled back. The scratch directory is removed afterwards.

What the submitting side hears while the task runs goes through Dask's event topics
(:data:`TOPIC`): the log as it grows, the stage's start, the step progress. What it must
not miss (the result) goes to the scheduler's metadata under the task's token, so a
submitter that restarted meanwhile still finds it (see ``remote_task.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import JupyterExpError, MissingDependencyError, StageFailedError
from ..git import Git
from ..processes import start_time, stop_group
from ..project import Project
from ..refs import ExpRef
from ..remote.config import RemoteSpec
from .queue_store import QueueEntry

TOPIC = "jupyter-exp"  # the event topic a submitter subscribes to
META = "jupyter-exp"  # the scheduler metadata branch: META/started|result|stop/<token>
HOME_ENV = "JUPYTER_EXP_WORKER_HOME"
FLUSH_SECONDS = 0.2  # how often the log and progress are sent while a task runs


@dataclass(frozen=True)
class RemoteTask:
    """Everything a worker needs to run one queued entry, and nothing of the submitting
    machine's file system."""

    token: str  # the claim of this run: names its task, metadata and events
    entry: dict  # the queue entry's record (QueueEntry as a dict)
    bundle: bytes  # git bundle of the snapshot (and the checkpoint it resumes)
    prerequisites: tuple[str, ...]  # commits the bundle needs on the worker
    git_remote: str | None  # a git URL the worker may fetch the prerequisites from
    data_remote: RemoteSpec | None  # the DVC remote data comes from and outputs go to
    identity: tuple[str, str]  # git user.name and user.email the experiment is made with
    copies: tuple[tuple[str, bytes], ...] = ()  # ``-C`` files: (project path, content)
    submitter: str = ""


@dataclass
class RemoteResult:
    """How a task ended, as plain data (it lands in the scheduler's metadata)."""

    token: str
    state: str  # success | failed | interrupted | lost (a second attempt after a lost worker)
    worker: str = ""
    bundle: bytes | None = None  # the experiment's commits, relative to the baseline
    tip: str | None = None
    error: str | None = None
    returncode: int | None = None
    request: str | None = None  # for interrupted: the stop request it obeyed
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went
    log: str = ""  # the run's whole output on the worker
    progress: dict | None = None  # its last progress event (events may come late)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RemoteResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def worker_home() -> Path:
    """Where this worker keeps its object store, cache and scratch directories."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jupyter_exp" / "dask-worker"


class Channel:
    """The task's line to the submitter: buffered log text and progress sent as events
    every FLUSH_SECONDS, and the stop request read from the scheduler's metadata (then
    obeyed by stopping the stage's process group)."""

    def __init__(self, worker: Any, client: Any, task: RemoteTask) -> None:
        self.worker, self.client, self.task = worker, client, task
        self.entry_id = task.entry["id"]
        self.pieces: list[str] = []
        self.log: list[str] = []  # everything written: the result carries it (events may come late)
        self.sent = 0  # characters sent as events so far
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.request: str | None = None
        self.pgid: int | None = None
        self.pgid_start: str | None = None
        self.project: Project | None = None
        self.last_progress: str | None = None
        self.final_progress: dict | None = None
        self.thread = threading.Thread(target=self._loop, name=f"jupyter-exp-{task.token[:8]}", daemon=True)
        self.thread.start()

    def send(self, kind: str, **payload: Any) -> None:
        message = {"token": self.task.token, "entry": self.entry_id, "kind": kind, **payload}
        self.worker.log_event(TOPIC, message)

    def write(self, text: str) -> None:
        with self.lock:
            self.pieces.append(text)
            self.log.append(text)

    def started(self, pgid: int) -> None:
        """The stage command began (its group): stop it at once if a stop came first."""
        self.pgid, self.pgid_start = pgid, start_time(pgid)
        if self.request is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)

    def _flush(self) -> None:
        with self.lock:
            text, self.pieces = "".join(self.pieces), []
        if text:
            self.send("log", text=text, offset=self.sent)
            self.sent += len(text)
        event = self.progress()
        if event is not None and repr(event) != self.last_progress:
            self.last_progress = repr(event)
            self.send("progress", event=event)

    def progress(self) -> dict | None:
        """The run's latest checkpoint progress event, where the task's project keeps it."""
        project = self.project
        if project is None:
            return None
        from .checkpoints import read_progress

        name = self.task.entry["name"]
        events = [e for e in read_progress(project) if e.get("experiment") == name]
        return events[-1] if events else None

    def _loop(self) -> None:
        while not self.done.wait(FLUSH_SECONDS):
            self._flush()
            if self.request is None:
                request = self.client.get_metadata([META, "stop", self.task.token], None)
                if request is not None:
                    self.request = str(request)
                    if self.pgid:  # stop the stage; the run then ends and reports "interrupted"
                        threading.Thread(target=stop_group, args=(self.pgid, self.pgid_start), daemon=True).start()

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self._flush()


def run_task(task: RemoteTask) -> dict[str, Any]:
    """The Dask task: run ``task`` on this worker and return (and land) its result.

    A second attempt of the same task (Dask reschedules a task whose worker died) does
    not run it again: it reports ``lost``, and the submitter marks the entry failed with
    its log so far (``queue retry`` runs it again, under a new token)."""
    from distributed import get_client, get_worker

    worker, client = get_worker(), get_client()
    started_key = [META, "started", task.token]
    if client.get_metadata(started_key, None) is not None:
        landed = client.get_metadata([META, "result", task.token], None)
        if landed is not None:
            return landed  # the first attempt finished; its worker died before returning it
        result = RemoteResult(task.token, "lost", worker=worker.address).to_dict()
    else:
        client.set_metadata(started_key, worker.address)
        channel = Channel(worker, client, task)
        channel.send("start", worker=worker.address, pid=os.getpid())
        try:
            outcome = _run(task, channel, worker.address)
        finally:
            channel.close()
        outcome.log = "".join(channel.log)
        outcome.progress = channel.final_progress
        result = outcome.to_dict()
    # Landed before it is returned: a submitter that is gone (or restarted) finds it here.
    client.set_metadata([META, "result", task.token], result)
    return result


def _store(home: Path) -> Git:
    """The worker's object store, made once (under a lock: several worker processes of
    one machine may share a home)."""
    home.mkdir(parents=True, exist_ok=True)
    store = Git(home / "objects.git")
    with open(home / "setup.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / "objects.git" / "HEAD").exists():
            store.init_bare()
    return store


def _unbundle(git: Git, data: bytes, where: Path) -> dict[str, str]:
    with tempfile.NamedTemporaryFile(dir=where, suffix=".bundle", delete=False) as out:
        out.write(data)
    try:
        return git.bundle_unbundle(Path(out.name))
    finally:
        os.unlink(out.name)


def _task_project(task: RemoteTask, home: Path, store: Git, scratch: Path) -> Project:
    """A scratch repository for the task, borrowing the worker's object store, with the
    worker's cache as its DVC cache and the ``-C`` files in place."""
    from ..pipeline.cache import remove

    if scratch.exists():
        remove(scratch)
    scratch.mkdir(parents=True)
    git = Git.init_borrowing(scratch, (store.root / "objects").resolve())
    name, email = task.identity
    config = scratch / ".git" / "config"
    config.write_text(config.read_text() + f"[user]\n\tname = {name}\n\temail = {email}\n")
    project = Project(scratch, git=git)
    project.dvc_dir.mkdir()
    project.local_config_file.write_text(f"[cache]\n\tdir = {home / 'cache'}\n")
    for relpath, content in task.copies:
        target = project.resolve(relpath, where="-C", output=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return project


def _run(task: RemoteTask, channel: Channel, address: str) -> RemoteResult:
    from ..pipeline.cache import remove

    entry = QueueEntry(
        **{**task.entry, "targets": tuple(task.entry["targets"]), "copy_paths": tuple(task.entry["copy_paths"])}
    )
    home = worker_home()
    scratch = home / "tasks" / task.token
    seconds: dict[str, float] = {}
    began = time.monotonic()
    channel.write(f"Running experiment '{entry.name}' on Dask worker {address} (pid {os.getpid()}).\n")
    try:
        store = _store(home)
        missing = [rev for rev in task.prerequisites if store.rev_parse(rev) is None]
        if missing and task.git_remote:
            store.fetch(task.git_remote, missing)  # by commit: no ref is written
        _unbundle(store, task.bundle, home)
        project = _task_project(task, home, store, scratch)
        channel.project = project
        objects = _open_remote(project, task.data_remote)
        if objects is not None:
            _fetch_data(project, task.data_remote, objects, entry.rev, channel)
        seconds["prepare"] = time.monotonic() - began
        from .executor import execute

        began = time.monotonic()
        rev = execute(project, entry, channel.write, on_start=channel.started)
        seconds["run"] = time.monotonic() - began
        began = time.monotonic()
        if objects is not None:
            _push_outputs(project, task.data_remote, objects, rev)
        ref = str(ExpRef(entry.baseline, entry.name))
        bundle_path = home / f"{task.token}.bundle"
        exclude = [entry.baseline] + ([entry.parent] if entry.parent else [])
        project.git.bundle_create(bundle_path, [ref], exclude)
        bundle = bundle_path.read_bytes()
        bundle_path.unlink()
        seconds["send"] = time.monotonic() - began
        channel.write("Task times on the worker: " + ", ".join(f"{k} {v:.3f} s" for k, v in seconds.items()) + ".\n")
        return RemoteResult(task.token, "success", address, bundle=bundle, tip=rev, seconds=seconds)
    except BaseException as exc:  # noqa: BLE001 - every way a run ends is reported back
        if channel.request is not None:
            return RemoteResult(task.token, "interrupted", address, request=channel.request, seconds=seconds)
        if isinstance(exc, MissingDependencyError) and task.data_remote is None:
            message = f"{exc} The worker gets data from the project's DVC remote: set one with "
            message += "`jupyter dvc remote add -d NAME URL` and `jupyter dvc push`."
        elif isinstance(exc, JupyterExpError):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
            channel.write(traceback.format_exc())
        code = exc.returncode if isinstance(exc, StageFailedError) else None
        return RemoteResult(task.token, "failed", address, error=message, returncode=code, seconds=seconds)
    finally:
        channel.final_progress = channel.progress()
        channel.project = None  # the flush thread reads it no more
        if scratch.exists():
            remove(scratch)


def _open_remote(project: Project, spec: RemoteSpec | None) -> Any:
    if spec is None:
        return None
    from ..remote.objects import RemoteObjects
    from ..remote.storage import open_storage

    return RemoteObjects(open_storage(project, spec))


def _fetch_data(project: Project, spec: Any, objects: Any, rev: str, channel: Channel) -> None:
    """Bring what the snapshot tracks (data, cached outputs) from the DVC remote into the
    worker's cache; what the remote lacks is left to the stages that make it."""
    from ..remote.sync import fetch_objects, object_store
    from ..remote.used import Revisions, wanted_objects

    wanted = wanted_objects(project, Revisions([rev]), [object_store(project), objects])
    report = fetch_objects(project, spec, objects, wanted)
    if report.transferred or report.missing:
        channel.write(
            f"Fetched {report.transferred} object(s) from remote '{spec.name}'"
            + (f"; {len(report.missing)} not there (their stages will make them)" if report.missing else "")
            + ".\n"
        )


def _push_outputs(project: Project, spec: Any, objects: Any, rev: str) -> None:
    """Send the experiment's outputs to the DVC remote, where the submitter fetches them."""
    from ..remote.sync import object_store, push_objects
    from ..remote.used import Revisions, wanted_objects

    push_objects(project, spec, objects, wanted_objects(project, Revisions([rev]), [object_store(project)]))
