"""Targets of data ``push``/``pull``/``fetch`` as DVC widens them: ``--glob`` expands
shell wildcards against the work tree, ``-d/--with-deps`` adds every stage a target
stage depends on, up the pipeline (``-R`` is applied when targets are matched, see
:func:`.used.select_targets`).

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


def with_deps(project: Project, targets: list[str]) -> list[str]:
    """``targets`` and every stage or ``.dvc`` file upstream of the stages and ``.dvc``
    files among them, in the workspace's pipelines.

    Raises:
        YAMLFileError, PipelineError, PathError: a dvc.yaml or .dvc file that does not load.
    """
    from ..pipeline.dag import collect_dag

    dag = collect_dag(project)
    start = []
    for target in targets:
        rel = target if ":" in target else project.relpath(os.path.abspath(target))
        # An output's path selects that output alone, with or without -d (as DVC's).
        start += [n for n in dict.fromkeys((target, rel)) if n in dag.nodes]
    seen, todo = set(start), list(start)
    while todo:
        node = todo.pop()
        for a, b in dag.edges:
            if a == node and b not in seen:
                seen.add(b)
                todo.append(b)
    return list(dict.fromkeys([*targets, *(n for n in dag.nodes if n in seen)]))
