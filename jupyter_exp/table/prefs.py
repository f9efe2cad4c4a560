"""The table's preferences on disk: one JSON file per project, shared by every host
(a notebook's widget and JupyterLab's panel show the same sort, filters and stars)."""

from __future__ import annotations

import json
from pathlib import Path

from ..project import Project
from ..serialize import write_text_atomic
from .view import TableState


def prefs_path(project: Project) -> Path:
    """Where the project's table preferences are kept."""
    return project.table_state_file


def load_prefs(project: Project) -> TableState:
    """The saved preferences; the defaults when there are none or they are unreadable."""
    try:
        return TableState.from_json(json.loads(prefs_path(project).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return TableState()


def save_prefs(project: Project, state: TableState) -> None:
    """Save the preferences for the next table of this project."""
    path = prefs_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(state.to_json(), indent=1))
