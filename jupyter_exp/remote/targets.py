"""Targets of data ``push``/``pull``/``fetch`` as DVC widens them: ``--glob`` expands
shell wildcards against the work tree, ``-d/--with-deps`` adds every stage a target
stage depends on, up the pipeline of each revision collected (``-R`` is applied when
targets are matched, see :func:`.used.select_targets`).

Every path a pattern expands to goes through the project's boundary: a match outside
the project or in its machinery is refused in one line.
"""

from __future__ import annotations

import glob as globbing
import os

from ..errors import JupyterExpError
from ..project import Project


def expand_glob(project: Project, targets: list[str]) -> list[str]:
    """Each target with its wildcards expanded (``**`` spans directories), as DVC's
    ``--glob``; every match confined to the project.

    Raises:
        JupyterExpError: no target matches anything (DVC's error).
        PathError: a match leaves the project or names its machinery.
    """
    found: list[str] = []
    for target in targets:
        for match in sorted(globbing.glob(target, recursive=True)):
            project.resolve_relpath(os.path.abspath(match), where="--glob")
            found.append(match)
    if not found:
        raise JupyterExpError(f"Glob {targets} has no matches; check the pattern (quote it so the shell keeps it).")
    return found


def with_deps_at(project: Project, rev: str | None, targets: list[str], memo: dict) -> list[str]:
    """The stages and ``.dvc`` files upstream of the stages and ``.dvc`` files among
    ``targets`` (project-relative paths or stage addresses) in revision ``rev``'s own
    pipelines (None: the workspace's), as DVC's ``-d`` widens them at each revision it
    collects. An output's path selects that output alone, with or without ``-d``.

    Raises:
        YAMLFileError, PipelineError, PathError: a dvc.yaml or .dvc file that does not load.
    """
    if rev is None:
        from ..pipeline.dag import collect_dag

        dag = collect_dag(project)
        nodes, edges = list(dag.nodes), list(dag.edges)
    else:
        nodes, edges = _dag_at(project, rev, memo)
    seen = {t for t in targets if t in nodes}
    todo = list(seen)
    while todo:
        node = todo.pop()
        for a, b in edges:
            if a == node and b not in seen:
                seen.add(b)
                todo.append(b)
    return [n for n in nodes if n in seen and n not in targets]


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _dag_at(project: Project, rev: str, memo: dict) -> tuple[list[str], list[tuple[str, str]]]:
    """Commit ``rev``'s stages and ``.dvc`` files (nodes) and what each depends on
    (edges: node -> the node producing an output its dependency overlaps), read from
    its tree."""
    import posixpath

    from ..pipeline.dvcfile import load_pipeline
    from ..pipeline.tracked import read_dvc_file
    from ..serialize import decode_text
    from ..tree import GitTree

    tree = GitTree(project.git, rev, memo=memo)
    entries: list[tuple[str, list[str], list[str]]] = []  # (node, outs, deps)
    for _mode, kind, _oid, name in project.git.tree_entries(rev):
        if kind != "blob" or name.split("/", 1)[0] in (".dvc", ".git"):
            continue
        base = posixpath.basename(name)
        if base == "dvc.yaml":
            for stage in load_pipeline(project.root, name, tree=tree).stages:
                entries.append((stage.address, [o.path for o in stage.outs], [d.path for d in stage.deps]))
        elif name.endswith(".dvc") and base != ".dvc":
            outs = [t.path for t in read_dvc_file(project, name, decode_text(tree.read(name) or b"", name))]
            entries.append((name, outs, []))
    producers = [(out, node) for node, outs, _ in entries for out in outs]
    edges = []
    for node, _, deps in entries:
        for dep in deps:
            for out, producer in producers:
                if _overlaps(dep, out) and (node, producer) not in edges:
                    edges.append((node, producer))
    return [node for node, _, _ in entries], edges
