"""Numeric arguments checked in one place, for the command line and the api alike.

The argparse ``type=`` converters below turn a bad value into the parser's one-line
usage error (argparse names the flag); the api functions call the same checks, which
name the keyword: ``jupyter_exp.run_all(jobs=0)`` and ``exp run --run-all -j 0`` say
the same, each in its own words.
"""

from __future__ import annotations

import argparse

from .errors import JupyterExpError


class InvalidArgumentError(JupyterExpError):
    """A numeric flag or keyword out of its range."""


def check_jobs(jobs: int) -> int:
    """``jobs`` if it is a whole number of 1 or more; raise InvalidArgumentError."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgumentError(f"jobs must be a whole number of 1 or more, got {jobs!r}; pass 1 or more.")
    return jobs


def check_precision(precision: int | None) -> int | None:
    """``precision`` (digits shown) if None or 0 or more; raise InvalidArgumentError."""
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int) or precision < 0):
        raise InvalidArgumentError(f"precision must be a whole number of 0 or more, got {precision!r}; pass 0 or more.")
    return precision


def check_num(num: int) -> int:
    """``num`` (commits shown from each baseline rev; 0 shows the workspace only, as in DVC)
    if it is 0 or more; raise InvalidArgumentError."""
    if isinstance(num, bool) or not isinstance(num, int) or num < 0:
        raise InvalidArgumentError(f"num must be a whole number of 0 or more, got {num!r}; pass 0 or more.")
    return num


def _converter(check, what: str):
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        try:
            return check(value)
        except InvalidArgumentError as exc:
            # argparse names the flag itself: "argument -j/--jobs: must be ..."
            raise argparse.ArgumentTypeError(str(exc).split(";")[0].split(" ", 1)[1]) from None

    convert.__name__ = what  # argparse names the converter in some messages
    return convert


jobs_arg = _converter(check_jobs, "jobs")
precision_arg = _converter(check_precision, "precision")
num_arg = _converter(check_num, "num")
