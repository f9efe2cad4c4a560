"""What the stamps (:mod:`.stamp`, :mod:`.status_stamp`, the show stamp) compare: a file's
(device, inode, size, mtime), which project a stamp belongs to, and the current
directory within it. Standard library only: a stamp's fast path pays for nothing else."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..serialize import write_text_atomic


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


def stats_of(trees: Iterable[Path], files: Iterable[Path] = ()) -> dict[str, list[int] | None]:
    """The :func:`stat_key` of every file and directory of each of ``trees`` and of each
    of ``files`` alone (a directory searched, a cache object looked for)."""
    stats: dict[str, list[int] | None] = {}
    for path in trees:
        for item in expand(path):
            stats[item] = stat_key(item)
    for path in files:
        stats.setdefault(str(path), stat_key(str(path)))
    return stats


def save_stamp(target: Path, own_tmp: Path, data: dict, beside: tuple[Path, str] | None = None) -> None:
    """Write stamp ``data`` to ``target`` with the location of ``own_tmp`` (and first the
    text ``beside`` it, if given). A stamp is only a shortcut: on a failed write (a full
    disk) the next caller takes the slow path, and no stale stamp outlives the failure."""
    data = dict(data, location=location_key(own_tmp))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if beside is not None:
            write_text_atomic(*beside)
        write_text_atomic(target, json.dumps(data))
    except OSError:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)


def load_stamp(target: Path, own_tmp: Path, header: dict) -> dict | None:
    """The stamp at ``target`` if it has every item of ``header``, was written for this
    project (not the one it was copied or moved from) and none of its stats moved; else
    None (missing or damaged too: the caller's slow path answers and records anew)."""
    try:
        data = json.loads(target.read_text())
        if any(data.get(key) != value for key, value in header.items()):
            return None
        if data.get("location") is None or data["location"] != location_key(own_tmp):
            return None
        if any(stat_key(path) != stat for path, stat in data["stats"].items()):
            return None
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None
    return data if isinstance(data, dict) else None
