"""The queue's verbs: enqueue, kill, remove, retry, logs, and stopping runs.

What an entry is, and the one way it changes (a transition under its record lock),
is the store's (``queue_store.py``); these verbs only go through it.
"""

from __future__ import annotations

import os
import time
import uuid

from .. import faults
from ..errors import option
from ..git import ref_update
from ..options import ReproOptions
from ..overrides import OverrideSet, expand_sweeps, overridden_texts
from ..processes import ESCALATION, Stopped
from ..project import Project
from ..refs import queue_ref
from .catalog import list_experiments
from .exceptions import EntryGone, ExperimentExistsError, NoBaselineError, QueueError, StateConflict
from .names import random_name
from .queue_store import REMOVED, QueueEntry, QueueStore
from .recordable import check_can_record
from .resolve import resolve
from .snapshot import ZERO, changed_data, pipeline_files, snapshot_tree


def enqueue(
    project: Project,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    copy_paths: list[str] | None = None,
    message: str | None = None,
    resume_rev: str | None = None,
) -> list[QueueEntry]:
    """Snapshot the workspace (with overrides, one entry per sweep combination) into the
    queue without touching it, to be reproduced with ``options`` (``force`` also
    overwrites experiments of the same name). A ``name`` for a sweep names its entries
    ``name-1 ... name-N``.

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
        return _enqueue_locked(project, combos, name, targets, options, copy_paths, message, resume_rev)


def _enqueue_locked(
    project: Project,
    combos: list[OverrideSet],
    name: str | None,
    targets: list[str] | None,
    options: ReproOptions,
    copy_paths: list[str] | None,
    message: str | None,
    resume_rev: str | None,
) -> list[QueueEntry]:
    # Queued and --temp runs are recorded in this repository too: what would make that
    # fail is refused now, not after the run (a --temp run comes through here first).
    check_can_record(project)
    for path in copy_paths or ():  # refused before anything is queued; the executor checks again
        project.resolve_relpath(path, where=option("copy_paths", label=True), output=True)
    git = project.git
    baseline = git.head()
    if resume_rev is not None:
        # -r/--rev: a checkpoint (or tip) of an experiment; its chain goes on.
        target = resolve(
            project,
            resume_rev,
            checkpoints=True,
            unknown=f"'{resume_rev}' is not a checkpoint of any experiment; use a commit `exp show` lists.",
        )
        baseline, resume_rev = target.baseline, target.rev
    if baseline is None:
        raise NoBaselineError("Experiments need a baseline commit; commit your project first (git commit).")
    names_taken = {e.name for e in list_experiments(project) if e.baseline == baseline}
    store = QueueStore(project)
    names_taken |= {e.name for e in store.entries() if e.baseline == baseline and e.state in ("queued", "running")}
    if len(combos) == 1:
        names = [name] if name else [random_name(names_taken)]
    else:
        names = [f"{name}-{i}" for i in range(1, len(combos) + 1)] if name else []
        for _ in combos[len(names) :]:
            names.append(random_name(names_taken | set(names)))
    for chosen in names:
        if chosen in names_taken and not options.force:
            raise ExperimentExistsError.taken(chosen, baseline)
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
        entries.append(
            queue_tree(project, store, tree, baseline, chosen, targets, options, copy_paths, message, resume_rev)
        )
    return entries


def queue_tree(
    project: Project,
    store: QueueStore,
    tree: str,
    baseline: str,
    name: str,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    copy_paths: list[str] | None = None,
    message: str | None = None,
    parent: str | None = None,
) -> QueueEntry:
    """Queue snapshot ``tree`` (on ``baseline``) as entry ``name``: its commit, its ref,
    then its record. The caller has checked the name and what can be recorded."""
    rev = project.git.commit_tree(tree, [baseline], f"jupyter-exp queue: {name}")
    faults.point("queue.committed")
    entry = QueueEntry(
        id=uuid.uuid4().hex[:12],
        name=name,
        baseline=baseline,
        rev=rev,
        created=time.time(),
        targets=tuple(targets or ()),
        flags={**options.record(), "force_name": options.force},
        copy_paths=tuple(copy_paths or ()),
        message=message,
        parent=parent,
    )
    project.git.update_refs([ref_update(queue_ref(entry.id), rev, ZERO)])
    faults.point("queue.ref-written")
    store.create(entry)
    return entry


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


def claim_running(store: QueueStore, entry_id: str, token: str, worker: str) -> QueueEntry:
    """Queued entry ``entry_id`` running in this process, owned by claim ``token``: its
    pid, host and start recorded, what an earlier attempt left cleared. Raises
    EntryGone or StateConflict when it is gone or no longer queued."""
    return store.transition(
        entry_id,
        "running",
        ("queued",),
        pid=os.getpid(),
        started=time.time(),
        worker=worker,
        error=None,
        returncode=None,
        claim=token,
        host=this_host(),
        pgid=None,
        pgid_start=None,
        stop_request=None,
    )


def mark_recorded(store: QueueStore, entry_id: str, token: str, rev: str) -> None:
    """Running entry ``entry_id`` (claimed by ``token``) recorded its experiment ``rev``:
    it succeeded. After the ref is written; a kill between the two is fault point
    ``queue.recorded``."""
    faults.point("queue.recorded")
    store.transition(entry_id, "success", ("running",), owner=token, exp_rev=rev, finished=time.time(), pgid=None)


def this_host() -> str:
    """The name runs record as their host."""
    import socket

    return socket.gethostname()


def stop_running(
    project: Project, request: str, pid: int | None = None, ids: set[str] | None = None
) -> list[tuple[str, Stopped]]:
    """Mark every running entry of this host (``pid``: of that process only; ``ids``: only
    those entries) with ``request`` ("requeue": it goes back to the queue; "kill": it ends
    failed), then stop their stages, all at once. Returns each entry's name and what
    happened to it."""
    return stop_marked(mark_running(project, request, pid, ids))


def mark_running(
    project: Project, request: str, pid: int | None = None, ids: set[str] | None = None
) -> list[QueueEntry]:
    """Record ``request`` on every running entry of this host (``pid``: of that process
    only; ``ids``: only those entries) and return them. Done before anything interrupts
    their runs, so that a run ending on the interrupt finds out why."""
    store = QueueStore(project)
    marked = []
    for entry in store.entries():
        if entry.state != "running" or entry.host not in (None, this_host()) or pid not in (None, entry.pid):
            continue
        if ids is not None and entry.id not in ids:
            continue
        try:
            marked.append(store.transition(entry.id, "running", ("running",), owner=entry.claim, stop_request=request))
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
        return f"Experiment '{entry.name}' had no stage command running; it stops before its next stage starts."
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
        raise QueueError(
            f"Name the entries to remove, or use {option('all')}, {option('queued')}, {option('failed')} "
            f"or {option('success')}."
        )
    chosen = [store.find(n) for n in names or []]
    chosen += [
        e
        for e in store.entries()
        if all
        or (queued and e.state == "queued")
        or (failed and e.state == "failed")
        or (success and e.state == "success")
    ]
    unique = list({e.id: e for e in chosen}.values())
    for entry in unique:
        if entry.state == "running" and not force:
            raise QueueError(
                f"Experiment '{entry.name}' is running; kill it first (`queue kill {entry.name}`) "
                f"or remove it with {option('force')}."
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
        raise QueueError(f"Name the entries to run again, or use {option('failed')}.")
    chosen = [store.find(n) for n in names or []]
    if failed:
        chosen += [e for e in store.entries() if e.state == "failed"]
    for entry in chosen:
        if entry.state in ("running", "queued"):
            raise QueueError(
                f"Experiment '{entry.name}' is {entry.state}; "
                + ("wait for it or kill it first." if entry.state == "running" else "nothing to retry.")
            )
    again = []
    for entry in {e.id: e for e in chosen}.values():
        stop_stage(entry)
        store.transition(
            entry.id,
            "queued",
            ("success", "failed"),
            pid=None,
            worker=None,
            started=None,
            finished=None,
            returncode=None,
            error=None,
            pgid=None,
            pgid_start=None,
            claim=None,
            stop_request=None,
        )
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
