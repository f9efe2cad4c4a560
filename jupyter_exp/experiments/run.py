"""``exp run`` in the workspace and ``exp save``: reproduce (or not), then record.

The user's HEAD, branch and index never move; the results stay in the workspace,
as DVC leaves them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from .. import faults
from ..errors import JupyterExpError, PathError, option
from ..options import ReproOptions
from ..overrides import apply_overrides, group_by_file, is_sweep
from ..pipeline.dvcfile import load_pipeline, walk_pipelines
from ..pipeline.repro import commit, reproduce
from ..pipeline.results import Echo, StageResult, echo_stdout
from ..pipeline.runner import stop_orphaned_stage
from ..project import Project
from ..refs import ExpRef, check_name
from .catalog import list_experiments
from .checkpoints import clear_progress, publish_progress
from .exceptions import ExperimentExistsError, NoBaselineError
from .history import first_parents
from .names import random_name
from .recordable import check_can_record
from .snapshot import ZERO, changed_data, pipeline_files, preserved_index, record, snapshot_tree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .queue_store import QueueEntry


@dataclass(frozen=True)
class Experiment:
    """An experiment that was just recorded."""

    name: str
    rev: str
    baseline: str
    ref: str
    stages: tuple[StageResult, ...] = ()


def _baseline(project: Project) -> str:
    head = project.git.head()
    if head is None:
        raise NoBaselineError("Experiments need a baseline commit; commit your project first (git commit).")
    return head


def _refuse_sweeps(set_params: list[str] | None) -> None:
    """One run takes one value per param: a sweep is for the queue."""
    if set_params and is_sweep(set_params):
        raise JupyterExpError(f"Sweep overrides need the queue; queue them with {option('queue')} or give one value.")


def choose_name(project: Project, baseline: str, name: str | None, force: bool) -> tuple[str, str | None]:
    """Validate ``name`` (or make one up), failing early if it is taken and not ``force``.

    Returns the name and the commit its ref points at now (None: a new name).
    """
    taken = {e.name: e.rev for e in list_experiments(project) if e.baseline == baseline}
    if name is None:
        return random_name(set(taken)), None
    check_name(name)
    if name in taken and not force:
        raise ExperimentExistsError.taken(name, baseline)
    return name, taken.get(name)


def run(
    project: Project,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    message: str | None = None,
    reset: bool = False,
    echo: Echo | None = None,
    on_progress: Callable[[dict], None] | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> Experiment:
    """Apply ``set_params``, reproduce in the workspace with ``options``, and record the
    experiment.

    ``options.force`` reproduces every stage and overwrites an experiment of the same
    name; ``confirm(question)`` is asked before each stage runs. A pipeline with
    checkpoint outputs records a commit per step and resumes the workspace's last
    checkpoint experiment unless ``reset`` (see checkpoints.py); ``on_progress`` then
    hears each step.

    Raises:
        NoBaselineError, ExperimentExistsError, InvalidExpNameError, ParamsError,
        StageFailedError (no ref is written when a stage fails; committed checkpoints stay).
    """
    # The project lock is held from the overrides to the recorded ref: two runs
    # in one workspace never interleave (the second waits, then fails in one line).
    with project.lock():
        echo = echo or echo_stdout
        baseline = _baseline(project)
        _refuse_sweeps(set_params)
        # Loaded once and passed down: again only when -S rewrote a file they were built from.
        pipelines = walk_pipelines(project)
        if any(stage.has_checkpoint for stage in pipelines.stages):
            return _run_checkpoints(
                project, baseline, targets, set_params, name, message, reset, options, confirm, echo, on_progress
            )
        name, existing = choose_name(project, baseline, name, options.force)
        check_can_record(project, name, pipelines)
        if set_params:
            overrides = group_by_file(set_params)
            apply_overrides(project.root, overrides)
            if pipelines.reads(set(overrides)):
                pipelines = walk_pipelines(project)
        env = {"DVC_EXP_NAME": name, "DVC_EXP_BASELINE_REV": baseline}
        # Announced while it runs, for tables in other processes; gone once it ends.
        publish_progress(
            project,
            {
                "experiment": name,
                "baseline": baseline,
                "state": "running",
                "started": time.time(),
                "step": None,
                "total": None,
                "metrics": {},
            },
        )
        try:
            # As `dvc exp run`: data tracked by .dvc files that changed is committed
            # first, so the experiment records the data its stages read.
            changed_data(project, write=True)
            with preserved_index(project):
                results = reproduce(project, targets, options, env=env, echo=echo, confirm=confirm, pipelines=pipelines)
                faults.point("run.reproduced")
                rev = record(
                    project,
                    baseline,
                    name,
                    snapshot_tree(project, pipeline_files(project, pipelines)),
                    message=message,
                    force=options.force,
                    existing=existing or ZERO,
                )
        finally:
            clear_progress(project, name)
        echo(f"\nReproduced experiment(s): {name}\nExperiment results have been applied to your workspace.\n")
        return Experiment(name, rev, baseline, str(ExpRef(baseline, name)), tuple(results))


def _run_checkpoints(
    project: Project,
    baseline: str,
    targets: list[str] | None,
    set_params: list[str] | None,
    name: str | None,
    message: str | None,
    reset: bool,
    options: ReproOptions,
    confirm: Callable[[str], bool] | None,
    echo: Echo,
    on_progress: Callable[[dict], None] | None,
) -> Experiment:
    """A workspace run of a pipeline with checkpoint outputs: new, resumed or modified."""
    from ..params_metrics import flat_data, read_params
    from ..pipeline.cache import remove
    from ..tree import GitTree, WorkspaceTree
    from .checkpoints import (
        CheckpointChain,
        ResumePoint,
        find_resume_point,
        load_workspace_state,
        restore_checkpoint_outs,
        save_workspace_state,
    )

    check_can_record(project)
    # DVC 2: -f regenerates from scratch, as --reset does.
    reset = reset or options.force
    stages = load_pipeline(project.root).stages
    state = None if reset else load_workspace_state(project)
    # The run goes on from the checkpoint the workspace's checkpoint outputs come from
    # (after `exp apply` of a step, that step), else from the last experiment's tip.
    point = None if reset else find_resume_point(project, baseline, stages, state)
    if point is None and state is not None and state.baseline == baseline:
        # Wherever the experiment's ref is now: a run killed between its commit and
        # this bookkeeping must not fork the chain.
        tip_now = project.git.rev_parse(str(ExpRef(baseline, state.name)))
        if tip_now is not None:  # else the experiment was removed since
            steps = len(first_parents(project, tip_now, baseline))
            point = ResumePoint(state.name, tip_now, steps, True)
    if reset:
        for stage in stages:
            for out in stage.outs:
                if out.checkpoint:
                    remove(project.root / out.path)
        save_workspace_state(project, None)
    if set_params:
        apply_overrides(project.root, group_by_file(set_params))
    env = {"DVC_EXP_BASELINE_REV": baseline}
    if point is not None:
        # Steps are labelled as DVCLive counts them (its `step` metric): the first is 0.
        label = point.count - 1
        same_params = flat_data(read_params(project, WorkspaceTree(project.root))) == flat_data(
            read_params(project, GitTree(project.git, point.rev))
        )
        if point.tip and same_params and name in (None, point.name):
            chain_name, parent, tip = point.name, point.rev, point.rev
            echo(f"Resuming checkpoint experiment '{point.name}' from step {label}.\n")
        else:
            chain_name, _ = choose_name(project, baseline, name, options.force)
            parent, tip = point.rev, ZERO
            if point.tip:
                echo(f"Modified checkpoint experiment based on '{point.name}' will be created as '{chain_name}'.\n")
            else:
                echo(
                    f"Checkpoint experiment '{chain_name}' will go on from step {label} of '{point.name}' "
                    f"({point.rev[:7]}).\n"
                )
        if project.running_stage_file.exists():
            # The last run was killed while its stage ran: a checkpoint output may be
            # half-written. Its stage stopped first, go on from what the step committed.
            # (A deletion or an edit between runs is the user's: left as it is.)
            stop_orphaned_stage(project.running_stage_file)
            for path in restore_checkpoint_outs(project, stages, point.rev):
                echo(f"Restored '{path}' as step {label} recorded it.\n")
        env["DVCLIVE_RESUME"] = "1"
        first_step = point.count
    else:
        chain_name, existing = choose_name(project, baseline, name, options.force)
        parent, tip, first_step = baseline, existing or ZERO, 0
        echo(f"{'Reset: starting' if reset else 'Starting'} checkpoint experiment '{chain_name}'.\n")
    env["DVC_EXP_NAME"] = chain_name
    chain = CheckpointChain(
        project,
        project,
        baseline,
        chain_name,
        parent,
        tip,
        message=message,
        echo=echo,
        on_progress=on_progress,
        first_step=first_step,
    )
    changed_data(project, write=True)
    with preserved_index(project):
        try:
            results = reproduce(
                project, targets, options, env=env, echo=echo, on_checkpoint=chain.checkpoint, confirm=confirm
            )
        except BaseException:
            chain.finish("interrupted")
            if chain.steps:
                echo(
                    f"Kept {chain.steps} checkpoint(s) of '{chain_name}'; `exp run` resumes from step "
                    f"{first_step + chain.steps - 1}.\n"
                )
            raise
        rev = chain.finish("success")
        if rev is None:  # the stage never asked for a checkpoint: one ordinary commit
            rev = record(
                project,
                baseline,
                chain_name,
                snapshot_tree(project, pipeline_files(project)),
                message=message,
                force=options.force,
                parent=parent,
                existing=tip,
            )
    echo(f"\nReproduced experiment(s): {chain_name}\nExperiment results have been applied to your workspace.\n")
    return Experiment(chain_name, rev, baseline, str(ExpRef(baseline, chain_name)), tuple(results))


def save(
    project: Project,
    *,
    name: str | None = None,
    force: bool = False,
    include_untracked: list[str] | None = None,
    message: str | None = None,
    echo: Echo | None = None,
) -> Experiment:
    """Record the workspace as it is as an experiment, without running anything."""
    echo = echo or echo_stdout
    included = _included(project, include_untracked or [])  # before anything is written
    baseline = _baseline(project)
    name, existing = choose_name(project, baseline, name, force)
    check_can_record(project)
    commit(project, echo=lambda _text: None)
    include = pipeline_files(project) + included
    rev = record(
        project,
        baseline,
        name,
        snapshot_tree(project, include),
        message=message,
        force=force,
        existing=existing or ZERO,
    )
    echo(f"Experiment has been saved as: {name}\n")
    return Experiment(name, rev, baseline, str(ExpRef(baseline, name)))


def _included(project: Project, paths: list[str]) -> list[str]:
    """The ``-I`` paths (from the current directory), each inside the project and present.

    DVC 3.67 saves without a path that does not exist, silently; a typo would then leave
    out the very file the user meant to keep, so we refuse it before saving anything."""
    found = []
    for path in paths:
        rel = project.resolve_relpath(project.relpath(path), where="-I/--include-untracked", follow_links=False)
        if not os.path.lexists(project.root / rel):
            raise PathError(f"-I/--include-untracked: '{path}' does not exist; check the path and save again.")
        found.append(rel)
    return found


def queue(
    project: Project,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    resume_rev: str | None = None,
    echo: Echo | None = None,
) -> list[QueueEntry]:
    """Queue the workspace as it is now (one entry per sweep combination) to be
    reproduced with ``options``; nothing runs and the workspace is not touched.
    ``resume_rev``: resume that checkpoint instead."""
    from .queue import enqueue

    echo = echo or echo_stdout
    entries = enqueue(
        project,
        targets,
        options,
        set_params=set_params,
        name=name,
        copy_paths=copy_paths,
        message=message,
        resume_rev=resume_rev,
    )
    for entry in entries:
        echo(f"Queued experiment '{entry.name}' for future execution.\n")
    return entries


def run_temp(
    project: Project,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    resume_rev: str | None = None,
    echo: Echo | None = None,
) -> Experiment:
    """Run one experiment now, in a directory of its own: the workspace is not touched.

    While it runs it is a queue entry (so ``exp show`` lists it as running); a failed
    one stays there, failed, with its log.
    """
    from .executor import run_entry
    from .queue_store import QueueStore

    echo = echo or echo_stdout
    _refuse_sweeps(set_params)
    (entry,) = queue(
        project,
        targets,
        options,
        set_params=set_params,
        name=name,
        message=message,
        copy_paths=copy_paths,
        resume_rev=resume_rev,
        echo=lambda _text: None,
    )
    outcome = run_entry(str(project.root), entry.id, echo)
    store = QueueStore(project)
    if outcome.state != "success":
        raise JupyterExpError(
            f"Experiment '{entry.name}' failed: {outcome.error_template or outcome.error}"
            if outcome.error
            else f"Experiment '{entry.name}' did not run ({outcome.state})."
        )
    finished = store.get(entry.id)
    if finished is not None:
        store.remove(finished)
    return Experiment(entry.name, outcome.exp_rev or "", entry.baseline, str(ExpRef(entry.baseline, entry.name)))
