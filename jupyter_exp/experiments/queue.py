"""The durable experiment queue.

An entry is a snapshot commit of the workspace as it was when queued (tracked
changes, untracked files git does not ignore, ``-S`` overrides applied; the
workspace itself untouched), kept alive by ``refs/jupyter-exp/queue/<id>``, and a
JSON record in ``.dvc/tmp/jupyter_exp/queue/<id>.json`` with its name, baseline,
reproduction flags and state: queued, running, success or failed. Both live on
disk, so entries survive a kernel restart, a crash and a reboot; none of it is
under ``refs/exps/``, so DVC never sees an entry as an experiment.

Whoever runs an entry holds an ``flock`` on ``<id>.lock`` for the whole run. That
is how two workers never run one entry, and how a worker that died is noticed: a
"running" entry whose lock nobody holds is reported failed, its log kept.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator

from .. import faults
from ..errors import JupyterExpError
from ..overrides import OverrideSet, expand_sweeps, overridden_texts
from ..project import Project
from ..refs import OWN_NAMESPACE
from .catalog import list_experiments
from .names import random_name
from .snapshot import ZERO, pipeline_files, snapshot_tree

QUEUE_NAMESPACE = f"{OWN_NAMESPACE}/queue"
STATES = ("queued", "running", "success", "failed")


class QueueError(JupyterExpError):
    pass


@dataclass(frozen=True)
class QueueEntry:
    id: str
    name: str
    baseline: str
    rev: str  # the snapshot commit the run starts from
    created: float
    state: str = "queued"
    targets: tuple[str, ...] = ()
    flags: dict = field(default_factory=dict)  # reproduction flags (force, single_item, ...)
    copy_paths: tuple[str, ...] = ()
    message: str | None = None
    worker: str | None = None
    pid: int | None = None  # the process running it
    pgid: int | None = None  # the process group of the stage command running now
    started: float | None = None
    finished: float | None = None
    returncode: int | None = None
    error: str | None = None
    exp_rev: str | None = None  # the experiment commit, once it succeeded
    parent: str | None = None  # a checkpoint to resume from (-r/--rev); else the baseline


class QueueStore:
    """Entries of one project's queue, on disk."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.dir = project.own_tmp_dir / "queue"

    # -- files ----------------------------------------------------------------
    def _record(self, entry_id: str) -> Path:
        return self.dir / f"{entry_id}.json"

    def log_path(self, entry_id: str) -> Path:
        return self.dir / f"{entry_id}.log"

    def _lock_path(self, entry_id: str) -> Path:
        return self.dir / f"{entry_id}.lock"

    def save(self, entry: QueueEntry) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = asdict(entry)
        tmp = self._record(entry.id).with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self._record(entry.id))

    def get(self, entry_id: str) -> QueueEntry | None:
        try:
            data = json.loads(self._record(entry_id).read_text())
        except (FileNotFoundError, ValueError):
            return None
        data["targets"] = tuple(data.get("targets") or ())
        data["copy_paths"] = tuple(data.get("copy_paths") or ())
        return QueueEntry(**data)

    def entries(self) -> list[QueueEntry]:
        """Every entry, oldest first, with dead runs reported failed."""
        if not self.dir.is_dir():
            return []
        found = [self.get(p.stem) for p in self.dir.glob("*.json")]
        entries = sorted((e for e in found if e is not None), key=lambda e: (e.created, e.id))
        return [self._check_alive(e) for e in entries]

    def _check_alive(self, entry: QueueEntry) -> QueueEntry:
        if entry.state != "running":
            return entry
        with self.try_lock(entry.id) as held:
            if not held:
                return entry  # its runner holds the lock: alive
            current = self.get(entry.id) or entry
            if current.state != "running":
                return current
            dead = replace(current, state="failed", finished=time.time(),
                           error="its worker died before the run finished (killed?); the log is kept")
            self.save(dead)
            return dead

    @contextlib.contextmanager
    def try_lock(self, entry_id: str) -> Iterator[bool]:
        """Hold the entry's run lock if nobody else does; yields whether it is held."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path(entry_id), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def find(self, name: str) -> QueueEntry:
        matches = [e for e in self.entries() if e.name == name or e.id == name or e.id.startswith(name)]
        if not matches:
            from difflib import get_close_matches

            close = get_close_matches(name, [e.name for e in self.entries()], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "; see `jupyter exp queue status`."
            raise QueueError(f"No queued experiment '{name}'{hint}")
        return matches[-1]

    def remove(self, entry: QueueEntry) -> None:
        self.project.git.update_refs([f"delete {QUEUE_NAMESPACE}/{entry.id}"])
        for path in (self._record(entry.id), self.log_path(entry.id), self._lock_path(entry.id)):
            path.unlink(missing_ok=True)


# -- queueing ---------------------------------------------------------------------

def enqueue(
    project: Project,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    targets: list[str] | None = None,
    flags: dict | None = None,
    copy_paths: list[str] | None = None,
    message: str | None = None,
    force: bool = False,
    resume_rev: str | None = None,
) -> list[QueueEntry]:
    """Snapshot the workspace (with overrides, one entry per sweep combination) into the
    queue without touching it. ``-n prefix`` names a sweep ``prefix-1 ... prefix-N``.

    ``resume_rev`` (a checkpoint of an experiment) snapshots that commit instead, and
    the run continues its chain."""
    from ..refs import check_name
    from .run import NoBaselineError

    for path in copy_paths or ():  # refused before anything is queued; the executor checks again
        project.resolve_relpath(path, where="-C/--copy-paths", output=True, follow_links=False)
    git = project.git
    baseline = git.head()
    if resume_rev is not None:
        baseline, resume_rev = _checkpoint_baseline(project, resume_rev)
    if baseline is None:
        raise NoBaselineError("Experiments need a baseline commit; commit your project first (git commit).")
    combos: list[OverrideSet] = expand_sweeps(set_params) if set_params else [{}]
    if name is not None:
        check_name(name)
    names_taken = {e.name for e in list_experiments(project) if e.baseline == baseline}
    store = QueueStore(project)
    names_taken |= {e.name for e in store.entries() if e.baseline == baseline and e.state in ("queued", "running")}
    if len(combos) == 1:
        names = [name] if name else [random_name(names_taken)]
    else:
        names = [f"{name}-{i}" for i in range(1, len(combos) + 1)] if name else []
        for _ in combos[len(names):]:
            names.append(random_name(names_taken | set(names)))
    for chosen in names:
        if chosen in names_taken and not force:
            raise QueueError(
                f"Experiment '{chosen}' already exists on baseline {baseline[:7]}; rerun with -f to overwrite."
            )
    include = pipeline_files(project) + project.git.untracked_files() if resume_rev is None else []
    def read_at_resume_rev(path: str) -> str | None:
        data = git.read_blob(resume_rev, path) if resume_rev else None
        return data.decode("utf-8") if data is not None else None

    reader = read_at_resume_rev if resume_rev else None
    entries = []
    for combo, chosen in zip(combos, names):
        blobs = overridden_texts(project.root, combo, read=reader)
        if resume_rev is not None:
            tree = snapshot_tree(project, [], base=resume_rev, blobs=blobs, tracked_changes=False)
        else:
            tree = snapshot_tree(project, include, blobs=blobs)
        rev = git.commit_tree(tree, [baseline], f"jupyter-exp queue: {chosen}")
        faults.point("queue.committed")
        entry = QueueEntry(
            id=uuid.uuid4().hex[:12], name=chosen, baseline=baseline, rev=rev, created=time.time(),
            targets=tuple(targets or ()), flags=dict(flags or {}, force_name=force),
            copy_paths=tuple(copy_paths or ()), message=message, parent=resume_rev,
        )
        git.update_refs([f"update {QUEUE_NAMESPACE}/{entry.id} {rev} {ZERO}"])
        faults.point("queue.ref-written")
        store.save(entry)
        entries.append(entry)
    return entries



def _checkpoint_baseline(project: Project, spec: str) -> tuple[str, str]:
    """``(baseline, commit)`` for ``-r/--rev``: a checkpoint (or tip) of an experiment."""
    from .apply import checkpoint_commit
    from .catalog import UnknownExperimentError, resolve

    experiments = list_experiments(project)
    try:
        exp = resolve(project, spec, experiments)
        return exp.baseline, exp.rev
    except UnknownExperimentError:
        found = checkpoint_commit(project, spec, experiments)
        if found is None:
            raise QueueError(f"'{spec}' is not a checkpoint of any experiment; use a commit `exp show` lists.") from None
        rev = found[1]
        owner = next(e for e in experiments if e.name == found[0].split("@")[0])
        return owner.baseline, rev


# -- managing entries -------------------------------------------------------------------
def kill(project: Project, name: str, force: bool = False) -> QueueEntry:
    """Interrupt a running entry's stage command (SIGINT; ``force``: SIGKILL)."""
    import signal

    store = QueueStore(project)
    entry = store.find(name)
    if entry.state != "running":
        raise QueueError(f"Experiment '{entry.name}' is {entry.state}, not running; nothing to kill.")
    if not entry.pgid:
        raise QueueError(f"Experiment '{entry.name}' has no stage command running yet; retry in a moment.")
    try:
        os.killpg(entry.pgid, signal.SIGKILL if force else signal.SIGINT)
    except ProcessLookupError:
        pass
    return entry


def remove_entries(
    project: Project,
    names: list[str] | None = None,
    *,
    all: bool = False,
    queued: bool = False,
    failed: bool = False,
    success: bool = False,
    force: bool = False,
) -> list[str]:
    """Remove entries by name or by state; a running one needs ``force`` (it is killed)."""
    store = QueueStore(project)
    entries = store.entries()
    chosen = [store.find(n) for n in names or []]
    chosen += [e for e in entries if all or (queued and e.state == "queued")
               or (failed and e.state == "failed") or (success and e.state == "success")]
    if not chosen and not names:
        raise QueueError("Name the entries to remove, or use --all, --queued, --failed or --success.")
    removed = []
    for entry in {e.id: e for e in chosen}.values():
        if entry.state == "running":
            if not force:
                raise QueueError(
                    f"Experiment '{entry.name}' is running; kill it first (`queue kill {entry.name}`) "
                    "or remove it with --force."
                )
            if entry.pgid:
                with contextlib.suppress(ProcessLookupError):
                    import signal

                    os.killpg(entry.pgid, signal.SIGKILL)
        store.remove(entry)
        removed.append(entry.name)
    return removed


def retry(project: Project, names: list[str] | None = None, failed: bool = False) -> list[str]:
    """Put failed (or finished) entries back in the queue."""
    store = QueueStore(project)
    chosen = [store.find(n) for n in names or []]
    if failed:
        chosen += [e for e in store.entries() if e.state == "failed"]
    if not chosen:
        raise QueueError("Name the entries to run again, or use --failed.")
    again = []
    for entry in chosen:
        if entry.state == "running":
            raise QueueError(f"Experiment '{entry.name}' is running; wait for it or kill it first.")
        store.save(replace(entry, state="queued", pid=None, worker=None, started=None, finished=None,
                           returncode=None, error=None, pgid=None))
        again.append(entry.name)
    return again


def logs(project: Project, name: str, follow: bool = False, echo=None, poll: float = 0.2) -> str:
    """The log of an entry; with ``follow``, streamed to ``echo`` until it stops running."""
    store = QueueStore(project)
    entry = store.find(name)
    path = store.log_path(entry.id)
    if not follow:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    seen = 0
    started = entry.state == "running"
    while True:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if len(text) > seen and echo is not None:
            echo(text[seen:])
        seen = len(text)
        current = store.get(entry.id)
        started = started or (current is not None and current.state == "running")
        # Follow a queued entry until its run ends (it may be stopped and queued again).
        if current is None or current.state in ("success", "failed") or (started and current.state != "running"):
            final = path.read_text(encoding="utf-8") if path.exists() else ""
            if len(final) > seen and echo is not None:
                echo(final[seen:])
            return final
        time.sleep(poll)
