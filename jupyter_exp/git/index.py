"""A git index file, driven through git's plumbing: the work tree's own index or a
scratch one (``GIT_INDEX_FILE``) in which an experiment's tree is built without
touching the user's.

Paths handed to these methods are paths, never pathspec magic or globs
(``GIT_LITERAL_PATHSPECS``), and lists of them go through stdin, never the command line.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import Git

LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}  # a path is a path, never a glob or a :(magic)
PATHS_FROM_STDIN = ("--pathspec-from-file=-", "--pathspec-file-nul")


def _nul_list(paths: list[str]) -> bytes:
    return ("\0".join(paths) + "\0").encode()


class Index:
    """One index file of ``git``'s work tree (``path`` None: the work tree's own)."""

    def __init__(self, git: Git, path: Path | None = None) -> None:
        self.git = git
        self.path = path
        self._env = {"GIT_INDEX_FILE": str(path)} if path is not None else {}

    def _run(self, *args: str, input: bytes | None = None, check: bool = True, literal: bool = False) -> str:
        env = {**self._env, **LITERAL} if literal else self._env
        return self.git.run(*args, input=input, check=check, env=env or None)

    # -- reading ------------------------------------------------------------------------
    def entries(self) -> dict[str, str]:
        """The index as ``path -> "mode oid stage"`` (what :meth:`set_entries` takes back)."""
        out = self._run("ls-files", "--stage", "-z")
        entries = {}
        for record in filter(None, out.split("\0")):
            info, _, path = record.partition("\t")
            entries[path] = info
        return entries

    def unmerged(self) -> list[str]:
        """Paths with unresolved conflicts."""
        out = self._run("ls-files", "--unmerged", "-z")
        return list(dict.fromkeys(record.split("\t", 1)[1] for record in out.split("\0") if "\t" in record))

    def staged(self, rev: str) -> list[str]:
        """Paths whose staged content differs from ``rev``."""
        out = self._run("diff-index", "--cached", "--name-only", "--no-renames", "-z", rev)
        return [p for p in out.split("\0") if p]

    def not_ignored(self, paths: list[str]) -> list[str]:
        """Those of ``paths`` git does not ignore (whatever the index holds)."""
        if not paths:
            return []
        out = self._run("check-ignore", "--no-index", "--stdin", input="\n".join(paths).encode(), check=False)
        ignored = set(out.splitlines())
        return [p for p in paths if p not in ignored]

    def write_tree(self) -> str:
        """The tree id of the index (its trees written to the object store)."""
        return self._run("write-tree").strip()

    # -- changing -----------------------------------------------------------------------
    def read_tree(self, rev: str | None) -> None:
        """Load ``rev``'s tree into the index; None: empty it."""
        self._run("read-tree", *([rev] if rev else ["--empty"]))

    def add_tracked(self) -> None:
        """Stage the work tree's changes to tracked files (``add -u``)."""
        self._run("add", "-u")

    def add(self, paths: list[str]) -> None:
        """Stage ``paths`` as they are in the work tree."""
        if paths:
            self._run("add", "--", *paths)

    def set_blob(self, path: str, text: str) -> None:
        """Make ``path`` hold ``text`` (a regular file), whatever the work tree has."""
        oid = self.git.write_blob(text.encode())
        self._run("update-index", "--add", "--cacheinfo", f"100644,{oid},{path}")

    def set_entries(self, lines: list[str]) -> None:
        """Apply ``update-index --index-info`` lines (``mode oid\\tpath``; mode 0 removes)."""
        if lines:
            self._run("update-index", "--index-info", input="".join(f"{line}\n" for line in lines).encode())

    def checkout(self, rev: str, paths: list[str]) -> None:
        """Write ``paths`` as ``rev`` has them into the work tree and the index."""
        self._run("checkout", rev, *PATHS_FROM_STDIN, input=_nul_list(paths), literal=True)

    def reset(self, rev: str, paths: list[str]) -> None:
        """Give ``paths`` the index entries ``rev`` has (the work tree is left alone)."""
        self._run("reset", "-q", rev, *PATHS_FROM_STDIN, input=_nul_list(paths), literal=True)

    def forget(self, paths: list[str]) -> None:
        """Drop ``paths`` from the index (the work tree is left alone)."""
        self._run("rm", "--cached", "-q", "--ignore-unmatch", *PATHS_FROM_STDIN, input=_nul_list(paths), literal=True)

    def checkout_all(self) -> None:
        """Write every file of the index into the work tree, overwriting what is there."""
        self._run("checkout-index", "--all", "--force")
