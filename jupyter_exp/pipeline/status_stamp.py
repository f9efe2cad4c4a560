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

import json
import zlib
from pathlib import Path

from .stat_keys import current_dir, load_stamp, save_stamp, stats_of

VERSION = 3  # 2: targets in order, -R and -d; 3: callback stages, a node named twice, foreach keys with ":"


def selection(targets: list[str] | None, root: Path, *, recursive: bool = False, with_deps: bool = False) -> dict:
    """What a status was asked: its targets (in order: the order of its answer), how they
    widen, and the project-relative current directory they are read from."""
    return {"targets": list(targets or []), "recursive": recursive, "with_deps": with_deps, "cwd": current_dir(root)}


def _path(own_tmp: Path, selected: dict) -> Path:
    key = zlib.crc32(json.dumps(selected, sort_keys=True).encode())
    return own_tmp / "status" / f"{key:08x}.json"


def recall(own_tmp: Path, selected: dict) -> tuple[dict, bool, list[str]] | None:
    """The recorded (changes, anything tracked, warnings) if nothing read has moved, else None."""
    data = load_stamp(_path(own_tmp, selected), own_tmp, {"version": VERSION, "selection": selected})
    try:
        return (dict(data["found"]), bool(data["anything"]), [str(w) for w in data["warnings"]]) if data else None
    except (TypeError, ValueError, KeyError):
        return None  # damaged: the slow path answers, and records a new one


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
    data = {
        "version": VERSION,
        "selection": selected,
        "found": found,
        "anything": anything,
        "warnings": warnings,
        "stats": stats_of(reads, files),
    }
    save_stamp(_path(own_tmp, selected), own_tmp, data)
