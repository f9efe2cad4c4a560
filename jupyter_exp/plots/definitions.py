"""Which plots a revision defines, collected as DVC 3 collects them.

Three places define plots (``dvc/repo/plots/__init__.py``'s ``_collect_definitions``):

1. the top-level ``plots:`` of every ``dvc.yaml``: a path (a file, or a directory
   whose files are each a plot), ``{path: props}``, or ``{id: {x, y: {file: fields}}}``
   whose id is a name and whose files are the keys of ``y`` (and ``x``). Paths are
   relative to the ``dvc.yaml``; a file inside a directory plot that another
   definition names more closely is left to that definition;
2. stages' ``plots`` outputs, with their properties, under the config file ``""``;
3. targets that name a file no definition covers, plotted with the command's props.

The result is ``{config file: {plot id: props}}`` in DVC's order; targets filter
ids as DVC does (``re.match`` on the id or ``config::id``).
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

from ..errors import JupyterExpError, PipelineError
from ..pipeline.dvcfile import Pipeline, load_all
from ..project import Project
from ..revision import RevisionTree
from ..serialize import parse_yaml
from ..tree import GitTree, WorkspaceTree

DEFINITION_KEYS = frozenset({"x", "y", "x_label", "y_label", "title", "template"})
Definitions = dict[str, dict[str, dict]]  # config file -> plot id -> props


def plot_id(config: str, inner_id: str) -> str:
    """DVC's id of a plot defined in several config files: ``config::id``."""
    return f"{config}::{inner_id}" if config else inner_id


def matches(targets: list[str], config: str, inner_id: str) -> bool:
    """Whether ``targets`` (patterns, as DVC takes them) select this plot."""
    if not targets:
        return True
    full = plot_id(config, inner_id)
    for target in targets:
        try:
            if re.match(target, inner_id) or re.match(target, full):
                return True
        except re.error:  # not a pattern: a plain path
            if target in (inner_id, full):
                return True
    return False


def collect_definitions(project: Project, view: RevisionTree, targets: list[str], props: dict[str, Any]) -> Definitions:
    """Every plot definition at ``view``, with the command's ``props`` over their own.

    Raises:
        JupyterExpError: a ``dvc.yaml`` that does not load, or plots that are not valid
            (the revision's definitions then fail as a whole, as in DVC).
    """
    pipelines = load_all(project, view.inner)
    result: Definitions = {}
    for pipeline in pipelines:
        if pipeline.plots:
            _merge(result, pipeline.dvcfile, _top_level(project, view, pipeline, targets, props))
    stage_plots: dict[str, dict] = {}
    for pipeline in pipelines:
        for stage in pipeline.stages:
            for out in stage.outs:
                if out.kind == "plots" and matches(targets, pipeline.dvcfile, out.path):
                    for path in files_under(project, view, out.path):
                        stage_plots[path] = {**stage_plots.get(path, {}), **(out.plot or {}), **props}
    if stage_plots:
        _merge(result, "", stage_plots)
    for target in targets:
        if not result or _exists(project, view, target):
            _merge(result, "", {path: dict(props) for path in files_under(project, view, _normpath(target))})
    return result


def _merge(result: Definitions, config: str, plots: dict[str, dict]) -> None:
    into = result.setdefault(config, {})
    for inner_id, props in plots.items():
        into[inner_id] = {**into.get(inner_id, {}), **props}


def _normpath(path: str) -> str:
    return posixpath.normpath(path)


def _exists(project: Project, view: RevisionTree, path: str) -> bool:
    path = _normpath(path)
    try:
        return view.exists(path) or files_under(project, view, path) != [path]
    except (JupyterExpError, OSError):
        return False


def _entries(view: RevisionTree, pipeline: Pipeline) -> dict[str, dict]:
    """``plots:`` of one ``dvc.yaml`` as ``{id: props}``, checked as DVC's schema checks it."""
    where = f"{pipeline.dvcfile}, plots"
    found: dict[str, dict] = {}
    raw = view.inner.load(pipeline.dvcfile, parse_yaml)  # as written (the pipeline keeps a tuple)
    plots = raw.get("plots") if isinstance(raw, dict) else None
    if not isinstance(plots, list):
        raise PipelineError(f"{where} must be a list; write it as a YAML list.")
    for item in plots:
        if isinstance(item, str):
            found[item] = {}
            continue
        if not (isinstance(item, dict) and len(item) == 1):
            raise PipelineError(f"{where}: bad entry {item!r}; write a path or {{id: {{x, y, template}}}}.")
        inner_id, props = next(iter(item.items()))
        props = props or {}
        if not isinstance(props, dict) or set(props) - DEFINITION_KEYS:
            unknown = sorted(set(props) - DEFINITION_KEYS) if isinstance(props, dict) else ["?"]
            raise PipelineError(f"{where}: '{inner_id}' has unknown property '{unknown[0]}'; use x, y, template ...")
        _check_axes(props, f"{where}, '{inner_id}'")
        found[str(inner_id)] = dict(props)
    return found


def _check_axes(props: dict, where: str) -> None:
    x, y = props.get("x"), props.get("y")
    if x is not None and not isinstance(x, str) and not (isinstance(x, dict) and _fields_ok(x, lists=False)):
        raise PipelineError(f"{where}: x must be a field or {{file: field}}.")
    if y is not None and not isinstance(y, str) and not _is_str_list(y) and not (isinstance(y, dict) and _fields_ok(y)):
        raise PipelineError(f"{where}: y must be a field, a list of fields or {{file: fields}}.")
    for key in ("x_label", "y_label", "title", "template"):
        if key in props and not isinstance(props[key], str):
            raise PipelineError(f"{where}: {key} must be a string.")


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _fields_ok(mapping: dict, lists: bool = True) -> bool:
    return all(isinstance(v, str) or (lists and _is_str_list(v)) for v in mapping.values())


def _top_level(
    project: Project, view: RevisionTree, pipeline: Pipeline, targets: list[str], props: dict[str, Any]
) -> dict[str, dict]:
    """One ``dvc.yaml``'s top-level plots: ``{data path or id: props}``."""
    config = pipeline.dvcfile
    base = posixpath.dirname(config)
    entries = _entries(view, pipeline)
    parents = [_normpath(posixpath.join(base, inner_id)) for inner_id in entries]
    found: dict[str, dict] = {}
    for inner_id, own in entries.items():
        if not matches(targets, config, inner_id):
            continue
        if not isinstance(own.get("y"), dict):  # the id is the data's path
            data_path = _normpath(posixpath.join(base, inner_id))
            for path in files_under(project, view, data_path):
                if path == data_path or _closest(path, parents) == data_path:
                    found[path] = {**found.get(path, {}), **own, **props}
            continue
        adjusted = dict(own)
        for axis in ("x", "y"):
            if isinstance(own.get(axis), dict):  # files named relative to the dvc.yaml
                adjusted[axis] = {_normpath(posixpath.join(base, f)): v for f, v in own[axis].items()}
        found[inner_id] = {**adjusted, **props}
    return found


def _closest(path: str, parents: list[str]) -> str:
    """The definition path sharing the longest leading part with ``path``."""
    best = ""
    for parent in parents:
        try:
            common = posixpath.commonpath([path, parent])
        except ValueError:
            continue
        if len(common) > len(best):
            best = common
    return best


def files_under(project: Project, view: RevisionTree, path: str) -> list[str]:
    """The files of ``path`` at ``view`` when it is a directory (sorted), else ``[path]``.

    A directory is listed from the workspace, from git at a commit, and from the
    outputs the revision records (a cached directory's manifest).
    """
    if path in ("", ".") or path == ".." or path.startswith("../") or posixpath.isabs(path):
        return [path]  # reading it says why it is refused
    found: set[str] = set()
    inner = view.inner
    if isinstance(inner, WorkspaceTree):
        top = project.root / path
        if top.is_dir() and not top.is_symlink():
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in dirnames if d not in (".git", ".dvc")]
                rel = os.path.relpath(dirpath, project.root).replace(os.sep, "/")
                found.update(posixpath.join(rel, name) for name in filenames)
    elif isinstance(inner, GitTree):
        found.update(_git_files(inner, path))
    found.update(_recorded_under(view, path))
    return sorted(found) if found else [path]


def _git_files(tree: GitTree, path: str) -> list[str]:
    """Files under ``path`` in a commit, read as tree objects through git's persistent
    ``cat-file --batch`` (no process per directory); [] when it is not a directory."""
    entry = tree.git.read_object(f"{tree.rev}:{path}")
    if entry is None or entry[1] != "tree":
        return []
    files: list[str] = []
    data, pos = entry[2], 0
    while pos < len(data):  # entries: b"<mode> <name>\0" + 20-byte id
        space, nul = data.index(b" ", pos), data.index(b"\0", pos)
        mode, name = data[pos:space], data[space + 1 : nul].decode("utf-8", "surrogateescape")
        pos = nul + 21
        child = f"{path}/{name}"
        if mode == b"40000":
            files += _git_files(tree, child)
        elif mode != b"160000":  # a submodule is no file of this project
            files.append(child)
    return files


def _recorded_under(view: RevisionTree, path: str) -> list[str]:
    """Files inside ``path`` that outputs recorded at ``view`` hold (``dvc.lock`` files
    and ``.dvc`` files on its ancestry)."""
    parts = path.split("/")
    sources = ["dvc.lock"] + ["/".join(parts[:i]) + "/dvc.lock" for i in range(1, len(parts))]
    sources += ["/".join(parts[:i]) + ".dvc" for i in range(1, len(parts) + 1)]
    files: list[str] = []
    for source in sources:
        try:
            if view.inner.exists(source):
                files += [f for f in view.output_files(source) if f.startswith(path + "/")]
        except JupyterExpError:  # a malformed lock: reading the file says why
            continue
    return files
