"""What is going on in a project right now, for displays that follow it live (the
experiment table in a notebook or in JupyterLab, a notebook's queue status line): the
progress of each running experiment, the queue's counts, the number of workers, and a
cheap stamp that changes whenever any of them, the refs or the workspace files do.

Displays ask here instead of reading ``.dvc/tmp/jupyter_exp/`` themselves: which files
the engine keeps its running state in is the engine's business."""

from __future__ import annotations

import os
from pathlib import Path

from ..project import Project
from ..refs import EXPS_NAMESPACE, HEADS, NOTES_DIR, OWN_NAMESPACE, TAGS
from .checkpoints import DVCLIVE_STEP_FILE, read_progress
from .collect import ExpRow
from .queue import QueueEntry, QueueStore
from .queue_store import STATES as QUEUE_STATES
from .workers import list_workers


def running_progress(project: Project, rows: list[ExpRow], running: set[str] | None = None) -> dict[str, dict]:
    """Progress of each running experiment, by name: the latest checkpoint event
    (step, total, metrics) and, for queued runs, when its worker started it (a display
    counts the elapsed time from there). ``rows`` are the collected rows; the queue is
    read only when one of them is running. ``running``: the names of those rows, if
    known (no pass over 10,000 rows)."""
    if running is None:
        running = {r.name for r in rows if r.state == "running" and r.name}
    progress = {
        e["experiment"]: dict(e) for e in read_progress(project) if e.get("state") == "running" and e.get("experiment")
    }
    if running:
        for entry in QueueStore(project).entries():
            if entry.state == "running" and entry.name in running:
                event = progress.setdefault(
                    entry.name, {"experiment": entry.name, "step": None, "total": None, "metrics": {}}
                )
                event["started"] = entry.started
    return progress


def count_states(entries: list[QueueEntry]) -> dict[str, int]:
    """How many queue entries are in each state (every state present, zero or not)."""
    counts: dict[str, int] = dict.fromkeys(QUEUE_STATES, 0)
    for entry in entries:
        counts[entry.state] = counts.get(entry.state, 0) + 1
    return counts


def queue_counts(project: Project) -> dict[str, int]:
    """The project's queue entries counted by state."""
    return count_states(QueueStore(project).entries())


def worker_count(project: Project) -> int:
    """How many queue workers are alive now."""
    return len(list_workers(project))


def change_stamp(project: Project, files: list[Path]) -> tuple:
    """A fingerprint from file stats alone (no git process) that changes when a ref,
    a queue entry, a progress event, a DVCLive step or one of ``files`` (the workspace
    files ``exp show`` reads: ``show.workspace_files``) changes."""
    stats: list[tuple] = []
    for folder in (project.progress_dir, project.queue_dir):
        try:
            stats.extend((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder))
        except FileNotFoundError:
            pass
    for path in _dvclive_step_files(project):
        try:
            stats.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            pass
    for path in files:
        try:
            st = path.stat()
            stats.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            pass
    # HEAD, packed refs, branches and tags as git stamps them; the experiment and own refs
    # by their folders alone (10,000 experiments share one folder: not listed); the notes'
    # folder too: a note written elsewhere (`jupyter exp note`) shows in the table.
    refs = project.git.refs_stamp(prefixes=(HEADS, TAGS))
    return (refs, project.git.folders_stamp((EXPS_NAMESPACE, OWN_NAMESPACE, NOTES_DIR)), tuple(sorted(stats)))


def _dvclive_step_files(project: Project) -> list[Path]:
    """Where stock DVCLive stages report their steps: the workspace run's and each
    queued or temporary run's (its own ``DVC_ROOT``)."""
    found = [project.tmp_dir.joinpath(*DVCLIVE_STEP_FILE)]
    try:
        with os.scandir(project.exp_runs_dir) as entries:
            runs = [e.path for e in entries if e.name.startswith("run-")]
    except (FileNotFoundError, NotADirectoryError):
        runs = []
    return found + [Project(run).tmp_dir.joinpath(*DVCLIVE_STEP_FILE) for run in runs]
