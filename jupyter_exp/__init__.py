"""jupyter_exp: DVC-compatible pipelines and experiments from Jupyter, Python and the shell.

The functions here are the api: the ``jupyter exp`` command and the ``%exp`` /
``%%stage`` magics call them. Each takes ``root`` (any path inside the project; default
the current directory). Importing this package stays cheap: the engine, pandas and
IPython are imported when a function first needs them.
"""

from __future__ import annotations

from .errors import JupyterExpError

# `typing` stays unimported on the no-op fast path; annotations are strings anyway.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    import pandas

    from .compare import DiffRow
    from .display import QueueStatus
    from .experiments.apply import Applied
    from .experiments.diff import ExpDiff
    from .experiments.run import Experiment
    from .experiments.workers import StopReport
    from .pipeline.results import StageResult
    from .project import Project
    from .widgets.table import ExperimentTableWidget

__version__ = "0.1.0"


def make_checkpoint() -> None:
    """In a stage with checkpoint outputs: record a checkpoint now (DVC 2's protocol)."""
    from .live import make_checkpoint as _make

    _make()


def __getattr__(name: str) -> Any:
    # `jupyter_exp.live`, the in-stage logger, is imported on first use.
    if name == "live":
        import importlib

        return importlib.import_module(".live", __name__)
    raise AttributeError(f"module 'jupyter_exp' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_exp`` (or ``c.InteractiveShellApp.extensions``): register
    ``%exp`` and ``%%stage``."""
    from .magics import ExpMagics

    ipython.register_magics(ExpMagics)

__all__ = [
    "JupyterExpError",
    "__version__",
    "add",
    "add_stage",
    "apply",
    "apply_params",
    "branch",
    "checkout",
    "diff",
    "expand_sweeps",
    "gc",
    "init",
    "live",
    "ls",
    "make_checkpoint",
    "metrics_diff",
    "metrics_show",
    "params_diff",
    "pull",
    "push",
    "queue_kill",
    "queue_logs",
    "queue_remove",
    "queue_retry",
    "queue_start",
    "queue_status",
    "queue_stop",
    "queue_wait",
    "remove",
    "rename",
    "repro",
    "run",
    "save",
    "show",
    "show_table",
]


def _project(root: str | None) -> "Project":
    from .project import Project

    return Project.find(root)


def init(root: str | None = None) -> "Project":
    """Make the git repository at ``root`` a DVC 3 compatible project (idempotent)."""
    from .project import init as _init

    return _init(root)


def add(paths: list[str] | str, root: str | None = None) -> list[str]:
    """Track data files or directories in the cache; return the ``.dvc`` files written."""
    from .pipeline.tracked import add as _add

    return _add(_project(root), [paths] if isinstance(paths, str) else list(paths))


def checkout(targets: list[str] | None = None, root: str | None = None, *, force: bool = False) -> list[str]:
    """Restore tracked data and cached stage outputs from the cache; return changed paths.

    Workspace files no cache object holds (edits) are not replaced unless ``force``."""
    from .pipeline.tracked import checkout as _checkout

    return _checkout(_project(root), targets, force=force)


def repro(
    targets: list[str] | str | None = None,
    *,
    force: bool = False,
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
    force_downstream: bool = False,
    dry: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    recursive: bool = False,
    allow_missing: bool = False,
    pull: bool = False,
    interactive: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list["StageResult"]:
    """Reproduce the pipeline (or ``targets`` and what they need) as ``dvc repro`` does.

    Targets are read from the current directory as DVC reads them (none: its
    ``dvc.yaml``); ``recursive`` lets a directory stand for the stages inside it;
    ``allow_missing`` skips stages whose only change is missing data; ``pull`` fetches
    missing outputs from the DVC remote; ``interactive`` asks before each stage;
    ``quiet`` prints nothing (``verbose`` is accepted for DVC's sake).

    Returns one StageResult per stage considered. Raises JupyterExpError subclasses
    for user errors (a failing stage names its exit code).
    """
    if isinstance(targets, str):
        targets = [targets]
    project = _project(root)
    if quiet:
        echo = _silent
    if not (force or force_downstream or dry or pull or interactive or allow_missing):
        # A recorded no-op whose inputs have not moved is answered without the engine.
        from .pipeline import stamp
        from .pipeline.results import echo_stdout

        selected = stamp.selection(targets, single_item, downstream, pipeline, all_pipelines,
                                   stamp.current_dir(project.root), recursive)
        known = stamp.check(project.own_tmp_dir, selected, echo or echo_stdout)
        if known is not None:
            return known
    from .pipeline.repro import reproduce

    return reproduce(
        project, targets, force=force, single_item=single_item, downstream=downstream,
        pipeline=pipeline, all_pipelines=all_pipelines, force_downstream=force_downstream,
        dry=dry, keep_going=keep_going, ignore_errors=ignore_errors, echo=echo,
        recursive=recursive, allow_missing=allow_missing, pull=pull,
        confirm=_confirm if interactive else None,
    )


def _silent(text: str) -> None:
    """The echo of ``quiet``."""


def _confirm(question: str) -> bool:
    """``-i``: ask on the terminal (or the kernel's input box); yes only for y/yes."""
    try:
        answer = input(f"{question} [y/n] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def add_stage(
    name: str,
    code: str,
    *,
    deps: list[str] | None = None,
    params: list[str] | None = None,
    outs: list[str] | None = None,
    outs_no_cache: list[str] | None = None,
    metrics: list[str] | None = None,
    metrics_no_cache: list[str] | None = None,
    plots: list[str] | None = None,
    plots_no_cache: list[str] | None = None,
    checkpoints: list[str] | None = None,
    wdir: str | None = None,
    always_changed: bool = False,
    desc: str | None = None,
    script: str | None = None,
    force: bool = False,
    run: bool = True,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list["StageResult"]:
    """Make ``code`` a pipeline stage: write it to ``script`` (default ``stages/NAME.py``),
    add or update stage ``name`` in dvc.yaml to run it, and (unless ``run=False``)
    reproduce it. What ``%%stage`` calls. Returns the reproduction's StageResults."""
    from .pipeline.stage_add import StageSpec, write_stage

    project = _project(root)
    spec = StageSpec(
        name=name, deps=tuple(deps or ()), params=tuple(params or ()), outs=tuple(outs or ()),
        outs_no_cache=tuple(outs_no_cache or ()), metrics=tuple(metrics or ()),
        metrics_no_cache=tuple(metrics_no_cache or ()), plots=tuple(plots or ()),
        plots_no_cache=tuple(plots_no_cache or ()), checkpoints=tuple(checkpoints or ()),
        wdir=wdir, always_changed=always_changed, desc=desc, script=script,
    )
    with project.lock():
        script_path, changed = write_stage(project, spec, code, force=force)
    say = echo or _echo
    say(f"{'Wrote' if changed else 'Kept'} stage '{name}' in dvc.yaml; script {project.relpath(script_path)}\n")
    if not run:
        return []
    from .pipeline.repro import reproduce

    return reproduce(project, [name], echo=echo)


def _echo(text: str) -> None:
    from .pipeline.results import echo_stdout

    echo_stdout(text)


def apply_params(set_params: list[str] | str, root: str | None = None) -> list[str]:
    """Apply ``-S [file:]key=value`` overrides to the params files; return files changed."""
    from .overrides import apply_overrides, group_by_file

    project = _project(root)
    if isinstance(set_params, str):
        set_params = [set_params]
    return apply_overrides(project.root, group_by_file(set_params))


def expand_sweeps(set_params: list[str] | str) -> list[dict[str, list[str]]]:
    """Expand sweep overrides into one ``{file: [overrides]}`` set per combination."""
    from .overrides import expand_sweeps as _expand

    return _expand([set_params] if isinstance(set_params, str) else list(set_params))


def _revision(project, rev: str | None) -> str | None:
    """``rev`` as git names it, or the commit of the experiment it names (as DVC's
    ``params diff``/``metrics diff`` take experiment names too)."""
    if rev in (None, "workspace") or project.git.rev_parse(rev) is not None:
        return rev
    from .experiments.exceptions import UnknownExperimentError
    from .experiments.resolve import resolve

    try:
        return resolve(project, rev, checkpoints=True).rev
    except UnknownExperimentError:
        return rev  # the revision view says it is unknown, in git's words


def params_diff(a_rev: str | None = "HEAD", b_rev: str | None = None, *, all: bool = False,
                deps: bool = False, root: str | None = None) -> list["DiffRow"]:
    """Params that differ between two revisions or experiments (default HEAD and the
    workspace)."""
    from .compare import params_diff as _diff

    project = _project(root)
    return _diff(project, _revision(project, a_rev), _revision(project, b_rev), all=all, deps=deps)


def metrics_show(revs: list[str] | None = None, root: str | None = None, *, all_branches: bool = False,
                 all_tags: bool = False, all_commits: bool = False, nested: bool = False) -> dict[str, Any]:
    """Metrics per revision: ``{rev: {file: {"data": {key: value}}}}``.

    ``all_branches``/``all_tags``/``all_commits`` read those revisions too (the
    workspace then first). ``nested`` gives ``dvc metrics show --json``'s shape,
    ``{rev: {"data": {file: {"data": nested}}}}``, keyed ``""`` for the workspace alone.
    """
    from .compare import flat_data, metric_revisions, metrics_show_dvc
    from .compare import metrics_show as _show

    project = _project(root)
    if revs is None and (nested or all_branches or all_tags or all_commits):
        revs = metric_revisions(project, all_branches, all_tags, all_commits)
        shown = metrics_show_dvc(project, revs)
        if nested:
            return shown
        return {rev or "workspace": {f: ({"data": d} if "data" in v else v) for f, v in value["data"].items()
                                     for d in [flat_data({f: v}).get(f)]}
                for rev, value in shown.items()}
    return _show(project, revs)


def metrics_diff(a_rev: str | None = "HEAD", b_rev: str | None = None, *, all: bool = False,
                 root: str | None = None) -> list["DiffRow"]:
    """Metrics that differ between two revisions or experiments, with the numeric change."""
    from .compare import metrics_diff as _diff

    project = _project(root)
    return _diff(project, _revision(project, a_rev), _revision(project, b_rev), all=all)


# -- experiments ------------------------------------------------------------------
def _overrides(params: dict[str, Any] | None, set_params: list[str] | None) -> list[str]:
    from .overrides import format_override

    result = list(set_params or [])
    result += [format_override(key, value) for key, value in (params or {}).items()]
    return result


def run(
    targets: list[str] | str | None = None,
    *,
    params: dict[str, Any] | None = None,
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
    message: str | None = None,
    queue: bool = False,
    temp: bool = False,
    run_all: bool = False,
    jobs: int = 1,
    executor: str | None = None,
    copy_paths: list[str] | None = None,
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
    force_downstream: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    reset: bool = False,
    rev: str | None = None,
    dry: bool = False,
    recursive: bool = False,
    interactive: bool = False,
    pull: bool = False,
    allow_missing: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> Any:
    """Run an experiment and record it under ``refs/exps``.

    ``params`` maps ``[file:]key`` to a value (``{"train.lr": 0.01}``); ``set_params``
    takes ``-S`` strings (sweeps like ``lr=0.1,0.2`` need ``queue``).

    - default: in the workspace; returns the Experiment (name, rev, baseline, ref, stages);
    - ``queue``: snapshot into the durable queue, nothing runs; returns the QueueEntries;
    - ``temp``: run now in a directory of its own, the workspace untouched; returns the
      Experiment;
    - ``run_all``: run the queue (after queueing, with ``queue``), ``jobs`` at a time, in
      the foreground; returns the Outcomes. ``executor``: ``"dask"`` runs them on a local
      Dask cluster, ``"dask://HOST:PORT"`` on that scheduler's workers (default: threads
      of this process).

    ``copy_paths`` copies git-ignored files into queued and temporary runs. A pipeline
    with checkpoint outputs commits each step and resumes the workspace's last checkpoint
    experiment unless ``reset``; ``on_progress`` hears each step (experiment, step,
    total, metrics, elapsed). ``rev`` (with ``queue`` or ``temp``) resumes from any
    checkpoint of an experiment.

    DVC's reproduction flags as in :func:`repro`: ``recursive``, ``allow_missing``,
    ``pull``, ``interactive`` (workspace runs), ``quiet``, ``verbose``; ``dry`` shows
    what would run and records nothing.
    """
    from .errors import JupyterExpError
    from .experiments import run as runs

    project = _project(root)
    if isinstance(targets, str):
        targets = [targets]
    if quiet:
        echo = _silent
    overrides = _overrides(params, set_params)
    flags = dict(force=force, single_item=single_item, downstream=downstream, pipeline=pipeline,
                 all_pipelines=all_pipelines, force_downstream=force_downstream,
                 keep_going=keep_going, ignore_errors=ignore_errors)
    # Only when set, so queue records and executors that predate them read the same.
    flags.update({k: v for k, v in dict(recursive=recursive, allow_missing=allow_missing,
                                        pull=pull).items() if v})
    if dry:
        if queue or temp or run_all:
            raise JupyterExpError("--dry shows what a workspace run would do; drop --queue/--temp/--run-all.")
        from .pipeline.repro import reproduce

        return reproduce(project, targets, dry=True, echo=echo, **flags)
    if copy_paths and not (queue or temp):
        raise JupyterExpError("-C/--copy-paths applies to --queue and --temp runs only.")
    if rev and not (queue or temp):
        raise JupyterExpError("-r/--rev resumes a checkpoint in a --queue or --temp run; add one of them.")
    if rev and reset:
        raise JupyterExpError("-r/--rev and --reset exclude each other; pick one.")
    if executor and not run_all:
        raise JupyterExpError("--executor applies to --run-all (and `queue start`); add --run-all.")
    if run_all:
        from .arguments import check_jobs

        check_jobs(jobs)
    if queue or (run_all and overrides):
        entries = runs.queue(project, targets, set_params=overrides, name=name, force=force,
                             message=message, copy_paths=copy_paths, flags=flags, resume_rev=rev,
                             echo=echo)
        if not run_all:
            return entries
    if run_all:
        from .experiments.dask_executor import executor_for
        from .experiments.workers import run_all as _run_all

        return _run_all(project, jobs=jobs, echo=echo, executor=executor_for(executor))
    if temp:
        return runs.run_temp(project, targets, set_params=overrides, name=name, force=force,
                             message=message, copy_paths=copy_paths, flags=flags, resume_rev=rev,
                             echo=echo)
    return runs.run(project, targets, set_params=overrides, name=name, message=message, **flags,
                    reset=reset, echo=echo, on_progress=on_progress,
                    confirm=_confirm if interactive else None)


def queue_start(jobs: int = 1, *, threads: bool | None = None, executor: str | None = None,
                root: str | None = None, on_finish: "Callable[[Any], None] | None" = None) -> list:
    """Start a background worker running ``jobs`` queued experiments at a time.

    In a kernel (``threads`` None: detected) it is a thread, so the notebook stays
    usable, and ``on_finish`` hears of each experiment that ends (then of None when the
    worker stops); from a shell it is a detached process. ``executor`` as in ``run``:
    ``"dask"`` or ``"dask://HOST:PORT"`` runs the experiments on a Dask cluster.
    Returns the WorkerInfo.
    """
    from .arguments import check_jobs
    from .experiments.workers import start

    check_jobs(jobs)
    if threads is None:
        threads = _in_kernel()
    return start(_project(root), jobs, threads=threads, on_finish=on_finish, executor=executor)


def queue_stop(*, kill: bool = False, root: str | None = None) -> "StopReport":
    """Ask the workers to stop after their current experiments (``kill``: stop those
    now, SIGINT then SIGTERM then SIGKILL; they go back to the queue). Returns a
    StopReport: ``workers`` asked (``int()`` of it) and what happened to each stage."""
    from .experiments.workers import stop

    return stop(_project(root), kill=kill)


def queue_status(*, root: str | None = None) -> "QueueStatus":
    """Every queue entry (name, created, state, ...) and the live workers."""
    from .display import QueueStatus
    from .experiments.queue import QueueStore
    from .experiments.workers import list_workers

    project = _project(root)
    return QueueStatus(QueueStore(project).entries(), list_workers(project))


def queue_wait(timeout: float | None = None, *, root: str | None = None) -> "QueueStatus":
    """Block until nothing is queued or running (or ``timeout`` seconds pass); return the status."""
    import time

    project = _project(root)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        status = queue_status(root=str(project.root))
        counts = status.counts()
        idle = counts["running"] == 0 and (counts["queued"] == 0 or not status.workers)
        if idle or (deadline is not None and time.monotonic() > deadline):
            return status
        time.sleep(0.2)


def queue_logs(name: str, *, follow: bool = False, root: str | None = None,
               echo: Callable[[str], None] | None = None) -> str:
    """The log of a queued experiment; ``follow`` streams it until the run ends."""
    from .experiments.queue import logs

    return logs(_project(root), name, follow=follow, echo=echo or _echo)


def queue_kill(name: str, *, force: bool = False, root: str | None = None) -> str:
    """Stop a running queued experiment: SIGINT, then SIGTERM, then SIGKILL, a grace
    period apart (``force``: SIGKILL at once). Returns what happened, in one line."""
    from .experiments.queue import kill

    return kill(_project(root), name, force=force)


def queue_remove(names: list[str] | str | None = None, *, all: bool = False, queued: bool = False,
                 failed: bool = False, success: bool = False, force: bool = False,
                 root: str | None = None) -> list[str]:
    """Remove queue entries by name or state (a running one needs ``force``)."""
    from .experiments.queue import remove_entries

    return remove_entries(_project(root), [names] if isinstance(names, str) else names, all=all,
                          queued=queued, failed=failed, success=success, force=force)


def queue_retry(names: list[str] | str | None = None, *, failed: bool = False,
                root: str | None = None) -> list[str]:
    """Put failed entries back in the queue."""
    from .experiments.queue import retry

    return retry(_project(root), [names] if isinstance(names, str) else names, failed=failed)


def _in_kernel() -> bool:
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and type(shell).__name__ != "TerminalInteractiveShell"


def save(*, name: str | None = None, force: bool = False, include_untracked: list[str] | None = None,
         message: str | None = None, root: str | None = None) -> "Experiment":
    """Record the workspace as an experiment without running anything."""
    from .experiments.run import save as _save

    return _save(_project(root), name=name, force=force, include_untracked=include_untracked, message=message)


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
) -> "pandas.DataFrame":
    """The experiment table as a DataFrame: one row per workspace, baseline, experiment.

    Info columns ``experiment, rev, baseline, kind, state, created, parent`` (created is
    UTC), then ``params.<key>`` and ``metrics.<key>`` (``file:key`` where a key is in
    several files).
    """
    from .experiments import show as table

    rows, cols = table.select(
        _project(root), revs=[revs] if isinstance(revs, str) else revs, num=num,
        all_branches=all_branches, all_tags=all_tags, all_commits=all_commits,
        hide_workspace=hide_workspace, param_deps=param_deps, force=force, sort_by=sort_by,
        sort_order=sort_order, only_changed=only_changed, keep=keep, drop=drop,
    )
    return table.to_dataframe(rows, cols)


def show_table(
    *,
    revs: list[str] | str | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
    live: bool = True,
    root: str | None = None,
) -> "ExperimentTableWidget":
    """The interactive experiment table (what ``%exp show`` displays in a notebook).

    The rows of ``show()``, with multi-column sort, filters, column choices and stars
    (kept per project in ``.dvc/tmp/jupyter_exp/table.json``), row actions (apply,
    branch, rename, remove, push, queue again, diff, plot) and, with ``live``, progress
    of running experiments as they go.
    """
    from .widgets.table import ExperimentTableWidget

    return ExperimentTableWidget(
        root, live=live, revs=[revs] if isinstance(revs, str) else revs, num=num,
        all_branches=all_branches, all_tags=all_tags, all_commits=all_commits,
        hide_workspace=hide_workspace, param_deps=param_deps,
    )


def diff(a_rev: str | None = None, b_rev: str | None = None, *, all: bool = False,
         param_deps: bool = False, root: str | None = None) -> "ExpDiff":
    """Params and metrics of two experiments or revisions (default HEAD vs workspace;
    one experiment: its baseline vs it)."""
    from .experiments.diff import diff as _diff

    return _diff(_project(root), a_rev, b_rev, all=all, param_deps=param_deps)


def apply(name: str, *, root: str | None = None, echo: Callable[[str], None] | None = None) -> "Applied":
    """Bring an experiment's files and cached outputs into the workspace (saving the
    workspace first when it holds anything unrecorded)."""
    from .experiments.apply import apply as _apply

    return _apply(_project(root), name, echo=echo)


def branch(name: str, branch_name: str | None = None, *, root: str | None = None) -> str:
    """Create a git branch at an experiment; returns the branch name."""
    from .experiments.branch import branch as _branch

    return _branch(_project(root), name, branch_name)


def rename(name: str, new_name: str, *, force: bool = False, root: str | None = None) -> str:
    """Rename an experiment on its baseline; returns the new ref."""
    from .experiments.branch import rename as _rename

    return str(_rename(_project(root), name, new_name, force=force))


def remove(names: list[str] | str | None = None, *, all_commits: bool = False,
           revs: list[str] | None = None, num: int = 1, keep: bool = False,
           git_remote: str | None = None, root: str | None = None) -> list[str]:
    """Remove experiments (by name, by baseline, or all); returns the names removed."""
    from .experiments.remove import remove as _remove

    return _remove(_project(root), [names] if isinstance(names, str) else names,
                   all_commits=all_commits, revs=revs, num=num, keep=keep, git_remote=git_remote)


def gc(*, workspace: bool = False, all_branches: bool = False, all_tags: bool = False,
       all_commits: bool = False, root: str | None = None) -> list[str]:
    """Remove experiments not derived from the kept revisions; returns the names removed."""
    from .experiments.remove import gc as _gc

    return _gc(_project(root), workspace=workspace, all_branches=all_branches,
               all_tags=all_tags, all_commits=all_commits)


def ls(git_remote: str | None = None, *, all_commits: bool = False, revs: list[str] | None = None,
       num: int = 1, root: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """Experiments by baseline: ``{baseline: [(name, rev), ...]}``, local or on a remote."""
    from .experiments.ls import list_by_baseline

    return list_by_baseline(_project(root), git_remote, all_commits=all_commits, revs=revs, num=num)


def push(git_remote: str, names: list[str] | str | None = None, *, all_commits: bool = False,
         revs: list[str] | None = None, num: int = 1, force: bool = False, no_cache: bool = False,
         dvc_remote: str | None = None, jobs: int | None = None, root: str | None = None) -> list[str]:
    """Push experiments to a git remote and every cache object they need (``.dvc`` data,
    the outputs of every ``dvc.lock``) to the DVC remote, as ``dvc exp push`` does."""
    from .experiments.share import push as _push

    return _push(_project(root), git_remote, [names] if isinstance(names, str) else names,
                 all_commits=all_commits, revs=revs, num=num, force=force, no_cache=no_cache,
                 dvc_remote=dvc_remote, jobs=jobs)


def pull(git_remote: str, names: list[str] | str | None = None, *, all_commits: bool = False,
         revs: list[str] | None = None, num: int = 1, force: bool = False, no_cache: bool = False,
         dvc_remote: str | None = None, jobs: int | None = None, root: str | None = None) -> list[str]:
    """Fetch experiments from a git remote and every cache object they need from the DVC
    remote, as ``dvc exp pull`` does."""
    from .experiments.share import pull as _pull

    return _pull(_project(root), git_remote, [names] if isinstance(names, str) else names,
                 all_commits=all_commits, revs=revs, num=num, force=force, no_cache=no_cache,
                 dvc_remote=dvc_remote, jobs=jobs)
