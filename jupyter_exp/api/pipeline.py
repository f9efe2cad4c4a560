"""The pipeline: make a project, track data, reproduce stages, write a stage from a cell."""

from __future__ import annotations

from ..options import ReproOptions
from . import as_list, confirm, echo_stdout, project_at, silent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..pipeline.results import StageResult
    from ..project import Project

__all__ = ["add", "add_stage", "checkout", "init", "repro", "reproduce"]


def init(root: str | None = None) -> Project:
    """Make the git repository at ``root`` a DVC 3 compatible project (idempotent)."""
    from ..project import init as _init

    return _init(root)


def add(paths: list[str] | str, root: str | None = None) -> list[str]:
    """Track data files or directories in the cache; return the ``.dvc`` files written."""
    from ..pipeline.tracked import add as _add

    return _add(project_at(root), list(as_list(paths) or []))


def checkout(targets: list[str] | None = None, root: str | None = None, *, force: bool = False) -> list[str]:
    """Restore tracked data and cached stage outputs from the cache; return changed paths.

    Workspace files no cache object holds (edits) are not replaced unless ``force``."""
    from ..pipeline.tracked import checkout as _checkout

    return _checkout(project_at(root), targets, force=force)


def repro(
    targets: list[str] | str | None = None,
    *,
    force: bool = False,
    single_item: bool = False,
    downstream: bool = False,
    pipeline: bool = False,
    all_pipelines: bool = False,
    force_downstream: bool = False,
    dry: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    recursive: bool = False,
    allow_missing: bool = False,
    pull: bool = False,
    interactive: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[StageResult]:
    """Reproduce the pipeline (or ``targets`` and what they need) as ``dvc repro`` does.

    Targets are read from the current directory as DVC reads them (none: its
    ``dvc.yaml``); ``recursive`` lets a directory stand for the stages inside it;
    ``allow_missing`` skips stages whose only change is missing data; ``pull`` fetches
    missing outputs from the DVC remote; ``interactive`` asks before each stage;
    ``dry`` prints the commands without running them; ``quiet`` prints nothing
    (``verbose`` is accepted for DVC's sake). The other flags as :class:`ReproOptions`.

    Returns one StageResult per stage considered. Raises JupyterExpError subclasses
    for user errors (a failing stage names its exit code).
    """
    options = ReproOptions.from_keywords(locals())  # first: locals() holds only the keywords
    return reproduce(as_list(targets), options, dry=dry, echo=silent if quiet else echo, root=root)


def reproduce(
    targets: list[str] | None,
    options: ReproOptions,
    *,
    dry: bool = False,
    echo: Callable[[str], None] | None = None,
    root: str | None = None,
) -> list[StageResult]:
    """:func:`repro` with its flags as one :class:`ReproOptions` (what the CLI passes)."""
    from ..pipeline import noop

    project = project_at(root)
    if not dry:
        known = noop.recall(project, targets, options, echo)
        if known is not None:
            return known
    from ..pipeline.repro import reproduce as _reproduce

    return _reproduce(project, targets, options, dry=dry, echo=echo, confirm=confirm if options.interactive else None)


def add_stage(
    name: str,
    code: str,
    *,
    deps: list[str] | None = None,
    params: list[str] | None = None,
    outs: list[str] | None = None,
    outs_no_cache: list[str] | None = None,
    metrics: list[str] | None = None,
    metrics_no_cache: list[str] | None = None,
    plots: list[str] | None = None,
    plots_no_cache: list[str] | None = None,
    checkpoints: list[str] | None = None,
    wdir: str | None = None,
    always_changed: bool = False,
    desc: str | None = None,
    script: str | None = None,
    force: bool = False,
    run: bool = True,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[StageResult]:
    """Make ``code`` a pipeline stage: write it to ``script`` (default ``stages/NAME.py``),
    add or update stage ``name`` in dvc.yaml to run it, and (unless ``run=False``)
    reproduce it. What ``%%stage`` calls. Returns the reproduction's StageResults."""
    from ..pipeline.stage_add import StageSpec, write_stage

    project = project_at(root)
    spec = StageSpec(
        name=name,
        deps=tuple(deps or ()),
        params=tuple(params or ()),
        outs=tuple(outs or ()),
        outs_no_cache=tuple(outs_no_cache or ()),
        metrics=tuple(metrics or ()),
        metrics_no_cache=tuple(metrics_no_cache or ()),
        plots=tuple(plots or ()),
        plots_no_cache=tuple(plots_no_cache or ()),
        checkpoints=tuple(checkpoints or ()),
        wdir=wdir,
        always_changed=always_changed,
        desc=desc,
        script=script,
    )
    with project.lock():
        script_path, changed = write_stage(project, spec, code, force=force)
    say = echo or echo_stdout
    say(f"{'Wrote' if changed else 'Kept'} stage '{name}' in dvc.yaml; script {project.relpath(script_path)}\n")
    if not run:
        return []
    from ..pipeline.repro import reproduce as _reproduce

    return _reproduce(project, [name], echo=echo)
