"""Params and metrics of a revision, and their differences (``params diff``,
``metrics show``, ``metrics diff``), as records; rendering reads the records.

Params are those the pipeline names (stage ``params``, top-level ``params``) plus
``params.yaml`` in full; metrics are stage ``metrics`` outputs and top-level
``metrics``. Every file is read through the revision view (``revision.py``): a
cached metric, or one inside a cached output directory, comes from the cache
through that revision's ``dvc.lock`` or ``.dvc`` files, as DVC reads it.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from .errors import JupyterExpError
from .params import DEFAULT_PARAMS_FILE, MISSING, flatten, lookup, parse_params
from .pipeline.dvcfile import Pipeline, load_pipeline
from .project import Project
from .revision import revision_tree
from .serialize import parse_yaml
from .tree import GitTree, Tree, WorkspaceTree

WORKSPACE = "workspace"


@dataclass(frozen=True)
class DiffRow:
    """One changed (or, with ``all``, unchanged) param or metric."""

    path: str
    key: str
    old: Any
    new: Any
    change: Any = None


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


def _error(exc: BaseException) -> dict:
    return {"error": {"type": type(exc).__name__, "msg": str(exc)}}


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


def read_params(project: Project, tree: Tree | None, deps_only: bool = False,
                pipeline: Pipeline | None = None) -> dict[str, dict]:
    """``{file: {"data": nested}}`` (or ``{"error": ...}``) for the params tracked at ``tree``.

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
            elif wanted.get(dep.path, set()) is not None:
                wanted.setdefault(dep.path, set()).update(dep.keys)
    if not deps_only:
        for file in pipeline.params:
            wanted[file] = None
        if tree.exists(DEFAULT_PARAMS_FILE):
            wanted[DEFAULT_PARAMS_FILE] = None
    result: dict[str, dict] = {}
    for file in sorted(wanted, key=lambda f: (f != DEFAULT_PARAMS_FILE, f)):
        try:
            data = tree.load(file, parse_params)
        except (JupyterExpError, UnicodeDecodeError) as exc:
            result[file] = _error(exc)
            continue
        if data is None:
            continue
        keys = wanted[file]
        result[file] = {"data": data if keys is None else _select(data, keys)}
    if not deps_only:
        for file, values in _tracked_vars(project, tree, pipeline).items():
            result.setdefault(file, {"data": values})
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
        file = project.resolve_relpath(entry.partition(":")[0], base, where=f"{pipeline.dvcfile}, vars",
                                       follow_links=False)
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
    """Top-level metrics files and stage ``metrics`` outputs, project-relative."""
    files = dict.fromkeys(pipeline.metrics)
    for stage in pipeline.stages:
        files.update(dict.fromkeys(out.path for out in stage.outs if out.kind == "metrics"))
    return sorted(files)


def _metric_values(data: Any) -> Any:
    """Numbers and strings, nested in mappings; lists and the rest are dropped (as DVC)."""
    if isinstance(data, dict):
        kept = {k: _metric_values(v) for k, v in data.items()}
        return {k: v for k, v in kept.items() if v is not MISSING}
    return data if isinstance(data, (int, float, str)) else MISSING


def read_metrics(project: Project, tree: Tree | None, pipeline: Pipeline | None = None) -> dict[str, dict]:
    """``{file: {"data": nested}}`` or ``{file: {"error": ...}}`` for the metrics at ``tree``."""
    if tree is None:
        return {}
    pipeline = pipeline or load_pipeline(project.root, tree=tree)
    tree = revision_tree(project, tree)
    result: dict[str, dict] = {}
    for path in _metric_files(pipeline):
        try:
            data = tree.load(path, parse_params)
            if data is None:
                raise FileNotFoundError(f"'{path}' does not exist")
            values = _metric_values(data)
            result[path] = {"data": values if isinstance(values, dict) else {}}
        except (JupyterExpError, FileNotFoundError, UnicodeDecodeError) as exc:
            result[path] = _error(exc)
    return result


def flat_data(files: dict[str, dict]) -> dict[str, dict]:
    """``{file: {"data": nested}}`` -> ``{file: {flat.key: value}}``, errors left out."""
    return {f: flatten(v["data"]) for f, v in files.items() if "data" in v}


def collect_params(project: Project, tree: Tree | None, deps_only: bool = False) -> dict[str, dict]:
    """``{file: {flat.key: value}}`` for the params the project tracks at ``tree``."""
    return flat_data(read_params(project, tree, deps_only))


def collect_metrics(project: Project, tree: Tree | None) -> dict[str, dict]:
    """``{file: {"data": {flat.key: value}}}`` or ``{file: {"error": {...}}}``."""
    return {
        f: ({"data": flatten(v["data"])} if "data" in v else v)
        for f, v in read_metrics(project, tree).items()
    }


def _number(value: Any) -> bool:
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


def params_diff(project: Project, a_rev: str | None = "HEAD", b_rev: str | None = None,
                all: bool = False, deps: bool = False) -> list[DiffRow]:
    """Params that differ between two revisions (default HEAD and the workspace)."""
    old = collect_params(project, tree_for(project, a_rev or "HEAD"), deps)
    new = collect_params(project, tree_for(project, b_rev), deps)
    return diff_values(old, new, all, numeric=False)


def metrics_show(project: Project, revs: list[str] | None = None) -> dict[str, dict]:
    """``{rev: {file: {"data": {...}}}}``; the workspace is keyed ``workspace``."""
    return {rev or WORKSPACE: collect_metrics(project, tree_for(project, rev)) for rev in (revs or [None])}


def _data(collected: dict[str, dict]) -> dict[str, dict]:
    return {path: value.get("data", {}) for path, value in collected.items()}


def metrics_diff(project: Project, a_rev: str | None = "HEAD", b_rev: str | None = None,
                 all: bool = False) -> list[DiffRow]:
    """Metrics that differ between two revisions, with the numeric change."""
    old = _data(collect_metrics(project, tree_for(project, a_rev or "HEAD")))
    new = _data(collect_metrics(project, tree_for(project, b_rev)))
    return diff_values(old, new, all, numeric=True)


# -- rendering ------------------------------------------------------------------
def format_value(value: Any, precision: int | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and precision is not None:
        return f"{value:.{precision}g}"
    if isinstance(value, bool):
        return str(value)
    return str(value)


def diff_json(rows: list[DiffRow], with_change: bool) -> str:
    out: dict[str, dict] = {}
    for row in rows:
        item = {"old": row.old, "new": row.new}
        if with_change:
            item["diff"] = row.change
        out.setdefault(row.path, {})[row.key] = item
    return json.dumps(out, indent=2, default=str)


def table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """A plain-text or Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [headers, *rows]) + "\n"


def diff_table(rows: list[DiffRow], a_name: str, b_name: str, with_change: bool,
               markdown: bool = False, precision: int | None = None, what: str | None = None) -> str:
    headers = ["Path", what or ("Metric" if with_change else "Param"), a_name, b_name]
    if with_change:
        headers.append("Change")
    body = []
    for row in rows:
        cells = [row.path, row.key, format_value(row.old, precision), format_value(row.new, precision)]
        if with_change:
            cells.append(format_value(row.change, precision))
        body.append(cells)
    return table(headers, body, markdown)
