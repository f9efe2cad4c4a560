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
import posixpath
import threading
import time
from functools import cached_property
from pathlib import Path

from .errors import LockError, NotAProjectError, PathError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .dvc_config import DvcConfig
    from .git import Git

DVC_DIR = ".dvc"
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"
DVCIGNORE_TEXT = (
    "# Patterns of files that DVC and jupyter_exp skip when they hash directories,\n# in .gitignore syntax.\n"
)
LOCK_WAIT_SECONDS = 10.0
MACHINERY = (".git", DVC_DIR)  # never a path a file or a flag may name
DVC_FILE_NAMES = ("dvc.yaml", "dvc.lock")
_held = threading.local()  # project locks this thread holds, by project, with their depth


class Project:
    """A DVC-compatible project rooted at ``root``.

    A handle, not a record: it is cheap to make (the no-op fast path makes one), and
    git and the config are opened on first use.
    """

    def __init__(self, root: str | os.PathLike, git: Git | None = None) -> None:
        self.root = Path(root)
        self._git: Git | None = git

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and other.root == self.root

    @classmethod
    def find(cls, start: str | os.PathLike | None = None) -> Project:
        """The project containing ``start`` (default: the current directory)."""
        start_path = Path(start or os.getcwd()).resolve()
        for candidate in (start_path, *start_path.parents):
            if (candidate / DVC_DIR).is_dir():
                return cls(candidate)
            if (candidate / ".git").exists():
                break
        raise NotAProjectError(f"{start_path} is not in a jupyter_exp/DVC project; run `jupyter dvc init` first.")

    @property
    def git(self) -> Git:
        if self._git is None:
            from .git import Git

            self._git = Git(self.root)
        return self._git

    @property
    def dvc_dir(self) -> Path:
        return self.root / DVC_DIR

    @property
    def plot_templates_dir(self) -> Path:
        """``.dvc/plots``: the project's own plot templates, as DVC keeps them."""
        return self.dvc_dir / "plots"

    @property
    def tmp_dir(self) -> Path:
        return self.dvc_dir / "tmp"

    @property
    def own_tmp_dir(self) -> Path:
        """Our own bookkeeping; DVC never reads it. Every file in it is named below."""
        return self.tmp_dir / "jupyter_exp"

    # -- what lives under .dvc/tmp (DVC's names) ---------------------------------------
    @property
    def lock_file(self) -> Path:
        """DVC's project lock (``.dvc/tmp/lock``)."""
        return self.tmp_dir / "lock"

    @property
    def checkpoint_signal_file(self) -> Path:
        """DVC 2's checkpoint signal (``.dvc/tmp/DVC_CHECKPOINT``; see live.py)."""
        return self.tmp_dir / "DVC_CHECKPOINT"

    @property
    def exp_runs_dir(self) -> Path:
        """Where queued and temp runs get a directory each (``.dvc/tmp/exps``, as DVC)."""
        return self.tmp_dir / "exps"

    def exp_run_dir(self, entry_id: str) -> Path:
        """The directory queue entry ``entry_id`` runs in."""
        return self.exp_runs_dir / f"run-{entry_id}"

    def exp_run_dirs(self) -> dict[str, Path]:
        """The run directories there are now, by queue entry id."""
        found = sorted(self.exp_runs_dir.glob("run-*")) if self.exp_runs_dir.is_dir() else []
        return {path.name[len("run-") :]: path for path in found}

    @property
    def config_file(self) -> Path:
        """DVC's project config (``.dvc/config``, in git)."""
        return self.dvc_dir / "config"

    @property
    def local_config_file(self) -> Path:
        """DVC's machine-local config (``.dvc/config.local``, git-ignored)."""
        return self.dvc_dir / "config.local"

    # -- our own, under .dvc/tmp/jupyter_exp --------------------------------------------
    @property
    def state_db(self) -> Path:
        """The hash state table (inode, size, mtime -> md5)."""
        return self.own_tmp_dir / "state.db"

    @property
    def uptodate_dir(self) -> Path:
        """Stamps of no-op reproductions (pipeline/stamp.py)."""
        return self.own_tmp_dir / "uptodate"

    @property
    def running_stage_file(self) -> Path:
        """The process group of the stage command running now (to stop an orphan)."""
        return self.own_tmp_dir / "running-stage"

    @property
    def queue_dir(self) -> Path:
        """One JSON record per queue entry."""
        return self.own_tmp_dir / "queue"

    @property
    def progress_dir(self) -> Path:
        """One JSON record per running experiment, for tables in other processes."""
        return self.own_tmp_dir / "progress"

    @property
    def workers_dir(self) -> Path:
        """One record per background queue worker."""
        return self.own_tmp_dir / "workers"

    @property
    def workers_stop_file(self) -> Path:
        """Written by ``queue stop``: every background worker reads it before it claims."""
        return self.workers_dir / "STOP"

    @property
    def checkpoint_state_file(self) -> Path:
        """Which checkpoint experiment the workspace's checkpoint outputs come from."""
        return self.own_tmp_dir / "checkpoint.json"

    @property
    def show_cache_file(self) -> Path:
        """Per-commit values collected for ``exp show`` (commits never change)."""
        return self.own_tmp_dir / "show-cache.json"

    @property
    def dvcfiles_cache_file(self) -> Path:
        """The ``dvc.yaml`` paths of each commit read so far (commits never change)."""
        return self.own_tmp_dir / "dvcfiles.json"

    @property
    def show_output_dir(self) -> Path:
        """Rendered ``exp show`` outputs, keyed by what they were made from."""
        return self.own_tmp_dir / "show-output"

    @property
    def table_state_file(self) -> Path:
        """The experiment table's sort, filter and column choices."""
        return self.own_tmp_dir / "table.json"

    @property
    def search_dir(self) -> Path:
        """Optuna's storage of the project's hyperparameter searches (``studies.db``)."""
        return self.own_tmp_dir / "search"

    @property
    def notes_lock_file(self) -> Path:
        """Held while a note on an experiment is written (``git notes`` has no compare-and-swap)."""
        return self.own_tmp_dir / "notes.lock"

    def scratch_index(self) -> Path:
        """A fresh path for a temporary git index (never the user's); its folder exists."""
        import uuid

        self.own_tmp_dir.mkdir(parents=True, exist_ok=True)
        return self.own_tmp_dir / f"index-{uuid.uuid4().hex}"

    @cached_property
    def config(self) -> DvcConfig:
        """DVC's config, every level merged (``.dvc/config``, ``config.local``, and the
        global and system files), read as DVC reads it (see :mod:`.dvc_config`).

        Raises:
            ConfigError: a file that is not UTF-8 or not valid INI, naming the file.
        """
        from .dvc_config import load

        return load(self.dvc_dir)

    @property
    def cache_dir(self) -> Path:
        configured = self.config.get("cache", "dir", fallback=None)
        if configured:
            path = Path(configured)
            return path if path.is_absolute() else (self.dvc_dir / path).resolve()
        return self.dvc_dir / "cache"

    @property
    def link_types(self) -> list[str]:
        configured = self.config.get("cache", "type", fallback="") or ""
        types = [t.strip() for t in configured.split(",") if t.strip()]
        # DVC's default: a hard link or symlink only when configured, since writing
        # into such a workspace file in place would change the cache object.
        return types or ["reflink", "copy"]

    @cached_property
    def _real_root(self) -> Path:
        return self.root.resolve()

    @cached_property
    def _cache_relpath(self) -> str | None:
        """The cache directory relative to the root when it lies inside the project."""
        cache = self.cache_dir.resolve()
        if not cache.is_relative_to(self._real_root):
            return None
        return cache.relative_to(self._real_root).as_posix()

    def resolve(
        self, path: object, base: str = ".", *, where: str, output: bool = False, follow_links: bool = True
    ) -> Path:
        """The one boundary for paths read from a file or a flag: ``root / path``, confined.

        ``path`` is relative to ``base`` (a project-relative directory) or absolute.
        Refused: a path that is not a non-empty string, that leaves the project (``..``,
        an absolute path elsewhere), that names ``.git``, ``.dvc`` or the cache, and, with
        ``follow_links`` (anything we write or delete), one whose symlinks lead outside
        the project or into its machinery. With ``output`` it may not be the project root
        or a DVC file either, as DVC refuses. ``where`` names the source for the message.

        Raises:
            PathError: one line naming ``where``, the path and the fix.
        """
        return self.root / self.resolve_relpath(path, base, where=where, output=output, follow_links=follow_links)

    def resolve_relpath(
        self, path: object, base: str = ".", *, where: str, output: bool = False, follow_links: bool = True
    ) -> str:
        """:meth:`resolve`, as a project-relative path with forward slashes."""
        if not isinstance(path, str) or not path or "\0" in path:
            raise PathError(f"{where}: path {path!r} is not a valid path; write it as a relative path.")
        if posixpath.isabs(path):
            absolute = Path(posixpath.normpath(path))
            for root in (self.root, self._real_root):
                if absolute.is_relative_to(root):
                    path, base = absolute.relative_to(root).as_posix(), "."
                    break
            else:
                raise PathError(f"{where}: '{path}' is outside the project; use a path inside it.")
        rel = posixpath.normpath(posixpath.join(base, path))
        if rel == ".." or rel.startswith("../"):
            raise PathError(f"{where}: '{path}' leaves the project; use a path inside it.")
        self._refuse_machinery(rel, path, where, output)
        if follow_links and rel != ".":
            try:
                real = (self.root / rel).resolve()
            except (RuntimeError, OSError):  # Python names a symlink loop either way
                raise PathError(
                    f"{where}: '{path}' is a symlink loop; replace the link with a file or directory."
                ) from None
            if output and self._links_into_cache(rel, real):
                # cache.type symlink: the output itself is a link to its cache object,
                # which checkout replaces and never writes through; its directory counts.
                real = (self.root / rel).parent.resolve() / posixpath.basename(rel)
            if not real.is_relative_to(self._real_root):
                raise PathError(
                    f"{where}: '{path}' leads through a symlink to {real}, outside the project; use a path inside it."
                )
            real_rel = real.relative_to(self._real_root).as_posix()
            if real_rel != rel:
                self._refuse_machinery(real_rel, path, where, output)
        return rel

    def _links_into_cache(self, rel: str, real: Path) -> bool:
        """Whether ``rel`` is itself a symlink to a file in the cache."""
        return (self.root / rel).is_symlink() and real.is_relative_to(self.cache_dir.resolve())

    def _refuse_machinery(self, rel: str, path: str, where: str, output: bool) -> None:
        first = rel.split("/", 1)[0]
        if first in MACHINERY:
            raise PathError(f"{where}: '{path}' is inside {first}, which belongs to git or DVC; use a path outside it.")
        cache = self._cache_relpath
        if cache is not None and (rel == cache or rel.startswith(cache + "/")):
            raise PathError(f"{where}: '{path}' is inside the DVC cache; use a path outside it.")
        if not output:
            return
        if rel == "." or (cache is not None and cache.startswith(rel + "/")):
            raise PathError(
                f"{where}: output '{path}' overlaps the project root; name a file or directory inside the project."
            )
        name = posixpath.basename(rel)
        if name in DVC_FILE_NAMES or name.endswith(".dvc"):
            raise PathError(f"{where}: DVC file '{path}' cannot be an output; use another name.")

    def relpath(self, path: str | os.PathLike, keep_link: bool = False) -> str:
        """``path`` relative to the root, with forward slashes; ``keep_link``: a symlink
        at the end is named, not followed (a target typed by the user names the link: with
        ``cache.type: symlink`` a tracked file is a link into the cache)."""
        if keep_link:
            absolute = Path(os.path.abspath(path))
            if absolute.name:
                return Path(os.path.relpath(absolute.parent.resolve() / absolute.name, self.root)).as_posix()
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
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
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
