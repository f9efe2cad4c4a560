"""``exp remove`` and ``exp gc``: delete experiment refs, locally or on a git remote.

Local deletions are one ``update-ref --stdin`` transaction; interrupted, git removes
its locks (see :meth:`Git.update_refs`). One that was SIGKILLed leaves a ``.lock`` file
per ref it had locked, and every later one would fail on them: such lock files under
``refs/exps`` older than a minute (git holds a ref lock for milliseconds) are removed
first, with a one-line warning.
"""

from __future__ import annotations

import logging

from ..errors import JupyterExpError, option
from ..git import ref_delete
from ..project import Project
from ..refs import EXPS_NAMESPACE
from .catalog import all_commits_list, list_experiments, remote_experiments, select_baselines
from .exceptions import UnknownExperimentError
from .resolve import select_experiments

log = logging.getLogger(__name__)


def remove(
    project: Project,
    names: list[str] | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    keep: bool = False,
    git_remote: str | None = None,
) -> list[str]:
    """Remove experiments by name, by baseline (``revs``, ``num``) or all; return their names.

    ``keep`` removes every experiment except the selected ones. With ``git_remote`` the
    refs are deleted on that remote instead.
    """
    if not (names or all_commits or revs):
        raise JupyterExpError(f"Name the experiments to remove, or use {option('all_commits')} or {option('revs')}.")
    if git_remote:
        return _remove_remote(project, git_remote, names or [], all_commits, revs=revs, num=num, keep=keep)
    return _remove_local(project, names, all_commits=all_commits, revs=revs, num=num, keep=keep)


def _delete_refs(project: Project, doomed: list) -> None:
    """Delete the refs of ``doomed`` experiments in one transaction, after clearing the
    lock files a killed transaction left."""
    if not doomed:
        return
    cleared = project.git.clear_stale_ref_locks(EXPS_NAMESPACE)
    if cleared:
        log.warning(
            f"Removed {len(cleared)} stale ref lock file(s) left under {EXPS_NAMESPACE} by a killed git command."
        )
    project.git.update_refs([ref_delete(str(e.ref), e.rev) for e in doomed])


def _remove_local(
    project: Project, names: list[str] | None, *, all_commits: bool, revs: list[str] | None, num: int, keep: bool
) -> list[str]:
    experiments = list_experiments(project)
    # As in DVC, a name may also be a queued or failed run's: its queue entry goes.
    entries: list[str] = []
    if names and not keep:
        from .queue import remove_entries
        from .queue_store import QueueStore

        recorded = {e.name for e in experiments}
        waiting = {e.name for e in QueueStore(project).entries() if e.state != "success"}
        entries = [n for n in names if n in waiting and n not in recorded]
        names = [n for n in names if n not in entries]
        if entries:
            entries = remove_entries(project, entries)
        if not names and not (all_commits or revs):
            return entries
    selected = select_experiments(project, names, all_commits=all_commits, revs=revs, num=num, experiments=experiments)
    if keep:
        kept = {str(e.ref) for e in selected}
        selected = [e for e in experiments if str(e.ref) not in kept]
    _delete_refs(project, selected)
    return entries + [e.name for e in selected]


def _remove_remote(
    project: Project,
    remote: str,
    names: list[str],
    all_commits: bool,
    *,
    revs: list[str] | None = None,
    num: int = 1,
    keep: bool = False,
) -> list[str]:
    """As DVC: names first, else the experiments of ``revs``' baselines (resolved here),
    else all; ``keep`` deletes every other experiment on the remote instead."""
    listed = [ref for ref, _ in remote_experiments(project, remote)]
    if names:
        wanted = [ref for ref in listed if ref.name in names]
        missing = set(names) - {ref.name for ref in wanted}
        if missing:
            raise UnknownExperimentError(f"No experiment named '{sorted(missing)[0]}' on remote '{remote}'.")
    elif revs:
        baselines = set(select_baselines(project, revs, num))
        wanted = [ref for ref in listed if ref.baseline in baselines]
    else:
        wanted = listed if all_commits else []
    if keep:
        kept = {str(ref) for ref in wanted}
        wanted = [ref for ref in listed if str(ref) not in kept]
    if wanted:
        project.git.push(remote, [f":{ref}" for ref in wanted])  # an empty source deletes
    return [ref.name for ref in wanted]


def gc(
    project: Project,
    *,
    workspace: bool = False,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
) -> list[str]:
    """Remove every experiment not derived from the kept revisions; return their names.

    Kept: HEAD with ``workspace``, branch tips with ``all_branches``, tags with
    ``all_tags``, every commit with ``all_commits``.
    """
    if not (workspace or all_branches or all_tags or all_commits):
        raise JupyterExpError(
            f"Say what to keep: {option('workspace')} (HEAD), {option('all_branches')} (branches), "
            f"{option('all_tags')} (tags) or {option('all_commits')} (all commits)."
        )
    kept: set[str] = set()
    if all_commits:
        kept.update(all_commits_list(project))
    kept.update(select_baselines(project, ["HEAD"] if workspace else [], 1, all_branches, all_tags))
    experiments = list_experiments(project)
    doomed = [e for e in experiments if e.baseline not in kept]
    _delete_refs(project, doomed)
    return [e.name for e in doomed]
