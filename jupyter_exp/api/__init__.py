"""The api, one module per noun; ``jupyter_exp`` re-exports every public function.

- :mod:`.pipeline`: ``init``, ``add``, ``checkout``, ``repro``, ``add_stage``;
- :mod:`.params_metrics`: ``apply_params``, ``expand_sweeps``, ``params_diff``,
  ``metrics_show``, ``metrics_diff``;
- :mod:`.experiments`: ``run`` (in the workspace) and ``run_temp``, ``save``, ``show``,
  ``show_text``, ``diff``, ``apply``, ``branch``, ``rename``, ``remove``, ``gc``, ``ls``;
- :mod:`.queue`: the durable queue (``queue``), running it (``run_all``) and its
  background workers (``queue_start`` ...);
- :mod:`.sharing`: ``push`` and ``pull``;
- :mod:`.table`: ``show_table``, the interactive table (its actions call the modules
  above, so it sits on top of them).

Each function takes ``root`` (any path inside the project; default the current
directory) and imports the engine when first called, so importing these modules stays
cheap. The front ends (the CLI, ``%exp``, the table) call these, never the package root.
Below: what every noun shares.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from ..project import Project

    T = TypeVar("T")


def project_at(root: str | None) -> Project:
    """The project ``root`` is in (default: the current directory's)."""
    from ..project import Project

    return Project.find(root)


def as_list(value: list[T] | T | None) -> list[T] | None:
    """One value (a name, a path) as a list of one; a list as it is; None stays None."""
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


def echo_stdout(text: str) -> None:
    """The default ``echo``: stage output and progress on this process's stdout."""
    from ..pipeline.results import echo_stdout as _echo

    _echo(text)


def silent(text: str) -> None:
    """The ``echo`` of ``quiet``."""


def confirm(question: str) -> bool:
    """``interactive``: ask on the terminal (or the kernel's input box); yes only for y/yes."""
    try:
        answer = input(f"{question} [y/n] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def overrides(params: dict[str, Any] | None, set_params: list[str] | None) -> list[str]:
    """``set_params`` (``[file:]key=value`` strings) and ``params`` (``{"[file:]key": value}``)
    as one list of override strings."""
    from ..overrides import format_override

    return list(set_params or []) + [format_override(key, value) for key, value in (params or {}).items()]
