"""Keep cached outputs and tracked data out of git, as DVC does: ``/<name>`` in the
``.gitignore`` of the path's parent directory."""

from __future__ import annotations

from pathlib import Path


def ignore(root: Path, relpath: str) -> Path | None:
    """Add ``relpath`` to its directory's .gitignore; return the file if it changed."""
    parent, _, name = relpath.rpartition("/")
    gitignore = root / parent / ".gitignore" if parent else root / ".gitignore"
    entry = f"/{name}"
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if entry in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    gitignore.parent.mkdir(parents=True, exist_ok=True)
    gitignore.write_text(text + entry + "\n", encoding="utf-8")
    return gitignore
