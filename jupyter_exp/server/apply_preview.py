"""Which files applying an experiment would change, asked before Apply so that the
panel can warn about open documents with unsaved edits (a notebook rewritten under a
live kernel is the notebook user's complaint about ``exp apply``).

Apply (``experiments/apply.py``) writes the paths where the experiment's commit differs
from a snapshot of the workspace, then checks out the cached outputs its ``dvc.lock``
and ``.dvc`` files name. The preview compares the same two trees, and the outputs by
their recorded hashes. It writes nothing the user sees and takes no lock: the snapshot
is a tree written from a scratch index, as apply writes it.
"""

from __future__ import annotations

from ..errors import JupyterExpError
from ..experiments.collect import ExpRow
from ..experiments.snapshot import pipeline_files, snapshot_tree
from ..pipeline.tracked import collect_tracked
from ..project import Project
from ..tree import GitTree


def changed_by_apply(project: Project, row: ExpRow) -> list[str]:
    """Project-relative paths applying ``row`` would write, sorted; a cached directory
    output is one entry ending in ``/``.

    Raises:
        JupyterExpError: the row is the workspace or has no commit yet (a run that
            has recorded nothing).
    """
    if row.kind == "workspace" or not row.rev:
        raise JupyterExpError("Apply takes an experiment with a commit; pick an experiment row.")
    git = project.git
    workspace = snapshot_tree(project, pipeline_files(project) + git.untracked_files())
    paths = {path for _mode, _oid, path in git.diff_tree(workspace, row.rev)}
    recorded = {t.path: t.info.md5 for t in collect_tracked(project)}
    for item in collect_tracked(project, GitTree(git, row.rev)):
        if recorded.get(item.path) != item.info.md5:
            paths.add(item.path + "/" if item.info.isdir else item.path)
    return sorted(paths)
