"""Recording the workspace as an experiment commit, with git plumbing only.

The tree is built in a temporary index (never the user's): a copy of the user's
index (HEAD plus what is staged, as DVC's experiment commit holds staged files, and
whatever a stage ``git add``-ed, as DVCLive does), plus the tracked changes, plus the
pipeline's own files (``dvc.yaml``, ``dvc.lock``, params files, uncached outputs,
stage dependencies git does not ignore, and the ``.gitignore`` files that hide cached
outputs). Untracked files nobody staged stay out, as in DVC. Cached outputs stay in
the cache; ``dvc.lock`` names them, and ``.dvc`` files whose data changed are
updated first (:func:`changed_data`), as ``dvc exp run`` does. The commit's first
parent is the baseline, and the ref is written last with a compare-and-swap, so no
process can see half an experiment.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Iterator

from .. import faults
from ..git import GitError, ref_update
from ..notices import warn
from ..params import DEFAULT_PARAMS_FILE
from ..pipeline.dvcfile import Pipelines, load_all
from ..project import Project
from ..refs import ExpRef
from ..serialize import dump_yaml_text, parse_yaml, read_text, write_text_atomic
from .exceptions import ExperimentExistsError

ZERO = "0" * 40


def pipeline_files(project: Project, pipelines: Pipelines | None = None) -> list[str]:
    """Project-relative paths an experiment commit must carry besides tracked changes
    (``pipelines``: the project's, when the caller loaded them already)."""
    paths = ["dvc.yaml", "dvc.lock", DEFAULT_PARAMS_FILE]
    for pipeline in pipelines.items if pipelines else load_all(project):  # every dvc.yaml, each with its dvc.lock
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


def run_files(run_project: Project, start: str) -> list[str]:
    """What a run directory's commit carries besides its tracked changes: the pipeline's
    files and every path its stages staged in the run's own index (DVCLive's files)."""
    return pipeline_files(run_project) + run_project.git.index().staged(start)


def snapshot_tree(
    project: Project,
    include: list[str],
    base: str | None = None,
    blobs: dict[str, str] | None = None,
    tracked_changes: bool = True,
) -> str:
    """The tree of ``base`` (default: the repository's index, i.e. HEAD plus what is
    staged) plus tracked changes (unless not ``tracked_changes``) plus ``include``
    (minus what git ignores), plus ``blobs`` (path -> text) written over whatever is
    there."""
    git = project.git
    path = project.scratch_index()
    index = git.index(path)
    try:
        user_index = None if base else git.git_path("index")
        if user_index is not None and user_index.exists():
            # A copy keeps the index's stat data: unchanged files are not hashed again.
            shutil.copyfile(user_index, path)
        else:
            index.read_tree(base or git.head())
        if tracked_changes:
            index.add_tracked()
        index.add(index.not_ignored([p for p in include if (project.root / p).exists()]))
        for name, text in (blobs or {}).items():
            index.set_blob(name, text)
        return index.write_tree()
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def preserved_index(project: Project) -> Iterator[None]:
    """Leave the user's index as it was before the block: entries a stage added or
    changed (DVCLive's ``git add`` of its files) are put back, and nothing else is
    touched (the snapshot, taken inside the block, has already caught them)."""
    index = project.git.index()
    before = index.entries()
    try:
        yield
    finally:
        after = index.entries()
        lines = []
        for path in sorted(set(before) | set(after)):
            if before.get(path) == after.get(path):
                continue
            if path in before:
                mode, oid, _stage = before[path].split()
                lines.append(f"{mode} {oid}\t{path}")
            else:
                lines.append(f"0 {ZERO}\t{path}")
        if lines:
            # A failure here (the user's own `git add` holds index.lock right now) must
            # not hide how the run ended: the experiment is recorded; say what is left.
            try:
                index.set_entries(lines)
            except GitError:
                warn(
                    "stages staged files the run could not unstage (the index was locked); "
                    "check `git status` before you commit."
                )


def changed_data(project: Project, write: bool) -> dict[str, str]:
    """``.dvc`` files whose data changed in the work tree, updated as ``dvc commit``
    would: the data is saved in the cache and the file's new text returned
    (``path -> text``); written to the work tree too if ``write`` (a workspace run;
    a queued one carries them in its snapshot and leaves the workspace alone).

    Data that is missing is left alone (a run without it fails on its own terms).
    """
    from ..pipeline.repro import open_cache
    from ..pipeline.tracked import read_dvc_file

    listed = project.git.ls_files("*.dvc")
    names = [n for n in listed if n.endswith(".dvc") and (project.root / n).is_file()]
    if not names:
        return {}
    cache = open_cache(project)
    texts: dict[str, str] = {}
    try:
        for name in names:
            changed: dict = {}
            for item in read_dvc_file(project, name):
                path = project.root / item.path
                now = cache.hasher.hash_path(path) if path.exists() else None
                if now is None or now.md5 == item.info.md5:
                    continue
                changed[item.path] = cache.save(path)
            if not changed:
                continue
            data = parse_yaml(read_text(project.root / name, name), name)
            base = name.rpartition("/")[0] or "."
            for out in data["outs"]:
                info = changed.get(project.resolve_relpath(out["path"], base, where=name, output=True))
                if info is None:
                    continue
                out["md5"], out["size"] = info.md5, info.size
                if info.isdir:
                    out["nfiles"] = info.nfiles
                else:
                    out.pop("nfiles", None)
            texts[name] = dump_yaml_text(data)
            if write:
                write_text_atomic(project.root / name, texts[name])
    finally:
        cache.hasher.flush()
    return texts


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
        if git.tree_of(existing) == tree:
            return existing
        raise ExperimentExistsError.taken(name, baseline)
    commit = git.commit_tree(tree, [parent or baseline], message or experiment_message(project))
    faults.point("record.committed")
    git.update_refs([ref_update(str(ref), commit, existing)])
    faults.point("record.ref-written")
    return commit
