"""Which stages and ``.dvc`` files a ``status`` with targets reports, as DVC collects them.

A target is, in DVC's order of precedence: a ``.dvc`` file or a ``dvc.yaml`` (all its
stages; ``path/dvc.yaml:name`` one of them); with ``-R``, a directory (every stage and
``.dvc`` file defined inside it); a stage name (or a ``foreach`` group's) of the
``dvc.yaml`` in the current directory; an output's path (its stage, reporting that
output only). ``-d`` adds everything upstream of a stage, dependencies first. Paths
are read from the current directory, as DVC reads them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UnknownStageError
from ..project import Project
from .dag import Dag

PIPELINE_FILE = "dvc.yaml"


@dataclass(frozen=True)
class Pick:
    """A node to report; ``only``: the output path its outputs are narrowed to (None: all)."""

    node: str
    only: str | None = None


def select(
    project: Project,
    dag: Dag,
    files: dict[str, str],
    outs: Callable[[str], list[str]],
    targets: list[str],
    *,
    cwd: str = "",
    recursive: bool = False,
    with_deps: bool = False,
) -> list[Pick]:
    """The nodes ``targets`` name, as DVC's ``(stage, filter_info)`` pairs in its order: a
    node named twice comes twice (DVC computes each pair and keeps the last non-empty
    answer in the first one's place; its frozen-stage warning comes once a pair).

    ``files``: each node's defining file (a stage's ``dvc.yaml``, a ``.dvc`` file itself);
    ``outs(node)``: its outputs' project-relative paths; ``cwd``: the current directory,
    project-relative ('' at the root).

    Raises:
        UnknownStageError: a target that names nothing.
        PathError: a target path outside the project.
    """
    cwd = "" if cwd in ("", ".") else cwd
    upstream = _edges(dag)
    picks: list[Pick] = []
    for target in targets:
        found = _one(project, dag, upstream, files, outs, target, cwd, recursive)
        if with_deps and not (recursive and _is_dir(project, target, cwd)):
            # (an output's path selects that output alone, with -d too: DVC's collect_granular)
            found = [
                w for p in found for w in ([Pick(n) for n in _postorder([p.node], upstream)] if p.only is None else [p])
            ]
        picks += found
    return picks


def _one(
    project: Project,
    dag: Dag,
    upstream: dict[str, list[str]],
    files: dict[str, str],
    outs: Callable[[str], list[str]],
    target: str,
    cwd: str,
    recursive: bool,
) -> list[Pick]:
    file, name = _parse(target)
    if file is not None:
        rel = _rel(project, file, cwd)
        if name is None:  # a .dvc file or a dvc.yaml
            if rel.endswith(".dvc") and posixpath.basename(rel) != ".dvc" and rel in dag.nodes:
                return [Pick(rel)]
            stages = [n for n in dag.nodes if files.get(n) == rel and n != rel]
            if posixpath.basename(rel) == PIPELINE_FILE and stages:
                return [Pick(n) for n in stages]
            raise _unknown(target)
        if posixpath.basename(rel) == PIPELINE_FILE:
            stages = [n for n in dag.nodes if files.get(n) == rel and n != rel and _named(n, rel, name)]
            if stages:
                return [Pick(n) for n in stages]
            raise _unknown(target)
        # (``path:name`` with no dvc.yaml as its path names no stage: only an output of that
        # very name, as in DVC)
    rel = _rel(project, target, cwd)
    if recursive and (project.root / rel).is_dir():
        inside = [n for n in _postorder(list(dag.nodes), upstream) if _under(files.get(n, n), rel)]
        return [Pick(n) for n in inside]
    here = posixpath.join(cwd, PIPELINE_FILE)
    if file is None:
        named = [n for n in dag.nodes if files.get(n) == here and n != here and _named(n, here, target)]
        if named:
            return [Pick(n) for n in named]
    owners = [n for n in dag.nodes if any(rel == o or rel.startswith(o + "/") for o in outs(n))]
    if owners:
        return [Pick(n, rel) for n in owners]
    raise _unknown(target)


# DVC's split of ``path:name`` (a name has no ``/``, ``\`` or ``:``), applied to what comes
# before the first ``@`` (a foreach key after it may hold anything)
_TARGET = re.compile(r"(?P<path>.*?)(:(?P<name>[^\\/:]*))??$")


def _parse(target: str) -> tuple[str | None, str | None]:
    """``(file, stage name)`` of ``path:name`` (``path/dvc.yaml:name``), ``(file, None)`` of
    ``x.dvc`` or ``path/dvc.yaml``; else ``(None, None)``: a stage name or a path."""
    group, at, key = target.partition("@")
    match = _TARGET.match(group)
    path, name = (match.group("path"), match.group("name")) if match else (None, None)
    if path and name:
        return path, name + at + key
    if target.endswith(".dvc") or posixpath.basename(target) == PIPELINE_FILE:
        return target, None
    return None, None


def _named(node: str, dvcfile: str, name: str) -> bool:
    """Whether stage ``node`` of ``dvcfile`` is stage ``name``, or one a ``foreach`` group ``name`` made."""
    own = node[len(dvcfile) + 1 :] if dvcfile != PIPELINE_FILE else node
    return own == name or own.startswith(name + "@")


def _rel(project: Project, path: str, cwd: str) -> str:
    return project.resolve_relpath(path, cwd or ".", where="status", follow_links=False)


def _is_dir(project: Project, target: str, cwd: str) -> bool:
    return _parse(target)[0] is None and (project.root / _rel(project, target, cwd)).is_dir()


def _under(path: str, folder: str) -> bool:
    return folder == "." or path == folder or path.startswith(folder + "/")


def _edges(dag: Dag) -> dict[str, list[str]]:
    return {node: [b for a, b in dag.edges if a == node] for node in dag.nodes}


def _postorder(starts: list[str], upstream: dict[str, list[str]]) -> list[str]:
    """Depth first from each of ``starts``: a node after everything it depends on."""
    seen: set[str] = set()
    order: list[str] = []
    for start in starts:
        stack = [(start, iter(upstream.get(start, [])))]
        if start in seen:
            continue
        seen.add(start)
        while stack:
            node, children = stack[-1]
            child = next((c for c in children if c not in seen), None)
            if child is None:
                stack.pop()
                order.append(node)
            else:
                seen.add(child)
                stack.append((child, iter(upstream.get(child, []))))
    return order


def _unknown(target: str) -> UnknownStageError:
    return UnknownStageError(
        f"'{target}' is not a stage, a dvc.yaml or .dvc file, or an output; see `jupyter dvc dag`."
    )


def address_in(node: str, cwd: str, files: dict[str, str]) -> str:
    """Node ``node``'s address as DVC prints it in the current directory ``cwd``
    (``../dvc.yaml:prep``, ``../data.csv.dvc``; a stage of ``cwd``'s own ``dvc.yaml`` by
    name). ``files``: each node's defining file (a stage's ``dvc.yaml``, a ``.dvc`` file itself)."""
    cwd = "" if cwd in ("", ".") else cwd
    file = files.get(node, node)
    if file == node:
        return posixpath.relpath(file, cwd) if cwd else file  # a .dvc file
    name = node if file == PIPELINE_FILE else node[len(file) + 1 :]
    own = posixpath.relpath(file, cwd) if cwd else file
    return name if own == PIPELINE_FILE else f"{own}:{name}"


def from_cwd(found: dict[str, Any], cwd: str, files: dict[str, str]) -> dict[str, Any]:
    """A status answer (``{node: [changes]}``, paths from the project's root) as DVC
    gives it in the current directory ``cwd``: every file and stage address relative to it
    (see :func:`address_in`)."""
    cwd = "" if cwd in ("", ".") else cwd
    if not cwd:
        return found

    def changes(change: Any) -> Any:
        if not isinstance(change, dict):
            return change  # "always changed", "changed command"
        return {
            kind: {posixpath.relpath(path, cwd): state for path, state in paths.items()}
            for kind, paths in change.items()
        }

    return {address_in(node, cwd, files): [changes(c) for c in listed] for node, listed in found.items()}
