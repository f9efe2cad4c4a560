"""The table's Plot panel as Vega-Lite specs, for any number of selected rows.

- **DVC's plots** of the selected rows: what ``plots diff`` draws for them (the
  templates, DVCLive's curves, images), each row in the colour the table gave it;
- **steps**: for a checkpoint experiment with no plots of its own, each metric over
  its checkpoint commits;
- **metric vs param**: one point per row; by default a param that varies and the
  first metric;
- **parallel coordinates**: the selected rows (or every row when one or none is
  selected) across the params that vary and the metrics;
- **commits** (trends over commits): the chosen metric (the scatter's y, else the first
  metric) across the baseline commits the table shows (``-n N`` / ``-A``), each
  commit's experiments in their colours (:mod:`jupyter_exp.plots.commits`);
- **trend** (trends over steps): the rows' DVCLive histories that DVC's plots do not
  draw already, one metric (the first, or as picked; every one on request), and
  **study**: the optimization history and param importances of each study with trials
  among the rows (:mod:`jupyter_exp.table.history_plots`, shared with the lab server).

Each experiment keeps its colour wherever it appears: the first time it is plotted
it takes the first palette colour no other plotted experiment holds (past the
palette, a new hue), and the table's preferences keep it (``assign_colours``). The
panel holds the specs for a Vega-Embed front end and, for one that only shows HTML,
the same charts drawn as static SVG (vl-convert, when installed).
"""

from __future__ import annotations

import html
import json
from dataclasses import replace
from typing import Any

from ..errors import JupyterExpError
from ..experiments.collect import ExpRow
from ..experiments.show import Column, value
from ..project import Project
from .cells import cell
from .colours import PALETTE, assign_colours, colour, recolour  # noqa: F401 - the panel's colours, as before
from .view import column_id

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
SIZE = 300
MANY = 20  # past this many lines, parallel coordinates colour by a metric instead of a legend


def label(row: ExpRow) -> str:
    """How a row is named in a plot (and keyed in the colours)."""
    return "workspace" if row.kind == "workspace" else row.name or row.rev[:7]


def _labels(rows: list[ExpRow]) -> list[str]:
    """Unique plot names: a name two rows share gets each row's commit."""
    names = [label(r) for r in rows]
    return [n if names.count(n) == 1 else f"{n}@{r.rev[:7]}" for n, r in zip(names, rows)]


def _entry(kind: str, title: str, spec: dict | None = None, **extra: Any) -> dict:
    return {"id": f"{kind}:{title}", "kind": kind, "title": title, "spec": spec, **extra}


def dvc_plots(project: Project, chosen: list[ExpRow], colours: dict[str, str]) -> list[dict]:
    """DVC's plots of the chosen rows (as ``plots diff`` of them), in the rows' colours."""
    from ..plots.collect import Revision, collect_plots
    from ..plots.render import image_src, vega_spec

    names = _labels(chosen)
    revisions = [Revision(n, None if r.kind == "workspace" else r.rev) for n, r in zip(names, chosen)]
    by_label = {n: colour(label(r), colours) for n, r in zip(names, chosen)}
    entries = []
    for plot in collect_plots(project, revisions).plots:
        if plot.kind == "image":
            images = [{"rev": i.rev, "src": image_src(i, None)} for i in plot.images]
            if images:
                entries.append(_entry("image", plot.id, images=images))
        elif plot.datapoints:
            try:
                spec = vega_spec(project, plot)[0]
            except JupyterExpError as exc:  # a broken template spoils its plot, not the panel
                entries.append(_entry("error", plot.id, message=str(exc)))
                continue
            entries.append(_entry("template", plot.id, recolour(spec, by_label), revisions=list(plot.revisions)))
    return entries


def step_plots(chosen: list[ExpRow], rows: list[ExpRow], cols: list[Column], colours: dict[str, str]) -> list[dict]:
    """Each metric over the checkpoint commits of the chosen experiments (DVC 2's
    checkpoints, when they have no plots files)."""
    series: dict[str, list[dict]] = {}
    for exp in chosen:
        chain = [r for r in rows if r.kind == "checkpoint" and r.name == exp.name and r.baseline == exp.baseline]
        if not chain:
            continue
        for col in cols:
            if col.group != "metrics":
                continue
            points = [
                {"step": r.step or 0, "value": v, "rev": label(exp)}
                for r in sorted([exp, *chain], key=lambda r: r.step or 0)
                if isinstance(v := value(r, col), (int, float)) and not isinstance(v, bool)
            ]
            if len(points) > 1:
                series.setdefault(col.label, []).extend(points)
    entries = []
    for metric, points in series.items():
        domain = list(dict.fromkeys(p["rev"] for p in points))
        spec = {
            "$schema": SCHEMA,
            "title": metric,
            "width": SIZE,
            "height": SIZE,
            "data": {"values": points},
            "params": [{"name": "grid", "select": "interval", "bind": "scales"}],
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": {"field": "step", "type": "quantitative", "title": "step"},
                "y": {"field": "value", "type": "quantitative", "title": metric, "scale": {"zero": False}},
                "color": {"field": "rev", "type": "nominal", "title": "experiment", "scale": {"domain": domain}},
            },
        }
        entries.append(_entry("steps", metric, recolour(spec, colours)))
    return entries


def axes(chosen: list[ExpRow], cols: list[Column]) -> tuple[list[str], list[str]]:
    """The numeric params and metrics among ``chosen``: the scatter's possible axes."""
    by_id = {column_id(c): c for c in cols}

    def numeric(cid: str) -> bool:
        vals = [v for v in (cell(r, cid, by_id) for r in chosen) if v is not None]
        return bool(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)

    return (
        [cid for cid, c in by_id.items() if c.group == "params" and numeric(cid)],
        [cid for cid, c in by_id.items() if c.group == "metrics" and numeric(cid)],
    )


def _scale(values: list[float]) -> dict:
    """A scale over ``values`` with a margin, so that no point sits on an axis (zooming
    clips what is outside), rounded to nice ticks, never crossing zero when the values
    do not (no negative axis for an error that cannot be negative)."""
    lo, hi = min(values), max(values)
    margin = (hi - lo) * 0.08 or abs(hi) * 0.08 or 1.0
    low, high = lo - margin, hi + margin
    if lo >= 0:
        low = max(low, 0.0)
    if hi <= 0:
        high = min(high, 0.0)
    return {"domain": [low, high], "nice": True, "zero": False}


def _varies(rows: list[ExpRow], cid: str, by_id: dict[str, Column]) -> bool:
    return len({json.dumps(cell(r, cid, by_id)) for r in rows}) > 1


def scatter(
    chosen: list[ExpRow], cols: list[Column], x: str | None, y: str | None, colours: dict[str, str]
) -> tuple[str, str, dict | None]:
    """A param (x) against a metric (y), one point per row; the axes chosen (defaults:
    the first param that varies among ``chosen``, the first metric) and the spec."""
    by_id = {column_id(c): c for c in cols}
    params, metrics = axes(chosen, cols)
    x = x if x in params else next((p for p in params if _varies(chosen, p, by_id)), params[0] if params else None)
    y = y if y in metrics else (metrics[0] if metrics else None)
    if x is None or y is None:
        return x or "", y or "", None
    x_title, y_title = by_id[x].label, by_id[y].label
    points: list[dict[str, Any]] = [
        {"experiment": n, "x": a, "y": b}
        for n, r in zip(_labels(chosen), chosen)
        if isinstance(a := cell(r, x, by_id), (int, float)) and isinstance(b := cell(r, y, by_id), (int, float))
    ]
    if not points:
        return x, y, None
    by_name = {n: colour(label(r), colours) for n, r in zip(_labels(chosen), chosen)}
    names = [p["experiment"] for p in points]
    spec = {
        "$schema": SCHEMA,
        "title": f"{y_title} vs {x_title}",
        "width": SIZE,
        "height": SIZE,
        "data": {"values": points},
        "params": [{"name": "grid", "select": "interval", "bind": "scales"}],
        "mark": {"type": "point", "filled": True, "size": 80},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": x_title, "scale": _scale([p["x"] for p in points])},
            "y": {"field": "y", "type": "quantitative", "title": y_title, "scale": _scale([p["y"] for p in points])},
            "color": {
                "field": "experiment",
                "type": "nominal",
                "scale": {"domain": names, "range": [by_name[n] for n in names]},
            },
            "tooltip": [{"field": "experiment"}, {"field": "x", "title": x_title}, {"field": "y", "title": y_title}],
        },
    }
    return x, y, spec


def parallel(rows: list[ExpRow], cols: list[Column], colours: dict[str, str]) -> dict | None:
    """Parallel coordinates of ``rows``: an axis per param that varies and per metric
    (each scaled to its own range, its min and max written at its ends), a line per row."""
    by_id = {column_id(c): c for c in cols}
    params, metrics = axes(rows, cols)
    chosen = [p for p in params if _varies(rows, p, by_id)] + metrics
    if len(chosen) < 2 or len(rows) < 2:
        return None
    keys = {cid: f"k{i}" for i, cid in enumerate(chosen)}
    titles = {keys[cid]: by_id[cid].label for cid in chosen}
    values = []
    for n, r in zip(_labels(rows), rows):  # one line per row
        point: dict[str, Any] = {"experiment": n}
        point.update({keys[cid]: cell(r, cid, by_id) for cid in chosen})
        values.append(point)
    order = [titles[keys[cid]] for cid in chosen]
    names = _labels(rows)
    if len(rows) <= MANY:
        line_colour = {
            "field": "experiment",
            "type": "nominal",
            "scale": {"domain": names, "range": [colour(label(r), colours) for r in rows]},
        }
    else:  # a legend of hundreds says nothing: colour by the first metric
        first = keys[metrics[0]] if metrics else keys[chosen[0]]
        line_colour = {"field": first, "type": "quantitative", "title": titles[first]}
    axis_x = {"field": "axis", "type": "nominal", "sort": order, "title": None}
    return {
        "$schema": SCHEMA,
        "title": "Parallel coordinates",
        "width": max(SIZE, 110 * len(chosen)),
        "height": SIZE,
        "data": {"values": values},
        "transform": [
            {"window": [{"op": "row_number", "as": "line"}]},
            {"fold": list(keys.values()), "as": ["key", "value"]},
            {"filter": "isValid(datum.value)"},
            {"calculate": f"{json.dumps(titles)}[datum.key]", "as": "axis"},
            {
                "joinaggregate": [
                    {"op": "min", "field": "value", "as": "lo"},
                    {"op": "max", "field": "value", "as": "hi"},
                ],
                "groupby": ["key"],
            },
            {"calculate": "datum.hi == datum.lo ? 0.5 : (datum.value - datum.lo) / (datum.hi - datum.lo)", "as": "pos"},
        ],
        "layer": [
            {"mark": {"type": "rule", "color": "#bbb"}, "encoding": {"x": axis_x, "detail": {"aggregate": "count"}}},
            {
                "mark": {"type": "line", "opacity": 0.7, "tooltip": True},
                "encoding": {
                    "x": axis_x,
                    "y": {"field": "pos", "type": "quantitative", "axis": None, "scale": {"domain": [0, 1]}},
                    "detail": {"field": "line", "type": "nominal"},
                    "color": line_colour,
                    "tooltip": [{"field": "experiment"}, {"field": "axis"}, {"field": "value"}],
                },
            },
            {
                "mark": {"type": "text", "dx": 4, "align": "left", "baseline": "top", "color": "#666"},
                "transform": [{"aggregate": [{"op": "max", "field": "hi", "as": "top"}], "groupby": ["axis"]}],
                "encoding": {"x": axis_x, "y": {"value": 0}, "text": {"field": "top", "format": ".4~g"}},
            },
            {
                "mark": {"type": "text", "dx": 4, "align": "left", "baseline": "bottom", "color": "#666"},
                "transform": [{"aggregate": [{"op": "min", "field": "lo", "as": "bottom"}], "groupby": ["axis"]}],
                "encoding": {"x": axis_x, "y": {"value": SIZE}, "text": {"field": "bottom", "format": ".4~g"}},
            },
        ],
        "config": {
            "axisX": {"domain": False, "labelAngle": 0, "ticks": False, "labelPadding": 8},
            "view": {"stroke": None},
        },
    }


def fallback_html(entries: list[dict]) -> str:
    """The panel for a front end that shows HTML only: each chart as static SVG."""
    from ..plots.display import static_svg

    parts = []
    for e in entries:
        title = html.escape(e["title"])
        if e["kind"] == "image":
            figures = "".join(
                f'<figure><img src="{html.escape(i["src"])}" alt="{html.escape(i["rev"])}">'
                f"<figcaption>{html.escape(i['rev'])}</figcaption></figure>"
                for i in e["images"]
            )
            parts.append(f'<div class="jx-plot-images"><b>{title}</b>{figures}</div>')
        elif e["kind"] == "error":
            parts.append(f'<div class="jx-plot-empty">{title}: {html.escape(e["message"])}</div>')
        else:
            svg = static_svg(e["spec"])
            body = svg if svg is not None else f"{title}: too large to draw here, or vl-convert-python is missing."
            parts.append(f'<div class="jx-plot" data-plot="{html.escape(e["id"])}">{body}</div>')
    if not parts:
        return '<div class="jx-plot-empty">No plots, metrics over steps or numeric params to plot.</div>'
    return '<div class="jx-plots">' + "".join(parts) + "</div>"


def render(
    project: Project,
    chosen: list[ExpRow],
    rows: list[ExpRow],
    cols: list[Column],
    x: str | None = None,
    y: str | None = None,
    colours: dict[str, str] | None = None,
    trend: str | None = None,
) -> dict[str, Any]:
    """The panel: DVC's plots of ``chosen`` (else their metrics over checkpoint
    steps), their DVCLive histories over steps that DVC's plots do not draw, the
    metric-vs-param scatter, parallel coordinates, the metric over the table's commits
    (when it shows two or more), and the optimization history and param importances
    of each study with trials among ``chosen``; ``x``/``y`` the scatter's axes as chosen
    (``y`` also the metric over commits), ``trend`` the history shown over steps
    (None: the first; "": every one)."""
    colours = colours or {}
    entries = dvc_plots(project, chosen, colours) or step_plots(chosen, rows, cols, colours)
    metrics, trend, over_steps = _trends(project, chosen, entries, trend, colours)
    entries += over_steps
    x, y, points = scatter(chosen, cols, x, y, colours)
    if points is not None:
        entries.append(_entry("scatter", points["title"], points))
    spread = chosen if len(chosen) > 1 else [r for r in rows if r.kind != "checkpoint" and r.state != "queued"]
    lines = parallel(spread, cols, colours)
    if lines is not None:
        entries.append(_entry("parallel", lines["title"], lines))
    from ..plots.commits import commit_trend

    metric, over = commit_trend(rows, cols, y, colour=lambda name: colour(name, colours))
    if over is not None:
        entries.append(_entry("commits", over["title"], over, metric=metric))
    entries += _studies(project, chosen)
    shown = {"specs": entries, "html": fallback_html(entries), "x": x, "y": y}
    return {**shown, "trend_metrics": metrics, "trend_metric": trend}


def _trends(
    project: Project, chosen: list[ExpRow], shown: list[dict], trend: str | None, colours: dict[str, str]
) -> tuple[list[str], str, list[dict]]:
    """The DVCLive histories of ``chosen`` over steps (:mod:`.history_plots`) that the
    panel does not draw already (a DVC plot of the same file with every experiment's
    line; the checkpoint steps charts): the metrics they offer, the one shown and its
    entries. No history, no entries and no metrics (the panel shows no picker)."""
    from .history_plots import metric_of, revisions_of, step_trends, trend_entries

    if any(e["kind"] == "steps" for e in shown):
        return [], "", []  # checkpoint experiments: their steps charts are their trends
    names = _labels(chosen)
    found = step_trends(project, revisions_of(chosen, names))
    drawn = {e["title"]: set(e.get("revisions", ())) for e in shown if e["kind"] == "template"}
    fresh = tuple(p for p in found.plots if not set(p.revisions) <= drawn.get(p.id, set()) or p.source_errors)
    metrics = [metric_of(p.id) for p in fresh]
    if not metrics:
        return [], "", []
    if trend is None or (trend and trend not in metrics):
        trend = metrics[0]
    by_label = {n: colour(label(r), colours) for n, r in zip(names, chosen)}
    return metrics, trend, trend_entries(project, replace(found, plots=fresh), trend, by_label)


def _studies(project: Project, chosen: list[ExpRow]) -> list[dict]:
    """The optimization history and param importances of each study with trials among ``chosen``."""
    from .history_plots import studies_of, study_entries

    entries = []
    for name in studies_of(project, chosen):
        try:
            entries += study_entries(project, name)
        except JupyterExpError as exc:  # a study removed since the table read its labels
            entries.append(_entry("error", f"Study '{name}'", message=str(exc)))
    return entries
