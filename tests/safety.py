"""What "nothing changed" means for a hostile-input test, checked through git and the disk.

``Snapshot.take(root, outside)`` records everything a bad input must not touch: git
status, every ref, HEAD (symbolic and resolved), the index (``ls-files -s`` and the
staged diff), every workspace file (bytes and mode, symlinks by target), every cache
object, and every file under the ``outside`` directories that is not in the project.
``assert_unchanged`` compares two snapshots and names what differs.

Used as::

    before = Snapshot.take(repo, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match="one line"):
        ...
    before.assert_unchanged()
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# Bookkeeping that commands may legitimately touch: the lock file's pid, our tmp state.
IGNORED_PARTS = (".dvc/tmp/",)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False).stdout.decode(
        "utf-8", "surrogateescape"
    )


def _files(top: Path, skip: Path | None = None, ignore_git: bool = True) -> dict[str, str]:
    """relpath -> a digest of the entry (kind, mode, bytes or link target)."""
    found: dict[str, str] = {}
    if not top.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        base = Path(dirpath)
        if skip is not None and base == skip:
            dirnames[:] = []
            continue
        if ignore_git and base == top:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in [*filenames, *[d for d in dirnames if (base / d).is_symlink()]]:
            path = base / name
            rel = path.relative_to(top).as_posix()
            if any(rel.startswith(p) for p in IGNORED_PARTS):
                continue
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = "link:" + os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.md5(path.read_bytes()).hexdigest()
                found[rel] = f"file:{stat.S_IMODE(info.st_mode):o}:{digest}"
            else:
                found[rel] = f"other:{stat.S_IFMT(info.st_mode):o}"
        for name in dirnames:
            rel = (base / name).relative_to(top).as_posix()
            if not any(rel.startswith(p) for p in IGNORED_PARTS):
                found.setdefault(rel + "/", "dir")
    return found


@dataclass
class Snapshot:
    root: Path
    outside: tuple[Path, ...]
    state: dict[str, object] = field(default_factory=dict)

    @classmethod
    def take(cls, root: Path, outside: list[Path] | tuple[Path, ...] = ()) -> Snapshot:
        snap = cls(Path(root), tuple(Path(p) for p in outside))
        snap.state = snap._read()
        return snap

    def _read(self) -> dict[str, object]:
        root = self.root
        state: dict[str, object] = {
            "status": "".join(
                line
                for line in _git(root, "status", "--porcelain=v1", "-uall", "--ignored").splitlines(keepends=True)
                if not line[3:].startswith(IGNORED_PARTS)
            ),
            "refs": _git(root, "for-each-ref", "--format=%(refname) %(objectname)"),
            "HEAD": _git(root, "symbolic-ref", "-q", "HEAD") + _git(root, "rev-parse", "HEAD"),
            "index": _git(root, "ls-files", "-s") + _git(root, "diff", "--cached", "--binary"),
            "merge": sorted(
                p for p in ("MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD") if (root / ".git" / p).exists()
            ),
            "workspace": _files(root),
            "cache": _files(root / ".dvc" / "cache", ignore_git=False),
        }
        for top in self.outside:
            state[f"outside:{top}"] = _files(top, skip=root, ignore_git=False)
        return state

    def changes(self) -> dict[str, object]:
        """What differs now from when the snapshot was taken (empty: nothing)."""
        now = self._read()
        diff: dict[str, object] = {}
        for key, old in self.state.items():
            new = now.get(key)
            if old == new:
                continue
            if isinstance(old, dict) and isinstance(new, dict):
                diff[key] = {
                    "added": sorted(set(new) - set(old)),
                    "removed": sorted(set(old) - set(new)),
                    "changed": sorted(k for k in set(old) & set(new) if old[k] != new[k]),
                }
            else:
                diff[key] = {"before": old, "after": new}
        return diff

    def assert_unchanged(self) -> None:
        diff = self.changes()
        assert not diff, f"the bad input changed the project or its surroundings: {diff}"
