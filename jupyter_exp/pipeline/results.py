"""What a reproduction reports, kept in a module of its own so that the no-op fast
path can return it without importing the engine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Literal, NamedTuple

Echo = Callable[[str], None]
Status = Literal["ran", "restored", "skipped", "frozen", "dry", "failed", "not-run"]


class StageResult(NamedTuple):
    """What happened to one stage in a reproduction.

    A NamedTuple rather than a frozen dataclass, on purpose: this record is built on
    the no-op fast path, where importing ``dataclasses`` (and ``inspect``) would cost
    about a tenth of the whole command.
    """

    stage: str
    status: Status
    reason: str | None = None
    returncode: int | None = None
    duration: float = 0.0
    error: str | None = None


def echo_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
