"""The experiments a repository holds, read with one ``git for-each-ref``, and
name resolution (exact, then unambiguous, with did-you-mean)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import JupyterExpError
from ..project import Project
from ..refs import EXPS_NAMESPACE, ExpRef


class UnknownExperimentError(JupyterExpError):
    pass


class AmbiguousExperimentError(JupyterExpError):
    pass


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
    rows = project.git.for_each_ref(
        EXPS_NAMESPACE, ["refname", "objectname", "tree", "committerdate:unix", "parent"]
    )
    found = []
    for refname, rev, tree, created, parents in rows:
        ref = ExpRef.parse(refname)
        if ref is not None and tree:  # a ref to something that is not a commit is skipped
            found.append(ExpInfo(ref, rev, tree, int(created or 0), tuple(parents.split())))
    return found


def resolve(project: Project, name: str, experiments: list[ExpInfo] | None = None) -> ExpInfo:
    """The experiment ``name`` designates: a full ref, a name, or a commit of one.

    Raises:
        UnknownExperimentError: nothing matches (with the closest name).
        AmbiguousExperimentError: the name exists on several baselines, none of them HEAD.
    """
    experiments = list_experiments(project) if experiments is None else experiments
    if name.startswith(EXPS_NAMESPACE + "/"):
        matches = [e for e in experiments if str(e.ref) == name]
    else:
        matches = [e for e in experiments if e.name == name]
        if not matches and len(name) >= 4 and all(c in "0123456789abcdef" for c in name.lower()):
            matches = [e for e in experiments if e.rev.startswith(name.lower())]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        head = project.git.head()
        on_head = [e for e in matches if e.baseline == head]
        if len(on_head) == 1:
            return on_head[0]
        baselines = ", ".join(sorted(e.baseline[:7] for e in matches))
        raise AmbiguousExperimentError(
            f"Experiment '{name}' exists on several baselines ({baselines}); "
            f"name it by its ref, e.g. {matches[0].ref}."
        )
    from difflib import get_close_matches

    close = get_close_matches(name, sorted({e.name for e in experiments}), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; list them with `jupyter exp list`."
    raise UnknownExperimentError(f"Unknown experiment '{name}'{hint}")


def all_commits_list(project: Project) -> list[str]:
    """Every commit reachable from branches, tags and HEAD (experiment refs excluded)."""
    head = ["HEAD"] if project.git.head() else []
    return project.git.run("rev-list", "--branches", "--tags", *head).split()


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
                limit = [] if num < 0 else ["-n", str(num)]
                found += git.run("rev-list", "--first-parent", *limit, sha).split()
        if all_branches:
            found += [r[0] for r in git.for_each_ref("refs/heads", ["objectname"])]
        if all_tags:
            found += [r[0] or r[1] for r in git.for_each_ref("refs/tags", ["*objectname", "objectname"])]
    return list(dict.fromkeys(found))


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
        exp = resolve(project, name, experiments)
        chosen[str(exp.ref)] = exp
    if revs is not None or not names:
        baselines = set(select_baselines(project, revs, num))
        chosen.update({str(e.ref): e for e in experiments if e.baseline in baselines})
    return list(chosen.values())
