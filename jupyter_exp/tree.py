"""Read-only views of the project's files: the workspace, or a git revision.

Loaders take a Tree so that the same code reads ``dvc.yaml``, params and metrics
from the workspace and from any commit (through one ``git cat-file --batch``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import YAMLFileError
from .git import Git
from .serialize import decode_text

Parser = Callable[[str, str], Any]


class Tree:
    name = "workspace"

    def read(self, relpath: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, relpath: str) -> bool:
        return self.read(relpath) is not None

    def load(self, relpath: str, parse: Parser) -> Any:
        """``parse(text, relpath)`` of the file, or None if it is not there.

        The result may be shared between callers: treat it as read-only.
        """
        raw = self.read(relpath)
        return None if raw is None else parse(decode_text(raw, relpath), relpath)


class WorkspaceTree(Tree):
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, relpath: str) -> bytes | None:
        try:
            return (self.root / relpath).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:  # a symlink loop, a file we may not read: one line, not a traceback
            raise YAMLFileError(f"Cannot read {relpath} ({exc.strerror or exc}); fix the file or its link.") from None

    def exists(self, relpath: str) -> bool:
        return (self.root / relpath).exists()


class GitTree(Tree):
    """Files at a commit. ``memo`` (shared between trees) keeps parsed blobs by id, so a
    file that is the same in a thousand commits is parsed once."""

    def __init__(
        self, git: Git, rev: str, name: str | None = None, memo: dict[tuple[str, Any], Any] | None = None
    ) -> None:
        self.git = git
        self.rev = rev
        self.name = name or rev
        self.memo = memo if memo is not None else {}
        self._objects: dict[str, tuple[str, str, bytes] | None] = {}

    def prefetched(self, found: dict[str, tuple[str, str, bytes] | None]) -> GitTree:
        """Remember objects read ahead (see ``prefetch``)."""
        self._objects.update(found)
        return self

    @property
    def paths_read(self) -> list[str]:
        """The paths read (or read ahead) so far: what a like revision will read too."""
        return list(self._objects)

    def _object(self, relpath: str) -> tuple[str, str, bytes] | None:
        if relpath not in self._objects:
            self._objects[relpath] = self.git.read_object(f"{self.rev}:{relpath}")
        return self._objects[relpath]

    def oid(self, relpath: str) -> str | None:
        found = self._object(relpath)
        return found[0] if found and found[1] == "blob" else None

    def read(self, relpath: str) -> bytes | None:
        found = self._object(relpath)
        return found[2] if found and found[1] == "blob" else None

    def load(self, relpath: str, parse: Parser) -> Any:
        found = self._object(relpath)
        if found is None or found[1] != "blob":
            return None
        key = (found[0], parse)
        if key not in self.memo:
            self.memo[key] = parse(decode_text(found[2], relpath), relpath)
        return self.memo[key]


def prefetch(git: Git, revs: list[str], paths: list[str], memo: dict | None = None) -> dict[str, GitTree]:
    """GitTrees for ``revs`` with ``paths`` already read, in one pipelined exchange."""
    memo = memo if memo is not None else {}
    specs = [f"{rev}:{path}" for rev in revs for path in paths]
    answers = iter(git.read_objects(specs))
    trees = {}
    for rev in revs:
        found = {path: next(answers) for path in paths}
        trees[rev] = GitTree(git, rev, memo=memo).prefetched(found)
    return trees
