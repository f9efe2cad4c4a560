"""jupyter_exp: DVC-compatible pipelines and experiments from Jupyter, Python and the shell.

This module only re-exports. The api lives in :mod:`jupyter_exp.api`, one module per
noun (pipeline, params and metrics, experiments, queue, sharing, data); the ``jupyter exp``
command and the ``%exp`` / ``%%stage`` magics call those modules. Each name below is
imported on first use (PEP 562), so ``import jupyter_exp`` stays cheap: the engine,
pandas and IPython load when a function first needs them.
"""

from __future__ import annotations

from .errors import JupyterExpError
from .version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and editors see of the lazy names
    from typing import Any

    from . import live
    from .api.data import (
        data_fetch,
        data_gc,
        data_pull,
        data_push,
        remote_add,
        remote_default,
        remote_list,
        remote_modify,
        remote_remove,
        remote_rename,
    )
    from .api.experiments import (
        apply,
        branch,
        diff,
        gc,
        ls,
        remove,
        rename,
        run,
        run_temp,
        run_temp_with,
        save,
        show,
        show_text,
    )
    from .api.params_metrics import apply_params, expand_sweeps, metrics_diff, metrics_show, params_diff
    from .api.pipeline import add, add_stage, checkout, init, repro, reproduce
    from .api.queue import (
        queue,
        queue_kill,
        queue_logs,
        queue_remove,
        queue_retry,
        queue_start,
        queue_status,
        queue_stop,
        queue_wait,
        queue_with,
        run_all,
    )
    from .api.sharing import pull, push
    from .api.table import show_table
    from .compare import DiffRow
    from .display import QueueStatus
    from .errors import (
        CacheError,
        CheckoutError,
        ConfigError,
        CyclicGraphError,
        LockError,
        MissingDependencyError,
        NotAGitRepoError,
        NotAProjectError,
        OutputDuplicatedError,
        OverrideSyntaxError,
        ParamsError,
        PathError,
        PipelineError,
        StageFailedError,
        UnknownStageError,
        YAMLFileError,
    )
    from .experiments.apply import Applied
    from .experiments.diff import ExpDiff
    from .experiments.exceptions import (
        AmbiguousExperimentError,
        ApplyRefusedError,
        CannotRecordError,
        DaskUnavailableError,
        EntryGone,
        ExperimentExistsError,
        NoBaselineError,
        QueueError,
        RemoteError,
        RunInterrupted,
        StateConflict,
        UnknownExperimentError,
    )
    from .experiments.executor import Outcome
    from .experiments.queue_store import QueueEntry
    from .experiments.run import Experiment
    from .experiments.workers import StopReport, WorkerInfo
    from .live import make_checkpoint
    from .options import ReproOptions, ShowOptions
    from .pipeline.results import StageResult
    from .project import Project
    from .remote.config import RemoteEntry
    from .remote.errors import DataRemoteError, MissingDriverError, RemoteConfigError
    from .remote.gc import GcPlan
    from .remote.sync import SyncReport

# Each lazy name and the module (relative to this package) that defines it.
_LAZY: dict[str, str] = {
    **dict.fromkeys(["add", "add_stage", "checkout", "init", "repro", "reproduce"], ".api.pipeline"),
    **dict.fromkeys(
        ["apply_params", "expand_sweeps", "metrics_diff", "metrics_show", "params_diff"], ".api.params_metrics"
    ),
    **dict.fromkeys(
        [
            "apply",
            "branch",
            "diff",
            "gc",
            "ls",
            "remove",
            "rename",
            "run",
            "run_temp",
            "run_temp_with",
            "save",
            "show",
            "show_text",
        ],
        ".api.experiments",
    ),
    **dict.fromkeys(
        [
            "queue",
            "queue_kill",
            "queue_logs",
            "queue_remove",
            "queue_retry",
            "queue_start",
            "queue_status",
            "queue_stop",
            "queue_wait",
            "queue_with",
            "run_all",
        ],
        ".api.queue",
    ),
    **dict.fromkeys(["pull", "push"], ".api.sharing"),
    **dict.fromkeys(
        [
            "data_fetch",
            "data_gc",
            "data_pull",
            "data_push",
            "remote_add",
            "remote_default",
            "remote_list",
            "remote_modify",
            "remote_remove",
            "remote_rename",
        ],
        ".api.data",
    ),
    "show_table": ".api.table",
    # What the functions return and take.
    "Applied": ".experiments.apply",
    "DiffRow": ".compare",
    "ExpDiff": ".experiments.diff",
    "Experiment": ".experiments.run",
    "Outcome": ".experiments.executor",
    "Project": ".project",
    "QueueEntry": ".experiments.queue_store",
    "QueueStatus": ".display",
    "ReproOptions": ".options",
    "ShowOptions": ".options",
    "StageResult": ".pipeline.results",
    "StopReport": ".experiments.workers",
    "WorkerInfo": ".experiments.workers",
    "RemoteEntry": ".remote.config",
    "SyncReport": ".remote.sync",
    "GcPlan": ".remote.gc",
    **dict.fromkeys(["DataRemoteError", "MissingDriverError", "RemoteConfigError"], ".remote.errors"),
    # The errors a user may catch (all JupyterExpError).
    **dict.fromkeys(
        [
            "AmbiguousExperimentError",
            "ApplyRefusedError",
            "CannotRecordError",
            "DaskUnavailableError",
            "EntryGone",
            "ExperimentExistsError",
            "NoBaselineError",
            "QueueError",
            "StateConflict",
            "RemoteError",
            "RunInterrupted",
            "UnknownExperimentError",
        ],
        ".experiments.exceptions",
    ),
    **dict.fromkeys(
        [
            "CacheError",
            "CheckoutError",
            "ConfigError",
            "CyclicGraphError",
            "LockError",
            "MissingDependencyError",
            "NotAGitRepoError",
            "NotAProjectError",
            "OutputDuplicatedError",
            "OverrideSyntaxError",
            "ParamsError",
            "PathError",
            "PipelineError",
            "StageFailedError",
            "UnknownStageError",
            "YAMLFileError",
        ],
        ".errors",
    ),
    # The in-stage api: `jupyter_exp.live` (DVCLive's calls) and DVC 2's make_checkpoint.
    "live": ".live",
    "make_checkpoint": ".live",
}

__all__ = sorted(["JupyterExpError", "__version__", "load_ipython_extension", *_LAZY])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_exp' has no attribute {name!r}")
    import importlib

    imported = importlib.import_module(module, __name__)
    value = imported if name == "live" else getattr(imported, name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_exp`` (or ``c.InteractiveShellApp.extensions``): register
    ``%exp`` and ``%%stage``."""
    from .magics import ExpMagics

    ipython.register_magics(ExpMagics)
