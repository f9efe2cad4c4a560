"""The one module that runs git.

Commands go through :func:`Git.run`; blobs at a revision are read through one
persistent ``git cat-file --batch`` process per repository, so reading many files
costs one process, not one each. Git's own errors become one-line
:class:`GitError` messages here, at the boundary.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from .errors import JupyterExpError, NotAGitRepoError


class GitError(JupyterExpError):
    pass


def find_git_root(start: str | os.PathLike) -> Path:
    """Return the work-tree root that contains ``start``; raise NotAGitRepoError."""
    path = Path(start).resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    raise NotAGitRepoError(f"{path} is not inside a git repository; run `git init` first.")


class Git:
    """A git work tree, driven through the git command line."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._batch: subprocess.Popen | None = None
        self._batch_lock = threading.Lock()

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        """Run ``git args...`` in the work tree and return its stdout as text."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.root,
            input=input,
            capture_output=True,
        )
        if check and proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip().splitlines()
            detail = message[-1] if message else f"exit code {proc.returncode}"
            raise GitError(f"git {args[0]} failed: {detail}")
        return proc.stdout.decode(errors="replace")

    def add(self, paths: list[str]) -> None:
        if paths:
            self.run("add", "--", *paths)

    def rev_parse(self, rev: str) -> str | None:
        """The full SHA of ``rev``, or None when it does not name a commit."""
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return out.strip() or None

    def read_blob(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or None when it is not there."""
        with self._batch_lock:
            proc = self._batch_process()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{rev}:{path}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().decode().split()
            if len(header) < 3 or header[-1] == "missing" or header[1] != "blob":
                # "missing" answers have two words; a tree has no bytes to give.
                if len(header) == 3:
                    proc.stdout.read(int(header[2]) + 1)
                return None
            size = int(header[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)
            return data

    def _batch_process(self) -> subprocess.Popen:
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._batch

    def close(self) -> None:
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait()
            self._batch = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass
