"""The pipeline verbs of ``jupyter exp``: ``init``, ``add``, ``checkout``, ``repro``; the
reproduction flags ``exp run`` shares; and the ``%%stage`` line's parser."""

from __future__ import annotations

import argparse

from ..api import pipeline as api
from ..api import silent
from ..options import ReproOptions
from .parser import Parser

REPRO_FLAGS = ReproOptions._fields


def add_repro_flags(parser: argparse.ArgumentParser, exp: bool = False) -> None:
    """``targets`` and ``dvc repro``'s flags (``exp``: their wording for ``exp run``)."""
    parser.add_argument("targets", nargs="*", help="stages or dvc.yaml files (default: all)")
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="reproduce even if nothing changed" + ("; overwrite an experiment of the same name" if exp else ""),
    )
    parser.add_argument("-s", "--single-item", action="store_true", help="only the targets, not their upstream")
    parser.add_argument("-p", "--pipeline", action="store_true", help="whole pipelines the targets belong to")
    parser.add_argument("-P", "--all-pipelines", action="store_true", help="every stage of the project")
    parser.add_argument("--downstream", action="store_true", help="the targets and what depends on them")
    parser.add_argument("--force-downstream", action="store_true", help="rerun everything after a changed stage")
    parser.add_argument(
        "--dry",
        action="store_true",
        help="print the commands without running them" + ("; record nothing" if exp else ""),
    )
    parser.add_argument("-k", "--keep-going", action="store_true", help="continue past failures, skip their dependents")
    parser.add_argument("--ignore-errors", action="store_true", help="continue past failures")
    parser.add_argument("-R", "--recursive", action="store_true", help="a directory target means every stage inside it")
    parser.add_argument("-i", "--interactive", action="store_true", help="ask before each stage runs")
    parser.add_argument("--pull", action="store_true", help="take missing outputs from the DVC remote")
    parser.add_argument("--allow-missing", action="store_true", help="skip stages whose only change is missing data")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="accepted for DVC's sake")


def repro_options(args: argparse.Namespace) -> ReproOptions:
    """The reproduction flags parsed by :func:`add_repro_flags`, as one value."""
    return ReproOptions(**{name: getattr(args, name) for name in REPRO_FLAGS})


def _cmd_init(args: argparse.Namespace) -> None:
    project = api.init()
    print(f"Initialized jupyter_exp (DVC 3 compatible) project in {project.root}")


def _cmd_add(args: argparse.Namespace) -> None:
    api.add(args.paths)


def _cmd_checkout(args: argparse.Namespace) -> None:
    from ..api import project_at
    from ..pipeline.tracked import checkout_report
    from .data import print_changes, summary

    done = checkout_report(project_at(None), args.targets or None, force=args.force)
    if args.summary:
        print(summary([(n, kind) for kind, n in done.counts], "No changes."))
    else:
        print_changes(done.outputs)


def _cmd_repro(args: argparse.Namespace) -> None:
    api.reproduce(args.targets or None, repro_options(args), dry=args.dry, echo=silent if args.quiet else None)


def add_verbs(verbs) -> None:
    """``init``, ``add``, ``checkout`` and ``repro``."""
    p = verbs.add_parser("init", help="make this git repository a DVC 3 compatible project")
    p.set_defaults(func=_cmd_init)

    p = verbs.add_parser("add", help="track data files or directories in the cache")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=_cmd_add)

    p = verbs.add_parser("checkout", help="restore tracked data and stage outputs from the cache")
    p.add_argument("targets", nargs="*")
    p.add_argument(
        "-f", "--force", action="store_true", help="replace workspace files that no cache object holds (edits are lost)"
    )
    p.add_argument("--summary", action="store_true", help="only how many files were added, modified and deleted")
    p.set_defaults(func=_cmd_checkout)

    p = verbs.add_parser("repro", help="reproduce the pipeline")
    add_repro_flags(p)
    p.set_defaults(func=_cmd_repro)


def build_stage_parser() -> argparse.ArgumentParser:
    """The ``%%stage`` line: the flags of ``dvc stage add``, plus --no-run and --script."""
    p = Parser(prog="%%stage", description="Make this cell a pipeline stage (a script and its dvc.yaml entry).")
    p.add_argument("name", help="stage name")
    p.add_argument("-d", "--deps", action="append", default=[], metavar="PATH")
    p.add_argument("-p", "--params", action="append", default=[], metavar="[FILE:]KEY[,KEY]")
    p.add_argument("-o", "--outs", action="append", default=[], metavar="PATH")
    p.add_argument("-O", "--outs-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="PATH")
    p.add_argument("-M", "--metrics-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("--plots", action="append", default=[], metavar="PATH")
    p.add_argument("--plots-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument(
        "-c",
        "--checkpoints",
        action="append",
        default=[],
        metavar="PATH",
        help="checkpoint outputs (kept between runs)",
    )
    p.add_argument("-w", "--wdir", help="directory the command runs in")
    p.add_argument("-f", "--force", action="store_true", help="replace a different stage of that name")
    p.add_argument("--always-changed", action="store_true")
    p.add_argument("--desc")
    p.add_argument("--script", help="where the cell is written (default stages/NAME.py)")
    p.add_argument("--no-run", action="store_true", help="write the stage without reproducing it")
    return p
