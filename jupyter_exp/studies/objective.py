"""The number a study optimizes, read from a trial's experiment, and why it is missing."""

from __future__ import annotations

from typing import Any

from ..errors import JupyterExpError
from ..params import parse_params
from ..project import Project
from ..tree import GitTree
from .study import Objective


def read_objective(project: Project, rev: str, objective: Objective) -> tuple[float | None, Any]:
    """The objective's value in experiment commit ``rev`` (a metrics file in git, or an
    output in the cache), or None when it is not there; and the file's data (None: no
    such file, or not one that parses), to say why."""
    blob = project.git.read_blob(rev, objective.file)
    if blob is not None:
        try:
            data = parse_params(blob.decode("utf-8"), objective.file)
        except (JupyterExpError, UnicodeDecodeError):
            return None, None
        return objective.value_in(data), data
    from ..experiments.collect import read_data

    values = read_data(project, GitTree(project.git, rev)).metrics.get(objective.file)
    found: Any = values.data if values is not None else None
    return (objective.value_in(found), found) if found is not None else (None, None)


def missing_objective(objective: Objective, data: Any, experiment: str) -> str:
    """Why ``experiment`` has no value for ``objective`` (``data``: its file's, or None)."""
    if data is None:
        return f"{experiment} has no metrics file {objective.file} (or it does not parse); check the objective FILE:KEY"
    found: Any = data
    for part in objective.key.split("."):
        if not isinstance(found, dict) or part not in found:
            return f"metric '{objective.key}' is not in {objective.file} of {experiment}"
        found = found[part]
    if isinstance(found, dict):
        keys = ", ".join(f"{objective.key}.{k}" for k in list(found)[:4])
        return (
            f"metric '{objective.key}' in {objective.file} of {experiment} is a group, not a number; name one: {keys}"
        )
    return f"metric '{objective.key}' in {objective.file} of {experiment} is {str(found)[:40]!r}, not a number"


def workspace_doubt(project: Project, objective: Objective) -> str | None:
    """Why the workspace's copy of the objective's file has no value for it (a typo in
    KEY, most often), or None: no such file yet, one that does not parse, or one with the
    value. Only a doubt: the runs may write what the workspace's copy lacks."""
    try:
        text = (project.root / objective.file).read_text(encoding="utf-8")
        data = parse_params(text, objective.file)
    except (OSError, UnicodeDecodeError, JupyterExpError):
        return None
    if objective.value_in(data) is not None:
        return None
    return missing_objective(objective, data, "the workspace")
