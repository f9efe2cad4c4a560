"""``exp diff``: params and metrics of two revisions, experiments or the workspace."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import JupyterExpError
from ..params_metrics import diff_values
from ..project import Project
from ..tree import GitTree, Tree, WorkspaceTree
from ..values import DiffRow, flat_values
from .catalog import ExpInfo, list_experiments
from .collect import read_data
from .resolve import WORKSPACE, resolve


@dataclass(frozen=True)
class ExpDiff:
    """The params and metrics that differ between two sides, named as the user named them."""

    a_name: str
    b_name: str
    params: tuple[DiffRow, ...]
    metrics: tuple[DiffRow, ...]

    def to_json(self, tty: bool = False) -> str:
        """``dvc exp diff --json``: indented for a terminal, compact when piped
        (``render/json.py``)."""
        from ..render import json

        return json.exp_diff(self, tty)

    def to_text(self, markdown: bool = False, precision: int | None = None) -> str:
        """``dvc exp diff``'s tables, or with ``markdown`` its ``--md`` (``render/text.py``)."""
        from ..render import text

        return text.exp_diff(self, markdown, precision)


def _side(project: Project, spec: str, experiments: list[ExpInfo]) -> tuple[Tree, str]:
    """The tree to read for one side, and its label: the workspace, an experiment or any revision."""
    target = resolve(project, spec, experiments, workspace=True, revisions=True)
    if target.rev is None:
        return WorkspaceTree(project.root), WORKSPACE
    return GitTree(project.git, target.rev), target.label


def diff(
    project: Project, a_rev: str | None = None, b_rev: str | None = None, *, all: bool = False, param_deps: bool = False
) -> ExpDiff:
    """Compare two sides: ``a_rev`` (default HEAD) and ``b_rev`` (default the
    workspace), as ``dvc exp diff`` does."""
    experiments = list_experiments(project)
    a_rev = a_rev or "HEAD"
    b_rev = b_rev or WORKSPACE
    a_tree, a_name = _side(project, a_rev, experiments)
    b_tree, b_name = _side(project, b_rev, experiments)
    if a_name == a_rev and len(a_rev) == 40:
        a_name = a_rev[:7]
    if b_name == b_rev and len(b_rev) == 40:
        b_name = b_rev[:7]
    old, new = read_data(project, a_tree, param_deps), read_data(project, b_tree, param_deps)
    for side in (old, new):
        if side.error:
            raise JupyterExpError(f"Cannot read {a_name if side is old else b_name}: {side.error}")
    return ExpDiff(
        a_name,
        b_name,
        params=tuple(diff_values(flat_values(old.params), flat_values(new.params), all, numeric=True)),
        metrics=tuple(diff_values(flat_values(old.metrics), flat_values(new.metrics), all, numeric=True)),
    )
