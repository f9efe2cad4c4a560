"""A study's plots: its optimization history and its param importances (issue 19).

Both are plot records like those of ``plots show`` (:class:`~jupyter_exp.plots.collect.Plot`),
filled by dvc-render from our templates (:mod:`jupyter_exp.plots.charts`), so the notebook
shows them as Vega-Lite (with static fallbacks), ``--json`` gives DVC's shape and ``-o``
DVC's page. A plot that cannot be drawn yet (no complete trial; importances need two) is
kept with its reason, as a revision whose data does not fit a definition is.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..plots.collect import Plot, PlotSet
from ..plots.sources import PlotError
from ..project import Project
from .study import load, trial_infos

HISTORY_ID = "optimization history"
IMPORTANCE_ID = "param importances"


def study_plots(project: Project, name: str) -> PlotSet:
    """The optimization history and param importances of study ``name``.

    Raises:
        UnknownStudyError: no study has that name.
    """
    study, setup = load(project, name)
    infos = [t for t in trial_infos(project, name) if t.state in ("complete", "pruned") and t.value is not None]
    objective = f"{setup.objective.file}:{setup.objective.key}"
    points: list[dict[str, Any]] = []
    best: float | None = None
    better = max if setup.objective.maximize else min
    for t in infos:  # in trial order
        value = float(t.value or 0.0)  # infos have values
        if t.state == "complete":
            best = value if best is None else better(best, value)
        points.append(
            {
                "rev": name,
                "trial": t.number,
                objective: value,
                "best so far": best,
                "state": t.state,
                "experiment": t.experiment,
                **t.params,
            }
        )
    history = _plot(
        HISTORY_ID,
        "optimization_history",
        points,
        name,
        x="trial",
        y=objective,
        title=f"Optimization history of '{name}' ({'maximize' if setup.objective.maximize else 'minimize'})",
        missing="no trial has a value yet",
    )
    complete = sum(1 for t in infos if t.state == "complete")
    importances = _importances(study, complete)
    bars = [{"rev": name, "param": k, "importance": v} for k, v in importances.items()]
    reason = "needs two complete trials" if complete < 2 else "no param varies"
    importance = _plot(
        IMPORTANCE_ID,
        "param_importances",
        bars,
        name,
        x="importance",
        y="param",
        title=f"Param importances of '{name}' for {objective}",
        missing=reason,
    )
    return PlotSet((name,), (history, importance))


def _importances(study: Any, complete: int) -> dict[str, float]:
    """Optuna's ``get_param_importances`` (its default evaluator), or nothing with fewer
    than two complete trials, where it would only say every param matters equally."""
    if complete < 2:
        return {}
    from .study import optuna

    with warnings.catch_warnings():  # "too few trials": the plot says so itself
        warnings.simplefilter("ignore")
        try:
            found = optuna().importance.get_param_importances(study)
        except (RuntimeError, ValueError):  # a space Optuna cannot weigh (one point)
            return {}
    return {str(k): float(v) for k, v in found.items()}


def _plot(pid: str, template: str, points: list[dict], name: str, *, missing: str, **props: str) -> Plot:
    if not points:
        error = PlotError("StudyPlotError", f"study '{name}': {missing}")
        return Plot(pid, "vega", {"template": template, **props}, definition_errors=((name, error),))
    filled: dict[str, Any] = {"template": template, **props, "revs_with_datapoints": [name]}
    return Plot(pid, "vega", filled, datapoints=tuple(points), revisions=(name,))
