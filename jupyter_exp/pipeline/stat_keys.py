"""What the stamps (:mod:`.stamp`, :mod:`.status_stamp`, the show stamp) compare: a file's
(device, inode, size, mtime), which project a stamp belongs to, and the current
directory within it. Standard library only: a stamp's fast path pays for nothing else."""

from __future__ import annotations

import os
from pathlib import Path


def current_dir(root: Path) -> str:
    """The current directory relative to the project ``root`` (where DVC reads targets
    from), or ``.`` outside it."""
    try:
        rel = Path(os.getcwd()).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return "."
    return rel if rel and not rel.startswith((".git", ".dvc")) else "."


def stat_key(path: str) -> list[int] | None:
    """(device, inode, size, mtime) of ``path``, or None if it is not there."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def location_key(own_tmp: Path) -> list | None:
    """Which project's bookkeeping ``own_tmp`` is: its path and (device, inode), and
    the (device, inode) of the project root above it. A copied or moved project has
    another; a stamp recorded elsewhere never answers here."""
    try:
        here, root = os.stat(own_tmp), os.stat(own_tmp.parent.parent.parent)
    except OSError:
        return None
    return [os.path.abspath(own_tmp), here.st_dev, here.st_ino, root.st_dev, root.st_ino]


def expand(path: Path) -> list[str]:
    """``path`` and, for a directory, every file and directory below it."""
    found = [str(path)]
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):
            found.extend(os.path.join(dirpath, name) for name in dirnames + filenames)
    return found
