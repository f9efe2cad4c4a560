"""The records reading params and metrics returns, and rendering reads.

A file's values at a revision are a ``FileValues``: its data, or the error that kept
it from being read. A change between two sides is a ``DiffRow``. DVC writes a file's
values as ``{"data": ...}`` or ``{"error": {"type", "msg"}}``; ``to_dvc``/``from_dvc``
are that shape, used by the JSON output (``render/json.py``) and the show cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .params import flatten


@dataclass(frozen=True)
class ErrorInfo:
    """Why a file could not be read, as DVC reports it: the exception's type name and
    message."""

    type: str
    msg: str

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        return cls(type(exc).__name__, str(exc))


@dataclass(frozen=True, slots=True)
class FileValues:
    """One params or metrics file at one revision: ``data`` (nested, as in the file)
    or ``error``, never both."""

    data: dict | None = None
    error: ErrorInfo | None = None
    # DVC's shape, kept once made (or as read from the show cache): ``exp show --json``
    # writes it for every row. Slots, not a __dict__ per record, and ``flat`` not kept:
    # on 10,000 rows each object kept alive costs the garbage collector measurably.
    _dvc: dict | None = field(default=None, compare=False, repr=False)

    @classmethod
    def failed(cls, exc: BaseException) -> FileValues:
        return cls(error=ErrorInfo.of(exc))

    @classmethod
    def missing(cls, path: str) -> FileValues:
        """A file the pipeline names but the revision lacks, with DVC's message."""
        return cls.failed(FileNotFoundError(2, "No such file or directory", path))

    @property
    def absent(self) -> bool:
        """The file is not in the revision: a fact about a commit, unlike an object
        missing from the cache, which a pull may mend."""
        return self.error is not None and self.error.type == FileNotFoundError.__name__

    @property
    def flat(self) -> dict[str, Any]:
        """``{dotted.key: value}``; empty for an error."""
        return flatten(self.data) if self.data is not None else {}

    def to_dvc(self) -> dict:
        """DVC's shape: ``{"data": nested}`` or ``{"error": {"type", "msg"}}``."""
        if self._dvc is None:
            shape = (
                {"error": {"type": self.error.type, "msg": self.error.msg}}
                if self.error is not None
                else {"data": self.data}
            )
            object.__setattr__(self, "_dvc", shape)
        return self._dvc  # type: ignore[return-value]

    @classmethod
    def from_dvc(cls, entry: Any) -> FileValues:
        """The record for DVC's shape; ValueError if ``entry`` is not that shape."""
        if type(entry) is dict and len(entry) == 1:
            data = entry.get("data")
            if type(data) is dict:
                return cls(data, None, entry)
            error = entry.get("error")
            if type(error) is dict and type(error.get("type")) is str and type(error.get("msg")) is str:
                return cls(error=ErrorInfo(error["type"], error["msg"]))
        raise ValueError(f"not a file's values: {entry!r}")


def flat_values(files: dict[str, FileValues]) -> dict[str, dict[str, Any]]:
    """``{file: {flat.key: value}}``, files that could not be read left out."""
    return {f: v.flat for f, v in files.items() if v.error is None}


@dataclass(frozen=True)
class DiffRow:
    """One changed (or, with ``all``, unchanged) param or metric."""

    path: str
    key: str
    old: Any
    new: Any
    change: Any = None
