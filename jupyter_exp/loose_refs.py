"""git's loose refs read from their directories, without a git process.

A table following a project with 10,000 experiments must notice the one ref a
running experiment moved without ``git for-each-ref`` reading 10,000 files. git
writes a loose ref by renaming a new file over it, so a ref that moved is a file with
another inode, and a directory listing (no ``stat`` per file) tells which refs were
added, removed or rewritten. Packed refs are not listed here: a change of
``packed-refs`` is for the caller to notice (``Git.refs_stamp`` covers it).

This sits beside ``git.py`` (which reads ``.git`` the same way for ``refs_stamp``) while
that module is over its size limit; it belongs with it.
"""

from __future__ import annotations

import os
from pathlib import Path


def common_dir(root: Path) -> Path:
    """The directory holding the refs of the work tree at ``root`` (the main ``.git``
    of a linked work tree), from the files git keeps (what ``git rev-parse
    --git-common-dir`` prints)."""
    git_dir = root / ".git"
    if git_dir.is_file():  # a linked work tree: "gitdir: <path>"
        git_dir = Path(git_dir.read_text().split(":", 1)[1].strip())
        if not git_dir.is_absolute():
            git_dir = root / git_dir
    try:
        return Path(os.path.normpath(git_dir / (git_dir / "commondir").read_text().strip()))
    except OSError:
        return git_dir


def loose_refs(root: Path, prefix: str) -> dict[str, int]:
    """Every loose ref under ``prefix`` (``refs/exps``) with the inode of its file.

    Lock files (``<ref>.lock``, a write in progress) are left out; a ref removed while
    the folders are listed is simply not there."""
    top = common_dir(root)
    found: dict[str, int] = {}
    pending = [prefix]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(top / folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(f"{folder}/{entry.name}")
                    elif not entry.name.endswith(".lock"):
                        found[f"{folder}/{entry.name}"] = entry.inode()
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found


def folders_stamp(root: Path, prefixes: tuple[str, ...]) -> tuple:
    """The mtime of every folder under ``prefixes``, which changes whenever a loose ref
    in it is written or removed (git renames files into it). Cheap with 10,000 refs in
    one folder: a folder the file system says has no subfolders (a link count of 2)
    is not listed."""
    top = common_dir(root)
    stamp = []
    pending = list(prefixes)
    while pending:
        folder = pending.pop()
        try:
            st = os.stat(top / folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        stamp.append((folder, st.st_mtime_ns))
        if st.st_nlink == 2:
            continue  # ext4, xfs, tmpfs count subfolders in the link count; btrfs (1) is listed
        try:
            with os.scandir(top / folder) as entries:
                pending += [f"{folder}/{e.name}" for e in entries if e.is_dir(follow_symlinks=False)]
        except (FileNotFoundError, NotADirectoryError):
            continue
    return tuple(sorted(stamp))
