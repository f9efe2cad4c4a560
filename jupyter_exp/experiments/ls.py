"""``exp list``: experiments grouped by baseline, locally or on a git remote."""

from __future__ import annotations

from ..project import Project
from .catalog import list_experiments, remote_experiments, select_baselines
from .history import baseline_names


def list_by_baseline(
    project: Project,
    git_remote: str | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
) -> dict[str, list[tuple[str, str]]]:
    """``{baseline: [(name, rev), ...]}`` for the selected baselines (all with -A)."""
    if git_remote:
        pairs = remote_experiments(project, git_remote)
    else:
        pairs = [(e.ref, e.rev) for e in list_experiments(project)]
    wanted = None if all_commits else set(select_baselines(project, revs, num))
    grouped: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in sorted(pairs, key=lambda p: (p[0].baseline, p[0].name)):
        if wanted is None or ref.baseline in wanted:
            grouped.setdefault(ref.baseline, []).append((ref.name, sha))
    return grouped


def format_list(project: Project, grouped: dict[str, list[tuple[str, str]]], name_only: bool) -> str:
    names = baseline_names(project, project.git.head())
    lines = []
    for baseline, exps in grouped.items():
        if name_only:
            lines += [name for name, _ in exps]
            continue
        lines.append(f"{names.get(baseline, baseline[:7])}:")
        lines += [f"\t{sha[:7]} [{name}]" for name, sha in exps]
    return "\n".join(lines) + ("\n" if lines else "")
