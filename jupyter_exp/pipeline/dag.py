"""``dvc dag``: the project's graph of stages and ``.dvc`` files, drawn as DVC draws it.

Nodes are stage addresses and ``.dvc`` files, in the order DVC collects them (the
directory walk, each directory's files as the file system lists them, a dvc.yaml's
stages in their order); an edge goes from a stage to what it depends on. Each
weakly connected part is one pipeline. The text drawing is a Sugiyama layout computed
by grandalf (the library DVC uses), boxes and ``*`` lines put on a character canvas.
"""

from __future__ import annotations

import math
import os
import posixpath
from dataclasses import dataclass

from ..errors import UnknownStageError
from ..project import Project


@dataclass(frozen=True)
class Dag:
    """Nodes in collection order; ``edges`` (node, what it depends on) in DVC's order."""

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    outs_of: tuple[tuple[str, tuple[str, ...]], ...] = ()  # with -o: each stage's outputs

    def targets(self, target: str) -> list[str]:
        """The nodes ``target`` names: itself, or with -o a stage's outputs."""
        return list(dict(self.outs_of).get(target, (target,)))

    def pipelines(self) -> list[Dag]:
        """The weakly connected parts, each in collection order (networkx's order)."""
        neighbours: dict[str, set[str]] = {n: set() for n in self.nodes}
        for a, b in self.edges:
            neighbours[a].add(b)
            neighbours[b].add(a)
        seen: set[str] = set()
        parts = []
        for start in self.nodes:
            if start in seen:
                continue
            found, todo = {start}, [start]
            while todo:
                for other in neighbours[todo.pop()] - found:
                    found.add(other)
                    todo.append(other)
            seen |= found
            parts.append(Dag(tuple(n for n in self.nodes if n in found), tuple(e for e in self.edges if e[0] in found)))
        return parts

    def upstream_of(self, targets: list[str], full: bool = False) -> Dag:
        """What ``dvc dag TARGET`` shows: the target and what it depends on (``full``: its whole pipeline).

        Raises:
            UnknownStageError: a target that is no node.
        """
        for target in targets:
            if target not in self.nodes:
                raise UnknownStageError(
                    f"'{target}' is not a stage or .dvc file of this project; see `jupyter dvc dag`."
                )
        keep = set(self.nodes)
        if not full:
            keep, todo = set(targets), list(targets)
            while todo:
                node = todo.pop()
                for a, b in self.edges:
                    if a == node and b not in keep:
                        keep.add(b)
                        todo.append(b)
        sub = Dag(
            tuple(n for n in self.nodes if n in keep), tuple(e for e in self.edges if e[0] in keep and e[1] in keep)
        )
        wanted = set(targets)
        return Dag(
            tuple(n for part in sub.pipelines() if wanted & set(part.nodes) for n in part.nodes),
            tuple(e for part in sub.pipelines() if wanted & set(part.nodes) for e in part.edges),
        )


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def collect_dag(project: Project, outs: bool = False, stages: list | None = None) -> Dag:
    """The project's dag (``outs``: of outputs instead of stages, as ``dvc dag -o``).

    Raises:
        YAMLFileError, PipelineError, PathError: a dvc.yaml or .dvc file that does not load.
    """
    from .dvcfile import walk_pipelines
    from .tracked import read_dvc_file

    if stages is None:
        stages = walk_pipelines(project).stages
    by_file: dict[str, list[tuple[str, list[str], list[str]]]] = {}  # file -> [(node, outs, deps)]
    for stage in stages:
        by_file.setdefault(stage.dvcfile, []).append(
            (stage.address, [o.path for o in stage.outs], [d.path for d in stage.deps])
        )
    for name in project.git.ls_files("*.dvc", check=False):
        if name.endswith(".dvc") and (project.root / name).is_file():
            by_file[name] = [(name, [t.path for t in read_dvc_file(project, name)], [])]
    entries = [entry for file in sorted(by_file, key=lambda f: _walk_key(project, f)) for entry in by_file[file]]
    producers = [(out, node) for node, node_outs, _ in entries for out in node_outs]
    edges: list[tuple[str, str]] = []
    if outs:
        for _, node_outs, deps in entries:
            for out in node_outs:
                for dep in deps:
                    for other, _ in producers:
                        if _overlaps(dep, other) and (out, other) not in edges:
                            edges.append((out, other))
        owned = tuple((node, tuple(node_outs)) for node, node_outs, _ in entries)
        return Dag(_trie_order([out for out, _ in producers]), tuple(edges), owned)
    for node, _, deps in entries:
        for dep in deps:
            for out, producer in producers:
                if _overlaps(dep, out) and (node, producer) not in edges:
                    edges.append((node, producer))
    return Dag(tuple(node for node, _, _ in entries), tuple(edges))


def _trie_order(paths: list[str]) -> tuple[str, ...]:
    """The outputs in the order DVC's trie of outputs lists them: by path components,
    each level in the order its first path was added, a path before those inside it."""
    tree: dict = {}
    for path in paths:
        node = tree
        for part in path.split("/"):
            node = node.setdefault(part, {})
        node[None] = path
    found: list[str] = []

    def visit(node: dict) -> None:
        if None in node:
            found.append(node[None])
        for key, child in node.items():
            if key is not None:
                visit(child)

    visit(tree)
    return tuple(found)


def _walk_key(project: Project, relfile: str) -> tuple:
    """Where DVC's walk meets ``relfile``: directories top-down, then the file system's listing order."""
    parent = posixpath.dirname(relfile)
    try:
        listing = os.listdir(project.root / parent) if parent else os.listdir(project.root)
        at = listing.index(posixpath.basename(relfile))
    except (OSError, ValueError):
        at = -1
    return (parent.count("/") + (1 if parent else 0), parent, at)


# -- mermaid and dot ------------------------------------------------------------------


def mermaid(dag: Dag, markdown: bool = False) -> str:
    """``dvc dag --mermaid`` (``--md``: in a Markdown code block)."""
    lines = ["flowchart TD"]
    count = 0
    for part in dag.pipelines():
        ids = {}
        for node in sorted(part.nodes):
            count += 1
            ids[node] = f"node{count}"
            lines.append(f'\t{ids[node]}["{node}"]')
        for a, b in sorted((upstream, node) for node, upstream in part.edges):
            lines.append(f"\t{ids[a]}-->{ids[b]}")
    text = "\n".join(lines)
    return f"```mermaid\n{text}\n```" if markdown else text


def dot(dag: Dag) -> str:
    """``dvc dag --dot``: the graph reversed (upstream -> downstream), as pydot writes it."""
    lines = ["strict digraph {"]
    lines += [f'"{node}";' for node in dag.nodes]
    reverse_edges = []
    for node in dag.nodes:  # networkx's reverse(): each node's predecessors, in node order
        reverse_edges += [(node, a) for a, b in dag.edges if b == node]
    lines += [f'"{a}" -> "{b}";' for a, b in reverse_edges]
    return "\n".join(lines) + "\n}"


# -- the text drawing ---------------------------------------------------------------------


class _Box:
    """The size grandalf lays a node out with: the name padded by a space each side, in a box."""

    HEIGHT = 3

    def __init__(self, label: str) -> None:
        self.w = len(label) + 2
        self.h = self.HEIGHT


class _Canvas:
    def __init__(self, cols: int, lines: int) -> None:
        self.rows = [[" "] * cols for _ in range(lines)]

    def put(self, x: int, y: int, char: str) -> None:
        self.rows[y][x] = char

    def segment(self, x0: int, y0: int, x1: int, y1: int) -> None:
        """A line of ``*`` from one point to the other, stepping along its longer axis."""
        if x0 > x1:
            x0, y0, x1, y1 = x1, y1, x0, y0
        dx, dy = x1 - x0, y1 - y0
        if abs(dx) >= abs(dy):
            for x in range(x0, x1 + 1):
                self.put(x, y0 + (round((x - x0) * dy / dx) if dx else 0), "*")
        elif dy > 0:
            for y in range(y0, y1 + 1):
                self.put(x0 + round((y - y0) * dx / dy), y, "*")
        else:
            for y in range(y1, y0 + 1):
                self.put(x1 + round((y - y1) * dx / dy), y, "*")

    def box(self, x: int, y: int, w: int, h: int, label: str) -> None:
        right, bottom = x + w - 1, y + h - 1
        for i in range(x, right):
            self.put(i, y, "-")
            self.put(i, bottom, "-")
        for j in range(y, bottom):
            self.put(x, j, "|")
            self.put(right, j, "|")
        for cx, cy in ((x, y), (right, y), (x, bottom), (right, bottom)):
            self.put(cx, cy, "+")
        for i, char in enumerate(label):
            self.put(x + 1 + i, y + 1, char)

    def text(self) -> str:
        return "\n".join("".join(row) for row in self.rows)


def draw(dag: Dag) -> str:
    """One pipeline drawn in text, as ``dvc dag`` draws it."""
    from grandalf.graphs import Edge, Vertex, graph_core
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import EdgeViewer, route_with_lines

    vertices = {node: Vertex(f" {node} ") for node in dag.nodes}
    # Upstream on top: each edge runs from what is depended on to the stage depending on it.
    edges = [Edge(vertices[b], vertices[a]) for a, b in dag.edges]
    # One connected part (see Dag.pipelines), built with its edges in DVC's order: grandalf's
    # Graph gathers a part's edges in a set, ordered by object ids, so the same pipeline
    # came out in one of two layouts from run to run (DVC's own output varies so).
    part = graph_core(list(vertices.values()), edges)
    for vertex in vertices.values():
        vertex.view = _Box(vertex.data)
    for edge in edges:
        edge.view = EdgeViewer()
    layout = SugiyamaLayout(part)
    layout.init_all(roots=[v for v in part.sV if not v.e_in()], optimize=True)
    layout.yspace = _Box.HEIGHT
    layout.xspace = min(v.view.w for v in vertices.values())
    layout.route_edge = route_with_lines
    layout.draw()
    xs: list[float] = []
    ys: list[float] = []
    for vertex in part.sV:
        x, y = vertex.view.xy
        xs += [x - vertex.view.w / 2.0, x + vertex.view.w / 2.0]
        ys += [y, y + vertex.view.h]
    for edge in part.sE:
        for x, y in edge.view._pts:
            xs.append(x)
            ys.append(y)
    minx, miny = min(xs), min(ys)
    canvas = _Canvas(math.ceil(math.ceil(max(xs)) - math.floor(minx)) + 1, round(max(ys) - miny))
    for edge in part.sE:  # lines first: the boxes cover their ends
        points = edge.view._pts
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            canvas.segment(round(x0 - minx), round(y0 - miny), round(x1 - minx), round(y1 - miny))
    for vertex in part.sV:
        x, y = vertex.view.xy
        canvas.box(round(x - vertex.view.w / 2.0 - minx), round(y - miny), vertex.view.w, vertex.view.h, vertex.data)
    return canvas.text()


def ascii_text(dag: Dag) -> str:
    """``dvc dag``: each pipeline drawn, one after the other."""
    return "\n".join(draw(part) for part in dag.pipelines())
