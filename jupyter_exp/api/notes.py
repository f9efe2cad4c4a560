"""Notes and tags on experiments: free text and labels kept in git (``refs/notes/jupyter-exp``),
shown by ``exp show`` and the table, carried by ``exp push`` / ``exp pull``."""

from __future__ import annotations

from . import as_list, project_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..experiments.notes import Note

__all__ = ["note"]


def note(
    name: str,
    text: str | None = None,
    *,
    tags: list[str] | str | None = None,
    untag: list[str] | str | None = None,
    clear: bool = False,
    root: str | None = None,
) -> Note:
    """The note on experiment ``name`` (or any revision), after changing it: ``text``
    replaces its text (``""`` removes it), ``tags`` adds labels, ``untag`` removes them,
    ``clear`` removes the whole note first. With none of them, only reads it.

    Returns the Note (``text``, ``tags``; ``error`` when the stored note cannot be read).

    Raises:
        UnknownExperimentError: no such experiment or revision.
        NoteError: a text or tag with control characters (a newline in a tag, NUL), too
            long, or a stored note that cannot be read (replace it with ``clear``).
    """
    from dataclasses import replace

    from ..experiments.notes import read_note, update_note
    from ..experiments.resolve import resolve

    project = project_at(root)
    target = resolve(project, name, checkpoints=True, revisions=True)
    assert target.rev is not None  # the workspace is not among what resolve was asked for
    adding, removing = as_list(tags) or [], as_list(untag) or []
    if text is None and not adding and not removing and not clear:
        found = read_note(project, target.rev)
    else:
        found = update_note(project, target.rev, text, adding, removing, clear)
    return replace(found, label=target.label)
