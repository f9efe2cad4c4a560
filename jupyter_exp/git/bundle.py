"""The ``git bundle`` commands of :class:`~jupyter_exp.git.Git` (a mixin), and the few
queries a remote task needs to decide what a bundle must carry: how a queued snapshot
travels to a Dask worker that has no view of the project, and how the experiment
commit travels back.

A bundle is written to and read from a file (git reads a bundle's prerequisites from
its header before it unpacks anything, so a worker missing them gets a clear error
rather than a half-written pack).
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False


class BundleCommands:
    """``git bundle`` create/unbundle and the reachability checks around them."""

    if TYPE_CHECKING:
        root: Path

        def run(
            self, *args: str, input: bytes | None = None, check: bool = True, env: dict[str, str] | None = None
        ) -> str: ...

    def bundle_create(self, path: Path, refs: list[str], exclude: list[str]) -> None:
        """Write a bundle of the commits reachable from ``refs`` (full ref names: a bundle
        names its tips) and not from ``exclude`` (the receiver's prerequisites) to ``path``.

        Raises:
            GitError: a ref does not exist, or nothing is left to bundle.
        """
        excluded = [f"^{rev}" for rev in exclude]
        self.run("bundle", "create", "-q", str(path), *refs, *excluded)

    def bundle_unbundle(self, path: Path) -> dict[str, str]:
        """Store the objects of the bundle at ``path`` (no ref is written); return its
        tips as ``{ref: commit}``.

        Raises:
            GitError: not a bundle, or a prerequisite commit is missing here.
        """
        out = self.run("bundle", "unbundle", str(path))
        tips: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            if sha and ref:
                tips[ref] = sha
        return tips

    def reachable_from_remotes(self, rev: str) -> bool:
        """Whether commit ``rev`` is known here and reachable from a remote-tracking ref
        (so a clone or fetch of that remote has it)."""
        if (
            not rev
            or rev.startswith("-")
            or not self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False).strip()
        ):
            return False
        return not self.run("rev-list", "-n", "1", rev, "--not", "--remotes", "--", check=False).strip()

    def init_bare(self) -> None:
        """Make this (empty) directory a bare repository that never collects garbage
        (what it holds is kept alive by nothing but the tasks that use it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.run("init", "-q", "--bare", "--template=", str(self.root))
        self.run("config", "gc.auto", "0")

    def remote_url(self, name: str) -> str | None:
        """The fetch URL of git remote ``name``, or None when there is no such remote."""
        if not name or name.startswith("-"):
            return None
        return self.run("remote", "get-url", "--", name, check=False).strip() or None

    def committer_identity(self) -> tuple[str, str]:
        """The name and email commits made here get (``git var GIT_COMMITTER_IDENT``).

        Raises:
            GitError: no identity is configured.
        """
        ident = self.run("var", "GIT_COMMITTER_IDENT").strip()
        name, _, rest = ident.partition(" <")
        return name, rest.partition(">")[0]
