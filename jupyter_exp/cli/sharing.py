"""``jupyter exp push`` and ``pull``: experiments and their cached data to and from remotes."""

from __future__ import annotations

import argparse

from ..api import sharing as api
from .parser import selection_flags


def _cmd_exp_push(args: argparse.Namespace) -> None:
    pushed = api.push(
        args.git_remote,
        args.experiment or None,
        all_commits=args.all_commits,
        revs=args.rev,
        num=args.num,
        force=args.force,
        no_cache=args.no_cache,
        dvc_remote=args.remote,
        jobs=args.jobs,
    )
    print(f"Pushed experiment(s) {', '.join(pushed)} to Git remote '{args.git_remote}'.")


def _cmd_exp_pull(args: argparse.Namespace) -> None:
    pulled = api.pull(
        args.git_remote,
        args.experiment or None,
        all_commits=args.all_commits,
        revs=args.rev,
        num=args.num,
        force=args.force,
        no_cache=args.no_cache,
        dvc_remote=args.remote,
        jobs=args.jobs,
    )
    if pulled:
        print(f"Pulled experiment(s) {', '.join(pulled)} from Git remote '{args.git_remote}'.")
    else:
        print(f"No experiments to pull from '{args.git_remote}'.")


def add_verbs(verbs) -> None:
    """``push`` and ``pull``."""
    for verb, func in (("push", _cmd_exp_push), ("pull", _cmd_exp_pull)):
        x = verbs.add_parser(verb, help=f"{verb} experiments and their cached data")
        x.add_argument("git_remote")
        x.add_argument("experiment", nargs="*")
        selection_flags(x)
        x.add_argument("-f", "--force", action="store_true")
        x.add_argument("--no-cache", action="store_true", help="refs only, no cache objects")
        x.add_argument("-r", "--remote", help="DVC remote for the cache objects (default core.remote)")
        x.add_argument("-j", "--jobs", type=int, metavar="NUMBER", help="objects copied at once")
        x.set_defaults(func=func)
