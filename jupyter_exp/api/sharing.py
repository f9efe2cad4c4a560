"""Sharing experiments: push them (with their cached data) to remotes, pull them back."""

from __future__ import annotations

from . import as_list, project_at

__all__ = ["pull", "push"]


def push(
    git_remote: str,
    names: list[str] | str | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    force: bool = False,
    no_cache: bool = False,
    dvc_remote: str | None = None,
    jobs: int | None = None,
    root: str | None = None,
) -> list[str]:
    """Push experiments to a git remote and every cache object they need (``.dvc`` data,
    the outputs of every ``dvc.lock``) to the DVC remote, as ``dvc exp push`` does, and
    their notes and tags (those of the experiments pushed, on top of the remote's notes;
    no other note leaves the clone)."""
    from ..experiments.share import push as _push

    return _push(
        project_at(root),
        git_remote,
        as_list(names),
        all_commits=all_commits,
        revs=revs,
        num=num,
        force=force,
        no_cache=no_cache,
        dvc_remote=dvc_remote,
        jobs=jobs,
    )


def pull(
    git_remote: str,
    names: list[str] | str | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    force: bool = False,
    no_cache: bool = False,
    dvc_remote: str | None = None,
    jobs: int | None = None,
    root: str | None = None,
) -> list[str]:
    """Fetch experiments from a git remote and every cache object they need from the DVC
    remote, as ``dvc exp pull`` does."""
    from ..experiments.share import pull as _pull

    return _pull(
        project_at(root),
        git_remote,
        as_list(names),
        all_commits=all_commits,
        revs=revs,
        num=num,
        force=force,
        no_cache=no_cache,
        dvc_remote=dvc_remote,
        jobs=jobs,
    )
