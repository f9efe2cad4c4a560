"""A project: a git work tree that is also a DVC 3 project (``.dvc/`` at its root).

Holds the paths every layer needs, reads ``.dvc/config``, creates the project
(``init``), and serialises mutating commands on ``.dvc/tmp/lock``, the same file
DVC locks, so that DVC and jupyter_exp never reproduce into one project at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from functools import cached_property
from pathlib import Path

from .errors import LockError, NotAProjectError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterator

    import configparser

    from .git import Git

DVC_DIR = ".dvc"
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"
DVCIGNORE_TEXT = (
    "# Patterns of files that DVC and jupyter_exp skip when they hash directories,\n"
    "# in .gitignore syntax.\n"
)
LOCK_WAIT_SECONDS = 10.0
_held = threading.local()  # project locks this thread holds, by project, with their depth


class Project:
    """A DVC-compatible project rooted at ``root``.

    A handle, not a record: it is cheap to make (the no-op fast path makes one), and
    git and the config are opened on first use.
    """

    def __init__(self, root: str | os.PathLike, git: "Git | None" = None) -> None:
        self.root = Path(root)
        self._git: Git | None = git

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and other.root == self.root

    @classmethod
    def find(cls, start: str | os.PathLike | None = None) -> "Project":
        """The project containing ``start`` (default: the current directory)."""
        start_path = Path(start or os.getcwd()).resolve()
        for candidate in (start_path, *start_path.parents):
            if (candidate / DVC_DIR).is_dir():
                return cls(candidate)
            if (candidate / ".git").exists():
                break
        raise NotAProjectError(
            f"{start_path} is not in a jupyter_exp/DVC project; run `jupyter exp init` first."
        )

    @property
    def git(self) -> "Git":
        if self._git is None:
            from .git import Git

            self._git = Git(self.root)
        return self._git

    @property
    def dvc_dir(self) -> Path:
        return self.root / DVC_DIR

    @property
    def tmp_dir(self) -> Path:
        return self.dvc_dir / "tmp"

    @property
    def own_tmp_dir(self) -> Path:
        """Our own bookkeeping; DVC never reads it."""
        return self.tmp_dir / "jupyter_exp"

    @cached_property
    def config(self) -> "configparser.ConfigParser":
        import configparser

        parser = configparser.ConfigParser()
        parser.read([self.dvc_dir / "config", self.dvc_dir / "config.local"])
        return parser

    @property
    def cache_dir(self) -> Path:
        configured = self.config.get("cache", "dir", fallback=None)
        if configured:
            path = Path(configured)
            return path if path.is_absolute() else (self.dvc_dir / path).resolve()
        return self.dvc_dir / "cache"

    @property
    def link_types(self) -> list[str]:
        configured = self.config.get("cache", "type", fallback="")
        types = [t.strip() for t in configured.split(",") if t.strip()]
        # DVC's default: a hard link or symlink only when configured, since writing
        # into such a workspace file in place would change the cache object.
        return types or ["reflink", "copy"]

    def relpath(self, path: str | os.PathLike) -> str:
        """``path`` relative to the root, with forward slashes."""
        return Path(os.path.relpath(Path(path).resolve(), self.root)).as_posix()

    @contextlib.contextmanager
    def lock(self, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
        """Hold ``.dvc/tmp/lock`` (DVC's repo lock) for the duration of the block.

        Re-entrant within one thread (``exp run`` holds it around a reproduction that
        takes it too); other threads and processes wait up to ``wait`` seconds, then
        get a one-line LockError.
        """
        key = str(self.tmp_dir.resolve())
        held = _held.__dict__.setdefault("roots", {})
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.tmp_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise LockError(
                            "Another DVC or jupyter_exp command is running in this project; "
                            "wait for it to finish and retry."
                        ) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            held[key] = 1
            yield
        finally:
            held.pop(key, None)
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def init(path: str | os.PathLike | None = None) -> Project:
    """Make the git work tree at ``path`` a DVC 3 compatible project.

    Creates ``.dvc/config``, ``.dvc/.gitignore`` and ``.dvcignore`` and stages them in
    git, as ``dvc init`` does. Running it again changes nothing.

    Raises:
        NotAGitRepoError: ``path`` is not inside a git work tree.
    """
    from .git import find_git_root

    root = find_git_root(path or os.getcwd())
    project = Project(root)
    project.dvc_dir.mkdir(exist_ok=True)
    created = []
    for target, text in (
        (project.dvc_dir / "config", ""),
        (project.dvc_dir / ".gitignore", DVC_GITIGNORE),
        (root / ".dvcignore", DVCIGNORE_TEXT),
    ):
        if not target.exists():
            target.write_text(text, encoding="utf-8")
            created.append(project.relpath(target))
    project.tmp_dir.mkdir(exist_ok=True)
    project.git.add(created)
    return project
