"""``exp branch`` and ``exp rename``."""

from __future__ import annotations

from ..errors import JupyterExpError
from ..git import ref_delete, ref_update
from ..project import Project
from ..refs import ExpRef, branch_ref, check_name
from .catalog import list_experiments
from .exceptions import ExperimentExistsError
from .resolve import resolve
from .snapshot import ZERO


def branch(project: Project, name: str, branch_name: str | None = None) -> str:
    """Create git branch ``branch_name`` (default ``<name>-branch``) at the experiment
    (or at any checkpoint of one, named by its commit)."""
    found = resolve(project, name, checkpoints=True)
    label, rev = found.label, found.rev
    assert rev is not None  # only the workspace has no commit, and it is not asked for
    branch_name = branch_name or f"{label.replace('@', '-')}-branch"
    if not project.git.valid_branch_name(branch_name):
        raise JupyterExpError(f"Invalid branch name '{branch_name}'; pick a valid git branch name.")
    ref = branch_ref(branch_name)
    if project.git.rev_parse(ref):
        raise ExperimentExistsError(f"Branch '{branch_name}' already exists; pick another name.")
    project.git.update_ref(ref, rev, ZERO, message=f"dvc: Created from experiment '{label}'")
    return branch_name


def rename(project: Project, name: str, new_name: str, force: bool = False) -> ExpRef:
    """Give an experiment a new name on the same baseline (atomically)."""
    check_name(new_name)
    experiments = list_experiments(project)
    exp = resolve(project, name, experiments).experiment
    assert exp is not None  # with no fallbacks allowed, only an experiment matches
    new_ref = ExpRef(exp.baseline, new_name)
    existing = next((e for e in experiments if e.ref == new_ref), None)
    if existing is not None and not force:
        raise ExperimentExistsError.taken(new_name, exp.baseline)
    project.git.update_refs(
        [
            ref_update(str(new_ref), exp.rev, existing.rev if existing else ZERO),
            ref_delete(str(exp.ref), exp.rev),
        ]
    )
    return new_ref
