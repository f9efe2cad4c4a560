"""``remove``: drop stages from ``dvc.yaml``/``dvc.lock`` or delete ``.dvc`` files.

As DVC does: the outputs' ``.gitignore`` entries go (an emptied ``.gitignore`` is
deleted), the data stays unless ``outs`` asks to delete it too, the stage's entry is
deleted from ``dvc.yaml`` and ``dvc.lock`` round-trip (comments elsewhere kept), and a
file left with no stages is deleted.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ..errors import PipelineError, UnknownStageError
from ..project import Project
from ..serialize import parse_yaml, read_text
from .cache import remove as remove_path
from .dvcfile import walk_pipelines
from .dvcfile_edit import dump_round_trip, load_round_trip, unignore
from .freeze import _cwd, _stage_map
from .graph import Graph, resolve_targets
from .lock import lock_path_for


@dataclass(frozen=True)
class _Removal:
    """One stage or ``.dvc`` file to remove, with its outputs (project-relative)."""

    dvcfile: str
    name: str | None  # None: the whole .dvc file
    cached_outs: tuple[str, ...]
    outs: tuple[str, ...]


def _dvc_file_outs(project: Project, rel: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = parse_yaml(read_text(project.root / rel, rel), rel) or {}
    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list):
        raise PipelineError(f"{rel} has no 'outs' list; restore it from git or delete it by hand.")
    base = posixpath.dirname(rel) or "."
    paths, cached = [], []
    for out in outs:
        if not isinstance(out, dict):
            raise PipelineError(f"{rel}: outs entry {out!r} needs a 'path'; restore it from git.")
        path = project.resolve_relpath(out.get("path"), base, where=rel, output=True)
        paths.append(path)
        if out.get("cache", True):
            cached.append(path)
    return tuple(cached), tuple(paths)


def _plan(project: Project, targets: list[str]) -> list[_Removal]:
    cwd = _cwd(project)
    plan: list[_Removal] = []
    graph: Graph | None = None
    for target in targets:
        if target.endswith(".dvc"):
            rel = project.resolve_relpath(target, cwd, where="remove target")
            if not (project.root / rel).is_file():
                raise UnknownStageError(f"'{target}' does not exist; name a stage or a .dvc file of the project.")
            cached, outs = _dvc_file_outs(project, rel)
            plan.append(_Removal(rel, None, cached, outs))
            continue
        rel = posixpath.normpath(posixpath.join(cwd, target))
        if (project.root / (rel + ".dvc")).is_file() and not rel.startswith("../"):
            raise UnknownStageError(f"'{target}' is not a .dvc file; did you mean '{target}.dvc'?")
        if graph is None:
            graph = walk_pipelines(project).graph()
        for address in resolve_targets(graph, [target], cwd):
            stage = graph.stages[address]
            plan.append(
                _Removal(
                    stage.dvcfile,
                    stage.name,
                    tuple(o.path for o in stage.outs if o.cache),
                    tuple(o.path for o in stage.outs),
                )
            )
    return plan


def remove(project: Project, targets: list[str], outs: bool = False) -> list[str]:
    """Remove the stages and ``.dvc`` files ``targets`` name; return what was removed.

    ``outs`` also deletes their outputs from the workspace (the cache keeps them).
    Every target is checked before anything changes.

    Raises:
        UnknownStageError, PathError, PipelineError, YAMLFileError: one line, nothing changed.
    """
    with project.lock():
        plan = _plan(project, targets)
        yaml_docs = {}
        for item in plan:
            if item.name is not None and item.dvcfile not in yaml_docs:
                yaml_docs[item.dvcfile] = load_round_trip(project.root / item.dvcfile, item.dvcfile)
                _stage_map(yaml_docs[item.dvcfile], item.dvcfile, item.name, "remove")
        removed = []
        for item in plan:
            for path in item.cached_outs:
                unignore(project.root, path)
            if outs:
                for path in item.outs:
                    remove_path(project.root / path)
            if item.name is None:
                (project.root / item.dvcfile).unlink()
                removed.append(item.dvcfile)
                continue
            _drop_stage(project, lock_path_for(item.dvcfile), item.name, None)
            _drop_stage(project, item.dvcfile, item.name, yaml_docs[item.dvcfile])
            removed.append(item.name if item.dvcfile == "dvc.yaml" else f"{item.dvcfile}:{item.name}")
    return removed


def _drop_stage(project: Project, file: str, name: str, doc: object) -> None:
    """Delete ``stages[name]`` from ``file`` (the file itself once no stage is left)."""
    path = project.root / file
    if doc is None:
        if not path.is_file():
            return
        doc = load_round_trip(path, file)
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict) or name not in stages:
        return
    del stages[name]
    if stages:
        dump_round_trip(path, doc)
    else:
        path.unlink()
