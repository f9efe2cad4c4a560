"""``exp apply``: bring an experiment's files and cached outputs into the workspace.

Uncommitted work is never lost. Unless the workspace holds nothing but what HEAD or
an already recorded experiment holds, it is first recorded as a commit of its own
(tracked changes, pipeline files and untracked files git does not ignore) under
``refs/jupyter-exp/saved/workspace-<time>``, out of DVC's sight, and the one command
that brings it back (``jupyter exp apply workspace-<time>``) is printed. Applying
writes the experiment's files over the workspace and removes nothing, so files the
experiment does not know stay where they are. HEAD, the branch and the index do not
move.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..pipeline.results import Echo, echo_stdout
from ..pipeline.tracked import checkout
from ..project import Project
from ..refs import SAVED_NAMESPACE
from .catalog import ExpInfo, UnknownExperimentError, list_experiments, resolve
from .snapshot import ZERO, pipeline_files, snapshot_tree

SAVED_PREFIX = "workspace-"


@dataclass(frozen=True)
class Applied:
    name: str
    rev: str
    saved: str | None  # the name the previous workspace was saved as, if it needed saving
    restore_command: str | None



def save_workspace(project: Project, experiments: list[ExpInfo]) -> str | None:
    """Record the workspace unless HEAD or an experiment already holds all of it.

    Returns the name it was saved under, or None when nothing needed saving.
    """
    git = project.git
    tree = snapshot_tree(project, pipeline_files(project) + project.git.untracked_files())
    head = git.head()
    known = {e.tree for e in experiments}
    if head:
        known.add(git.run("rev-parse", f"{head}^{{tree}}").strip())
    if tree in known:
        return None
    name = SAVED_PREFIX + time.strftime("%Y%m%d-%H%M%S")
    ref = f"{SAVED_NAMESPACE}/{name}"
    while git.rev_parse(ref):
        name += "x"
        ref = f"{SAVED_NAMESPACE}/{name}"
    commit = git.commit_tree(tree, [head] if head else [], "jupyter-exp: workspace saved before apply")
    git.update_refs([f"update {ref} {commit} {ZERO}"])
    return name


def _target(project: Project, name: str, experiments: list[ExpInfo]) -> tuple[str, str]:
    """``(name, commit)`` of an experiment or of a workspace saved by an earlier apply."""
    if name.startswith(SAVED_PREFIX):
        rev = project.git.rev_parse(f"{SAVED_NAMESPACE}/{name}")
        if rev:
            return name, rev
    try:
        exp = resolve(project, name, experiments)
    except UnknownExperimentError as unknown:
        checkpoint = checkpoint_commit(project, name, experiments)
        if checkpoint is not None:
            return checkpoint
        # A queued or failed entry: its inputs, to debug a failure or look before running.
        from .queue import QueueError, QueueStore

        try:
            entry = QueueStore(project).find(name)
        except QueueError:
            raise unknown from None
        return entry.name, entry.rev
    return exp.name, exp.rev


def checkpoint_commit(project: Project, spec: str, experiments: list[ExpInfo]) -> tuple[str, str] | None:
    """``(label, commit)`` when ``spec`` names a commit in an experiment's checkpoint chain."""
    if len(spec) < 4 or any(c not in "0123456789abcdef" for c in spec.lower()):
        return None
    rev = project.git.rev_parse(spec)
    if rev is None:
        return None
    from .collect import checkpoint_chains

    for exp_rev, chain in checkpoint_chains(project, experiments).items():
        for commit, _, _ in chain:
            if commit == rev:
                name = next(e.name for e in experiments if e.rev == exp_rev)
                return f"{name}@{rev[:7]}", rev
    return None





def apply(project: Project, name: str, echo: Echo | None = None) -> Applied:
    """Apply experiment ``name`` (a name, a ref, a commit, or a saved workspace)."""
    echo = echo or echo_stdout
    experiments = list_experiments(project)
    target, rev = _target(project, name, experiments)
    git = project.git
    saved = save_workspace(project, experiments)
    # Write the experiment's files without moving HEAD, then leave the index as HEAD's.
    git.run("checkout", rev, "--", ".")
    git.run("reset", "--quiet")
    checkout(project, force=True)
    echo(f"Changes for experiment '{target}' have been applied to your current workspace.\n")
    restore = f"jupyter exp apply {saved}" if saved else None
    if restore:
        echo(f"Your previous workspace was saved as '{saved}'; bring it back with: {restore}\n")
    return Applied(target, rev, saved, restore)
