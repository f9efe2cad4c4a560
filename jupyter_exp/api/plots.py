"""Plots: ``plots_show`` and ``plots_diff`` (DVC's ``plots show``/``plots diff``),
``plots_templates``, and ours: ``plots_trends`` (each metric over the experiments' steps;
``kind="commits"``: a metric over the baseline commits, as the table's Plot panel shows it).

Both return a :class:`~jupyter_exp.plots.display.PlotsView`: in a notebook it shows
each plot as Vega-Lite (``application/vnd.vegalite.v5+json``, with HTML and PNG
fallbacks); from Python ``.specs`` holds the Vega-Lite specs by plot id and
``.to_json()`` DVC's ``--json``.
"""

from __future__ import annotations

from . import as_list, project_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..plots.collect import Revision
    from ..plots.commits import CommitsView
    from ..plots.display import PlotsView
    from ..project import Project

__all__ = ["plots_diff", "plots_show", "plots_templates", "plots_trends"]


def _props(
    template: str | None,
    x: str | None,
    y: str | None,
    header: bool | None,
    title: str | None,
    x_label: str | None,
    y_label: str | None,
) -> dict:
    """The properties given by the caller (``None``: keep each definition's own)."""
    given = dict(template=template, x=x, y=y, header=header, title=title, x_label=x_label, y_label=y_label)
    return {key: value for key, value in given.items() if value is not None}


def _check_targets(project: Project, targets: list[str]) -> list[str]:
    """Targets as DVC takes them (plot ids or paths), refusing a path that leaves the project."""
    from ..errors import PathError

    for target in targets:
        if target.startswith(("/", "../")) or target == ".." or "/../" in target:
            try:
                project.resolve_relpath(target, where="plots target", follow_links=False)
            except PathError:
                raise PathError(f"Plots target '{target}' is outside the project; name a file inside it.") from None
    return targets


def plots_show(
    targets: list[str] | str | None = None,
    *,
    template: str | None = None,
    x: str | None = None,
    y: str | None = None,
    header: bool | None = None,
    title: str | None = None,
    x_label: str | None = None,
    y_label: str | None = None,
    root: str | None = None,
) -> PlotsView:
    """The plots of the workspace: every plot ``dvc.yaml`` defines, or ``targets``
    (plot ids, files or patterns). ``template``, ``x``, ``y``, ``title``, ``x_label``,
    ``y_label`` and ``header`` (False: CSV/TSV files without a header row) override
    each plot's own.

    Raises:
        PathError: a target outside the project.
    """
    from ..plots.collect import Revision, collect_plots
    from ..plots.display import PlotsView

    project = project_at(root)
    props = _props(template, x, y, header, title, x_label, y_label)
    chosen = _check_targets(project, as_list(targets) or [])
    return PlotsView(project, collect_plots(project, [Revision("workspace")], chosen, props))


def _revisions(project: Project, specs: list[str], experiment: bool) -> list[Revision]:
    """The sides of ``plots diff`` as DVC picks them: none given, the workspace (and
    HEAD when tracked files changed); one given, it and the workspace (with
    ``experiment``, it and its baseline)."""
    from ..experiments.catalog import list_experiments
    from ..experiments.resolve import WORKSPACE, resolve
    from ..plots.collect import Revision

    if project.git.head() is None:
        return []
    experiments = list_experiments(project)
    targets = [resolve(project, s, experiments, workspace=True, checkpoints=True, revisions=True) for s in specs]
    chosen = [Revision(WORKSPACE if t.rev is None else s, t.rev) for s, t in zip(specs, targets)]
    if experiment and len(targets) == 1 and targets[0].baseline:
        chosen.append(Revision(targets[0].baseline[:7], targets[0].baseline))
    if len(chosen) <= 1:
        if not chosen and project.git.has_tracked_changes():
            chosen.append(Revision("HEAD", project.git.rev_parse("HEAD")))
        chosen.append(Revision(WORKSPACE))
    return chosen


def plots_diff(
    *revisions: str | list[str],
    targets: list[str] | str | None = None,
    experiment: bool = False,
    template: str | None = None,
    x: str | None = None,
    y: str | None = None,
    header: bool | None = None,
    title: str | None = None,
    x_label: str | None = None,
    y_label: str | None = None,
    root: str | None = None,
) -> PlotsView:
    """The plots of several revisions overlaid: ``plots_diff("sweep-1", "sweep-2", "main")``.

    Each revision is an experiment name, a commit, a branch or ``workspace``. None
    given: the workspace against HEAD when tracked files changed; one given: it against
    the workspace (``experiment=True``: against its baseline). Other arguments as
    :func:`plots_show`.

    Raises:
        UnknownExperimentError: a revision that names nothing.
        PathError: a target outside the project.
    """
    from ..plots.collect import collect_plots
    from ..plots.display import PlotsView

    project = project_at(root)
    specs = [spec for item in revisions for spec in (item if isinstance(item, (list, tuple)) else [item])]
    props = _props(template, x, y, header, title, x_label, y_label)
    chosen = _check_targets(project, as_list(targets) or [])
    return PlotsView(project, collect_plots(project, _revisions(project, specs, experiment), chosen, props))


def plots_templates(name: str | None = None) -> list[str] | dict:
    """DVC's template names, or one template's Vega-Lite spec (anchors unfilled).

    Raises:
        TemplateError: no built-in template has that name.
    """
    from ..plots.templates import builtin_content, builtin_names

    return builtin_names() if name is None else builtin_content(name)


def plots_trends(
    *revisions: str | list[str],
    live_dir: str = "dvclive",
    root: str | None = None,
    kind: str = "steps",
    metric: str | None = None,
    num: int = 1,
    all_commits: bool = False,
    experiments: bool = True,
) -> PlotsView | CommitsView:
    """Each metric over the steps of the chosen experiments: one plot per DVCLive
    history (``live_dir/plots/metrics/*.tsv``), one line per experiment.

    Each revision is an experiment name, a commit, a branch or ``workspace``; none
    given: the workspace and every experiment of HEAD. Returns a view as
    :func:`plots_diff` does.

    ``kind="commits"``: instead, ``metric`` (default: the first metric with values at
    two commits) over the baseline commits ``exp show`` collects with ``num`` /
    ``all_commits`` (or the revisions given, as its ``--rev``), one point per commit,
    each commit's experiments as points coloured by name (``experiments=False``: none); returns a
    :class:`~jupyter_exp.plots.commits.CommitsView` (``.spec``, ``.points``).

    Raises:
        UnknownExperimentError: a revision that names nothing.
        PathError: ``live_dir`` outside the project.
        TrendError: an unknown ``kind``, an unknown ``metric``, fewer than two commits with values.
    """
    from ..plots.commits import TrendError

    if kind not in ("steps", "commits"):
        raise TrendError(f"Unknown trends kind '{kind}'; use steps (metrics over steps) or commits.")
    if kind == "commits":
        return _commit_trend(revisions, metric, num, all_commits, experiments, root)
    from ..experiments.catalog import list_experiments
    from ..plots.collect import Revision
    from ..plots.display import PlotsView
    from ..plots.trends import collect_trends

    project = project_at(root)
    specs = [spec for item in revisions for spec in (item if isinstance(item, (list, tuple)) else [item])]
    if specs:
        chosen = _revisions(project, specs, experiment=False)
    else:
        head = project.git.head()
        mine = sorted((e for e in list_experiments(project) if e.ref.baseline == head), key=lambda e: e.created)
        chosen = [Revision("workspace")] + [Revision(e.ref.name, e.rev) for e in mine]
    return PlotsView(project, collect_trends(project, chosen, live_dir))


def _commit_trend(
    revisions: tuple, metric: str | None, num: int, all_commits: bool, experiments: bool, root: str | None
) -> CommitsView:
    """``plots_trends(kind="commits")``: the rows ``exp show`` collects, the metric over their commits."""
    from ..experiments.show import select
    from ..options import ShowOptions
    from ..plots.commits import CommitsView, TrendError, commit_trend

    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise TrendError(f"num must be a whole number of commits, 1 or more (got {num!r}).")
    project = project_at(root)
    revs = tuple(spec for item in revisions for spec in (item if isinstance(item, (list, tuple)) else [item]))
    options = ShowOptions(revs=revs or None, num=num, all_commits=all_commits)
    rows, cols = select(project, options)
    label, spec = commit_trend(rows, cols, metric, experiments=experiments, strict=True)
    if spec is None or label is None:
        raise TrendError("Fewer than two commits have metrics; show more with num=N or all_commits=True.")
    return CommitsView(label, spec)
