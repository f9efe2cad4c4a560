"""Running queue entries, each in a directory of its own under ``.dvc/tmp/exps/``.

A run directory holds what the entry's snapshot commit holds (HEAD, what was
staged and the tracked changes), then data tracked by ``.dvc`` files and stage
outputs linked from the shared cache, then the ``-C`` copies. It is a git
repository of its own, as DVC's temporary executors are: its own index, HEAD
(detached at the baseline, which is what DVCLive reads) and refs, so stages that
call git (DVCLive's ``git add``) never race on the user's ``index.lock``. Its
object store borrows the project's through ``objects/info/alternates`` (nothing is
copied), and our own git commands there write their objects straight into the
project's store (``GIT_OBJECT_DIRECTORY``), so the experiment commit, built from
the run's files plus whatever the stages staged, lands in the user's repository
and its ref is written there last, with the same compare-and-swap as a workspace
run. The workspace, HEAD and index are never touched, and the directory is
removed afterwards, also after failures.

The seam: :class:`Executor` runs a list of entry ids, N at a time, through the
top-level function :func:`run_entry` (picklable: a distributed engine such as Dask
can ship it to other machines that see the same project). :class:`LocalExecutor`
is the embedded default: threads of this process, each driving the stage commands
as local processes.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import shutil
import signal
import threading
import time
import traceback
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import faults
from ..errors import JupyterExpError, MissingDependencyError, StageFailedError, option
from ..git import Git
from ..pipeline.cache import remove
from ..pipeline.dvcfile import load_all
from ..pipeline.repro import reproduce
from ..pipeline.results import Echo
from ..pipeline.tracked import checkout
from ..processes import start_time
from ..project import Project
from ..refs import ExpRef
from .checkpoints import CheckpointChain
from .exceptions import EntryGone, StateConflict
from .history import first_parents
from .queue import claim_running, mark_recorded, stop_running, stop_stage
from .queue_store import QueueEntry, QueueStore
from .snapshot import ZERO, experiment_message, record, run_files, snapshot_tree


@dataclass(frozen=True)
class Outcome:
    """How one entry's run ended."""

    entry_id: str
    name: str
    state: str  # success | failed | queued (interrupted: back in the queue) | skipped | removed
    exp_rev: str | None = None
    error: str | None = None  # in Python's words, as the entry's record keeps it
    # The engine's words for ``error`` (options marked; see errors.option), for a front
    # end that reports this run's failure itself (a --temp run) to spell in its own.
    error_template: str | None = field(default=None, compare=False, repr=False)


class Cancelled(Exception):
    """The run was stopped on purpose (Ctrl+C, queue stop --kill)."""


class ClaimLost(Cancelled):
    """The entry was removed, killed or stopped while it ran: nothing is recorded."""


def _prepare(project: Project, entry: QueueEntry, run_dir: Path) -> Project:
    """Fill ``run_dir`` from the entry's snapshot, share the cache, copy ``-C`` paths."""
    if run_dir.exists():
        remove(run_dir)  # left by a run that was killed
    run_dir.mkdir(parents=True)
    # A repository of its own, reading and writing the project's objects.
    git = Git.init_borrowing(run_dir, project.git.git_path("objects").resolve())
    git.update_ref("HEAD", entry.baseline, no_deref=True)
    index = git.index()
    index.read_tree(entry.rev)  # the run repository's own index: the snapshot is tracked there
    index.checkout_all()
    run_project = Project(run_dir, git=git)
    local = configparser.ConfigParser()
    local.read(project.local_config_file)
    if not local.has_section("cache"):
        local.add_section("cache")
    local.set("cache", "dir", str(project.cache_dir.resolve()))
    run_project.dvc_dir.mkdir(exist_ok=True)
    with open(run_project.local_config_file, "w") as fobj:
        local.write(fobj)
    for path in entry.copy_paths:
        # -C names a workspace path; it is copied to the same place in the run's directory,
        # so both ends go through the boundary (the target's symlinks come from the commit).
        rel = project.resolve_relpath(path, where=option("copy_paths", label=True), output=True)
        source = project.root / rel
        target = run_project.resolve(rel, where=option("copy_paths", label=True), output=True)
        if not source.exists():
            raise JupyterExpError(f"Cannot copy '{path}' into the run: it does not exist in the workspace.")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    checkout(run_project, force=True, allow_missing=True)
    return run_project


def _explain_missing(project: Project, exc: MissingDependencyError) -> JupyterExpError:
    if exc.path and (project.root / exc.path).exists():
        return JupyterExpError(
            f"{exc} '{exc.path}' is in your workspace but git ignores it, so the run did not get it; "
            f"queue again with {option('copy_paths', exc.path)}."
        )
    return exc


def execute(
    project: Project,
    entry: QueueEntry,
    echo: Echo,
    on_start: Callable[[int], None] | None = None,
    commit: Callable[[Callable[[], str]], str] | None = None,
) -> str:
    """Reproduce ``entry`` in its own directory and record the experiment; return its commit.

    ``commit`` wraps the recording step (it is given the function that records and
    returns the commit): the queue checks there, under the entry's lock, that the run
    still owns its entry, and marks it done in the same hold. If it refuses
    (:class:`ClaimLost`) nothing is recorded.
    """
    run_dir = project.exp_run_dir(entry.id)
    try:
        run_project = _prepare(project, entry, run_dir)
        env = {"DVC_EXP_NAME": entry.name, "DVC_EXP_BASELINE_REV": entry.baseline}
        chain = None
        stages = [s for p in load_all(run_project) for s in p.stages]  # every dvc.yaml
        if any(s.has_checkpoint for s in stages):
            # Queued and temporary checkpoint runs start afresh from the baseline, unless
            # they resume a checkpoint (-r/--rev): then their chain goes on from it.
            first_step = 0
            if entry.parent:
                env["DVCLIVE_RESUME"] = "1"
                first_step = len(first_parents(project, entry.parent, entry.baseline))
            else:  # DVC 2: --queue implies --reset: outputs the snapshot's lock brought go
                for stage in stages:
                    for out in stage.outs:
                        if out.checkpoint:
                            remove(run_project.root / out.path)
            chain = CheckpointChain(
                run_project,
                project,
                entry.baseline,
                entry.name,
                entry.parent or entry.baseline,
                project.git.rev_parse(str(ExpRef(entry.baseline, entry.name))) or ZERO,
                base=entry.rev,
                message=entry.message,
                echo=echo,
                workspace=False,
                first_step=first_step,
            )
        try:
            reproduce(
                run_project,
                list(entry.targets) or None,
                entry.options,
                env=env,
                echo=echo,
                on_start=on_start,
                on_checkpoint=chain.checkpoint if chain else None,
            )
        except MissingDependencyError as exc:
            if chain:
                chain.finish("failed")
            raise _explain_missing(project, exc) from None
        except BaseException:
            if chain:
                chain.finish("failed")
            raise

        def make_rev() -> str:
            if chain is not None:
                rev = chain.finish("success")
                if rev is not None:
                    return rev
            tree = snapshot_tree(run_project, run_files(run_project, entry.rev), base=entry.rev)
            return record(
                project,
                entry.baseline,
                entry.name,
                tree,
                message=entry.message or experiment_message(run_project),
                force=bool(entry.flags.get("force_name")),
            )

        try:
            return commit(make_rev) if commit is not None else make_rev()
        except ClaimLost:  # refused before anything was recorded
            if chain is not None:
                chain.finish("failed")
            raise
    finally:
        if run_dir.exists():
            remove(run_dir)


def run_entry(
    root: str,
    entry_id: str,
    echo: Echo | None = None,
    cancel: threading.Event | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Outcome:
    """Claim queue entry ``entry_id`` of the project at ``root`` and run it.

    Holds the entry's run lock for the whole run; an entry someone else runs, or that
    is no longer queued, is skipped. Every change of the entry's record is a
    transition of the queue store, made for this run's claim. Output goes to the
    entry's log (and to ``echo``). ``should_stop`` (a background worker asked to stop)
    is asked once the entry is claimed: a stop requested before then gives it back.
    """
    project = Project(root)
    store = QueueStore(project)
    with store.try_lock(entry_id) as held:
        entry = store.get(entry_id)
        if not held or entry is None or entry.state != "queued":
            return Outcome(entry_id, entry.name if entry else entry_id, "skipped")
        # A stage the previous claim of this entry left running (its worker was killed)
        # must not write into the run directory this run is about to reuse.
        stop_stage(entry)
        token = uuid.uuid4().hex
        # The log exists before the record says running: a worker killed at any later
        # moment leaves the log the failed entry points to.
        with open(store.log_path(entry_id), "a", encoding="utf-8") as log:

            def out(text: str) -> None:
                log.write(text)
                log.flush()
                if echo is not None:
                    echo(text)

            try:
                entry = claim_running(store, entry_id, token, threading.current_thread().name)
            except (EntryGone, StateConflict):
                return Outcome(entry_id, entry.name, "skipped")
            if should_stop is not None and should_stop():
                with contextlib.suppress(EntryGone, StateConflict):
                    store.transition(
                        entry_id, "queued", ("running",), owner=token, pid=None, worker=None, started=None, claim=None
                    )
                if log.tell() == 0:  # it never ran: no log (an earlier run's log stays)
                    store.log_path(entry_id).unlink(missing_ok=True)
                return Outcome(entry_id, entry.name, "skipped")
            log.write(f"Running experiment '{entry.name}' (pid {os.getpid()}).\n")
            log.flush()
            faults.point("queue.claimed")

            def started(pgid: int) -> None:
                try:
                    now = store.transition(
                        entry_id,
                        "running",
                        ("running",),
                        owner=token,
                        returncode=None,
                        pgid=pgid,
                        pgid_start=start_time(pgid),
                    )
                    stop = now.stop_request is not None
                except (EntryGone, StateConflict):
                    stop = True
                if stop:  # removed, killed or stopped before this stage began: it is ours
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pgid, signal.SIGKILL)

            def commit(make_rev: Callable[[], str]) -> str:
                with store.locked(entry_id):
                    try:
                        current = store.transition(entry_id, "running", ("running",), owner=token)
                    except (EntryGone, StateConflict) as exc:
                        raise ClaimLost(str(exc)) from None
                    if current.stop_request is not None:
                        raise ClaimLost(current.stop_request)
                    rev = make_rev()
                    mark_recorded(store, entry_id, token, rev)
                    return rev

            try:
                rev = execute(project, entry, out, started, commit)
            except BaseException as exc:
                return _finish_failed(store, entry, token, exc, out, cancel)
            out(f"Reproduced experiment(s): {entry.name}\n")
            return Outcome(entry_id, entry.name, "success", exp_rev=rev)


def _finish_failed(
    store: QueueStore, entry: QueueEntry, token: str, exc: BaseException, out: Echo, cancel: threading.Event | None
) -> Outcome:
    current = store.get(entry.id)
    if current is None or current.claim != token:
        out("Removed from the queue while it ran; nothing was recorded.\n")
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        return Outcome(entry.id, entry.name, "removed")
    request = current.stop_request
    stopped = request == "requeue" or (
        request is None
        and (isinstance(exc, (KeyboardInterrupt, Cancelled)) or (cancel is not None and cancel.is_set()))
    )
    try:
        if stopped:
            # Stopped on purpose: back in the queue, nothing lost. Said in its log first: a
            # `queue logs -f` ends when the entry leaves "running", and reads what is there.
            out("Interrupted; the experiment is back in the queue.\n")
            store.transition(
                entry.id,
                "queued",
                ("running",),
                owner=token,
                pid=None,
                worker=None,
                started=None,
                pgid=None,
                pgid_start=None,
                claim=None,
                stop_request=None,
            )
            if isinstance(exc, KeyboardInterrupt):
                raise exc
            return Outcome(entry.id, entry.name, "queued")
        template = None
        if request == "kill":
            # The stage's own complaint about the signal (a KeyboardInterrupt traceback)
            # is not the user's code failing: say who stopped it.
            message = "killed by `jupyter exp queue kill`; its log keeps the output until then"
        elif isinstance(exc, JupyterExpError):
            message, template = str(exc), exc.template
        else:
            message = f"{type(exc).__name__}: {exc}"
            out(traceback.format_exc())
        out(f"ERROR: {message}\n")
        code = exc.returncode if isinstance(exc, StageFailedError) else None
        store.transition(
            entry.id,
            "failed",
            ("running",),
            owner=token,
            finished=time.time(),
            error=message,
            returncode=code,
            pgid=None,
            pgid_start=None,
        )
    except (EntryGone, StateConflict):
        out("Removed from the queue while it ran; nothing was recorded.\n")
        return Outcome(entry.id, entry.name, "removed")
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    return Outcome(entry.id, entry.name, "failed", error=message, error_template=template)


@dataclass
class Control:
    """How a caller steers a batch: ``drain`` starts nothing new, ``cancel`` also
    interrupts what runs (those entries go back to the queue); ``on_finish`` hears of
    every entry that ended (from the thread that ran it). ``stop_file``: a background
    worker's, through which a stop asked from another process reaches it."""

    drain: threading.Event
    cancel: threading.Event
    on_finish: Callable[[Outcome], None] | None = None
    stop_file: Path | None = None

    @classmethod
    def new(cls, on_finish: Callable[[Outcome], None] | None = None, stop_file: Path | None = None) -> Control:
        return cls(threading.Event(), threading.Event(), on_finish, stop_file)

    def stopping(self) -> bool:
        """Whether to start nothing new (asked here, or through the stop file)."""
        if self.stop_file is not None and self.stop_file.exists():
            self.drain.set()
        return self.drain.is_set() or self.cancel.is_set()


class Executor(ABC):
    """Runs entries N at a time; what a distributed engine implements to plug in."""

    @abstractmethod
    def run(
        self, root: str, entry_ids: list[str], jobs: int, echo_for: Callable[[str], Echo | None], control: Control
    ) -> list[Outcome]:
        """Run every entry (each through :func:`run_entry`) and return their outcomes."""

    def has_pending(self, root: str) -> bool:
        """Whether tasks an earlier process submitted may have results to collect (a
        :meth:`run` with no entries collects them)."""
        return False


class LocalExecutor(Executor):
    """Threads of this process; the stage commands are local processes."""

    def run(
        self, root: str, entry_ids: list[str], jobs: int, echo_for: Callable[[str], Echo | None], control: Control
    ) -> list[Outcome]:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="jupyter-exp") as pool:
            futures = [pool.submit(self._one, root, entry_id, echo_for(entry_id), control) for entry_id in entry_ids]
            try:
                return [future.result() for future in futures]
            except KeyboardInterrupt:
                # Stop the runs before the pool waits for its threads: their commands
                # are interrupted, and their entries go back to the queue.
                control.cancel.set()
                stop_running(Project(root), "requeue", pid=os.getpid())
                raise

    @staticmethod
    def _one(root: str, entry_id: str, echo: Echo | None, control: Control) -> Outcome:
        if control.stopping():
            return Outcome(entry_id, entry_id, "skipped")
        outcome = run_entry(root, entry_id, echo, control.cancel, control.stopping)
        if control.on_finish is not None and outcome.state != "skipped":
            control.on_finish(outcome)
        return outcome
