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


def _explain(args: tuple[str, ...], stderr: str) -> str:
    """One line for a failed git command, naming the fix where we know it."""
    if "Please tell me who you are" in stderr or "empty ident name" in stderr:
        return "git needs your identity; run `git config user.name NAME` and `git config user.email EMAIL`."
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    detail = lines[-1] if lines else "no message"
    for line in lines:
        if line.startswith(("fatal:", "error:", " ! [rejected]", " ! [remote rejected]")):
            detail = line.strip()
            break
    return f"git {args[0]} failed: {detail}"


def find_git_root(start: str | os.PathLike) -> Path:
    """Return the work-tree root that contains ``start``; raise NotAGitRepoError."""
    path = Path(start).resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    raise NotAGitRepoError(f"{path} is not inside a git repository; run `git init` first.")


class Git:
    """A git work tree, driven through the git command line."""

    def __init__(self, root: str | os.PathLike, env: dict[str, str] | None = None) -> None:
        """``env`` (e.g. GIT_DIR and GIT_WORK_TREE) is given to every git command: a
        temporary run directory is a work tree of the project's repository this way."""
        self.root = Path(root)
        self.env = dict(env or {})
        self._batch: subprocess.Popen | None = None
        self._batch_lock = threading.Lock()

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> str:
        """Run ``git args...`` in the work tree and return its stdout as text."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.root,
            input=input,
            capture_output=True,
            env={**os.environ, **self.env, **(env or {})} if (env or self.env) else None,
        )
        if check and proc.returncode != 0:
            raise GitError(_explain(args, proc.stderr.decode(errors="replace")))
        return proc.stdout.decode(errors="replace")

    def untracked_files(self) -> list[str]:
        """Files in the work tree that git neither tracks nor ignores."""
        out = self.run("ls-files", "--others", "--exclude-standard", "-z")
        return [p for p in out.split("\0") if p]

    def head(self) -> str | None:
        """The commit HEAD points at, or None in a repository without commits."""
        return self.rev_parse("HEAD")

    def current_branch(self) -> str | None:
        out = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
        return out or None

    def for_each_ref(self, prefix: str, fields: list[str]) -> list[list[str]]:
        """One row of the given ``%(field)`` values per ref under ``prefix``."""
        fmt = "%00".join(f"%({f})" for f in fields)
        out = self.run("for-each-ref", f"--format={fmt}", prefix)
        return [line.split("\0") for line in out.splitlines() if line]

    def refs_stamp(self, prefixes: tuple[str, ...] = ("refs/exps", "refs/heads", "refs/jupyter-exp")) -> tuple:
        """A cheap fingerprint of the refs under ``prefixes`` and of HEAD, from file
        stats alone (no git process): it changes whenever one of them is written.

        A loose ref is written by a rename, which changes its directory's mtime; packed
        refs live in one file (rewritten, so its inode changes, when one is removed);
        HEAD's reflog grows on every commit and checkout. In a linked work tree HEAD is
        its own but the refs and packed-refs are in the common git directory.
        """
        git_dir = self.root / ".git"
        if git_dir.is_file():  # a linked work tree: "gitdir: <path>"
            git_dir = Path(git_dir.read_text().split(":", 1)[1].strip())
            if not git_dir.is_absolute():
                git_dir = self.root / git_dir
        common = git_dir
        try:  # what `git rev-parse --git-common-dir` reads, without a process
            common = Path(os.path.normpath(git_dir / (git_dir / "commondir").read_text().strip()))
        except OSError:
            pass
        stamp = []
        for folder, name in ((git_dir, "HEAD"), (git_dir, "logs/HEAD"), (common, "packed-refs")):
            try:
                st = os.stat(folder / name)
                stamp.append((name, st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                pass
        for prefix in prefixes:
            for folder, dirs, _files in os.walk(common / prefix):
                try:
                    stamp.append((folder, os.stat(folder).st_mtime_ns))
                except FileNotFoundError:
                    pass
        return tuple(stamp)

    def update_refs(self, commands: list[str]) -> None:
        """Apply ``update-ref --stdin`` commands (create/update/delete) atomically."""
        if commands:
            self.run("update-ref", "--stdin", input=("\n".join(commands) + "\n").encode())

    def commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, "-m", message).strip()

    def add(self, paths: list[str]) -> None:
        if paths:
            self.run("add", "--", *paths)

    def rev_parse(self, rev: str) -> str | None:
        """The full SHA of ``rev``, or None when it does not name a commit."""
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return out.strip() or None

    def read_blob(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or None when it is not there."""
        found = self.read_object(f"{rev}:{path}")
        return found[2] if found and found[1] == "blob" else None

    def read_object(self, spec: str) -> tuple[str, str, bytes] | None:
        """``(oid, type, bytes)`` of the object ``spec`` names, or None if missing."""
        with self._batch_lock:
            proc = self._batch_process()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{spec}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().decode().split()
            if len(header) != 3:  # "<spec> missing" / "ambiguous"
                return None
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            return header[0], header[1], data

    def read_objects(self, specs: list[str]) -> list[tuple[str, str, bytes] | None]:
        """Many ``read_object`` answers in one pipelined exchange with the batch process.

        A writer thread feeds the requests while this thread reads the answers, so
        neither side can block the other on a full pipe.
        """
        if not specs:
            return []
        with self._batch_lock:
            proc = self._batch_process()
            assert proc.stdin is not None and proc.stdout is not None
            payload = "".join(f"{spec}\n" for spec in specs).encode()

            def feed() -> None:
                proc.stdin.write(payload)  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            answers: list[tuple[str, str, bytes] | None] = []
            for _ in specs:
                header = proc.stdout.readline().decode().split()
                if len(header) != 3:
                    answers.append(None)
                    continue
                data = proc.stdout.read(int(header[2]))
                proc.stdout.read(1)
                answers.append((header[0], header[1], data))
            writer.join()
            return answers

    def _batch_process(self) -> subprocess.Popen:
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                env={**os.environ, **self.env} if self.env else None,
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
