"""The plots a project defines, as the sidebar's Plots section lists them to choose
which the Experiments tab's plots view shows: DVC's plots of the workspace (``plots:``
in dvc.yaml, top-level or per stage; DVCLive's), with the ids the table's Plot panel
gives them (``template:<id>``, ``image:<id>``). Read-only; no lock.
"""

from __future__ import annotations

from typing import Any

from ..plots.collect import WORKSPACE, Revision, collect_plots
from ..project import Project


def plots(project: Project) -> dict[str, Any]:
    """``{"plots": [{"id", "title", "kind"}], "errors": [one line per revision]}``."""
    found = collect_plots(project, [Revision(WORKSPACE)])
    listed = [
        {"id": f"{'image' if p.kind == 'image' else 'template'}:{p.id}", "title": p.id, "kind": p.kind}
        for p in found.plots
    ]
    errors = [
        f"{label}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        for label, error in found.errors
    ]
    return {"plots": listed, "errors": errors}
