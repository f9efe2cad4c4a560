"""N-way compare: the params and metrics that differ among any number of experiments
(or revisions, or the workspace), each with its difference from a reference.

``exp diff a b`` stays DVC's two-sided diff (``diff.py``); ``exp diff a b c ...``, the
table's Compare and ``jupyter_exp.compare`` read a :class:`Comparison`. Computing one
from values already collected (the table's rows) is :func:`compare_data`, pure;
:func:`compare` reads each side from git first. Rendering lives in
``render/comparison.py`` and ``render/frame.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import JupyterExpError
from ..params import DEFAULT_PARAMS_FILE
from ..project import Project
from ..tree import GitTree, WorkspaceTree
from ..values import flat_values
from .catalog import list_experiments
from .collect import ExpData, PipelineMemo, read_data
from .resolve import resolve

if TYPE_CHECKING:
    import pandas

GROUPS = ("metrics", "params")  # in the order exp diff prints them


@dataclass(frozen=True)
class CompareRow:
    """One param or metric: its value on each side (None where a side lacks it) and each
    side's difference from the reference (None for the reference itself, and where
    either value is not a number)."""

    group: str  # metrics | params
    path: str
    key: str
    label: str  # as exp show's columns name it: key, or file:key when the key is in several files
    values: tuple[Any, ...]
    deltas: tuple[int | float | None, ...]

    @property
    def column(self) -> str:
        """Its name in ``jupyter_exp.show()``'s DataFrame: ``params.<label>``."""
        return f"{self.group}.{self.label}"


@dataclass(frozen=True)
class Comparison:
    """Any number of sides, named as the user named them, and what differs among them."""

    names: tuple[str, ...]
    reference: int  # index into names
    rows: tuple[CompareRow, ...]
    precision: int | None = field(default=5, compare=False)  # significant digits shown (str, HTML)

    @property
    def reference_name(self) -> str:
        return self.names[self.reference]

    def group(self, name: str) -> list[CompareRow]:
        """The rows of one group (``metrics`` or ``params``)."""
        return [r for r in self.rows if r.group == name]

    def to_text(self, markdown: bool = False, precision: int | None = None) -> str:
        """A metrics table and a params table, as ``exp diff`` prints its two
        (``precision``: significant digits, default ``self.precision``)."""
        from ..render import comparison

        return comparison.text(self, markdown, self.precision if precision is None else precision)

    def to_csv(self) -> str:
        from ..render import comparison

        return comparison.csv(self)

    def to_json(self, tty: bool = False) -> str:
        from ..render import comparison

        return comparison.json_text(self, tty)

    def to_dataframe(self) -> pandas.DataFrame:
        """A row per param or metric (indexed as ``show()``'s columns: ``params.lr``), a
        column per side, then ``Δ <name>`` per side but the reference."""
        from ..render import frame

        return frame.comparison(self)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text() or f"No differences among {', '.join(self.names)}."

    def _repr_html_(self) -> str:
        from ..render import comparison

        return comparison.html(self, self.precision)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _delta(value: Any, ref: Any) -> int | float:
    """``value - ref``, a float rounded to 15 significant digits: 0.3 - 0.1 is 0.2 here,
    not 0.19999999999999998 (a double holds 15 digits of a decimal exactly)."""
    found = value - ref
    return float(f"{found:.15g}") if isinstance(found, float) else found


def _same(values: list[Any]) -> bool:
    first = values[0]
    return all(v == first and type(v) is type(first) for v in values[1:])


def compare_data(names: list[str], data: list[ExpData], reference: int = 0, all: bool = False) -> Comparison:
    """Compare the params and metrics of ``data`` (one ExpData per name); ``all`` keeps
    what is equal everywhere too. Files that could not be read are left out, as in
    ``exp diff``."""
    if not 0 <= reference < len(names):
        raise JupyterExpError(f"The reference must be one of the compared: {', '.join(names)}.")
    flat = {group: [flat_values(getattr(d, group)) for d in data] for group in GROUPS}
    files_of: dict[str, set[str]] = {}
    keyed: list[tuple[str, str, str]] = []
    for group in GROUPS:
        paths = sorted({p for side in flat[group] for p in side}, key=lambda f: (f != DEFAULT_PARAMS_FILE, f))
        for path in paths:
            for key in sorted({k for side in flat[group] for k in side.get(path, {})}):
                keyed.append((group, path, key))
                files_of.setdefault(key, set()).add(path)
    rows = []
    for group, path, key in keyed:
        values = [side.get(path, {}).get(key) for side in flat[group]]
        if not all and _same(values):
            continue
        ref = values[reference]
        deltas = tuple(
            _delta(v, ref) if i != reference and _number(v) and _number(ref) else None for i, v in enumerate(values)
        )
        label = f"{path}:{key}" if len(files_of[key]) > 1 else key
        rows.append(CompareRow(group, path, key, label, tuple(values), deltas))
    return Comparison(tuple(names), reference, tuple(rows))


def reference_index(names: list[str], reference: str | None) -> int:
    """Where ``reference`` (a name as given, default the first) is among ``names``."""
    if reference is None:
        return 0
    if reference not in names:
        raise JupyterExpError(
            f"Reference '{reference}' is not among the compared ({', '.join(names)}); name one of them."
        )
    return names.index(reference)


def compare(
    project: Project,
    specs: list[str],
    reference: str | None = None,
    *,
    all: bool = False,
    param_deps: bool = False,
) -> Comparison:
    """Compare experiments, revisions or ``workspace`` (at least two, each once);
    ``reference`` (default the first) is what the differences are taken from.

    Raises:
        JupyterExpError: fewer than two sides, one named twice, an unknown name, a side
            whose pipeline cannot be read, or a reference that is not among them.
    """
    if len(specs) < 2:
        raise JupyterExpError("Compare needs two experiments or more; name them, e.g. `exp diff a b c`.")
    twice = sorted({s for s in specs if specs.count(s) > 1})
    if twice:
        raise JupyterExpError(f"'{twice[0]}' is named twice; name each experiment once.")
    ref = reference_index(specs, reference)
    experiments = list_experiments(project)
    pipelines = PipelineMemo()
    memo: dict = {}  # blobs the sides share (dvc.yaml, an unchanged params file) are read once
    names, data = [], []
    for spec in specs:
        target = resolve(project, spec, experiments, workspace=True, revisions=True)
        tree = WorkspaceTree(project.root) if target.rev is None else GitTree(project.git, target.rev, memo=memo)
        name = spec[:7] if target.label == spec and len(spec) == 40 else target.label
        side = read_data(project, tree, param_deps, pipelines)
        if side.error:
            raise JupyterExpError(f"Cannot read {name}: {side.error}")
        names.append(name)
        data.append(side)
    return compare_data(names, data, ref, all)
