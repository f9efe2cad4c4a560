"""The ``queue`` verbs of ``jupyter exp``: start, stop, status, logs, kill, remove, retry."""

from __future__ import annotations

import argparse

from ..api import queue as api
from ..arguments import jobs_arg
from .parser import Parser, Text


def _cmd_queue_start(args: argparse.Namespace):
    if getattr(args, "from_kernel", False):
        from ..display import QueueStatusLine
        from ..kernel import in_kernel

        if not in_kernel():
            # A terminal IPython: its prompt owns the terminal, and a line the worker
            # thread printed would land inside the next prompt. Said once, here.
            api.queue_start(args.jobs, threads=True, executor=args.executor, shared_fs=args.shared_fs)
            return Text(
                f"Started a queue worker thread running {args.jobs} experiment(s) at a time; "
                "`%exp queue status` shows how far it is.\n"
            )
        # In a notebook: a status line in this cell that updates as experiments finish,
        # shown once the worker started (an empty queue is one line, with nothing before).
        line = QueueStatusLine(None)
        api.queue_start(
            args.jobs, threads=True, executor=args.executor, shared_fs=args.shared_fs, on_finish=line.refresh
        )
        line.show(started=args.jobs)
        return None
    workers = api.queue_start(args.jobs, threads=False, executor=args.executor, shared_fs=args.shared_fs)
    where = f" on {args.executor}" if args.executor not in (None, "local") else ""
    return Text(
        f"Started a queue worker (detached process {workers[0].pid}) running "
        f"{args.jobs} experiment(s) at a time{where}.\n"
    )


def _cmd_queue_stop(args: argparse.Namespace):
    report = api.queue_stop(kill=args.kill)
    if not args.kill:
        return Text(f"Asked {report.workers} worker(s) to finish their current experiments, then stop.\n")
    done = "".join(f"'{name}' {what}; back in the queue.\n" for name, what in report.stopped)
    return Text(
        f"Asked {report.workers} worker(s) to stop: running experiments interrupted now.\n"
        + (done or "No experiment was running.\n")
    )


def _cmd_queue_status(args: argparse.Namespace):
    return api.queue_status()


def _cmd_queue_logs(args: argparse.Namespace):
    text = api.queue_logs(args.name, follow=args.follow)
    return None if args.follow else Text(text)


def _cmd_queue_kill(args: argparse.Namespace):
    return Text(api.queue_kill(args.name, force=args.force) + "\n")


def _cmd_queue_remove(args: argparse.Namespace):
    removed = api.queue_remove(
        args.names or None, all=args.all, queued=args.queued, failed=args.failed, success=args.success, force=args.force
    )
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


def add_verbs(verbs) -> None:
    """``queue`` and its verbs."""
    q = verbs.add_parser("queue", help="the experiment queue: start, stop, status, logs, kill, remove, retry")
    qs = q.add_subparsers(dest="queue_verb", metavar="VERB", parser_class=Parser)
    qs.required = True
    x = qs.add_parser("start", help="start a background worker")
    x.add_argument("-j", "--jobs", type=jobs_arg, default=1)
    x.add_argument(
        "--executor",
        default=None,
        metavar="local|dask|dask://HOST:PORT",
        help="where the experiments run (ours; default local)",
    )
    x.add_argument(
        "--shared-fs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with a Dask scheduler: whether its workers see this project at the same path (default: detected)",
    )
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
