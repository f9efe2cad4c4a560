"""``dvc stage add`` from the shell: a stage that runs a command, written to ``dvc.yaml``
in DVC's key order (desc, cmd, wdir, deps sorted, params, outs, metrics, plots,
always_changed), its cached outputs added to ``.gitignore`` as DVC adds them.

Paths are checked by the same project boundary as ``%%stage`` (:mod:`.stage_add`).
"""

from __future__ import annotations

import io
from pathlib import Path

from ..errors import PipelineError
from ..project import Project
from ..serialize import read_text, write_text_atomic
from .dvcfile import DVC_YAML
from .gitignore import ignore
from .stage_add import _STAGE_NAME, StageExistsError, StageSpec, _inside, _params_entries


def command_stage(project: Project, spec: StageSpec, cmd: str) -> dict:
    """The dvc.yaml entry of a stage that runs ``cmd``, in DVC's key order.

    Raises:
        PipelineError: a bad stage name or an empty command.
        PathError: a path outside the project or inside ``.git``/``.dvc``.
    """
    if not _STAGE_NAME.match(spec.name):
        raise PipelineError(f"Invalid stage name '{spec.name}'; use letters, digits, '_', '-' or '.' (not first).")
    if not cmd.strip():
        raise PipelineError(f"Stage '{spec.name}' has no command; put it after the flags.")
    wdir = _inside(project, spec.wdir, what="wdir") if spec.wdir else "."
    if not (project.root / wdir).is_dir():
        raise PipelineError(f"Stage working dir '{spec.wdir}' does not exist; create it or fix -w/--wdir.")
    for path in spec.deps:
        _inside(project, path, wdir)
    deps = sorted(set(spec.deps))  # DVC sorts them
    for path in (
        *spec.outs,
        *spec.outs_no_cache,
        *spec.metrics,
        *spec.metrics_no_cache,
        *spec.plots,
        *spec.plots_no_cache,
    ):
        _inside(project, path, wdir, what="outs", output=True)
    entry: dict = {}
    if spec.desc:
        entry["desc"] = spec.desc
    entry["cmd"] = cmd
    if spec.wdir and wdir != ".":
        entry["wdir"] = spec.wdir
    if deps:
        entry["deps"] = deps
    if spec.params:
        entry["params"] = _sorted_params(_params_entries(spec.params))
    for key, cached, uncached in (
        ("outs", spec.outs, spec.outs_no_cache),
        ("metrics", spec.metrics, spec.metrics_no_cache),
        ("plots", spec.plots, spec.plots_no_cache),
    ):
        # DVC sorts each list by path.
        listed: list = sorted([*cached, *[{o: {"cache": False}} for o in uncached]], key=_out_path)
        if listed:
            entry[key] = listed
    if spec.always_changed:
        entry["always_changed"] = True
    return entry


def _out_path(out: str | dict) -> str:
    return out if isinstance(out, str) else next(iter(out))


def _sorted_params(entries: list) -> list:
    """DVC's order: params.yaml's keys sorted, then each other file by name, its keys sorted."""
    plain = sorted(e for e in entries if isinstance(e, str))
    files: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, dict):
            for file, keys in entry.items():
                files.setdefault(file, []).extend(keys)
    return plain + [{file: sorted(set(files[file]))} for file in sorted(files)]


def add_command_stage(project: Project, spec: StageSpec, cmd: str, force: bool = False) -> list[Path]:
    """Add stage ``spec.name`` running ``cmd`` to dvc.yaml; return the files git should add.

    Raises:
        StageExistsError: a stage of that name exists and ``force`` is not set.
        PipelineError, PathError: as :func:`command_stage`.
    """
    from ruamel.yaml import YAML

    entry = command_stage(project, spec, cmd)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=2, offset=0)
    path = project.root / DVC_YAML
    doc = yaml.load(read_text(path, DVC_YAML)) if path.exists() else None
    if doc is None:
        doc = {}
    stages = doc.setdefault("stages", {})
    if spec.name in stages and not force:
        raise StageExistsError(f"Stage '{spec.name}' already exists in 'dvc.yaml'; use `-f/--force` to overwrite it.")
    stages[spec.name] = entry
    buf = io.StringIO()
    yaml.dump(doc, buf)
    write_text_atomic(path, buf.getvalue())
    touched = [path]
    wdir = spec.wdir or "."
    for out in (*spec.metrics, *spec.plots, *spec.outs):  # DVC's order of outputs
        rel = _inside(project, out, wdir, what="outs", output=True)
        changed = ignore(project.root, rel)
        gitignore = changed or (project.root / rel).parent / ".gitignore"
        if gitignore not in touched:
            touched.append(gitignore)
    return touched


__all__ = ["StageSpec", "add_command_stage", "command_stage"]
