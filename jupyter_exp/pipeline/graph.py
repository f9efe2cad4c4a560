"""The stage graph and the plan of what to reproduce, as pure functions of data.

An edge A -> B means B depends on something A outputs: the same path, a file
inside an output directory, or an output inside a dependency directory.
"""

from __future__ import annotations

import heapq
import posixpath
import re
from dataclasses import dataclass

from ..errors import CyclicGraphError, OutputDuplicatedError, UnknownStageError
from ..options import ReproOptions
from .stage import Stage


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


@dataclass(frozen=True)
class Graph:
    stages: dict[str, Stage]  # address -> stage, in definition order
    upstream: dict[str, frozenset[str]]  # address -> addresses it depends on
    downstream: dict[str, frozenset[str]]
    groups: dict[str, tuple[str, ...]]
    sources: tuple[str, ...] = ()  # the files the graph was loaded from
    dvcfiles: tuple[str, ...] = ("dvc.yaml",)  # every dvc.yaml (and .dvc file) collected
    walked: tuple[str, ...] = ()  # directories searched for them

    def producer_of(self, path: str) -> Stage | None:
        for stage in self.stages.values():
            if any(_overlaps(out.path, path) for out in stage.outs):
                return stage
        return None


def build_graph(
    stages: list[Stage],
    groups: dict[str, tuple[str, ...]] | None = None,
    sources: tuple[str, ...] = (),
    dvcfiles: tuple[str, ...] = ("dvc.yaml",),
    walked: tuple[str, ...] = (),
) -> Graph:
    """Connect stages by their outputs and dependencies.

    Raises:
        OutputDuplicatedError: two stages output the same (or overlapping) path.
        CyclicGraphError: the dependencies form a cycle.
    """
    by_address = {s.address: s for s in stages}
    outputs: list[tuple[str, str]] = []  # (path, address)
    for stage in stages:
        for out in stage.outs:
            for other_path, other in outputs:
                if other != stage.address and _overlaps(out.path, other_path):
                    raise OutputDuplicatedError(
                        f"Output '{out.path}' of stage '{stage.address}' overlaps output "
                        f"'{other_path}' of stage '{other}'; give each stage its own outputs."
                    )
            outputs.append((out.path, stage.address))
    upstream: dict[str, set[str]] = {s.address: set() for s in stages}
    downstream: dict[str, set[str]] = {s.address: set() for s in stages}
    for stage in stages:
        for dep in stage.deps:
            for out_path, producer in outputs:
                if _overlaps(dep.path, out_path):
                    upstream[stage.address].add(producer)
                    downstream[producer].add(stage.address)
    graph = Graph(
        stages=by_address,
        upstream={k: frozenset(v) for k, v in upstream.items()},
        downstream={k: frozenset(v) for k, v in downstream.items()},
        groups=dict(groups or {}),
        sources=sources,
        dvcfiles=dvcfiles,
        walked=walked,
    )
    _check_acyclic(graph)
    return graph


def _check_acyclic(graph: Graph) -> None:
    state: dict[str, int] = {}
    for start in graph.stages:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph.upstream[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                cycle = path[path.index(child) :] + [child]
                raise CyclicGraphError(
                    f"Pipeline has a cycle: {' -> '.join(reversed(cycle))}; remove one of these dependencies."
                )
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.upstream[child]))))


_TARGET = re.compile(r"(?P<path>.*?)(:(?P<name>[^\\/:]*))??$")  # DVC's TARGET_REGEX


def _is_dvcfile(path: str) -> bool:
    return posixpath.basename(path) == "dvc.yaml" or path.endswith(".dvc")


def parse_target(target: str, cwd: str = ".") -> tuple[str, str | None]:
    """``(project-relative file, stage name or None)`` as DVC's ``parse_target``: a path
    ending in ``dvc.yaml`` or ``.dvc`` names a file, ``FILE:NAME`` a stage of a file, any
    other word a stage of ``dvc.yaml`` in ``cwd`` (a project-relative directory).

    Raises:
        UnknownStageError: a ``dvc.lock`` given for its ``dvc.yaml``.
    """
    group, sep, key = target.partition("@")
    match = _TARGET.match(group)
    path, name = (match.group("path"), match.group("name")) if match else (target, None)
    if name and sep:
        name += "@" + key
    elif not name and sep:
        path = target
    if path and posixpath.basename(path) == "dvc.lock":
        raise UnknownStageError(f"Did you mean: `{target.replace('.lock', '.yaml', 1)}`?")
    if path and not name:
        if not _is_dvcfile(target):
            path, name = None, target
        else:
            path = target
    file = posixpath.normpath(posixpath.join(cwd, path or "dvc.yaml"))
    return file, name


def resolve_targets(
    graph: Graph, targets: list[str], cwd: str = ".", recursive_dirs: set[str] | None = None
) -> list[str]:
    """Stage addresses named by ``targets``, as DVC reads them from ``cwd``: stage names of
    ``cwd``'s ``dvc.yaml``, ``FILE:NAME``, foreach groups, ``dvc.yaml`` and ``.dvc`` files;
    with ``recursive_dirs`` (project-relative), a target naming one of those directories
    stands for every stage whose file lies inside it.

    Raises:
        UnknownStageError: a target that names nothing (one line).
    """
    found: list[str] = []
    for target in targets:
        where = posixpath.normpath(posixpath.join(cwd, target))
        if recursive_dirs is not None and where in recursive_dirs:
            prefix = "" if where == "." else where + "/"
            matches = [a for a, s in graph.stages.items() if s.dvcfile.startswith(prefix)]
            if not matches:
                raise UnknownStageError(f"No stages inside '{target}'; name a directory holding a dvc.yaml.")
        else:
            file, name = parse_target(target, cwd)
            matches = _stages_of(graph, target, file, name)
        found.extend(m for m in matches if m not in found)
    return found


def _stages_of(graph: Graph, target: str, file: str, name: str | None) -> list[str]:
    if file not in graph.dvcfiles:
        raise UnknownStageError(f"'{file}' does not exist; name a stage, a dvc.yaml or a .dvc file of the project.")
    in_file = {s.name: a for a, s in graph.stages.items() if s.dvcfile == file}
    if file.endswith(".dvc") or name is None:
        if not in_file:
            raise UnknownStageError(f"'{file}' has no stages; add one or name another target.")
        return list(in_file.values())
    if name in in_file:
        return [in_file[name]]
    group = name if file == "dvc.yaml" else f"{file}:{name}"
    if group in graph.groups:
        return list(graph.groups[group])
    from difflib import get_close_matches

    prefix = "" if file == "dvc.yaml" else f"{file}:"
    groups = [g[len(prefix) :] for g in graph.groups if g.startswith(prefix) and ":" not in g[len(prefix) :]]
    close = get_close_matches(name, list(in_file) + groups, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; list stages in {file}."
    raise UnknownStageError(f"Unknown stage '{target}'{hint}")


def _closure(start: list[str], edges: dict[str, frozenset[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def plan(
    graph: Graph,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    cwd: str = ".",
    recursive_dirs: set[str] | None = None,
) -> list[str]:
    """Addresses of the stages to consider, upstream first, in definition order otherwise.

    No ``targets`` means every stage (callers pass DVC's default, ``dvc.yaml`` of the
    current directory, themselves). Of ``options``, the selection counts: the targets
    alone (``single_item``), with what depends on them (``downstream``), their whole
    pipelines (``pipeline``) or everything (``all_pipelines``); by default the targets
    and what they depend on."""
    if options.all_pipelines or not targets:
        selected = set(graph.stages)
    else:
        named = resolve_targets(graph, targets, cwd, recursive_dirs)
        if options.single_item:
            selected = set(named)
        elif options.downstream:
            selected = _closure(named, graph.downstream)
        elif options.pipeline:
            both = {k: graph.upstream[k] | graph.downstream[k] for k in graph.stages}
            selected = _closure(named, both)
        else:
            selected = _closure(named, graph.upstream)
    return topological_order(graph, selected)


def topological_order(graph: Graph, selected: set[str]) -> list[str]:
    order_index = {a: s.index for a, s in graph.stages.items()}
    waiting = {a: len(graph.upstream[a] & selected) for a in selected}
    ready = [(order_index[a], a) for a, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        _, address = heapq.heappop(ready)
        result.append(address)
        for child in graph.downstream[address]:
            if child in waiting:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, (order_index[child], child))
    return result
