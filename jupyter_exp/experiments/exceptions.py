"""The errors of the experiments package (DVC's ``experiments/exceptions.py``).

One condition, one type: a name that is taken raises :class:`ExperimentExistsError`
wherever it is found (run, save, queue, rename, branch, the ref write itself); a name
that designates nothing raises :class:`UnknownExperimentError`. Subclasses exist only
where a caller tells them apart. Every one is a :class:`JupyterExpError`: one line
that names the fix. This module imports nothing else of the package, so every
module of ``experiments/`` can raise these without importing another's verbs.
"""

from __future__ import annotations

from ..errors import JupyterExpError, option


class ExperimentExistsError(JupyterExpError):
    """A name that is taken: an experiment's on its baseline (rerun with force), or the
    branch ``exp branch`` would create."""

    @classmethod
    def taken(cls, name: str, baseline: str) -> ExperimentExistsError:
        """Experiment ``name`` exists on ``baseline`` already."""
        return cls(
            f"Experiment '{name}' already exists on baseline {baseline[:7]}; rerun with {option('force')} to overwrite."
        )


class UnknownExperimentError(JupyterExpError):
    """What the user typed names no experiment, checkpoint, saved workspace, queue
    entry or revision the command accepts."""


class AmbiguousExperimentError(JupyterExpError):
    """A name that exists on several baselines, none of them HEAD."""


class NoBaselineError(JupyterExpError):
    """The repository has no commit to be the experiments' baseline."""


class CannotRecordError(JupyterExpError):
    """Something would make recording the experiment fail once the pipeline has run."""


class ApplyRefusedError(JupyterExpError):
    """The repository is in a state apply would destroy (a merge, rebase, conflicts)."""


class QueueError(JupyterExpError):
    """A queue verb that cannot be done: no such entry, a running entry, nothing to do."""


class EntryGone(QueueError):
    """The entry was removed, or claimed by another run, while this one used it."""


class StateConflict(QueueError):
    """The entry is not in a state the change is allowed from (it changed meanwhile)."""


class RunInterrupted(JupyterExpError):
    """Ctrl+C stopped a foreground ``queue start``; the entries are back in the queue."""

    exit_code = 130


class DaskUnavailableError(JupyterExpError):
    """Dask is missing, or its scheduler cannot be reached."""


class RemoteError(JupyterExpError):
    """A git remote refused or could not be reached for ``exp push``/``pull``."""


class NoteError(JupyterExpError):
    """A note or tag that cannot be written (control characters, too long), a stored note
    that cannot be read, or a remote's notes that cannot be merged."""
