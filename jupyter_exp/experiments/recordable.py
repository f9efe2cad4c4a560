"""Checks made before an experiment runs, of what would make recording it fail after:
the pipeline would have run, params and outputs been rewritten, for nothing.

Used by workspace runs, ``exp save``, and queueing (queued and ``--temp`` runs are
recorded in the same repository, so the same checks hold for them).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..pipeline.dvcfile import Pipelines
from ..project import Project
from .exceptions import CannotRecordError
from .snapshot import pipeline_files


def check_can_record(project: Project, name: str | None = None, pipelines: Pipelines | None = None) -> None:
    """Refuse, before params are rewritten or any stage runs, what would make the
    recording fail afterwards: no git identity, a ``.git`` that cannot be written, a
    pipeline file inside a git submodule, bookkeeping that cannot be written.

    Raises:
        GitError (no identity), CannotRecordError.
    """
    git = project.git
    git.check_identity()
    common = git.common_dir()
    for folder in (common / "objects", common / "refs"):
        _probe(project, folder, "make .git writable (`chattr -i`, a read-write mount) and rerun.")
    for path in pipeline_files(project, pipelines):
        module = _submodule_of(project, path)
        if module is not None:
            raise CannotRecordError(
                f"'{path}' is inside the git submodule '{module}', which an experiment commit cannot "
                "hold; move it into the project's own repository."
            )
    _probe(project, project.own_tmp_dir, "make it writable and rerun.")  # snapshots build an index there
    progress = project.progress_dir
    _probe(project, progress, "make it writable and rerun.")
    if name is not None and (progress / f"{name}.json").exists():
        _probe(project, progress / f"{name}.json", "delete it (`chattr -i` first if needed) and rerun.")


def _probe(project: Project, path: Path, fix: str) -> None:
    """Raise CannotRecordError unless a file can be created in folder ``path`` (or the
    existing file ``path`` opened for writing). Permission bits do not stop root, so
    this tries, rather than asking ``os.access``."""
    try:
        if path.is_file():
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
            return
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".jupyter-exp-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CannotRecordError(
            f"Cannot write {project.relpath(path)} ({exc.strerror}), so the experiment could not be recorded; {fix}"
        ) from None


def _submodule_of(project: Project, path: str) -> str | None:
    """The submodule (a directory below the root with its own ``.git``) holding ``path``."""
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if (project.root / folder / ".git").exists():
            return folder
    return None
