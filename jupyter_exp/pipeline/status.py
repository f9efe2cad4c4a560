"""``dvc status``: what changed in each stage and ``.dvc`` file since it was recorded,
in DVC's shape (``{address: [{"changed deps": {path: state}}, {"changed outs": ...},
"always changed", "changed command"]}``) and DVC's text.

A dependency or output is ``deleted`` (missing), ``modified`` (its hash differs from the
lock's, or no lock records it), ``not in cache`` (recorded, cached, its object gone);
a params dependency lists its keys (``modified``, ``deleted``, ``new``). A frozen stage's
dependencies are not checked, as in DVC. Stages come in DVC's collection order.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import JupyterExpError
from ..params import has_key, lookup
from ..project import Project
from .hashing import HashInfo
from .status_text import EMPTY_PROJECT, UP_TO_DATE, ChangedError, Status, status_text  # noqa: F401 (their home is light)


@dataclass
class Reads:
    """What a status read: ``trees`` (files or directories, everything below counted) and
    ``files`` (each path alone)."""

    trees: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _path_state(info: HashInfo | None, recorded: dict | None, cached: bool, has_all) -> str | None:
    """DVC's state of one dependency or output (None: unchanged)."""
    md5 = (recorded or {}).get("md5")
    if md5 and cached and info is not None and not has_all(HashInfo.from_entry(recorded, "dvc.lock")):
        return "not in cache"
    if md5 and cached and info is None and not has_all(HashInfo.from_entry(recorded, "dvc.lock")):
        return "not in cache"
    if info is None:
        return "deleted"
    if not md5 or md5 != info.md5:
        return "modified"
    return None


def _params_state(data: dict, keys: tuple[str, ...], locked: dict | None) -> dict[str, str]:
    found: dict[str, str] = {}
    locked = locked or {}
    wanted = keys or tuple(data)
    for key in wanted:
        if not has_key(data, key):
            found[key] = "deleted"
        elif key not in locked:
            found[key] = "new"
        elif locked[key] != lookup(data, key):
            found[key] = "modified"
    return found


def status(
    project: Project,
    targets: list[str] | None = None,
    warn: Callable[[str], None] | None = None,
    reads: Reads | None = None,
    *,
    recursive: bool = False,
    with_deps: bool = False,
    cwd: str = "",
) -> tuple[Status, bool]:
    """Every stage's and ``.dvc`` file's changes (``targets``: only those they name, see
    :mod:`.status_targets`, with ``recursive`` and ``with_deps`` as DVC's ``-R`` and
    ``-d``, paths read from ``cwd``); ``warn`` gets DVC's warning for each frozen stage.
    Returns the changes and whether the project has any stage or ``.dvc`` file at all.
    ``reads``, when given, is filled with what the answer was read from (for
    :mod:`.status_stamp`).

    Raises:
        UnknownStageError: a target that names nothing.
        YAMLFileError, PipelineError, PathError: a file that does not load.
    """
    from ..params import read_params
    from .cache import open_cache
    from .dag import collect_dag
    from .dvcfile import walk_pipelines
    from .lock import LockFiles, lock_path_for
    from .status_targets import address_in, from_cwd
    from .tracked import read_dvc_file

    pipelines = walk_pipelines(project)
    walked = pipelines.stages
    dag = collect_dag(project, stages=walked)
    order = dag.nodes
    stages = {s.address: s for s in walked}
    if reads is not None:
        root = project.root
        reads.files += [root / d for d in pipelines.walked]
        reads.files += [root / d / name for d in pipelines.walked for name in (".gitignore", ".dvcignore")]
        reads.files += [project.git.git_path("info/exclude"), project.git.git_path("index")]
        reads.files += [project.config_file, project.local_config_file]
        reads.files += [root / src for p in pipelines.items for src in (*p.sources, lock_path_for(p.dvcfile))]
        reads.files += [root / node for node in order if node not in stages]  # .dvc files
    if not order:
        return {}, False
    files = {node: stages[node].dvcfile if node in stages else node for node in order}
    # (node, the output path it is narrowed to or None), as DVC's (stage, filter_info) pairs:
    # a node named twice is computed twice, the last non-empty answer kept in the first place
    pairs: list[tuple[str, str | None]] = [(node, None) for node in order]
    if targets:
        from .status_targets import select

        def outs_of(node: str) -> list[str]:
            stage = stages.get(node)
            return [o.path for o in stage.outs] if stage else [t.path for t in read_dvc_file(project, node)]

        picks = select(project, dag, files, outs_of, targets, cwd=cwd, recursive=recursive, with_deps=with_deps)
        pairs = [(p.node, p.only) for p in picks]

    def shown(path: str, narrowed: str | None) -> bool:
        return (
            narrowed is None or path == narrowed or narrowed.startswith(path + "/") or path.startswith(narrowed + "/")
        )

    cache = open_cache(project)
    hashes: dict[str, HashInfo | None] = {}

    def hash_of(rel: str) -> HashInfo | None:
        if rel not in hashes:
            hashes[rel] = cache.hasher.hash_path(project.root / rel)
            if reads is not None:
                reads.trees.append(project.root / rel)
        return hashes[rel]

    def has_all(info: HashInfo) -> bool:
        found = cache.has_all(info)
        if reads is not None:
            try:
                ids = cache.object_ids(info)
            except JupyterExpError:  # its manifest is missing: that object is what moves
                ids = [info.md5]
            reads.files += [cache.object_path(m) for m in ids]
        return found

    locks = LockFiles(project.root)
    found: Status = {}
    try:
        for node, only in pairs:
            changes: list[Any] = []
            stage = stages.get(node)
            if stage is None:  # a .dvc file
                text = (project.root / node).read_text(encoding="utf-8")
                from ..serialize import parse_yaml

                data = parse_yaml(text, node) or {}
                base = posixpath.dirname(node)
                outs: dict[str, str] = {}
                for out in data.get("outs") or []:
                    rel = posixpath.normpath(posixpath.join(base, out["path"]))
                    state = (
                        _path_state(hash_of(rel), out, out.get("cache", True), has_all) if shown(rel, only) else None
                    )
                    if state:
                        outs[rel] = state
                read_dvc_file(project, node, text)  # the same checks as everywhere
                if outs:
                    changes.append({"changed outs": outs})
            else:
                entry = locks.entry(stage) or {}
                if stage.frozen and warn is not None:
                    warn(
                        f"WARNING: stage: '{address_in(node, cwd, files)}' is frozen. "
                        "Its dependencies are not going to be shown in the status output."
                    )
                if not stage.frozen:
                    deps: dict[str, Any] = {}
                    locked_deps = {d.get("path"): d for d in entry.get("deps") or []}
                    for dep in stage.deps:
                        state = _path_state(hash_of(dep.path), locked_deps.get(dep.def_path), False, has_all)
                        if state:
                            deps[dep.path] = state
                    locked_params = entry.get("params") or {}
                    for param in stage.params:
                        if reads is not None:
                            reads.files.append(project.root / param.path)
                        if not (project.root / param.path).exists():
                            deps[param.path] = "deleted"
                            continue
                        if param.def_file not in locked_params:
                            deps[param.path] = "new"
                            continue
                        if reads is not None:
                            reads.files.append(project.root / param.path)
                        data = read_params(project.root / param.path)
                        keys = _params_state(data, param.keys, locked_params[param.def_file])
                        if keys:
                            deps[param.path] = keys
                    if deps:
                        changes.append({"changed deps": deps})
                locked_outs = {o.get("path"): o for o in entry.get("outs") or []}
                outs = {}
                for out in stage.outs:
                    if not shown(out.path, only):
                        continue
                    state = _path_state(hash_of(out.path), locked_outs.get(out.def_path), out.cache, has_all)
                    if state:
                        outs[out.path] = state
                if outs:
                    changes.append({"changed outs": outs})
                # (a command with nothing in or out is DVC's "callback" stage: always changed)
                if stage.always_changed or not (stage.deps or stage.params or stage.outs):
                    changes.append("always changed")
                if entry and entry.get("cmd") != stage.lock_cmd:
                    changes.append("changed command")
            if changes:
                found[node] = changes
    finally:
        cache.hasher.flush()
    return from_cwd(found, cwd, files), True


def cloud_status(
    project: Project,
    targets: list[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    *,
    recursive: bool = False,
    with_deps: bool = False,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
) -> tuple[dict[str, str], str]:
    """``dvc status -c``: each object the workspace needs that is not both in the cache and
    on the remote: ``new`` (only in the cache), ``deleted`` (only on the remote), ``missing``
    (in neither), by path; DVC's order (deleted, new, missing), paths sorted within each.
    Returns the statuses and the remote's name.

    Raises:
        NoRemoteError, RemoteConfigError, MissingDriverError: no usable remote.
        DataRemoteError: the remote cannot be read.
    """
    from ..remote.sync import jobs_for, object_store, open_remote, storage_errors
    from ..remote.used import select_revisions, selected_items, wanted_from

    revisions = select_revisions(project, all_branches=all_branches, all_tags=all_tags, all_commits=all_commits)
    spec, objects = open_remote(project, remote)
    cache = object_store(project)
    with storage_errors(spec.name, spec.url):
        chosen = selected_items(project, revisions, targets, recursive=recursive, with_deps=with_deps)
        wanted = wanted_from(chosen, [cache, objects])
        on_remote = objects.present(list(wanted.paths), jobs_for(spec, jobs))
    states: dict[str, list[str]] = {"deleted": [], "new": [], "missing": []}
    for md5, path in wanted.paths.items():
        local = cache.exists(md5)
        if local and md5 not in on_remote:
            states["new"].append(path)
        elif not local:
            states["deleted" if md5 in on_remote else "missing"].append(path)
    found = {path: state for state, paths in states.items() for path in sorted(paths)}
    return found, spec.name
