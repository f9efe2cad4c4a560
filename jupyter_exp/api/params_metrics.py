"""Params and metrics: set params, expand sweeps, show and compare metrics and params."""

from __future__ import annotations

from . import as_list, project_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..params_metrics import DiffRow
    from ..project import Project

__all__ = ["apply_params", "expand_sweeps", "metrics_diff", "metrics_show", "params_diff"]


def apply_params(set_params: list[str] | str, root: str | None = None) -> list[str]:
    """Apply ``[file:]key=value`` overrides to the params files; return files changed."""
    from ..overrides import apply_overrides, group_by_file

    project = project_at(root)
    return apply_overrides(project.root, group_by_file(as_list(set_params) or []))


def expand_sweeps(set_params: list[str] | str) -> list[dict[str, list[str]]]:
    """Expand sweep overrides into one ``{file: [overrides]}`` set per combination."""
    from ..overrides import expand_sweeps as _expand

    return _expand(list(as_list(set_params) or []))


def _revision(project: Project, rev: str | None) -> str | None:
    """``rev`` as git names it, or the commit of the experiment it names (as DVC's
    ``params diff``/``metrics diff`` take experiment names too)."""
    if rev in (None, "workspace") or project.git.rev_parse(rev) is not None:
        return rev
    from ..experiments.exceptions import UnknownExperimentError
    from ..experiments.resolve import resolve

    try:
        return resolve(project, rev).rev
    except UnknownExperimentError:
        return rev  # the revision view says it is unknown, in git's words


def params_diff(
    a_rev: str | None = "HEAD",
    b_rev: str | None = None,
    *,
    all: bool = False,
    deps: bool = False,
    root: str | None = None,
) -> list[DiffRow]:
    """Params that differ between two revisions or experiments (default HEAD and the
    workspace)."""
    from ..params_metrics import params_diff as _diff

    project = project_at(root)
    return _diff(project, _revision(project, a_rev), _revision(project, b_rev), all=all, deps=deps)


def metrics_show(
    revs: list[str] | None = None,
    root: str | None = None,
    *,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    nested: bool = False,
) -> dict[str, Any]:
    """Metrics per revision: ``{rev: {file: {"data": {key: value}}}}``.

    ``all_branches``/``all_tags``/``all_commits`` read those revisions too (the
    workspace then first). ``nested`` gives ``dvc metrics show --json``'s shape,
    ``{rev: {"data": {file: {"data": nested}}}}``, keyed ``""`` for the workspace alone.
    """
    from ..params_metrics import flat_data, metric_revisions, metrics_show_dvc
    from ..params_metrics import metrics_show as _show

    project = project_at(root)
    if revs is None and (nested or all_branches or all_tags or all_commits):
        revs = metric_revisions(project, all_branches, all_tags, all_commits)
        shown = metrics_show_dvc(project, revs)
        if nested:
            return shown
        return {
            rev or "workspace": {
                f: ({"data": d} if "data" in v else v)
                for f, v in value["data"].items()
                for d in [flat_data({f: v}).get(f)]
            }
            for rev, value in shown.items()
        }
    return _show(project, revs)


def metrics_diff(
    a_rev: str | None = "HEAD", b_rev: str | None = None, *, all: bool = False, root: str | None = None
) -> list[DiffRow]:
    """Metrics that differ between two revisions or experiments, with the numeric change."""
    from ..params_metrics import metrics_diff as _diff

    project = project_at(root)
    return _diff(project, _revision(project, a_rev), _revision(project, b_rev), all=all)
