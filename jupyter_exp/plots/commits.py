"""Trends over commits: a metric across the baseline commits of the table (the rows
``exp show -n N`` / ``-A`` collect), one point per commit, oldest first, and the
experiments of each commit as points at their commit, each in the experiment's own
colour (the table passes its stable colours, so a point here matches that experiment's
lines in the other plots and its row's swatch) (issue 16).

x is the commit time when every commit has its own second, else the commit order
(commits made within one second would sit on one another); the experiments of a
commit then sit at its place. Distinct from :func:`jupyter_exp.plots_trends`'s
default meaning (each metric over the steps of experiments): this is its
``kind="commits"``, and the table's Plot panel entry of kind ``commits``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import JupyterExpError
from ..experiments.records import ExpRow
from ..experiments.show import Column, value

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
SIZE = 300
# A neutral line for the commits: every palette colour may be an experiment's.
COMMIT_COLOUR = "#666666"
MANY = 20  # past this many experiments, no legend (a legend of hundreds says nothing)
PAD = 12  # pixels between the axes and the outermost points: none drawn on an axis


class TrendError(JupyterExpError):
    """A trend over commits that cannot be drawn (an unknown metric, a bad kind)."""


def _number(row: ExpRow, col: Column) -> float | None:
    v = value(row, col)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def trend_metrics(rows: list[ExpRow], cols: list[Column]) -> list[Column]:
    """The metric columns with a number at two or more baseline commits: those a trend can show."""
    baselines = [r for r in rows if r.kind == "baseline"]
    return [c for c in cols if c.group == "metrics" and sum(_number(r, c) is not None for r in baselines) > 1]


def trend_experiments(rows: list[ExpRow]) -> list[str]:
    """The names of the experiments a trend over the commits among ``rows`` can draw (those
    of its baseline commits, when there are two or more), each once, in the rows' order;
    none past ``MANY`` (the table gives colours to that many at most, see ``commit_trend``)."""
    baselines = {r.rev for r in rows if r.kind == "baseline"}
    if len(baselines) < 2:
        return []
    names = list(dict.fromkeys(r.name or r.rev[:7] for r in rows if r.kind == "experiment" and r.baseline in baselines))
    return names if len(names) <= MANY else []


def _find(metrics: list[Column], metric: str | None) -> Column | None:
    """The chosen metric among ``metrics``: by the table's column id (``metrics.<label>``),
    its label (``file:key`` when the key is in several files) or its key."""
    for col in metrics:
        if metric in (f"metrics.{col.label}", col.label, col.key):
            return col
    return None


def commit_trend(
    rows: list[ExpRow],
    cols: list[Column],
    metric: str | None = None,
    experiments: bool = True,
    strict: bool = False,
    colour: Callable[[str], str] | None = None,
) -> tuple[str | None, dict | None]:
    """``metric`` (default: the first metric with numbers at two commits) over the
    baseline commits among ``rows``: the metric's label and the Vega-Lite spec, or
    ``(None, None)`` when fewer than two commits have a number for any metric.

    ``experiments``: also each commit's experiments as points; ``strict``: an unknown
    ``metric`` raises instead of falling back to the first; ``colour``: an experiment's
    colour by its name (the table's stable colours), else Vega's scheme colours them.

    Raises:
        TrendError: ``strict`` and ``metric`` is not a metric with numbers at two commits.
    """
    metrics = trend_metrics(rows, cols)
    col = _find(metrics, metric) if metric is not None else None
    if col is None and metric is not None and strict and metrics:  # none at all: the caller says so
        known = ", ".join(c.label for c in metrics)
        raise TrendError(f"No metric '{metric}' with values at two or more commits; choose one of: {known}.")
    col = col or (metrics[0] if metrics else None)
    if col is None:
        return None, None
    # exp show lists commits newest first: reversed, a stable sort keeps commits of one second in order.
    commits = sorted(reversed([r for r in rows if r.kind == "baseline"]), key=lambda r: r.created or 0)
    by_time = len({r.created for r in commits}) == len(commits) and all(r.created for r in commits)
    place = {r.rev: i + 1 for i, r in enumerate(commits)}
    points: list[dict[str, Any]] = []
    for r in commits:
        if (v := _number(r, col)) is not None:
            points.append(_point(r, v, "commit", place[r.rev], r.rev[:7]))
    if experiments:
        for r in rows:
            if r.kind == "experiment" and r.baseline in place and (v := _number(r, col)) is not None:
                points.append(_point(r, v, "experiment", place[r.baseline], r.baseline[:7]))
    x: dict[str, Any] = (
        {"field": "time", "type": "temporal", "title": "commit time", "scale": {"padding": PAD}}
        if by_time
        else {
            "field": "order",
            "type": "quantitative",
            "title": "commit",
            "axis": {"tickMinStep": 1, "format": "d"},
            "scale": {"padding": PAD},
        }
    )
    y = {"field": "value", "type": "quantitative", "title": col.label, "scale": _y_scale([p["value"] for p in points])}
    tooltip = [
        {"field": "name", "title": "row"},
        {"field": "commit"},
        {"field": "time", "type": "temporal", "format": "%Y-%m-%d %H:%M"},
        {"field": "value", "title": col.label},
    ]
    layers: list[dict] = [
        {
            "transform": [{"filter": "datum.kind === 'commit'"}],
            "params": [{"name": "grid", "select": "interval", "bind": "scales"}],  # zoom: in one layer only
            "mark": {
                "type": "line",
                "point": {"filled": True, "size": 60, "color": COMMIT_COLOUR},
                "color": COMMIT_COLOUR,
            },
            "encoding": {"x": x, "y": y, "tooltip": tooltip},
        }
    ]
    names = list(dict.fromkeys(p["name"] for p in points if p["kind"] == "experiment"))
    if names:
        layers.append(
            {
                "transform": [{"filter": "datum.kind === 'experiment'"}],
                "mark": {"type": "point", "filled": True, "opacity": 0.8, "size": 50},
                "encoding": {"x": x, "y": y, "tooltip": tooltip, "color": _colours(names, colour)},
            }
        )
    spec = {
        "$schema": SCHEMA,
        "title": f"{col.label} over commits",
        "width": max(SIZE, 40 * len(commits)),
        "height": SIZE,
        "data": {"values": points},
        "layer": layers,
    }
    return col.label, spec


def _colours(names: list[str], colour: Callable[[str], str] | None) -> dict[str, Any]:
    """The experiments' colour encoding: each name in ``colour(name)`` when given."""
    encoding: dict[str, Any] = {"field": "name", "type": "nominal", "title": "experiment"}
    if colour is not None:
        encoding["scale"] = {"domain": names, "range": [colour(n) for n in names]}
    if len(names) > MANY:
        encoding["legend"] = None
    return encoding


def _y_scale(values: list[float]) -> dict:
    """A margin around ``values`` (no point on an axis), never crossing zero when they do
    not (no negative axis for a metric that cannot be negative), rounded to nice ticks."""
    lo, hi = min(values), max(values)
    margin = (hi - lo) * 0.08 or abs(hi) * 0.08 or 1.0
    low = max(lo - margin, 0.0) if lo >= 0 else lo - margin
    high = min(hi + margin, 0.0) if hi <= 0 else hi + margin
    return {"domain": [low, high], "nice": True, "zero": False}


def _point(row: ExpRow, v: float, kind: str, order: int, commit: str) -> dict[str, Any]:
    """One point: a commit (at its time and place) or an experiment (at its creation time, at its commit's place)."""
    name = row.name or row.rev[:7]
    return {"kind": kind, "name": name, "commit": commit, "time": (row.created or 0) * 1000, "order": order, "value": v}


class CommitsView:
    """What ``plots_trends(kind="commits")`` returns: ``metric`` (its label), ``spec``
    (the Vega-Lite spec), ``specs`` (by title, as a ``PlotsView``'s), and in a notebook
    the chart as Vega-Lite with HTML and PNG fallbacks."""

    def __init__(self, metric: str, spec: dict) -> None:
        self.metric = metric
        self.spec = spec
        self.specs = {spec["title"]: spec}

    @property
    def points(self) -> list[dict[str, Any]]:
        """The plotted rows: ``kind`` (commit or experiment), ``name``, ``commit``, ``time`` (ms), ``value``."""
        return list(self.spec["data"]["values"])

    def __str__(self) -> str:
        commits = [p for p in self.points if p["kind"] == "commit"]
        return f"{self.spec['title']}: {len(commits)} commits, {len(self.points) - len(commits)} experiments"

    __repr__ = __str__

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        from .display import vega_bundle

        return vega_bundle(self.spec["title"], self.spec, str(self))
