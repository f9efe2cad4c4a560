"""Recording the workspace as an experiment commit, with git plumbing only.

The tree is built in a temporary index (never the user's): HEAD's tree, plus the
tracked changes, plus the pipeline's own files (``dvc.yaml``, ``dvc.lock``, params
files, uncached outputs, stage dependencies git does not ignore, and the
``.gitignore`` files that hide cached outputs). Cached outputs stay in the cache;
``dvc.lock`` names them. The commit's first parent is the baseline, and the ref is
written last with a compare-and-swap, so no process can see half an experiment.
"""

from __future__ import annotations

import hashlib
import uuid

from .. import faults
from ..errors import JupyterExpError
from ..params import DEFAULT_PARAMS_FILE
from ..pipeline.dvcfile import load_all
from ..project import Project
from ..refs import ExpRef

ZERO = "0" * 40


class ExperimentExistsError(JupyterExpError):
    pass


def pipeline_files(project: Project) -> list[str]:
    """Project-relative paths an experiment commit must carry besides tracked changes."""
    paths = ["dvc.yaml", "dvc.lock", DEFAULT_PARAMS_FILE]
    for pipeline in load_all(project):  # every dvc.yaml, each with its dvc.lock
        paths += [pipeline.dvcfile, pipeline.dvcfile[: -len("dvc.yaml")] + "dvc.lock"]
        paths += [*pipeline.params, *pipeline.metrics, *pipeline.sources]
        for stage in pipeline.stages:
            paths += [p.path for p in stage.params]
            paths += [d.path for d in stage.deps]
            for out in stage.outs:
                if not out.cache:
                    paths.append(out.path)
                else:
                    parent = out.path.rpartition("/")[0]
                    paths.append(f"{parent}/.gitignore" if parent else ".gitignore")
    return list(dict.fromkeys(paths))


def snapshot_tree(project: Project, include: list[str], base: str | None = None,
                  blobs: dict[str, str] | None = None, tracked_changes: bool = True) -> str:
    """The tree of ``base`` (default HEAD) plus tracked changes (unless not
    ``tracked_changes``) plus ``include`` (minus what git ignores), plus ``blobs``
    (path -> text) written over whatever is there."""
    git = project.git
    project.own_tmp_dir.mkdir(parents=True, exist_ok=True)
    index = project.own_tmp_dir / f"index-{uuid.uuid4().hex}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        head = base or git.head()
        git.run("read-tree", *([head] if head else ["--empty"]), env=env)
        if tracked_changes:
            git.run("add", "-u", env=env)
        present = [p for p in include if (project.root / p).exists()]
        if present:
            ignored = set(
                git.run("check-ignore", "--no-index", "--stdin", input="\n".join(present).encode(),
                        check=False, env=env).splitlines()
            )
            wanted = [p for p in present if p not in ignored]
            if wanted:
                git.run("add", "--", *wanted, env=env)
        for path, text in (blobs or {}).items():
            oid = git.run("hash-object", "-w", "--stdin", input=text.encode()).strip()
            git.run("update-index", "--add", "--cacheinfo", f"100644,{oid},{path}", env=env)
        return git.run("write-tree", env=env).strip()
    finally:
        index.unlink(missing_ok=True)


def experiment_message(project: Project) -> str:
    lock = project.root / "dvc.lock"
    digest = hashlib.sha256(lock.read_bytes() if lock.exists() else b"").hexdigest()
    return f"dvc: commit experiment {digest}"


def record(
    project: Project,
    baseline: str,
    name: str,
    tree: str,
    message: str | None = None,
    force: bool = False,
    parent: str | None = None,
    existing: str | None = None,
) -> str:
    """Commit ``tree`` on ``parent`` (default the baseline), point the experiment ref at
    it, and return the commit. ``existing`` is the ref's current commit (ZERO: none), if
    the caller knows it (saves a lookup); the ref moves only if it still points there.

    Raises:
        ExperimentExistsError: the name is taken on this baseline by a different result
            and ``force`` is not set.
    """
    git = project.git
    ref = ExpRef(baseline, name)
    if existing is None:
        existing = git.rev_parse(str(ref)) or ZERO
    if existing != ZERO and not force:
        existing_tree = git.run("rev-parse", f"{existing}^{{tree}}").strip()
        if existing_tree == tree:
            return existing
        raise ExperimentExistsError(
            f"Experiment '{name}' already exists on baseline {baseline[:7]}; "
            "rerun with -f to overwrite."
        )
    commit = git.commit_tree(tree, [parent or baseline], message or experiment_message(project))
    faults.point("record.committed")
    git.update_refs([f"update {ref} {commit} {existing}"])
    faults.point("record.ref-written")
    return commit
