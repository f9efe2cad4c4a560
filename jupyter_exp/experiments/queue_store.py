"""The durable experiment queue's store: its entries, their records and locks.

An entry is a snapshot commit of the workspace as it was when queued (what is
staged, tracked changes, ``.dvc`` files of changed data, ``-S`` overrides applied;
untracked files nobody staged stay out, as in DVC; the workspace itself untouched),
kept alive by ``refs/jupyter-exp/queue/<id>``, and a
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

The verbs that use the store (enqueue, kill, remove, retry, logs) are in ``queue.py``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

from ..git import ref_delete
from ..notices import warn
from ..options import ReproOptions
from ..project import Project
from ..refs import queue_ref
from ..serialize import write_text_atomic
from .exceptions import EntryGone, QueueError, StateConflict

QueueState = Literal["queued", "running", "success", "failed"]
STATES: tuple[QueueState, ...] = ("queued", "running", "success", "failed")
REMOVED: Literal["removed"] = "removed"  # the target of a removal: the entry's files are gone
MIN_ID_PREFIX = 4  # shorter id prefixes would pick an entry at random


@dataclass(frozen=True)
class QueueEntry:
    id: str
    name: str
    baseline: str
    rev: str  # the snapshot commit the run starts from
    created: float
    state: QueueState = "queued"
    targets: tuple[str, ...] = ()
    flags: dict = field(default_factory=dict)  # the reproduction options as recorded (see .options)
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

    @property
    def options(self) -> ReproOptions:
        """How the entry is to be reproduced (its record keeps them as JSON ``flags``)."""
        return ReproOptions.from_record(self.flags)


_FIELDS = {f.name for f in fields(QueueEntry)}
_held_records = threading.local()  # record locks this thread holds, by path, with their depth


def _well_typed(entry: QueueEntry) -> bool:
    """Whether a record read from disk has the types the queue relies on."""
    texts = (entry.id, entry.name, entry.baseline, entry.rev)
    optional_ints = (entry.pid, entry.pgid, entry.returncode)
    return (
        all(isinstance(v, str) and v for v in texts)
        and isinstance(entry.created, (int, float))
        and not isinstance(entry.created, bool)
        and entry.state in STATES
        and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in optional_ints)
        and all(isinstance(v, str) for v in (*entry.targets, *entry.copy_paths))
        and isinstance(entry.flags, dict)
    )


def pending_dir(project: Project) -> Path:
    """Where the records of tasks submitted to a Dask scheduler live (next to the queue's)."""
    return project.queue_dir / "dask"


class QueueStore:
    """Entries of one project's queue, on disk."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.dir = project.queue_dir

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
        write_text_atomic(self._record(entry.id), json.dumps(asdict(entry), indent=1))

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
            self._damaged(path)
            return None
        if not isinstance(data, dict):
            self._damaged(path)
            return None
        data = {k: v for k, v in data.items() if k in _FIELDS}  # a newer version's fields
        data["targets"] = tuple(data.get("targets") or ())
        data["copy_paths"] = tuple(data.get("copy_paths") or ())
        try:
            entry = QueueEntry(**data)
        except TypeError:  # a field missing: not a record we can use
            self._damaged(path)
            return None
        if not _well_typed(entry) or entry.id != entry_id:
            self._damaged(path)
            return None
        return entry

    def _damaged(self, path: Path) -> None:
        warn(
            f"Skipping the damaged queue record {self.project.relpath(path)}; delete it (its experiment is not queued)."
        )

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

    def transition(
        self,
        entry_id: str,
        to_state: QueueState | Literal["removed"],
        allowed_from: tuple[str, ...],
        *,
        owner: str | None = None,
        **changes,
    ) -> QueueEntry:
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
                    f"Experiment '{current.name}' is {current.state} now; see `jupyter exp queue status` and try again."
                )
            if to_state == REMOVED:
                self.project.git.update_refs([ref_delete(queue_ref(entry_id))])
                for path in (self._record(entry_id), self.log_path(entry_id), self._lock_path(entry_id)):
                    path.unlink(missing_ok=True)
                # Last: a waiter that got the old lock file finds the record gone.
                self._state_lock_path(entry_id).unlink(missing_ok=True)
                return current
            changed = replace(current, state=to_state, **changes)
            self._write(changed)
            return changed

    def current(self, entry_id: str) -> QueueEntry | None:
        """One entry as :meth:`entries` reports it (a dead run failed), without reading
        the others."""
        entry = self.get(entry_id)
        return self._check_alive(entry) if entry is not None else None

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
                    entry.id,
                    "failed",
                    ("running",),
                    owner=entry.claim,
                    finished=time.time(),
                    error=self._why_dead(entry),
                )
            except (EntryGone, StateConflict):
                return self.get(entry.id) or entry

    def _why_dead(self, entry: QueueEntry) -> str:
        """Why a running entry that nobody holds is failed. A task on a Dask scheduler of
        its own (not a local cluster, which ends with its process) may still run there:
        the submitter that followed it ended, and a new one takes it up again."""
        try:
            task = json.loads((pending_dir(self.project) / f"{entry.id}.json").read_text())
            scheduler, token = str(task["scheduler"]), task["token"]
        except (OSError, ValueError, KeyError, TypeError):
            scheduler, token = "local", None
        if scheduler == "local" or token != entry.claim:
            return "its worker died before the run finished (killed?); the log is kept"
        executor = "dask://" + scheduler.removeprefix("tcp://")
        return (
            f"the process following its run on the Dask scheduler at {scheduler} ended; "
            f"`jupyter exp queue start --executor {executor}` takes it up again (or records how it ended)"
        )

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
            raise QueueError(
                f"'{name}' is the start of {len(by_prefix)} entries' ids ({listed}); give more of the id, or the name."
            )
        from difflib import get_close_matches

        close = get_close_matches(name, [e.name for e in entries], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "; see `jupyter exp queue status`."
        if len(name) < MIN_ID_PREFIX and not close and any(e.id.startswith(name.lower()) for e in entries):
            hint = f"; give its name, or at least {MIN_ID_PREFIX} characters of its id."
        raise QueueError(f"No queued experiment '{name}'{hint}")

    def remove(self, entry: QueueEntry) -> None:
        """Remove a finished or queued entry (a running one: ``remove_entries(force=True)``)."""
        self.transition(entry.id, REMOVED, ("queued", "success", "failed"))
