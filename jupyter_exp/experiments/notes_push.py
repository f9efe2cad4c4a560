"""``exp push`` sends the notes of the experiments it pushes, and no others.

A notes ref is one history of one tree keyed by annotated commit, so pushing
``refs/notes/jupyter-exp`` as it is would hand the remote every note of the clone
(those on experiments never pushed, with their commits' ids) and its whole history.
Instead the remote's notes are fetched and merged into ours (as ``exp pull`` merges
them: ours win a conflict), and a new notes commit is made on the remote's: its tree,
with each pushed experiment commit's note as the merge left it (set, changed, or gone).
That commit fast-forwards the remote's ref; it is then merged into ours, so the next
merge starts from it and a note changed on the remote since is taken, as a pull takes it.
"""

from __future__ import annotations

from ..errors import JupyterExpError
from ..git import GitError
from ..notices import warn
from ..project import Project
from ..refs import NOTES_OUTGOING_REF, NOTES_REF
from .notes import _notes_lock, merge_notes


def push_notes_of(project: Project, git_remote: str, commits: list[str]) -> int:
    """Push the notes of ``commits`` (the experiments' commits ``exp push`` sent) to
    ``git_remote``'s notes ref, leaving its other notes as they are. Returns how many
    notes changed there. A failure is a warning: the experiments are on the remote.
    """
    if project.git.rev_parse(NOTES_REF) is None:
        return 0  # no note was ever written here: nothing to send (and no network call)
    try:
        try:
            return _push_once(project, git_remote, commits)
        except GitError as exc:
            if not _rejected(exc):
                raise
            return _push_once(project, git_remote, commits)  # the remote's moved meanwhile: once more
    except JupyterExpError as exc:
        warn(f"the notes were not pushed ({str(exc).rstrip('.')}); push again to retry.")
        return 0


def _push_once(project: Project, git_remote: str, commits: list[str]) -> int:
    theirs_commit = merge_notes(project, git_remote)
    ours = project.git.notes_list(NOTES_REF)
    theirs = _notes_at(project, theirs_commit)
    changes = {c: ours.get(c) for c in dict.fromkeys(commits) if ours.get(c) != theirs.get(c)}
    if not changes:
        return 0
    with _notes_lock(project):
        try:
            sent = project.git.notes_commit(
                NOTES_OUTGOING_REF, theirs_commit, changes, f"Notes of {len(changes)} pushed commit(s)"
            )
            project.git.push(git_remote, [f"{sent}:{NOTES_REF}"])
            # Ours learn the commit the remote has now: the next merge starts from it.
            project.git.notes_merge(NOTES_REF, NOTES_OUTGOING_REF, strategy="ours")
        finally:
            project.git.delete_ref(NOTES_OUTGOING_REF, check=False)
    return len(changes)


def _rejected(exc: GitError) -> bool:
    """Whether the remote refused a ref that moved on there (not a failure to talk)."""
    return "[rejected]" in exc.stderr or "non-fast-forward" in exc.stderr or "fetch first" in exc.stderr


def _notes_at(project: Project, commit: str | None) -> dict[str, str]:
    """Annotated commit -> note blob in the notes commit ``commit`` (a fanned-out tree
    too: its paths are the commit's id split by folders)."""
    if commit is None:
        return {}
    try:
        entries = project.git.tree_entries(commit)
    except GitError:
        return {}
    return {path.replace("/", ""): oid for _mode, kind, oid, path in entries if kind == "blob"}
