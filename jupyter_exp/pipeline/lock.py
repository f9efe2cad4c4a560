"""``dvc.lock`` in DVC 3's exact format, and why a stage is out of date.

An entry is ``cmd, deps, params, outs``: deps and outs sorted by path, each
``path, hash: md5, md5, size`` (``nfiles`` for directories); params as
``{file: {key: value}}`` with ``params.yaml`` first and keys sorted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import PipelineError
from ..params import DEFAULT_PARAMS_FILE, has_key, lookup
from ..serialize import dump_yaml_text, parse_yaml, read_text, write_text_atomic
from .hashing import HashInfo
from .stage import Stage

LOCK_FILE = "dvc.lock"
SCHEMA = "2.0"


def lock_path_for(dvcfile: str) -> str:
    return dvcfile[: -len("dvc.yaml")] + LOCK_FILE


def read_lock(path: Path) -> dict[str, dict]:
    """Stage name -> lock entry, checked (:func:`check_lock`); empty when there is no file."""
    if not path.exists():
        return {}
    return check_lock(parse_yaml(read_text(path, path.name), path.name), path.name)


_FIX = "restore it from git or delete it and rerun"


def check_lock(data: Any, name: str) -> dict[str, dict]:
    """The ``stages`` of parsed lock ``data``, every entry checked as DVC's schema does.

    Paths must be relative strings (they are matched against ``dvc.yaml``'s, which go
    through the project's boundary), hashes valid md5s, sizes integers.

    Raises:
        PipelineError: the lock is not a DVC 3 lock file, naming ``name`` and the fix.
        CacheError: a malformed hash, size or file count.
    """
    if not data:
        return {}
    if not isinstance(data, dict) or "stages" not in data:
        raise PipelineError(f"{name} is not a DVC 3 lock file; delete it and rerun.")
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise PipelineError(f"'stages' in {name} must be a mapping; {_FIX}.")
    for stage, entry in stages.items():
        where = f"{name}, stage '{stage}'"
        if not isinstance(entry, dict):
            raise PipelineError(f"{where} must be a mapping; {_FIX}.")
        cmd = entry.get("cmd")
        if not (isinstance(cmd, str) or (isinstance(cmd, list) and all(isinstance(c, str) for c in cmd))):
            raise PipelineError(f"{where}: 'cmd' must be a string or a list of strings; {_FIX}.")
        for key in ("deps", "outs"):
            items = entry.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                raise PipelineError(f"{where}: '{key}' must be a list, not {items!r}; {_FIX}.")
            for item in items:
                path = item.get("path") if isinstance(item, dict) else None
                if not isinstance(path, str) or not path or path.startswith("/") or "\0" in path:
                    raise PipelineError(f"{where}: {key} entry {item!r} needs a relative 'path'; {_FIX}.")
                if item.get("md5") is not None:
                    HashInfo.from_entry(item, f"{where}, {key} '{path}'")
        params = entry.get("params")
        if params is not None and not (isinstance(params, dict) and all(isinstance(v, dict) for v in params.values())):
            raise PipelineError(f"{where}: 'params' must map files to mappings; {_FIX}.")
    return stages


def write_lock(path: Path, updates: dict[str, dict]) -> None:
    """Insert or replace the given stage entries, keeping the others and their order."""
    current = read_lock(path)
    current.update(updates)
    write_text_atomic(path, dump_yaml_text({"schema": SCHEMA, "stages": current}))


class LockFiles:
    """The ``dvc.lock`` files of a project's pipelines during one command: each read
    once, written through on every change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._entries: dict[str, dict[str, dict]] = {}

    def entries(self, stage: Stage) -> dict[str, dict]:
        """Stage name -> lock entry of the lock file beside ``stage``'s ``dvc.yaml``."""
        name = lock_path_for(stage.dvcfile)
        if name not in self._entries:
            self._entries[name] = read_lock(self.root / name)
        return self._entries[name]

    def entry(self, stage: Stage) -> dict | None:
        """``stage``'s lock entry, None when it has none."""
        return self.entries(stage).get(stage.name)

    def record(self, stage: Stage, entry: dict) -> str:
        """Write ``stage``'s entry into its lock file; return the file's project path."""
        name = lock_path_for(stage.dvcfile)
        write_lock(self.root / name, {stage.name: entry})
        self.entries(stage)[stage.name] = entry
        return name


def _params_section(values: dict[str, dict[str, Any]]) -> dict:
    files = sorted(values, key=lambda f: (f != DEFAULT_PARAMS_FILE, f))
    return {f: {k: values[f][k] for k in sorted(values[f])} for f in files}


def build_entry(
    stage: Stage,
    deps: dict[str, HashInfo],
    params: dict[str, dict[str, Any]],
    outs: dict[str, HashInfo],
) -> dict:
    """The lock entry of ``stage``; ``deps``/``outs`` keyed by def_path, ``params`` by def_file."""
    entry: dict = {"cmd": stage.lock_cmd}
    if deps:
        entry["deps"] = [{"path": p, **deps[p].to_lock()} for p in sorted(deps)]
    if params:
        entry["params"] = _params_section(params)
    if outs:
        entry["outs"] = [{"path": p, **outs[p].to_lock()} for p in sorted(outs)]
    return entry


def current_params(stage: Stage, read: Callable[[str], dict]) -> dict[str, dict[str, Any]]:
    """Values of the params ``stage`` depends on, as they are now, by def_file.

    ``read`` maps a project-relative params path to its data.
    """
    values: dict[str, dict[str, Any]] = {}
    for dep in stage.params:
        data = read(dep.path)
        if not dep.keys:
            values[dep.def_file] = dict(data)
            continue
        file_values = values.setdefault(dep.def_file, {})
        for key in dep.keys:
            if not has_key(data, key):
                raise PipelineError(
                    f"Stage '{stage.address}' depends on param '{key}', missing from "
                    f"{dep.def_file}; add it there or remove it from dvc.yaml."
                )
            file_values[key] = lookup(data, key)
    return values


def _norm(value: Any) -> Any:
    # DVC treats a tuple and a list as equal; YAML gives lists anyway.
    if isinstance(value, tuple):
        return [_norm(v) for v in value]
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def why_changed(
    stage: Stage,
    entry: dict | None,
    hash_of: Callable[[str], HashInfo | None],
    params: dict[str, dict[str, Any]],
    in_cache: Callable[[HashInfo], bool] = lambda info: True,
) -> str | None:
    """Why ``stage`` must run, or None when its lock ``entry`` is up to date.

    ``hash_of`` maps a project-relative path to its current hash (None: missing);
    ``in_cache`` tells whether a cached output's objects are all in the cache.
    """
    if entry is None:
        return "it has no entry in dvc.lock"
    if stage.always_changed:
        return "it is always_changed"
    if stage.has_checkpoint:
        return "it has checkpoint outputs"
    if entry.get("cmd") != stage.lock_cmd:
        return "its command changed"
    locked_deps = {d.get("path"): d for d in entry.get("deps") or []}
    if set(locked_deps) != {d.def_path for d in stage.deps}:
        return "its dependencies changed"
    for dep in stage.deps:
        info = hash_of(dep.path)
        if info is None:
            return f"dependency '{dep.def_path}' is missing"
        if locked_deps[dep.def_path].get("md5") != info.md5:
            return f"dependency '{dep.def_path}' changed"
    locked_params = entry.get("params") or {}
    for file, values in params.items():
        old = locked_params.get(file)
        if old is None:
            return f"params of {file} changed"
        for key, value in values.items():
            if key not in old or _norm(old[key]) != _norm(value):
                return f"param '{key}' changed"
        if set(old) - set(values):
            return f"params of {file} changed"
    if set(locked_params) - set(params):
        return "its params changed"
    locked_outs = {o.get("path"): o for o in entry.get("outs") or []}
    if set(locked_outs) != {o.def_path for o in stage.outs}:
        return "its outputs changed"
    for out in stage.outs:
        info = hash_of(out.path)
        if info is None:
            return f"output '{out.def_path}' is missing"
        if locked_outs[out.def_path].get("md5") != info.md5:
            return f"output '{out.def_path}' changed"
        if out.cache and not in_cache(info):
            return f"output '{out.def_path}' is not in the cache"
    return None


def entry_outs(entry: dict, where: str = "dvc.lock") -> dict[str, HashInfo]:
    """def_path -> HashInfo of the outputs recorded in a lock entry (hashes checked).

    Raises:
        PipelineError, CacheError: a malformed entry, naming ``where``.
    """
    outs = entry.get("outs") or []
    if not isinstance(outs, list):
        raise PipelineError(f"{where}: 'outs' must be a list, not {outs!r}; {_FIX}.")
    found = {}
    for out in outs:
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            raise PipelineError(f"{where}: outs entry {out!r} needs a relative 'path'; {_FIX}.")
        if out.get("md5"):
            found[out["path"]] = HashInfo.from_entry(out, f"{where}, outs '{out['path']}'")
    return found
