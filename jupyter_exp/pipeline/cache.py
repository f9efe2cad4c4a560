"""The content-addressed cache, laid out as DVC 3's: ``files/md5/<2 hex>/<30 hex>``.

Objects are read-only and never change. Saving a path puts it into the cache,
checking it out brings it back, each by the first link type that works of the
configured list. The default is DVC's, reflink else copy: a workspace file then
never shares its bytes with an object, so writing into it in place (as root, which
ignores read-only modes) cannot change the cache. Hard links and symlinks are used
only when ``cache.type`` names them; such a workspace file is read-only (it shares
the object's inode, or points at it), as DVC makes it, and :func:`Cache.unprotect`
turns it back into a private copy before a stage writes to it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .. import faults
from ..errors import CacheError, CheckoutError, option
from ..serialize import replacing, write_bytes_atomic
from .hashing import Hasher, HashInfo, State, check_md5, manifest_bytes, walk_files
from .ignore import DvcIgnore

if TYPE_CHECKING:
    from ..project import Project

FICLONE = 0x40049409  # linux/fs.h: share extents (reflink)
READONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def _reflink(src: Path, dst: Path) -> None:
    with open(src, "rb") as fsrc, open(dst, "wb") as fdst:
        try:
            fcntl.ioctl(fdst.fileno(), FICLONE, fsrc.fileno())
        except OSError:
            fdst.close()
            os.unlink(dst)
            raise


# Errors of the destination's file system, not of the link type tried.
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def link_file(src: Path, dst: Path, link_types: list[str]) -> str:
    """Create ``dst`` from ``src`` with the first link type that works; return it."""
    last_error: OSError | None = None
    for link_type in link_types:
        try:
            if link_type == "reflink":
                _reflink(src, dst)
            elif link_type == "hardlink":
                os.link(src, dst)
            elif link_type == "symlink":
                os.symlink(src, dst)
            else:
                shutil.copyfile(src, dst)
            return link_type
        except OSError as exc:
            last_error = exc
            if os.path.lexists(dst) and link_type == "copy":
                os.unlink(dst)  # a partial copy
            if exc.errno in _NO_ROOM:  # another link type will not find room either
                raise CacheError(
                    f"Cannot write {dst.parent}: {exc.strerror}; free space or fix its permissions."
                ) from None
    raise CacheError(f"Cannot link {src} to {dst}: {last_error}; check the cache.type setting.")


def check_manifest(entries: object, md5: str) -> list[dict]:
    """The parsed ``.dir`` manifest ``md5``, checked: a list of entries, each with a valid
    md5 and a relpath that stays inside its directory and writes no ``.git``.

    Raises:
        CacheError: one line naming the manifest and the fix.
    """
    where = f"cache manifest {md5}"
    if not isinstance(entries, list):
        raise CacheError(f"{where} is not a DVC directory manifest; remove it from the cache and rerun.")
    for entry in entries:
        rel = entry.get("relpath") if isinstance(entry, dict) else None
        parts = rel.split("/") if isinstance(rel, str) else [""]
        if rel is None or rel.startswith("/") or "\0" in rel or any(p in ("", ".", "..") for p in parts):
            raise CacheError(
                f"{where}: entry {entry!r} names a path outside its directory; "
                "remove the manifest from the cache and rerun."
            )
        if ".git" in parts:  # a repository checked out inside the output: git would run its config
            raise CacheError(
                f"{where}: entry {entry!r} writes a .git directory; remove the manifest from the cache and rerun."
            )
        check_md5(entry.get("md5"), where)
    return entries


class Cache:
    """The project's object store, plus the state table used to hash into it."""

    def __init__(self, cache_dir: Path, hasher: Hasher, link_types: list[str]) -> None:
        self.dir = cache_dir
        self.objects = cache_dir / "files" / "md5"
        self.hasher = hasher
        self.link_types = link_types

    def object_path(self, md5: str) -> Path:
        """Where object ``md5`` is: DVC 3's ``files/md5/xx/...``, or else, when only there,
        DVC 2's ``xx/...`` at the cache root (DVC 3 still reads that layout for entries
        written by DVC 2; new objects always go to DVC 3's)."""
        check_md5(md5)  # a hash from a file must not name a path outside the cache
        path = self.objects / md5[:2] / md5[2:]
        if not os.path.lexists(path):
            legacy = self.dir / md5[:2] / md5[2:]
            if os.path.lexists(legacy):
                return legacy
        return path

    def exists(self, md5: str) -> bool:
        return self.object_path(md5).exists()

    def has_all(self, info: HashInfo) -> bool:
        """Whether every object of ``info`` (a directory's files too) is in the cache."""
        if not self.exists(info.md5):
            return False
        if not info.isdir:
            return True
        return all(self.exists(entry["md5"]) for entry in self.read_manifest(info.md5))

    def object_ids(self, info: HashInfo) -> list[str]:
        """The md5 of every object ``info`` needs (a directory's manifest and files)."""
        if not info.isdir:
            return [info.md5]
        return [info.md5, *(entry["md5"] for entry in self.read_manifest(info.md5))]

    def read_manifest(self, md5: str) -> list[dict]:
        """The entries of a ``.dir`` manifest, each with a checked md5 and a relpath that
        stays inside its directory.

        Raises:
            CheckoutError: the manifest is missing.
            CacheError: the manifest is malformed or names a path outside its directory.
        """
        try:
            entries = json.loads(self.object_path(md5).read_bytes())
        except FileNotFoundError:
            raise CheckoutError(
                f"Directory manifest {md5} is missing from the cache; "
                f"pull it with `dvc pull` or rerun the stage with {option('force')}."
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            entries = None
        return check_manifest(entries, md5)

    # -- saving ---------------------------------------------------------------
    def _dvc3_path(self, md5: str) -> Path:
        # Stored objects always go to DVC 3's layout, which the lock entries we write name.
        check_md5(md5)
        return self.objects / md5[:2] / md5[2:]

    def _store(self, src: Path, md5: str, link_types: list[str]) -> None:
        dst = self._dvc3_path(md5)
        if dst.exists():
            return
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            with replacing(dst) as tmp:
                link_file(src, tmp, link_types)
                os.chmod(tmp, READONLY)
                faults.point("cache.linked")
        except OSError as exc:
            raise CacheError(
                f"Cannot write to the cache at {self.dir}: {exc.strerror or exc}; free space or fix its permissions."
            ) from None

    def _store_bytes(self, data: bytes, md5: str) -> None:
        dst = self._dvc3_path(md5)
        if dst.exists():
            return
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(dst, data, READONLY)
        except OSError as exc:
            raise CacheError(
                f"Cannot write to the cache at {self.dir}: {exc.strerror or exc}; free space or fix its permissions."
            ) from None

    def save(self, path: Path, copy: bool = False) -> HashInfo:
        """Hash ``path`` (file or directory) and put it in the cache.

        ``copy`` stores a private copy, leaving the workspace file untouched (for
        outputs that git tracks but the run-cache must be able to restore).
        """
        link_types = ["copy"] if copy else self._save_link_types()
        found = self.hasher.hash_tree(path)
        if found is None:
            raise CacheError(f"Output '{path}' does not exist; the stage must create it.")
        info, files = found
        if info.isdir:
            # The files hashed are the files stored: one walk, so a file created or
            # changed between two walks cannot make the manifest and the objects differ.
            for _, file_path, md5, _ in files:
                self._store(file_path, md5, link_types)
            self._store_bytes(manifest_bytes([(rel, md5) for rel, _, md5, _ in files]), info.md5)
        else:
            self._store(path, info.md5, link_types)
        self.hasher.flush()
        return info

    def _save_link_types(self) -> list[str]:
        # A symlink into the cache is never a safe cache object. A hard link is made
        # only when configured (the workspace file then turns read-only with the object).
        return [t for t in self.link_types if t != "symlink"] or ["copy"]

    @property
    def shares_files(self) -> bool:
        """Whether workspace files may be hard links or symlinks of cache objects (configured)."""
        return "hardlink" in self.link_types or "symlink" in self.link_types

    # -- checking out -------------------------------------------------------------
    def checkout(self, path: Path, info: HashInfo, copy: bool = False, counts: dict[str, int] | None = None) -> bool:
        """Make ``path`` hold ``info`` from the cache; return whether anything changed.

        ``copy`` gives writable private copies instead of links. ``counts``, when given,
        gets the files added, modified and deleted (DVC's checkout statistics).
        """
        current = self.hasher.hash_path(path) if path.exists() else None
        if current is not None and current.md5 == info.md5:
            if not copy and not self.shares_files:
                self._unshare(path, info)
            return False
        if not self.has_all(info):
            raise CheckoutError(
                f"'{path.name}' ({info.md5}) is not in the cache; "
                "pull it with `dvc pull` or reproduce the stage that makes it."
            )
        if counts is not None:
            self._count(path, info, counts)
        remove(path)
        if info.isdir:
            path.mkdir(parents=True)
            for entry in self.read_manifest(info.md5):
                self._checkout_file(path / entry["relpath"], entry["md5"], copy)
        else:
            self._checkout_file(path, info.md5, copy)
        self.hasher.flush()
        return True

    def _count(self, path: Path, info: HashInfo, counts: dict[str, int]) -> None:
        """Add to ``counts`` the files checking ``info`` out at ``path`` adds, modifies and deletes."""
        found = self.hasher.hash_tree(path) if path.exists() or path.is_symlink() else None
        before = {rel: md5 for rel, _, md5, _ in found[1]} if found and found[1] else {}
        if found and not found[1] and not path.is_dir():
            before = {"": found[0].md5}  # a file
        after = {e["relpath"]: e["md5"] for e in self.read_manifest(info.md5)} if info.isdir else {"": info.md5}
        counts["added"] = counts.get("added", 0) + sum(1 for rel in after if rel not in before)
        counts["modified"] = counts.get("modified", 0) + sum(
            1 for rel, md5 in after.items() if rel in before and before[rel] != md5
        )
        counts["deleted"] = counts.get("deleted", 0) + sum(1 for rel in before if rel not in after)

    def _checkout_file(self, dst: Path, md5: str, copy: bool) -> None:
        source = self.object_path(md5)
        if source.is_symlink():  # we store files only: a link would copy whatever it names
            raise CacheError(
                f"Cache object {md5} is a symlink, not a file we stored; remove it from "
                "the cache and pull or reproduce it again."
            )
        dst.parent.mkdir(parents=True, exist_ok=True)
        link_file(source, dst, ["copy"] if copy else self.link_types)
        if copy:
            os.chmod(dst, 0o644)
        # Remember the hash: the linked file needs no reading to be known.
        if self.hasher.state is not None:
            self.hasher.state.put(dst, os.stat(dst), md5)

    def _unshare(self, path: Path, info: HashInfo) -> None:
        """Give private copies to files under ``path`` that are hard links of their cache
        object (or symlinks to it) although no such link type is configured (left by
        versions that hard-linked by default, or by an earlier ``cache.type``): an
        in-place write must not reach the object."""
        if info.isdir:
            if not self.exists(info.md5):
                return  # the workspace has the data, the cache not: nothing can be shared
            targets = [(path / e["relpath"], e["md5"]) for e in self.read_manifest(info.md5)]
        else:
            targets = [(path, info.md5)]
        for file_path, md5 in targets:
            try:
                st, obj = os.lstat(file_path), os.stat(self.object_path(md5))
                if stat.S_ISLNK(st.st_mode):
                    shared = os.path.samestat(os.stat(file_path), obj)
                else:
                    shared = st.st_nlink > 1 and os.path.samestat(st, obj)
            except OSError:
                continue
            if shared:
                self._private_copy(file_path)
                if self.hasher.state is not None:
                    self.hasher.state.put(file_path, os.stat(file_path), md5)

    @staticmethod
    def _private_copy(file_path: Path) -> None:
        """Replace ``file_path`` (a hard link or symlink) by a writable copy of its bytes."""
        with replacing(file_path) as tmp:
            shutil.copyfile(file_path, tmp)  # follows a symlink; the new file is 0644

    def unprotect(self, path: Path) -> None:
        """Replace cache-shared files under ``path`` (hard links, symlinks) with
        writable private copies."""
        targets = [p for _, p in walk_files(path)] if path.is_dir() and not path.is_symlink() else [path]
        for file_path in targets:
            if file_path.is_symlink():
                # Never chmod through a symlink: its target may be a cache object.
                if file_path.is_file():
                    self._private_copy(file_path)
                continue
            if file_path.is_file() and os.stat(file_path).st_nlink > 1:
                self._private_copy(file_path)
            if file_path.exists():
                os.chmod(file_path, os.stat(file_path).st_mode | stat.S_IWUSR)


def remove(path: Path) -> None:
    """Delete a file, link or directory tree (read-only entries included)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():

        def _onerror(func, target, _exc):
            with contextlib.suppress(OSError):
                os.chmod(os.path.dirname(target), 0o755)
            func(target)

        shutil.rmtree(path, onerror=_onerror)
    elif os.path.lexists(path):
        with contextlib.suppress(OSError):
            os.unlink(path)


def open_cache(project: Project) -> Cache:
    """The project's cache with a state table attached (unchanged files are not hashed again)."""
    state = State(project.state_db)
    return Cache(project.cache_dir, Hasher(state, DvcIgnore(project.root)), project.link_types)
