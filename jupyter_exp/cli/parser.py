"""The argument parser every verb of ``jupyter exp`` and ``%exp`` is built with, and
what a verb hands back to be printed.

One line for a usage error (no usage dump) and no ``sys.exit`` (fatal inside a kernel):
``--help`` raises :class:`HelpShown` after printing.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..arguments import num_arg
from ..errors import JupyterExpError


class UsageError(JupyterExpError):
    """Bad flags or arguments on the command line (exit status 2, as argparse's)."""

    exit_code = 2


class HelpShown(Exception):
    """``--help`` or ``--version`` printed what was asked; nothing else to do."""


class Text(str):
    """Output that is already text (JSON, CSV, Markdown): printed as is, shown as is."""

    def __repr__(self) -> str:
        return str(self)


def _terminal_width() -> int:
    """What ``shutil.get_terminal_size()`` gives (``COLUMNS``, else the terminal's, else
    80) without importing shutil: argparse makes a help formatter at every
    ``add_argument``, and shutil's import (bz2, lzma) was a tenth of a stamped ``status``."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _terminal_width() - 2 if width is None else width)


class Parser(argparse.ArgumentParser):
    """argparse, with DVC's global ``-q``/``-v`` on every verb (``dvc push -q``); a verb
    that gives them a meaning of its own (``repro -q``, ``status -q``) replaces them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("conflict_handler", "resolve")
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self.add_argument("-q", "--quiet", dest="dvc_quiet", action="store_true", help="print nothing but errors")
        self.add_argument("-v", "--verbose", dest="dvc_verbose", action="count", default=0, help=argparse.SUPPRESS)

    def error(self, message: str) -> None:  # type: ignore[override]  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        # argparse would end the process: fatal inside a kernel.
        if status:
            raise UsageError((message or "bad arguments").strip())
        if message:
            sys.stdout.write(message)
        raise HelpShown()


def selection_flags(parser: argparse.ArgumentParser) -> None:
    """``-A``, ``--rev`` and ``-n``: which baselines' experiments a verb takes."""
    parser.add_argument("-A", "--all-commits", action="store_true", help="experiments of every commit")
    parser.add_argument("--rev", action="append", default=None, metavar="COMMIT", help="baseline commit(s)")
    parser.add_argument(
        "-n", "--num", type=num_arg, default=1, help="baselines: this many first-parent commits from --rev"
    )
