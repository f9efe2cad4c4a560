"""The one package that runs git: :class:`Git`, one typed method per git command the
engine uses, over :meth:`Git.run`.

Blobs at a revision are read through one persistent ``git cat-file --batch`` process
per repository (:mod:`.objects`), so reading many files costs one process, not one
each. Git's own errors become one-line :class:`GitError` messages at this boundary
(:mod:`.errors`).

User-supplied names never reach git as options: remotes and revisions that start
with ``-`` are refused (:func:`check_remote`, :meth:`Git.rev_parse`) and come after
``--`` (or ``--end-of-options``). Commands that talk to a remote run through
:meth:`Git.run_network` (:mod:`.network`): no prompt and a timeout, so a kernel never
waits for a password nobody can type.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from ..errors import NotAGitRepoError
from ..refs import EXPS_NAMESPACE, HEADS, OWN_NAMESPACE
from .bundle import BundleCommands
from .errors import GitError, RemoteUnavailableError, explain, repository_problem
from .index import Index
from .loose import common_dir, folders_stamp, git_dir_of, loose_refs
from .network import check_remote, network_env, run_network, stop_process_group
from .notes import NotesCommands
from .objects import Found, ObjectReader

__all__ = [
    "Git",
    "GitError",
    "Index",
    "RemoteUnavailableError",
    "check_remote",
    "find_git_root",
    "network_env",
    "ref_delete",
    "ref_update",
]

# A ref lock file older than this is left by a killed process: git holds a ref lock for
# the milliseconds of one transaction, never for a minute.
STALE_LOCK_SECONDS = 60.0


def ref_update(ref: str, new: str, old: str) -> str:
    """A :meth:`Git.update_refs` command: point ``ref`` at ``new`` if it points at ``old``
    now (all zeros: if it does not exist)."""
    return f"update {ref} {new} {old}"


def ref_delete(ref: str, old: str | None = None) -> str:
    """A :meth:`Git.update_refs` command: delete ``ref`` (if it points at ``old``, when given)."""
    return f"delete {ref}" + (f" {old}" if old else "")


def find_git_root(start: str | os.PathLike) -> Path:
    """Return the work-tree root that contains ``start``; raise NotAGitRepoError."""
    path = Path(start).resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    raise NotAGitRepoError(f"{path} is not inside a git repository; run `git init` first.")


def git_version() -> str | None:
    """The installed git's version (``2.39.5``), None when git cannot be run."""
    try:
        out = subprocess.run(["git", "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().removeprefix("git version ") or None


class Git(NotesCommands, BundleCommands):
    """A git work tree, driven through the git command line (``git notes`` commands:
    :class:`.notes.NotesCommands`)."""

    def __init__(self, root: str | os.PathLike, env: dict[str, str] | None = None) -> None:
        """``env`` (e.g. GIT_DIR and GIT_WORK_TREE) is given to every git command: a
        temporary run directory is a work tree of the project's repository this way."""
        self.root = Path(root)
        self.env = dict(env or {})
        self._objects = ObjectReader(self.root, self.env)

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
        stderr = proc.stderr.decode(errors="replace")
        # A repository git refuses (another owner, a .git file naming nothing) is an error
        # even where the caller reads a failure as "no" (rev_parse -> "no commits").
        if proc.returncode == 128 and not check and repository_problem(stderr, self.root):
            check = True
        if check and proc.returncode != 0:
            raise GitError(explain(args, stderr, self.root), stderr)
        return proc.stdout.decode(errors="replace")

    def run_network(self, verb: str, remote: str, *args: str, options: tuple[str, ...] = ()) -> str:
        """Run ``git VERB OPTIONS -- REMOTE ARGS...`` (push, fetch, ls-remote) without
        prompts and with a timeout; return its stdout (see :func:`.network.run_network`)."""
        return run_network(self, verb, remote, *args, options=options)

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

    def for_each_ref(self, prefix: str | tuple[str, ...], fields: list[str]) -> list[list[str]]:
        """One row of the given ``%(field)`` values per ref under ``prefix`` (or each of
        several prefixes)."""
        fmt = "%00".join(f"%({f})" for f in fields)
        out = self.run("for-each-ref", f"--format={fmt}", *((prefix,) if isinstance(prefix, str) else prefix))
        return [line.split("\0") for line in out.splitlines() if line]

    def refs_stamp(
        self, prefixes: tuple[str, ...] = (EXPS_NAMESPACE, HEADS, OWN_NAMESPACE)
    ) -> tuple[tuple[str | int, ...], ...]:
        """A cheap fingerprint of the refs under ``prefixes`` and of HEAD, from file
        stats alone (no git process): it changes whenever one of them is written.

        A loose ref is written by a rename, which changes its directory's mtime; packed
        refs live in one file (rewritten, so its inode changes, when one is removed);
        HEAD's reflog grows on every commit and checkout. In a linked work tree HEAD is
        its own but the refs and packed-refs are in the common git directory.
        """
        git_dir = git_dir_of(self.root)
        common = common_dir(self.root)
        stamp: list[tuple[str | int, ...]] = []
        for folder, name in ((git_dir, "HEAD"), (git_dir, "logs/HEAD"), (common, "packed-refs")):
            try:
                st = os.stat(folder / name)
                stamp.append((name, st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                pass
        for prefix in prefixes:
            for directory, _dirs, _files in os.walk(common / prefix):
                try:
                    stamp.append((directory, os.stat(directory).st_mtime_ns))
                except FileNotFoundError:
                    pass
        return tuple(stamp)

    def loose_refs(self, prefix: str) -> dict[str, int]:
        """Every loose ref under ``prefix`` with its file's inode (:func:`.loose.loose_refs`)."""
        return loose_refs(self.root, prefix)

    def folders_stamp(self, prefixes: tuple[str, ...]) -> tuple:
        """The mtimes of the ref folders under ``prefixes`` (:func:`.loose.folders_stamp`)."""
        return folders_stamp(self.root, prefixes)

    def update_refs(self, commands: list[str]) -> None:
        """Apply ``update-ref --stdin`` commands (create/update/delete) in one transaction.

        git locks every ref first (a ``<ref>.lock`` file each) and removes its locks on
        SIGINT or SIGTERM, not on SIGKILL. So git runs in a session of its own (a
        terminal's Ctrl-C reaches us, not it), and when we are interrupted it gets
        SIGTERM, never the SIGKILL ``subprocess.run`` would send: no lock file is left.
        """
        if not commands:
            return
        payload = ("start\n" + "\n".join(commands) + "\nprepare\ncommit\n").encode()
        proc = subprocess.Popen(
            ["git", "update-ref", "--stdin"],
            cwd=self.root,
            env={**os.environ, **self.env} if self.env else None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _out, err = proc.communicate(payload)
        except BaseException:
            stop_process_group(proc)
            raise
        if proc.returncode != 0:
            stderr = err.decode(errors="replace")
            locked = re.search(r"Unable to create '([^']+\.lock)': File exists", stderr)
            if locked:
                raise GitError(
                    f"A ref is locked ({locked.group(1)}): another git command is running, or one was "
                    f"killed; if none is running, delete that file and retry.",
                    stderr,
                )
            raise GitError(explain(("update-ref",), stderr, self.root), stderr)

    def common_dir(self) -> Path:
        """The directory that holds the refs (the main ``.git`` of a linked work tree)."""
        out = self.run("rev-parse", "--git-common-dir").strip()
        path = Path(out)
        return path if path.is_absolute() else (self.root / path).resolve()

    def git_dir(self) -> Path:
        """This work tree's own git directory (``.git``, or ``.git/worktrees/<name>``)."""
        return Path(self.run("rev-parse", "--absolute-git-dir").strip())

    def clear_stale_ref_locks(self, prefix: str, older_than: float = STALE_LOCK_SECONDS) -> list[str]:
        """Delete ``*.lock`` files under ``<common dir>/<prefix>`` older than ``older_than``
        seconds, which a killed git left behind; return their ref names.

        As git itself, we never take a young lock for a stale one: a live transaction
        holds its locks for milliseconds, so a lock a minute old has no owner.
        """
        top = self.common_dir() / prefix
        now = time.time()
        cleared = []
        for folder, _dirs, files in os.walk(top):
            for name in files:
                if not name.endswith(".lock"):
                    continue
                path = Path(folder) / name
                try:
                    if now - path.lstat().st_mtime < older_than:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
                cleared.append(path.relative_to(top.parents[prefix.count("/")]).as_posix()[: -len(".lock")])
        return cleared

    # -- typed queries and updates: one method per git command the engine runs ----------
    @classmethod
    def init_borrowing(cls, root: Path, objects: Path) -> Git:
        """A new repository at ``root`` (no hooks copied) that reads the object store
        ``objects`` through ``objects/info/alternates`` and writes its own objects there
        too (``GIT_OBJECT_DIRECTORY``): nothing is copied, and what is committed in it
        is in the other repository at once. It never collects garbage: it cannot see
        what the other repository's refs keep alive."""
        cls(root).run("init", "-q", "--template=", str(root))
        git_dir = root / ".git"
        (git_dir / "objects" / "info").mkdir(parents=True, exist_ok=True)
        (git_dir / "objects" / "info" / "alternates").write_text(f"{objects}\n")
        config = git_dir / "config"
        config.write_text(config.read_text() + "[gc]\n\tauto = 0\n\tpruneExpire = never\n")
        return cls(
            root, env={"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(root), "GIT_OBJECT_DIRECTORY": str(objects)}
        )

    def index(self, path: Path | None = None) -> Index:
        """The work tree's index, or the scratch index file at ``path``."""
        return Index(self, path)

    def check_identity(self) -> None:
        """Raise GitError (one line naming the fix) when commits would have no author."""
        self.run("var", "GIT_AUTHOR_IDENT")
        self.run("var", "GIT_COMMITTER_IDENT")

    def valid_branch_name(self, name: str) -> bool:
        """Whether ``git check-ref-format --branch`` takes ``name``."""
        return self.run("check-ref-format", "--branch", name, check=False).strip() != ""

    def remotes(self) -> list[str]:
        """The names of the configured git remotes."""
        return self.run("remote").split()

    def ignored_paths(self) -> list[str]:
        """Work-tree paths git ignores; a wholly ignored directory once, with a ``/``."""
        out = self.run("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory", check=False)
        return [p for p in out.split("\0") if p]

    def rev_list(
        self,
        *revs: str,
        not_from: tuple[str, ...] | list[str] = (),
        first_parent: bool = False,
        limit: int | None = None,
        branches: bool = False,
        tags: bool = False,
        remotes: bool = False,
        all_refs_but: tuple[str, ...] | None = None,
        no_walk: bool = False,
        check: bool = True,
    ) -> list[str]:
        """Commits reachable from ``revs`` (and every branch, every tag, every remote
        branch, or every ref but those matching the ``all_refs_but`` globs) and not from
        ``not_from``, newest first; only along first parents with ``first_parent``, at
        most ``limit`` of them; with ``no_walk``, only the named tips themselves."""
        args = ["rev-list", *(["--no-walk"] if no_walk else []), *(["--first-parent"] if first_parent else [])]
        args += [f"--max-count={limit}"] if limit is not None else []
        if all_refs_but is not None:
            args += [*(f"--exclude={glob}" for glob in all_refs_but), "--all"]
        args += [*(["--branches"] if branches else []), *(["--tags"] if tags else [])]
        args += [*(["--remotes"] if remotes else []), *revs]
        args += ["--not", *not_from] if not_from else []
        return self.run(*args, check=check).split()

    def commits(self, revs: list[str], not_from: list[str] | None = None) -> list[tuple[str, int, list[str]]]:
        """``(sha, committer time, parents)`` of ``revs`` themselves (``not_from`` None),
        or of every commit reachable from them and not from ``not_from``."""
        walk = ["--no-walk=unsorted"] if not_from is None else []
        out = self.run("log", *walk, "--format=%H %ct %P", *revs, *(["--not", *not_from] if not_from else []))
        return [(parts[0], int(parts[1]), parts[2:]) for parts in (line.split() for line in out.splitlines())]

    def commit_messages(self, revs: list[str]) -> list[tuple[str, str]]:
        """``(sha, message)`` of each of ``revs`` that names a commit, in their order,
        read through the batch process (no new process: a table following a running
        experiment asks for each commit it makes). Other revisions are left out."""
        found = []
        for obj in self.read_objects(revs):
            if obj is not None and obj[1] == "commit":
                # A commit object is its headers, a blank line, then the message as written.
                found.append((obj[0], obj[2].decode("utf-8", "replace").partition("\n\n")[2]))
        return found

    def parents(self, rev: str) -> list[str]:
        """The parents of commit ``rev``, first parent first; [] when git does not know it."""
        return self.run("rev-list", "--no-walk", "--parents", rev, check=False).split()[1:]

    def reflog(self, ref: str) -> list[str]:
        """The commits in ``ref``'s reflog, newest first; [] when it has none."""
        return self.run("reflog", "show", "--format=%H", ref, "--", check=False).split()

    def diff_tree(self, old: str, new: str, diff_filter: str = "AMT") -> list[tuple[str, str, str]]:
        """``(mode, oid, path)`` in ``new`` of the files that differ from ``old``, of the
        kinds in ``diff_filter`` (A added, M modified, T type changed; no renames)."""
        raw = self.run("diff-tree", "-r", "-z", "--no-renames", f"--diff-filter={diff_filter}", old, new)
        fields = raw.split("\0")
        return [(meta.split()[1], meta.split()[3], path) for meta, path in zip(fields[0::2], fields[1::2]) if meta]

    def has_tracked_changes(self) -> bool:
        """Whether a tracked file differs from HEAD in the index or the workspace."""
        return bool(self.run("status", "--porcelain", "--untracked-files=no").strip())

    def tree_entries(self, rev: str) -> list[tuple[str, str, str, str]]:
        """``(mode, type, oid, path)`` of every file in ``rev``'s whole tree."""
        listing = self.run("ls-tree", "-r", "-z", "--full-tree", rev)
        found = []
        for line in filter(None, listing.split("\0")):
            meta, _, path = line.partition("\t")
            mode, kind, oid = meta.split(" ")
            found.append((mode, kind, oid, path))
        return found

    def top_tree_lines(self, rev: str) -> dict[str, str]:
        """The entries of ``rev``'s top folder as ``ls-tree`` lines (``mode type oid\tname``),
        by name: what :meth:`make_tree` takes back."""
        listing = self.run("ls-tree", "-z", rev)
        return {line.split("\t", 1)[1]: line for line in listing.split("\0") if "\t" in line}

    def make_tree(self, lines: list[str]) -> str:
        """A tree object of ``ls-tree`` lines (one folder's entries); returns its id."""
        return self.run("mktree", "-z", input="".join(f"{line}\0" for line in lines).encode()).strip()

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` as a blob object; returns its id."""
        return self.run("hash-object", "-w", "--stdin", input=data).strip()

    def sized_tree_entries(
        self, rev: str, paths: tuple[str, ...] = (), recursive: bool = True
    ) -> list[tuple[str, str, str, str, str]]:
        """``(mode, type, oid, size, path)`` of the entries of ``rev``'s whole tree (of
        those named ``paths``, when given), each file in every folder with ``recursive``;
        ``size`` is ``-`` for what is not a blob. A size comes from the tree listing:
        nothing is read to learn it."""
        listing = self.run(
            "ls-tree",
            *(["-r"] if recursive else []),
            "-l",
            "-z",
            "--full-tree",
            rev,
            *(["--", *paths] if paths else []),
        )
        found = []
        for line in filter(None, listing.split("\0")):
            meta, _, path = line.partition("\t")
            parts = meta.split()  # the size is padded with spaces
            if len(parts) == 4:
                found.append((parts[0], parts[1], parts[2], parts[3], path))
        return found

    def push(self, remote: str, refspecs: list[str]) -> None:
        """``git push REMOTE REFSPECS`` (a network call)."""
        self.run_network("push", remote, *refspecs)

    def fetch(self, remote: str, revs: list[str]) -> None:
        """Fetch ``revs`` (commits, or refspecs such as ``+SRC:DST``, which write DST) from
        ``remote`` without writing FETCH_HEAD or tags (a network call)."""
        self.run_network("fetch", remote, *revs, options=("--no-write-fetch-head", "--no-tags"))

    def ls_tree(self, rev: str, check: bool = True) -> list[str]:
        """Every file path in ``rev``'s tree; not ``check``: [] for a revision git does not know."""
        return [n for n in self.run("ls-tree", "-r", "-z", "--name-only", rev, check=check).split("\0") if n]

    def ls_files(self, *patterns: str, untracked: bool = True, check: bool = True) -> list[str]:
        """Work-tree paths git knows (the index) plus, when ``untracked``, those it does
        not ignore, limited to the pathspec ``patterns`` (``"*.dvc"``) when given."""
        args = ["ls-files", "-z", "--cached"] + (["--others", "--exclude-standard"] if untracked else [])
        out = self.run(*args, "--", *patterns, check=check)
        return [n for n in out.split("\0") if n]

    def diff_index(self, rev: str, cached: bool = True) -> list[str]:
        """Paths whose index (``cached``) or work-tree content differs from ``rev``."""
        out = self.run("diff-index", *(["--cached"] * cached), "--name-only", "--no-renames", "-z", rev)
        return [n for n in out.split("\0") if n]

    def tree_of(self, rev: str) -> str:
        """The tree id of commit ``rev``."""
        return self.run("rev-parse", f"{rev}^{{tree}}").strip()

    def git_path(self, name: str) -> Path:
        """Where git keeps ``name`` (``index``, ``objects``) for this work tree."""
        path = Path(self.run("rev-parse", "--git-path", name).strip())
        return path if path.is_absolute() else self.root / path

    def first_parent_chain(self, tip: str, *exclude: str) -> list[str]:
        """Commits from ``tip`` down its first parents, newest first, stopping at ``exclude``."""
        return self.run("rev-list", "--first-parent", tip, *(["--not", *exclude] if exclude else [])).split()

    def update_ref(
        self, ref: str, new: str, old: str | None = None, message: str | None = None, no_deref: bool = False
    ) -> None:
        """Point ``ref`` at ``new``; when ``old`` is given (all zeros: must not exist), only
        if it points there now (a compare-and-swap)."""
        args = ["update-ref"] + (["-m", message] if message else []) + (["--no-deref"] if no_deref else [])
        self.run(*args, ref, new, *([old] if old is not None else []))

    def delete_ref(self, ref: str, check: bool = True) -> None:
        """Delete ``ref`` (``update-ref -d``); not ``check``: whether it existed or not."""
        self.run("update-ref", "-d", ref, check=check)

    def ls_remote(self, remote: str, pattern: str) -> list[tuple[str, str]]:
        """``(sha, ref)`` of the refs matching ``pattern`` on ``remote`` (a network call)."""
        lines = self.run_network("ls-remote", remote, pattern).splitlines()
        return [(sha, ref) for sha, _, ref in (line.partition("\t") for line in lines) if ref]

    def commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, "-m", message).strip()

    def add(self, paths: list[str]) -> None:
        if paths:
            self.run("add", "--", *paths)

    def rev_parse(self, rev: str) -> str | None:
        """The full SHA of ``rev``, or None when it does not name a commit (or looks like
        an option: a revision never starts with ``-``)."""
        if not rev or rev.startswith("-") or "\n" in rev:
            return None
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
        return out.strip() or None

    def read_blob(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or None when it is not there."""
        found = self._objects.read_object(f"{rev}:{path}")
        return found[2] if found and found[1] == "blob" else None

    def read_object(self, spec: str) -> Found | None:
        """``(oid, type, bytes)`` of the object ``spec`` names, or None if missing."""
        return self._objects.read_object(spec)

    def read_objects(self, specs: list[str]) -> list[Found | None]:
        """Many :meth:`read_object` answers in one pipelined exchange."""
        return self._objects.read_objects(specs)

    def close(self) -> None:
        """Stop the batch process (a later read starts it again)."""
        self._objects.close()
