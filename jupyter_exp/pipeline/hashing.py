"""MD5 hashes identical to DVC 3, and the state table that avoids re-hashing.

A file's hash is the MD5 of its bytes. A directory's hash is the MD5 of its
manifest (``[{"md5": ..., "relpath": ...}, ...]`` sorted by relpath, JSON with
``", "``/``": "`` separators, no trailing newline) followed by ``.dir``.

The state table (SQLite, ``.dvc/tmp/jupyter_exp/state.db``) maps a path to the
(inode, size, mtime) it had when hashed, so an unchanged file is never read again,
by this process or any later one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CacheError, JupyterExpError, PathError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .ignore import DvcIgnore

CHUNK = 4 * 1024 * 1024
IGNORED_DIR_NAMES = frozenset({".git", ".dvc"})
_MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?")


def check_md5(value: object, where: str = "a hash") -> str:
    """``value`` if it is a DVC md5 (32 lowercase hex digits, ``.dir`` for a directory).

    The one validator for hashes read from files: a hash becomes a cache path
    (``md5[:2]/md5[2:]``), so anything else could name a file outside the cache.

    Raises:
        CacheError: naming ``where`` and the fix.
    """
    if not isinstance(value, str) or _MD5.fullmatch(value) is None:
        raise CacheError(
            f"{where}: {value!r} is not an md5 hash; restore the file from git or rerun the stage that wrote it."
        )
    return value


def _count(value: object, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CacheError(
            f"{where}: '{key}' must be a non-negative integer, not {value!r}; "
            "restore the file from git or rerun the stage that wrote it."
        )
    return value


@dataclass(frozen=True)
class HashInfo:
    """What dvc.lock records for one path."""

    md5: str
    size: int
    nfiles: int | None = None  # set for directories only

    def __post_init__(self) -> None:
        check_md5(self.md5)

    @classmethod
    def from_entry(cls, entry: Any, where: str) -> HashInfo:
        """The HashInfo of an ``outs`` entry of ``dvc.lock`` or a ``.dvc`` file, checked.

        ``size`` may be missing (DVC writes none for some outputs); ``nfiles`` only
        for directories.

        Raises:
            CacheError: a wrong type or a malformed hash, naming ``where``.
        """
        if not isinstance(entry, dict):
            raise CacheError(
                f"{where}: entry {entry!r} must be a mapping with 'path' and 'md5'; "
                "restore the file from git or rerun the stage that wrote it."
            )
        if entry.get("hash", "md5") != "md5":
            raise CacheError(
                f"{where}: hash {entry.get('hash')!r} is not supported, only md5; "
                "restore the file from git or rerun the stage that wrote it."
            )
        md5 = check_md5(entry.get("md5"), where)
        size = _count(entry.get("size", 0) if entry.get("size") is not None else 0, where, "size")
        nfiles = entry.get("nfiles")
        if nfiles is not None:
            nfiles = _count(nfiles, where, "nfiles")
        return cls(md5, size, nfiles)

    @property
    def isdir(self) -> bool:
        return self.md5.endswith(".dir")

    def to_lock(self) -> dict:
        entry: dict = {"hash": "md5", "md5": self.md5, "size": self.size}
        if self.isdir:
            entry["nfiles"] = self.nfiles
        return entry


def md5_file(path: str | os.PathLike) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fobj:
        while True:
            n = fobj.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


def manifest_bytes(entries: list[tuple[str, str]]) -> bytes:
    """The DVC ``.dir`` manifest for ``(relpath, md5)`` pairs."""
    ordered = sorted(entries)
    return json.dumps([{"md5": md5, "relpath": rel} for rel, md5 in ordered]).encode()


def walk_files(root: Path) -> list[tuple[str, Path]]:
    """``(relpath, path)`` of every file under ``root``, relpaths with forward slashes."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIR_NAMES]
        base = Path(dirpath)
        for name in filenames:
            path = base / name
            found.append((path.relative_to(root).as_posix(), path))
    return found


def _check_utf8_name(path: Path) -> None:
    # A manifest relpath and the state table's key are text: a name that is not UTF-8
    # (read with surrogate escapes) has no DVC manifest either (DVC fails on it too).
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise PathError(f"File name '{shown}' is not UTF-8; rename it (DVC cannot track it either).") from None


class State:
    """Remembered hashes keyed by (device, inode, size, mtime), shared across processes.

    Only a shortcut: a damaged database is set aside and rebuilt, and a database that
    cannot be written (a full disk, a read-only directory) is given up for the rest of
    the process; either way with one warning, and hashes are then computed from bytes.
    Rows are keyed by absolute path *and* device and inode, so a copy of the project
    (``cp -a`` keeps sizes and mtimes; the copy's files have other inodes) never
    borrows the original's hashes.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        # The checkpoint monitor hashes from its own thread: one connection, one lock.
        self._lock = threading.Lock()
        self._pending: list[tuple] = []
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_damaged(exc):
                self._give_up(exc)
                return
            _warn(f"rebuilding the damaged hash state {db_path} ({exc}).")
            try:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db_path}{suffix}").unlink(missing_ok=True)
                self._db = self._open()
            except (OSError, sqlite3.Error) as again:
                self._give_up(again)
        except OSError as exc:
            self._give_up(exc)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # state2: rows of the first table had no device; they are dropped, not trusted.
            db.execute("DROP TABLE IF EXISTS state")
            db.execute(
                "CREATE TABLE IF NOT EXISTS state2 (path TEXT PRIMARY KEY, dev INTEGER, inode INTEGER, "
                "size INTEGER, mtime INTEGER, md5 TEXT)"
            )
            db.execute("SELECT 1 FROM state2 LIMIT 1").fetchall()
        except BaseException:
            db.close()
            raise
        return db

    def _give_up(self, exc: BaseException) -> None:
        """Go on without the table (caller holds no lock or holds ``_lock``)."""
        _warn(
            f"cannot use the hash state {self.path} ({exc}); files are hashed without it. "
            "Free disk space or fix its permissions."
        )
        self._pending.clear()
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def get(self, path: Path, st: os.stat_result) -> str | None:
        with self._lock:
            if self._db is None:
                return None
            try:
                row = self._db.execute(
                    "SELECT dev, inode, size, mtime, md5 FROM state2 WHERE path = ?", (str(path),)
                ).fetchone()
            except sqlite3.Error as exc:
                self._give_up(exc)
                return None
        if row and row[:4] == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
            return row[4]
        return None

    def put(self, path: Path, st: os.stat_result, md5: str) -> None:
        with self._lock:
            if self._db is None:
                return
            self._pending.append((str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, md5))
            full = len(self._pending) >= 1000
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if self._db is not None and self._pending:
                try:
                    self._db.executemany("INSERT OR REPLACE INTO state2 VALUES (?, ?, ?, ?, ?, ?)", self._pending)
                except sqlite3.Error as exc:  # "database or disk is full", read-only, ...
                    self._give_up(exc)
                self._pending.clear()

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _is_damaged(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file itself is broken (not busy, full or read-only)."""
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _warn(message: str) -> None:
    from ..notices import warn

    warn(message)


class Hasher:
    """Hashes files and directories, consulting and updating the state table."""

    def __init__(self, state: State | None, ignore: DvcIgnore | None = None) -> None:
        self.state = state
        self.ignore = ignore  # the project's .dvcignore patterns, applied inside directories
        self.files_read = 0  # how many files were actually read (for tests and bench)

    def walk(self, path: Path) -> list[tuple[str, Path]]:
        """The files of a directory as DVC sees them (``.dvcignore`` applied)."""
        return self.ignore.walk(path) if self.ignore is not None else walk_files(path)

    def hash_file(self, path: Path, st: os.stat_result | None = None) -> str:
        _check_utf8_name(path)
        st = st or os.stat(path)
        if self.state is not None:
            known = self.state.get(path, st)
            if known is not None:
                return known
        md5 = md5_file(path)
        self.files_read += 1
        if self.state is not None:
            self.state.put(path, st, md5)
        return md5

    def dir_files(self, path: Path) -> list[tuple[str, Path, str, int]]:
        """``(relpath, path, md5, size)`` of every file in a directory, from one walk."""
        found = []
        for rel, file_path in self.walk(path):
            st = os.stat(file_path)
            found.append((rel, file_path, self.hash_file(file_path, st), st.st_size))
        return found

    def hash_tree(self, path: Path) -> tuple[HashInfo, list[tuple[str, Path, str, int]]] | None:
        """The HashInfo of a file or directory with the files it was computed from
        (``[]`` for a file), or None when it does not exist. Saving uses the files
        listed here, so what is stored is exactly what was hashed (one walk)."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise JupyterExpError(
                    f"'{path}' is a symlink loop; replace the link with a file or directory."
                ) from None
            raise
        if not os.path.isdir(path):
            return HashInfo(self.hash_file(path, st), st.st_size), []
        files = self.dir_files(path)
        manifest = manifest_bytes([(rel, md5) for rel, _, md5, _ in files])
        md5 = hashlib.md5(manifest, usedforsecurity=False).hexdigest() + ".dir"
        return HashInfo(md5, sum(size for *_, size in files), len(files)), files

    def hash_path(self, path: Path) -> HashInfo | None:
        """The HashInfo of a file or directory, or None when it does not exist."""
        found = self.hash_tree(path)
        return found[0] if found is not None else None

    def flush(self) -> None:
        if self.state is not None:
            self.state.flush()
