"""The ``dvc.yaml`` paths of commits, kept on disk by commit SHA: a commit never changes,
so ``plots diff`` of N experiments lists their trees once, not at every command (a
``git ls-tree`` process per commit otherwise). One small JSON file; a broken or foreign
one is read as empty and rewritten."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ..project import Project
from ..serialize import write_text_atomic

LIMIT = 20_000  # commits kept; past it the file starts afresh (it is a cache)
_loaded: dict[Path, dict[str, list[str]]] = {}
_lock = threading.Lock()


def _known(path: Path) -> dict[str, list[str]]:
    if path not in _loaded:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        valid = isinstance(data, dict) and all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in data.values()
        )
        _loaded[path] = data if valid else {}
    return _loaded[path]


def cached(project: Project, sha: str) -> list[str] | None:
    """The ``dvc.yaml`` paths recorded for commit ``sha``, or None."""
    with _lock:
        found = _known(project.dvcfiles_cache_file).get(sha)
    return list(found) if found is not None else None


def remember(project: Project, sha: str, paths: list[str]) -> None:
    """Record commit ``sha``'s ``dvc.yaml`` paths (best effort: a read-only project only misses the cache)."""
    path = project.dvcfiles_cache_file
    with _lock:
        known = _known(path)
        if len(known) >= LIMIT:
            known.clear()
        known[sha] = list(paths)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(known, separators=(",", ":")))
        except OSError:
            pass
