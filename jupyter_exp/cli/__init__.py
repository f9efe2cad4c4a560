"""``jupyter dvc ...`` and ``jupyter exp ...``: parse the command line, call the api, print the result.

The namespace rule: ``jupyter dvc ARGS`` (and ``%dvc ARGS``) is ``dvc ARGS``, and
``jupyter exp ARGS`` (and ``%exp ARGS``) is ``dvc exp ARGS`` (``jupyter dvc exp ARGS`` too).
:data:`COMMANDS` is the one table of both namespaces: a row names a namespace, the module
that adds the verbs, and the verbs; the parser built from it serves the CLI and the magics
through :func:`execute`. A pipeline verb asked under ``exp`` fails with one line naming
its ``dvc`` spelling. A JupyterExpError prints one line on stderr and exits 1 (a usage
error 2); Ctrl+C exits 130.
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

__all__ = ["COMMANDS", "DiskError", "HelpShown", "Text", "UsageError", "build_parser", "dvc_main", "execute", "main"]


class _Skipped:
    """Stands in for the parser of a verb that was not asked for: every call is a no-op."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self


class _OnlyVerb:
    """Builds the sub-parsers of the verbs a module may add in this namespace, and of
    ``only`` alone when it is given (argparse costs ~5 ms for all of them, a tenth of a
    no-op ``repro``); ``only`` None builds every verb (for help and errors)."""

    def __init__(self, verbs, allowed: tuple[str, ...], only: str | None) -> None:
        self.verbs = verbs
        self.allowed = allowed
        self.only = only

    def add_parser(self, name: str, **kwargs):
        if name in self.allowed and (self.only is None or name == self.only):
            return self.verbs.add_parser(name, **kwargs)
        return _Skipped()


# (namespace, module of jupyter_exp.cli, verbs it adds there). `dvc` mirrors `dvc ...`;
# `exp` mirrors `dvc exp ...`. Only the module of the verb asked for is imported (and
# its sub-parser built), so a no-op `repro` does not pay for the experiment verbs.
# A new verb group is one more row.
COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("dvc", "pipeline", ("init", "add", "checkout", "repro")),
    ("dvc", "params_metrics", ("params", "metrics")),
    ("dvc", "plots", ("plots",)),
    ("dvc", "queue", ("queue",)),
    ("dvc", "data", ("remote", "push", "pull", "fetch", "gc")),  # data remotes, data transfer, cache gc
    ("dvc", "status_dag", ("status", "dag")),
    ("dvc", "stage", ("stage",)),
    ("dvc", "config_doctor", ("config", "doctor")),
    ("dvc", "pipeline_more", ("commit", "freeze", "unfreeze", "remove", "diff")),
    (
        "exp",
        "experiments",
        ("run", "save", "show", "diff", "apply", "branch", "rename", "remove", "rm", "gc", "clean", "list", "ls"),
    ),
    ("exp", "sharing", ("push", "pull")),
    ("exp", "queue", ("queue",)),
    ("exp", "notes", ("note",)),
    # Aliases: `dvc exp` has no verb of these names, and each means one thing in both namespaces.
    ("exp", "pipeline", ("repro",)),
    ("exp", "params_metrics", ("params", "metrics")),
    ("exp", "plots", ("plots",)),
)
NAMESPACES = ("dvc", "exp")
PROGS = {"dvc": "jupyter dvc", "exp": "jupyter exp"}


def verbs_of(space: str) -> frozenset[str]:
    """Every verb of a namespace (``exp`` included in ``dvc``: it opens the other one)."""
    found = {verb for row_space, _, verbs in COMMANDS if row_space == space for verb in verbs}
    return frozenset(found | ({"exp"} if space == "dvc" else set()))


VERBS = verbs_of("exp")


def _verb_of(argv: Sequence[str], space: str = "exp") -> tuple[int, str | None]:
    """Where the verb is in ``argv`` and which one (None: none of this namespace's)."""
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            return i, arg if arg in verbs_of(space) else None
    return len(argv), None


def _nouns(space: str, only: str | None) -> list:
    """The modules (and the verbs each may add) the parser needs (every one when ``only`` is None)."""
    from importlib import import_module

    return [
        (import_module(f".{module}", __name__), verbs)
        for row_space, module, verbs in COMMANDS
        if row_space == space and (only is None or only in verbs)
    ]


def build_parser(prog: str = "jupyter exp", only: str | None = None, space: str = "exp") -> argparse.ArgumentParser:
    """The parser of one namespace (``exp`` or ``dvc``): every verb and flag, shared with the magics.

    ``only`` builds just that verb's sub-parser (the others are not needed to parse it).
    """
    what = "Experiments: `dvc exp ...`" if space == "exp" else "DVC's command line: pipelines, data, experiments"
    parser = Parser(prog=prog, description=f"{what} (DVC 3 compatible).")
    parser.add_argument("--version", action="version", version=f"jupyter_exp {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    subparsers.required = True
    for noun, allowed in _nouns(space, only):
        noun.add_verbs(_OnlyVerb(subparsers, allowed, only))
    if space == "dvc" and only is None:  # listed in the help; `execute` hands its arguments to the exp parser
        subparsers.add_parser("exp", help="experiments: what `jupyter exp` does", add_help=False)
    return parser


class MovedVerbError(UsageError):
    """A ``dvc`` verb asked under ``exp`` (``jupyter exp add``): the one line names its spelling."""


_KINDS = {"remote": "data remote", "data": "data", "fetch": "data", "config": "DVC", "doctor": "DVC"}


def _moved(argv: Sequence[str], at: int, prog: str) -> MovedVerbError:
    """The error for ``argv[at]``, a verb of ``dvc`` that is not one of ``dvc exp``."""
    import shlex

    verb, rest = argv[at], list(argv[at + 1 :])
    dvc_prog = "%dvc" if prog.startswith("%") else PROGS["dvc"]
    if verb == "data" and rest and rest[0] in verbs_of("dvc"):  # the temporary `data push` of before
        verb, spelling = f"data {rest[0]}", shlex.join(rest)
    else:
        spelling = shlex.join([verb, *rest])
    kind = _KINDS.get(verb.split()[0], "pipeline")
    return MovedVerbError(f"`{verb}` is a {kind} verb: `{dvc_prog} {spelling}`")


def execute(argv: Sequence[str], prog: str = "jupyter exp", from_kernel: bool = False, space: str = "exp") -> object:
    """Parse ``argv`` with the parser of namespace ``space`` and run the verb; return what it produced.

    The CLI prints the result; the ``%exp`` and ``%dvc`` magics return it for Jupyter to
    display (and say ``from_kernel``: background work then runs in threads, not processes).
    """
    at, verb = _verb_of(argv, space)
    if space == "dvc" and verb == "exp":
        return execute([*argv[:at], *argv[at + 1 :]], f"{prog} exp", from_kernel, space="exp")
    if space == "exp" and verb is None and at < len(argv) and argv[at] in verbs_of("dvc") | {"data"}:
        raise _moved(argv, at, prog)
    parser = build_parser(prog, only=verb, space=space)
    try:
        args = parser.parse_args(list(argv))
    except HelpShown:
        return None
    args.from_kernel = from_kernel
    handler: Callable[[argparse.Namespace], object] = args.func
    try:
        if getattr(args, "dvc_quiet", False):  # DVC's -q: nothing printed but errors
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                handler(args)
            return None
        return handler(args)
    except JupyterExpError as exc:
        # The engine names options by the api's keywords: here they are this verb's flags.
        exc.spell = FlagWords(
            _verb_parser(parser, args.verb), args.verb, lambda verb: _verb_parser(build_parser(prog, verb, space), verb)
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


def dvc_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jupyter-dvc`` (and so of ``jupyter dvc``)."""
    return main(argv, space="dvc")


def main(argv: Sequence[str] | None = None, space: str = "exp") -> int:
    """Entry point of ``jupyter-exp`` (and so of ``jupyter exp``)."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        text = _terminal_text(execute(sys.argv[1:] if argv is None else argv, PROGS[space], space=space))
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
        if str(exc):  # `status -q` says "changed" by its exit status alone
            print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0
