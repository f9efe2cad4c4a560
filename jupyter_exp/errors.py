"""The one error base class of jupyter_exp and its user-fixable subclasses.

A :class:`JupyterExpError` is a mistake the user can fix: its message is one line
that names the fix. The CLI prints it without a traceback and exits non-zero;
IPython prints it through ``_render_traceback_``. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class JupyterExpError(Exception):
    """Base class: a user-fixable error whose message is one line naming the fix."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback.
        return [f"ERROR: {self.message}"]


class NotAGitRepoError(JupyterExpError):
    pass


class NotAProjectError(JupyterExpError):
    pass


class YAMLFileError(JupyterExpError):
    """A YAML (or JSON/TOML) file that cannot be parsed, with file and line."""


class PipelineError(JupyterExpError):
    """A dvc.yaml that parses but does not describe a valid pipeline."""


class UnknownStageError(JupyterExpError):
    pass


class CyclicGraphError(PipelineError):
    pass


class OutputDuplicatedError(PipelineError):
    pass


class MissingDependencyError(JupyterExpError):
    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path  # project-relative


class StageFailedError(JupyterExpError):
    """A stage command exited non-zero."""

    def __init__(self, stage: str, returncode: int, tail: str = "") -> None:
        tail_line = " | ".join(line for line in tail.strip().splitlines()[-3:] if line.strip())
        message = f"Stage '{stage}' failed with exit code {returncode}"
        if tail_line:
            message += f": {tail_line}"
        message += "; fix the command and rerun."
        super().__init__(message)
        self.stage = stage
        self.returncode = returncode


class ParamsError(JupyterExpError):
    """An unknown param key, a bad override, an unreadable params file."""


class OverrideSyntaxError(ParamsError):
    pass


class CacheError(JupyterExpError):
    pass


class LockError(JupyterExpError):
    """Another process holds the project lock."""


class CheckoutError(JupyterExpError):
    pass


class PathError(JupyterExpError):
    """A path from a file or a flag that leaves the project or names its machinery."""


class ConfigError(JupyterExpError):
    """``.dvc/config`` (or ``config.local``) cannot be read."""
