"""The table's row actions (apply, branch, rename, remove, push, queue again, diff,
compare, plot): each takes what the user chose and calls the api, returning what the table
shows next. One function per action, found through ``ACTIONS``; none of them touches
the table's state itself, so any host drives them the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import JupyterExpError
from ..experiments.collect import ExpRow
from ..experiments.show import Column
from ..project import Project
from . import plots, view
from .filters import PRECISION

SINGLE_ROW = ("apply", "branch", "rename", "requeue")
NEEDS_RESULT = ("apply", "branch", "rename", "push")  # refused on a row still running


@dataclass(frozen=True)
class Request:
    """One action as the user asked for it, with the rows it names."""

    action: str
    keys: list[str]
    chosen: list[ExpRow]
    arg: Any
    confirmed: bool
    project: Project
    rows: list[ExpRow]  # every row of the table
    cols: list[Column]
    state: view.TableState

    @property
    def root(self) -> str:
        return str(self.project.root)

    @property
    def shown(self) -> str:
        """The chosen rows as the user reads them."""
        return ", ".join(r.name or r.rev[:7] for r in self.chosen)

    @property
    def names(self) -> list[str]:
        """The chosen experiments as the api takes them."""
        return [_exp_name(r, self.action) for r in self.chosen]


@dataclass(frozen=True)
class Outcome:
    """What the table shows after an action. ``pending`` is a question to ask before
    the action runs; ``panel`` None leaves the panel as it is."""

    message: str = ""
    pending: dict = field(default_factory=dict)
    panel: dict | None = None
    refresh: bool = False  # collect the rows again (the repository changed)
    deselect: tuple[str, ...] = ()
    state: view.TableState | None = None  # new preferences (plot colours)


def _exp_name(row: ExpRow, action: str) -> str:
    if row.kind == "checkpoint":
        return row.rev
    if row.kind != "experiment":
        raise JupyterExpError(f"{action.capitalize()} works on experiments; pick an experiment row.")
    return row.name or row.rev


def _rev_spec(row: ExpRow) -> str | None:
    if row.kind == "workspace":
        return "workspace"
    return row.name if row.kind == "experiment" and row.name else row.rev


def apply(req: Request) -> Outcome:
    from ..api import experiments as api

    applied = api.apply(req.names[0], root=req.root, echo=lambda _text: None)
    if applied.saved:  # said as the shell says it: where the unsaved work went, and the way back
        return Outcome(
            f"Applied '{req.shown}' to the workspace; your previous workspace was saved as "
            f"'{applied.saved}'; bring it back with: {applied.restore_command}",
            refresh=True,
        )
    return Outcome(f"Applied '{req.shown}' to the workspace.", refresh=True)


def branch(req: Request) -> Outcome:
    from ..api import experiments as api

    if not req.arg:
        return Outcome(
            pending={
                "action": "branch",
                "keys": req.keys,
                "prompt": f"Branch name for '{req.shown}':",
                "input": True,
                "value": "",
            }
        )
    api.branch(req.names[0], str(req.arg), root=req.root)
    return Outcome(f"Created branch '{req.arg}' from '{req.shown}'.", refresh=True)


def rename(req: Request) -> Outcome:
    from ..api import experiments as api

    if not req.arg:
        return Outcome(
            pending={
                "action": "rename",
                "keys": req.keys,
                "prompt": f"New name for '{req.shown}':",
                "input": True,
                "value": "",
            }
        )
    api.rename(req.names[0], str(req.arg), root=req.root)
    return Outcome(f"Renamed '{req.shown}' to '{req.arg}'.", refresh=True)


def remove(req: Request) -> Outcome:
    from ..api import experiments as api

    if not req.confirmed:
        return Outcome(
            pending={
                "action": "remove",
                "keys": req.keys,
                "input": False,
                "prompt": f"Remove {len(req.chosen)} experiment(s): {req.shown}?",
            }
        )
    removed = api.remove(req.names, root=req.root)
    return Outcome(f"Removed {', '.join(removed)}.", refresh=True, deselect=tuple(req.keys))


def push(req: Request) -> Outcome:
    from ..api import sharing as api

    remote = req.arg or _default_remote(req.project)
    if not remote:
        return Outcome(
            pending={"action": "push", "keys": req.keys, "prompt": "Push to git remote:", "input": True, "value": ""}
        )
    pushed = api.push(str(remote), req.names, root=req.root)
    return Outcome(f"Pushed {', '.join(pushed) or 'nothing new'} to {remote}.", refresh=True)


def _default_remote(project: Project) -> str | None:
    """``origin``, or the only git remote there is; None asks the user."""
    remotes = project.git.remotes()
    return "origin" if "origin" in remotes else (remotes[0] if len(remotes) == 1 else None)


def requeue(req: Request) -> Outcome:
    from ..api import queue as queues

    (row,) = req.chosen
    if not isinstance(req.arg, dict):
        return Outcome(
            pending={
                "action": "requeue",
                "keys": req.keys,
                "input": False,
                "prompt": f"Queue '{req.shown}' again with these params:",
                "params": view.param_fields(row, req.cols),
            }
        )
    overrides = view.requeue_overrides(row, req.rows, req.cols, req.arg)
    (entry, *_) = queues.queue(set_params=overrides or None, root=req.root)
    return Outcome(
        f"Queued '{entry.name}' ({len(overrides)} param(s) set); run it with `%exp queue start`.", refresh=True
    )


def diff(req: Request) -> Outcome:
    from ..api import experiments as api
    from ..display import ExpDiffView

    if len(req.chosen) > 2:
        raise JupyterExpError("Diff compares two rows; select one or two.")
    specs = [_rev_spec(r) for r in req.chosen]
    result = api.diff(*specs, root=req.root)
    return Outcome(
        panel={
            "kind": "diff",
            "title": f"Diff {result.a_name} → {result.b_name}",
            "html": ExpDiffView(result)._repr_html_() or "<p>No changes.</p>",
        }
    )


def compare(req: Request) -> Outcome:
    """The params and metrics that differ among the selected rows, each with its
    difference from the reference row (``arg``: its key; default the first selected).

    The panel: ``columns`` (``name``, then per row a ``value`` column and, but for the
    reference, a ``delta`` column), ``rows`` (``id`` as ``show()``'s columns, ``cells``
    as shown, ``values`` native, one per column), ``reference`` (its key) and ``html``."""
    from ..experiments.comparison import compare_data
    from ..render.text import format_value

    if len(req.chosen) < 2:
        raise JupyterExpError("Compare takes two rows or more; select them.")
    reference = str(req.arg) if req.arg else req.keys[0]
    if reference not in req.keys:
        raise JupyterExpError("The reference row must be one of the selected rows; pick one of them.")
    names = plots._labels(req.chosen)
    result = compare_data(names, [r.data for r in req.chosen], req.keys.index(reference))
    columns: list[dict] = [{"id": "name", "label": "Param / metric", "kind": "name"}]
    order = [result.reference] + [i for i in range(len(names)) if i != result.reference]
    for index in order:
        key, name = req.keys[index], names[index]
        columns.append({"id": key, "label": name, "kind": "value", "reference": index == result.reference})
        if index != result.reference:
            columns.append({"id": f"delta:{key}", "label": f"Δ {name}", "kind": "delta", "of": key})
    rows = []
    for row in result.rows:
        digits = PRECISION if row.group == "metrics" else None
        cells: list[str] = [row.label]
        values: list[Any] = [row.label]
        for index in order:
            values.append(row.values[index])
            cells.append(format_value(row.values[index], digits))
            if index != result.reference:
                values.append(row.deltas[index])
                cells.append(format_value(row.deltas[index], PRECISION))
        rows.append(
            {"id": row.column, "group": row.group, "file": row.path, "key": row.key, "cells": cells, "values": values}
        )
    return Outcome(
        panel={
            "kind": "compare",
            "title": f"Compare {req.shown} (reference {names[result.reference]})",
            "columns": columns,
            "rows": rows,
            "reference": reference,
            "keys": req.keys,
            "html": result._repr_html_(),
        }
    )


def plot(req: Request) -> Outcome:
    # arg: [x, y] the scatter's axes, or [x, y, trend] with the history over steps ("": every one)
    arg = req.arg if isinstance(req.arg, list) and len(req.arg) in (2, 3) else [None, None]
    x, y = (a if isinstance(a, str) else None for a in arg[:2])
    trend = arg[2] if len(arg) == 3 and isinstance(arg[2], str) else None
    known = dict(req.state.colours)
    colours = plots.assign_colours(known, [plots.label(r) for r in req.chosen])
    from ..plots.commits import trend_experiments  # the trend over commits draws these too: each its own colour

    colours = plots.assign_colours(colours, trend_experiments(req.rows))
    state = None
    if colours != known:  # a newly plotted experiment keeps its colour from now on
        state = replace(req.state, colours=tuple(colours.items()))
    shown = plots.render(req.project, req.chosen, req.rows, req.cols, x, y, colours, trend)
    params, metrics = plots.axes(req.chosen, req.cols)
    return Outcome(
        state=state,
        panel={
            "kind": "vega",
            "title": "Plots of " + req.shown,
            "specs": shown["specs"],
            "html": shown["html"],
            "keys": req.keys,
            "x": shown["x"],
            "y": shown["y"],
            "params": params,
            "metrics": metrics,
            "trend_metrics": shown["trend_metrics"],
            "trend_metric": shown["trend_metric"],
        },
    )


ACTIONS: dict[str, Callable[[Request], Outcome]] = {
    "apply": apply,
    "branch": branch,
    "rename": rename,
    "remove": remove,
    "push": push,
    "requeue": requeue,
    "diff": diff,
    "compare": compare,
    "plot": plot,
}


def check(action: str, keys: list[str]) -> Callable[[Request], Outcome]:
    """The action's function, after refusing an unknown action or an empty selection."""
    if action not in ACTIONS:
        raise JupyterExpError(f"Unknown action '{action}'.")
    if not keys:
        raise JupyterExpError(f"Select a row to {action}.")
    return ACTIONS[action]


def check_rows(req: Request) -> None:
    """Refuse a selection the action cannot take (several rows where it takes one, a
    row that is not an experiment)."""
    if req.action in SINGLE_ROW and len(req.chosen) != 1:
        raise JupyterExpError(f"{req.action.capitalize()} takes one experiment; select one row.")
    running = next((r for r in req.chosen if r.state == "running"), None)
    if req.action in NEEDS_RESULT and running is not None:
        raise JupyterExpError(f"'{running.name}' is still running; {req.action} it once it has finished.")
    if req.action not in ("diff", "compare", "plot"):
        req.names  # noqa: B018 - raises on a row that is not an experiment
