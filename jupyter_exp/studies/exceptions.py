"""The errors of hyperparameter search: one line each, naming the fix."""

from __future__ import annotations

from ..errors import JupyterExpError


class SearchError(JupyterExpError):
    """A search that cannot start or continue: bad arguments, an unknown study."""


class SearchSpaceError(SearchError):
    """An override Optuna cannot sample (a reversed interval, ``log`` over zero, a glob)."""


class UnknownSamplerError(SearchError):
    """A ``--sampler`` or ``--prune`` name that does not exist."""


class StudyExistsError(SearchError):
    """A new study under a name that is taken (resume it instead)."""


class UnknownStudyError(SearchError):
    """A study name the project's search storage does not hold."""


class OptunaMissingError(SearchError):
    """Optuna is not installed."""
