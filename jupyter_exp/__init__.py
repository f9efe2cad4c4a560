"""jupyter_exp: DVC-compatible pipelines and experiments from Jupyter, Python and the shell.

The functions here are the api: the ``jupyter exp`` command calls them and so will
the ``%exp`` magics. Each takes ``root`` (any path inside the project; default the
current directory). Importing this package stays cheap: the engine, pandas and
IPython are imported when a function first needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .errors import JupyterExpError

if TYPE_CHECKING:
    from .compare import DiffRow
    from .pipeline.repro import StageResult
    from .project import Project

__version__ = "0.1.0"

__all__ = [
    "JupyterExpError",
    "__version__",
    "add",
    "apply_params",
    "checkout",
    "expand_sweeps",
    "init",
    "metrics_diff",
    "metrics_show",
    "params_diff",
    "repro",
]


def _project(root: str | None) -> "Project":
    from .project import Project

    return Project.find(root)


def init(root: str | None = None) -> "Project":
    """Make the git repository at ``root`` a DVC 3 compatible project (idempotent)."""
    from .project import init as _init

    return _init(root)


def add(paths: list[str] | str, root: str | None = None) -> list[str]:
    """Track data files or directories in the cache; return the ``.dvc`` files written."""
    from .pipeline.tracked import add as _add

    return _add(_project(root), [paths] if isinstance(paths, str) else list(paths))


def checkout(targets: list[str] | None = None, root: str | None = None) -> list[str]:
    """Restore tracked data and cached stage outputs from the cache; return changed paths."""
    from .pipeline.tracked import checkout as _checkout

    return _checkout(_project(root), targets)


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
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list["StageResult"]:
    """Reproduce the pipeline (or ``targets`` and what they need) as ``dvc repro`` does.

    Returns one StageResult per stage considered. Raises JupyterExpError subclasses
    for user errors (a failing stage names its exit code).
    """
    if isinstance(targets, str):
        targets = [targets]
    project = _project(root)
    if not (force or force_downstream or dry):
        # A recorded no-op whose inputs have not moved is answered without the engine.
        from .pipeline import stamp
        from .pipeline.results import echo_stdout

        selected = stamp.selection(targets, single_item, downstream, pipeline, all_pipelines)
        known = stamp.check(project.own_tmp_dir, selected, echo or echo_stdout)
        if known is not None:
            return known
    from .pipeline.repro import reproduce

    return reproduce(
        project, targets, force=force, single_item=single_item, downstream=downstream,
        pipeline=pipeline, all_pipelines=all_pipelines, force_downstream=force_downstream,
        dry=dry, keep_going=keep_going, ignore_errors=ignore_errors, echo=echo,
    )


def apply_params(set_params: list[str] | str, root: str | None = None) -> list[str]:
    """Apply ``-S [file:]key=value`` overrides to the params files; return files changed."""
    from .overrides import apply_overrides, group_by_file

    project = _project(root)
    if isinstance(set_params, str):
        set_params = [set_params]
    return apply_overrides(project.root, group_by_file(set_params))


def expand_sweeps(set_params: list[str] | str) -> list[dict[str, list[str]]]:
    """Expand sweep overrides into one ``{file: [overrides]}`` set per combination."""
    from .overrides import expand_sweeps as _expand

    return _expand([set_params] if isinstance(set_params, str) else list(set_params))


def params_diff(a_rev: str | None = "HEAD", b_rev: str | None = None, *, all: bool = False,
                deps: bool = False, root: str | None = None) -> list["DiffRow"]:
    """Params that differ between two revisions (default HEAD and the workspace)."""
    from .compare import params_diff as _diff

    return _diff(_project(root), a_rev, b_rev, all=all, deps=deps)


def metrics_show(revs: list[str] | None = None, root: str | None = None) -> dict[str, Any]:
    """Metrics per revision: ``{rev: {file: {"data": {key: value}}}}``."""
    from .compare import metrics_show as _show

    return _show(_project(root), revs)


def metrics_diff(a_rev: str | None = "HEAD", b_rev: str | None = None, *, all: bool = False,
                 root: str | None = None) -> list["DiffRow"]:
    """Metrics that differ between two revisions, with the numeric change."""
    from .compare import metrics_diff as _diff

    return _diff(_project(root), a_rev, b_rev, all=all)
