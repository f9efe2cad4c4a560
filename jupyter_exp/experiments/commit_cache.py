"""What ``exp show`` derived from each commit, kept by its SHA in
``.dvc/tmp/jupyter_exp/show-cache.json`` (commits never change). The cache is JSON,
not pickle: a file in the project directory must never be able to run code when read.
A process that collects again (a table following its project) keeps the entries in
memory while the file does not change."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

from ..notices import warn
from ..project import Project
from ..serialize import write_text_atomic
from ..values import FileValues
from .records import ExpData

CACHE_VERSION = 3  # 3: files inside cached outputs are read (2 kept them as absent)


def _json_exact(value: Any) -> bool:
    """Whether ``value`` comes back from JSON as it went in (str keys, plain types):
    a YAML date or an integer key would not, so such an entry is not kept."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _json_exact(v) for k, v in value.items())
    if kind is list:
        return all(_json_exact(v) for v in value)
    return kind in (str, int, float, bool) or value is None


class _Loaded:
    """A show cache file as this process last read or wrote it: its entries stay in
    memory while the file keeps its (inode, mtime, size), so a process that collects
    again (a table following its project) parses the file once, not on every refresh."""

    def __init__(self, stat: tuple | None, entries: dict[tuple[str, bool], ExpData]) -> None:
        self.stat = stat
        self.entries = entries
        self.unsaved = False  # entries put since the file was last written
        # Each entry's JSON text in the file, with the record it is of: a table following
        # running experiments saves after a few new commits, and only those are encoded.
        self.texts: dict[tuple[str, bool], tuple[ExpData, str]] = {}


_loaded: dict[Path, _Loaded] = {}
_loaded_lock = threading.Lock()


def file_stat(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class CommitCache:
    """ExpData by (commit SHA, param_deps), persisted between processes as JSON."""

    def __init__(self, project: Project) -> None:
        self.path = project.show_cache_file
        stat = file_stat(self.path)  # before reading: a change while reading is seen next time
        with _loaded_lock:
            known = _loaded.get(self.path)
        if known is not None and stat is not None and known.stat == stat:
            self.shared = known
            return
        self.shared = _Loaded(stat, {})
        self._read(project)
        with _loaded_lock:
            _loaded[self.path] = self.shared

    @property
    def entries(self) -> dict[tuple[str, bool], ExpData]:
        return self.shared.entries

    def _read(self, project: Project) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            warn(f"cannot read {project.relpath(self.path)} ({exc.strerror}); exp show reads every commit.")
            return
        try:
            self._load(raw)
        except (ValueError, TypeError, KeyError, AttributeError):
            warn(f"rebuilding the damaged {project.relpath(self.path)}.")
            self.entries.clear()
            self.shared.unsaved = True  # written anew on save, even if nothing is added

    def _load(self, raw: bytes) -> None:
        data = json.loads(raw.decode("utf-8"))  # not UTF-8: a ValueError, damage as any other
        if data.get("version") != CACHE_VERSION:
            return
        for rev, param_deps, fields in data["entries"]:
            if type(rev) is not str or type(param_deps) is not bool or not _valid_fields(fields):
                raise ValueError(rev)
            self.entries[(rev, param_deps)] = _from_fields(fields)

    def get(self, key: tuple[str, bool]) -> ExpData | None:
        return self.entries.get(key)

    def put(self, key: tuple[str, bool], data: ExpData) -> None:
        # Not kept: an error may be fixed later (a pull, a fetch); values JSON would change.
        if not data.has_errors and _json_exact(fields := _fields(data)):
            self.entries[key] = data
            self.shared.texts[key] = (data, json.dumps([key[0], key[1], fields]))
            self.shared.unsaved = True

    def save(self) -> None:
        if not self.shared.unsaved:
            return
        self.shared.unsaved = False  # before the snapshot: what another table adds meanwhile stays unsaved
        items = list(self.entries.items())
        texts = self.shared.texts
        entries = []
        for key, data in items:
            known = texts.get(key)
            if known is None or known[0] is not data:
                known = texts[key] = (data, json.dumps([key[0], key[1], _fields(data)]))
            entries.append(known[1])
        # The text json.dumps({"version": ..., "entries": [...]}) makes, joined from the entries'.
        text = f'{{"version": {json.dumps(CACHE_VERSION)}, "entries": [{", ".join(entries)}]}}'
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, text)
            self.shared.stat = file_stat(self.path)
        except OSError as exc:  # a full disk: only a shortcut is lost
            self.shared.unsaved = True
            warn(f"cannot write {self.path} ({exc.strerror}); exp show will read the commits again.")
        with contextlib.suppress(OSError):
            (self.path.parent / "show-cache.pickle").unlink(missing_ok=True)  # the old format, never read


_FIELDS = ("params", "metrics", "deps", "outs")


def _fields(data: ExpData) -> dict:
    """The cache's JSON for ``data``: files' values in DVC's shape."""
    return {
        "params": {f: v.to_dvc() for f, v in data.params.items()},
        "metrics": {f: v.to_dvc() for f, v in data.metrics.items()},
        "deps": data.deps,
        "outs": data.outs,
        "error": data.error,
    }


def _from_fields(fields: dict) -> ExpData:
    """The record back from the cache's JSON; ValueError if it is not that shape."""
    from_dvc = FileValues.from_dvc
    return ExpData(
        {f: from_dvc(v) for f, v in fields["params"].items()},
        {f: from_dvc(v) for f, v in fields["metrics"].items()},
        fields["deps"],
        fields["outs"],
        fields["error"],
    )


def _valid_fields(fields: Any) -> bool:
    return (
        type(fields) is dict
        and set(fields) == {*_FIELDS, "error"}
        and all(type(fields[f]) is dict for f in _FIELDS)
        and (fields["error"] is None or type(fields["error"]) is str)
    )
