"""The durable experiment queue.

An entry is a snapshot commit of the workspace as it was when queued (what is
staged, tracked changes, ``.dvc`` files of changed data, ``-S`` overrides applied;
untracked files nobody staged stay out, as in DVC; the workspace itself untouched), kept alive by ``refs/jupyter-exp/queue/<id>``, and a
JSON record in ``.dvc/tmp/jupyter_exp/queue/<id>.json`` with its name, baseline,
reproduction flags and state: queued, running, success or failed. Both live on
disk, so entries survive a kernel restart, a crash and a reboot; none of it is
under ``refs/exps/``, so DVC never sees an entry as an experiment.

Whoever runs an entry holds an ``flock`` on ``<id>.lock`` for the whole run. That
is how two workers never run one entry, and how a worker that died is noticed: a
"running" entry whose lock nobody holds is reported failed, its log kept.

An entry is a small state machine: every change of its record (claim, stage
process, finish, retry, remove, kill) goes through :meth:`QueueStore.transition`,
which holds the entry's record lock (``<id>.state``, held only for the change
itself), re-reads the record and refuses a change from a state it does not allow.
A run owns its entry through a claim token: a run whose entry was removed, retried
or claimed again meanwhile can no longer write it back.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Iterator

from .. import faults
from ..errors import JupyterExpError
from ..notices import warn
from ..overrides import OverrideSet, expand_sweeps, overridden_texts
from ..processes import ESCALATION, Stopped
from ..project import Project
from ..refs import OWN_NAMESPACE
from .catalog import list_experiments
from .names import random_name
from .recordable import check_can_record
from .snapshot import ZERO, changed_data, pipeline_files, snapshot_tree

QUEUE_NAMESPACE = f"{OWN_NAMESPACE}/queue"
STATES = ("queued", "running", "success", "failed")
REMOVED = "removed"  # the target of a removal: the entry's files are gone
MIN_ID_PREFIX = 4  # shorter id prefixes would pick an entry at random


class QueueError(JupyterExpError):
    pass


class EntryGone(QueueError):
    """The entry was removed, or claimed by another run, while this one used it."""


class StateConflict(QueueError):
    """The entry is not in a state the change is allowed from (it changed meanwhile)."""


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
    claim: str | None = None  # the token of the run that owns it while it runs
    host: str | None = None  # the machine it runs on (pid and pgid are that machine's)
    pgid_start: str | None = None  # when the stage's group leader started: its identity
    stop_request: str | None = None  # "kill" (queue kill) or "requeue" (queue stop --kill)


_FIELDS = {f.name for f in fields(QueueEntry)}
_held_records = threading.local()  # record locks this thread holds, by path, with their depth


def _well_typed(entry: QueueEntry) -> bool:
    """Whether a record read from disk has the types the queue relies on."""
    texts = (entry.id, entry.name, entry.baseline, entry.rev)
    optional_ints = (entry.pid, entry.pgid, entry.returncode)
    return (all(isinstance(v, str) and v for v in texts)
            and isinstance(entry.created, (int, float)) and not isinstance(entry.created, bool)
            and entry.state in STATES
            and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in optional_ints)
            and all(isinstance(v, str) for v in (*entry.targets, *entry.copy_paths))
            and isinstance(entry.flags, dict))


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

    def _state_lock_path(self, entry_id: str) -> Path:
        return self.dir / f"{entry_id}.state"

    def _write(self, entry: QueueEntry) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = asdict(entry)
        tmp = self._record(entry.id).with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self._record(entry.id))

    def create(self, entry: QueueEntry) -> None:
        """Write a new entry's record (its ref exists already)."""
        with self.locked(entry.id):
            if self.get(entry.id) is not None:
                raise StateConflict(f"Queue entry {entry.id} exists already; queue it again.")
            self._write(entry)

    def get(self, entry_id: str) -> QueueEntry | None:
        """The entry's record; None when there is none. A damaged record (not JSON, or
        fields of the wrong type) is skipped with a one-line warning, never a traceback."""
        path = self._record(entry_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, UnicodeDecodeError):
            return self._damaged(path)
        if not isinstance(data, dict):
            return self._damaged(path)
        data = {k: v for k, v in data.items() if k in _FIELDS}  # a newer version's fields
        data["targets"] = tuple(data.get("targets") or ())
        data["copy_paths"] = tuple(data.get("copy_paths") or ())
        try:
            entry = QueueEntry(**data)
        except TypeError:  # a field missing: not a record we can use
            return self._damaged(path)
        if not _well_typed(entry) or entry.id != entry_id:
            return self._damaged(path)
        return entry

    def _damaged(self, path: Path) -> None:
        warn(f"Skipping the damaged queue record {self.project.relpath(path)}; "
             "delete it (its experiment is not queued).")
        return None

    @contextlib.contextmanager
    def locked(self, entry_id: str) -> Iterator[None]:
        """Hold the entry's record lock (re-entrant within a thread). Held only while a
        record changes, never for a whole run: a remove or kill waits milliseconds."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = str(self._state_lock_path(entry_id))
        held = _held_records.__dict__.setdefault("depth", {})
        if held.get(path):
            held[path] += 1
            try:
                yield
            finally:
                held[path] -= 1
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held[path] = 1
            try:
                yield
            finally:
                held.pop(path, None)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def transition(self, entry_id: str, to_state: str, allowed_from: tuple[str, ...], *,
                   owner: str | None = None, **changes) -> QueueEntry:
        """The one way an entry changes: under its record lock, from one of
        ``allowed_from`` to ``to_state`` (``REMOVED`` deletes it), setting ``changes``.

        ``owner``: the change is made for the run holding that claim token, and refused
        (:class:`EntryGone`) if the entry was removed or claimed again meanwhile.
        Raises :class:`StateConflict` when the entry is in another state. Returns the
        entry as it is now (as it was, for a removal).
        """
        with self.locked(entry_id):
            current = self.get(entry_id)
            if current is None:
                raise EntryGone(f"Queue entry {entry_id} is no longer in the queue (removed?).")
            if owner is not None and current.claim != owner:
                raise EntryGone(f"Experiment '{current.name}' was claimed again or retried meanwhile.")
            if current.state not in allowed_from:
                raise StateConflict(
                    f"Experiment '{current.name}' is {current.state} now; "
                    "see `jupyter exp queue status` and try again."
                )
            if to_state == REMOVED:
                self.project.git.update_refs([f"delete {QUEUE_NAMESPACE}/{entry_id}"])
                for path in (self._record(entry_id), self.log_path(entry_id), self._lock_path(entry_id)):
                    path.unlink(missing_ok=True)
                # Last: a waiter that got the old lock file finds the record gone.
                self._state_lock_path(entry_id).unlink(missing_ok=True)
                return current
            changed = replace(current, state=to_state, **changes)
            self._write(changed)
            return changed

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
            try:
                # pgid and pgid_start stay: a retry stops the stage the dead worker left.
                return self.transition(
                    entry.id, "failed", ("running",), owner=entry.claim, finished=time.time(),
                    error="its worker died before the run finished (killed?); the log is kept")
            except (EntryGone, StateConflict):
                return self.get(entry.id) or entry

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
        """The entry named ``name`` exactly (the newest, if several share it), else the
        one whose id is ``name`` or starts with it (at least 4 characters, one match)."""
        entries = self.entries()
        if not name.strip():
            raise QueueError("Name a queue entry (its name or id); see `jupyter exp queue status`.")
        named = [e for e in entries if e.name == name] or [e for e in entries if e.id == name]
        if named:
            return named[-1]
        by_prefix = [e for e in entries if len(name) >= MIN_ID_PREFIX and e.id.startswith(name.lower())]
        if len(by_prefix) == 1:
            return by_prefix[0]
        if by_prefix:
            listed = ", ".join(f"{e.name} ({e.id})" for e in by_prefix[:5])
            raise QueueError(f"'{name}' is the start of {len(by_prefix)} entries' ids ({listed}); "
                             "give more of the id, or the name.")
        from difflib import get_close_matches

        close = get_close_matches(name, [e.name for e in entries], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "; see `jupyter exp queue status`."
        if len(name) < MIN_ID_PREFIX and not close and any(e.id.startswith(name.lower()) for e in entries):
            hint = f"; give its name, or at least {MIN_ID_PREFIX} characters of its id."
        raise QueueError(f"No queued experiment '{name}'{hint}")

    def remove(self, entry: QueueEntry) -> None:
        """Remove a finished or queued entry (a running one: ``remove_entries(force=True)``)."""
        self.transition(entry.id, REMOVED, ("queued", "success", "failed"))


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

    combos: list[OverrideSet] = expand_sweeps(set_params) if set_params else [{}]
    if name is not None:
        check_name(name)
    # Under the project lock: a workspace run rewrites params in place while it runs
    # (a snapshot taken then would hold its overrides), and two queueings of one name
    # must not both find it free.
    with project.lock():
        return _enqueue_locked(project, combos, name, targets, flags, copy_paths, message, force,
                               resume_rev)


def _enqueue_locked(project: Project, combos: list[OverrideSet], name: str | None,
                    targets: list[str] | None, flags: dict | None, copy_paths: list[str] | None,
                    message: str | None, force: bool, resume_rev: str | None) -> list[QueueEntry]:
    from .run import NoBaselineError

    # Queued and --temp runs are recorded in this repository too: what would make that
    # fail is refused now, not after the run (a --temp run comes through here first).
    check_can_record(project)
    for path in copy_paths or ():  # refused before anything is queued; the executor checks again
        project.resolve_relpath(path, where="-C/--copy-paths", output=True)
    git = project.git
    baseline = git.head()
    if resume_rev is not None:
        baseline, resume_rev = _checkpoint_baseline(project, resume_rev)
    if baseline is None:
        raise NoBaselineError("Experiments need a baseline commit; commit your project first (git commit).")
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
    # What is staged is in the snapshot (it starts from the index); untracked files nobody
    # staged are not, as in DVC (`git add` them, or copy them in with -C).
    include = pipeline_files(project) if resume_rev is None else []
    # .dvc-tracked data changed in the workspace is cached now and its .dvc file goes
    # into the snapshot (DVC commits data deps when it queues); the workspace is untouched.
    data_texts = changed_data(project, write=False) if resume_rev is None else {}
    def read_at_resume_rev(path: str) -> str | None:
        data = git.read_blob(resume_rev, path) if resume_rev else None
        return data.decode("utf-8") if data is not None else None

    reader = read_at_resume_rev if resume_rev else None
    entries = []
    for combo, chosen in zip(combos, names):
        blobs = {**data_texts, **overridden_texts(project.root, combo, read=reader)}
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
        store.create(entry)
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
def stop_stage(entry: QueueEntry, force: bool = False) -> Stopped:
    """Stop the stage command an entry's run recorded (its group, identity-checked),
    escalating SIGINT, SIGTERM, SIGKILL (``force``: SIGKILL at once)."""
    import signal

    from ..processes import stop_group

    if not entry.pgid:
        return Stopped(None, 0.0, True, "had no stage command running")
    if entry.host not in (None, this_host()):
        return Stopped(None, 0.0, False, f"runs on {entry.host}; stop it there")
    return stop_group(entry.pgid, entry.pgid_start, signals=(signal.SIGKILL,) if force else ESCALATION)


def this_host() -> str:
    """The name runs record as their host."""
    import socket

    return socket.gethostname()


def stop_running(project: Project, request: str, pid: int | None = None) -> list[tuple[str, Stopped]]:
    """Mark every running entry of this host (``pid``: of that process only) with
    ``request`` ("requeue": it goes back to the queue; "kill": it ends failed), then stop
    their stages, all at once. Returns each entry's name and what happened to it."""
    return stop_marked(mark_running(project, request, pid))


def mark_running(project: Project, request: str, pid: int | None = None) -> list[QueueEntry]:
    """Record ``request`` on every running entry of this host (``pid``: of that process
    only) and return them. Done before anything interrupts their runs, so that a run
    ending on the interrupt finds out why."""
    store = QueueStore(project)
    marked = []
    for entry in store.entries():
        if entry.state != "running" or entry.host not in (None, this_host()) or pid not in (None, entry.pid):
            continue
        try:
            marked.append(store.transition(entry.id, "running", ("running",), owner=entry.claim,
                                           stop_request=request))
        except (EntryGone, StateConflict):
            continue  # it ended meanwhile
    return marked


def stop_marked(marked: list[QueueEntry]) -> list[tuple[str, Stopped]]:
    """Stop the stages of entries :func:`mark_running` marked, all at once."""
    from concurrent.futures import ThreadPoolExecutor

    if not marked:
        return []
    with ThreadPoolExecutor(max_workers=len(marked)) as pool:
        return list(zip((e.name for e in marked), pool.map(stop_stage, marked)))


def kill(project: Project, name: str, force: bool = False) -> str:
    """Stop a running entry's stage command: SIGINT, then SIGTERM, then SIGKILL after a
    grace period each (``force``: SIGKILL at once). Its run ends failed. Returns what
    happened, in one line."""
    store = QueueStore(project)
    entry = store.find(name)
    if entry.state != "running":
        raise QueueError(f"Experiment '{entry.name}' is {entry.state}, not running; nothing to kill.")
    # Recorded first: the run then ends "killed", also if its stage starts only now.
    entry = store.transition(entry.id, "running", ("running",), owner=entry.claim, stop_request="kill")
    stopped = stop_stage(entry, force)
    if stopped.signal is None and stopped.gone:
        return (f"Experiment '{entry.name}' had no stage command running; "
                "it stops before its next stage starts.")
    return f"Experiment '{entry.name}': its stage {stopped.describe()}."


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
    """Remove entries by name or by state; a running one needs ``force`` (its stage is
    stopped). Every name is resolved, and every running entry refused, before anything
    is removed. Returns the names removed (none: nothing matched the states given)."""
    store = QueueStore(project)
    if not names and not (all or queued or failed or success):
        raise QueueError("Name the entries to remove, or use --all, --queued, --failed or --success.")
    chosen = [store.find(n) for n in names or []]
    chosen += [e for e in store.entries() if all or (queued and e.state == "queued")
               or (failed and e.state == "failed") or (success and e.state == "success")]
    unique = list({e.id: e for e in chosen}.values())
    for entry in unique:
        if entry.state == "running" and not force:
            raise QueueError(
                f"Experiment '{entry.name}' is running; kill it first (`queue kill {entry.name}`) "
                "or remove it with --force."
            )
    removed = []
    for entry in unique:
        # Removed before its stage is stopped: the run, when it ends, finds no entry to
        # write back (and a stage it starts meanwhile is stopped by the run itself).
        gone = store.transition(entry.id, REMOVED, ("queued", "running", "success", "failed"))
        if gone.state == "running":
            stop_stage(gone)
        removed.append(entry.name)
    return removed


def retry(project: Project, names: list[str] | None = None, failed: bool = False) -> list[str]:
    """Put failed (or finished) entries back in the queue; a stage the previous run left
    behind (its worker killed) is stopped first."""
    store = QueueStore(project)
    if not names and not failed:
        raise QueueError("Name the entries to run again, or use --failed.")
    chosen = [store.find(n) for n in names or []]
    if failed:
        chosen += [e for e in store.entries() if e.state == "failed"]
    for entry in chosen:
        if entry.state in ("running", "queued"):
            raise QueueError(f"Experiment '{entry.name}' is {entry.state}; "
                             + ("wait for it or kill it first." if entry.state == "running" else "nothing to retry."))
    again = []
    for entry in {e.id: e for e in chosen}.values():
        stop_stage(entry)
        store.transition(entry.id, "queued", ("success", "failed"), pid=None, worker=None, started=None,
                         finished=None, returncode=None, error=None, pgid=None, pgid_start=None,
                         claim=None, stop_request=None)
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
