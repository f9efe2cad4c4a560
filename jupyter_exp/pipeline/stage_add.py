"""Adding a stage from code: the cell body becomes a script, and ``dvc.yaml`` gets
(or updates) the stage that runs it, written round-trip so comments and order stay.

The stage runs ``python <script>`` and depends on the script. Its other keys follow
``dvc stage add``: deps, params (``key1,key2`` or ``file:key1,key2``), outs cached or
not, metrics and plots cached or not, checkpoint outs, wdir, always_changed, desc.
A stage of that name that runs another command is replaced only with ``force``.
"""

from __future__ import annotations

import io
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import JupyterExpError, PipelineError, front, option
from ..project import Project
from ..serialize import read_text, write_text_atomic
from .dvcfile import DVC_YAML

_STAGE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
HEADER = "# Written by %%stage {name}: edit the notebook cell, not this file.\n"


@dataclass(frozen=True)
class StageSpec:
    """What one ``%%stage`` line asks for."""

    name: str
    deps: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()
    outs_no_cache: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    metrics_no_cache: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()
    plots_no_cache: tuple[str, ...] = ()
    checkpoints: tuple[str, ...] = ()
    wdir: str | None = None
    always_changed: bool = False
    desc: str | None = None
    script: str | None = None
    extra: dict = field(default_factory=dict)


class StageExistsError(JupyterExpError):
    pass


def _inside(project: Project, path: str, base: str = ".", what: str = "deps", output: bool = False) -> str:
    """``path`` (relative to ``base`` in the project) as a project-relative path, through
    the project's boundary (outputs and the script: symlinks followed, DVC files refused)."""
    return project.resolve_relpath(path, base, where=f"{front('add_stage')} {what}", output=output, follow_links=output)


def _params_entries(items: tuple[str, ...]) -> list:
    """``-p`` values as dvc.yaml ``params`` entries."""
    plain: list[str] = []
    per_file: dict[str, list[str]] = {}
    for item in items:
        for chunk in [item]:
            file, sep, keys = chunk.rpartition(":")
            if sep and file:
                per_file.setdefault(file, []).extend(k for k in keys.split(",") if k)
            else:
                plain.extend(k for k in chunk.split(",") if k)
    return plain + [{file: keys} for file, keys in per_file.items()]


def stage_definition(project: Project, spec: StageSpec) -> tuple[dict, str]:
    """The dvc.yaml entry for ``spec`` and the project-relative script path."""
    if not _STAGE_NAME.match(spec.name):
        raise PipelineError(f"Invalid stage name '{spec.name}'; use letters, digits, '_', '-' or '.'.")
    script = _inside(project, spec.script or f"stages/{spec.name}.py", what=option("script", label=True), output=True)
    wdir = _inside(project, spec.wdir, what=option("wdir", label=True)) if spec.wdir else "."
    for path in spec.deps:
        _inside(project, path, wdir)
    for path in (
        *spec.outs,
        *spec.outs_no_cache,
        *spec.metrics,
        *spec.metrics_no_cache,
        *spec.plots,
        *spec.plots_no_cache,
        *spec.checkpoints,
    ):
        _inside(project, path, wdir, what="outs", output=True)
    script_from_wdir = posixpath.relpath(script, wdir)
    entry: dict = {"cmd": f"python {shlex.quote(script_from_wdir)}"}
    if spec.wdir:
        entry["wdir"] = spec.wdir
    entry["deps"] = [script_from_wdir, *[d for d in spec.deps if d != script_from_wdir]]
    if spec.params:
        entry["params"] = _params_entries(spec.params)
    outs: list = [
        *spec.outs,
        *[{o: {"cache": False}} for o in spec.outs_no_cache],
        *[{o: {"checkpoint": True}} for o in spec.checkpoints],
    ]
    if outs:
        entry["outs"] = outs
    metrics: list = [*spec.metrics, *[{m: {"cache": False}} for m in spec.metrics_no_cache]]
    if metrics:
        entry["metrics"] = metrics
    plots: list = [*spec.plots, *[{p: {"cache": False}} for p in spec.plots_no_cache]]
    if plots:
        entry["plots"] = plots
    if spec.always_changed:
        entry["always_changed"] = True
    if spec.desc:
        entry["desc"] = spec.desc
    return entry, script


def write_stage(project: Project, spec: StageSpec, code: str, force: bool = False) -> tuple[Path, bool]:
    """Write the script and the stage; return the script path and whether dvc.yaml changed.

    Raises:
        StageExistsError: a stage of that name runs another command, or the script path
            holds a file that is not this stage's script, and ``force`` is not set.
        PipelineError: a bad name.
        PathError: a path outside the project, or in ``.git``/``.dvc`` (even with ``force``).
    """
    from ruamel.yaml import YAML

    entry, script = stage_definition(project, spec)
    yaml = YAML()
    yaml.default_flow_style = False
    path = project.root / DVC_YAML
    doc = yaml.load(read_text(path, DVC_YAML)) if path.exists() else None
    if doc is None:
        doc = {}
    stages = doc.setdefault("stages", {})
    existing = stages.get(spec.name)
    if existing is not None and not force and existing.get("cmd") != entry["cmd"]:
        raise StageExistsError(
            f"Stage '{spec.name}' already exists and runs '{existing.get('cmd')}'; "
            f"rerun with {option('force')} to replace it."
        )
    script_path = project.root / script
    own_script = existing is not None and existing.get("cmd") == entry["cmd"]
    if (script_path.exists() or script_path.is_symlink()) and not own_script and not force:
        raise StageExistsError(
            f"'{script}' already exists and is not the script of stage '{spec.name}'; "
            f"pick another {option('script', label=True)} or rerun with {option('force')} to overwrite it."
        )
    if script_path.is_dir():
        raise PipelineError(f"'{script}' is a directory; pick another {option('script', label=True)}.")
    script_path.parent.mkdir(parents=True, exist_ok=True)
    body = code if code.endswith("\n") else code + "\n"
    write_text_atomic(script_path, HEADER.format(name=spec.name) + body)
    changed = existing is None or _plain(existing) != entry
    if changed:
        stages[spec.name] = entry
        buf = io.StringIO()
        yaml.dump(doc, buf)
        write_text_atomic(path, buf.getvalue())
    return script_path, changed


def _plain(node):
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node
