"""``exp apply``: bring an experiment's files and cached outputs into the workspace.

Uncommitted work is never lost: unless the workspace holds nothing but what HEAD or
an already recorded experiment holds, it is saved first as a git stash (untracked
files too), also kept under ``refs/jupyter-exp/apply/stash``, and the one command
that brings it back is printed. HEAD, the branch and the index do not move.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..pipeline.results import Echo, echo_stdout
from ..pipeline.tracked import checkout
from ..project import Project
from ..refs import APPLY_STASH
from .catalog import ExpInfo, list_experiments, resolve
from .snapshot import pipeline_files, snapshot_tree


@dataclass(frozen=True)
class Applied:
    name: str
    rev: str
    saved: str | None  # the stash commit holding the previous workspace, if one was needed
    restore_command: str | None


def _untracked(project: Project) -> list[str]:
    out = project.git.run("ls-files", "--others", "--exclude-standard", "-z")
    return [p for p in out.split("\0") if p]


def needs_saving(project: Project, experiments: list[ExpInfo]) -> bool:
    """Whether the workspace holds anything that HEAD or a recorded experiment does not."""
    tree = snapshot_tree(project, pipeline_files(project))
    head = project.git.head()
    known = {e.tree for e in experiments}
    if head:
        known.add(project.git.run("rev-parse", f"{head}^{{tree}}").strip())
    if tree not in known:
        return True
    # Untracked files the snapshot left out would be lost too.
    in_tree = set(project.git.run("ls-tree", "-r", "--name-only", "-z", tree).split("\0"))
    return any(path not in in_tree for path in _untracked(project))


def apply(project: Project, name: str, echo: Echo | None = None) -> Applied:
    """Apply experiment ``name`` (a name, a ref or a commit) to the workspace."""
    echo = echo or echo_stdout
    experiments = list_experiments(project)
    exp = resolve(project, name, experiments)
    git = project.git
    saved = restore = None
    if needs_saving(project, experiments):
        message = f"jupyter-exp: workspace before applying '{exp.name}'"
        git.run("stash", "push", "--include-untracked", "--quiet", "--message", message)
        saved = git.rev_parse("stash@{0}")
        assert saved is not None
        git.update_refs([f"update {APPLY_STASH} {saved}"])
        restore = f"git reset --hard && git stash apply {saved[:12]}"
    # Write the experiment's files without moving HEAD, then leave the index as HEAD's.
    git.run("checkout", exp.rev, "--", ".")
    git.run("reset", "--quiet")
    checkout(project, force=True)
    echo(f"Changes for experiment '{exp.name}' have been applied to your current workspace.\n")
    if restore:
        echo(f"Your previous workspace was saved; bring it back with: {restore}\n")
    return Applied(exp.name, exp.rev, saved, restore)
