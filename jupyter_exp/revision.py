"""The revision view: any path at any revision, read as DVC's filesystem reads it.

A file git holds is read from git (or the workspace). A file git does not hold may
be a DVC output, or sit inside one: a stage output recorded in a ``dvc.lock``, or a
``.dvc`` file's output. Its bytes then come from the cache (DVC 3's
``files/md5/xx/...``, else DVC 2's ``xx/...``), through the ``.dir`` manifest for a
file inside a cached directory. ``example-get-started``'s ``eval/metrics.json``
(inside the cached ``eval`` output) and ``example-get-started-experiments``'
``results/train/params.yaml`` are read this way at every commit.

Only ``dvc.lock`` files and ``.dvc`` files on the path's own ancestry are looked at
(``a/b/c.json`` -> ``dvc.lock``, ``a/dvc.lock``, ``a/b/dvc.lock``; ``a/b/c.json.dvc``,
``a/b.dvc``, ``a.dvc``), so a read costs a few blob lookups, never a tree listing.
Hashes go through ``check_md5``, manifest paths are confined to their directory,
output paths through ``Project.resolve_relpath``.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import CacheError, JupyterExpError
from .pipeline.cache import check_manifest
from .pipeline.hashing import check_md5
from .project import Project
from .serialize import parse_lock, parse_yaml
from .tree import GitTree, Parser, Tree

DVC_YAML = "dvc.yaml"


class NotInCache(CacheError):
    """A DVC output the revision records, whose object the cache does not hold."""


class RevisionTree(Tree):
    """``inner`` (the workspace or a commit) plus the DVC outputs it records.

    ``memo`` (shared between views) keeps parsed outputs of lock files, manifests and
    cached files' parses by their hash: a cached object never changes.
    """

    def __init__(
        self,
        project: Project,
        inner: Tree,
        memo: dict | None = None,
        pipelines: Callable[[Tree, str], Any] | None = None,
    ) -> None:
        self.project = project
        self.inner = inner
        self.name = inner.name
        self.memo = memo if memo is not None else {}
        self._pipelines = pipelines
        self._outs: dict[str, dict[str, str]] = {}  # dvc.lock or .dvc path -> {out path: md5}

    # -- Tree -------------------------------------------------------------------
    def read(self, relpath: str) -> bytes | None:
        raw = self.inner.read(relpath)
        if raw is not None:
            return raw
        found = self.locate(relpath)
        return None if found is None else self._object_bytes(found, relpath)

    def exists(self, relpath: str) -> bool:
        if self.inner.exists(relpath):
            return True
        try:
            return self.locate(relpath) is not None
        except JupyterExpError:
            return True  # recorded, though unreadable: reading says why

    def load(self, relpath: str, parse: Parser) -> Any:
        if self.inner.exists(relpath):
            return self.inner.load(relpath, parse)
        md5 = self.locate(relpath)
        if md5 is None:
            return None
        key = ("cached", md5, parse)
        if key not in self.memo:
            self.memo[key] = Tree.load(self, relpath, parse)
        return self.memo[key]

    def oid(self, relpath: str) -> str | None:
        """The git blob id, for a file git holds (see ``GitTree.oid``)."""
        return self.inner.oid(relpath) if isinstance(self.inner, GitTree) else None

    # -- outputs ------------------------------------------------------------------
    def locate(self, relpath: str) -> str | None:
        """The md5 of the cache object holding ``relpath`` at this revision, or None
        if no output recorded here contains it.

        Raises:
            NotInCache: a directory output's manifest is missing from the cache.
            CacheError, PathError, PipelineError: a malformed lock, ``.dvc`` file or manifest.
        """
        parts = relpath.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]  # the path, then up
        sources = [posixpath.join(d, "dvc.lock") if d else "dvc.lock" for d in ["", *ancestors[1:][::-1]]]
        sources += [f"{a}.dvc" for a in ancestors]
        for source in sources:
            outs = self._outputs(source)
            for prefix in ancestors:
                md5 = outs.get(prefix)
                if md5 is None:
                    continue
                if prefix == relpath:
                    return None if md5.endswith(".dir") else md5
                return self._in_directory(md5, relpath[len(prefix) + 1 :])
        return None

    def _outputs(self, source: str) -> dict[str, str]:
        """{project-relative out path: md5} recorded by a ``dvc.lock`` or ``.dvc`` file."""
        if source in self._outs:
            return self._outs[source]
        found: dict[str, str] = {}
        if source.endswith(".dvc"):
            data = self.inner.load(source, parse_yaml)
            base = posixpath.dirname(source) or "."
            outs = data.get("outs") if isinstance(data, dict) else None
            entries = [(base, out) for out in outs] if isinstance(outs, list) else []
        else:
            entries = self._lock_entries(source)
        for base, out in entries:
            if isinstance(out, dict) and out.get("md5") and out.get("path"):
                rel = self.project.resolve_relpath(out["path"], base, where=source, output=True, follow_links=False)
                found[rel] = check_md5(out["md5"], f"{source}, '{out['path']}'")
        self._outs[source] = found
        return found

    def _lock_entries(self, lock_path: str) -> list[tuple[str, Any]]:
        """(wdir, out entry) of each stage a ``dvc.lock`` records."""
        lock = self.inner.load(lock_path, parse_lock)
        stages = lock.get("stages") if isinstance(lock, dict) else None
        if not isinstance(stages, dict):
            return []
        base = posixpath.dirname(lock_path) or "."
        wdirs = self._wdirs(posixpath.join(base, DVC_YAML) if base != "." else DVC_YAML)
        entries = []
        for name, entry in stages.items():
            outs = entry.get("outs") if isinstance(entry, dict) else None
            wdir = wdirs.get(str(name), base)
            if isinstance(outs, list):
                entries += [(wdir, out) for out in outs]
        return entries

    def _wdirs(self, dvcfile: str) -> dict[str, str]:
        """Stage name -> project-relative wdir, for stages with their own ``wdir``."""
        data = self.inner.load(dvcfile, parse_yaml)
        stages = data.get("stages") if isinstance(data, dict) else None
        if not isinstance(stages, dict) or not any(isinstance(s, dict) and "wdir" in s for s in stages.values()):
            return {}
        if self._pipelines is not None:
            pipeline = self._pipelines(self.inner, dvcfile)
        else:
            from .pipeline.dvcfile import load_pipeline

            pipeline = load_pipeline(self.project.root, dvcfile, tree=self.inner)
        return {stage.name: stage.wdir for stage in pipeline.stages}

    def output_files(self, lock_path: str = "dvc.lock") -> list[str]:
        """Every file inside the outputs ``lock_path`` records (a directory's files
        through its manifest); a manifest the cache lacks adds nothing."""
        files = []
        for path, md5 in self._outputs(lock_path).items():
            if not md5.endswith(".dir"):
                files.append(path)
                continue
            try:
                files += [f"{path}/{rel}" for rel in self._manifest_of(md5)]
            except NotInCache:
                continue
        return files

    # -- the cache ------------------------------------------------------------------
    def _object_path(self, md5: str) -> Path:
        check_md5(md5)
        cache = self.project.cache_dir
        path = cache / "files" / "md5" / md5[:2] / md5[2:]
        if not path.exists():
            legacy = cache / md5[:2] / md5[2:]  # DVC 2's layout
            if legacy.exists():
                return legacy
        return path

    def _object_bytes(self, md5: str, relpath: str) -> bytes:
        try:
            return self._object_path(md5).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise NotInCache(f"'{relpath}' is not in the cache; pull it with `dvc pull`.") from None

    def _manifest_of(self, dir_md5: str) -> dict[str, str]:
        key = ("manifest", dir_md5)
        if key not in self.memo:
            self.memo[key] = self._manifest(dir_md5)
        return self.memo[key]

    def _in_directory(self, dir_md5: str, inner_path: str) -> str | None:
        return self._manifest_of(dir_md5).get(inner_path)

    def _manifest(self, md5: str) -> dict[str, str]:
        """relpath -> md5 of a ``.dir`` manifest, checked."""
        try:
            entries = json.loads(self._object_path(md5).read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            raise NotInCache(f"directory {md5} is not in the cache; pull it with `dvc pull`.") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            entries = None
        return {entry["relpath"]: entry["md5"] for entry in check_manifest(entries, md5)}


def revision_tree(project: Project, inner: Tree, memo: dict | None = None) -> RevisionTree:
    """``inner`` seen through its DVC outputs (itself if it already is a view)."""
    return inner if isinstance(inner, RevisionTree) else RevisionTree(project, inner, memo)
