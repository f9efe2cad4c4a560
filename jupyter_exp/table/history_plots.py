"""Plots of histories the table's cells do not hold, as Plot panel entries: DVCLive's
step histories of the plotted experiments (trends over steps) and the Optuna studies
their trials belong to (optimization history, param importances).

One home for both hosts: the table's Plot panel (:mod:`jupyter_exp.table.plots`) shows
them for the plotted rows, and the lab server's ``GET plots?plot=`` draws them when the
sidebar asks (:mod:`jupyter_exp.server.plots_info`). The data comes from
:mod:`jupyter_exp.plots.trends` and :mod:`jupyter_exp.studies.plots`; this module only
turns their plot records into entries (``{"id", "kind", "title", "spec"}``, or
``"message"`` for one that cannot be drawn) in the experiments' colours.
"""

from __future__ import annotations

import math
import posixpath
from dataclasses import replace
from typing import Any

from ..errors import JupyterExpError
from ..experiments.collect import ExpRow
from ..plots.collect import WORKSPACE, PlotSet, Revision
from ..project import Project

LIVE_DIR = "dvclive"
STUDY_PLOTS = {"history": "optimization history", "importances": "param importances"}
MAX_POINTS = 10_000  # per chart: past this a browser draws an SVG of it slowly; the panel says so instead


def plot_entries(project: Project, found: PlotSet, kind: str, colours: dict[str, str] | None) -> list[dict[str, Any]]:
    """``found``'s plots as panel entries of ``kind`` (``{kind}:{plot id}``), recoloured
    with ``colours`` (label -> colour) when given; a plot with no points, too many, or a
    template that fails is an ``error`` entry with its reason, as is each revision whose
    file could not be read."""
    from ..plots.render import vega_spec
    from .colours import recolour

    entries: list[dict[str, Any]] = []
    for plot in found.plots:
        base = {"id": f"{kind}:{plot.id}", "kind": kind, "title": str(plot.props.get("title") or plot.id)}
        unread = [f"{rev}: {error.line()}" for rev, _file, error in plot.source_errors]
        if kind == "trend":  # a history is numbers: say which rows are not (the chart leaves them out)
            unread += [f"{rev}: {bad} of {n} rows are not numbers, left out" for rev, bad, n in _not_numbers(plot)]
        if unread:  # a garbage history spoils its revision's line, not the chart
            entries.append({**base, "id": f"{base['id']}:unread", "kind": "error", "message": "; ".join(unread)})
        if not plot.datapoints:
            if not unread:
                reasons = [e.msg for _, e in plot.definition_errors] or ["nothing to draw"]
                entries.append({**base, "kind": "error", "message": "; ".join(reasons)})
            continue
        if len(plot.datapoints) > MAX_POINTS:
            message = (
                f"{len(plot.datapoints):,} points, more than the panel draws ({MAX_POINTS:,}); "
                "plot fewer experiments, or draw it with `jupyter exp plots trends`."
            )
            entries.append({**base, "kind": "error", "message": message})
            continue
        try:
            spec = vega_spec(project, plot)[0]
        except JupyterExpError as exc:  # one broken plot, not the panel
            entries.append({**base, "kind": "error", "message": str(exc)})
            continue
        entries.append({**base, "spec": recolour(spec, colours) if colours is not None else spec})
    return entries


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def _not_numbers(plot: Any) -> list[tuple[str, int, int]]:
    """``(rev, rows that are not numbers, rows)`` for each revision of a history with such rows."""
    counts: dict[str, list[int]] = {}
    for point in plot.datapoints:
        seen = counts.setdefault(str(point.get("rev")), [0, 0])
        seen[1] += 1
        fields = (plot.props.get("x"), point.get("field", plot.props.get("y")))
        seen[0] += not all(_number(point.get(f)) for f in fields if isinstance(f, str))
    return [(rev, bad, n) for rev, (bad, n) in counts.items() if bad]


def metric_of(plot_id: str, live_dir: str = LIVE_DIR) -> str:
    """The metric of a history's plot id (``dvclive/plots/metrics/train/loss.tsv`` -> ``train/loss``)."""
    from ..plots.trends import METRICS

    prefix = posixpath.join(live_dir, METRICS) + "/"
    return plot_id[len(prefix) : -len(".tsv")] if plot_id.startswith(prefix) and plot_id.endswith(".tsv") else plot_id


def step_trends(project: Project, revisions: list[Revision]) -> PlotSet:
    """Each DVCLive history over the steps of ``revisions``."""
    from ..plots.trends import collect_trends

    if not revisions:
        return PlotSet(())
    return collect_trends(project, revisions, LIVE_DIR)


def trend_entries(
    project: Project, found: PlotSet, metric: str | None, colours: dict[str, str] | None
) -> list[dict[str, Any]]:
    """The panel entries (kind ``trend``) of ``found``'s histories, only ``metric``'s when given."""
    if metric:
        found = replace(found, plots=tuple(p for p in found.plots if metric_of(p.id) == metric))
    return plot_entries(project, found, "trend", colours)


def revisions_of(chosen: list[ExpRow], labels: list[str]) -> list[Revision]:
    """The rows as revisions to read histories at, under their plot labels (checkpoints
    are steps of their experiment, not experiments of their own)."""
    return [
        Revision(WORKSPACE) if r.kind == "workspace" else Revision(n, r.rev)
        for n, r in zip(labels, chosen)
        if r.kind != "checkpoint"
    ]


def studies_of(project: Project, chosen: list[ExpRow]) -> list[str]:
    """The Optuna studies with trials among ``chosen``, in the order their trials come."""
    from ..experiments.annotations import trial_labels
    from .studies import study_of

    trials = trial_labels(project)
    if not trials:
        return []
    found = [study_of(trials[r.name]) for r in chosen if r.kind == "experiment" and r.name in trials]
    return list(dict.fromkeys(found))


def study_entries(project: Project, name: str, parts: tuple[str, ...] = tuple(STUDY_PLOTS)) -> list[dict[str, Any]]:
    """Study ``name``'s plots (``history``, ``importances``) as panel entries with ids
    ``study:<name>:<part>``; a study that cannot be read is one ``error`` entry.

    Raises:
        UnknownStudyError: no study has that name.
    """
    from ..studies.exceptions import UnknownStudyError
    from ..studies.plots import study_plots

    try:
        found = study_plots(project, name)
    except UnknownStudyError:
        raise
    except JupyterExpError as exc:  # the search extra missing, a study file it cannot read
        return [{"id": f"study:{name}", "kind": "error", "title": f"Study '{name}'", "message": str(exc)}]
    entries = []
    for part in parts:
        chosen = PlotSet(found.revisions, tuple(p for p in found.plots if p.id == STUDY_PLOTS[part]))
        entries += [{**e, "id": f"study:{name}:{part}"} for e in plot_entries(project, chosen, "study", None)]
    return entries
