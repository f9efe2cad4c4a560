"""The experiment verbs of ``jupyter exp`` (``dvc exp``'s, at the top level): run, save,
show, diff, apply, branch, rename, remove, gc, list. ``exp run`` chooses the api function
of its mode (workspace, ``--temp``, ``--queue``, ``--run-all``, ``--dry``).
"""

from __future__ import annotations

import argparse
import sys

from ..api import experiments as api
from ..api import pipeline as pipeline_api
from ..api import queue as queue_api
from ..api import silent
from ..arguments import jobs_arg, precision_arg
from ..errors import JupyterExpError
from ..options import ShowOptions
from .parser import Text, UsageError, selection_flags
from .pipeline import add_repro_flags, repro_options
from .search import check_search_flags, run_search, search_mode, search_only


def _check_run_flags(args: argparse.Namespace) -> None:
    """The flags of one mode only, in the command line's words (exit status 1, as before)."""
    if search_mode(args):
        check_search_flags(args)
        return
    if args.dry and (args.queue or args.temp or args.run_all):
        raise JupyterExpError("--dry shows what a workspace run would do; drop --queue/--temp/--run-all.")
    if args.copy_paths and not (args.queue or args.temp):
        raise JupyterExpError("-C/--copy-paths applies to --queue and --temp runs only.")
    if args.rev and not (args.queue or args.temp):
        raise JupyterExpError("-r/--rev resumes a checkpoint in a --queue or --temp run; add one of them.")
    if args.rev and args.reset:
        raise JupyterExpError("-r/--rev and --reset exclude each other; pick one.")
    given = [flag for flag, value in search_only(args) if value]
    if given:
        raise JupyterExpError(f"{given[0]} applies to --search only; add --search or drop {given[0]}.")
    if (args.executor or args.shared_fs is not None) and not args.run_all:
        raise JupyterExpError("--executor applies to --run-all (and `queue start`); add --run-all.")


def _cmd_exp_run(args: argparse.Namespace):
    _check_run_flags(args)
    targets, options = args.targets or None, repro_options(args)
    echo = silent if args.quiet else None
    if search_mode(args):
        return run_search(args, targets, options)
    if args.dry:
        pipeline_api.reproduce(targets, options, dry=True, echo=echo)
        return None
    if args.queue or (args.run_all and args.set_param):
        queue_api.queue_with(
            targets,
            options,
            set_params=args.set_param,
            name=args.name,
            message=args.message,
            copy_paths=args.copy_paths,
            rev=args.rev,
            echo=echo,
        )
    if args.run_all:
        queue_api.run_all(args.jobs, executor=args.executor, shared_fs=args.shared_fs, echo=echo)
    if args.queue or args.run_all:
        return None  # queued entries and outcomes were printed
    if args.temp:
        return api.run_temp_with(
            targets,
            options,
            set_params=args.set_param,
            name=args.name,
            message=args.message,
            copy_paths=args.copy_paths,
            rev=args.rev,
            echo=echo,
        )
    return api.run_with(
        targets,
        options,
        set_params=args.set_param,
        name=args.name,
        message=args.message,
        reset=args.reset,
        on_progress=None if args.quiet else _progress_bar,
        echo=echo,
    )


def _progress_bar(event: dict) -> None:
    """One line per checkpoint: a bar of step / total, the latest metrics, the time."""
    step, total = event.get("step") or 0, event.get("total")
    width = 20
    if total:
        done = min(width, round(width * step / total))
        bar = f"[{'#' * done}{'.' * (width - done)}] {step}/{total}"
    else:
        bar = f"step {step}"
    metrics = " ".join(
        f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in (event.get("metrics") or {}).items()
    )
    sys.stdout.write(f"{event['experiment']} {bar} {metrics} ({event.get('elapsed', 0):.1f}s)\n")
    sys.stdout.flush()


def _cmd_exp_save(args: argparse.Namespace):
    import json

    exp = api.save(name=args.name, force=args.force, include_untracked=args.include_untracked, message=args.message)
    return Text(json.dumps({"ref": exp.rev}) + "\n") if args.json else exp


def _show_options(args: argparse.Namespace) -> ShowOptions:
    return ShowOptions.of(
        args.rev,
        keep=args.keep,
        drop=args.drop,
        num=args.num,
        all_branches=args.all_branches,
        all_tags=args.all_tags,
        all_commits=args.all_commits,
        hide_workspace=args.hide_workspace,
        hide_queued=args.hide_queued,
        hide_failed=args.hide_failed,
        param_deps=args.param_deps,
        sort_by=args.sort_by,
        sort_order=args.sort_order,
        only_changed=args.only_changed,
        force=args.force,
    )


def _cmd_exp_show(args: argparse.Namespace):
    options = _show_options(args)
    fmt = "json" if args.json else "csv" if args.csv else "md" if args.md else None
    if fmt is not None:
        return Text(api.show_text(options, fmt, precision=args.precision, sha=args.sha, tty=sys.stdout.isatty()))
    from ..kernel import in_kernel

    if getattr(args, "from_kernel", False) and in_kernel():
        return _table_widget(args)
    from ..api import project_at
    from ..display import ExperimentTable
    from ..experiments import show
    from ..experiments.annotations import annotate

    project = project_at(None)
    rows, cols = show.select(project, options)
    precision = args.precision if args.precision is not None else 5
    return ExperimentTable(rows, cols, precision, args.sha, annotate(project, rows))


def _table_widget(args: argparse.Namespace):
    """``%exp show`` in a notebook: the interactive table; the flags that choose order
    and columns set its (persisted) preferences."""
    from dataclasses import replace

    from ..api.table import show_table

    widget = show_table(
        revs=args.rev,
        num=args.num,
        all_branches=args.all_branches,
        all_tags=args.all_tags,
        all_commits=args.all_commits,
        hide_workspace=args.hide_workspace,
        param_deps=args.param_deps,
        live=True,
    )
    if args.sort_by or args.only_changed:
        sort = ((widget.column_for(args.sort_by), args.sort_order),) if args.sort_by else widget.preferences.sort
        widget.set_preferences(replace(widget.preferences, sort=sort, only_changed=args.only_changed))
    return widget


def _cmd_exp_diff(args: argparse.Namespace):
    from ..display import ExpDiffView

    if len(args.revs) > 2 or args.reference or args.csv:
        return _compare(args)
    a_rev, b_rev = (args.revs + [None, None])[:2]
    result = api.diff(a_rev, b_rev, all=args.all, param_deps=args.param_deps)
    if args.json:
        return Text(result.to_json(tty=sys.stdout.isatty()) + "\n")
    if args.md:
        return Text(result.to_text(markdown=True, precision=args.precision))
    return ExpDiffView(result, args.precision)


def _compare(args: argparse.Namespace):
    """``exp diff a b c ...`` (or ``--reference``, ``--csv``): the N-way comparison."""
    from dataclasses import replace

    from ..api import compare as compare_api

    if len(args.revs) < 2:
        raise UsageError("--reference and --csv compare two experiments or more; name them.")
    result = compare_api.comparison(args.revs, args.reference, all=args.all, param_deps=args.param_deps)
    if args.json:
        return Text(result.to_json(tty=sys.stdout.isatty()) + "\n")
    if args.csv:
        return Text(result.to_csv())
    if args.md:
        return Text(result.to_text(markdown=True, precision=args.precision))
    return replace(result, precision=args.precision)


def _cmd_exp_apply(args: argparse.Namespace):
    return api.apply(args.experiment, best=args.best)


def _cmd_exp_branch(args: argparse.Namespace) -> None:
    name = api.branch(args.experiment, args.branch)
    print(f"Git branch '{name}' has been created from experiment '{args.experiment}'.")
    print(f"To switch to the new branch run:\n\n\tgit checkout {name}")


def _cmd_exp_rename(args: argparse.Namespace) -> None:
    api.rename(args.experiment, args.name, force=args.force)
    print(f"Renamed experiment '{args.experiment}' to '{args.name}'.")


def _quoted(names: list[str]) -> str:
    """DVC's list of names: ``'a', 'b' and 'c'``."""
    shown = [repr(n) for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _cmd_exp_remove(args: argparse.Namespace) -> None:
    # DVC's rule: names, or one of the flags, never both and never neither.
    if bool(args.experiment) == bool(args.all_commits or args.rev or args.queue):
        raise UsageError(
            "Either provide an `experiment` argument, or use the `--rev` or `--all-commits` or `--queue` flag."
        )
    if args.keep and args.queue:
        raise UsageError("Cannot use both `--keep` and `--queue`.")
    removed: list[str] = []
    if args.queue:
        removed += queue_api.queue_remove(queued=True)
    if args.experiment or args.all_commits or args.rev:
        removed += api.remove(
            args.experiment or None,
            all_commits=args.all_commits,
            revs=args.rev,
            num=args.num,
            keep=args.keep,
            git_remote=args.git_remote,
        )
    print(f"Removed experiments: {_quoted(removed)}" if removed else "No experiments to remove.")


def _cmd_exp_gc(args: argparse.Namespace) -> None:
    if not args.force:
        if not sys.stdin.isatty():
            raise UsageError("exp gc removes experiments for good; rerun with -f to confirm.")
        answer = input(
            "This will remove all experiments except those derived from the kept revisions. Continue? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("Aborted.")
            return
    removed = api.gc(
        workspace=args.workspace, all_branches=args.all_branches, all_tags=args.all_tags, all_commits=args.all_commits
    )
    print(f"Removed {len(removed)} experiments." if removed else "No experiments to remove.")


def _cmd_exp_clean(args: argparse.Namespace) -> None:
    report = api.clean()
    parts = []
    if report.run_dirs:
        parts.append(f"{len(report.run_dirs)} run director{'y' if len(report.run_dirs) == 1 else 'ies'}")
    if report.scratch_files:
        parts.append(f"{report.scratch_files} scratch file{'' if report.scratch_files == 1 else 's'}")
    print(f"Removed {' and '.join(parts)} left by killed runs." if parts else "Nothing to clean.")


def _cmd_exp_list(args: argparse.Namespace):
    from ..api import project_at
    from ..experiments.ls import format_list

    grouped = api.ls(args.git_remote, all_commits=args.all_commits, revs=args.rev, num=args.num)
    return Text(format_list(project_at(None), grouped, args.name_only))


def add_verbs(sub) -> None:
    """The verbs of ``dvc exp``, at the top level: ``jupyter exp run`` is ``dvc exp run``."""
    r = sub.add_parser("run", help="run an experiment in the workspace and record it")
    add_repro_flags(r, exp=True)
    r.add_argument(
        "-S",
        "--set-param",
        action="append",
        default=[],
        metavar="[FILE:]KEY=VALUE",
        help="override a param (Hydra grammar: +key adds, ++key adds or sets, ~key deletes)",
    )
    r.add_argument("-n", "--name", help="experiment name (default: a random adjective-noun)")
    r.add_argument("-m", "--message", help="commit message of the experiment")
    r.add_argument("--queue", action="store_true", help="queue it (sweeps: one entry per combination)")
    r.add_argument("--run-all", action="store_true", help="run the queue in the foreground")
    r.add_argument("-j", "--jobs", type=jobs_arg, default=1, help="with --run-all: experiments at a time")
    r.add_argument(
        "--executor",
        default=None,
        metavar="local|dask|dask://HOST:PORT",
        help="with --run-all: where the experiments run (ours; default local)",
    )
    r.add_argument(
        "--shared-fs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with a Dask scheduler: whether its workers see this project at the same path (default: detected)",
    )
    r.add_argument("--temp", action="store_true", help="run now in a directory of its own")
    r.add_argument(
        "-C",
        "--copy-paths",
        action="append",
        default=[],
        metavar="PATH",
        help="git-ignored files to copy into --queue/--temp runs",
    )
    r.add_argument(
        "--reset", action="store_true", help="checkpoint pipelines: start a new experiment instead of resuming"
    )
    r.add_argument(
        "-r", "--rev", metavar="CHECKPOINT", help="with --queue/--temp: resume from this checkpoint of an experiment"
    )
    search = r.add_argument_group("hyperparameter search (ours; -S sweeps are the search space)")
    search.add_argument("--search", action="store_true", help="run an Optuna study of queued experiments NAME-<n>")
    search.add_argument("--objective", metavar="FILE:KEY", help="the metric to optimize, e.g. metrics.json:val.acc")
    search.add_argument("--maximize", action="store_true", help="larger objective is better (default: smaller)")
    search.add_argument("--trials", type=int, default=None, help="trials in the study (default 20)")
    search.add_argument("--sampler", default=None, metavar="tpe|random|grid|cmaes", help="default tpe")
    search.add_argument("--seed", type=int, default=None, help="the sampler's seed")
    search.add_argument("--prune", default=None, metavar="median|halving", help="stop trials whose step metrics lag")
    search.add_argument("--resume", metavar="NAME", help="continue study NAME to its trial count")
    search.add_argument("--status", nargs="?", const="", default=None, metavar="NAME", help="a study's progress")
    search.add_argument("--remove", metavar="NAME", help="delete study NAME (its trials' experiments stay)")
    r.set_defaults(func=_cmd_exp_run)

    v = sub.add_parser("save", help="record the workspace as an experiment without running")
    v.add_argument("-n", "--name")
    v.add_argument("-f", "--force", action="store_true", help="overwrite an experiment of the same name")
    v.add_argument("-I", "--include-untracked", action="append", default=[], metavar="PATH")
    v.add_argument("-m", "--message")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_cmd_exp_save)

    s = sub.add_parser("show", help="the experiment table")
    selection_flags(s)
    s.add_argument("-a", "--all-branches", action="store_true")
    s.add_argument("-T", "--all-tags", action="store_true")
    s.add_argument("--only-changed", action="store_true", help="drop columns whose values are all equal")
    s.add_argument("--keep", action="append", default=None, metavar="REGEX", help="always show matching columns")
    s.add_argument("--drop", action="append", default=None, metavar="REGEX", help="hide matching columns")
    s.add_argument("--param-deps", action="store_true", help="only params that stages depend on")
    s.add_argument("--sort-by", metavar="[FILE:]NAME")
    s.add_argument("--sort-order", choices=["asc", "desc"], default="asc")
    s.add_argument("--sha", action="store_true", help="never replace baseline SHAs by branch names")
    s.add_argument("--hide-workspace", action="store_true")
    s.add_argument("--hide-queued", action="store_true", help="leave out queued experiments")
    s.add_argument("--hide-failed", action="store_true", help="leave out failed experiments")
    s.add_argument("--no-pager", action="store_true", help="accepted for DVC's sake: we never page")
    s.add_argument("--precision", type=precision_arg, default=None, help="significant digits (default 5)")
    s.add_argument("-f", "--force", action="store_true", help="ignore what was cached and read again")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--md", action="store_true")
    s.set_defaults(func=_cmd_exp_show)

    d = sub.add_parser(
        "diff", help="params and metrics of two experiments or revisions (three or more: compare them all)"
    )
    d.add_argument("revs", nargs="*", metavar="REV", help="experiments, revisions or workspace")
    d.add_argument("--all", action="store_true", help="unchanged values too")
    d.add_argument("--param-deps", action="store_true")
    d.add_argument("--reference", metavar="REV", help="with several: differences are taken from it (default the first)")
    d.add_argument("--json", action="store_true")
    d.add_argument("--md", action="store_true")
    d.add_argument("--csv", action="store_true", help="the comparison as CSV (ours)")
    d.add_argument("--precision", type=precision_arg, default=5)
    d.set_defaults(func=_cmd_exp_diff)

    a = sub.add_parser("apply", help="bring an experiment into the workspace")
    a.add_argument("experiment")
    a.add_argument("--best", action="store_true", help="EXPERIMENT is a study: apply its best trial (ours)")
    a.set_defaults(func=_cmd_exp_apply)

    b = sub.add_parser("branch", help="create a git branch from an experiment")
    b.add_argument("experiment")
    b.add_argument("branch", nargs="?")
    b.set_defaults(func=_cmd_exp_branch)

    n = sub.add_parser("rename", help="rename an experiment")
    n.add_argument("experiment")
    n.add_argument("name")
    n.add_argument("-f", "--force", action="store_true")
    n.set_defaults(func=_cmd_exp_rename)

    for verb in ("remove", "rm"):
        m = sub.add_parser(verb, help="remove experiments")
        m.add_argument("experiment", nargs="*")
        m.add_argument("-A", "--all-commits", action="store_true", help="experiments of every commit")
        m.add_argument("--rev", action="append", default=None, metavar="COMMIT", help="baseline commit(s)")
        m.add_argument(  # DVC's: a negative number takes every first-parent commit
            "-n", "--num", type=int, default=1, help="baselines: this many first-parent commits from --rev (<0: all)"
        )
        m.add_argument("--keep", action="store_true", help="remove all but the selected experiments")
        where = m.add_mutually_exclusive_group()  # as DVC: the queue is local
        where.add_argument("--queue", action="store_true", help="remove every queued experiment")
        where.add_argument("-g", "--git-remote", help="remove them on this git remote")
        m.set_defaults(func=_cmd_exp_remove)

    c = sub.add_parser("clean", help="remove the temporary files killed runs left")
    c.set_defaults(func=_cmd_exp_clean)

    g = sub.add_parser("gc", help="remove experiments not derived from the kept revisions")
    g.add_argument("-w", "--workspace", action="store_true", help="keep experiments of HEAD")
    g.add_argument("-a", "--all-branches", action="store_true")
    g.add_argument("-T", "--all-tags", action="store_true")
    g.add_argument("-A", "--all-commits", action="store_true")
    g.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    g.set_defaults(func=_cmd_exp_gc)

    for verb in ("list", "ls"):
        ls = sub.add_parser(verb, help="list experiments")
        ls.add_argument("git_remote", nargs="?")
        selection_flags(ls)
        ls.add_argument("--name-only", "--names-only", action="store_true")
        ls.set_defaults(func=_cmd_exp_list)
