"""Trends: each metric over the steps of the chosen experiments, one plot per metric,
one line per experiment (the VS Code extension's Trends section, issue 16).

The histories are DVCLive's (``<live dir>/plots/metrics/**/*.tsv``, written by DVCLive
and by :mod:`jupyter_exp.live`), read at each revision through the same collection as
``plots diff`` (git trees, the workspace, cached outputs), whatever ``dvc.yaml``
declares: step on x, the metric on y, DVC's ``linear`` template. A checkpoint
experiment whose commits hold no histories (``jupyter_exp.live`` records its metrics
file at each checkpoint) gets its points from the metrics file of each checkpoint.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import replace
from typing import Any

from ..project import Project
from .collect import Plot, PlotSet, Revision, collect_plots

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
    plots: dict[str, Plot] = {}
    for plot in found.plots:
        if not plot.id.startswith(histories + "/") or not plot.id.endswith(".tsv"):
            continue  # a plot dvc.yaml defines that the directory pattern happened to match
        metric = plot.id[len(histories) + 1 : -len(".tsv")]
        plots[plot.id] = replace(plot, props={**plot.props, "title": metric, "y_label": metric, "x_label": "step"})
    with_history = {rev for plot in plots.values() for rev in plot.revisions}
    missing = [r for r in revisions if r.rev is not None and r.label not in with_history]
    for label, points in _checkpoint_histories(project, missing, posixpath.join(folder, "metrics.json")).items():
        for metric, rows in points.items():
            pid = posixpath.join(histories, f"{metric}.tsv")
            plots[pid] = _with(plots.get(pid), pid, metric, label, rows)
    order = [r.label for r in revisions]
    return replace(found, plots=tuple(_ordered(p, order) for p in plots.values()))


def _checkpoint_histories(project: Project, revisions: list[Revision], metrics_file: str) -> dict[str, dict[str, list]]:
    """For checkpoint experiments whose commits hold no histories (``jupyter_exp.live``
    commits its metrics file at each checkpoint, not the TSVs): label -> metric -> the
    ``(step, value)`` of each checkpoint, oldest first, read from the metrics file of
    every commit of the chain (one git process for the chains, one batch read)."""
    from ..experiments.catalog import list_experiments
    from ..experiments.history import checkpoint_chains

    if not revisions:
        return {}
    by_rev = {e.rev: e for e in list_experiments(project)}
    chosen = {r.label: by_rev[r.rev] for r in revisions if r.rev in by_rev}
    chains = checkpoint_chains(project, list(chosen.values()))
    found: dict[str, dict[str, list]] = {}
    for label, exp in chosen.items():
        commits = [exp.rev] + [rev for rev, _parent, _time in chains.get(exp.rev, [])]
        if len(commits) < 2:
            continue  # not a checkpoint experiment: nothing over steps to show
        blobs = project.git.read_objects([f"{rev}:{metrics_file}" for rev in reversed(commits)])
        series: dict[str, list] = {}
        for index, blob in enumerate(blobs):
            data = _json(blob[2]) if blob is not None and blob[1] == "blob" else None
            if not isinstance(data, dict):
                continue
            step = data.get("step", index)
            for metric, value in _flat(data):
                series.setdefault(metric, []).append((step, value))
        if series:
            found[label] = series
    return found


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None  # a broken file: that checkpoint has no point


def _flat(data: dict, prefix: str = "") -> list[tuple[str, float]]:
    """DVCLive's nested metrics as ``(train/loss, value)`` pairs (numbers only)."""
    pairs: list[tuple[str, float]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs += _flat(value, f"{name}/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and name != "step":
            pairs.append((name, value))
    return pairs


def _with(plot: Plot | None, pid: str, metric: str, label: str, rows: list) -> Plot:
    """``plot`` (or a new one for ``metric``) with ``label``'s points added."""
    field = metric.rsplit("/", 1)[-1]
    if plot is None:
        props = {"template": "linear", "x": "step", "y": field, "title": metric, "x_label": "step", "y_label": metric}
        plot = Plot(pid, "vega", props)
    else:
        given = plot.props.get("y")
        field = given if isinstance(given, str) else field
    points = tuple({"step": step, field: value, "rev": label} for step, value in rows)
    return replace(plot, datapoints=plot.datapoints + points, revisions=(*plot.revisions, label))


def _ordered(plot: Plot, order: list[str]) -> Plot:
    """Revisions and their points in the order they were asked for (colours follow it)."""
    revs = tuple(sorted(plot.revisions, key=lambda r: order.index(r) if r in order else len(order)))
    points = tuple(sorted(plot.datapoints, key=lambda p: revs.index(p["rev"]) if p.get("rev") in revs else len(revs)))
    return replace(plot, revisions=revs, datapoints=points, props={**plot.props, "revs_with_datapoints": list(revs)})
