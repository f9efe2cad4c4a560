"""Checkpoint experiments: one commit per step on the experiment's ref, a chain of
first parents back to the baseline, so every step can be applied, branched, resumed.

The chain is extended as the stage signals (``make_checkpoint``): outputs cached and
the lock entry written first, then the commit, then the ref moves with a
compare-and-swap. A killed run keeps every step it committed. What the workspace last
ran is remembered in ``.dvc/tmp/jupyter_exp/checkpoint.json``, so that the next
``exp run`` resumes it; progress of every running checkpoint experiment is published
in ``.dvc/tmp/jupyter_exp/progress/<name>.json`` for displays in other processes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import faults
from ..git import ref_update
from ..notices import warn
from ..pipeline.results import Echo
from ..pipeline.stage import Stage
from ..processes import alive
from ..project import Project
from ..refs import ExpRef
from ..serialize import write_text_atomic
from .catalog import list_experiments
from .history import first_parents
from .queue_store import QueueStore
from .snapshot import ZERO, experiment_message, pipeline_files, run_files, snapshot_tree

Progress = Callable[[dict], None]


@dataclass
class WorkspaceCheckpoint:
    """What the workspace's last checkpoint experiment was, for resuming it."""

    name: str
    baseline: str
    tip: str
    step: int
    state: str  # running | interrupted | success
    total: int | None = None


def load_workspace_state(project: Project) -> WorkspaceCheckpoint | None:
    """The workspace's last checkpoint experiment; None (with a warning) if its record
    is damaged: the next run then starts a new experiment instead of resuming."""
    path = project.checkpoint_state_file
    try:
        state = WorkspaceCheckpoint(**json.loads(path.read_text()))
        if not (isinstance(state.name, str) and isinstance(state.tip, str) and isinstance(state.step, int)):
            raise TypeError(state)
        return state
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        warn(f"ignoring the damaged {project.relpath(path)}; the next checkpoint run starts afresh.")
        return None


def save_workspace_state(project: Project, state: WorkspaceCheckpoint | None) -> None:
    path = project.checkpoint_state_file
    if state is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(asdict(state)))


def publish_progress(project: Project, event: dict) -> None:
    """Write an experiment's latest progress where other processes (widgets) read it."""
    folder = project.progress_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{event['experiment']}.json"
    write_text_atomic(target, json.dumps(dict(event, pid=os.getpid())))


def clear_progress(project: Project, name: str) -> None:
    (project.progress_dir / f"{name}.json").unlink(missing_ok=True)


def read_progress(project: Project) -> list[dict]:
    """The latest progress event of every checkpoint experiment that published one."""
    folder = project.progress_dir
    events = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            event = json.loads(path.read_text())
        except FileNotFoundError:
            continue  # its run ended while we listed the folder
        except (OSError, ValueError):
            event = None
        if not (
            isinstance(event, dict)
            and isinstance(event.get("experiment"), str)
            and isinstance(event.get("pid", 0), (int, type(None)))
        ):
            warn(f"skipping the damaged progress file {project.relpath(path)}; delete it.")
            continue
        if event.get("state") == "running" and event.get("pid") and not alive(event["pid"]):
            event["state"] = "interrupted"  # its engine was killed before it could say so
        events.append(event)
    return _with_dvclive_steps(project, events)


DVCLIVE_STEP_FILE = ("exps", "run", "DVCLIVE_STEP_COMPLETED")


def _dvclive_step(root_tmp: Path) -> int | None:
    """Steps done by a stock DVCLive stage, from the signal file it writes under
    ``$DVC_ROOT/.dvc/tmp/exps/run/`` (0-based step of the last one completed)."""
    try:
        signal = json.loads(root_tmp.joinpath(*DVCLIVE_STEP_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(signal, dict) or not isinstance(signal.get("step"), int):
        return None
    if isinstance(signal.get("pid"), int) and not alive(signal["pid"]):
        return None  # left by a stage that is gone
    return signal["step"] + 1


def _with_dvclive_steps(project: Project, events: list[dict]) -> list[dict]:
    """Progress of stages that log with stock DVCLive: a workspace run's step goes into
    its running event; each queued or temporary run (a run directory, whose
    ``DVC_ROOT`` it is) gets an event of its own."""
    step = _dvclive_step(project.tmp_dir)
    if step is not None:
        for event in events:
            if event.get("state") == "running" and not event.get("rev"):
                event["step"] = step
    runs = {
        entry_id: Project(run_dir).tmp_dir
        for entry_id, run_dir in project.exp_run_dirs().items()
        if Project(run_dir).tmp_dir.joinpath(*DVCLIVE_STEP_FILE).exists()
    }
    if runs:
        store = QueueStore(project)
        for entry_id, run_tmp in runs.items():
            step = _dvclive_step(run_tmp)
            entry = store.get(entry_id) if step is not None else None
            if entry is not None and entry.state == "running":
                events.append(
                    {
                        "experiment": entry.name,
                        "step": step,
                        "total": None,
                        "metrics": {},
                        "state": "running",
                        "baseline": entry.baseline,
                    }
                )
    return events


# -- where a run resumes ---------------------------------------------------------------
@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint the workspace's checkpoint outputs come from: experiment ``name``'s
    commit ``rev``, ``count`` commits from the baseline; ``tip`` whether it is the tip."""

    name: str
    rev: str
    count: int
    tip: bool


def _checkpoint_outs(stages: list[Stage], lock_text: bytes | str | None) -> dict | None:
    """The ``outs`` lock entries of the stages with checkpoint outputs (None: no lock)."""
    from ..serialize import parse_yaml

    if lock_text is None:
        return None
    try:
        lock = parse_yaml(lock_text if isinstance(lock_text, str) else lock_text.decode("utf-8"), "dvc.lock")
        entries = lock.get("stages") or {}
        found = {s.name: entries[s.name].get("outs") for s in stages if s.name in entries}
    except Exception:  # a damaged lock names no checkpoint: nothing to resume from
        return None
    return found if any(found.values()) else None


def restore_checkpoint_outs(project: Project, stages: Sequence[Stage], rev: str) -> list[str]:
    """Make the workspace's checkpoint outputs what checkpoint ``rev`` recorded, from
    the cache, where they differ: after a run killed while its stage wrote one (a
    half-written ``model.json``), the next resumes from the committed step, not from the
    torn file. The paths restored (none when the workspace already holds them)."""
    from ..pipeline.cache import open_cache
    from ..pipeline.hashing import HashInfo

    stages = [s for s in stages if s.has_checkpoint and s.dvcfile == "dvc.yaml"]
    outs = _checkpoint_outs(stages, project.git.read_blob(rev, "dvc.lock")) or {}
    checkpointed = {o.path for s in stages for o in s.outs if o.checkpoint}
    cache = open_cache(project)
    restored = []
    for entries in outs.values():
        for entry in entries or []:
            path = entry.get("path") if isinstance(entry, dict) else None
            if path not in checkpointed:
                continue
            info = HashInfo.from_entry(entry, f"dvc.lock at {rev[:7]}")
            target = project.resolve(path, where="dvc.lock", output=True)
            if cache.has_all(info) and cache.checkout(target, info, copy=True):
                restored.append(path)
    return restored


def find_resume_point(
    project: Project, baseline: str, stages: Sequence[Stage], state: WorkspaceCheckpoint | None
) -> ResumePoint | None:
    """The checkpoint whose ``dvc.lock`` outputs the workspace's ``dvc.lock`` holds (DVC 2:
    ``exp apply`` of a step, then ``exp run``, goes on from that step), looked for in the
    workspace's last checkpoint experiment first, then in every experiment of
    ``baseline``, each newest first. None when no commit matches."""
    stages = [s for s in stages if s.has_checkpoint and s.dvcfile == "dvc.yaml"]
    lock_path = project.root / "dvc.lock"
    wanted = _checkpoint_outs(stages, lock_path.read_text(encoding="utf-8")) if lock_path.exists() else None
    if wanted is None:
        return None
    git = project.git
    tips = {e.name: e.rev for e in list_experiments(project) if e.baseline == baseline}
    order = sorted(tips, key=lambda n: (state is None or n != state.name, n))
    for name in order:
        chain = first_parents(project, tips[name], baseline)
        for index, rev in enumerate(chain):
            if _checkpoint_outs(stages, git.read_blob(rev, "dvc.lock")) == wanted:
                return ResumePoint(name, rev, len(chain) - index, index == 0)
    return None


@dataclass
class CheckpointChain:
    """Appends a commit per checkpoint to experiment ``name`` on ``baseline``.

    ``parent`` is where the chain continues (the baseline, or a checkpoint when
    resuming); ``tip`` is the ref's current value (ZERO for a new ref); ``project`` is
    where the run happens (the workspace or a run directory) and ``home`` the project
    whose bookkeeping is written; ``base`` the commit whose tree the snapshots start from.
    """

    project: Project
    home: Project
    baseline: str
    name: str
    parent: str
    tip: str = ZERO
    base: str | None = None
    message: str | None = None
    echo: Echo | None = None
    on_progress: Progress | None = None
    workspace: bool = True
    steps: int = 0
    first_step: int = 0
    total: int | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def ref(self) -> ExpRef:
        return ExpRef(self.baseline, self.name)

    def _files(self) -> list[str]:
        if self.base is None:  # the workspace: its index holds what stages staged
            return pipeline_files(self.project)
        return run_files(self.project, self.base)

    def _commit(self) -> str:
        # The run's own repository builds the tree (its objects land in the project's
        # store); the commit and the ref are the project's.
        git = self.home.git
        tree = snapshot_tree(self.project, self._files(), base=self.base)
        commit = git.commit_tree(tree, [self.parent], self.message or experiment_message(self.project))
        faults.point("checkpoint.committed")
        git.update_refs([ref_update(str(self.ref), commit, self.tip)])
        faults.point("checkpoint.ref-written")
        self.parent = self.tip = commit
        return commit

    def checkpoint(self, stage: Stage, info: dict) -> None:
        """Called by the engine at each signal, after outputs and lock entry are saved."""
        commit = self._commit()
        self.steps += 1
        step = self.first_step + self.steps
        self.total = info.get("total") or self.total
        event = {
            "experiment": self.name,
            "stage": stage.address,
            "step": step,
            "total": self.total,
            "metrics": info.get("metrics") or {},
            "elapsed": round(time.monotonic() - self.started, 3),
            "rev": commit,
            "state": "running",
        }
        publish_progress(self.home, event)
        if self.workspace:
            save_workspace_state(
                self.home, WorkspaceCheckpoint(self.name, self.baseline, commit, step, "running", self.total)
            )
        if self.echo is not None:
            # Labelled as DVCLive's `step` metric counts (from 0); the fraction is steps done.
            of_total = f", {step}/{self.total} done" if self.total else ""
            self.echo(f"Checkpoint experiment iteration '{commit[:7]}' (step {step - 1}{of_total}).\n")
        if self.on_progress is not None:
            self.on_progress(event)

    def finish(self, state: str) -> str | None:
        """Close the run: a wrap-up commit if anything changed since the last step
        (only on success), and the final state for resuming and for displays."""
        if state == "success":
            git = self.home.git
            tree = snapshot_tree(self.project, self._files(), base=self.base)
            tip_tree = git.tree_of(self.tip) if self.tip != ZERO else None
            if tree != tip_tree:
                commit = git.commit_tree(tree, [self.parent], self.message or experiment_message(self.project))
                git.update_refs([ref_update(str(self.ref), commit, self.tip)])
                self.parent = self.tip = commit
        step = self.first_step + self.steps
        if self.tip != ZERO:
            publish_progress(
                self.home,
                {
                    "experiment": self.name,
                    "step": step,
                    "total": self.total,
                    "rev": self.tip,
                    "state": state,
                    "elapsed": round(time.monotonic() - self.started, 3),
                    "metrics": {},
                },
            )
            if self.workspace:
                save_workspace_state(
                    self.home, WorkspaceCheckpoint(self.name, self.baseline, self.tip, step, state, self.total)
                )
        return None if self.tip == ZERO else self.tip
