"""Params and metrics of a revision, and their differences (``params diff``,
``metrics show``, ``metrics diff``), as records (``values.py``); rendering
(``render/``) reads the records.

Params are those the pipeline names (stage ``params``, top-level ``params``) plus
``params.yaml`` in full; metrics are stage ``metrics`` outputs and top-level
``metrics``. Every file is read through the revision view (``revision.py``): a
cached metric, or one inside a cached output directory, comes from the cache
through that revision's ``dvc.lock`` or ``.dvc`` files, as DVC reads it.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, TypeGuard

from .errors import JupyterExpError
from .params import DEFAULT_PARAMS_FILE, MISSING, lookup, parse_params
from .pipeline.dvcfile import Pipeline, load_pipeline
from .project import Project
from .refs import EXPS_GLOB, HEADS, OWN_GLOB, TAGS
from .render import json as render_json
from .revision import revision_tree
from .serialize import parse_yaml
from .tree import GitTree, Tree, WorkspaceTree
from .values import DiffRow, FileValues, flat_values

WORKSPACE = "workspace"


def tree_for(project: Project, rev: str | None) -> Tree | None:
    """The workspace (``rev`` None or "workspace") or a commit, through the revision
    view; None for an unborn HEAD."""
    if rev in (None, WORKSPACE):
        return revision_tree(project, WorkspaceTree(project.root))
    sha = project.git.rev_parse(rev)
    if sha is None:
        if rev == "HEAD":
            return None
        raise JupyterExpError(f"Unknown revision '{rev}'; use a commit, branch or tag.")
    return revision_tree(project, GitTree(project.git, sha, rev))


def _select(data: dict, keys: set[str]) -> dict:
    """The part of ``data`` the dotted ``keys`` name, nested as in the file."""
    selected: dict = {}
    for key in sorted(keys):
        value = lookup(data, key)
        if value is MISSING:
            continue
        node = selected
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return selected


def read_params(
    project: Project, tree: Tree | None, deps_only: bool = False, pipeline: Pipeline | None = None
) -> dict[str, FileValues]:
    """The values of each params file tracked at ``tree``.

    Stage params dependencies (only the keys they name), top-level ``params`` files,
    and, unless ``deps_only``, ``params.yaml`` in full.
    """
    if tree is None:
        return {}
    pipeline = pipeline or load_pipeline(project.root, tree=tree)
    tree = revision_tree(project, tree)
    wanted: dict[str, set[str] | None] = {}  # None: the whole file
    for stage in pipeline.stages:
        for dep in stage.params:
            if not dep.keys:
                wanted[dep.path] = None
            elif (keys := wanted.setdefault(dep.path, set())) is not None:
                keys.update(dep.keys)
    if not deps_only:
        for file in pipeline.params:
            wanted[file] = None
        if tree.exists(DEFAULT_PARAMS_FILE):
            wanted[DEFAULT_PARAMS_FILE] = None
    result: dict[str, FileValues] = {}
    for file in sorted(wanted, key=lambda f: (f != DEFAULT_PARAMS_FILE, f)):
        try:
            data = tree.load(file, parse_params)
        except (JupyterExpError, UnicodeDecodeError) as exc:
            result[file] = FileValues.failed(exc)
            continue
        if data is None:
            continue
        keys = wanted[file]
        result[file] = FileValues(data if keys is None else _select(data, keys))
    if not deps_only:
        for file, values in _tracked_vars(project, tree, pipeline).items():
            result.setdefault(file, FileValues(values))
    return result


_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}")
_LOOP_NAMES = frozenset({"item", "key"})


def _interpolated(node: Any, found: list[str]) -> None:
    if isinstance(node, str):
        found += _INTERPOLATION.findall(node)
    elif isinstance(node, dict):
        for k, v in node.items():
            _interpolated(k, found)
            _interpolated(v, found)
    elif isinstance(node, list):
        for v in node:
            _interpolated(v, found)


def _tracked_vars(project: Project, tree: Tree, pipeline: Pipeline) -> dict[str, dict]:
    """``{vars file: {dotted.key: value}}`` for the keys of ``vars:`` files that stages
    interpolate: DVC shows them as params columns, keyed by the dotted name as used."""
    raw = tree.load(pipeline.dvcfile, parse_yaml)
    if not isinstance(raw, dict) or not isinstance(raw.get("stages"), dict):
        return {}
    base = posixpath.dirname(pipeline.dvcfile) or "."
    files = [v for v in raw.get("vars") or [] if isinstance(v, str)]
    for stage in raw["stages"].values():
        if isinstance(stage, dict):
            files += [v for v in stage.get("vars") or [] if isinstance(v, str)]
    if not files:
        return {}
    used: list[str] = []
    _interpolated(raw["stages"], used)
    result: dict[str, dict] = {}
    for entry in dict.fromkeys(files):
        file = project.resolve_relpath(
            entry.partition(":")[0], base, where=f"{pipeline.dvcfile}, vars", follow_links=False
        )
        try:
            data = tree.load(file, parse_params)
        except JupyterExpError:
            continue
        if not isinstance(data, dict):
            continue
        for key in dict.fromkeys(used):
            if key.split(".")[0] in _LOOP_NAMES:
                continue
            value = lookup(data, key)
            if value is not MISSING:
                result.setdefault(file, {})[key] = value
    return result


def _metric_files(pipeline: Pipeline) -> list[str]:
    """Top-level metrics files, then stage ``metrics`` outputs, project-relative, in the
    order ``dvc.yaml`` lists them (as DVC shows them)."""
    files = dict.fromkeys(pipeline.metrics)
    for stage in pipeline.stages:
        files.update(dict.fromkeys(out.path for out in stage.outs if out.kind == "metrics"))
    return list(files)


def _metric_values(data: Any) -> Any:
    """Numbers and strings, nested in mappings; lists and the rest are dropped (as DVC)."""
    if isinstance(data, dict):
        kept = {k: _metric_values(v) for k, v in data.items()}
        return {k: v for k, v in kept.items() if v is not MISSING}
    return data if isinstance(data, (int, float, str)) else MISSING


def read_metrics(project: Project, tree: Tree | None, pipeline: Pipeline | None = None) -> dict[str, FileValues]:
    """The values of each metrics file at ``tree`` (a file the revision lacks: an
    error, as DVC reports it)."""
    if tree is None:
        return {}
    pipeline = pipeline or load_pipeline(project.root, tree=tree)
    tree = revision_tree(project, tree)
    result: dict[str, FileValues] = {}
    for path in _metric_files(pipeline):
        try:
            data = tree.load(path, parse_params)
        except (JupyterExpError, UnicodeDecodeError) as exc:
            result[path] = FileValues.failed(exc)
            continue
        if data is None:
            result[path] = FileValues.missing(path)
            continue
        values = _metric_values(data)
        result[path] = FileValues(values if isinstance(values, dict) else {})
    return result


def flat_data(files: dict[str, FileValues] | dict[str, dict]) -> dict[str, dict]:
    """``{file: {flat.key: value}}``, files that could not be read left out. Takes the
    records, or DVC's ``{file: {"data"|"error"}}`` shape the api returns."""
    return flat_values({f: v if isinstance(v, FileValues) else FileValues.from_dvc(v) for f, v in files.items()})


def collect_params(project: Project, tree: Tree | None, deps_only: bool = False) -> dict[str, dict]:
    """``{file: {flat.key: value}}`` for the params the project tracks at ``tree``."""
    return flat_values(read_params(project, tree, deps_only))


def collect_metrics(project: Project, tree: Tree | None) -> dict[str, dict]:
    """``{file: {"data": {flat.key: value}}}`` or ``{file: {"error": {...}}}`` (the api's
    shape)."""
    return {f: ({"data": v.flat} if v.error is None else v.to_dvc()) for f, v in read_metrics(project, tree).items()}


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def diff_values(old: dict[str, dict], new: dict[str, dict], all: bool, numeric: bool) -> list[DiffRow]:
    rows = []
    for path in sorted(set(old) | set(new), key=lambda f: (f != DEFAULT_PARAMS_FILE, f)):
        a, b = old.get(path, {}), new.get(path, {})
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key), b.get(key)
            if va == vb and type(va) is type(vb) and not all:
                continue
            change = vb - va if numeric and _number(va) and _number(vb) else None
            rows.append(DiffRow(path, key, va, vb, change))
    return rows


def params_diff(
    project: Project, a_rev: str | None = "HEAD", b_rev: str | None = None, all: bool = False, deps: bool = False
) -> list[DiffRow]:
    """Params that differ between two revisions (default HEAD and the workspace)."""
    old = collect_params(project, tree_for(project, a_rev or "HEAD"), deps)
    new = collect_params(project, tree_for(project, b_rev), deps)
    return diff_values(old, new, all, numeric=False)


def metrics_show(project: Project, revs: list[str] | None = None) -> dict[str, dict]:
    """``{rev: {file: {"data": {...}}}}``; the workspace is keyed ``workspace``."""
    wanted: list[str | None] = list(revs) if revs else [None]  # None: the workspace
    return {rev or WORKSPACE: collect_metrics(project, tree_for(project, rev)) for rev in wanted}


def metric_revisions(
    project: Project, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False
) -> list[str]:
    """The revisions ``metrics show`` reads, as DVC's brancher names them: ``""`` (the
    workspace alone), or ``workspace`` then branch names, tags, or every commit's SHA."""
    if not (all_branches or all_tags or all_commits):
        return [""]
    found = [WORKSPACE]
    if all_commits:
        return found + project.git.rev_list(all_refs_but=(EXPS_GLOB, OWN_GLOB), check=False)
    if all_branches:
        found += [row[0] for row in project.git.for_each_ref(HEADS, ["refname:short"])]
    if all_tags:
        found += [row[0] for row in project.git.for_each_ref(TAGS, ["refname:short"])]
    return list(dict.fromkeys(found))


def metrics_by_revision(project: Project, revs: list[str]) -> dict[str, dict[str, FileValues]]:
    """``{rev: {file: values}}`` for ``metrics show``; the workspace is left out when it
    equals its branch, as DVC leaves it out."""
    shown = {rev: read_metrics(project, tree_for(project, rev or None)) for rev in revs}
    branch = project.git.current_branch()
    if branch and WORKSPACE in shown and shown[WORKSPACE] == shown.get(branch):
        del shown[WORKSPACE]
    return shown


def metrics_show_dvc(project: Project, revs: list[str]) -> dict[str, dict]:
    """``dvc metrics show --json``'s shape: ``{rev: {"data": {file: {"data": nested}}}}``
    (a file that cannot be read: ``{"error": {"type", "msg"}}``)."""
    return render_json.metrics_show(metrics_by_revision(project, revs))


def metrics_diff(
    project: Project, a_rev: str | None = "HEAD", b_rev: str | None = None, all: bool = False
) -> list[DiffRow]:
    """Metrics that differ between two revisions, with the numeric change."""
    old = flat_values(read_metrics(project, tree_for(project, a_rev or "HEAD")))
    new = flat_values(read_metrics(project, tree_for(project, b_rev)))
    return diff_values(old, new, all, numeric=True)
