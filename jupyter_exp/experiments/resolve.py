"""What a user typed, turned into what it designates: one resolver for every verb.

A word can be an experiment (its name, its full ref, or a prefix of its commit), a
commit in a checkpoint experiment's chain, a workspace saved by ``exp apply``, a queue
entry (name or id), any git revision, or ``workspace``. Verbs accept different
subsets — ``exp apply`` takes saved workspaces and queue entries, ``exp diff`` any
revision — so the subset is what the caller passes; the order of the tries is the
same for everyone:

    workspace, saved workspace, experiment, checkpoint commit, queue entry, revision

An experiment name on several baselines (none of them HEAD) is refused as ambiguous
whatever comes after it: a later try never hides that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..project import Project
from ..refs import EXPS_NAMESPACE, saved_ref
from .catalog import ExpInfo, list_experiments, select_baselines
from .exceptions import AmbiguousExperimentError, QueueError, UnknownExperimentError
from .history import checkpoint_chains
from .queue_store import QueueStore

SAVED_PREFIX = "workspace-"  # names of workspaces `exp apply` saved (refs/jupyter-exp/saved/...)
WORKSPACE = "workspace"

TargetKind = Literal["experiment", "checkpoint", "saved", "queued", "revision", "workspace"]


@dataclass(frozen=True)
class Target:
    """What a word designates.

    ``label``: how to name it to the user (an experiment's name, ``name@abc1234`` for a
    checkpoint, the saved or queued name, the word itself for a revision).
    ``rev``: its commit (None for the workspace). ``experiment``: the experiment it is,
    or whose chain holds it. ``baseline``: that experiment's, or a queue entry's.
    """

    kind: TargetKind
    label: str
    rev: str | None
    experiment: ExpInfo | None = None
    baseline: str | None = None


def resolve(
    project: Project,
    spec: str,
    experiments: list[ExpInfo] | None = None,
    *,
    workspace: bool = False,
    saved: bool = False,
    checkpoints: bool = False,
    queued: bool = False,
    revisions: bool = False,
    unknown: str | None = None,
) -> Target:
    """The target ``spec`` designates, trying experiments and then what the flags allow.

    ``unknown`` replaces the message when nothing matches (by default: the closest
    experiment name, or with ``revisions`` a word on revisions).

    Raises:
        UnknownExperimentError: nothing the flags allow matches.
        AmbiguousExperimentError: an experiment name on several baselines, none of them HEAD.
    """
    experiments = list_experiments(project) if experiments is None else experiments
    if workspace and spec == WORKSPACE:
        return Target("workspace", WORKSPACE, None)
    if saved and spec.startswith(SAVED_PREFIX):
        rev = project.git.rev_parse(saved_ref(spec))
        if rev:
            return Target("saved", spec, rev)
    exp = _experiment(project, spec, experiments)
    if exp is not None:
        return Target("experiment", exp.name, exp.rev, exp, exp.baseline)
    if checkpoints:
        found = _checkpoint(project, spec, experiments)
        if found is not None:
            return found
    if queued:
        # A queued or failed entry: its inputs, to debug a failure or look before running.
        try:
            entry = QueueStore(project).find(spec)
        except QueueError:
            pass
        else:
            return Target("queued", entry.name, entry.rev, None, entry.baseline)
    if revisions:
        sha = project.git.rev_parse(spec)
        if sha is not None:
            return Target("revision", spec, sha)
        unknown = unknown or f"Unknown experiment or revision '{spec}'; list experiments with `jupyter exp list`."
    raise UnknownExperimentError(unknown or _did_you_mean(spec, experiments))


def _experiment(project: Project, spec: str, experiments: list[ExpInfo]) -> ExpInfo | None:
    """The experiment ``spec`` names (exact ref, name, then commit prefix); None if none."""
    if spec.startswith(EXPS_NAMESPACE + "/"):
        matches = [e for e in experiments if str(e.ref) == spec]
    else:
        matches = [e for e in experiments if e.name == spec]
        if not matches and _is_sha_prefix(spec):
            matches = [e for e in experiments if e.rev.startswith(spec.lower())]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        head = project.git.head()
        on_head = [e for e in matches if e.baseline == head]
        if len(on_head) == 1:
            return on_head[0]
        baselines = ", ".join(sorted(e.baseline[:7] for e in matches))
        raise AmbiguousExperimentError(
            f"Experiment '{spec}' exists on several baselines ({baselines}); name it by its ref, e.g. {matches[0].ref}."
        )
    return None


def _is_sha_prefix(spec: str) -> bool:
    return len(spec) >= 4 and all(c in "0123456789abcdef" for c in spec.lower())


def _checkpoint(project: Project, spec: str, experiments: list[ExpInfo]) -> Target | None:
    """The commit ``spec`` (a SHA or prefix) when it is in an experiment's checkpoint chain."""
    if not _is_sha_prefix(spec):
        return None
    rev = project.git.rev_parse(spec)
    if rev is None:
        return None
    by_rev: dict[str, ExpInfo] = {}
    for exp in experiments:  # the first listed, when two refs share a commit
        by_rev.setdefault(exp.rev, exp)
    for exp_rev, chain in checkpoint_chains(project, experiments).items():
        for commit, _, _ in chain:
            if commit == rev:
                owner = by_rev[exp_rev]
                return Target("checkpoint", f"{owner.name}@{rev[:7]}", rev, owner, owner.baseline)
    return None


def _did_you_mean(spec: str, experiments: list[ExpInfo]) -> str:
    from difflib import get_close_matches

    close = get_close_matches(spec, sorted({e.name for e in experiments}), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; list them with `jupyter exp list`."
    return f"Unknown experiment '{spec}'{hint}"


def select_experiments(
    project: Project,
    names: list[str] | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    experiments: list[ExpInfo] | None = None,
) -> list[ExpInfo]:
    """Experiments chosen as ``exp remove``/``push`` choose them: by name, all (``-A``),
    and those of the baselines ``revs``/``num`` select (None: HEAD's when no names)."""
    experiments = list_experiments(project) if experiments is None else experiments
    if all_commits:
        return list(experiments)
    chosen: dict[str, ExpInfo] = {}
    for name in names or []:
        exp = resolve(project, name, experiments).experiment
        assert exp is not None  # with no fallbacks allowed, only an experiment matches
        chosen[str(exp.ref)] = exp
    if revs is not None or not names:
        baselines = set(select_baselines(project, revs, num))
        chosen.update({str(e.ref): e for e in experiments if e.baseline in baselines})
    return list(chosen.values())
