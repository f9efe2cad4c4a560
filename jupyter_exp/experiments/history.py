"""Questions about commit history: checkpoint chains, commit metadata, first-parent
walks and the branch or tag names of baselines.

Each answer costs one git process, whatever the number of commits asked about. The
verbs (show, apply, resume, queue) ask here instead of walking git themselves.
"""

from __future__ import annotations

from ..project import Project
from ..refs import HEADS, TAGS
from .catalog import ExpInfo

Chain = list[tuple[str, str | None, int]]  # (commit, first parent, committer time), newest first


def commit_meta(project: Project, revs: list[str]) -> dict[str, tuple[int, str | None]]:
    """Committer time and first parent of each commit, in one git process."""
    if not revs:
        return {}
    return {sha: (created, parents[0] if parents else None) for sha, created, parents in project.git.commits(revs)}


def first_parents(project: Project, tip: str, baseline: str) -> list[str]:
    """The commits from ``tip`` back along first parents to ``baseline`` (excluded),
    newest first: a checkpoint experiment's chain, its tip included."""
    return project.git.first_parent_chain(tip, baseline)


def checkpoint_chains(project: Project, experiments: list[ExpInfo]) -> dict[str, Chain]:
    """For experiments whose commit does not sit on its baseline: the earlier commits of
    the chain, newest first, as ``(rev, parent, committer time)``. One git process."""
    chained = [e for e in experiments if e.parents and e.parents[0] != e.baseline]
    if not chained:
        return {}
    baselines = sorted({e.baseline for e in chained})
    commits = {
        sha: (created, parents[0] if parents else None)
        for sha, created, parents in project.git.commits([e.rev for e in chained], not_from=baselines)
    }
    chains = {}
    for exp in chained:
        chain: Chain = []
        rev: str | None = exp.parents[0]
        while rev in commits and rev != exp.baseline:
            created, parent = commits[rev]
            chain.append((rev, parent, created))
            rev = parent
        chains[exp.rev] = chain
    return chains


def baseline_names(project: Project, head: str | None) -> dict[str, str]:
    """A branch (HEAD's own first) or tag name for commits that have one."""
    names: dict[str, str] = {}
    rows = project.git.for_each_ref(HEADS, ["objectname", "refname:short"])
    rows += project.git.for_each_ref(TAGS, ["*objectname", "objectname", "refname:short"])
    for row in rows:
        sha = row[0] or row[1]
        names.setdefault(sha, row[-1])
    branch = project.git.current_branch()
    if head and branch:
        names[head] = branch
    return names
