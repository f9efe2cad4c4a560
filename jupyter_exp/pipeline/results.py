"""What a reproduction reports, kept in a module of its own so that the no-op fast
path can return it without importing the engine."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

Echo = Callable[[str], None]


@dataclass(frozen=True)
class StageResult:
    """What happened to one stage in a reproduction."""

    stage: str
    status: str  # ran | restored | skipped | frozen | dry | failed | not-run
    reason: str | None = None
    returncode: int | None = None
    duration: float = 0.0
    error: str | None = None


def echo_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
