"""Trends: each metric over the steps of the chosen experiments, one plot per metric,
one line per experiment (the VS Code extension's Trends section, issue 16).

The histories are DVCLive's (``<live dir>/plots/metrics/**/*.tsv``, written by DVCLive
and by :mod:`jupyter_exp.live`), read at each revision through the same collection as
``plots diff`` (git trees, the workspace, cached outputs), whatever ``dvc.yaml``
declares: step on x, the metric on y, DVC's ``linear`` template.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from ..project import Project
from .collect import PlotSet, Revision, collect_plots

METRICS = "plots/metrics"


def collect_trends(project: Project, revisions: list[Revision], live_dir: str = "dvclive") -> PlotSet:
    """One plot per metric history under ``live_dir`` at any of ``revisions``.

    Raises:
        PathError: ``live_dir`` leaves the project.
    """
    from ..errors import option

    folder = project.resolve_relpath(live_dir, where=option("live_dir", label=True))
    histories = posixpath.join(folder, METRICS) if folder not in ("", ".") else METRICS
    found = collect_plots(project, revisions, [histories], {"x": "step", "template": "linear"})
    plots = []
    for plot in found.plots:
        if not plot.id.startswith(histories + "/") or not plot.id.endswith(".tsv"):
            continue  # a plot dvc.yaml defines that the directory pattern happened to match
        metric = plot.id[len(histories) + 1 : -len(".tsv")]
        plots.append(replace(plot, props={**plot.props, "title": metric, "y_label": metric, "x_label": "step"}))
    return replace(found, plots=tuple(plots))
