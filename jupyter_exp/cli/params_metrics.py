"""The ``params`` and ``metrics`` verbs of ``jupyter exp``: ``params diff``,
``metrics show``, ``metrics diff``."""

from __future__ import annotations

import argparse
import sys

from ..api import params_metrics as api
from ..arguments import precision_arg
from .parser import Parser, Text


def _diff_result(rows, args: argparse.Namespace, with_change: bool):
    from ..display import DiffTable
    from ..render.json import diff_json
    from ..render.text import diff_table

    if args.json:
        return Text(diff_json(rows, tty=sys.stdout.isatty()) + "\n")
    if args.md:
        return Text(
            diff_table(
                rows,
                args.a_rev or "HEAD",
                args.b_rev or "workspace",
                with_change,
                markdown=True,
                precision=getattr(args, "precision", None),
                round_digits=with_change,
            )
            if rows
            else ""
        )
    # DVC rounds metrics to digits after the point; params are shown as they are
    return DiffTable(
        rows,
        args.a_rev or "HEAD",
        args.b_rev or "workspace",
        "Metric" if with_change else "Param",
        with_change,
        getattr(args, "precision", None),
        round_digits=with_change,
    )


def _cmd_params_diff(args: argparse.Namespace):
    return _diff_result(api.params_diff(args.a_rev, args.b_rev, all=args.all, deps=args.deps), args, False)


def _cmd_metrics_diff(args: argparse.Namespace):
    return _diff_result(api.metrics_diff(args.a_rev, args.b_rev, all=args.all), args, True)


def _cmd_metrics_show(args: argparse.Namespace):
    from ..display import MetricsView
    from ..render.json import dumps

    flags = {"all_branches": args.all_branches, "all_tags": args.all_tags, "all_commits": args.all_commits}
    shown = api.metrics_show(nested=True, **flags)
    failed = [rev or "workspace" for rev, value in shown.items() if any("error" in f for f in value["data"].values())]
    if failed:  # as DVC, on stderr; the output still shows the rest
        print(f"Failed to load some metrics for following revisions: '{', '.join(failed)}'.", file=sys.stderr)
    if args.json:
        return Text(dumps(shown, sys.stdout.isatty()) + "\n")
    view = MetricsView(shown, args.precision, with_revision=any(flags.values()))
    if args.md:
        return Text(view.markdown())
    return view


def add_verbs(verbs) -> None:
    """``params diff``, ``metrics show`` and ``metrics diff``."""
    p = verbs.add_parser("params", help="params of the pipeline")
    sub = p.add_subparsers(dest="params_verb", metavar="VERB", parser_class=Parser)
    sub.required = True
    d = sub.add_parser("diff", help="params that changed between two revisions")
    d.add_argument("a_rev", nargs="?", default="HEAD")
    d.add_argument("b_rev", nargs="?", default=None)
    d.add_argument("--all", action="store_true", help="unchanged params too")
    d.add_argument("--deps", action="store_true", help="only params that stages depend on")
    d.add_argument("--json", action="store_true")
    d.add_argument("--md", action="store_true")
    d.set_defaults(func=_cmd_params_diff)

    p = verbs.add_parser("metrics", help="metrics of the pipeline")
    sub = p.add_subparsers(dest="metrics_verb", metavar="VERB", parser_class=Parser)
    sub.required = True
    s = sub.add_parser("show", help="the metrics in the workspace")
    s.add_argument("-a", "--all-branches", action="store_true", help="every branch's too")
    s.add_argument("-T", "--all-tags", action="store_true", help="every tag's too")
    s.add_argument("-A", "--all-commits", action="store_true", help="every commit's too")
    s.add_argument("--json", action="store_true")
    s.add_argument("--md", action="store_true")
    s.add_argument("--precision", type=precision_arg, default=5)
    s.set_defaults(func=_cmd_metrics_show)
    d = sub.add_parser("diff", help="metrics that changed between two revisions")
    d.add_argument("a_rev", nargs="?", default="HEAD")
    d.add_argument("b_rev", nargs="?", default=None)
    d.add_argument("--all", action="store_true")
    d.add_argument("--json", action="store_true")
    d.add_argument("--md", action="store_true")
    d.add_argument("--precision", type=precision_arg, default=5)
    d.set_defaults(func=_cmd_metrics_diff)
