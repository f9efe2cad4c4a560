"""The stage graph and the plan of what to reproduce, as pure functions of data.

An edge A -> B means B depends on something A outputs: the same path, a file
inside an output directory, or an output inside a dependency directory.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from ..errors import CyclicGraphError, OutputDuplicatedError, UnknownStageError
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

    def producer_of(self, path: str) -> Stage | None:
        for stage in self.stages.values():
            if any(_overlaps(out.path, path) for out in stage.outs):
                return stage
        return None


def build_graph(
    stages: list[Stage],
    groups: dict[str, tuple[str, ...]] | None = None,
    sources: tuple[str, ...] = (),
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
                cycle = path[path.index(child):] + [child]
                raise CyclicGraphError(
                    f"Pipeline has a cycle: {' -> '.join(reversed(cycle))}; "
                    "remove one of these dependencies."
                )
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.upstream[child]))))


def resolve_targets(graph: Graph, targets: list[str]) -> list[str]:
    """Stage addresses named by ``targets`` (names, ``file:name``, foreach groups, files)."""
    found: list[str] = []
    for target in targets:
        name = target
        if target.endswith("dvc.yaml"):
            matches = [a for a, s in graph.stages.items() if s.dvcfile == target]
        else:
            if target.startswith("dvc.yaml:"):
                name = target.split(":", 1)[1]
            matches = [name] if name in graph.stages else list(graph.groups.get(name, ()))
        if not matches and not target.endswith("dvc.yaml"):
            from difflib import get_close_matches

            close = get_close_matches(name, list(graph.stages) + list(graph.groups), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "; list stages in dvc.yaml."
            raise UnknownStageError(f"Unknown stage '{target}'{hint}")
        found.extend(m for m in matches if m not in found)
    return found


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
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
) -> list[str]:
    """Addresses of the stages to consider, upstream first, in definition order otherwise."""
    if all_pipelines or not targets:
        selected = set(graph.stages)
    else:
        named = resolve_targets(graph, targets)
        if single_item:
            selected = set(named)
        elif downstream:
            selected = _closure(named, graph.downstream)
        elif pipeline:
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
