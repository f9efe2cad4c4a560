"""The experiments a repository holds, read with one ``git for-each-ref``, and the
baselines a ``--rev``/``-n``/``-a``/``-T``/``-A`` selection names. What a user's word
designates is ``resolve.py``'s."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import JupyterExpError
from ..project import Project
from ..refs import EXPS_GLOB, EXPS_NAMESPACE, HEADS, TAGS, ExpRef


@dataclass(frozen=True)
class ExpInfo:
    """One experiment ref and the commit it points at."""

    ref: ExpRef
    rev: str
    tree: str
    created: int  # committer time, seconds since the epoch
    parents: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def baseline(self) -> str:
        return self.ref.baseline


def list_experiments(project: Project) -> list[ExpInfo]:
    """Every experiment ref DVC would list (one git process, whatever their number)."""
    rows = project.git.for_each_ref(EXPS_NAMESPACE, ["refname", "objectname", "tree", "committerdate:unix", "parent"])
    found = []
    for refname, rev, tree, created, parents in rows:
        ref = ExpRef.parse(refname)
        if ref is not None and tree:  # a ref to something that is not a commit is skipped
            found.append(ExpInfo(ref, rev, tree, int(created or 0), tuple(parents.split())))
    return found


def remote_experiments(project: Project, git_remote: str) -> list[tuple[ExpRef, str]]:
    """Every experiment ref on ``git_remote`` and the commit it names (a network call)."""
    found = [(ExpRef.parse(ref), sha) for sha, ref in project.git.ls_remote(git_remote, EXPS_GLOB)]
    return [(ref, sha) for ref, sha in found if ref is not None]


def all_commits_list(project: Project) -> list[str]:
    """Every commit reachable from branches, tags and HEAD (experiment refs excluded)."""
    head = ["HEAD"] if project.git.head() else []
    return project.git.rev_list(*head, branches=True, tags=True)


def select_baselines(
    project: Project,
    revs: list[str] | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
) -> list[str]:
    """Baseline commits as DVC selects them (``--rev``, ``-n``, ``-a``, ``-T``, ``-A``)."""
    git = project.git
    found: list[str] = []
    if all_commits:
        found = all_commits_list(project)
    else:
        for rev in ["HEAD"] if revs is None else revs:
            sha = git.rev_parse(rev)
            if sha is None:
                if rev == "HEAD":
                    continue
                raise JupyterExpError(f"Unknown revision '{rev}'; use a commit, branch or tag.")
            if num == 1:
                found.append(sha)
            elif num != 0:
                found += git.rev_list(sha, first_parent=True, limit=None if num < 0 else num)
        if all_branches:
            found += [r[0] for r in git.for_each_ref(HEADS, ["objectname"])]
        if all_tags:
            found += [r[0] or r[1] for r in git.for_each_ref(TAGS, ["*objectname", "objectname"])]
    return list(dict.fromkeys(found))
