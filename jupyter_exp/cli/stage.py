"""``jupyter dvc stage add``: ``dvc stage add`` from the shell (``%%stage`` makes a cell one)."""

from __future__ import annotations

import argparse
import shlex

from .parser import Parser


def _cmd_stage_add(args: argparse.Namespace) -> None:
    from ..api import project_at
    from ..pipeline.stage_add import StageSpec
    from ..pipeline.stage_cmd import add_command_stage

    project = project_at(None)
    spec = StageSpec(
        name=args.name,
        deps=tuple(args.deps),
        params=tuple(args.params),
        outs=tuple(args.outs),
        outs_no_cache=tuple(args.outs_no_cache),
        metrics=tuple(args.metrics),
        metrics_no_cache=tuple(args.metrics_no_cache),
        plots=tuple(args.plots),
        plots_no_cache=tuple(args.plots_no_cache),
        wdir=args.wdir,
        always_changed=args.always_changed,
        desc=args.desc,
    )
    cmd = args.command[0] if len(args.command) == 1 else shlex.join(args.command)
    touched = add_command_stage(project, spec, cmd, force=args.force)
    files = " ".join(sorted(str(p.relative_to(project.root)) for p in touched))  # DVC's order varies (a set)
    print(f"Added stage '{args.name}' in 'dvc.yaml'")
    print(f"\nTo track the changes with git, run:\n\n\tgit add {files}")
    print("\nTo enable auto staging, run:\n\n\tdvc config core.autostage true")


def add_verbs(verbs) -> None:
    """``stage add``."""
    stage = verbs.add_parser("stage", help="add pipeline stages to dvc.yaml (dvc stage add)")
    sub = stage.add_subparsers(dest="stage_verb", metavar="VERB", parser_class=Parser)
    sub.required = True
    p = sub.add_parser("add", help="add a stage that runs a command")
    p.add_argument("-n", "--name", required=True, help="stage name")
    p.add_argument("-d", "--deps", action="append", default=[], metavar="PATH")
    p.add_argument("-p", "--params", action="append", default=[], metavar="[FILE:]KEY[,KEY]")
    p.add_argument("-o", "--outs", action="append", default=[], metavar="PATH")
    p.add_argument("-O", "--outs-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="PATH")
    p.add_argument("-M", "--metrics-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("--plots", action="append", default=[], metavar="PATH")
    p.add_argument("--plots-no-cache", action="append", default=[], metavar="PATH")
    p.add_argument("-w", "--wdir", help="directory the command runs in")
    p.add_argument("-f", "--force", action="store_true", help="overwrite a stage of that name")
    p.add_argument("--always-changed", action="store_true", help="always consider the stage changed")
    p.add_argument("--desc", help="a description of the stage")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command the stage runs")
    p.set_defaults(func=_cmd_stage_add)
