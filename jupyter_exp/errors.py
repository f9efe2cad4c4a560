"""The one error base class of jupyter_exp and its user-fixable subclasses.

A :class:`JupyterExpError` is a mistake the user can fix: its message is one line
that names the fix. The CLI prints it without a traceback and exits non-zero;
IPython prints it through ``_render_traceback_``. Anything else is a bug and keeps
its traceback.

The engine speaks no front end's words: where a fix is an option, the message names it
with :func:`option` (``rerun with {option("force")} to overwrite``), and each front end
spells it in its own: the command line and ``%exp`` as the flag (``-f``), Python as the
keyword (``force=True``, the default). A front end sets :attr:`JupyterExpError.spell`
on the errors that reach it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    # (option name, its value or None, as a label) -> the front end's words for it
    Spell = Callable[[str, str | None, bool], str]


def option(name: str, value: str | None = None, *, label: bool = False) -> str:
    """An option (by the api's keyword ``name``) named in a message, with the ``value``
    to give it, or as a ``label`` naming where a bad value came from (``-C/--copy-paths:
    '../x' leaves the project``)."""
    return f"[[{name}/]]" if label else f"[[{name}]]" if value is None else f"[[{name}={value}]]"


def front(api_function: str) -> str:
    """The name of the call that failed: ``api_function`` in Python, the command (or
    magic) it came through on a front end (``%%stage outs: ...``)."""
    return f"[[@{api_function}]]"


# How Python spells an option where it is not ``name=True`` (``{value}``: the value).
API_WORDS = {
    "queue": "queue()",
    "run_all": "run_all()",
    "copy_paths": "copy_paths=['{value}']",
    "set_params": "set_params=['{value}']",
    "revs": "revs=[...]",
    "executor": "executor='{value}'",
    "dvc_remote": "dvc_remote='{value}'",
}


def keyword(name: str, value: str | None, label: bool) -> str:
    """Python's words for an option: the api's keyword."""
    if name.startswith("@") or label:
        return name.lstrip("@")
    words = API_WORDS.get(name)
    if words is not None:
        return words.format(value=value)
    return f"{name}=True" if value is None else f"{name}={value!r}"


def spell_options(text: str, spell: Spell) -> str:
    """``text`` with each :func:`option`/:func:`front` mark in ``spell``'s words."""
    if "[[" not in text:
        return text
    import re

    def words(found: re.Match) -> str:
        name, rest = found.group(1), found.group(2) or ""
        return spell(name, rest[1:] if rest.startswith("=") else None, rest == "/")

    return re.sub(r"\[\[(@?\w+)(/|=[^\]]*)?\]\]", words, text)


class JupyterExpError(Exception):
    """Base class: a user-fixable error whose message is one line naming the fix."""

    exit_code = 1
    spell: Spell | None = None  # a front end's words for the options named (default: Python's)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.template = message  # the engine's words, options marked (see option())

    @property
    def message(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return spell_options(self.template, self.spell or keyword)

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback.
        return [f"ERROR: {self}"]


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


class CommitError(JupyterExpError):
    """``commit`` of a stage or ``.dvc`` file that changed (without force) or lacks data."""


class UnknownRevisionError(JupyterExpError):
    """A revision (``diff A B``) that names no commit."""


class PathError(JupyterExpError):
    """A path from a file or a flag that leaves the project or names its machinery."""


class ConfigError(JupyterExpError):
    """``.dvc/config`` (or ``config.local``) cannot be read."""
