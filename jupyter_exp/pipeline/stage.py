"""Stages as frozen records, built from one resolved ``dvc.yaml`` stage definition."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..errors import PathError, PipelineError
from ..params import DEFAULT_PARAMS_FILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..project import Project

STAGE_KEYS = frozenset(
    {"cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "always_changed", "desc", "meta", "vars"}
)
OUT_FLAGS = frozenset(
    {
        "cache",
        "persist",
        "checkpoint",
        "remote",
        "push",
        "desc",
        "type",
        "labels",
        "meta",
        "x",
        "y",
        "template",
        "title",
        "x_label",
        "y_label",
        "header",
    }
)
PLOT_PROPS = ("template", "x", "y", "x_label", "y_label", "title", "header")  # what `plots` outputs may set


@dataclass(frozen=True)
class Out:
    """One output (``outs``, ``metrics`` or ``plots`` entry)."""

    def_path: str  # as written, relative to the stage's wdir
    path: str  # relative to the project root, forward slashes
    kind: str = "outs"
    cache: bool = True
    persist: bool = False
    checkpoint: bool = False
    plot: dict | None = field(default=None, compare=False)  # a ``plots`` output's properties (PLOT_PROPS)
    push: bool = field(default=True, compare=False)  # ``push: false``: data push leaves it out
    remote: str | None = field(default=None, compare=False)  # ``remote: NAME``: its data remote


@dataclass(frozen=True)
class Dep:
    def_path: str
    path: str


@dataclass(frozen=True)
class ParamDep:
    """Params of one file a stage depends on; empty ``keys`` means the whole file."""

    def_file: str
    path: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    name: str
    cmd: str | tuple[str, ...]
    dvcfile: str = "dvc.yaml"
    wdir: str = "."  # relative to the project root
    deps: tuple[Dep, ...] = ()
    params: tuple[ParamDep, ...] = ()
    outs: tuple[Out, ...] = ()
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    index: int = field(default=0, compare=False)  # position in the dvc.yaml, for ordering

    @property
    def address(self) -> str:
        return self.name if self.dvcfile == "dvc.yaml" else f"{self.dvcfile}:{self.name}"

    @property
    def commands(self) -> tuple[str, ...]:
        return (self.cmd,) if isinstance(self.cmd, str) else self.cmd

    @property
    def lock_cmd(self) -> str | list[str]:
        return self.cmd if isinstance(self.cmd, str) else list(self.cmd)

    @property
    def has_checkpoint(self) -> bool:
        return any(out.checkpoint for out in self.outs)


def _join(project: Project, base: str, path: str, where: str, output: bool = False, follow_links: bool = True) -> str:
    """``path`` (relative to ``base``) as a project-relative path, through the one boundary.

    Absolute paths are refused (DVC's external outputs are not supported) even inside
    the project, so that a dvc.yaml means the same in every copy of the project.
    """
    if posixpath.isabs(path):
        raise PathError(f"{where}: '{path}' is an absolute path; use a path relative to the project.")
    return project.resolve_relpath(path, base, where=where, output=output, follow_links=follow_links)


def _entries(value, stage: str, key: str) -> list[tuple[str, dict]]:
    """Normalise ``[str | {path: {flags}}]`` to ``[(path, flags)]``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PipelineError(f"Stage '{stage}': '{key}' must be a list; write it as a YAML list.")
    result: list[tuple[str, dict]] = []
    for item in value:
        if isinstance(item, str):
            result.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1:
            path, flags = next(iter(item.items()))
            flags = flags or {}
            if not isinstance(flags, dict):
                raise PipelineError(f"Stage '{stage}': flags of '{path}' must be a mapping.")
            unknown = set(flags) - OUT_FLAGS
            if unknown:
                raise PipelineError(
                    f"Stage '{stage}': unknown flag '{sorted(unknown)[0]}' on '{path}'; "
                    f"use one of cache, persist, checkpoint."
                )
            result.append((str(path), flags))
        else:
            raise PipelineError(f"Stage '{stage}': bad entry {item!r} in '{key}'.")
    return result


def build_stage(name: str, data: dict, dvcfile: str, index: int, project: Project) -> Stage:
    """Turn one resolved stage definition into a Stage.

    Every path goes through ``project``'s boundary: outputs may not leave the project
    (symlinks followed), name ``.git``, ``.dvc``, the cache or a DVC file, or overlap
    the root or their own ``dvc.yaml``; deps and params files may not leave it.

    Raises:
        PipelineError: the definition is not valid.
        PathError: a path that is refused.
    """
    if not isinstance(data, dict):
        raise PipelineError(f"Stage '{name}' in {dvcfile} must be a mapping with a 'cmd'.")
    unknown = set(data) - STAGE_KEYS
    if unknown:
        raise PipelineError(
            f"Stage '{name}' in {dvcfile} has unknown key '{sorted(unknown)[0]}'; "
            f"valid keys: {', '.join(sorted(STAGE_KEYS))}."
        )
    cmd = data.get("cmd")
    if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
        cmd = tuple(cmd)
    elif not isinstance(cmd, str) or not cmd.strip():
        raise PipelineError(f"Stage '{name}' in {dvcfile} needs a 'cmd' (a string or a list).")
    base = posixpath.dirname(dvcfile) or "."
    where = f"{dvcfile}, stage '{name}'"
    wdir = _join(project, base, str(data.get("wdir", ".")), f"{where}, wdir", follow_links=False)
    deps = tuple(
        Dep(p, _join(project, wdir, p, f"{where}, deps", follow_links=False))
        for p, _ in _entries(data.get("deps"), name, "deps")
    )
    params: list[tuple[str, tuple[str, ...]]] = []
    for item in data.get("params") or []:
        if isinstance(item, str):
            params.append((DEFAULT_PARAMS_FILE, (item,)))
        elif isinstance(item, dict):
            for file, keys in item.items():
                keys = keys or []
                if not isinstance(keys, list):
                    raise PipelineError(f"Stage '{name}': params of '{file}' must be a list of keys.")
                params.append((str(file), tuple(str(k) for k in keys)))
        else:
            raise PipelineError(f"Stage '{name}': bad params entry {item!r}.")
    merged: dict[str, list[str]] = {}
    whole: set[str] = set()
    for file, keys in params:
        if not keys:
            whole.add(file)
        merged.setdefault(file, [])
        merged[file].extend(k for k in keys if k not in merged[file])
    param_deps = tuple(
        ParamDep(
            file,
            _join(project, wdir, file, f"{where}, params", follow_links=False),
            () if file in whole else tuple(keys),
        )
        for file, keys in merged.items()
    )
    outs = []
    for kind in ("outs", "metrics", "plots"):
        for path, flags in _entries(data.get(kind), name, kind):
            out_path = _join(project, wdir, path, f"{where}, {kind}", output=True)
            if posixpath.dirname(dvcfile).startswith(out_path + "/") or posixpath.dirname(dvcfile) == out_path:
                raise PathError(
                    f"{where}, {kind}: output '{path}' contains {dvcfile}; name a file or directory beside it."
                )
            outs.append(
                Out(
                    def_path=path,
                    path=out_path,
                    kind=kind,
                    cache=bool(flags.get("cache", True)),
                    persist=bool(flags.get("persist", False)),
                    checkpoint=bool(flags.get("checkpoint", False)),
                    plot={k: flags[k] for k in PLOT_PROPS if k in flags} if kind == "plots" else None,
                    push=flags.get("push", True) is not False,
                    remote=str(flags["remote"]) if flags.get("remote") else None,
                )
            )
    return Stage(
        name=name,
        cmd=cmd,
        dvcfile=dvcfile,
        wdir=wdir,
        deps=deps,
        params=param_deps,
        outs=tuple(outs),
        frozen=bool(data.get("frozen", False)),
        always_changed=bool(data.get("always_changed", False)),
        desc=data.get("desc"),
        index=index,
    )
