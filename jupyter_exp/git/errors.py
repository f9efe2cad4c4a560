"""git's failures as one-line errors that name the fix: the boundary where git's own
words become ours (the raw text stays on the error for callers that classify it)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import JupyterExpError


class GitError(JupyterExpError):
    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr  # git's own words, for callers that classify the failure


class RemoteUnavailableError(GitError):
    """A git remote that does not exist, cannot be read, or did not answer in time."""


def repository_problem(stderr: str, root: Path) -> str | None:
    """One line when git refuses the repository itself (not the command), else None."""
    found = re.search(r"detected dubious ownership in repository at '([^']*)'", stderr)
    if found:
        where = found.group(1)
        return (
            f"git refuses the repository at {where}: it belongs to another user; if you trust it, "
            f"run `git config --global --add safe.directory {where}`."
        )
    found = re.search(r"fatal: not a git repository: (.+)", stderr)
    if found:
        return (
            f"{root}/.git names {found.group(1).strip()}, which is not a git repository; "
            f"fix the path in {root}/.git or remove that file."
        )
    if "invalid gitfile format" in stderr:
        return f"{root}/.git is not a git directory nor a valid gitfile; fix or remove it."
    return None


def explain(args: tuple[str, ...], stderr: str, root: Path | None = None) -> str:
    """One line for a failed git command, naming the fix where we know it."""
    if "Please tell me who you are" in stderr or "empty ident name" in stderr:
        return "git needs your identity; run `git config user.name NAME` and `git config user.email EMAIL`."
    problem = repository_problem(stderr, root or Path("."))
    if problem:
        return problem
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    detail = lines[-1] if lines else "no message"
    for line in lines:
        if line.startswith(("fatal:", "error:", " ! [rejected]", " ! [remote rejected]")):
            detail = line.strip()
            break
    return f"git {args[0]} failed: {detail}"
