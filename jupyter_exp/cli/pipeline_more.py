"""More pipeline verbs of the command line: ``commit``, ``freeze``, ``unfreeze``, the
removal of stages / ``.dvc`` files and the data ``diff``, as ``dvc`` spells their flags.

They are ``jupyter dvc`` verbs (``remove`` and ``diff`` under ``jupyter exp`` are the
experiment verbs, as in DVC).
"""

from __future__ import annotations

import argparse

from ..api import pipeline_more as api
from .parser import Text

VERB_NAMES = {verb: verb for verb in ("commit", "freeze", "unfreeze", "remove", "diff")}


def _cmd_commit(args: argparse.Namespace) -> None:
    api.commit(args.targets or None, force=args.force, with_deps=args.with_deps, recursive=args.recursive)


def _cmd_freeze(args: argparse.Namespace) -> None:
    api.freeze(args.targets)


def _cmd_unfreeze(args: argparse.Namespace) -> None:
    api.unfreeze(args.targets)


def _cmd_remove(args: argparse.Namespace) -> None:
    api.remove_stages(args.targets, outs=args.outs)


def _cmd_diff(args: argparse.Namespace) -> Text:
    from ..pipeline.datadiff import render_json, render_markdown, render_text

    hide_missing = bool(args.b_rev) or args.hide_missing
    result = api.data_diff(
        args.a_rev, args.b_rev, targets=args.targets, show_hash=args.show_hash, hide_missing=args.hide_missing
    )
    if args.json:
        return Text(render_json(result) + "\n")
    if args.md:
        return Text(render_markdown(result, args.show_hash, hide_missing))
    return Text(render_text(result, hide_missing))


def add_verbs(verbs, names: dict[str, str] | None = None) -> None:
    """``commit``, ``freeze``, ``unfreeze``, ``remove`` and ``diff`` under ``names``."""
    names = names or VERB_NAMES
    p = verbs.add_parser(names["commit"], help="record outputs and tracked data as they are, without running")
    p.add_argument("targets", nargs="*", help="stages, .dvc files or tracked paths (default: all)")
    p.add_argument("-f", "--force", action="store_true", help="commit stages that changed without asking")
    p.add_argument("-d", "--with-deps", action="store_true", help="also the stages the targets depend on")
    p.add_argument("-R", "--recursive", action="store_true", help="a directory target means every stage inside it")
    p.set_defaults(func=_cmd_commit)

    for verb, func, text in (
        ("freeze", _cmd_freeze, "mark stages frozen: repro skips them"),
        ("unfreeze", _cmd_unfreeze, "let repro run frozen stages again"),
    ):
        p = verbs.add_parser(names[verb], help=text)
        p.add_argument("targets", nargs="+", metavar="STAGE", help="stages or .dvc files")
        p.set_defaults(func=func)

    p = verbs.add_parser(names["remove"], help="remove stages from dvc.yaml/dvc.lock or delete .dvc files")
    p.add_argument("targets", nargs="+", metavar="TARGET", help="stages or .dvc files")
    p.add_argument("--outs", action="store_true", help="delete the outputs from the workspace too")
    p.set_defaults(func=_cmd_remove)

    p = verbs.add_parser(names["diff"], help="DVC-tracked data changed between revisions (or the workspace)")
    p.add_argument("a_rev", nargs="?", default="HEAD", help="old commit (default HEAD)")
    p.add_argument("b_rev", nargs="?", help="new commit (default: the workspace)")
    p.add_argument("--targets", nargs="*", metavar="PATH", help="only these tracked paths")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--md", action="store_true", help="print a Markdown table")
    p.add_argument("--show-hash", action="store_true", help="print each entry's hash")
    p.add_argument("--hide-missing", action="store_true", help="leave out entries missing from the cache")
    p.set_defaults(func=_cmd_diff)
