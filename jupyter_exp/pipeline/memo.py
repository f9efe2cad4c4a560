"""What one command read from the work tree: file hashes and params files, each read once.

A reproduction asks for the same dependency's hash and the same params file many
times (every stage that names them, the up-to-date stamp); the memo reads each once
and is told to :meth:`forget` a path when a stage rewrote it.
"""

from __future__ import annotations

from pathlib import Path

from ..params import read_params
from .hashing import Hasher, HashInfo


class WorkspaceMemo:
    """Hashes (through ``hasher``'s state table) and params of paths under ``root``."""

    def __init__(self, root: Path, hasher: Hasher) -> None:
        self.root = root
        self.hasher = hasher
        self._hashes: dict[str, HashInfo | None] = {}
        self._params: dict[str, dict] = {}

    def hash_of(self, relpath: str) -> HashInfo | None:
        """The hash of a project-relative path; None when it does not exist."""
        if relpath not in self._hashes:
            self._hashes[relpath] = self.hasher.hash_path(self.root / relpath)
        return self._hashes[relpath]

    def forget(self, relpaths: list[str]) -> None:
        """Drop what is known of ``relpaths`` (a stage wrote them)."""
        for relpath in relpaths:
            self._hashes.pop(relpath, None)

    def read_params(self, relpath: str) -> dict:
        """The parsed params file at a project-relative path."""
        if relpath not in self._params:
            self._params[relpath] = read_params(self.root / relpath)
        return self._params[relpath]

    @property
    def params_read(self) -> list[str]:
        """The params files read so far (for the up-to-date stamp)."""
        return list(self._params)
