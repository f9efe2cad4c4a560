"""Experiments: run one (in the workspace or a directory of its own), save, show, compare,
apply, branch, rename, remove, list. The queue's modes are in :mod:`.queue`."""

from __future__ import annotations

from ..errors import JupyterExpError
from ..options import ReproOptions, ShowOptions
from . import as_list, confirm, overrides, project_at, silent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import pandas

    from ..experiments.apply import Applied
    from ..experiments.clean import CleanReport
    from ..experiments.diff import ExpDiff
    from ..experiments.run import Experiment

__all__ = [
    "apply",
    "branch",
    "clean",
    "diff",
    "gc",
    "ls",
    "remove",
    "rename",
    "run",
    "run_temp",
    "run_temp_with",
    "run_with",
    "save",
    "show",
    "show_text",
]


def run(
    targets: list[str] | str | None = None,
    *,
    params: dict[str, Any] | None = None,
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
    recursive: bool = False,
    allow_missing: bool = False,
    pull: bool = False,
    interactive: bool = False,
    reset: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
    on_progress: Callable[[dict], None] | None = None,
    queue: bool = False,
    temp: bool = False,
    run_all: bool = False,
    jobs: int = 1,
    executor: str | None = None,
    copy_paths: list[str] | None = None,
    rev: str | None = None,
    dry: bool = False,
) -> Experiment:
    """Run the pipeline in the workspace and record the result as an experiment under
    ``refs/exps``; return it (name, rev, baseline, ref, stages). Its results stay in the
    workspace, as DVC leaves them.

    ``params`` maps ``[file:]key`` to a value (``{"train.lr": 0.01}``); ``set_params``
    takes ``[file:]key=value`` strings in Hydra's grammar (sweeps need :func:`queue`).
    ``force`` also overwrites an experiment of the same ``name``. A pipeline with
    checkpoint outputs commits each step and resumes the workspace's last checkpoint
    experiment unless ``reset``; ``on_progress`` hears each step (experiment, step,
    total, metrics, elapsed). The reproduction flags as in :func:`repro`.

    The other modes are functions of their own, with precise return types:
    :func:`run_temp` (a directory of its own), :func:`queue` (the durable queue),
    :func:`run_all` (run the queue now), ``repro(dry=True)`` (what would run).

    Deprecated: ``queue``, ``temp``, ``run_all`` (with ``jobs``, ``executor``),
    ``copy_paths``, ``rev`` and ``dry`` still choose those modes here, returning what
    the mode's function returns (QueueEntries, an Experiment, Outcomes, StageResults).
    """
    options = ReproOptions.from_keywords(locals())  # first: locals() holds only the keywords
    echo = silent if quiet else echo
    if queue or temp or run_all or dry or copy_paths or rev or executor:
        return _by_mode(
            as_list(targets),
            options,
            overrides(params, set_params),
            name=name,
            message=message,
            reset=reset,
            root=root,
            echo=echo,
            queue=queue,
            temp=temp,
            run_all=run_all,
            jobs=jobs,
            executor=executor,
            copy_paths=copy_paths,
            rev=rev,
            dry=dry,
        )
    return run_with(
        as_list(targets),
        options,
        set_params=overrides(params, set_params),
        name=name,
        message=message,
        reset=reset,
        echo=echo,
        on_progress=on_progress,
        root=root,
    )


def run_with(
    targets: list[str] | None,
    options: ReproOptions,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    message: str | None = None,
    reset: bool = False,
    echo: Callable[[str], None] | None = None,
    on_progress: Callable[[dict], None] | None = None,
    root: str | None = None,
) -> Experiment:
    """:func:`run` with its flags as one :class:`ReproOptions` (what the CLI passes)."""
    from ..experiments import run as runs

    return runs.run(
        project_at(root),
        targets,
        options,
        set_params=set_params,
        name=name,
        message=message,
        reset=reset,
        echo=echo,
        on_progress=on_progress,
        confirm=confirm if options.interactive else None,
    )


def _by_mode(
    targets: list[str] | None,
    options: ReproOptions,
    set_params: list[str],
    *,
    name: str | None,
    message: str | None,
    reset: bool,
    root: str | None,
    echo: Callable[[str], None] | None,
    queue: bool,
    temp: bool,
    run_all: bool,
    jobs: int,
    executor: str | None,
    copy_paths: list[str] | None,
    rev: str | None,
    dry: bool,
) -> Any:
    """The deprecated mode keywords of :func:`run`, checked in the api's words and
    dispatched to the mode's own function."""
    from . import pipeline
    from . import queue as queues

    if dry:
        if queue or temp or run_all:
            raise JupyterExpError("dry=True shows what a workspace run would do; drop queue, temp and run_all.")
        return pipeline.reproduce(targets, options, dry=True, echo=echo, root=root)
    if copy_paths and not (queue or temp):
        raise JupyterExpError("copy_paths applies to queued and temporary runs; call queue() or run_temp().")
    if rev and not (queue or temp):
        raise JupyterExpError("rev resumes a checkpoint in a queued or temporary run; call queue() or run_temp().")
    if rev and reset:
        raise JupyterExpError("rev and reset exclude each other; pick one.")
    if executor and not run_all:
        raise JupyterExpError("executor applies to run_all() and queue_start(); call one of them.")
    if run_all:
        from ..arguments import check_jobs

        check_jobs(jobs)  # before anything is queued
    if queue or (run_all and set_params):
        entries = queues.queue_with(
            targets,
            options,
            set_params=set_params,
            name=name,
            message=message,
            copy_paths=copy_paths,
            rev=rev,
            echo=echo,
            root=root,
        )
        if not run_all:
            return entries
    if run_all:
        return queues.run_all(jobs, executor=executor, echo=echo, root=root)
    return run_temp_with(
        targets,
        options,
        set_params=set_params,
        name=name,
        message=message,
        copy_paths=copy_paths,
        rev=rev,
        echo=echo,
        root=root,
    )


def run_temp(
    targets: list[str] | str | None = None,
    *,
    params: dict[str, Any] | None = None,
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    rev: str | None = None,
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
    force_downstream: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    recursive: bool = False,
    allow_missing: bool = False,
    pull: bool = False,
    quiet: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> Experiment:
    """Run an experiment now in a directory of its own, the workspace untouched; return it.

    ``copy_paths`` copies git-ignored files into that directory; ``rev`` resumes from
    any checkpoint of an experiment. The other keywords as in :func:`run`.
    """
    options = ReproOptions.from_keywords(locals())  # first: locals() holds only the keywords
    return run_temp_with(
        as_list(targets),
        options,
        set_params=overrides(params, set_params),
        name=name,
        message=message,
        copy_paths=copy_paths,
        rev=rev,
        echo=silent if quiet else echo,
        root=root,
    )


def run_temp_with(
    targets: list[str] | None,
    options: ReproOptions,
    *,
    set_params: list[str] | None = None,
    name: str | None = None,
    message: str | None = None,
    copy_paths: list[str] | None = None,
    rev: str | None = None,
    echo: Callable[[str], None] | None = None,
    root: str | None = None,
) -> Experiment:
    """:func:`run_temp` with the reproduction flags as one :class:`ReproOptions` (what the CLI passes)."""
    from ..experiments import run as runs

    return runs.run_temp(
        project_at(root),
        targets,
        options,
        set_params=set_params,
        name=name,
        message=message,
        copy_paths=copy_paths,
        resume_rev=rev,
        echo=echo,
    )


def save(
    *,
    name: str | None = None,
    force: bool = False,
    include_untracked: list[str] | None = None,
    message: str | None = None,
    root: str | None = None,
) -> Experiment:
    """Record the workspace as an experiment without running anything."""
    from ..experiments.run import save as _save

    return _save(project_at(root), name=name, force=force, include_untracked=include_untracked, message=message)


def show(
    *,
    revs: list[str] | str | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
    force: bool = False,
    sort_by: str | None = None,
    sort_order: str = "asc",
    only_changed: bool = False,
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    root: str | None = None,
) -> pandas.DataFrame:
    """The experiment table as a DataFrame: one row per workspace, baseline, experiment.

    Info columns ``experiment, rev, baseline, kind, state, created, parent, step``
    (created is UTC), ``note, tags, message`` (see :func:`note`; ``exp run -m``), then
    ``params.<key>`` and ``metrics.<key>`` (``file:key`` where a key is in several files).
    """
    options = ShowOptions.from_keywords(locals())  # first: locals() holds only the keywords
    from ..experiments import show as table
    from ..experiments.annotations import annotate
    from ..render import frame

    project = project_at(root)
    rows, cols = table.select(project, options)
    return frame.experiments(rows, cols, annotate(project, rows))


def show_text(
    options: ShowOptions,
    fmt: str,
    *,
    precision: int | None = None,
    sha: bool = False,
    tty: bool = False,
    root: str | None = None,
) -> str:
    """The experiment table as text: ``fmt`` ``"json"`` (DVC's shape; indented for a
    ``tty``), ``"csv"`` or ``"md"``. ``precision``: significant digits (default 5; CSV
    full); ``sha``: never replace baseline SHAs by branch names.

    A repeated call is answered from the last answer while nothing it read moved (the
    refs, the workspace files, the day): see :mod:`jupyter_exp.experiments.show_stamp`.
    ``options.force`` reads everything again.
    """
    from ..experiments import show_output

    return show_output.formatted(project_at(root), options, fmt, precision=precision, sha=sha, tty=tty)


def diff(
    a_rev: str | None = None,
    b_rev: str | None = None,
    *,
    all: bool = False,
    param_deps: bool = False,
    root: str | None = None,
) -> ExpDiff:
    """Params and metrics of two experiments or revisions (default HEAD vs workspace;
    one experiment: its baseline vs it)."""
    from ..experiments.diff import diff as _diff

    return _diff(project_at(root), a_rev, b_rev, all=all, param_deps=param_deps)


def apply(
    name: str, *, best: bool = False, root: str | None = None, echo: Callable[[str], None] | None = None
) -> Applied:
    """Bring an experiment's files and cached outputs into the workspace (saving the
    workspace first when it holds anything unrecorded). ``best``: ``name`` is a study
    (``exp run --search``) and its best trial is applied."""
    from ..experiments.apply import apply as _apply

    project = project_at(root)
    if best:
        from ..studies.study import best_experiment

        name = best_experiment(project, name)
    return _apply(project, name, echo=echo)


def branch(name: str, branch_name: str | None = None, *, root: str | None = None) -> str:
    """Create a git branch at an experiment; returns the branch name."""
    from ..experiments.branch import branch as _branch

    return _branch(project_at(root), name, branch_name)


def rename(name: str, new_name: str, *, force: bool = False, root: str | None = None) -> str:
    """Rename an experiment on its baseline; returns the new ref."""
    from ..experiments.branch import rename as _rename

    return str(_rename(project_at(root), name, new_name, force=force))


def remove(
    names: list[str] | str | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    keep: bool = False,
    git_remote: str | None = None,
    root: str | None = None,
) -> list[str]:
    """Remove experiments (by name, by baseline, or all); returns the names removed."""
    from ..experiments.remove import remove as _remove

    return _remove(
        project_at(root), as_list(names), all_commits=all_commits, revs=revs, num=num, keep=keep, git_remote=git_remote
    )


def gc(
    *,
    workspace: bool = False,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    root: str | None = None,
) -> list[str]:
    """Remove experiments not derived from the kept revisions; returns the names removed."""
    from ..experiments.remove import gc as _gc

    return _gc(
        project_at(root), workspace=workspace, all_branches=all_branches, all_tags=all_tags, all_commits=all_commits
    )


def clean(*, root: str | None = None) -> CleanReport:
    """``exp clean``: remove the run directories and scratch files killed runs left
    (never what a live run uses); returns what went."""
    from ..experiments.clean import clean as _clean

    return _clean(project_at(root))


def ls(
    git_remote: str | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    root: str | None = None,
) -> dict[str, list[tuple[str, str]]]:
    """Experiments by baseline: ``{baseline: [(name, rev), ...]}``, local or on a remote."""
    from ..experiments.ls import list_by_baseline

    return list_by_baseline(project_at(root), git_remote, all_commits=all_commits, revs=revs, num=num)
