"""``status`` answered from ``os.stat`` alone, as a no-op ``repro`` is (see :mod:`.stamp`).

A status records what it found with the (device, inode, size, mtime) of everything it
read: the directories searched for ``dvc.yaml`` files and the ignore files that steered
the search, git's index (``.dvc`` files are listed from it), every ``dvc.yaml`` with the
vars and params files it read, the lock files, ``.dvc`` files, params files, every
dependency and output (each file and directory below a directory), DVC's config, and
the cache objects it looked for (a missing one is recorded missing, so its arrival is
seen). The next status with the same targets from the same directory compares those
stats; if none moved it prints the recorded answer without loading YAML, hashing or
git. The stamp rests on the hash state table's assumption (unchanged inode, size and
mtime mean unchanged content) and answers only for the project that wrote it.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from pathlib import Path

from ..serialize import write_text_atomic
from .stat_keys import current_dir, expand, location_key, stat_key

VERSION = 1


def selection(targets: list[str] | None, root: Path) -> dict:
    """What a status was asked: its targets, read from the project-relative current directory."""
    return {"targets": sorted(targets or []), "cwd": current_dir(root)}


def _path(own_tmp: Path, selected: dict) -> Path:
    key = zlib.crc32(json.dumps(selected, sort_keys=True).encode())
    return own_tmp / "status" / f"{key:08x}.json"


def recall(own_tmp: Path, selected: dict) -> tuple[dict, bool, list[str]] | None:
    """The recorded (changes, anything tracked, warnings) if nothing read has moved, else None."""
    try:
        data = json.loads(_path(own_tmp, selected).read_text())
        if data.get("version") != VERSION or data.get("selection") != selected:
            return None
        if data.get("location") is None or data["location"] != location_key(own_tmp):
            return None  # written by the project this one was copied or moved from
        for path, stat in data["stats"].items():
            if stat_key(path) != stat:
                return None
        return dict(data["found"]), bool(data["anything"]), [str(w) for w in data["warnings"]]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None  # missing or damaged: the slow path answers, and records a new one


def record(
    own_tmp: Path,
    selected: dict,
    found: dict,
    anything: bool,
    warnings: list[str],
    reads: list[Path],
    files: list[Path],
) -> None:
    """Remember the answer given the current state of ``reads`` (each directory with
    everything below it) and of ``files`` (each alone: searched directories, objects)."""
    stats: dict[str, list[int] | None] = {}
    for path in reads:
        for item in expand(path):
            stats[item] = stat_key(item)
    for path in files:
        stats.setdefault(str(path), stat_key(str(path)))
    data = {
        "version": VERSION,
        "location": location_key(own_tmp),
        "selection": selected,
        "found": found,
        "anything": anything,
        "warnings": warnings,
        "stats": stats,
    }
    target = _path(own_tmp, selected)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, json.dumps(data))
    except OSError:
        # Only a shortcut: without it (a full disk) the next status takes the slow path,
        # but a stale stamp must not outlive a failed update.
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
