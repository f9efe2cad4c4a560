"""git's loose refs read from their directories, without a git process.

A table following a project with 10,000 experiments must notice the one ref a
running experiment moved without ``git for-each-ref`` reading 10,000 files. git
writes a loose ref by renaming a new file over it, so a ref that moved is a file with
another inode, and a directory listing (no ``stat`` per file) tells which refs were
added, removed or rewritten. Packed refs are not listed here: a change of
``packed-refs`` is for the caller to notice (``Git.refs_stamp`` covers it).
Reached through :meth:`Git.loose_refs` and :meth:`Git.folders_stamp`.
"""

from __future__ import annotations

import os
from pathlib import Path


def git_dir_of(root: Path) -> Path:
    """The git directory of the work tree at ``root`` (a linked work tree's own, named
    by its ``.git`` file: "gitdir: <path>")."""
    git_dir = root / ".git"
    if git_dir.is_file():
        git_dir = Path(git_dir.read_text().split(":", 1)[1].strip())
        if not git_dir.is_absolute():
            git_dir = root / git_dir
    return git_dir


def common_dir(root: Path) -> Path:
    """The directory holding the refs of the work tree at ``root`` (the main ``.git``
    of a linked work tree): what ``git rev-parse --git-common-dir`` prints, read from
    the files git keeps."""
    git_dir = git_dir_of(root)
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
