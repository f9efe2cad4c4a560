"""Read-only views of the project's files: the workspace, or a git revision.

Loaders take a Tree so that the same code reads ``dvc.yaml``, params and metrics
from the workspace and from any commit (through one ``git cat-file --batch``).
"""

from __future__ import annotations

from pathlib import Path

from .git import Git


class Tree:
    name = "workspace"

    def read(self, relpath: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, relpath: str) -> bool:
        return self.read(relpath) is not None


class WorkspaceTree(Tree):
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, relpath: str) -> bytes | None:
        try:
            return (self.root / relpath).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def exists(self, relpath: str) -> bool:
        return (self.root / relpath).exists()


class GitTree(Tree):
    def __init__(self, git: Git, rev: str, name: str | None = None) -> None:
        self.git = git
        self.rev = rev
        self.name = name or rev

    def read(self, relpath: str) -> bytes | None:
        return self.git.read_blob(self.rev, relpath)
