"""``status``'s text as DVC prints it, apart from the engine: a status answered from its
stamp (:mod:`.status_stamp`) prints without loading the engine."""

from __future__ import annotations

from ..errors import JupyterExpError

TYPE_CHECKING = False  # (typing's import is a twentieth of a stamped `status`)
if TYPE_CHECKING:
    from typing import Any

Status = dict[str, list]

UP_TO_DATE = "Data and pipelines are up to date."
EMPTY_PROJECT = (
    "There are no data or pipelines tracked in this project yet.\nSee <https://dvc.org/doc/start> to get started!"
)


class ChangedError(JupyterExpError):
    """``status -q``: something changed (exit status 1, nothing printed)."""


def status_text(
    found: Status | dict[str, str], cloud: bool = False, empty: bool = False, remote: str | None = None
) -> str:
    """DVC's text of a status (``cloud``: of ``status -c``, one tab in)."""
    if not found:
        if empty:
            return EMPTY_PROJECT + "\n"
        return (f"Cache and remote '{remote}' are in sync." if cloud else UP_TO_DATE) + "\n"
    lines: list[str] = []
    _show(found, 1 if cloud else 0, lines)
    return "\n".join(lines) + "\n"


def _show(value: Any, indent: int, lines: list[str]) -> None:
    tabs = "\t" * indent
    if isinstance(value, str):
        lines.append(tabs + value)
    elif isinstance(value, list):
        for item in value:
            _show(item, indent, lines)
    else:
        for key, item in value.items():
            if isinstance(item, str):
                lines.append(f"{tabs}{(item + ':').ljust(20)}{key}")
            elif item:
                lines.append(f"{tabs}{key}:")
                _show(item, indent + 1, lines)
