"""``exp apply``: bring an experiment's files and cached outputs into the workspace.

Uncommitted work is never lost. Unless the workspace and the index hold nothing but
what HEAD or an already recorded experiment holds, both are first recorded, under
``refs/jupyter-exp/saved/workspace-<time>`` (out of DVC's sight), and the one command
that brings them back (``jupyter exp apply workspace-<time>``) is printed before any
file changes. As ``git stash`` does, the saved commit has HEAD as first parent and its
tree is the workspace (tracked changes, staged new files, pipeline files and untracked
files git does not ignore); when the index differs from HEAD, a second parent holds
the index exactly as it was (staged content, even where the file was edited since).
Applying a saved workspace puts both back.

Applying writes only the paths where the experiment differs from the workspace, over
the workspace, and removes nothing, so files the experiment does not know stay where
they are. In the index those paths go back to HEAD's version (unstaged, as after DVC's
apply); every other index entry is left as the user had it. HEAD and the branch do
not move. Apply holds the project lock (an ``exp run`` in progress never records
another experiment's files), and refuses while a merge, rebase, cherry-pick or revert
is in progress or the index has conflicts, which its writes would destroy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .. import faults
from ..git import ref_update
from ..pipeline.results import Echo, echo_stdout
from ..pipeline.tracked import checkout, collect_tracked
from ..project import Project
from ..refs import saved_ref
from ..tree import GitTree
from .catalog import ExpInfo, list_experiments
from .exceptions import ApplyRefusedError
from .resolve import SAVED_PREFIX, resolve
from .snapshot import ZERO, pipeline_files, snapshot_tree

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Applied:
    name: str
    rev: str
    saved: str | None  # the name the previous workspace was saved as, if it needed saving
    restore_command: str | None


# (marker in the git dir, what is in progress, how to finish it, how to abort it)
_IN_PROGRESS = (
    ("MERGE_HEAD", "a merge", "git commit", "git merge --abort"),
    ("rebase-merge", "a rebase", "git rebase --continue", "git rebase --abort"),
    ("rebase-apply", "a rebase or `git am`", "git rebase --continue", "git rebase --abort"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue", "git cherry-pick --abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue", "git revert --abort"),
)


def check_applicable(project: Project) -> None:
    """Refuse, with one line, while git is in the middle of something apply would break.

    Raises:
        ApplyRefusedError: a merge, rebase, cherry-pick or revert is in progress, or the
            index holds unresolved conflicts.
    """
    git = project.git
    git_dir = git.git_dir()
    for marker, what, finish, abort in _IN_PROGRESS:
        if (git_dir / marker).exists():
            raise ApplyRefusedError(
                f"Cannot apply an experiment during {what}; finish it (`{finish}`) or abort it (`{abort}`) first."
            )
    unmerged = git.index().unmerged()
    if unmerged:
        raise ApplyRefusedError(
            f"Cannot apply an experiment while '{unmerged[0]}' has unresolved conflicts; resolve them and "
            "`git add` the files first."
        )


def _index_tree(project: Project) -> str:
    """The tree of the user's index, written from a copy of it (the index is not touched)."""
    import shutil

    git = project.git
    copy = project.scratch_index()
    try:
        index = git.git_path("index")
        if index.exists():
            shutil.copyfile(index, copy)
        return git.index(copy).write_tree()
    finally:
        copy.unlink(missing_ok=True)


def save_workspace(project: Project, experiments: list[ExpInfo]) -> tuple[str | None, str]:
    """Record the workspace and the index unless HEAD or an experiment already holds them.

    Returns the name they were saved under (None when nothing needed saving) and the
    tree of the workspace.
    """
    git = project.git
    head = git.head()
    index_tree = _index_tree(project)
    tree = snapshot_tree(project, pipeline_files(project) + git.untracked_files(), base=index_tree)
    head_tree = git.tree_of(head) if head else EMPTY_TREE
    known = {e.tree for e in experiments} | {head_tree}
    if tree in known and index_tree == head_tree:
        return None, tree
    name = SAVED_PREFIX + time.strftime("%Y%m%d-%H%M%S")
    while git.rev_parse(saved_ref(name)):
        name += "x"
    parents = [head] if head else []
    if index_tree != head_tree:  # the index as it was, staged content included
        parents.append(git.commit_tree(index_tree, parents[:1], "jupyter-exp: index saved before apply"))
    commit = git.commit_tree(tree, parents, "jupyter-exp: workspace saved before apply")
    git.update_refs([ref_update(saved_ref(name), commit, ZERO)])
    return name, tree


def _saved_index(project: Project, rev: str) -> str | None:
    """The index commit of a saved workspace (its second parent), if it has one."""
    return project.git.rev_parse(f"{rev}^2")


def _changed_paths(project: Project, workspace_tree: str, rev: str) -> list[str]:
    """Paths the experiment adds or changes relative to the workspace (never deletions:
    apply removes nothing)."""
    return [path for _mode, _oid, path in project.git.diff_tree(workspace_tree, rev)]


# What an experiment commit may carry under .dvc/: DVC's own tracked files. Its cache,
# tmp (our bookkeeping, the queue) and config.local are git-ignored and never an
# experiment's to write.
_DVC_TRACKED = (".dvc/config", ".dvc/.gitignore")
_DVC_TRACKED_DIRS = (".dvc/plots/",)


def check_tree(project: Project, rev: str) -> None:
    """Refuse an experiment whose files (those that differ from HEAD's) would write into
    ``.git``, DVC's cache or bookkeeping, or are symlinks leading outside the project or
    into its machinery. Called before anything is saved or written.

    Raises:
        ApplyRefusedError: one line naming the path.
    """
    import posixpath

    git = project.git
    head = git.head()
    links: list[tuple[str, str]] = []
    for mode, oid, path in git.diff_tree(head or EMPTY_TREE, rev):
        parts = path.split("/")
        machinery = ".git" in parts or (
            path.startswith(".dvc/") and path not in _DVC_TRACKED and not path.startswith(_DVC_TRACKED_DIRS)
        )
        if machinery:
            raise ApplyRefusedError(
                f"Experiment commit {rev[:7]} writes '{path}', which belongs to git or "
                "DVC; it was not made by jupyter_exp or DVC, so it is not applied."
            )
        if mode == "120000":
            links.append((path, oid))
    for (path, _), found in zip(links, git.read_objects([oid for _, oid in links])):
        target = found[2].decode("utf-8", "surrogateescape") if found else ""
        where = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        first = where.split("/", 1)[0]
        if posixpath.isabs(target) or where == ".." or where.startswith("../") or first in (".git", ".dvc"):
            raise ApplyRefusedError(
                f"Experiment commit {rev[:7]} makes '{path}' a symlink to '{target}', "
                "outside the project or into its machinery; it is not applied."
            )


def apply(project: Project, name: str, echo: Echo | None = None) -> Applied:
    """Apply experiment ``name`` (a name, a ref, a commit, or a saved workspace).

    Raises:
        ApplyRefusedError: a merge, rebase, cherry-pick or revert is in progress, or
            the index has conflicts.
        LockError: another command holds the project lock.
    """
    echo = echo or echo_stdout
    with project.lock():
        check_applicable(project)
        experiments = list_experiments(project)
        found = resolve(project, name, experiments, saved=True, checkpoints=True, queued=True)
        target, rev = found.label, found.rev
        assert rev is not None  # the workspace is not among what apply takes
        git = project.git
        index_source = (_saved_index(project, rev) if found.kind == "saved" else None) or git.head()
        # Paths and hashes of the experiment's .dvc files and locks are checked before
        # anything is saved or written: a refused one leaves everything as it was.
        collect_tracked(project, GitTree(git, rev))
        check_tree(project, rev)
        saved, workspace_tree = save_workspace(project, experiments)
        restore = f"jupyter exp apply {saved}" if saved else None
        if restore:  # said before anything changes, so that a kill mid-way leaves the way back
            echo(f"Your previous workspace was saved as '{saved}'; bring it back with: {restore}\n")
        faults.point("apply.saved")
        paths = _changed_paths(project, workspace_tree, rev)
        if paths:
            index = git.index()
            index.checkout(rev, paths)
            faults.point("apply.files-written")
            if index_source:  # those paths' index entries as in HEAD (or the saved index)
                index.reset(index_source, paths)
            else:  # no commit yet: nothing to reset to
                index.forget(paths)
            faults.point("apply.index-restored")
        checkout(project, force=True)
    echo(f"Changes for experiment '{target}' have been applied to your current workspace.\n")
    return Applied(target, rev, saved, restore)
