"""The plots a project offers, as the sidebar's Plots section lists them to choose
which the Experiments tab's plots view shows, and the ones it draws on request.

- DVC's plots of the workspace (``plots:`` in dvc.yaml, top-level or per stage;
  DVCLive's), with the ids the table's Plot panel gives them (``template:<id>``,
  ``image:<id>``): the panel draws them itself;
- trends over steps (``trend:steps``: each DVCLive history over the steps of the
  plotted experiments, the metrics it can show listed for a picker) and each Optuna
  study's optimization history and param importances (``study:<name>:history``,
  ``study:<name>:importances``): not in the panel, drawn by :func:`draw` when chosen.

Read-only; no lock. Optuna is imported only when the project has a study file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import JupyterExpError
from ..plots.collect import WORKSPACE, Revision, collect_plots
from ..project import Project
from ..table.history_plots import LIVE_DIR, STUDY_PLOTS

STEPS = "trend:steps"
_HEX = re.compile(r"[0-9a-f]{4,40}")
MAX_REVISIONS = 200  # one trend request draws at most this many experiments


class PlotRequestError(JupyterExpError):
    """A plot the sidebar asked for that cannot be named or drawn as asked."""


def plots(project: Project) -> dict[str, Any]:
    """``{"plots": [{"id", "title", "kind"}], "trends": [{"id", "title", "metrics"}],
    "studies": [{"id", "title", "study"}], "errors": [one line per revision]}``."""
    found = collect_plots(project, [Revision(WORKSPACE)])
    listed = [
        {"id": f"{'image' if p.kind == 'image' else 'template'}:{p.id}", "title": p.id, "kind": p.kind}
        for p in found.plots
    ]
    errors = [
        f"{label}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        for label, error in found.errors
    ]
    trends = [{"id": STEPS, "title": "Metrics over steps (DVCLive)", "metrics": _live_metrics(project)}]
    studies = [
        {"id": f"study:{name}:{part}", "title": f"{name}: {title}", "study": name}
        for name in _studies(project)
        for part, title in STUDY_PLOTS.items()
    ]
    return {"plots": listed, "trends": trends, "studies": studies, "errors": errors}


def _live_metrics(project: Project) -> list[str]:
    """The metrics DVCLive keeps a history of in the workspace (``train/loss``), for the picker."""
    folder = project.root / LIVE_DIR / "plots" / "metrics"
    if not folder.is_dir():
        return []
    return sorted(str(p.relative_to(folder).with_suffix("").as_posix()) for p in folder.rglob("*.tsv") if p.is_file())


def _studies(project: Project) -> list[str]:
    from ..studies.study import STUDY_FILE, study_names

    return study_names(project) if (project.search_dir / STUDY_FILE).is_file() else []


def draw(project: Project, plot_id: str, revisions: str = "[]", metric: str | None = None) -> dict[str, Any]:
    """The panel entries (``{"id", "kind", "title", "spec"}``, or ``"message"`` for a plot
    that cannot be drawn yet) of one chosen plot: ``trend:steps`` for ``revisions``
    (a JSON list of ``label=rev`` pairs: ``e1=1a2b3c4``, ``workspace``), in the experiments' table
    colours, only ``metric``'s history when given; or a study's plot.

    Raises:
        PlotRequestError: an unknown plot id or a malformed revision.
        UnknownStudyError: no study has that name.
    """
    if plot_id == STEPS:
        return {"specs": _steps(project, _known(project, _revisions(revisions)), metric)}
    parts = plot_id.split(":")
    if len(parts) == 3 and parts[0] == "study" and parts[2] in STUDY_PLOTS:
        return {"specs": _study(project, parts[1], parts[2])}
    raise PlotRequestError(f"Unknown plot '{plot_id}'; ask for {STEPS} or study:<name>:history|importances.")


def _revisions(text: str) -> list[Revision]:
    """A JSON list of ``label=rev`` pairs as revisions, each rev a commit id (the table's rows give them)."""
    try:
        pairs = json.loads(text) if len(text) <= 300 * MAX_REVISIONS else None
    except (ValueError, RecursionError):  # (a deeply nested list is no list of pairs either)
        pairs = None
    if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
        raise PlotRequestError('revisions must be a JSON list of "label=<commit id>" strings.')
    if len(pairs) > MAX_REVISIONS:
        raise PlotRequestError(f"At most {MAX_REVISIONS} experiments in one trend; plot fewer.")
    found = []
    for pair in pairs:
        label, _, rev = pair.partition("=")
        if label == WORKSPACE and not rev:
            found.append(Revision(WORKSPACE))
        elif label and len(label) <= 200 and _HEX.fullmatch(rev):
            found.append(Revision(label, rev))
        else:
            raise PlotRequestError(f"Bad revision '{pair[:80]}'; give label=<commit id> or workspace.")
    return found


def _known(project: Project, revisions: list[Revision]) -> list[Revision]:
    """``revisions``, each a commit of this project.

    Raises:
        PlotRequestError: a commit id names no commit here (or several).
    """
    asked = [r.rev for r in revisions if r.rev is not None]
    found = {sha for sha, _ in project.git.commit_messages(asked)}
    for r in revisions:
        if r.rev is not None and not any(sha.startswith(r.rev) for sha in found):
            raise PlotRequestError(
                f"Commit id {r.rev} names no single commit of this project (for '{r.label[:80]}'); refresh the table."
            )
    return revisions


def _steps(project: Project, revisions: list[Revision], metric: str | None) -> list[dict[str, Any]]:
    """Each DVCLive history over the steps of ``revisions``, in their table colours."""
    from ..table.history_plots import step_trends, trend_entries
    from ..table.plots import colour
    from ..table.prefs import load_prefs

    kept = dict(load_prefs(project).colours)
    colours = {r.label: colour(r.label, kept) for r in revisions}
    return trend_entries(project, step_trends(project, revisions), metric, colours)


def _study(project: Project, name: str, part: str) -> list[dict[str, Any]]:
    from ..table.history_plots import study_entries

    return study_entries(project, name, (part,))
