"""The ``git notes`` commands of :class:`~jupyter_exp.git.Git`: a mixin, so the notes
plumbing lives in one place without growing the class's own module.

Each command names its notes ref (``--ref``) and takes the annotated commit after
``--``, so a revision can never be read as an option.
"""

from __future__ import annotations

TYPE_CHECKING = False


class NotesCommands:
    """``git notes`` add, remove and merge, run through :meth:`Git.run`."""

    if TYPE_CHECKING:

        def run(
            self, *args: str, input: bytes | None = None, check: bool = True, env: dict[str, str] | None = None
        ) -> str: ...

    def notes_add(self, ref: str, rev: str, message: bytes) -> None:
        """Store ``message`` as the note on commit ``rev`` under the notes ref ``ref``,
        replacing the one it has (``git notes add -f -F -``).

        Raises:
            GitError: git could not write the note (no identity, a read-only repository).
        """
        self.run("notes", f"--ref={ref}", "add", "-f", "-F", "-", "--", rev, input=message)

    def notes_remove(self, ref: str, rev: str) -> None:
        """Drop the note on commit ``rev`` under the notes ref ``ref`` (none there: nothing
        happens).

        Raises:
            GitError: git could not rewrite the notes ref.
        """
        self.run("notes", f"--ref={ref}", "remove", "--ignore-missing", "--", rev)

    def notes_merge(self, ref: str, other: str, strategy: str) -> None:
        """Merge the notes history ``other`` (a ref) into ``ref``, resolving a note changed
        on both sides by ``strategy`` (``ours``, ``theirs``, ``union``, ``cat_sort_uniq``).

        Raises:
            GitError: git could not merge (``other`` is no notes history, say).
        """
        self.run("notes", f"--ref={ref}", "merge", "-q", "-s", strategy, other)

    def notes_list(self, ref: str) -> dict[str, str]:
        """Annotated commit -> note blob of every note under the notes ref ``ref`` (a
        fanned-out tree too), in one process; {} when ``ref`` does not exist."""
        out = self.run("notes", f"--ref={ref}", "list", check=False)
        return {obj: blob for blob, obj in (line.split() for line in out.splitlines() if line.count(" ") == 1)}

    def notes_commit(self, ref: str, parent: str | None, changes: dict[str, str | None], message: str) -> str:
        """Write a notes commit on ``parent`` (None: a first one) to ``ref``: each
        annotated commit in ``changes`` gets the note blob given, or none (None). One
        ``git fast-import``, which lays the tree out as git notes does (fanned out when
        large). Returns the commit.

        Raises:
            GitError: git could not write it (no identity, a blob or parent missing).
        """
        ident = self.run("var", "GIT_COMMITTER_IDENT").strip()
        text = message.encode()
        lines = [f"commit {ref}".encode(), f"committer {ident}".encode(), f"data {len(text)}".encode(), text]
        if parent is not None:
            lines.append(f"from {parent}".encode())
        lines += [f"N {blob or '0' * 40} {commit}".encode() for commit, blob in changes.items()]
        self.run("fast-import", "--quiet", "--force", input=b"\n".join(lines) + b"\n\n")
        return self.run("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}").strip()
