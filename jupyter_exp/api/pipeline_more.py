"""More pipeline verbs: ``commit``, ``freeze`` / ``unfreeze``, removing stages and ``.dvc``
files, the data ``diff`` between revisions, and the import stages of a project."""

from __future__ import annotations

from . import as_list, project_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..pipeline.results import ImportSource

__all__ = ["commit", "data_diff", "freeze", "imports", "remove_stages", "unfreeze"]


def commit(
    targets: list[str] | str | None = None,
    *,
    force: bool = False,
    with_deps: bool = False,
    recursive: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[str]:
    """Record the workspace's outputs and tracked data in ``dvc.lock`` / ``.dvc`` files and
    the cache without running anything (``dvc commit``); return what was recorded.

    ``targets``: stages, ``.dvc`` files or tracked paths (all when None); ``with_deps``
    adds the stages they depend on; ``recursive`` lets a directory stand for the stages
    inside it. A stage that changed since it was recorded needs ``force``.

    Raises:
        CommitError: a changed stage without ``force``, or missing data (nothing written).
        UnknownStageError, PathError, YAMLFileError: bad targets or files.
    """
    from ..pipeline.commit import commit as _commit

    return _commit(project_at(root), as_list(targets), force=force, with_deps=with_deps, recursive=recursive, echo=echo)


def freeze(
    targets: list[str] | str, *, root: str | None = None, echo: Callable[[str], None] | None = None
) -> list[str]:
    """Mark stages (or ``.dvc`` files) ``frozen: true`` so ``repro`` skips them
    (``dvc freeze``); return the stages changed.

    Raises:
        UnknownStageError, PathError, PipelineError, YAMLFileError: nothing changed.
    """
    from ..pipeline.freeze import set_frozen

    return set_frozen(project_at(root), as_list(targets) or [], True, echo)


def unfreeze(
    targets: list[str] | str, *, root: str | None = None, echo: Callable[[str], None] | None = None
) -> list[str]:
    """Drop ``frozen`` from stages (or ``.dvc`` files) (``dvc unfreeze``); return them.

    Raises:
        UnknownStageError, PathError, PipelineError, YAMLFileError: nothing changed.
    """
    from ..pipeline.freeze import set_frozen

    return set_frozen(project_at(root), as_list(targets) or [], False, echo)


def remove_stages(targets: list[str] | str, *, outs: bool = False, root: str | None = None) -> list[str]:
    """Remove stages from ``dvc.yaml``/``dvc.lock`` or delete ``.dvc`` files, with their
    ``.gitignore`` entries (``dvc remove``); ``outs`` deletes their outputs too.

    Raises:
        UnknownStageError, PathError, PipelineError, YAMLFileError: nothing changed.
    """
    from ..pipeline.remove import remove

    return remove(project_at(root), as_list(targets) or [], outs=outs)


def data_diff(
    a_rev: str = "HEAD",
    b_rev: str | None = None,
    *,
    targets: list[str] | str | None = None,
    show_hash: bool = False,
    hide_missing: bool = False,
    root: str | None = None,
) -> dict[str, list[dict]]:
    """DVC-tracked data added, deleted, modified or renamed between ``a_rev`` and
    ``b_rev`` (the workspace when None), in ``dvc diff --json``'s shape.

    Raises:
        UnknownRevisionError: a revision names no commit; PathError: a bad target.
    """
    from ..pipeline.datadiff import data_diff as _diff

    return _diff(project_at(root), a_rev, b_rev, as_list(targets), show_hash=show_hash, hide_missing=hide_missing)


def imports(root: str | None = None) -> list[ImportSource]:
    """The project's import ``.dvc`` files (``dvc import``), each with its source."""
    from ..pipeline.imports import collect_imports

    return collect_imports(project_at(root))
