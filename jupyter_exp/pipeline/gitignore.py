"""Keep cached outputs and tracked data out of git, as DVC does: ``/<name>`` in the
``.gitignore`` of the path's parent directory."""

from __future__ import annotations

from pathlib import Path

from ..serialize import write_text_atomic


def ignore(root: Path, relpath: str) -> Path | None:
    """Add ``relpath`` to its directory's .gitignore; return the file if it changed."""
    parent, _, name = relpath.rpartition("/")
    gitignore = root / parent / ".gitignore" if parent else root / ".gitignore"
    entry = f"/{name}"
    text = gitignore.read_text(encoding="utf-8") if _readable(root, gitignore) else ""
    if entry in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    gitignore.parent.mkdir(parents=True, exist_ok=True)
    # Through a sibling and a rename: a .gitignore that is a symlink (one an experiment
    # brought, say) is replaced by a file, never written through to where it points.
    write_text_atomic(gitignore, text + entry + "\n")
    return gitignore


def _readable(root: Path, gitignore: Path) -> bool:
    """Whether ``gitignore`` is a file of the project (a symlink to a file elsewhere is
    neither read nor written: the rename above replaces the link itself)."""
    if not gitignore.is_file():
        return False
    try:
        return gitignore.resolve().is_relative_to(root.resolve())
    except (RuntimeError, OSError):
        return False
