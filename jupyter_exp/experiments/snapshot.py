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
import uuid
from collections.abc import Iterator
from pathlib import Path

from .. import faults
from ..git import GitError
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
    staged = run_project.git.run("diff-index", "--cached", "--name-only", "--no-renames", "-z", start)
    return pipeline_files(run_project) + [p for p in staged.split("\0") if p]


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
    project.own_tmp_dir.mkdir(parents=True, exist_ok=True)
    index = project.own_tmp_dir / f"index-{uuid.uuid4().hex}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        user_index = None if base else _index_path(project)
        if user_index is not None and user_index.exists():
            # A copy keeps the index's stat data: unchanged files are not hashed again.
            shutil.copyfile(user_index, index)
        else:
            head = base or git.head()
            git.run("read-tree", *([head] if head else ["--empty"]), env=env)
        if tracked_changes:
            git.run("add", "-u", env=env)
        present = [p for p in include if (project.root / p).exists()]
        if present:
            ignored = set(
                git.run(
                    "check-ignore", "--no-index", "--stdin", input="\n".join(present).encode(), check=False, env=env
                ).splitlines()
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


def _index_path(project: Project) -> Path:
    path = Path(project.git.run("rev-parse", "--git-path", "index").strip())
    return path if path.is_absolute() else project.root / path


def index_entries(project: Project) -> dict[str, str]:
    """The index as ``path -> "mode oid stage"`` (what ``update-index`` needs back)."""
    out = project.git.run("ls-files", "--stage", "-z")
    entries = {}
    for record in filter(None, out.split("\0")):
        info, _, path = record.partition("\t")
        entries[path] = info
    return entries


@contextlib.contextmanager
def preserved_index(project: Project) -> Iterator[None]:
    """Leave the user's index as it was before the block: entries a stage added or
    changed (DVCLive's ``git add`` of its files) are put back, and nothing else is
    touched (the snapshot, taken inside the block, has already caught them)."""
    before = index_entries(project)
    try:
        yield
    finally:
        after = index_entries(project)
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
                project.git.run("update-index", "--index-info", input="".join(f"{line}\n" for line in lines).encode())
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

    listed = project.git.run("ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.dvc")
    names = [n for n in listed.split("\0") if n.endswith(".dvc") and (project.root / n).is_file()]
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
        existing_tree = git.run("rev-parse", f"{existing}^{{tree}}").strip()
        if existing_tree == tree:
            return existing
        raise ExperimentExistsError(
            f"Experiment '{name}' already exists on baseline {baseline[:7]}; rerun with -f to overwrite."
        )
    commit = git.commit_tree(tree, [parent or baseline], message or experiment_message(project))
    faults.point("record.committed")
    git.update_refs([f"update {ref} {commit} {existing}"])
    faults.point("record.ref-written")
    return commit
