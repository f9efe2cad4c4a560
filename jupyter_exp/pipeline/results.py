"""What a reproduction reports (and the import stages it names), kept in a module of its own so that the no-op fast
path can return it without importing the engine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ImportSource:
    """Where the data of one import ``.dvc`` file comes from."""

    dvcfile: str  # project-relative
    url: str  # the source repository, or the imported URL
    rev: str | None  # rev_lock (else rev) of a repository import
    path: str  # the path inside the source repository (the URL for import-url)
    frozen: bool

    @property
    def notice(self) -> str:
        """The one line users see whenever a verb meets this file."""
        where = f"{self.url}@{self.rev}" if self.rev else self.url
        frozen = "a frozen import" if self.frozen else "an import"
        return f"{self.dvcfile} is {frozen} from {where}; update it with DVC (`dvc update {self.dvcfile}`)."
