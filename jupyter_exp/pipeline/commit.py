"""``commit``: record the workspace's outputs and tracked data without running anything.

As ``dvc commit``: each selected stage's dependencies and outputs are hashed, its
cached outputs saved in the cache and its ``dvc.lock`` entry written; each selected
``.dvc`` file's data cached and the file rewritten. A stage or file that changed since
it was recorded is committed only with ``force`` (DVC asks; without a terminal it
refuses, and so do we). Import ``.dvc`` files are named and left alone.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from ..errors import CommitError, PipelineError, UnknownStageError, option
from ..options import ReproOptions
from ..project import Project
from ..serialize import dump_yaml_text, parse_yaml, read_text, write_text_atomic
from .cache import Cache
from .dvcfile import walk_pipelines
from .freeze import _cwd
from .graph import plan, resolve_targets
from .imports import import_source
from .lock import current_params, why_changed
from .repro import _Run, _target_dirs
from .results import echo_stdout
from .runcache import can_cache
from .tracked import _dvc_file_entry, _dvc_files, read_dvc_file


def _select(project: Project, targets: list[str] | None, with_deps: bool, recursive: bool, graph) -> tuple:
    """(stage addresses, ``.dvc`` files) the targets name; every one of them when None."""
    all_dvc_files = [p.relative_to(project.root).as_posix() for p in _dvc_files(project)]
    if not targets:
        return plan(graph, None), [f for f in all_dvc_files if (project.root / f).is_file()]
    cwd = _cwd(project)
    dvc_files: list[str] = []
    stage_targets: list[str] = []
    addresses: list[str] = []
    dirs = _target_dirs(project, targets, cwd) if recursive else set()
    for target in targets:
        rel = posixpath.normpath(posixpath.join(cwd, target))
        if rel in dirs:  # -R: every stage and .dvc file inside the directory
            prefix = "" if rel == "." else rel + "/"
            dvc_files.extend(f for f in all_dvc_files if f.startswith(prefix) and (project.root / f).is_file())
            addresses.extend(a for a, s in graph.stages.items() if s.dvcfile.startswith(prefix))
        elif target.endswith(".dvc") or (project.root / (rel + ".dvc")).is_file():
            name = project.resolve_relpath(target if target.endswith(".dvc") else target + ".dvc", cwd, where="target")
            if not (project.root / name).is_file():
                raise UnknownStageError(f"'{target}' does not exist; name a stage or a .dvc file of the project.")
            dvc_files.append(name)
        else:
            stage_targets.append(target)
    addresses += resolve_targets(graph, stage_targets, cwd)  # project-relative addresses from here on
    if addresses:
        addresses = plan(graph, list(dict.fromkeys(addresses)), ReproOptions(single_item=not with_deps))
    return addresses, list(dict.fromkeys(dvc_files))


def commit(
    project: Project,
    targets: list[str] | None = None,
    *,
    force: bool = False,
    with_deps: bool = False,
    recursive: bool = False,
    echo: Callable[[str], None] | None = None,
) -> list[str]:
    """Record the current outputs of the selected stages and ``.dvc`` files; return them.

    Raises:
        CommitError: a stage changed and ``force`` is not set, or its data is missing
            (checked for every target before anything is written).
        UnknownStageError, PathError, PipelineError, YAMLFileError: bad targets or files.
    """
    echo = _once(echo or echo_stdout)
    with project.lock():
        graph = walk_pipelines(project).graph()
        addresses, dvc_files = _select(project, targets, with_deps, recursive, graph)
        run = _Run(project, echo, None)
        try:
            todo = []
            for address in addresses:
                stage = graph.stages[address]
                for path, what in [(d.path, "dependency") for d in stage.deps] + [
                    (o.path, "output") for o in stage.outs
                ]:
                    if run.hash_of(path) is None:
                        raise CommitError(
                            f"Cannot commit stage '{address}': {what} '{path}' does not exist; "
                            "create it (run `repro`) or fix dvc.yaml."
                        )
                params = current_params(stage, run.memo.read_params)
                reason = why_changed(stage, run.locks.entry(stage), run.hash_of, params, lambda info: True)
                if reason is not None and not force:
                    raise CommitError(
                        f"Stage '{address}' changed ({reason}); rerun with {option('force')} to commit it."
                    )
                todo.append((stage, params, reason))
            files = [_check_dvc_file(project, run.cache, name, force, echo) for name in dvc_files]
            for stage, params, reason in todo:
                if reason is None:  # the lock is right: only put missing objects back, as DVC does silently
                    for out in stage.outs:
                        info = run.hash_of(out.path)
                        if out.cache and info is not None and not run.cache.has_all(info):
                            run.cache.save(project.root / out.path)
                    continue
                run.commit_stage(stage, params, cacheable=can_cache(stage))  # DVC records the run too
            for name, data in files:
                if data is not None:
                    _commit_dvc_file(project, run.cache, name, data)
        finally:
            run.hasher.flush()
    return addresses + [name for name, data in files if data is not None]


def _once(echo: Callable[[str], None]) -> Callable[[str], None]:
    """``echo`` that says each line once: DVC writes a ``dvc.lock`` once for all its stages."""
    said: set[str] = set()

    def say(text: str) -> None:
        if text not in said:
            said.add(text)
            echo(text)

    return say


def _check_dvc_file(project: Project, cache: Cache, name: str, force: bool, echo) -> tuple[str, dict | None]:
    """``(name, parsed file)`` when it can be committed; ``(name, None)`` for an import."""
    data = parse_yaml(read_text(project.root / name, name), name)
    source = import_source(data, name)
    if source is not None:
        echo(source.notice + "\n")
        return name, None
    for tracked in read_dvc_file(project, name):
        now = cache.hasher.hash_path(project.root / tracked.path)
        if now is None:
            raise CommitError(f"Cannot commit '{name}': '{tracked.path}' does not exist; restore it or remove {name}.")
        if now.md5 != tracked.info.md5 and not force:
            raise CommitError(f"'{name}' changed (its data changed); rerun with {option('force')} to commit it.")
    if not isinstance(data, dict) or not isinstance(data.get("outs"), list):
        raise PipelineError(f"{name} has no 'outs' list; restore it from git or track the data again.")
    return name, data


def _commit_dvc_file(project: Project, cache: Cache, name: str, data: dict) -> None:
    """Cache the file's data and rewrite its entries with the new hashes (other keys kept)."""
    base = posixpath.dirname(name) or "."
    changed = False
    for out in data["outs"]:
        rel = project.resolve_relpath(out.get("path"), base, where=name, output=True)
        info = cache.save(project.root / rel)
        entry = _dvc_file_entry(info, out["path"])
        rest = {k: v for k, v in out.items() if k not in entry and k not in ("md5", "nfiles", "size")}
        new = {**entry, **rest}
        if new != out:
            out.clear()
            out.update(new)
            changed = True
    if changed:
        write_text_atomic(project.root / name, dump_yaml_text(data))
