"""Moving objects between the local cache and a remote, in parallel, verified, atomic.

Push sends what the remote lacks; fetch brings what the cache lacks. Both run ``jobs``
transfers at once and report bytes to a progress bar: as coroutines on the driver's
event loop for an object store with an async driver (S3, GCS, Azure; no thread and no
cross-thread hand-off per object, which is what many small objects cost), else on a
thread pool. Every byte is checked against its name: a cache file is hashed as it is
sent (a corrupted cache object is never spread), a downloaded file is hashed before it
takes its name in the cache (a remote cannot plant wrong data). Each object lands
whole or not at all (see :class:`~.objects.RemoteObjects`; in the cache: a temporary
name, then a rename), so an interrupted transfer leaves nothing half-written under a
final name, and running it again sends just what is still missing.

Files go first and ``.dir`` manifests last, and a manifest only once every file it
names is on the other side: a manifest present means its files are present (DVC's
remote status reads a manifest that way). The exception is DVC's too: a directory
selected only through files inside it sends its manifest once those files are there,
so that the other side can find them.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..pipeline.cache import READONLY, Cache
from ..serialize import replacing
from .errors import DataRemoteError
from .objects import ObjectMissing, RemoteObjects, describe, is_storage_error
from .progress import Progress, open_progress
from .used import Wanted

_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


@dataclass
class TransferResult:
    """What a push or fetch did: objects and bytes moved, md5s the source lacks
    (``missing``), and md5s that failed with why (``failed``)."""

    transferred: int = 0
    nbytes: int = 0
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped_dirs: list[str] = field(default_factory=list)  # manifests held back: files missing
    no_room: str | None = None  # the full disk's error, when the receiving side ran out of space
    first_error: BaseException | None = None  # the first failure's exception, for its fix


class _Stop(Exception):
    """A transfer hit a condition that dooms the others (a full disk)."""


def _failed(md5: str, exc: Exception, result: TransferResult, stop: threading.Event) -> None:
    """Record a transfer's failure in ``result`` (one object failed: said once the others
    are done). Raises ``exc`` again if it is a bug (its traceback is shown), and
    :class:`_Stop` (after setting ``stop``) if the receiving side is full."""
    if isinstance(exc, ObjectMissing):
        result.missing.append(md5)
        return
    if not is_storage_error(exc):
        raise exc
    result.failed[md5] = describe(exc)
    if result.first_error is None:
        result.first_error = exc
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        result.no_room = exc.strerror or str(exc)
        stop.set()
        raise _Stop() from exc


def _succeeded(md5: str, nbytes: int, result: TransferResult, done: set[str]) -> None:
    done.add(md5)
    result.transferred += 1
    result.nbytes += nbytes


def _run(work: Callable[[str], int], md5s: list[str], jobs: int, result: TransferResult) -> set[str]:
    """Run ``work`` on each md5 on ``jobs`` threads; return those that succeeded.

    A failure is recorded in ``result.failed``; a full disk stops the rest at once (they
    would fail the same way); Ctrl+C cancels what has not started and waits for the
    transfers under way (each cleans up its temporary file).
    """
    done: set[str] = set()
    if not md5s:
        return done
    lock = threading.Lock()
    stop = threading.Event()

    def one(md5: str) -> None:
        if stop.is_set():
            return
        try:
            nbytes = work(md5)
        except Exception as exc:
            with lock:
                _failed(md5, exc, result, stop)
            return
        with lock:
            _succeeded(md5, nbytes, result, done)

    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(md5s))))
    futures: list[Future] = []
    try:
        futures = [pool.submit(one, md5) for md5 in md5s]
        wait(futures, return_when=FIRST_EXCEPTION)  # a full disk or a bug returns early
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
    for future in futures:
        if future.cancelled():
            continue
        exc = future.exception()
        if exc is not None and not isinstance(exc, _Stop):
            raise exc
    return done


def _run_async(
    work: Callable[[str], Awaitable[int]], md5s: list[str], jobs: int, result: TransferResult, loop: Any
) -> set[str]:
    """:func:`_run` as ``jobs`` coroutines on ``loop`` (an async driver's), the way DVC
    batches them: no thread and no cross-thread hand-off per object.

    Same outcomes as :func:`_run`: a full disk stops the rest once the transfers under
    way are done, and so does Ctrl+C (a multipart upload cut short would stay behind on
    the store); a second Ctrl+C cancels those too (each cleans up its temporary file).
    """
    done: set[str] = set()
    if not md5s:
        return done
    stop = threading.Event()
    queue = iter(md5s)  # shared by the workers: each takes the next md5

    async def worker() -> None:
        for md5 in queue:
            if stop.is_set():
                return
            try:
                nbytes = await work(md5)
            except Exception as exc:
                _failed(md5, exc, result, stop)
                continue
            _succeeded(md5, nbytes, result, done)

    tasks: list[asyncio.Future] = []

    async def main() -> None:
        tasks.extend(asyncio.ensure_future(worker()) for _ in range(max(1, min(jobs, len(md5s)))))
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:  # Ctrl+C
            await cancel()
            raise
        except BaseException:
            stop.set()  # a full disk or a bug: the transfers under way finish, no new one starts
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def cancel() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    future = asyncio.run_coroutine_threadsafe(main(), loop)
    try:
        future.result()
    except _Stop:
        pass
    except KeyboardInterrupt:
        stop.set()  # as on threads: nothing new starts, the transfers under way finish
        try:
            future.result()
        except KeyboardInterrupt:  # a second Ctrl+C: cancelled, each cleans up its temporary file
            future.cancel()
            asyncio.run_coroutine_threadsafe(cancel(), loop).result()
        except BaseException:
            pass  # the interruption is what is reported
        raise
    return done


def _sizes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


def _parts(jobs: int, count: int) -> int:
    """How many parts of one large object move at once when ``count`` objects do: the
    ``jobs`` connections shared out (all of them for a single object, as DVC does)."""
    return max(1, jobs // max(1, min(jobs, count)))


def _verified(md5: str, digest: str, temp: Path, remote: str) -> None:
    """Check a download's ``digest`` against its name and make it read-only, as cache
    objects are. Raises DataRemoteError if the remote's bytes are not ``md5``'s."""
    if digest != md5.removesuffix(".dir"):
        raise DataRemoteError(f"object {md5} on remote '{remote}' is corrupted; it was not fetched")
    os.chmod(temp, READONLY)


# -- push -------------------------------------------------------------------------------


def push(
    cache: Cache, remote: RemoteObjects, wanted: Wanted, jobs: int, progress: Progress | None = None
) -> TransferResult:
    """Send the objects of ``wanted`` that ``remote`` lacks; those the cache lacks too
    are ``missing`` (a manifest with a missing file is held back, as DVC holds it)."""
    result = TransferResult()
    present = remote.present(wanted.paths, jobs)
    todo = [m for m in wanted.paths if m not in present]
    result.missing = sorted(m for m in todo if not cache.exists(m))
    files = sorted(m for m in todo if not m.endswith(".dir") and m not in result.missing)
    dirs = sorted(m for m in todo if m.endswith(".dir") and m not in result.missing)
    bar = progress or open_progress(f"Pushing to {remote.name}", _sizes([cache.object_path(m) for m in files + dirs]))

    def send(md5: str) -> int:
        source = cache.object_path(md5)
        size = source.stat().st_size
        callback = bar.callback()
        remote.upload(md5, source, callback)
        bar.finished(size, callback)
        return size

    async def send_async(md5: str, parts: int) -> int:
        source = cache.object_path(md5)
        size = source.stat().st_size
        callback = bar.callback()
        await remote.upload_async(md5, source, callback, parts)
        bar.finished(size, callback)
        return size

    def run(md5s: list[str]) -> set[str]:
        if remote.loop is None:
            return _run(send, md5s, jobs, result)
        parts = _parts(jobs, len(md5s))
        return _run_async(lambda md5: send_async(md5, parts), md5s, jobs, result, remote.loop)

    try:
        sent = run(files)
        on_remote = present | sent
        ready = []
        for md5 in dirs:
            needed = wanted.needed(md5)
            if needed is not None and all(m in on_remote for m in needed):
                ready.append(md5)
            else:
                result.skipped_dirs.append(md5)
        if result.no_room is None:  # a manifest whose files all made it goes too
            run(ready)
        # What a killed push left where this one wrote: its objects are whole now.
        remote.sweep_temps({m[:2] for m in files + ready})
    finally:
        bar.close()
    return result


# -- fetch ------------------------------------------------------------------------------


def fetch(
    remote: RemoteObjects, cache: Cache, wanted: Wanted, jobs: int, progress: Progress | None = None
) -> TransferResult:
    """Bring the objects of ``wanted`` that the cache lacks; those the remote lacks are
    ``missing``. A manifest enters the cache last, once every file it names is there."""
    result = TransferResult()
    todo = [m for m in wanted.paths if not cache.exists(m)]
    files = sorted(m for m in todo if not m.endswith(".dir"))
    dirs = sorted(m for m in todo if m.endswith(".dir"))
    bar = progress or open_progress(f"Fetching from {remote.name}", len(todo), unit="file")

    def bring(md5: str) -> int:
        target = cache._dvc3_path(md5)
        target.parent.mkdir(parents=True, exist_ok=True)
        callback = bar.callback()
        with replacing(target) as temp:  # a corrupted or half download never enters the cache
            _verified(md5, remote.download(md5, temp, callback), temp, remote.name)
            size = temp.stat().st_size
        bar.finished(size, callback)
        return size

    async def bring_async(md5: str, parts: int) -> int:
        target = cache._dvc3_path(md5)
        target.parent.mkdir(parents=True, exist_ok=True)
        callback = bar.callback()
        with replacing(target) as temp:
            _verified(md5, await remote.download_async(md5, temp, callback, parts), temp, remote.name)
            size = temp.stat().st_size
        bar.finished(size, callback)
        return size

    def run(md5s: list[str]) -> set[str]:
        if remote.loop is None:
            return _run(bring, md5s, jobs, result)
        parts = _parts(jobs, len(md5s))
        return _run_async(lambda md5: bring_async(md5, parts), md5s, jobs, result, remote.loop)

    try:
        # No existence check first: a download that finds nothing costs what a check
        # would, and everything asked for is usually there.
        got = run(files)
        in_cache = {m for m in wanted.paths if m not in todo} | got
        ready = []
        for md5 in dirs:
            needed = wanted.needed(md5)
            if needed is None:
                result.missing.append(md5)  # no store had the manifest
            elif all(m in in_cache for m in needed):
                ready.append(md5)
            else:
                result.skipped_dirs.append(md5)
        if result.no_room is None:  # a manifest whose files all made it goes too
            run(ready)
    finally:
        bar.close()
    return result
