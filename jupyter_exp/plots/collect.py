"""Revisions in, one record per plot out: what ``plots show``/``plots diff`` draw.

For each revision (the workspace or a commit, read through the revision view) the
definitions are collected and every file they read is parsed once; then the plots
are grouped by id across revisions, as DVC's ``match_defs_renderers`` groups them:
an id defined in several config files becomes ``config::id``, a plot's properties
are its first revision's (later revisions fill what is missing), a revision whose
files cannot be read or do not fit the definition is skipped with its error kept.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from ..errors import JupyterExpError
from ..project import Project
from ..revision import RevisionTree
from ..tree import GitTree, WorkspaceTree
from .convert import PlotDataError, vega_datapoints
from .definitions import Definitions, collect_definitions, plot_id
from .sources import IMAGE_EXTENSIONS, PlotError, read_source

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """One side to plot: ``label`` as the user named it (DVC's key), ``rev`` its commit
    (None for the workspace)."""

    label: str
    rev: str | None = None


@dataclass(frozen=True)
class Image:
    rev: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Plot:
    """One plot across revisions.

    ``kind`` is ``vega`` (``datapoints`` and ``props`` fill a template) or ``image``
    (``images``, one per revision that has the file). ``revisions``: those with data.
    ``source_errors`` (rev, file, error) and ``definition_errors`` (rev, error) are the
    revisions left out, as DVC reports them.
    """

    id: str
    kind: str
    props: dict[str, Any] = field(default_factory=dict)
    datapoints: tuple[dict, ...] = ()
    images: tuple[Image, ...] = ()
    revisions: tuple[str, ...] = ()
    source_errors: tuple[tuple[str, str, PlotError], ...] = ()
    definition_errors: tuple[tuple[str, PlotError], ...] = ()

    @property
    def template(self) -> str:
        return self.props.get("template") or "linear"


@dataclass(frozen=True)
class PlotSet:
    """Every plot of the revisions asked for, in DVC's order; ``errors``: revisions whose
    definitions could not be collected (a broken ``dvc.yaml``)."""

    revisions: tuple[str, ...]
    plots: tuple[Plot, ...] = ()
    errors: tuple[tuple[str, PlotError], ...] = ()


def data_sources(inner_id: str, props: dict) -> list[str]:
    """The files a definition reads: the ``y`` files (else the id), and the first ``x`` file."""
    y, x = props.get("y"), props.get("x")
    sources = list(y) if isinstance(y, dict) else [inner_id]
    if isinstance(x, dict) and x:
        sources.append(next(iter(x)))
    return list(dict.fromkeys(sources))


def is_image(path: str) -> bool:
    return posixpath.splitext(path)[1] in IMAGE_EXTENSIONS


def view_of(project: Project, revision: Revision, memo: dict) -> RevisionTree:
    """The revision view of one side."""
    inner = (
        WorkspaceTree(project.root)
        if revision.rev is None
        else GitTree(project.git, revision.rev, name=revision.label, memo=memo)
    )
    return RevisionTree(project, inner, memo)


def collect_plots(
    project: Project, revisions: list[Revision], targets: list[str] | None = None, props: dict | None = None
) -> PlotSet:
    """The plots of ``revisions`` (the workspace first, as DVC orders them).

    ``targets`` select plots (ids, paths, patterns); ``props`` (``template``, ``x``,
    ``y``, ``title``, ``x_label``, ``y_label``, ``header``) override the definitions'.
    """
    targets, props = list(targets or []), dict(props or {})
    ordered = sorted(dict((r.label, r) for r in revisions).values(), key=lambda r: r.label != WORKSPACE)
    memo: dict = {}
    per_rev: dict[str, tuple[Definitions, dict[str, tuple[Any, PlotError | None]]]] = {}
    errors: list[tuple[str, PlotError]] = []
    ahead: dict[str, dict[str, Any]] = {}
    first = next((r for r in ordered if r.rev is not None), None)
    for index, revision in enumerate(ordered):
        view = view_of(project, revision, memo)
        if isinstance(view.inner, GitTree) and revision.label in ahead:
            view.inner.prefetched(ahead.pop(revision.label))
        try:
            definitions = collect_definitions(project, view, targets, props)
        except JupyterExpError as exc:
            errors.append((revision.label, PlotError.of(exc)))
            continue
        per_rev[revision.label] = (definitions, _read_sources(project, view, definitions))
        if isinstance(view.inner, GitTree) and revision is first:
            # The first commit read: the others (experiments of one pipeline, mostly) read the
            # same paths; ask git for all of them at once instead of one exchange per file.
            ahead = _read_ahead(project, view.inner, ordered[index + 1 :])
    plots = [_plot(pid, group, per_rev) for pid, group in _groups(per_rev).items()]
    return PlotSet(tuple(r.label for r in ordered), tuple(plots), tuple(errors))


def _read_ahead(project: Project, read: GitTree, rest: list[Revision]) -> dict[str, dict[str, Any]]:
    """The objects ``read`` read, at each commit of ``rest``, in one pipelined exchange with git."""
    paths = read.paths_read
    revs = [r for r in rest if r.rev is not None]
    answers = iter(project.git.read_objects([f"{r.rev}:{path}" for r in revs for path in paths]))
    return {r.label: {path: next(answers) for path in paths} for r in revs}


def _read_sources(
    project: Project, view: RevisionTree, definitions: Definitions
) -> dict[str, tuple[Any, PlotError | None]]:
    """Every file the definitions read, parsed once (``header: false`` if a definition says so)."""
    headers: dict[str, bool] = {}
    for content in definitions.values():
        for inner_id, props in content.items():
            for source in data_sources(inner_id, props):
                headers[source] = headers.get(source, True) and props.get("header", True) is not False
    return {source: read_source(project, view, source, header) for source, header in headers.items()}


def _groups(per_rev: dict) -> dict[str, list[tuple[str, str, dict]]]:
    """plot id -> [(rev, id in its config, definition)], revisions in order."""
    groups: dict[str, list[tuple[str, str, dict]]] = {}
    for rev, (definitions, _) in per_rev.items():
        configs_of: dict[str, dict[str, dict]] = {}
        for config, content in definitions.items():
            for inner_id, definition in content.items():
                configs_of.setdefault(inner_id, {})[config] = definition
        for inner_id, configs in configs_of.items():
            for config, definition in configs.items():
                pid = inner_id if len(configs) == 1 else plot_id(config, inner_id)
                groups.setdefault(pid, []).append((rev, inner_id, definition))
    return groups


def _plot(pid: str, group: list[tuple[str, str, dict]], per_rev: dict) -> Plot:
    """One plot from its definitions at each revision."""
    props: dict = {}
    for _, _, definition in reversed(group):  # the first revision's properties win
        props = {**props, **definition}
    kind, name = "vega", pid
    points: list[dict] = []
    images: list[Image] = []
    revs: list[str] = []
    first: dict = {}
    source_errors: list[tuple[str, str, PlotError]] = []
    definition_errors: list[tuple[str, PlotError]] = []
    for rev, inner_id, definition in group:
        sources = per_rev[rev][1]
        wanted = data_sources(inner_id, definition)
        data = {s: sources[s][0] for s in wanted if s in sources and sources[s][0]}
        source_errors += [(rev, s, sources[s][1]) for s in wanted if s in sources and sources[s][1] is not None]
        kind, name = ("image", inner_id) if is_image(inner_id) else ("vega", pid)
        if kind == "image":
            found_images = [Image(rev, filename, content) for filename, content in data.items()]
            images += found_images
            found, rev_props = bool(found_images), dict(props)
        else:
            try:
                found_points, rev_props = vega_datapoints(inner_id, props, data, rev)
            except PlotDataError as exc:
                definition_errors.append((rev, PlotError.of(exc)))
                continue
            points += found_points
            found = bool(found_points)
        if found and rev not in revs:
            revs.append(rev)
        if not first and rev_props:
            first = rev_props
    first.setdefault("title", name)
    if revs:
        first["revs_with_datapoints"] = list(revs)
    return Plot(
        id=name,
        kind=kind,
        props=first,
        datapoints=tuple(points),
        images=tuple(images),
        revisions=tuple(revs),
        source_errors=tuple(source_errors),
        definition_errors=tuple(definition_errors),
    )
