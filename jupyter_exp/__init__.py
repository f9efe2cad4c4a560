"""jupyter_exp: DVC-compatible pipelines and experiments from Jupyter, Python and the shell.

This module only re-exports. The api lives in :mod:`jupyter_exp.api`, one module per
noun (pipeline, params and metrics, experiments, queue, sharing, plots); the ``jupyter exp``
command and the ``%exp`` / ``%%stage`` magics call those modules. Each name below is
imported on first use (PEP 562), so ``import jupyter_exp`` stays cheap: the engine,
pandas and IPython load when a function first needs them.
"""

from __future__ import annotations

import sys
import types

from .errors import JupyterExpError
from .version import __version__

TYPE_CHECKING = False
# fmt: off
# isort: off
if TYPE_CHECKING:  # what type checkers and editors see of the lazy names
    from typing import Any

    from . import live
    from .api.compare import compare, comparison
    from .api.experiments import (
        apply, branch, diff, gc, ls, remove, rename, run, run_temp, run_temp_with, save, show, show_text,
    )
    from .api.notes import note
    from .api.params_metrics import apply_params, expand_sweeps, metrics_diff, metrics_show, params_diff
    from .api.pipeline import add, add_stage, checkout, init, repro, reproduce
    from .api.plots import plots_diff, plots_show, plots_templates
    from .api.queue import (
        queue, queue_kill, queue_logs, queue_remove, queue_retry, queue_start, queue_status, queue_stop, queue_wait,
        queue_with, run_all,
    )
    from .api.sharing import pull, push
    from .api.table import show_table
    from .compare import DiffRow
    from .display import QueueStatus
    from .errors import (
        CacheError, CheckoutError, ConfigError, CyclicGraphError, LockError, MissingDependencyError, NotAGitRepoError,
        NotAProjectError, OutputDuplicatedError, OverrideSyntaxError, ParamsError, PathError, PipelineError,
        StageFailedError, UnknownStageError, YAMLFileError,
    )
    from .experiments.apply import Applied
    from .experiments.comparison import Comparison
    from .experiments.diff import ExpDiff
    from .experiments.exceptions import (
        AmbiguousExperimentError, ApplyRefusedError, CannotRecordError, DaskUnavailableError, EntryGone,
        ExperimentExistsError, NoBaselineError, NoteError, QueueError, RemoteError, RunInterrupted, StateConflict,
        UnknownExperimentError,
    )
    from .experiments.executor import Outcome
    from .experiments.notes import Note
    from .experiments.queue_store import QueueEntry
    from .experiments.run import Experiment
    from .experiments.workers import StopReport, WorkerInfo
    from .live import make_checkpoint
    from .options import ReproOptions, ShowOptions
    from .pipeline.results import StageResult
    from .plots.display import PlotsView
    from .plots.templates import TemplateError
    from .project import Project
# isort: on

# Each lazy name and the module (relative to this package) that defines it.
_MODULES: dict[str, str] = {
    ".api.pipeline": "add add_stage checkout init repro reproduce",
    ".api.params_metrics": "apply_params expand_sweeps metrics_diff metrics_show params_diff",
    ".api.experiments": "apply branch diff gc ls remove rename run run_temp run_temp_with save show show_text",
    ".api.compare": "compare comparison",
    ".api.notes": "note",
    ".api.queue": "queue queue_kill queue_logs queue_remove queue_retry queue_start queue_status queue_stop "
                  "queue_wait queue_with run_all",
    ".api.sharing": "pull push",
    ".api.plots": "plots_diff plots_show plots_templates",
    ".api.table": "show_table",
    # What the functions return and take.
    ".experiments.apply": "Applied",
    ".experiments.comparison": "Comparison",
    ".experiments.notes": "Note",
    ".compare": "DiffRow",
    ".experiments.diff": "ExpDiff",
    ".experiments.run": "Experiment",
    ".experiments.executor": "Outcome",
    ".plots.display": "PlotsView",
    ".project": "Project",
    ".experiments.queue_store": "QueueEntry",
    ".display": "QueueStatus",
    ".options": "ReproOptions ShowOptions",
    ".pipeline.results": "StageResult",
    ".experiments.workers": "StopReport WorkerInfo",
    # The errors a user may catch (all JupyterExpError).
    ".experiments.exceptions": "AmbiguousExperimentError ApplyRefusedError CannotRecordError DaskUnavailableError "
                               "EntryGone ExperimentExistsError NoBaselineError NoteError QueueError StateConflict "
                               "RemoteError RunInterrupted UnknownExperimentError",
    ".errors": "CacheError CheckoutError ConfigError CyclicGraphError LockError MissingDependencyError "
               "NotAGitRepoError NotAProjectError OutputDuplicatedError OverrideSyntaxError ParamsError PathError "
               "PipelineError StageFailedError UnknownStageError YAMLFileError",
    ".plots.templates": "TemplateError",
    # The in-stage api: `jupyter_exp.live` (DVCLive's calls) and DVC 2's make_checkpoint.
    ".live": "live make_checkpoint",
}
# fmt: on
_LAZY: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names.split()}

__all__ = sorted(["JupyterExpError", "__version__", "load_ipython_extension", *_LAZY])


class _Package(types.ModuleType):
    """This package's module type: ``jupyter_exp.compare`` stays the api function.

    Importing the engine module ``jupyter_exp/compare.py`` (reading params and metrics)
    makes Python bind it as this package's attribute ``compare``, over the function
    users call (``jupyter_exp.compare(["a", "b"])``). That one binding is ignored; the
    module is still ``sys.modules["jupyter_exp.compare"]``, where imports find it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "compare" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The server extension (REST routes and live socket for the JupyterLab panel)."""
    return [{"module": "jupyter_exp.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension shipped in the package."""
    return [{"src": "labextension", "dest": "jupyter-exp"}]
