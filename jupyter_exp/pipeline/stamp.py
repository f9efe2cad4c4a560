"""The up-to-date stamp: a no-op reproduction answered from ``os.stat`` alone.

When a reproduction finds every stage up to date, it records the (inode, size,
mtime) of everything that decision read: ``dvc.yaml``, ``dvc.lock``, params and
vars files, every dependency and output (each file and directory of a directory,
so added or removed entries change a directory's mtime), and the cache objects of
the outputs. The next reproduction with the same selection compares those stats;
if none moved, the answer is the same and the engine (YAML, hashing, the graph) is
never loaded. It rests on the same assumption as the hash state table: a file whose
inode, size and mtime are unchanged has unchanged content.

A stamp answers only for the project that wrote it. ``cp -a`` copies the stamp with
the project and keeps every size and mtime; a stamp keyed by absolute paths alone
would then vouch, in the copy, for the original's files. So every stamp records where
it was written (the bookkeeping directory's path, device and inode, and the project
root's device and inode) and is ignored anywhere else, and each stat includes the
device, so a file on another file system never matches by inode number.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path

from .results import Echo, StageResult
from .stat_keys import current_dir, load_stamp, save_stamp, stats_of  # noqa: F401 (current_dir: noop, repro)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..options import ReproOptions

STAMP_VERSION = 2


def selection(targets: list[str] | None, options: ReproOptions, cwd: str = ".") -> dict:
    """What a reproduction was asked to consider; stamps are kept per selection (targets
    are read from ``cwd``, the project-relative current directory)."""
    return {
        "targets": sorted(targets or []),
        "single_item": options.single_item,
        "downstream": options.downstream,
        "pipeline": options.pipeline,
        "all_pipelines": options.all_pipelines,
        "cwd": cwd,
        "recursive": options.recursive,
    }


def _stamp_path(own_tmp: Path, selected: dict) -> Path:
    # A checksum names the file; the selection itself is stored and compared, so a
    # collision only costs a slow path. (hashlib would cost more to import than this saves.)
    key = zlib.crc32(json.dumps(selected, sort_keys=True).encode())
    return own_tmp / "uptodate" / f"{key:08x}.json"


def record(
    own_tmp: Path,
    selected: dict,
    results: list[StageResult],
    paths: list[Path],
    directories: Sequence[Path] = (),
) -> None:
    """Remember that ``selected`` was a no-op given the current state of ``paths`` (each
    directory with everything below it) and of ``directories`` themselves (those searched
    for ``dvc.yaml`` files: one created or removed in them moves their mtime)."""
    data = {
        "version": STAMP_VERSION,
        "selection": selected,
        "results": [[r.stage, r.status] for r in results],
        "stats": stats_of(paths, directories),
    }
    save_stamp(_stamp_path(own_tmp, selected), own_tmp, data)


def check(own_tmp: Path, selected: dict, echo: Echo) -> list[StageResult] | None:
    """The results of the recorded no-op if nothing it read has moved, else None."""
    data = load_stamp(_stamp_path(own_tmp, selected), own_tmp, {"version": STAMP_VERSION, "selection": selected})
    try:
        results = [StageResult(stage, status) for stage, status in data["results"]] if data else None
    except (TypeError, ValueError, KeyError):
        return None  # damaged: the slow path decides, and records a new one
    for result in results or []:
        verb = "is frozen" if result.status == "frozen" else "didn't change"
        echo(f"Stage '{result.stage}' {verb}, skipping\n")
    if results is not None:
        echo("Data and pipelines are up to date.\n")
    return results
