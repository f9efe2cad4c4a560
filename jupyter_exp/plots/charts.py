"""Our own Vega-Lite templates, for plots DVC has no template for: a study's
optimization history and its param importances (issue 19).

They are dvc-render templates like DVC's (``<DVC_METRIC_DATA>``, ``<DVC_METRIC_X>``,
``<DVC_METRIC_Y>``, title and label anchors), so a plot using one is filled, written to
DVC's ``--json`` and to its HTML page by the same code as ``plots show``. A file of the
same name in ``.dvc/plots/`` wins, as it does over DVC's built-in templates.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
_TITLE = {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}
_X = {"field": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LABEL>"}

# Each trial's objective as a point (hover: its experiment and params; a pruned trial's
# is its last reported value), and the best value of the complete trials so far as a
# step line, as Optuna's plot_optimization_history draws them.
HISTORY: dict[str, Any] = {
    "$schema": SCHEMA,
    "data": {"values": "<DVC_METRIC_DATA>"},
    "title": _TITLE,
    "width": 300,
    "height": 300,
    # Whole trial numbers only (Vega's tickMinStep is not honoured by every renderer).
    "encoding": {"x": {**_X, "axis": {"labelExpr": "datum.value % 1 ? '' : format(datum.value, 'd')"}}},
    "layer": [
        {
            "mark": {"type": "line", "interpolate": "step-after"},
            "encoding": {
                "y": {"field": "best so far", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"},
                "color": {"datum": "best so far", "type": "nominal", "title": None},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 50, "tooltip": {"content": "data"}},
            "encoding": {
                "y": {"field": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"},
                "color": {"field": "state", "type": "nominal", "title": None},
            },
        },
    ],
}

# One bar per param, longest first, from 0 (an importance is a share of the whole).
IMPORTANCES: dict[str, Any] = {
    "$schema": SCHEMA,
    "data": {"values": "<DVC_METRIC_DATA>"},
    "title": _TITLE,
    "width": 300,
    "height": {"step": 24},
    "mark": {"type": "bar", "tooltip": True},
    "encoding": {
        "x": {**_X, "scale": {"domain": [0, 1]}},
        "y": {"field": "<DVC_METRIC_Y>", "type": "nominal", "title": "<DVC_METRIC_Y_LABEL>", "sort": "-x"},
    },
}

CHART_TEMPLATES: dict[str, dict[str, Any]] = {
    "optimization_history": HISTORY,
    "param_importances": IMPORTANCES,
}
