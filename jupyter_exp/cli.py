"""``jupyter exp ...``: parse the command line, call the api, print the result.

The parser built here is the one parser definition; the ``%exp`` magics reuse it.
A JupyterExpError prints one line on stderr and exits 1; Ctrl+C exits 130.
"""

from __future__ import annotations

import argparse
import errno
import sys

import jupyter_exp as api

from .arguments import precision_arg
from .errors import JupyterExpError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Sequence


class UsageError(JupyterExpError):
    exit_code = 2


class Text(str):
    """Output that is already text (JSON, CSV, Markdown): printed as is, shown as is."""

    def __repr__(self) -> str:
        return str(self)


class HelpShown(Exception):
    """``--help`` or ``--version`` printed what was asked; nothing else to do."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")

    def exit(self, status: int = 0, message: str | None = None) -> None:
        # argparse would end the process: fatal inside a kernel.
        if status:
            raise UsageError((message or "bad arguments").strip())
        if message:
            sys.stdout.write(message)
        raise HelpShown()


def _repro_flags(parser: argparse.ArgumentParser, exp: bool = False) -> None:
    parser.add_argument("targets", nargs="*", help="stages or dvc.yaml files (default: all)")
    parser.add_argument("-f", "--force", action="store_true",
                        help="reproduce even if nothing changed" + ("; overwrite an experiment of the same name" if exp else ""))
    parser.add_argument("-s", "--single-item", action="store_true", help="only the targets, not their upstream")
    parser.add_argument("-p", "--pipeline", action="store_true", help="whole pipelines the targets belong to")
    parser.add_argument("-P", "--all-pipelines", action="store_true", help="every stage of the project")
    parser.add_argument("--downstream", action="store_true", help="the targets and what depends on them")
    parser.add_argument("--force-downstream", action="store_true", help="rerun everything after a changed stage")
    parser.add_argument("--dry", action="store_true", help="print the commands without running them"
                        + ("; record nothing" if exp else ""))
    parser.add_argument("-k", "--keep-going", action="store_true", help="continue past failures, skip their dependents")
    parser.add_argument("--ignore-errors", action="store_true", help="continue past failures")
    parser.add_argument("-R", "--recursive", action="store_true", help="a directory target means every stage inside it")
    parser.add_argument("-i", "--interactive", action="store_true", help="ask before each stage runs")
    parser.add_argument("--pull", action="store_true", help="take missing outputs from the DVC remote")
    parser.add_argument("--allow-missing", action="store_true", help="skip stages whose only change is missing data")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="accepted for DVC's sake")


def _cmd_init(args: argparse.Namespace) -> None:
    project = api.init()
    print(f"Initialized jupyter_exp (DVC 3 compatible) project in {project.root}")


def _cmd_add(args: argparse.Namespace) -> None:
    api.add(args.paths)


def _cmd_checkout(args: argparse.Namespace) -> None:
    for path in api.checkout(args.targets or None, force=args.force):
        print(f"M\t{path}")


def _cmd_repro(args: argparse.Namespace) -> None:
    api.repro(
        args.targets or None, force=args.force, single_item=args.single_item,
        downstream=args.downstream, pipeline=args.pipeline, all_pipelines=args.all_pipelines,
        force_downstream=args.force_downstream, dry=args.dry, keep_going=args.keep_going,
        ignore_errors=args.ignore_errors, recursive=args.recursive, interactive=args.interactive,
        pull=args.pull, allow_missing=args.allow_missing, quiet=args.quiet, verbose=args.verbose,
    )


def _diff_result(rows, args: argparse.Namespace, with_change: bool):
    from .compare import diff_json, diff_table
    from .display import DiffTable

    if args.json:
        return Text(diff_json(rows, tty=sys.stdout.isatty()) + "\n")
    if args.md:
        return Text(diff_table(rows, args.a_rev or "HEAD", args.b_rev or "workspace", with_change,
                               markdown=True, precision=getattr(args, "precision", None),
                               round_digits=with_change) if rows else "")
    # DVC rounds metrics to digits after the point; params are shown as they are
    return DiffTable(rows, args.a_rev or "HEAD", args.b_rev or "workspace",
                     "Metric" if with_change else "Param", with_change, getattr(args, "precision", None),
                     round_digits=with_change)


def _cmd_params_diff(args: argparse.Namespace):
    return _diff_result(api.params_diff(args.a_rev, args.b_rev, all=args.all, deps=args.deps), args, False)


def _cmd_metrics_diff(args: argparse.Namespace):
    return _diff_result(api.metrics_diff(args.a_rev, args.b_rev, all=args.all), args, True)


def _cmd_metrics_show(args: argparse.Namespace):
    from .compare import dumps
    from .display import MetricsView

    flags = {"all_branches": args.all_branches, "all_tags": args.all_tags, "all_commits": args.all_commits}
    shown = api.metrics_show(nested=True, **flags)
    failed = [rev or "workspace" for rev, value in shown.items()
              if any("error" in f for f in value["data"].values())]
    if failed:  # as DVC, on stderr; the output still shows the rest
        print(f"Failed to load some metrics for following revisions: '{', '.join(failed)}'.", file=sys.stderr)
    if args.json:
        return Text(dumps(shown, sys.stdout.isatty()) + "\n")
    view = MetricsView(shown, args.precision, with_revision=any(flags.values()))
    if args.md:
        return Text(view.markdown())
    return view


def build_stage_parser() -> argparse.ArgumentParser:
    """The ``%%stage`` line: the flags of ``dvc stage add``, plus --no-run and --script."""
    p = _Parser(prog="%%stage", description="Make this cell a pipeline stage (a script and its dvc.yaml entry).")
    p.add_argument("name", help="stage name")
    p.add_argument("-d", "--deps", action="append", default=[], metavar="PATH")
    p.add_argument("-p", "--params", action="append", default=[], metavar="[FILE:]KEY[,KEY]")
    p.add_argument("-o", "--outs", action="append", default=[], metavar="PATH")
    p.add_argument("-O", "--outs-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="PATH")
    p.add_argument("-M", "--metrics-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("--plots", action="append", default=[], metavar="PATH")
    p.add_argument("--plots-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("-c", "--checkpoints", action="append", default=[], metavar="PATH",
                   help="checkpoint outputs (kept between runs)")
    p.add_argument("-w", "--wdir", help="directory the command runs in")
    p.add_argument("-f", "--force", action="store_true", help="replace a different stage of that name")
    p.add_argument("--always-changed", action="store_true")
    p.add_argument("--desc")
    p.add_argument("--script", help="where the cell is written (default stages/NAME.py)")
    p.add_argument("--no-run", action="store_true", help="write the stage without reproducing it")
    return p


class _Skipped:
    """Stands in for the parser of a verb that was not asked for: every call is a no-op."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self


class _OnlyVerb:
    """Builds the sub-parser of one verb only (argparse costs ~5 ms for all of them,
    a tenth of a no-op ``repro``); None builds every verb (for help and errors)."""

    def __init__(self, verbs, only: str | None) -> None:
        self.verbs = verbs
        self.only = only

    def add_parser(self, name: str, **kwargs):
        if self.only is None or name == self.only:
            return self.verbs.add_parser(name, **kwargs)
        return _Skipped()


def _verb_of(argv: Sequence[str]) -> str | None:
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in VERBS else None


VERBS = frozenset({
    "init", "add", "checkout", "repro", "params", "metrics", "run", "save", "show", "diff",
    "apply", "branch", "rename", "remove", "rm", "gc", "list", "ls", "push", "pull", "queue",
})


def build_parser(prog: str = "jupyter exp", only: str | None = None) -> argparse.ArgumentParser:
    """The ``jupyter exp`` parser: every verb and flag, shared with the magics.

    ``only`` builds just that verb's sub-parser (the others are not needed to parse it).
    """
    parser = _Parser(prog=prog, description="DVC-compatible pipelines and experiments.")
    parser.add_argument("--version", action="version", version=f"jupyter_exp {api.__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    subparsers.required = True
    verbs = _OnlyVerb(subparsers, only)

    p = verbs.add_parser("init", help="make this git repository a DVC 3 compatible project")
    p.set_defaults(func=_cmd_init)

    p = verbs.add_parser("add", help="track data files or directories in the cache")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=_cmd_add)

    p = verbs.add_parser("checkout", help="restore tracked data and stage outputs from the cache")
    p.add_argument("targets", nargs="*")
    p.add_argument("-f", "--force", action="store_true",
                   help="replace workspace files that no cache object holds (edits are lost)")
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

    from .cli_experiments import add_experiment_verbs

    add_experiment_verbs(verbs)
    return parser


def execute(argv: Sequence[str], prog: str = "jupyter exp", from_kernel: bool = False) -> object:
    """Parse ``argv`` with the one parser and run the verb; return what it produced.

    The CLI prints the result; the ``%exp`` magic returns it for Jupyter to display
    (and says ``from_kernel``: background work then runs in threads, not processes).
    """
    try:
        args = build_parser(prog, only=_verb_of(argv)).parse_args(list(argv))
    except HelpShown:
        return None
    args.from_kernel = from_kernel
    handler: Callable[[argparse.Namespace], object] = args.func
    try:
        return handler(args)
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        # A full disk or a read-only file system is the user's to fix, wherever it struck.
        where = f" {exc.filename}" if exc.filename else ""
        raise DiskError(f"Cannot write{where}: {exc.strerror}; free space (or make it writable) "
                        "and rerun.") from None


_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class DiskError(JupyterExpError):
    """The disk is full, over quota or read-only."""


def _terminal_text(result: object) -> str | None:
    """What the CLI prints for a verb's result (None: the verb printed as it went)."""
    if result is None or not hasattr(result, "__str__"):
        return None
    if isinstance(result, Text):
        return str(result)
    if hasattr(result, "_repr_html_"):  # the rich views render as text tables
        return str(result)
    return None


def _terminate(_signum, _frame) -> None:
    # SIGTERM stops like Ctrl+C: stage commands are interrupted, committed work stays.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jupyter-exp`` (and so of ``jupyter exp``)."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        text = _terminal_text(execute(sys.argv[1:] if argv is None else argv))
        if text:
            print(text, end="" if text.endswith("\n") else "\n")
    except JupyterExpError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    # `python -m jupyter_exp.cli`: run the imported module's main, not this __main__ copy,
    # whose classes (Text) the verbs' modules do not see.
    from jupyter_exp.cli import main as _main

    sys.exit(_main())
