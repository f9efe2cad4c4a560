"""One-line warnings about local state we skipped or rebuilt.

Our own bookkeeping under ``.dvc/tmp/jupyter_exp`` (the hash state, the show cache,
progress files) is derived data: a damaged file is set aside and rebuilt, never a
traceback. The user hears about it in one line on stderr, once per file and process.
"""

from __future__ import annotations

import sys

_said: set[str] = set()


def warn(message: str) -> None:
    """Print ``WARNING: message`` on stderr, once per distinct message in a process."""
    if message in _said:
        return
    _said.add(message)
    print(f"WARNING: {message}", file=sys.stderr)
