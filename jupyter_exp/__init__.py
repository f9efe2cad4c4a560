"""jupyter_exp: DVC-compatible pipelines and experiments from Jupyter, Python and the shell.

Only re-exports of the api (:mod:`jupyter_exp.api`, one module per noun), each imported
on first use (PEP 562), so ``import jupyter_exp`` stays cheap."""

from __future__ import annotations

from .errors import JupyterExpError
from .version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and editors see of the lazy names
    from typing import Any

    from . import live
    from .api.compare import *  # noqa: F403
    from .api.data import *  # noqa: F403
    from .api.experiments import *  # noqa: F403
    from .api.notes import *  # noqa: F403
    from .api.params_metrics import *  # noqa: F403
    from .api.pipeline import *  # noqa: F403
    from .api.pipeline_more import *  # noqa: F403
    from .api.plots import *  # noqa: F403
    from .api.queue import *  # noqa: F403
    from .api.search import *  # noqa: F403
    from .api.sharing import *  # noqa: F403
    from .api.table import *  # noqa: F403
    from .arguments import InvalidArgumentError
    from .display import QueueStatus
    from .errors import *  # noqa: F403
    from .experiments.apply import Applied
    from .experiments.comparison import Comparison
    from .experiments.diff import ExpDiff
    from .experiments.exceptions import *  # noqa: F403
    from .experiments.executor import Outcome
    from .experiments.notes import Note
    from .experiments.queue_store import QueueEntry
    from .experiments.run import Experiment
    from .experiments.workers import StopReport, WorkerInfo
    from .git import GitError, RemoteUnavailableError
    from .live import make_checkpoint
    from .options import ReproOptions, ShowOptions
    from .params_metrics import DiffRow
    from .pipeline.repro import ReproAbortedError, ReproFailedError
    from .pipeline.results import ImportSource, StageResult
    from .pipeline.stage_add import StageExistsError
    from .plots.commits import CommitsView, TrendError
    from .plots.convert import PlotDataError
    from .plots.display import PlotsView
    from .plots.templates import TemplateError
    from .project import Project
    from .refs import InvalidExpNameError
    from .remote.config import RemoteEntry
    from .remote.errors import DataRemoteError, MissingDriverError, RemoteConfigError
    from .remote.gc import GcPlan
    from .remote.sync import SyncReport
    from .studies.driver import SearchResult
    from .studies.exceptions import *  # noqa: F403
    from .studies.study import TrialInfo

# Each module (relative to this package) and the names it gives, imported on first use.
_BY_MODULE = {
    # The api, by noun (each module's __all__; a test holds them equal).
    ".api.pipeline": "add add_stage checkout init repro reproduce",
    ".api.pipeline_more": "commit data_diff freeze imports remove_stages unfreeze",
    ".api.params_metrics": "apply_params expand_sweeps metrics_diff metrics_show params_diff",
    ".api.experiments": "apply branch clean diff gc ls remove rename run run_temp run_temp_with run_with save show "
    "show_text",
    ".api.compare": "compare comparison",
    ".api.notes": "note",
    ".api.queue": "queue queue_kill queue_logs queue_remove queue_retry queue_start queue_status queue_stop "
    "queue_wait queue_with run_all",
    ".api.search": "search search_best search_plots search_remove search_status search_trials",
    ".api.sharing": "pull push",
    ".api.data": "data_fetch data_gc data_pull data_push remote_add remote_default remote_list remote_modify "
    "remote_remove remote_rename",
    ".api.plots": "plots_diff plots_show plots_templates plots_trends",
    ".api.table": "show_table",
    # What the functions return and take.
    ".experiments.comparison": "Comparison",
    ".experiments.notes": "Note",
    ".params_metrics": "DiffRow",
    ".display": "QueueStatus",
    ".experiments.apply": "Applied",
    ".experiments.clean": "CleanReport",
    ".experiments.diff": "ExpDiff",
    ".experiments.executor": "Outcome",
    ".experiments.queue_store": "QueueEntry",
    ".experiments.run": "Experiment",
    ".experiments.workers": "StopReport WorkerInfo",
    ".options": "ReproOptions ShowOptions",
    ".pipeline.results": "ImportSource StageResult",
    ".plots.display": "PlotsView",
    ".plots.commits": "CommitsView TrendError",
    ".project": "Project",
    ".remote.config": "RemoteEntry",
    ".remote.sync": "SyncReport",
    ".remote.gc": "GcPlan",
    ".remote.errors": "DataRemoteError MissingDriverError RemoteConfigError",
    # The errors a user may catch (all JupyterExpError).
    ".errors": "CacheError CheckoutError ConfigError CyclicGraphError LockError MissingDependencyError "
    "NotAGitRepoError NotAProjectError OutputDuplicatedError OverrideSyntaxError ParamsError PathError "
    "PipelineError StageFailedError UnknownStageError YAMLFileError CommitError UnknownRevisionError",
    ".studies.driver": "SearchResult",
    ".studies.study": "TrialInfo",
    ".studies.exceptions": "OptunaMissingError SearchError SearchSpaceError StudyExistsError UnknownSamplerError "
    "UnknownStudyError",
    ".experiments.exceptions": "AmbiguousExperimentError ApplyRefusedError CannotRecordError DaskUnavailableError "
    "EntryGone ExperimentExistsError NoBaselineError QueueError RemoteError RunInterrupted StateConflict "
    "UnknownExperimentError NoteError",
    ".arguments": "InvalidArgumentError",
    ".git": "GitError RemoteUnavailableError",
    ".pipeline.repro": "ReproAbortedError ReproFailedError",
    ".pipeline.stage_add": "StageExistsError",
    ".refs": "InvalidExpNameError",
    ".plots.templates": "TemplateError",
    ".plots.convert": "PlotDataError",
    ".live": "live make_checkpoint",  # the in-stage api: DVCLive's calls, DVC 2's make_checkpoint
}
_LAZY: dict[str, str] = {name: module for module, names in _BY_MODULE.items() for name in names.split()}

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
    """``%load_ext jupyter_exp``: register the ``%exp`` and ``%%stage`` magics."""
    from .magics import ExpMagics

    ipython.register_magics(ExpMagics)


def _jupyter_server_extension_points() -> list[dict[str, str]]:  # the panel's REST routes and live socket
    return [{"module": "jupyter_exp.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:  # the prebuilt JupyterLab extension
    return [{"src": "labextension", "dest": "jupyter-exp"}]
