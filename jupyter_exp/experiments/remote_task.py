"""The submitting side of a self-contained queue task (``--no-shared-fs``): what a task
carries, and how its result is recorded here.

A task carries the entry's snapshot as a git bundle. When the project has a git remote
that already holds the baseline (a remote-tracking ref reaches it), the bundle is thin:
only the snapshot commit, and a worker that lacks the baseline fetches it from that
remote once (its object store keeps it for later tasks). Otherwise the bundle holds the
snapshot's whole history.

The result comes back as a bundle of the experiment commit, relative to the baseline.
It is recorded here as a local run records: under the entry's record lock, refused
when the run no longer owns its entry (the claim token), through
:func:`snapshot.record` (the experiment ref's compare-and-swap and its fault points),
then ``queue.recorded``, then the entry marked done. A result whose claim is gone (the
entry was retried or removed meanwhile, or an earlier attempt's result arrives late) is
discarded with a line in the entry's log. The outputs the worker pushed to the DVC
remote are fetched into this project's cache afterwards, so ``apply`` finds them.

While a task is submitted, a small pending record (``queue/dask/<entry id>.json``: the
scheduler's address and the token) says where its result will land; a submitter that
restarted reads it to collect results of tasks that finished meanwhile.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import JupyterExpError, option
from ..pipeline.results import Echo
from ..project import Project
from ..refs import queue_ref
from ..remote.config import RemoteSpec
from ..serialize import write_text_atomic
from .exceptions import EntryGone, StateConflict
from .executor import Cancelled, Outcome, _finish_failed
from .queue import claim_running, mark_recorded, this_host
from .queue_store import QueueEntry, QueueStore, pending_dir
from .remote_worker import RemoteResult, RemoteTask

LOST = "its Dask worker died before the run finished (killed, or its machine lost); the log is kept"


def write_pending(project: Project, entry_id: str, scheduler: str, token: str) -> None:
    folder = pending_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / f"{entry_id}.json", json.dumps({"scheduler": scheduler, "token": token}))


def read_pending(project: Project) -> dict[str, tuple[str, str]]:
    """Pending tasks by entry id: (scheduler, token). Unreadable records are dropped."""
    found: dict[str, tuple[str, str]] = {}
    folder = pending_dir(project)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            found[path.stem] = (str(data["scheduler"]), str(data["token"]))
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
    return found


def clear_pending(project: Project, entry_id: str, token: str | None = None) -> None:
    """Drop the entry's pending record (``token``: only if it is that task's)."""
    if token is None or read_pending(project).get(entry_id, ("", ""))[1] == token:
        (pending_dir(project) / f"{entry_id}.json").unlink(missing_ok=True)


@dataclass
class TaskContext:
    """What every task of a batch shares, looked up once: the git remote a worker may
    fetch from, the commits known to be there, the identity and the DVC remote."""

    url: str | None
    identity: tuple[str, str]
    data_remote: RemoteSpec | None
    on_remote: dict[str, bool] = field(default_factory=dict)  # commit -> reachable from the remote

    @classmethod
    def of(cls, project: Project) -> TaskContext:
        from ..remote.config import resolve

        git = project.git
        remotes = git.remotes()
        remote = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
        return cls(git.remote_url(remote) if remote else None, git.committer_identity(), resolve(project))

    def thin(self, project: Project, bases: list[str]) -> bool:
        """Whether a worker can fetch ``bases`` from the git remote (else they travel)."""
        if self.url is None:
            return False
        for rev in bases:
            if rev not in self.on_remote:
                self.on_remote[rev] = project.git.reachable_from_remotes(rev)
        return all(self.on_remote[rev] for rev in bases)


def build_task(project: Project, entry: QueueEntry, token: str, context: TaskContext | None = None) -> RemoteTask:
    """The self-contained task for ``entry``: no path of this machine is in it.

    Raises:
        JupyterExpError: a ``-C`` path is missing; GitError: no git identity.
    """
    context = context or TaskContext.of(project)
    bases = [entry.baseline] + ([entry.parent] if entry.parent else [])
    thin = context.thin(project, bases)
    with tempfile.TemporaryDirectory(dir=project.tmp_dir) as scratch:
        path = Path(scratch) / "task.bundle"
        project.git.bundle_create(path, [queue_ref(entry.id)], bases if thin else [])
        bundle = path.read_bytes()
    return RemoteTask(
        token=token,
        entry=asdict(entry),
        bundle=bundle,
        prerequisites=tuple(bases) if thin else (),
        git_remote=context.url if thin else None,
        data_remote=context.data_remote,
        identity=context.identity,
        copies=_copies(project, entry),
        submitter=this_host(),
    )


def _copies(project: Project, entry: QueueEntry) -> tuple[tuple[str, bytes], ...]:
    """The ``-C`` paths' files, read now (the worker cannot see this workspace)."""
    where = option("copy_paths", label=True)
    files: list[tuple[str, bytes]] = []
    for path in entry.copy_paths:
        rel = project.resolve_relpath(path, where=where, output=True)
        source = project.root / rel
        if not source.exists():
            raise JupyterExpError(f"Cannot copy '{path}' into the run: it does not exist in the workspace.")
        found = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        files += [(p.relative_to(project.root).as_posix(), p.read_bytes()) for p in found]
    return tuple(files)


def claim(store: QueueStore, entry_id: str, token: str, worker: str) -> QueueEntry | None:
    """The task started on ``worker``: the entry is running, owned by ``token``. The
    submitting process holds its run lock meanwhile, and its pid and host are recorded
    (``queue stop --kill`` from any process marks it; this process passes that on)."""
    try:
        return claim_running(store, entry_id, token, f"dask {worker}")
    except (EntryGone, StateConflict):
        return None


def append_log(store: QueueStore, entry_id: str, text: str) -> None:
    if store.get(entry_id) is None:
        return
    with open(store.log_path(entry_id), "a", encoding="utf-8") as log:
        log.write(text)


def collect(project: Project, entry_id: str, token: str, result: RemoteResult) -> Outcome:
    """Record how a task ended, as a local run would (the caller holds the run lock).

    A result whose token no longer owns the entry is discarded, with a line in its log."""
    store = QueueStore(project)
    entry = store.get(entry_id)
    if entry is not None and entry.state == "queued" and entry.claim is None:
        entry = claim(store, entry_id, token, result.worker)  # its start event was not seen
    if entry is None or entry.claim != token:
        append_log(store, entry_id, f"A result from an earlier run ({result.state}, task {token[:8]}) was discarded.\n")
        clear_pending(project, entry_id, token)
        return Outcome(entry_id, entry.name if entry else entry_id, "skipped")

    def out(text: str) -> None:
        append_log(store, entry_id, text)

    try:
        if result.state == "success":
            return _record(project, store, entry, token, result, out)
        if result.state == "lost":
            out(f"ERROR: {LOST}\n")
            store.transition(entry_id, "failed", ("running",), owner=token, finished=time.time(), error=LOST)
            return Outcome(entry_id, entry.name, "failed", error=LOST)
        if result.state == "interrupted":
            return _finish_failed(store, entry, token, Cancelled(result.request or "stopped"), out, None)
        failure = JupyterExpError(result.error or "the run failed on its Dask worker")
        outcome = _finish_failed(store, entry, token, failure, out, None)
        if result.returncode is not None and outcome.state == "failed":
            store.transition(entry_id, "failed", ("failed",), owner=token, returncode=result.returncode)
        return outcome
    finally:
        clear_pending(project, entry_id, token)


def _record(project: Project, store: QueueStore, entry: QueueEntry, token: str, result: RemoteResult, out: Echo):
    from .snapshot import record

    git = project.git
    with tempfile.TemporaryDirectory(dir=project.tmp_dir) as scratch:
        path = Path(scratch) / "result.bundle"
        path.write_bytes(result.bundle or b"")
        git.bundle_unbundle(path)
    tip = result.tip or ""
    with store.locked(entry.id):
        try:
            current = store.transition(entry.id, "running", ("running",), owner=token)
        except (EntryGone, StateConflict):
            out(f"A result from an earlier run (task {token[:8]}) was discarded: the entry changed meanwhile.\n")
            return Outcome(entry.id, entry.name, "skipped")
        if current.stop_request is not None:
            return _finish_failed(store, current, token, Cancelled(current.stop_request), out, None)
        try:
            tree, parent, message = _commit_parts(git.read_object(tip), tip)
            rev = record(
                project,
                entry.baseline,
                entry.name,
                tree,
                message=message,
                force=bool(entry.flags.get("force_name")),
                parent=parent,
            )
        except JupyterExpError as exc:
            return _finish_failed(store, current, token, exc, out, None)
        mark_recorded(store, entry.id, token, rev)
    _fetch_outputs(project, rev, out)
    out(f"Reproduced experiment(s): {entry.name}\n")
    return Outcome(entry.id, entry.name, "success", exp_rev=rev)


def _commit_parts(found: tuple[str, str, bytes] | None, tip: str) -> tuple[str, str, str]:
    """Tree, first parent and message of the worker's commit (one read, no process)."""
    if found is None or found[1] != "commit":
        raise JupyterExpError(f"The Dask worker's result names commit {tip[:8]}, which its bundle lacks; retry it.")
    head, _, message = found[2].decode("utf-8", errors="replace").partition("\n\n")
    fields = [line.split(" ", 1) for line in head.splitlines() if " " in line]
    tree = next(value for key, value in fields if key == "tree")
    parent = next(value for key, value in fields if key == "parent")
    return tree, parent, message.rstrip("\n")


def _fetch_outputs(project: Project, rev: str, out: Echo) -> None:
    """Bring the experiment's outputs from the DVC remote (the worker pushed them), so
    ``apply`` and ``checkout`` work here. A failure is a line in the log: the
    experiment is recorded, and ``jupyter dvc fetch`` can bring them later."""
    from ..remote.config import resolve
    from ..remote.sync import fetch_objects, object_store, open_remote
    from ..remote.used import Revisions, wanted_objects

    if resolve(project) is None:
        return
    try:
        spec, objects = open_remote(project)
        wanted = wanted_objects(project, Revisions([rev]), [object_store(project), objects])
        fetch_objects(project, spec, objects, wanted)
    except JupyterExpError as exc:
        out(f"WARNING: the outputs stay on the DVC remote ({exc}); `jupyter dvc fetch` brings them.\n")
