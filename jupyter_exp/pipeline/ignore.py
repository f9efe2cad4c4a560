"""``.dvcignore``: gitignore patterns, in a file at the project root or in any
directory, that make DVC skip paths when it walks a directory (hashing, caching).
A directory output's hash must leave out what DVC leaves out, or DVC and we disagree
about every directory such a pattern touches.

Patterns are read relative to the directory of their ``.dvcignore``; a deeper file's
verdict overrides a shallower one's, as with ``.gitignore``; an ignored directory is
not entered. The matching is pathspec's gitignore patterns, as DVC's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PipelineError

if TYPE_CHECKING:  # imported where needed: a project without .dvcignore patterns never loads it
    import pathspec

IGNORE_FILE = ".dvcignore"


def _pattern_kind() -> str:
    """pathspec 1 names gitignore matching "gitignore" (the old name is deprecated)."""
    import pathspec.util

    try:
        pathspec.util.lookup_pattern("gitignore")
    except LookupError:
        return "gitwildmatch"
    return "gitignore"


class DvcIgnore:
    """The ``.dvcignore`` files of one project, read once each, on demand."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._specs: dict[Path, pathspec.PathSpec | None] = {}

    def _spec(self, directory: Path) -> pathspec.PathSpec | None:
        if directory not in self._specs:
            spec: pathspec.PathSpec | None = None
            try:
                lines = (directory / IGNORE_FILE).read_text(encoding="utf-8").splitlines()
            except (FileNotFoundError, NotADirectoryError):
                lines = []
            patterns = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
            if patterns:
                import pathspec

                try:
                    spec = pathspec.PathSpec.from_lines(_pattern_kind(), lines)
                except ValueError as exc:  # pathspec's pattern errors are ValueErrors
                    where = (directory / IGNORE_FILE).relative_to(self.root).as_posix()
                    raise PipelineError(f"{where}: {exc}; fix or remove that pattern.") from None
            self._specs[directory] = spec
        return self._specs[directory]

    def _chain(self, directory: Path) -> list[tuple[Path, pathspec.PathSpec]]:
        """The specs that apply inside ``directory``, root first."""
        try:
            parts = directory.relative_to(self.root).parts
        except ValueError:
            return []
        chain: list[tuple[Path, pathspec.PathSpec]] = []
        current = self.root
        for part in ("",) + parts:
            current = current / part if part else current
            spec = self._spec(current)
            if spec is not None:
                chain.append((current, spec))
        return chain

    def ignored(self, path: Path, is_dir: bool, chain: list[tuple[Path, pathspec.PathSpec]] | None = None) -> bool:
        """Whether DVC skips ``path`` (its parents are not checked: a walk prunes them)."""
        verdict = False
        for base, spec in chain if chain is not None else self._chain(path.parent):
            rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
            result = spec.check_file(rel)
            if result.include is not None:
                verdict = result.include
        return verdict

    def walk(self, top: Path) -> list[tuple[str, Path]]:
        """``(relpath, path)`` of every file under ``top`` that DVC does not ignore."""
        from .hashing import IGNORED_DIR_NAMES

        found = []
        for dirpath, dirnames, filenames in os.walk(top):
            base = Path(dirpath)
            chain = self._chain(base)
            dirnames[:] = [
                d
                for d in dirnames
                if d not in IGNORED_DIR_NAMES and not (chain and self.ignored(base / d, True, chain))
            ]
            for name in filenames:
                path = base / name
                if not (chain and self.ignored(path, False, chain)):
                    found.append((path.relative_to(top).as_posix(), path))
        return found
