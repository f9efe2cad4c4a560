"""The package's import graph, read statically: no cycles, no module over 500 lines.

Every ``import`` that can run counts as an edge, wherever it is written: at module
level or inside a function. A lazy import inside a function is still a dependency of
that module on the other one — it only defers the cost — so a lazy import that closes a
loop is still a cycle (issue 14: "no import cycle"). Lazy imports stay welcome where
they keep ``import jupyter_exp`` cheap; they just have to point down like every other
import. Imports under ``if TYPE_CHECKING:`` are not edges: they never run, and only
name types for annotations (the type checker resolves cycles among those itself).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jupyter_exp"
MAX_LINES = 500

# Imports that close a cycle today and that another piece of issue 14 removes: each is
# left out of the graph before it is checked, and each must still exist and still close
# a cycle (test_known_exceptions_are_still_needed), so that a fixed one is taken off.
# Nothing else may be added here.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}

# Modules over MAX_LINES today that another piece of issue 14 splits (same rule: each
# must still be long, or it is taken off).
KNOWN_LONG: dict[str, str] = {}


def module_name(path: Path) -> str:
    """The dotted name of a module file under the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ``from X import ...`` statement names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    # A package's own __init__ is its base; a plain module's base is its parent.
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node`` that can run (not under ``if TYPE_CHECKING:``)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            # Its body never runs; an `else:` branch does.
            found += _import_nodes(ast.Module(body=child.orelse, type_ignores=[]))
        else:
            found += _import_nodes(child)
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _resolve_from(name, is_package, node)
            # `from pkg import mod` imports the submodule pkg.mod when there is one.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            # `import a.b.c` runs a, a.b and a.b.c; the edge that matters is the deepest
            # module of ours it names (its packages' __init__ files are cheap re-exporters
            # or empty, and counting them would make every submodule a cycle with its package).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's strongly connected components with more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def a_cycle(graph: dict[str, set[str]], component: frozenset[str]) -> list[str]:
    """One concrete loop through a component, for the failure message."""
    start = min(component)
    path = [start]
    seen = {start}
    node = start
    while True:
        succ = sorted(s for s in graph[node] if s in component)
        nxt = next((s for s in succ if s == start), None) or next((s for s in succ if s not in seen), succ[0])
        path.append(nxt)
        if nxt in seen:
            return path[path.index(nxt) :]
        seen.add(nxt)
        node = nxt


def checked_graph() -> dict[str, set[str]]:
    """The import graph without the known exceptions."""
    graph = import_graph()
    for importer, imported in KNOWN_EXCEPTIONS:
        graph[importer].discard(imported)
    return graph


def test_graph_sees_lazy_and_relative_imports():
    """The reader itself: function-level and relative imports are edges, type-only ones not."""
    graph = import_graph()
    assert "jupyter_exp.errors" in graph["jupyter_exp.experiments.run"]
    # load_ipython_extension imports the magics lazily: still an edge.
    assert "jupyter_exp.magics" in graph["jupyter_exp"]
    # `from . import plots, view` names submodules.
    assert {"jupyter_exp.table.plots", "jupyter_exp.table.view"} <= graph["jupyter_exp.table.actions"]
    # Only under `if TYPE_CHECKING:` (hashing names DvcIgnore in annotations).
    assert "jupyter_exp.pipeline.ignore" not in graph["jupyter_exp.pipeline.hashing"]


def test_the_cycle_finder_finds_a_lazy_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [frozenset({"a", "b", "c"})]
    assert a_cycle(graph, frozenset({"a", "b", "c"})) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    graph = checked_graph()
    cycles = strongly_connected(graph)
    report = "\n".join(" -> ".join(a_cycle(graph, c)) for c in cycles)
    assert not cycles, f"import cycles in jupyter_exp/:\n{report}"


def test_known_exceptions_are_still_needed():
    """Each known exception still exists and still closes a cycle; a fixed one is taken off."""
    full = import_graph()
    for (importer, imported), where in KNOWN_EXCEPTIONS.items():
        assert imported in full[importer], f"{importer} no longer imports {imported}: remove it from KNOWN_EXCEPTIONS"
        graph = checked_graph()
        graph[importer].add(imported)
        closes = any(importer in c and imported in c for c in strongly_connected(graph))
        assert closes, f"{importer} -> {imported} ({where}) no longer closes a cycle: remove it from KNOWN_EXCEPTIONS"


def line_counts() -> dict[str, int]:
    return {name: len(path.read_text().splitlines()) for name, path in modules().items()}


def test_no_module_over_500_lines():
    long = {name: n for name, n in line_counts().items() if n > MAX_LINES and name not in KNOWN_LONG}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_known_long_modules_are_still_long():
    counts = line_counts()
    for name, where in KNOWN_LONG.items():
        assert counts.get(name, 0) > MAX_LINES, f"{name} ({where}) is short now: remove it from KNOWN_LONG"


# Exceptions that are signals inside one module, never errors a user sees.
INTERNAL_SIGNALS = {"jupyter_exp.experiments.executor": {"Cancelled", "ClaimLost"}}


def test_experiments_errors_live_in_one_module():
    """Every error of experiments/ is defined in experiments/exceptions.py, and each is a
    JupyterExpError (one line that names the fix)."""
    import importlib

    from jupyter_exp.errors import JupyterExpError

    elsewhere = {}
    for name in modules():
        if not name.startswith("jupyter_exp.experiments."):
            continue
        module = importlib.import_module(name)
        defined = {
            n
            for n, v in vars(module).items()
            if isinstance(v, type) and issubclass(v, BaseException) and v.__module__ == name
        }
        if name == "jupyter_exp.experiments.exceptions":
            assert defined and all(issubclass(getattr(module, n), JupyterExpError) for n in defined)
            continue
        defined -= INTERNAL_SIGNALS.get(name, set())
        if defined:
            elsewhere[name] = sorted(defined)
    assert not elsewhere, f"errors defined outside experiments/exceptions.py: {elsewhere}"
    # exceptions.py sits at the bottom: it imports nothing of ours but the base class.
    assert import_graph()["jupyter_exp.experiments.exceptions"] == {"jupyter_exp.errors"}
