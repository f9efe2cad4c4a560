"""Copying a file while hashing it: the one pass (small files) or the two threads (large
ones) by which every object moved between the cache and a remote is checked against
its md5 name."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..pipeline.hashing import md5_file

CHUNK = 1 << 20
LARGE = 16 << 20  # from this size a file is hashed on a thread beside its copy


def hash_alongside(path: Path, copy: Callable[[], object]) -> str:
    """Run ``copy`` (which reads ``path``) while another thread hashes ``path``; return
    the md5. Remote and cache objects never change in place (they are renamed in), so
    the bytes hashed are the bytes copied."""
    found: dict[str, Any] = {}

    def digest() -> None:
        try:
            found["md5"] = md5_file(path)
        except BaseException as exc:  # handed to the caller's thread
            found["error"] = exc

    worker = threading.Thread(target=digest, daemon=True)
    worker.start()
    try:
        copy()
    finally:
        worker.join()
    if "error" in found:
        raise found["error"]
    return found["md5"]


def copy_hashing(source: Any, target: Path, callback: Any = None) -> str:
    """Copy the open binary ``source`` into the new file ``target`` in one pass; return
    the md5 of what was copied. ``callback`` (fsspec's) hears of each chunk."""
    digest = hashlib.md5(usedforsecurity=False)
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(target, "xb") as out:
        while True:
            count = source.readinto(buffer)
            if not count:
                break
            digest.update(view[:count])
            out.write(view[:count])
            if callback is not None:
                callback.relative_update(count)
    return digest.hexdigest()
