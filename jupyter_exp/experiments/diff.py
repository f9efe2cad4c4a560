"""``exp diff``: params and metrics of two revisions, experiments or the workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..compare import DiffRow, diff_table, diff_values, flat_data
from ..errors import JupyterExpError
from ..project import Project
from ..tree import GitTree, Tree, WorkspaceTree
from .catalog import ExpInfo, UnknownExperimentError, list_experiments, resolve
from .collect import read_data

WORKSPACE = "workspace"


@dataclass(frozen=True)
class ExpDiff:
    a_name: str
    b_name: str
    params: tuple[DiffRow, ...]
    metrics: tuple[DiffRow, ...]

    def to_json(self) -> str:
        out: dict[str, dict] = {"metrics": {}, "params": {}}
        for group, rows, with_change in (("metrics", self.metrics, True), ("params", self.params, True)):
            for row in rows:
                item = {"old": row.old, "new": row.new}
                if with_change:
                    item["diff"] = row.change
                out[group].setdefault(row.path, {})[row.key] = item
        return json.dumps(out, indent=2, default=str)

    def to_text(self, markdown: bool = False, precision: int | None = None) -> str:
        parts = []
        if self.metrics:
            parts.append(diff_table(list(self.metrics), self.a_name, self.b_name, True, markdown, precision, "Metric"))
        if self.params:
            parts.append(diff_table(list(self.params), self.a_name, self.b_name, True, markdown, precision, "Param"))
        return "\n".join(parts)


def _side(project: Project, spec: str, experiments: list[ExpInfo]) -> tuple[Tree, str, ExpInfo | None]:
    if spec == WORKSPACE:
        return WorkspaceTree(project.root), WORKSPACE, None
    try:
        exp = resolve(project, spec, experiments)
        return GitTree(project.git, exp.rev), exp.name, exp
    except UnknownExperimentError:
        sha = project.git.rev_parse(spec)
        if sha is None:
            raise JupyterExpError(
                f"Unknown experiment or revision '{spec}'; list experiments with `jupyter exp list`."
            ) from None
        return GitTree(project.git, sha), spec, None


def diff(project: Project, a_rev: str | None = None, b_rev: str | None = None, *,
         all: bool = False, param_deps: bool = False) -> ExpDiff:
    """Compare two sides (default HEAD and the workspace; one experiment: its baseline and it)."""
    experiments = list_experiments(project)
    if a_rev is None:
        a_rev, b_rev = "HEAD", WORKSPACE
    if b_rev is None:
        _, name, exp = _side(project, a_rev, experiments)
        if exp is not None:
            a_rev, b_rev = exp.baseline, exp.rev
        else:
            b_rev = WORKSPACE
    a_tree, a_name, _ = _side(project, a_rev, experiments)
    b_tree, b_name, _ = _side(project, b_rev, experiments)
    if a_name == a_rev and len(a_rev) == 40:
        a_name = a_rev[:7]
    if b_name == b_rev and len(b_rev) == 40:
        b_name = b_rev[:7]
    old, new = read_data(project, a_tree, param_deps), read_data(project, b_tree, param_deps)
    for side in (old, new):
        if side.error:
            raise JupyterExpError(f"Cannot read {a_name if side is old else b_name}: {side.error}")
    return ExpDiff(
        a_name, b_name,
        params=tuple(diff_values(flat_data(old.params), flat_data(new.params), all, numeric=True)),
        metrics=tuple(diff_values(flat_data(old.metrics), flat_data(new.metrics), all, numeric=True)),
    )
