"""An SFTP upload without sshfs's directory walk.

sshfs's ``_put_file`` makes the target's parent directories before every file, and
asyncssh's ``makedirs`` tries ``mkdir`` then ``stat`` on each component of the path:
for ``/srv/dvc/files/md5/ab/...`` a dozen round trips per object, several times what
sending a few KiB costs. A push makes each prefix directory once
(:meth:`~.objects.RemoteObjects.upload_async`), so each object is sent straight down
one of sshfs's pooled SFTP channels. A future sshfs without that pool falls back to
its own ``_put_file``, slower but the same.
"""

from __future__ import annotations

import os
from typing import Any

SMALL = 1 << 20  # up to this size a file is read whole and sent in one write


async def put_file(fs: Any, source: str, target: str, callback: Any = None) -> None:
    """Send local file ``source`` to ``target`` on SSH file system ``fs`` (sshfs), whose
    parent directory exists."""
    pool = getattr(fs, "_pool", None)
    try:
        from sshfs.utils import WRITE_BLOCK_SIZE, as_progress_handler, wrap_exceptions
    except ImportError:
        pool = None
    if pool is None or not hasattr(pool, "get"):
        await fs._put_file(source, target, **({"callback": callback} if callback is not None else {}))
        return

    size = os.stat(source).st_size

    @wrap_exceptions
    async def send() -> None:  # (wrapped: asyncssh's errors become OSErrors, as in sshfs)
        async with pool.get() as channel:
            if size > SMALL:
                await channel.put(
                    source, target, block_size=WRITE_BLOCK_SIZE, progress_handler=as_progress_handler(callback)
                )
                return
            # A small file in one write: open, write, close (asyncssh's put first asks
            # whether the target is a directory, a round trip more per object).
            with open(source, "rb") as local:
                data = local.read()
            async with channel.open(target, "wb") as remote:
                await remote.write(data)
            if callback is not None:
                callback.set_size(size)
                callback.absolute_update(size)

    await send()
