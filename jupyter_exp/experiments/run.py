"""``exp run`` in the workspace and ``exp save``: reproduce (or not), then record.

The user's HEAD, branch and index never move; the results stay in the workspace,
as DVC leaves them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import JupyterExpError
from ..overrides import apply_overrides, group_by_file, is_sweep
from ..pipeline.repro import commit, reproduce
from ..pipeline.results import Echo, StageResult, echo_stdout
from ..project import Project
from ..refs import ExpRef, check_name
from .catalog import list_experiments
from .names import random_name
from .snapshot import ZERO, ExperimentExistsError, pipeline_files, record, snapshot_tree


class NoBaselineError(JupyterExpError):
    pass


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


def choose_name(project: Project, baseline: str, name: str | None, force: bool) -> tuple[str, str | None]:
    """Validate ``name`` (or make one up), failing early if it is taken and not ``force``.

    Returns the name and the commit its ref points at now (None: a new name).
    """
    taken = {e.name: e.rev for e in list_experiments(project) if e.baseline == baseline}
    if name is None:
        return random_name(set(taken)), None
    check_name(name)
    if name in taken and not force:
        raise ExperimentExistsError(
            f"Experiment '{name}' already exists on baseline {baseline[:7]}; rerun with -f to overwrite."
        )
    return name, taken.get(name)


def run(
    project: Project,
    targets: list[str] | None = None,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
    message: str | None = None,
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
    force_downstream: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    echo: Echo | None = None,
) -> Experiment:
    """Apply ``set_params``, reproduce in the workspace, and record the experiment.

    ``force`` reproduces every stage and overwrites an experiment of the same name.

    Raises:
        NoBaselineError, ExperimentExistsError, InvalidExpNameError, ParamsError,
        StageFailedError (no ref is written when a stage fails).
    """
    echo = echo or echo_stdout
    baseline = _baseline(project)
    if set_params and is_sweep(set_params):
        raise JupyterExpError("Sweep overrides need --queue; queue them with `exp run --queue -S ...`.")
    name, existing = choose_name(project, baseline, name, force)
    if set_params:
        apply_overrides(project.root, group_by_file(set_params))
    env = {"DVC_EXP_NAME": name, "DVC_EXP_BASELINE_REV": baseline}
    results = reproduce(
        project, targets, force=force, single_item=single_item, downstream=downstream,
        pipeline=pipeline, all_pipelines=all_pipelines, force_downstream=force_downstream,
        keep_going=keep_going, ignore_errors=ignore_errors, env=env, echo=echo,
    )
    rev = record(project, baseline, name, snapshot_tree(project, pipeline_files(project)),
                 message=message, force=force, existing=existing or ZERO)
    echo(f"\nReproduced experiment(s): {name}\nExperiment results have been applied to your workspace.\n")
    return Experiment(name, rev, baseline, str(ExpRef(baseline, name)), tuple(results))


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
    baseline = _baseline(project)
    name, existing = choose_name(project, baseline, name, force)
    commit(project, echo=lambda _text: None)
    include = pipeline_files(project) + [project.relpath(p) for p in include_untracked or []]
    rev = record(project, baseline, name, snapshot_tree(project, include), message=message,
                 force=force, existing=existing or ZERO)
    echo(f"Experiment has been saved as: {name}\n")
    return Experiment(name, rev, baseline, str(ExpRef(baseline, name)))


def queue(
    project: Project,
    targets: list[str] | None = None,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    flags: dict | None = None,
    echo: Echo | None = None,
) -> list:
    """Queue the workspace as it is now (one entry per sweep combination); nothing runs
    and the workspace is not touched."""
    from .queue import enqueue

    echo = echo or echo_stdout
    entries = enqueue(project, set_params=set_params, name=name, targets=targets, flags=flags,
                      copy_paths=copy_paths, message=message, force=force)
    for entry in entries:
        echo(f"Queued experiment '{entry.name}' for future execution.\n")
    return entries


def run_temp(
    project: Project,
    targets: list[str] | None = None,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    flags: dict | None = None,
    echo: Echo | None = None,
) -> Experiment:
    """Run one experiment now, in a directory of its own: the workspace is not touched.

    While it runs it is a queue entry (so ``exp show`` lists it as running); a failed
    one stays there, failed, with its log.
    """
    from .executor import run_entry
    from .queue import QueueStore, enqueue

    echo = echo or echo_stdout
    if set_params and is_sweep(set_params):
        raise JupyterExpError("Sweep overrides need --queue; queue them with `exp run --queue -S ...`.")
    (entry,) = enqueue(project, set_params=set_params, name=name, targets=targets, flags=flags,
                       copy_paths=copy_paths, message=message, force=force)
    outcome = run_entry(str(project.root), entry.id, echo)
    store = QueueStore(project)
    if outcome.state != "success":
        raise JupyterExpError(
            f"Experiment '{entry.name}' failed: {outcome.error}"
            if outcome.error else f"Experiment '{entry.name}' did not run ({outcome.state})."
        )
    finished = store.get(entry.id)
    if finished is not None:
        store.remove(finished)
    return Experiment(entry.name, outcome.exp_rev or "", entry.baseline, str(ExpRef(entry.baseline, entry.name)))
