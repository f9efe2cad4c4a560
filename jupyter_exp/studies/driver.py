"""The study driver: ask Optuna, queue the trial's experiment, run at most ``jobs`` at
once, watch its step metrics (pruning), read its objective, tell Optuna.

All talk with Optuna happens on the driver's own thread; the runs are
:func:`~jupyter_exp.experiments.executor.run_entry` calls on a thread pool (local) or
tasks on a Dask cluster, each claiming its queue entry as the queue's own workers do,
so a background worker never runs a trial twice. A driver that dies leaves its trials
``RUNNING`` in the study; ``--resume`` settles them from their queue entries: a run
that finished is told, one still queued is run, one whose worker died is failed.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..errors import JupyterExpError, option
from ..options import ReproOptions
from ..project import Project
from ..tree import GitTree
from .exceptions import StudyExistsError
from .objective import missing_objective, read_objective, workspace_doubt
from .pruning import histories, kill_quietly, read_seen, seen_path, write_seen
from .runner import make_runner
from .space import SearchSpace, parse_space
from .study import (
    Objective,
    Setup,
    check_choices,
    driving,
    free_name,
    load,
    make_pruner,
    make_sampler,
    optuna,
    status_line,
    study_names,
    trial_names_taken,
)
from .trial_queue import TrialQueue

POLL_SECONDS = 0.1
PRUNE_DECIDED = "prune_decided_at_step"  # a trial's user attribute: pruned, not yet told


@dataclass
class Active:
    """A trial whose experiment is queued or running."""

    trial: Any  # optuna.Trial
    entry_id: str | None  # None until a pool thread has queued it
    experiment: str
    future: Future | None  # None: someone else runs it; its queue entry is watched
    last_step: int = -1
    pruned: bool = False
    # What the run had written when it was pruned (path -> text): the objective's file as
    # last read, and DVCLive's step histories beside it. Recorded as its experiment when
    # the stopped run leaves none (a stage without checkpoints).
    seen: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    """How a search ended: its study, its best trial, and the status line."""

    study: str
    best_experiment: str | None
    best_value: float | None
    best_params: dict[str, Any] = field(default_factory=dict)
    status: str = ""

    def __str__(self) -> str:
        return self.status


def run_search(
    project: Project,
    set_params: list[str] | None = None,
    *,
    objective: str | None = None,
    maximize: bool = False,
    trials: int = 20,
    jobs: int = 1,
    name: str | None = None,
    sampler: str = "tpe",
    seed: int | None = None,
    prune: str | None = None,
    executor: str | None = None,
    resume: str | None = None,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    echo: Callable[[str], None] | None = None,
) -> SearchResult:
    """Run (or with ``resume``, continue) a study until it has ``trials`` trials.

    Raises :class:`~.exceptions.SearchError` subclasses for bad arguments, and the
    queue's errors when a trial cannot be queued (then nothing more is started).
    """
    say = echo or (lambda _text: None)
    if resume is not None:
        load(project, resume)  # (an unknown name: its error, before the lock)
        name = resume
    else:
        setup = _new_setup(set_params, objective, maximize, trials, sampler, seed, prune)
        make_sampler(setup, setup.space)  # the grid sampler refuses intervals now, before the study exists
        project.resolve_relpath(setup.objective.file, where=option("objective", label=True))  # and a path out
        trial_names = trial_names_taken(project)
        name = name or free_name(project, set(trial_names))
        from ..refs import check_name

        check_name(name)
    with driving(project, name):  # (another driver of it, or its removal: refused)
        if resume is not None:
            study, setup = load(project, resume)
        else:
            study = _create(project, name, setup, trial_names.get(name), options.force, say)
        from .mirror import mirrored

        # Read from memory, written through to the file (see mirror.py): the driver's own.
        study = optuna().load_study(
            study_name=name, storage=mirrored(_storage(project), name), sampler=study.sampler, pruner=study.pruner
        )
        Driver(project, study, name, setup, jobs, executor, targets, options, say).run()
        return result(project, name)


def _create(project: Project, name: str, setup: Setup, taken: list[str] | None, force: bool, say) -> Any:
    """New study ``name`` (under its driver lock); ``taken``: experiments named as its trials."""
    if name in study_names(project):
        raise StudyExistsError(
            f"Study '{name}' exists; continue it with {option('resume', name)} "
            f"or pick another {option('name', 'OTHER')}."
        )
    if taken and not force:  # (a removed study's, most often)
        raise StudyExistsError(
            f"Experiments {', '.join(taken)} on this baseline have the names study '{name}''s trials "
            f"would get; pick another {option('name', 'OTHER')}, or remove them (`exp remove {' '.join(taken)}`)."
        )
    study = optuna().create_study(
        study_name=name,
        storage=_storage(project),
        sampler=make_sampler(setup, setup.space),
        pruner=make_pruner(setup.prune),
        direction="maximize" if setup.objective.maximize else "minimize",
    )
    for key, value in setup.attrs().items():
        study.set_user_attr(key, value)
    if setup.limit < setup.trials:
        say(f"The grid has {setup.limit} points: study '{name}' runs {setup.limit} trials, not {setup.trials}.\n")
    if (doubt := workspace_doubt(project, setup.objective)) is not None:
        say(f"Warning: {doubt}; each trial fails unless its run writes it.\n")
    return study


def _storage(project: Project) -> Any:
    from .study import storage

    return storage(project)


def _new_setup(
    set_params: list[str] | None,
    objective: str | None,
    maximize: bool,
    trials: int,
    sampler: str,
    seed: int | None,
    prune: str | None,
) -> Setup:
    check_choices(trials, sampler, prune)
    parse_space(list(set_params or []))  # its errors before the objective's
    setup = Setup(tuple(set_params or ()), Objective.parse(objective, maximize), trials, sampler, seed, prune)
    return setup.with_points()


def result(project: Project, name: str) -> SearchResult:
    """The SearchResult of study ``name`` as it stands."""
    study, _setup = load(project, name)
    try:
        best = study.best_trial
    except ValueError:
        return SearchResult(name, None, None, {}, status_line(project, name))
    experiment = str(best.user_attrs.get("experiment", f"{name}-{best.number + 1}"))
    return SearchResult(name, experiment, best.value, dict(best.params), status_line(project, name))


class Driver:
    """One run of a study's loop (see the module's docstring)."""

    def __init__(
        self,
        project: Project,
        study: Any,
        name: str,
        setup: Setup,
        jobs: int,
        executor: str | None,
        targets: list[str] | None,
        options: ReproOptions,
        echo: Callable[[str], None],
    ) -> None:
        self.project, self.study, self.name, self.setup = project, study, name, setup
        self.space: SearchSpace = setup.space
        self.distributions = {d.name: d.distribution() for d in self.space.dimensions}
        self.jobs, self.targets, self.options, self.echo = max(1, jobs), targets, options, echo
        self.limit = setup.limit  # (a grid tries each point once)
        self.reported = False  # whether a run wrote a step value of the objective (pruning)
        self.runner = make_runner(executor, self.jobs)
        self.active: dict[int, Active] = {}
        self.progress_path = project.resolve_relpath(setup.objective.file, where=option("objective", label=True))
        self.TrialState = optuna().trial.TrialState

    # -- the loop --------------------------------------------------------------------
    def run(self) -> None:
        started = self._settle_left_over()
        if started >= self.limit and not self.active:
            self.echo(f"Study '{self.name}' has all its {self.limit} trials; nothing to run.\n")
        # One thread more than runs: it queues the next trial while the others run, then
        # waits for a slot (at most ``jobs`` run at once).
        self.pool = ThreadPoolExecutor(max_workers=self.jobs + 1, thread_name_prefix="jupyter-exp-search")
        self.slots = threading.Semaphore(self.jobs)
        self.stopping = threading.Event()
        self.trial_queue: TrialQueue | None = None
        finished = 0  # trials this run saw end
        try:
            if started < self.limit:  # trials to queue: the workspace's snapshot they start from
                self.trial_queue = TrialQueue(self.project, self.targets, self.options)
            for active in self.active.values():
                if active.entry_id and self._entry_state(active.entry_id) == "queued":
                    active.future = self.pool.submit(self._run, active.entry_id)
            while True:
                # One trial more than runs: it is sampled and queued while the others run,
                # and the pool starts it the moment a slot frees.
                while len(self.active) < self.jobs + 1 and started < self.limit:
                    self._start()
                    started += 1
                if not self.active:
                    break
                futures = [a.future for a in self.active.values() if a.future is not None]
                if futures:
                    wait(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(POLL_SECONDS)
                for number, active in list(self.active.items()):
                    if self._finished(active):
                        del self.active[number]
                        finished += 1
                    elif self.setup.prune:
                        self._watch(active)
            if self.setup.prune and finished and not self.reported:
                file, key = self.setup.objective.file, self.setup.objective.key
                self.echo(
                    f"--prune {self.setup.prune} pruned nothing: no run wrote a step value of '{key}' to {file} "
                    f"(DVCLive writes one at each next_step(); so does jupyter_exp.live).\n"
                )
        except KeyboardInterrupt:
            # Before the pool waits for its threads: the runs are stopped and their entries
            # go back to the queue (a trial not started stays queued); --resume runs them.
            self.stopping.set()
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.runner.stop(self.project)
            raise JupyterExpError(
                f"Interrupted; study '{self.name}' keeps its trials; continue it with {option('resume', self.name)}."
            ) from None
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.runner.close()
            if self.trial_queue is not None:
                self.trial_queue.close()

    def _settle_left_over(self) -> int:
        """Trials a dead driver left RUNNING: told from their entries, or run now.
        Returns how many trials the study has."""
        from ..experiments.queue_store import QueueStore

        entries = QueueStore(self.project).entries()  # dead runs read failed
        by_id = {e.id: e for e in entries}
        baseline = self.project.git.head()
        # A driver killed between queueing a trial and noting its entry: found by name.
        by_name = {e.name: e for e in entries if e.baseline == baseline}
        trials = self.study.get_trials(deepcopy=False)
        for frozen in trials:
            if frozen.state != self.TrialState.RUNNING:
                continue
            trial = optuna().Trial(self.study, frozen._trial_id)
            experiment = str(frozen.user_attrs.get("experiment", f"{self.name}-{frozen.number + 1}"))
            entry = by_id.get(str(frozen.user_attrs.get("entry_id"))) or by_name.get(experiment)
            if entry is None:
                self._fail(trial, experiment, "its experiment was never queued or was removed from the queue")
                continue
            active = Active(trial, entry.id, experiment, None)
            decided = frozen.user_attrs.get(PRUNE_DECIDED)
            if isinstance(decided, int) and entry.state != "queued":  # (one back in the queue runs afresh)
                # Pruned by the dead driver, which had not told it yet: it is pruned.
                active.pruned, active.last_step, active.seen = True, decided, read_seen(self.project, entry.id)
            if entry.state in ("queued", "running"):
                self.active[frozen.number] = active
                if active.pruned:  # still running elsewhere (a Dask worker): stopped again
                    threading.Thread(target=kill_quietly, args=(self.project, experiment), daemon=True).start()
            elif entry.state == "failed" and (recorded := self._recorded(entry)) is not None:
                self._tell(active, "success", recorded, None)
            else:
                self._tell(active, entry.state, entry.exp_rev, entry.error)
        return len(trials)

    def _recorded(self, entry: Any) -> str | None:
        """The experiment a failed entry's run recorded before its worker died (killed
        between writing the experiment's ref and marking the entry done), or None. Not
        for checkpoint runs: their ref moves at every step, so it says nothing of the end."""
        from ..experiments.snapshot import ZERO
        from ..pipeline.dvcfile import load_all
        from ..refs import ExpRef

        rev = self.project.git.rev_parse(str(ExpRef(entry.baseline, entry.name)))
        if rev in (None, ZERO) or self.project.git.rev_parse(f"{rev}^") != entry.baseline:
            return None
        try:
            stages = [s for p in load_all(self.project, GitTree(self.project.git, entry.rev)) for s in p.stages]
        except JupyterExpError:
            return None
        return None if any(s.has_checkpoint for s in stages) else rev

    def _start(self) -> None:
        trial = self.study.ask(self.distributions)
        active = Active(trial, None, f"{self.name}-{trial.number + 1}", None)
        # Queued on a pool thread (it takes ~0.1 s): the driver's thread only talks to Optuna.
        active.future = self.pool.submit(self._queue_and_run, active)
        self.active[trial.number] = active

    def _queue_and_run(self, active: Active) -> Any:
        from ..overrides import group_by_file

        assert self.trial_queue is not None  # made before any trial starts
        # One value each (sweeps are the space's dimensions): no Hydra parse for sweeps.
        overrides = group_by_file(self.space.overrides(active.trial.params))
        active.entry_id = self.trial_queue.queue(active.experiment, overrides)
        # --resume finds the entry by name if the driver dies before telling
        return self._run(active.entry_id)

    def _run(self, entry_id: str) -> Any:
        from ..experiments.executor import Outcome

        with self.slots:
            if self.stopping.is_set():  # interrupted while it waited: it stays queued
                return Outcome(entry_id, entry_id, "skipped")
            return self.runner(str(self.project.root), entry_id)

    def _finished(self, active: Active) -> bool:
        """Whether ``active``'s run ended; if so, its trial is told."""
        if active.future is not None:
            if not active.future.done():
                return False
            try:
                outcome = active.future.result()
            except JupyterExpError as exc:
                # A trial that cannot even be queued means every one would fail: stop here.
                self._fail(active.trial, active.experiment, str(exc), echo=False)
                raise
            except Exception as exc:  # the executor itself failed (a lost Dask worker)
                self._fail(active.trial, active.experiment, f"its run could not finish: {exc}")
                return True
            if outcome.state == "skipped":  # another worker claimed the entry: watch it instead
                active.future = None
                return False
            if outcome.state == "queued":
                raise KeyboardInterrupt  # the run was interrupted: so is the search
            self._tell(active, outcome.state, outcome.exp_rev, outcome.error)
            return True
        assert active.entry_id is not None  # adopted trials have their entries
        state = self._entry_state(active.entry_id)
        if state in ("queued", "running"):
            return False
        from ..experiments.queue_store import QueueStore

        entry = QueueStore(self.project).get(active.entry_id)
        self._tell(active, state, entry.exp_rev if entry else None, entry.error if entry else None)
        return True

    def _entry_state(self, entry_id: str) -> str:
        from ..experiments.queue_store import QueueStore

        entry = QueueStore(self.project).current(entry_id)  # its record only, not the whole queue's
        return entry.state if entry is not None else "removed"

    # -- telling ---------------------------------------------------------------------
    def _tell(self, active: Active, state: str, rev: str | None, error: str | None) -> None:
        try:
            self._tell_trial(active, state, rev, error)
        finally:
            if active.entry_id is not None:
                seen_path(self.project, active.entry_id).unlink(missing_ok=True)

    def _recorded_as_pruned(self, rev: str | None) -> bool:
        """Whether ``rev`` is what :meth:`_record_pruned` wrote (a driver that died before
        telling Optuna leaves a pruned trial's entry successful, or failed with that ref)."""
        if rev is None:
            return False
        said = next((message for _, message in self.project.git.commit_messages([rev])), "")
        return said.startswith(f"{self.name}: trial ") and " pruned at step " in said.split("\n", 1)[0]

    def _tell_trial(self, active: Active, state: str, rev: str | None, error: str | None) -> None:
        trial, experiment = active.trial, active.experiment
        if active.pruned and state == "success" and not self._recorded_as_pruned(rev):
            active.pruned = False  # the stop came after the run had ended: it ran to the end
        if active.pruned:
            trial.set_user_attr("pruned_at_step", active.last_step)
            if rev is None:
                self._record_pruned(active)  # before telling: it notes its commit on the trial
            self.study.tell(trial, state=self.TrialState.PRUNED)
            self.echo(f"{experiment}: pruned at step {active.last_step}\n")
            return
        if state != "success" or rev is None:
            self._fail(trial, experiment, f"its experiment {state}: {error or 'no reason recorded'}")
            return
        value, data = read_objective(self.project, rev, self.setup.objective)
        if value is None:
            self._fail(trial, experiment, missing_objective(self.setup.objective, data, experiment))
            return
        self.study.tell(trial, value)
        shown = ", ".join(f"{k}={v!r}" for k, v in trial.params.items())
        self.echo(f"{experiment}: {value:.6g} ({shown})\n")

    def _fail(self, trial: Any, experiment: str, reason: str, echo: bool = True) -> None:
        trial.set_user_attr("error", reason)
        self.study.tell(trial, state=self.TrialState.FAIL)
        if echo:  # (not when the error is raised: its front end says it, in its own words)
            self.echo(f"{experiment}: failed: {reason}\n")

    def _record_pruned(self, active: Active) -> None:
        """A pruned run that recorded nothing (a stage without checkpoints ends with
        nothing committed) becomes the experiment DVC users expect: the queued snapshot
        (its sampled params) with the metrics and step histories it had written when it
        was stopped. A checkpoint run keeps the checkpoints it made instead."""
        from ..experiments.queue_store import QueueStore
        from ..experiments.snapshot import record, snapshot_tree
        from ..refs import ExpRef

        entry = QueueStore(self.project).get(active.entry_id) if active.entry_id else None
        if entry is None or not active.seen:
            return
        if self.project.git.rev_parse(str(ExpRef(entry.baseline, entry.name))) is not None:
            return  # its checkpoints were recorded
        tree = snapshot_tree(self.project, [], base=entry.rev, blobs=active.seen, tracked_changes=False)
        message = f"{self.name}: trial {active.trial.number + 1} pruned at step {active.last_step}"
        try:
            rev = record(self.project, entry.baseline, entry.name, tree, message=message)
        except JupyterExpError as exc:  # the name was taken meanwhile: the study goes on
            active.trial.set_user_attr("error", f"its pruned state was not recorded: {exc}")
            return
        active.trial.set_user_attr("exp_rev", rev)
        # Its queue entry (failed: it was killed) now points at what it recorded, as a
        # finished run's does: one row in the table, its log kept, `queue status` says why.
        from ..experiments.exceptions import EntryGone, StateConflict

        with contextlib.suppress(EntryGone, StateConflict):
            QueueStore(self.project).transition(
                entry.id,
                "success",
                ("failed",),
                exp_rev=rev,
                error=f"pruned at step {active.last_step} by study '{self.name}'",
            )

    # -- pruning ---------------------------------------------------------------------
    def _watch(self, active: Active) -> None:
        """Report the run's newest step value of the objective; stop the run if Optuna
        prunes it."""
        if active.pruned or active.entry_id is None:
            return
        path = self.project.exp_run_dir(active.entry_id) / self.progress_path
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, ValueError):
            return  # not written yet, or caught half written: read it next time
        step = data.get("step") if isinstance(data, dict) else None
        value = self.setup.objective.value_in(data)
        if not isinstance(step, int) or step <= active.last_step or value is None:
            return
        active.last_step, self.reported = step, True
        active.trial.report(value, step)
        if active.trial.should_prune():
            active.pruned = True
            active.seen = {self.progress_path: text, **histories(path.parent, self.progress_path)}
            # The decision is kept before the run is stopped (what it had written, then the
            # step on the trial, which says the file is whole): a driver that dies before
            # telling leaves a pruned trial to --resume, not a failed one.
            write_seen(self.project, active.entry_id, active.seen)
            active.trial.set_user_attr(PRUNE_DECIDED, active.last_step)
            # kill waits a grace period per signal: not on the driver's thread.
            threading.Thread(target=kill_quietly, args=(self.project, active.experiment), daemon=True).start()
