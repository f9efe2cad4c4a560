"""The experiment and queue verbs of ``jupyter exp`` (``dvc exp``'s, at the top level):
their flags and their handlers. Part of the one parser that :mod:`jupyter_exp.cli`
builds; kept apart to keep that module small.
"""

from __future__ import annotations

import argparse
import sys

import jupyter_exp as api

from .arguments import jobs_arg, num_arg, precision_arg
from .cli import Text, UsageError, _Parser, _repro_flags


def _cmd_exp_run(args: argparse.Namespace):
    result = api.run(
        args.targets or None, set_params=args.set_param, name=args.name, force=args.force,
        message=args.message, queue=args.queue, temp=args.temp, run_all=args.run_all,
        jobs=args.jobs, executor=args.executor, copy_paths=args.copy_paths, single_item=args.single_item,
        downstream=args.downstream, pipeline=args.pipeline, all_pipelines=args.all_pipelines,
        force_downstream=args.force_downstream, keep_going=args.keep_going,
        ignore_errors=args.ignore_errors, reset=args.reset, rev=args.rev, dry=args.dry,
        recursive=args.recursive, interactive=args.interactive, pull=args.pull,
        allow_missing=args.allow_missing, quiet=args.quiet, verbose=args.verbose,
        on_progress=_progress_bar if not (args.queue or args.quiet) else None,
    )
    return result if not isinstance(result, list) else None  # queued entries and outcomes were printed


def _progress_bar(event: dict) -> None:
    """One line per checkpoint: a bar of step / total, the latest metrics, the time."""
    step, total = event.get("step") or 0, event.get("total")
    width = 20
    if total:
        done = min(width, round(width * step / total))
        bar = f"[{'#' * done}{'.' * (width - done)}] {step}/{total}"
    else:
        bar = f"step {step}"
    metrics = " ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in (event.get("metrics") or {}).items())
    sys.stdout.write(f"{event['experiment']} {bar} {metrics} ({event.get('elapsed', 0):.1f}s)\n")
    sys.stdout.flush()


def _cmd_queue_start(args: argparse.Namespace):
    if getattr(args, "from_kernel", False):
        # In a notebook: a status line in this cell that updates as experiments finish.
        from .display import QueueStatusLine

        line = QueueStatusLine.shown()
        api.queue_start(args.jobs, threads=True, executor=args.executor, on_finish=line.refresh)
        line.refresh(None, started=args.jobs)
        return None
    workers = api.queue_start(args.jobs, threads=False, executor=args.executor)
    where = f" on {args.executor}" if args.executor not in (None, "local") else ""
    return Text(f"Started a queue worker (detached process {workers[0].pid}) running "
                f"{args.jobs} experiment(s) at a time{where}.\n")


def _cmd_queue_stop(args: argparse.Namespace):
    report = api.queue_stop(kill=args.kill)
    if not args.kill:
        return Text(f"Asked {report.workers} worker(s) to finish their current experiments, then stop.\n")
    done = "".join(f"'{name}' {what}; back in the queue.\n" for name, what in report.stopped)
    return Text(f"Asked {report.workers} worker(s) to stop: running experiments interrupted now.\n"
                + (done or "No experiment was running.\n"))


def _cmd_queue_status(args: argparse.Namespace):
    return api.queue_status()


def _cmd_queue_logs(args: argparse.Namespace):
    text = api.queue_logs(args.name, follow=args.follow)
    return None if args.follow else Text(text)


def _cmd_queue_kill(args: argparse.Namespace):
    return Text(api.queue_kill(args.name, force=args.force) + "\n")


def _cmd_queue_remove(args: argparse.Namespace):
    removed = api.queue_remove(args.names or None, all=args.all, queued=args.queued,
                               failed=args.failed, success=args.success, force=args.force)
    if removed:
        return Text(f"Removed {', '.join(removed)} from the queue.\n")
    if args.all:
        return Text("Nothing to remove: the queue is empty.\n")
    states = [s for s in ("queued", "failed", "success") if getattr(args, s)]
    return Text(f"Nothing to remove: no {' or '.join(states)} entries in the queue.\n")


def _cmd_queue_retry(args: argparse.Namespace):
    again = api.queue_retry(args.names or None, failed=args.failed)
    if not again:
        return Text("Nothing to retry: no failed entries in the queue.\n")
    return Text(f"Queued again: {', '.join(again)}.\n")


def _cmd_exp_save(args: argparse.Namespace):
    import json

    exp = api.save(name=args.name, force=args.force, include_untracked=args.include_untracked,
                   message=args.message)
    return Text(json.dumps({"ref": exp.rev}) + "\n") if args.json else exp


def _cmd_exp_show(args: argparse.Namespace):
    import json

    from .project import Project

    project = Project.find()
    formatted = args.json or args.csv or args.md
    if formatted and not args.force:
        from .experiments import show_stamp

        options = {k: v for k, v in vars(args).items() if k not in ("func", "from_kernel")}
        options["tty"] = sys.stdout.isatty()
        known = show_stamp.lookup(project, options)
        if known is not None:
            return Text(known)
    if formatted and not args.force:
        from .experiments import show as _show

        taken = show_stamp.file_stats(_show.workspace_files(project))
    from .display import ExperimentTable
    from .experiments import show

    rows, cols = show.select(
        project, revs=args.rev, num=args.num, all_branches=args.all_branches,
        all_tags=args.all_tags, all_commits=args.all_commits, hide_workspace=args.hide_workspace,
        param_deps=args.param_deps, force=args.force, sort_by=args.sort_by,
        sort_order=args.sort_order, only_changed=args.only_changed, keep=args.keep, drop=args.drop,
        deps=args.csv, hide_queued=args.hide_queued, hide_failed=args.hide_failed,
    )
    if not formatted:
        if getattr(args, "from_kernel", False) and _widgets_render():
            return _table_widget(project, args)
        return ExperimentTable(rows, cols, args.precision if args.precision is not None else 5, args.sha)
    if args.json:
        # Indented for people; compact (and C-encoded, ten times faster) for programs.
        text = json.dumps(show.to_json(rows), indent=2 if sys.stdout.isatty() else None, default=str) + "\n"
    else:
        precision = args.precision if args.precision is not None else (None if args.csv else 5)
        cells = show.table_rows(rows, cols, precision, args.sha, csv_mode=args.csv)
        text = show.render_csv(*cells) if args.csv else show.render_md(*cells)
    # Not kept: rows with errors (a pull may mend them) or running (their engine may
    # die without a file changing).
    if not args.force and not any((row.data.has_errors and row.kind != "workspace") or row.state == "running"
                                  for row in rows):
        from .experiments import show_stamp

        show_stamp.record(project, options, text, taken)
    return Text(text)


def _widgets_render() -> bool:
    """In a Jupyter kernel (widgets render), not a terminal IPython or a test shell."""
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def _table_widget(project, args: argparse.Namespace):
    """``%exp show`` in a notebook: the interactive table; the flags that choose order
    and columns set its (persisted) preferences."""
    from dataclasses import replace

    from .widgets.table import ExperimentTableWidget

    widget = ExperimentTableWidget(
        str(project.root), revs=args.rev, num=args.num, all_branches=args.all_branches,
        all_tags=args.all_tags, all_commits=args.all_commits, hide_workspace=args.hide_workspace,
        param_deps=args.param_deps,
    )
    if args.sort_by or args.only_changed:
        sort = ((widget.column_for(args.sort_by), args.sort_order),) if args.sort_by else widget.preferences.sort
        widget.set_preferences(replace(widget.preferences, sort=sort, only_changed=args.only_changed))
    return widget


def _cmd_exp_diff(args: argparse.Namespace):
    from .display import ExpDiffView

    result = api.diff(args.a_rev, args.b_rev, all=args.all, param_deps=args.param_deps)
    if args.json:
        return Text(result.to_json(tty=sys.stdout.isatty()) + "\n")
    if args.md:
        return Text(result.to_text(markdown=True, precision=args.precision))
    return ExpDiffView(result, args.precision)


def _cmd_exp_apply(args: argparse.Namespace):
    return api.apply(args.experiment)


def _cmd_exp_branch(args: argparse.Namespace) -> None:
    name = api.branch(args.experiment, args.branch)
    print(f"Git branch '{name}' has been created from experiment '{args.experiment}'.")
    print(f"To switch to the new branch run:\n\n\tgit checkout {name}")


def _cmd_exp_rename(args: argparse.Namespace) -> None:
    api.rename(args.experiment, args.name, force=args.force)
    print(f"Renamed experiment '{args.experiment}' to '{args.name}'.")


def _cmd_exp_remove(args: argparse.Namespace) -> None:
    if args.queue:
        removed = api.queue_remove(queued=True)
        print("Removed from the queue: " + ",".join(removed) if removed else "The queue is empty.")
        if not (args.experiment or args.all_commits or args.rev):
            return
    removed = api.remove(args.experiment or None, all_commits=args.all_commits, revs=args.rev,
                         num=args.num, keep=args.keep, git_remote=args.git_remote)
    if removed:
        print("Removed experiments: " + ",".join(removed))


def _cmd_exp_gc(args: argparse.Namespace) -> None:
    if not args.force:
        if not sys.stdin.isatty():
            raise UsageError("exp gc removes experiments for good; rerun with -f to confirm.")
        answer = input("This will remove all experiments except those derived from the kept revisions. Continue? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Aborted.")
            return
    removed = api.gc(workspace=args.workspace, all_branches=args.all_branches,
                     all_tags=args.all_tags, all_commits=args.all_commits)
    print(f"Removed {len(removed)} experiments." if removed else "No experiments to remove.")


def _cmd_exp_list(args: argparse.Namespace):
    from .experiments.ls import format_list
    from .project import Project

    grouped = api.ls(args.git_remote, all_commits=args.all_commits, revs=args.rev, num=args.num)
    return Text(format_list(Project.find(), grouped, args.name_only))


def _cmd_exp_push(args: argparse.Namespace) -> None:
    pushed = api.push(args.git_remote, args.experiment or None, all_commits=args.all_commits,
                      revs=args.rev, num=args.num, force=args.force, no_cache=args.no_cache,
                      dvc_remote=args.remote, jobs=args.jobs)
    print(f"Pushed experiment(s) {', '.join(pushed)} to Git remote '{args.git_remote}'.")


def _cmd_exp_pull(args: argparse.Namespace) -> None:
    pulled = api.pull(args.git_remote, args.experiment or None, all_commits=args.all_commits,
                      revs=args.rev, num=args.num, force=args.force, no_cache=args.no_cache,
                      dvc_remote=args.remote, jobs=args.jobs)
    if pulled:
        print(f"Pulled experiment(s) {', '.join(pulled)} from Git remote '{args.git_remote}'.")
    else:
        print(f"No experiments to pull from '{args.git_remote}'.")


def _selection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-A", "--all-commits", action="store_true", help="experiments of every commit")
    parser.add_argument("--rev", action="append", default=None, metavar="COMMIT", help="baseline commit(s)")
    parser.add_argument("-n", "--num", type=num_arg, default=1, help="baselines: this many first-parent commits from --rev")


def add_experiment_verbs(sub) -> None:
    """The verbs of ``dvc exp``, at the top level: ``jupyter exp run`` is ``dvc exp run``."""
    r = sub.add_parser("run", help="run an experiment in the workspace and record it")
    _repro_flags(r, exp=True)
    r.add_argument("-S", "--set-param", action="append", default=[], metavar="[FILE:]KEY=VALUE",
                   help="override a param (Hydra grammar: +key adds, ++key adds or sets, ~key deletes)")
    r.add_argument("-n", "--name", help="experiment name (default: a random adjective-noun)")
    r.add_argument("-m", "--message", help="commit message of the experiment")
    r.add_argument("--queue", action="store_true", help="queue it (sweeps: one entry per combination)")
    r.add_argument("--run-all", action="store_true", help="run the queue in the foreground")
    r.add_argument("-j", "--jobs", type=jobs_arg, default=1, help="with --run-all: experiments at a time")
    r.add_argument("--executor", default=None, metavar="local|dask|dask://HOST:PORT",
                   help="with --run-all: where the experiments run (ours; default local)")
    r.add_argument("--temp", action="store_true", help="run now in a directory of its own")
    r.add_argument("-C", "--copy-paths", action="append", default=[], metavar="PATH",
                   help="git-ignored files to copy into --queue/--temp runs")
    r.add_argument("--reset", action="store_true",
                   help="checkpoint pipelines: start a new experiment instead of resuming")
    r.add_argument("-r", "--rev", metavar="CHECKPOINT",
                   help="with --queue/--temp: resume from this checkpoint of an experiment")
    r.set_defaults(func=_cmd_exp_run)

    q = sub.add_parser("queue", help="the experiment queue: start, stop, status, logs, kill, remove, retry")
    qs = q.add_subparsers(dest="queue_verb", metavar="VERB", parser_class=_Parser)
    qs.required = True
    x = qs.add_parser("start", help="start a background worker")
    x.add_argument("-j", "--jobs", type=jobs_arg, default=1)
    x.add_argument("--executor", default=None, metavar="local|dask|dask://HOST:PORT",
                   help="where the experiments run (ours; default local)")
    x.set_defaults(func=_cmd_queue_start)
    x = qs.add_parser("stop", help="stop the workers after their current experiments")
    x.add_argument("--kill", action="store_true", help="interrupt the running experiments too")
    x.set_defaults(func=_cmd_queue_stop)
    x = qs.add_parser("status", help="entries and workers")
    x.set_defaults(func=_cmd_queue_status)
    x = qs.add_parser("logs", help="the output of a queued experiment")
    x.add_argument("name")
    x.add_argument("-f", "--follow", action="store_true")
    x.set_defaults(func=_cmd_queue_logs)
    x = qs.add_parser("kill", help="interrupt a running experiment")
    x.add_argument("name")
    x.add_argument("--force", action="store_true", help="SIGKILL at once (default: SIGINT, then SIGTERM, then SIGKILL)")
    x.set_defaults(func=_cmd_queue_kill)
    x = qs.add_parser("remove", help="remove entries")
    x.add_argument("names", nargs="*")
    for flag in ("--all", "--queued", "--failed", "--success"):
        x.add_argument(flag, action="store_true")
    x.add_argument("--force", action="store_true", help="remove running entries too (they are killed)")
    x.set_defaults(func=_cmd_queue_remove)
    x = qs.add_parser("retry", help="queue failed entries again")
    x.add_argument("names", nargs="*")
    x.add_argument("--failed", action="store_true", help="every failed entry")
    x.set_defaults(func=_cmd_queue_retry)

    v = sub.add_parser("save", help="record the workspace as an experiment without running")
    v.add_argument("-n", "--name")
    v.add_argument("-f", "--force", action="store_true", help="overwrite an experiment of the same name")
    v.add_argument("-I", "--include-untracked", action="append", default=[], metavar="PATH")
    v.add_argument("-m", "--message")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_cmd_exp_save)

    s = sub.add_parser("show", help="the experiment table")
    _selection_flags(s)
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

    d = sub.add_parser("diff", help="params and metrics of two experiments or revisions")
    d.add_argument("a_rev", nargs="?")
    d.add_argument("b_rev", nargs="?")
    d.add_argument("--all", action="store_true", help="unchanged values too")
    d.add_argument("--param-deps", action="store_true")
    d.add_argument("--json", action="store_true")
    d.add_argument("--md", action="store_true")
    d.add_argument("--precision", type=precision_arg, default=5)
    d.set_defaults(func=_cmd_exp_diff)

    a = sub.add_parser("apply", help="bring an experiment into the workspace")
    a.add_argument("experiment")
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
        _selection_flags(m)
        m.add_argument("--keep", action="store_true", help="remove all but the selected experiments")
        m.add_argument("-g", "--git-remote", help="remove them on this git remote")
        m.add_argument("--queue", action="store_true", help="remove every queued experiment")
        m.set_defaults(func=_cmd_exp_remove)

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
        _selection_flags(ls)
        ls.add_argument("--name-only", "--names-only", action="store_true")
        ls.set_defaults(func=_cmd_exp_list)

    for verb, func in (("push", _cmd_exp_push), ("pull", _cmd_exp_pull)):
        x = sub.add_parser(verb, help=f"{verb} experiments and their cached data")
        x.add_argument("git_remote")
        x.add_argument("experiment", nargs="*")
        _selection_flags(x)
        x.add_argument("-f", "--force", action="store_true")
        x.add_argument("--no-cache", action="store_true", help="refs only, no cache objects")
        x.add_argument("-r", "--remote", help="DVC remote for the cache objects (default core.remote)")
        x.add_argument("-j", "--jobs", type=int, metavar="NUMBER", help="objects copied at once")
        x.set_defaults(func=func)
