"""``jupyter exp note``: show or change the note and tags on an experiment."""

from __future__ import annotations

import argparse

from ..api import notes as api
from .parser import Text


def _cmd_note(args: argparse.Namespace):
    found = api.note(args.experiment, args.text, tags=args.tag, untag=args.untag, clear=args.clear)
    return Text(found.describe())


def add_verbs(verbs) -> None:
    """``note``."""
    n = verbs.add_parser(
        "note",
        help="show or change an experiment's note and tags (kept in git, pushed and pulled with it)",
    )
    n.add_argument("experiment", help="an experiment name (or any revision)")
    n.add_argument("text", nargs="?", help='the note\'s new text ("" removes it)')
    n.add_argument("--tag", action="append", default=[], metavar="TAG", help="add a tag (repeatable)")
    n.add_argument("--untag", action="append", default=[], metavar="TAG", help="remove a tag (repeatable)")
    n.add_argument("--clear", action="store_true", help="remove the note and its tags first")
    n.set_defaults(func=_cmd_note)
