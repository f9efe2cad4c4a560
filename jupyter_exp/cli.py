"""``jupyter exp ...``: parse the command line, call the api, print the result.

The parser built here is the one parser definition; the ``%exp`` magics reuse it.
A JupyterExpError prints one line on stderr and exits 1; Ctrl+C exits 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

import jupyter_exp as api

from .errors import JupyterExpError


class UsageError(JupyterExpError):
    exit_code = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")


def _repro_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", help="stages or dvc.yaml files (default: all)")
    parser.add_argument("-f", "--force", action="store_true", help="reproduce even if nothing changed")
    parser.add_argument("-s", "--single-item", action="store_true", help="only the targets, not their upstream")
    parser.add_argument("-p", "--pipeline", action="store_true", help="whole pipelines the targets belong to")
    parser.add_argument("-P", "--all-pipelines", action="store_true", help="every stage of the project")
    parser.add_argument("--downstream", action="store_true", help="the targets and what depends on them")
    parser.add_argument("--force-downstream", action="store_true", help="rerun everything after a changed stage")
    parser.add_argument("--dry", action="store_true", help="print the commands without running them")
    parser.add_argument("-k", "--keep-going", action="store_true", help="continue past failures, skip their dependents")
    parser.add_argument("--ignore-errors", action="store_true", help="continue past failures")


def _cmd_init(args: argparse.Namespace) -> None:
    project = api.init()
    print(f"Initialized jupyter_exp (DVC 3 compatible) project in {project.root}")


def _cmd_add(args: argparse.Namespace) -> None:
    api.add(args.paths)


def _cmd_checkout(args: argparse.Namespace) -> None:
    for path in api.checkout(args.targets or None):
        print(f"M\t{path}")


def _cmd_repro(args: argparse.Namespace) -> None:
    api.repro(
        args.targets or None, force=args.force, single_item=args.single_item,
        downstream=args.downstream, pipeline=args.pipeline, all_pipelines=args.all_pipelines,
        force_downstream=args.force_downstream, dry=args.dry, keep_going=args.keep_going,
        ignore_errors=args.ignore_errors,
    )


def _print_diff(rows, args: argparse.Namespace, with_change: bool) -> None:
    from .compare import diff_json, diff_table

    if args.json:
        print(diff_json(rows, with_change))
    elif rows:
        print(diff_table(rows, args.a_rev or "HEAD", args.b_rev or "workspace", with_change,
                         markdown=args.md, precision=getattr(args, "precision", None)), end="")


def _cmd_params_diff(args: argparse.Namespace) -> None:
    _print_diff(api.params_diff(args.a_rev, args.b_rev, all=args.all, deps=args.deps), args, False)


def _cmd_metrics_diff(args: argparse.Namespace) -> None:
    _print_diff(api.metrics_diff(args.a_rev, args.b_rev, all=args.all), args, True)


def _cmd_metrics_show(args: argparse.Namespace) -> None:
    from .compare import format_value, table

    shown = api.metrics_show()
    if args.json:
        print(json.dumps({rev: {"data": {f: v for f, v in files.items()}} for rev, files in shown.items()}, indent=2))
        return
    rows = []
    for files in shown.values():
        for path, value in files.items():
            if "error" in value:
                rows.append([path, "!", value["error"]["msg"]])
            for key, metric in value.get("data", {}).items():
                rows.append([path, key, format_value(metric, args.precision)])
    if rows:
        print(table(["Path", "Metric", "Value"], rows, markdown=args.md), end="")


def build_parser() -> argparse.ArgumentParser:
    """The ``jupyter exp`` parser: every verb and flag, shared with the magics."""
    parser = _Parser(prog="jupyter exp", description="DVC-compatible pipelines and experiments.")
    parser.add_argument("--version", action="version", version=f"jupyter_exp {api.__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    verbs.required = True

    p = verbs.add_parser("init", help="make this git repository a DVC 3 compatible project")
    p.set_defaults(func=_cmd_init)

    p = verbs.add_parser("add", help="track data files or directories in the cache")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=_cmd_add)

    p = verbs.add_parser("checkout", help="restore tracked data and stage outputs from the cache")
    p.add_argument("targets", nargs="*")
    p.set_defaults(func=_cmd_checkout)

    p = verbs.add_parser("repro", help="reproduce the pipeline")
    _repro_flags(p)
    p.set_defaults(func=_cmd_repro)

    p = verbs.add_parser("params", help="params of the pipeline")
    sub = p.add_subparsers(dest="params_verb", metavar="VERB", parser_class=_Parser)
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
    sub = p.add_subparsers(dest="metrics_verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    s = sub.add_parser("show", help="the metrics in the workspace")
    s.add_argument("--json", action="store_true")
    s.add_argument("--md", action="store_true")
    s.add_argument("--precision", type=int, default=5)
    s.set_defaults(func=_cmd_metrics_show)
    d = sub.add_parser("diff", help="metrics that changed between two revisions")
    d.add_argument("a_rev", nargs="?", default="HEAD")
    d.add_argument("b_rev", nargs="?", default=None)
    d.add_argument("--all", action="store_true")
    d.add_argument("--json", action="store_true")
    d.add_argument("--md", action="store_true")
    d.add_argument("--precision", type=int, default=5)
    d.set_defaults(func=_cmd_metrics_diff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jupyter-exp`` (and so of ``jupyter exp``)."""
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], None] = args.func
        handler(args)
    except JupyterExpError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
