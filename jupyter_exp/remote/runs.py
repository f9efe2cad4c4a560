"""``--run-cache`` of data ``push``/``fetch``/``pull``: the run history, as DVC 3 moves it.

The run-cache (:mod:`..pipeline.runcache`) lives in ``<cache>/runs/<key[:2]>/<key>/<value>``;
on a remote it is ``<root>/runs/...``, beside (not under) ``files/md5``. As DVC 3.67.1
does, ``push --run-cache`` copies every entry to the remote (each counted as a file
pushed) and ``fetch``/``pull --run-cache`` copies every entry of the remote into the
cache; the outputs the entries name travel only when revisions need them. An HTTP
remote cannot list, so it holds no run-cache: the flag is then skipped with a warning,
as DVC skips it.

Only names of the run-cache's own form are moved (two hex digits, then two SHA-256s): a
stray or crafted name on either side (``..``, a symlink) is never read or written.
Each entry lands whole: a temporary name, then a rename, where the storage renames.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from ..notices import warn
from ..project import Project
from ..serialize import replacing
from .objects import RemoteObjects

_ENTRY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{64})/([0-9a-f]{64})")


def _entry(rel: str) -> bool:
    """Whether ``rel`` (under ``runs/``) is a run-cache entry's name."""
    match = _ENTRY.fullmatch(rel)
    return match is not None and match.group(2).startswith(match.group(1))


def _supported(objects: RemoteObjects) -> bool:
    if objects.storage.protocol in ("http", "https"):
        warn(f"remote '{objects.name}' is an HTTP remote, which holds no run-cache; --run-cache skipped")
        return False
    return True


def local_entries(project: Project) -> list[str]:
    """The run-cache entries of the cache, as ``<2>/<key>/<value>`` (symlinks and strays left out)."""
    top = project.cache_dir / "runs"
    found = []
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(top).as_posix()
            if _entry(rel) and not path.is_symlink():
                found.append(rel)
    return sorted(found)


def push_runs(project: Project, objects: RemoteObjects) -> int:
    """Copy every run-cache entry to the remote (overwriting, as DVC); return how many."""
    if not _supported(objects):
        return 0
    storage, fs = objects.storage, objects.fs
    count = 0
    for rel in local_entries(project):
        source = os.fspath(project.cache_dir / "runs" / rel)
        final = storage.join("runs", rel)
        if storage.renames:
            parent = final.rsplit("/", 1)[0]
            fs.makedirs(parent, exist_ok=True)
            temp = f"{parent}/.{uuid.uuid4().hex}.tmp"
            try:
                fs.put_file(source, temp)
                fs.mv(temp, final)
            finally:
                if fs.exists(temp):
                    fs.rm_file(temp)
        else:
            fs.put_file(source, final)
        count += 1
    return count


def fetch_runs(project: Project, objects: RemoteObjects) -> int:
    """Copy every run-cache entry of the remote into the cache; return how many."""
    if not _supported(objects):
        return 0
    storage, fs = objects.storage, objects.fs
    base = storage.join("runs")
    try:
        listed = fs.find(base)
    except FileNotFoundError:
        return 0
    prefix = fs._strip_protocol(base).rstrip("/") + "/"
    count = 0
    for path in sorted(listed):
        rel = path[len(prefix) :] if path.startswith(prefix) else ""
        if not _entry(rel):
            continue  # not a run-cache entry's name: never read
        target = project.cache_dir / "runs" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with replacing(target) as temp:  # a half download never takes the entry's name
            fs.get_file(path, os.fspath(temp))
        count += 1
    return count
