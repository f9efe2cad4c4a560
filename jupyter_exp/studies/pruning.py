"""What the driver keeps of a trial it prunes: the run's files as it last read them
(recorded as the trial's experiment when the stopped run leaves none), kept beside the
study until the trial is told, so a driver that dies in between leaves them to
``--resume``; and the stop itself."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

from ..errors import JupyterExpError
from ..project import Project
from ..serialize import write_text_atomic


def seen_path(project: Project, entry_id: str) -> Path:
    """Where a pruned run's files, as the driver last read them, wait to be recorded."""
    return project.search_dir / f"pruned-{entry_id}.json"


def write_seen(project: Project, entry_id: str, seen: dict[str, str]) -> None:
    """Keep ``seen`` (path -> text) for entry ``entry_id``'s pruned run."""
    write_text_atomic(seen_path(project, entry_id), json.dumps(seen))


def read_seen(project: Project, entry_id: str) -> dict[str, str]:
    """What :func:`write_seen` kept of a run ({} when nothing was kept)."""
    try:
        seen = json.loads(seen_path(project, entry_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(seen, dict) or not all(isinstance(v, str) for v in seen.values()):
        return {}
    return seen


def histories(live_dir: Path, progress: str) -> dict[str, str]:
    """DVCLive's step histories (``plots/metrics/**/*.tsv`` beside the metrics file) by
    path relative to the run's root, each cut to its complete lines."""
    found: dict[str, str] = {}
    base = posixpath.dirname(progress)
    folder = live_dir / "plots" / "metrics"
    for tsv in sorted(folder.rglob("*.tsv")) if folder.is_dir() else []:
        if tsv.is_symlink():
            continue  # only what the run wrote itself
        try:
            text = tsv.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        rel = tsv.relative_to(live_dir).as_posix()
        found[posixpath.join(base, rel)] = text[: text.rfind("\n") + 1]
    return found


def kill_quietly(project: Project, experiment: str) -> None:
    from ..experiments.queue import kill

    try:
        kill(project, experiment)
    except JupyterExpError:
        pass  # it ended meanwhile: its outcome is told as it is
