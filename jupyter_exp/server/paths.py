"""Which project a request names: a directory under the Jupyter server's root, and the
DVC project at or above it (never above the root).

The path comes from the browser, so it is untrusted: an absolute path, a ``..``
component, a way through ``.git`` or ``.dvc``, or a symlink that leads out of the root
is refused before anything is read. Nothing here imports tornado; the handlers turn
:class:`ProjectNotFound` into a 404.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from ..errors import JupyterExpError
from ..project import DVC_DIR, MACHINERY, Project


class ProjectNotFound(JupyterExpError):
    """The path is outside the server's root, or no project contains it (a 404)."""


def resolve_dir(server_root: Path, path: str) -> Path:
    """The real directory ``path`` (relative to ``server_root``, "" for the root) names.

    A file names its folder (the project of an open notebook is its folder's).

    Raises:
        ProjectNotFound: ``path`` is absolute, has a ``..`` component, goes through
            ``.git`` or ``.dvc``, leads outside the root through a symlink, or does not
            exist.
    """
    if not isinstance(path, str) or "\0" in path or "\\" in path:
        raise ProjectNotFound(f"'{path}' is not a valid path; give a folder relative to the Jupyter root.")
    if posixpath.isabs(path) or path.startswith("~"):
        raise ProjectNotFound(f"'{path}' is absolute; give a folder relative to the Jupyter root.")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ProjectNotFound(f"'{path}' leaves the Jupyter root; give a folder inside it.")
    if any(p in MACHINERY for p in parts):
        raise ProjectNotFound(f"'{path}' is inside .git or .dvc; give the project's folder.")
    root = server_root.resolve()
    try:
        real = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise ProjectNotFound(f"No folder '{path}' under the Jupyter root.") from None
    if not real.is_relative_to(root):
        raise ProjectNotFound(f"'{path}' leads outside the Jupyter root through a symlink; open a folder inside it.")
    return real if real.is_dir() else real.parent


def find_project(server_root: Path, path: str) -> Project:
    """The project containing ``path``: the nearest folder at or above it, up to the
    server's root, that has ``.dvc/`` (a folder holding only ``.git`` ends the search,
    as ``Project.find`` ends it).

    Raises:
        ProjectNotFound: as :func:`resolve_dir`, or no project at or above ``path``.
    """
    root = server_root.resolve()
    start = resolve_dir(root, path)
    for candidate in (start, *start.parents):
        if not candidate.is_relative_to(root):
            break
        if (candidate / DVC_DIR).is_dir():
            return Project(candidate)
        if (candidate / ".git").exists():
            break
    shown = path or "the Jupyter root"
    raise ProjectNotFound(f"No DVC project at or above '{shown}'; run `jupyter dvc init` in the project's folder.")


def relative_to_root(server_root: Path, path: Path) -> str:
    """``path`` (inside the root) relative to the server's root, with forward slashes
    ("" for the root itself): how the front end names files and folders."""
    rel = path.resolve().relative_to(server_root.resolve()).as_posix()
    return "" if rel == "." else rel
