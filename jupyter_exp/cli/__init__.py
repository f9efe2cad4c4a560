"""``jupyter exp ...``: parse the command line, call the api, print the result.

The parser built here is the one parser definition; the ``%exp`` magic reuses it
through :func:`execute`. Each noun's module adds its verbs and their handlers:
:mod:`.pipeline` (init, add, checkout, repro), :mod:`.params_metrics` (params, metrics),
:mod:`.experiments` (run, save, show, diff, apply, branch, rename, remove, gc, list),
:mod:`.queue` (queue ...), :mod:`.sharing` (push, pull), :mod:`.plots` (plots ...),
:mod:`.notes` (note), :mod:`.data` (remote ..., data push/pull/fetch/gc). A JupyterExpError prints one
line on stderr and exits 1 (a usage error 2); Ctrl+C exits 130.
"""

from __future__ import annotations

import argparse
import errno
import sys

from ..errors import JupyterExpError
from ..version import __version__
from .flag_words import FlagWords
from .parser import HelpShown, Parser, Text, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["DiskError", "HelpShown", "Text", "UsageError", "build_parser", "execute", "main"]


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


# The verbs each noun's module adds: only the module of the verb asked for is imported
# (and its sub-parser built), so a no-op `repro` does not pay for the experiment verbs.
NOUN_VERBS: dict[str, tuple[str, ...]] = {
    "pipeline": ("init", "add", "checkout", "repro"),
    "params_metrics": ("params", "metrics"),
    "experiments": ("run", "save", "show", "diff", "apply", "branch", "rename", "remove", "rm", "gc", "list", "ls"),
    "queue": ("queue",),
    "sharing": ("push", "pull"),
    "plots": ("plots",),
    "notes": ("note",),
    "data": ("remote", "data"),  # data remotes, data push/pull/fetch and cache gc
    "pipeline_more": ("commit", "freeze", "unfreeze", "dvc-remove", "data-diff"),
}
VERBS = frozenset(verb for verbs in NOUN_VERBS.values() for verb in verbs)


def _nouns(only: str | None) -> list:
    """The modules whose verbs the parser needs (every one when ``only`` is None)."""
    wanted = [noun for noun, verbs in NOUN_VERBS.items() if only is None or only in verbs]
    found = []
    if "pipeline" in wanted:
        from . import pipeline

        found.append(pipeline)
    if "params_metrics" in wanted:
        from . import params_metrics

        found.append(params_metrics)
    if "experiments" in wanted:
        from . import experiments

        found.append(experiments)
    if "queue" in wanted:
        from . import queue

        found.append(queue)
    if "sharing" in wanted:
        from . import sharing

        found.append(sharing)
    if "plots" in wanted:
        from . import plots

        found.append(plots)
    if "notes" in wanted:
        from . import notes

        found.append(notes)
    if "data" in wanted:
        from . import data

        found.append(data)
    if "pipeline_more" in wanted:
        from . import pipeline_more

        found.append(pipeline_more)
    return found


def build_parser(prog: str = "jupyter exp", only: str | None = None) -> argparse.ArgumentParser:
    """The ``jupyter exp`` parser: every verb and flag, shared with the magics.

    ``only`` builds just that verb's sub-parser (the others are not needed to parse it).
    """
    parser = Parser(prog=prog, description="DVC-compatible pipelines and experiments.")
    parser.add_argument("--version", action="version", version=f"jupyter_exp {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    subparsers.required = True
    verbs = _OnlyVerb(subparsers, only)
    for noun in _nouns(only):
        noun.add_verbs(verbs)
    return parser


def execute(argv: Sequence[str], prog: str = "jupyter exp", from_kernel: bool = False) -> object:
    """Parse ``argv`` with the one parser and run the verb; return what it produced.

    The CLI prints the result; the ``%exp`` magic returns it for Jupyter to display
    (and says ``from_kernel``: background work then runs in threads, not processes).
    """
    parser = build_parser(prog, only=_verb_of(argv))
    try:
        args = parser.parse_args(list(argv))
    except HelpShown:
        return None
    args.from_kernel = from_kernel
    handler: Callable[[argparse.Namespace], object] = args.func
    try:
        return handler(args)
    except JupyterExpError as exc:
        # The engine names options by the api's keywords: here they are this verb's flags.
        exc.spell = FlagWords(
            _verb_parser(parser, args.verb), args.verb, lambda verb: _verb_parser(build_parser(prog, verb), verb)
        )
        raise
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        # A full disk or a read-only file system is the user's to fix, wherever it struck.
        where = f" {exc.filename}" if exc.filename else ""
        raise DiskError(f"Cannot write{where}: {exc.strerror}; free space (or make it writable) and rerun.") from None


def _verb_parser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser:
    """The sub-parser of ``verb`` (argparse keeps it in its sub-parsers action)."""
    for action in parser._actions:
        if isinstance(action.choices, dict) and verb in action.choices:
            return action.choices[verb]
    return parser


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
            sys.stdout.flush()  # a closed pipe fails here, not at exit
    except BrokenPipeError:
        # The reader went away (`jupyter-exp show --json | head`): stop quietly, as DVC
        # does (exit status 141, 128 + SIGPIPE), with stdout pointed at /dev/null so that
        # Python's own flush at exit does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except JupyterExpError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0
