"""DVC 3's object layout on a remote: ``<root>/files/md5/<2 hex>/<30 hex>[.dir]``.

The one place that turns an md5 into a remote path (after ``check_md5``) and a remote
listing back into md5s: a listed name that is not an object name (a stray file, a
temporary upload, a crafted ``../x``) is never taken for an object, so nothing outside
the layout is ever read as data or deleted. Objects DVC 2 pushed (``<root>/<2>/<30>``)
are read when the new layout lacks them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import posixpath
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import CacheError
from ..pipeline.cache import READONLY, check_manifest
from ..pipeline.hashing import check_md5, md5_file
from .copying import LARGE, copy_hashing, hash_alongside
from .errors import DataRemoteError
from .storage import Storage

_PREFIX = re.compile(r"[0-9a-f]{2}")
_REST = re.compile(r"[0-9a-f]{30}(\.dir)?")
# An upload's temporary name beside its object (see :meth:`RemoteObjects.upload`).
_TEMP = re.compile(r"\.([0-9a-f]{30}(?:\.dir)?)\.[0-9a-f]{32}\.tmp")
STALE_TEMP_SECONDS = 3600  # a temporary upload this old belongs to a push that died
LISTING_THRESHOLD = 64  # past this many objects to look up, one listing beats a request per object


class ObjectMissing(DataRemoteError):
    """An object the remote does not hold."""


_DRIVER_MODULES = ("botocore", "aiobotocore", "aiohttp", "asyncssh", "google", "azure", "gcsfs", "adlfs", "s3fs")


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the storage's (a network, permission, disk or driver error)
    rather than a bug of ours: such an error becomes one line, a bug keeps its traceback."""
    import asyncio

    if isinstance(exc, (OSError, asyncio.TimeoutError, DataRemoteError)):
        return True
    return any(c.__module__.startswith(_DRIVER_MODULES) for c in type(exc).__mro__)


def describe(exc: BaseException) -> str:
    """A storage error in a few words (its first line)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _mtime(entry: dict) -> float | None:
    """A listing entry's modification time in seconds (fsspec drivers differ), or None."""
    value = entry.get("mtime", entry.get("created"))
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_ASYNC = frozenset({"s3", "gcs", "az", "ssh"})  # storages whose fsspec driver is async (sshfs too)


def _transfer_kwargs(fs: Any, callback: Any, parts: int | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"callback": callback} if callback is not None else {}
    if parts is not None and hasattr(fs, "max_concurrency"):  # s3fs: parts of one object at once
        kwargs["max_concurrency"] = parts
    return kwargs


def _check(md5: str, digest: str, message: str) -> None:
    if digest != md5.removesuffix(".dir"):
        raise DataRemoteError(message)


def parse_object_path(relpath: str) -> str | None:
    """The md5 of ``<2>/<30>[.dir]`` (a path under ``files/md5``), else None."""
    prefix, _, rest = relpath.partition("/")
    if _PREFIX.fullmatch(prefix) and _REST.fullmatch(rest):
        return prefix + rest
    return None


class RemoteObjects:
    """The objects of one remote."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.fs = storage.fs
        self.base = storage.join("files", "md5")
        self._manifests: dict[str, bytes] = {}
        self._made: set[str] = set()  # directories this push made (or found)

    @property
    def name(self) -> str:
        return self.storage.name

    def path(self, md5: str) -> str:
        check_md5(md5)
        return f"{self.base}/{md5[:2]}/{md5[2:]}"

    def _legacy_path(self, md5: str) -> str:
        check_md5(md5)
        return self.storage.join(md5[:2], md5[2:])

    # -- what is there --------------------------------------------------------------
    def exists(self, md5: str) -> bool:
        return bool(self.fs.exists(self.path(md5)))

    def _check_listable(self) -> None:
        if not self.storage.lists:
            raise DataRemoteError(
                f"Remote '{self.name}' is an HTTP remote, which cannot be listed (DVC cannot either); "
                "run this against a remote of another kind, or clean the server's directory there."
            )

    def listing(self) -> tuple[set[str], list[str]]:
        """Every object under ``files/md5`` and, apart, every other name found there.

        Raises:
            DataRemoteError: an HTTP remote (no listing).
        """
        self._check_listable()
        found: set[str] = set()
        strays: list[str] = []
        try:
            paths = self.fs.find(self.base)
        except FileNotFoundError:
            return found, strays
        prefix = self.fs._strip_protocol(self.base).rstrip("/") + "/"
        for path in paths:
            rel = path[len(prefix) :] if path.startswith(prefix) else path
            md5 = parse_object_path(rel)
            if md5 is None:
                strays.append(rel)
            else:
                found.add(md5)
        return found, strays

    def sizes(self) -> dict[str, int]:
        """md5 -> size of every object under ``files/md5`` (other names left out).

        Raises:
            DataRemoteError: an HTTP remote (no listing).
        """
        self._check_listable()
        try:
            found = self.fs.find(self.base, detail=True)
        except FileNotFoundError:
            return {}
        prefix = self.fs._strip_protocol(self.base).rstrip("/") + "/"
        sizes = {}
        for path, info in found.items():
            md5 = parse_object_path(path[len(prefix) :] if path.startswith(prefix) else path)
            if md5 is not None:
                sizes[md5] = int(info.get("size") or 0)
        return sizes

    def present(self, md5s: Iterable[str], jobs: int) -> set[str]:
        """Which of ``md5s`` the remote holds (in DVC 3's layout)."""
        wanted = set(md5s)
        if not wanted:
            return set()
        if self.storage.protocol == "file":  # a stat each: cheaper than any listing or thread
            return {md5 for md5 in wanted if os.path.exists(self.path(md5))}
        if self.storage.lists and len(wanted) > LISTING_THRESHOLD and self._listing_is_cheaper(len(wanted)):
            return self.listing()[0] & wanted
        ordered = sorted(wanted)
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(ordered)))) as pool:
            flags = list(pool.map(self.exists, ordered))
        return {md5 for md5, there in zip(ordered, flags) if there}

    def _listing_is_cheaper(self, count: int) -> bool:
        """Whether listing the whole remote takes fewer requests than ``count`` lookups:
        the objects under one of the 256 prefixes tell how big the remote is (DVC's
        estimate), at a thousand names per listed page."""
        try:
            sample = len(self.fs.ls(f"{self.base}/00", detail=False))
        except FileNotFoundError:
            sample = 0
        return sample * 256 / 1000 < count

    # -- moving bytes -----------------------------------------------------------------
    def upload(self, md5: str, source: Path, callback: Any = None) -> None:
        """Put ``source`` (a cache file) at ``md5``'s path, checking that its bytes hash
        to ``md5``; never visible half-written.

        A small file is hashed before it is sent. A large one is hashed while it is sent
        (MD5 is slower than a copy): into a temporary name where the storage renames, so
        a mismatch never becomes visible; on an object store the object a mismatch left
        is deleted at once (readers hash what they fetch, so none would take it).

        Raises:
            DataRemoteError: the cache file's bytes do not hash to ``md5``.
        """
        final = self.path(md5)
        kwargs = {"callback": callback} if callback is not None else {}
        kwargs.update(self.storage.put_options)
        corrupt = f"cache object {md5} is corrupted (its bytes changed); it was not pushed"
        large = source.stat().st_size >= LARGE
        if not self.storage.renames:
            if not large or not self.storage.deletes:  # what could not be deleted is checked first
                _check(md5, md5_file(source), corrupt)
                self.fs.put_file(os.fspath(source), final, **kwargs)
                return
            digest = hash_alongside(source, lambda: self.fs.put_file(os.fspath(source), final, **kwargs))
            if digest != md5.removesuffix(".dir"):
                self.fs.rm_file(final)
                raise DataRemoteError(corrupt)
            return
        parent = posixpath.dirname(final)
        if parent not in self._made:  # one round trip per prefix directory, not per object (SSH)
            self.fs.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        temp = f"{parent}/.{md5[2:]}.{uuid.uuid4().hex}.tmp"
        renamed = False
        try:
            if self.storage.protocol == "file" and not large:  # one pass: copied and hashed together
                with open(source, "rb") as src:
                    digest = copy_hashing(src, Path(temp), callback)
            elif not large:  # a few KiB: hashed before it goes, no thread beside the copy
                digest = md5_file(source)
                _check(md5, digest, corrupt)
                self.fs.put_file(os.fspath(source), temp, **kwargs)
            else:
                digest = hash_alongside(source, lambda: self.fs.put_file(os.fspath(source), temp, **kwargs))
            _check(md5, digest, corrupt)
            try:
                if self.storage.protocol == "file":
                    os.chmod(temp, READONLY)  # as DVC leaves remote objects: read-only
                self.fs.mv(temp, final)
                renamed = True
            except OSError:
                # SFTP refuses to rename over a file that is there; a concurrent push's
                # sweep may have removed this temporary name once the object arrived.
                if not self.fs.exists(final):
                    raise
        finally:
            if not renamed and self.fs.exists(temp):  # a failed upload leaves no temporary name
                self.fs.rm_file(temp)

    # -- moving bytes as coroutines, on the driver's event loop ----------------------
    @property
    def loop(self) -> Any:
        """The driver's event loop when transfers run on it as coroutines, else None.

        A storage whose driver is async (s3fs, gcsfs, adlfs, sshfs) is driven the way DVC
        drives it: every transfer a coroutine on the one loop, no thread per transfer.
        """
        if self.storage.protocol in _ASYNC and getattr(self.fs, "async_impl", False):
            return self.fs.loop
        return None

    async def upload_async(self, md5: str, source: Path, callback: Any = None, parts: int | None = None) -> None:
        """:meth:`upload` on the driver's loop; ``parts``: how many parts of a large file
        go at once (an object store's multipart upload).

        Raises:
            DataRemoteError: the cache file's bytes do not hash to ``md5``.
        """
        import asyncio

        final = self.path(md5)
        kwargs = _transfer_kwargs(self.fs, callback, parts)
        corrupt = f"cache object {md5} is corrupted (its bytes changed); it was not pushed"
        small = source.stat().st_size < LARGE
        if small:  # hashed first: a few KiB, quicker than any request
            _check(md5, md5_file(source), corrupt)
        target = final
        if self.storage.renames:  # (SSH) under a temporary name, renamed once whole and checked
            parent = posixpath.dirname(final)
            if parent not in self._made:  # one round trip per prefix directory, not per object
                await self.fs._makedirs(parent, exist_ok=True)
                self._made.add(parent)
            target = f"{parent}/.{md5[2:]}.{uuid.uuid4().hex}.tmp"
        # What a failure removes: a temporary name always; on an object store only an object
        # whose bytes did not check (a failed upload made none; one there is another's).
        remove = self.storage.renames
        try:
            if small:
                await self._put_async(source, target, kwargs)
            else:
                # MD5 on a thread while the loop sends the parts.
                outcome: tuple[Any, ...] = await asyncio.gather(
                    asyncio.to_thread(md5_file, source), self._put_async(source, target, kwargs), return_exceptions=True
                )
                digest, sent = outcome
                if isinstance(sent, BaseException):
                    raise sent
                remove = True
                if isinstance(digest, BaseException):
                    raise digest
                if digest != md5.removesuffix(".dir"):
                    raise DataRemoteError(corrupt)
            if target != final:
                try:
                    await self.fs._mv(target, final)
                except OSError:  # an SFTP server without posix-rename: a concurrent push's is there
                    if not await self.fs._exists(final):
                        raise
            remove = False
        finally:
            if remove:
                with contextlib.suppress(OSError):
                    await self.fs._rm_file(target)

    async def _put_async(self, source: Path, target: str, kwargs: dict[str, Any]) -> None:
        if self.storage.protocol == "ssh":
            from .sftp import put_file

            return await put_file(self.fs, os.fspath(source), target, kwargs.get("callback"))
        await self.fs._put_file(os.fspath(source), target, **kwargs)

    async def download_async(self, md5: str, target: Path, callback: Any = None, parts: int | None = None) -> str:
        """:meth:`download` on an object store's loop; ``parts``: how many ranges of a
        large object come at once.

        Raises:
            ObjectMissing: neither layout holds it.
        """
        import asyncio

        if md5 in self._manifests:
            return self.download(md5, target, callback)
        kwargs = _transfer_kwargs(self.fs, callback, parts)
        for path in (self.path(md5), self._legacy_path(md5)):
            try:
                await self.fs._get_file(path, os.fspath(target), **kwargs)
            except FileNotFoundError:
                continue
            if target.stat().st_size < LARGE:
                return md5_file(target)
            return await asyncio.to_thread(md5_file, target)  # the loop keeps the other transfers going
        raise ObjectMissing(f"Object {md5} is not on remote '{self.name}'.")

    def sweep_temps(self, prefixes: Iterable[str]) -> int:
        """Delete the temporary uploads that pushes killed mid-transfer left in the
        ``files/md5/<prefix>`` directories named (those a push just wrote into): each
        one whose object is now whole beside it, or that is older than
        :data:`STALE_TEMP_SECONDS`. Only names of :meth:`upload`'s own form are touched.
        Returns how many went."""
        if not self.storage.renames:
            return 0  # an object store writes no temporary names
        removed = 0
        now = time.time()
        for prefix in sorted(set(prefixes)):
            if not _PREFIX.fullmatch(prefix):
                continue
            try:
                entries = self.fs.ls(f"{self.base}/{prefix}", detail=True)
            except OSError:  # only a clean-up: a directory it cannot list keeps its leftovers
                continue
            names = {posixpath.basename(e["name"]): e for e in entries}
            for name, entry in names.items():
                match = _TEMP.fullmatch(name)
                if match is None:
                    continue
                mtime = _mtime(entry)
                if match.group(1) in names or (mtime is not None and now - mtime > STALE_TEMP_SECONDS):
                    with contextlib.suppress(OSError):
                        self.fs.rm_file(entry["name"])
                        removed += 1
        return removed

    def download(self, md5: str, target: Path, callback: Any = None) -> str:
        """Copy object ``md5`` to the new local file ``target`` (the caller's temporary
        name); return the md5 of the bytes read, for the caller to check before the
        file takes its name.

        Raises:
            ObjectMissing: neither layout holds it.
        """
        if md5 in self._manifests:
            target.write_bytes(self._manifests[md5])
            return hashlib.md5(self._manifests[md5], usedforsecurity=False).hexdigest()
        kwargs = {"callback": callback} if callback is not None else {}
        for path in (self.path(md5), self._legacy_path(md5)):
            try:
                if self.storage.protocol != "file":
                    self.fs.get_file(path, os.fspath(target), **kwargs)
                    return md5_file(target)
                if os.stat(path).st_size < LARGE:  # one pass: copied and hashed together
                    with open(path, "rb") as src:
                        return copy_hashing(src, target, callback)
                # A large file: the kernel copies while this process hashes the source.
                return hash_alongside(Path(path), functools.partial(shutil.copyfile, path, target))
            except FileNotFoundError:
                continue
        raise ObjectMissing(f"Object {md5} is not on remote '{self.name}'.")

    def read_bytes(self, md5: str) -> bytes:
        """The bytes of a (small) object, from either layout.

        Raises:
            ObjectMissing: neither layout holds it.
        """
        for path in (self.path(md5), self._legacy_path(md5)):
            try:
                return bytes(self.fs.cat_file(path))
            except FileNotFoundError:
                continue
        raise ObjectMissing(f"Object {md5} is not on remote '{self.name}'.")

    def read_manifest(self, md5: str) -> list[dict]:
        """The checked entries of the remote's ``.dir`` manifest ``md5`` (its bytes kept
        for the transfer, so it is read once).

        Raises:
            ObjectMissing: the remote lacks it.
            DataRemoteError: its bytes do not hash to ``md5``.
            CacheError: it is malformed or names a path outside its directory.
        """
        data = self._manifests.get(md5)
        if data is None:
            data = self.read_bytes(md5)
            if hashlib.md5(data, usedforsecurity=False).hexdigest() != md5.removesuffix(".dir"):
                raise DataRemoteError(
                    f"Remote '{self.name}' holds a corrupted manifest {md5}; delete it from the remote and push again."
                )
            self._manifests[md5] = data
        try:
            entries = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            entries = None
        try:
            return check_manifest(entries, md5)
        except CacheError as exc:
            problem = str(exc).replace(f"cache manifest {md5}", "", 1).split(";")[0].strip(" :")
            raise DataRemoteError(
                f"Remote '{self.name}' holds a bad manifest {md5} ({problem}); "
                "nothing of it was fetched: delete it on the remote and push it again from a good clone."
            ) from None

    def remove(self, md5s: list[str]) -> None:
        """Delete objects (names from :meth:`path` only: never a listed stray)."""
        paths = [self.path(md5) for md5 in md5s]
        for start in range(0, len(paths), 1000):
            self.fs.rm(paths[start : start + 1000])
