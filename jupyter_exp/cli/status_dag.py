"""``jupyter dvc status`` and ``jupyter dvc dag``, with DVC's flags and output."""

from __future__ import annotations

import argparse
import sys

from ..errors import JupyterExpError
from .parser import Text


class MermaidText(Text):
    """``dag``'s text for a terminal; in a notebook, Mermaid in Markdown (JupyterLab draws it)."""

    mermaid: str = ""

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.mermaid}\n```"


def _cmd_dag(args: argparse.Namespace):
    from ..api import project_at
    from ..pipeline import dag as engine

    graph = engine.collect_dag(project_at(None), outs=args.outs)
    if args.target:
        graph = graph.upstream_of(graph.targets(args.target), full=args.full)
    if args.dot:
        return Text(engine.dot(graph) + "\n\n")
    if args.mermaid or args.markdown:
        return Text(engine.mermaid(graph, markdown=args.markdown) + "\n")
    text = engine.ascii_text(graph) + "\n"
    if args.from_kernel:
        shown = MermaidText(text)
        shown.mermaid = engine.mermaid(graph)
        return shown
    return Text(text)


def _local_status(project, targets: list[str] | None, recursive: bool, with_deps: bool) -> tuple[dict, bool]:
    """The workspace's status: from the stamp when nothing it read moved (the engine is
    then never imported), else computed and stamped. Frozen-stage warnings go to stderr."""
    from ..pipeline import status_stamp

    selected = status_stamp.selection(targets, project.root, recursive=recursive, with_deps=with_deps)
    recalled = status_stamp.recall(project.own_tmp_dir, selected)
    if recalled is not None:
        found, anything, warnings = recalled
        for line in warnings:
            print(line, file=sys.stderr)
        return found, anything
    from ..pipeline import status as engine

    reads = engine.Reads()
    warnings = []

    def warn(line: str) -> None:
        warnings.append(line)
        print(line, file=sys.stderr)

    found, anything = engine.status(
        project, targets, warn=warn, reads=reads, recursive=recursive, with_deps=with_deps, cwd=selected["cwd"]
    )
    status_stamp.record(project.own_tmp_dir, selected, found, anything, warnings, reads.trees, reads.files)
    return found, anything


def _cmd_status(args: argparse.Namespace):
    from ..api import project_at
    from ..pipeline.status_text import ChangedError, status_text

    project = project_at(None)
    remote = None
    anything = True
    found: dict
    if args.cloud or args.remote:
        from ..pipeline import status as engine

        found, remote = engine.cloud_status(
            project,
            args.targets or None,
            remote=args.remote,
            jobs=args.jobs,
            recursive=args.recursive,
            with_deps=args.with_deps,
            all_branches=args.all_branches,
            all_tags=args.all_tags,
            all_commits=args.all_commits,
        )
    else:
        flags = ("--all-branches", "--all-tags", "--all-commits", "--jobs")
        given = (args.all_branches, args.all_tags, args.all_commits, args.jobs is not None)
        meaningless = [flag for flag, on in zip(flags, given) if on]
        if meaningless:  # (DVC's words)
            listed = ", ".join(meaningless)
            raise JupyterExpError(
                f"The following options are meaningless for local status: {listed}; add -c or drop them."
            )
        found, anything = _local_status(project, args.targets or None, args.recursive, args.with_deps)
    if args.json:
        import json

        return Text(json.dumps(found) + "\n")
    if args.quiet:
        if found:
            raise ChangedError("")  # exit status 1, nothing printed (as DVC)
        return None
    cloud = bool(args.cloud or args.remote)
    empty = not found and not cloud and not anything
    # (DVC indents a remote's changes only under -c: `-r NAME` alone prints them flush left)
    indented = cloud if not found else bool(args.cloud)
    return Text(status_text(found, cloud=indented, empty=empty, remote=remote))


def add_verbs(verbs) -> None:
    """``status`` and ``dag``."""
    p = verbs.add_parser("status", help="what changed in the pipelines and tracked data (dvc status)")
    p.add_argument("targets", nargs="*", help="stages, dvc.yaml or .dvc files, outputs; with -R directories")
    p.add_argument("-c", "--cloud", action="store_true", help="compare the cache with a remote")
    p.add_argument("-r", "--remote", metavar="NAME", help="the remote to compare with (implies -c)")
    p.add_argument("-j", "--jobs", type=int, metavar="NUMBER", help="with -c: transfers at once")
    p.add_argument("-a", "--all-branches", action="store_true", help="with -c: what every branch needs")
    p.add_argument("-T", "--all-tags", action="store_true", help="with -c: what every tag needs")
    p.add_argument("-A", "--all-commits", action="store_true", help="with -c: what every commit needs")
    p.add_argument("-d", "--with-deps", action="store_true", help="the targets and every stage upstream of them")
    p.add_argument("-R", "--recursive", action="store_true", help="every stage and .dvc file in target directories")
    p.add_argument(
        "--no-updates", dest="check_updates", action="store_false", help="accepted for DVC's sake (imports are frozen)"
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; exit 1 when something changed")
    p.set_defaults(func=_cmd_status)

    p = verbs.add_parser("dag", help="draw the pipelines' graph (dvc dag)")
    p.add_argument("target", nargs="?", help="a stage or output: only what it depends on")
    p.add_argument("--dot", action="store_true", help="in Graphviz's dot format")
    p.add_argument("--mermaid", action="store_true", help="as a Mermaid flowchart")
    p.add_argument("--md", dest="markdown", action="store_true", help="as Mermaid in a Markdown code block")
    p.add_argument("--full", action="store_true", help="the target's whole pipeline")
    p.add_argument("-o", "--outs", action="store_true", help="outputs instead of stages")
    p.set_defaults(func=_cmd_dag)
