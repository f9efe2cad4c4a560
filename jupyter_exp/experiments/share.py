"""``exp push`` / ``exp pull``: experiment refs to and from a git remote, and the
cache objects they need to and from a DVC remote that is a local directory.

What travels is what ``dvc exp push`` / ``dvc exp pull`` carry (their ``_push_cache``
runs ``dvc push --rev`` over every commit of the experiment): for each commit from the
experiment's tip down its first parents to the baseline, the outputs of every ``.dvc``
file and of every cached stage output recorded in any ``dvc.lock`` (the stage declared
in the ``dvc.yaml`` beside it, ``cache: false`` outputs left out), directories with their
``.dir`` manifest and every file it names. The remote is DVC 3's layout,
``<url>/files/md5/<2 hex>/<30 hex>``, objects read-only, so either tool reads what the
other wrote. Every path and hash read from the commits goes through the same validators
as ``exp apply`` (``read_dvc_file``, ``check_lock``, ``check_md5``).
"""

from __future__ import annotations

import posixpath
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import JupyterExpError, option
from ..git import GitError, RemoteUnavailableError, check_remote, ref_update
from ..notices import warn
from ..pipeline.cache import READONLY, Cache
from ..pipeline.dvcfile import load_pipeline
from ..pipeline.hashing import Hasher, HashInfo
from ..pipeline.lock import check_lock, entry_outs
from ..pipeline.tracked import read_dvc_file
from ..project import Project
from ..refs import ExpRef
from ..serialize import decode_text, parse_yaml, replacing
from ..tree import GitTree
from .catalog import remote_experiments, select_baselines
from .exceptions import RemoteError, UnknownExperimentError
from .notes import merge_notes, push_notes
from .resolve import select_experiments
from .snapshot import ZERO

LOCK_NAME = "dvc.lock"


def dvc_remote_dir(project: Project, name: str | None = None) -> Path | None:
    """The directory of DVC remote ``name`` (default: core.remote), or None if none is set."""
    config = project.config
    name = name or config.get("core", "remote", fallback=None)
    if not name:
        return None
    if name.startswith("-"):
        raise RemoteError(f"'{name}' is not a DVC remote name; name one from `dvc remote list`.")
    for section in (f'remote "{name}"', f"'remote \"{name}\"'"):
        if config.has_section(section):
            url = config.get(section, "url", fallback="")
            if "://" in url and not url.startswith("file://"):
                raise RemoteError(f"DVC remote '{name}' is {url}; only local-directory remotes are supported.")
            path = Path(url.removeprefix("file://"))
            return path if path.is_absolute() else (project.dvc_dir / path).resolve()
    raise RemoteError(f"No DVC remote named '{name}'; add it with `dvc remote add {name} PATH`.")


# -- what an experiment needs ---------------------------------------------------------


def experiment_commits(project: Project, rev: str, baseline: str) -> list[str]:
    """``rev`` and its first parents down to (not including) ``baseline``: the commits
    DVC's ``exp_commits`` walks (a checkpoint chain has one per step)."""
    if project.git.rev_parse(f"{baseline}^{{commit}}") is None:
        return [rev]
    return project.git.first_parent_chain(rev, baseline) or [rev]


def _tracked_outputs(project: Project, rev: str, memo: dict) -> dict[str, HashInfo]:
    """Project path -> HashInfo of every cached output commit ``rev`` records through its
    ``.dvc`` files and ``dvc.lock`` files, checked. ``memo`` keeps parsed blobs by id."""
    dvc_files, locks, yamls = [], [], set()
    for _mode, kind, _oid, name in project.git.tree_entries(rev):
        if kind != "blob" or name.split("/", 1)[0] in (".dvc", ".git"):
            continue
        base = posixpath.basename(name)
        if base == LOCK_NAME:
            locks.append(name)
        elif base == "dvc.yaml":
            yamls.add(name)
        elif name.endswith(".dvc") and base != ".dvc":
            dvc_files.append(name)
    tree = GitTree(project.git, rev, memo=memo)
    found: dict[str, HashInfo] = {}
    for name in dvc_files:
        for item in read_dvc_file(project, name, decode_text(tree.read(name) or b"", name)):
            found[item.path] = item.info
    for lock_name in locks:
        where = f"{lock_name} of {rev[:7]}"
        lock = check_lock(tree.load(lock_name, parse_yaml), where)
        dvcfile = posixpath.join(posixpath.dirname(lock_name), "dvc.yaml")
        if not lock or dvcfile not in yamls:
            continue  # DVC reads a lock only through the dvc.yaml beside it
        for stage in load_pipeline(project.root, dvcfile, tree=tree).stages:
            entry = lock.get(stage.name)
            if not entry:
                continue
            recorded = entry_outs(entry, f"{where}, stage '{stage.name}'")
            for out in stage.outs:
                if out.cache and out.def_path in recorded:
                    found[out.path] = recorded[out.def_path]
    return found


def needed_objects(project: Project, commits: list[str], stores: list[Cache]) -> dict[str, str]:
    """md5 -> the path that needs it, for every object ``commits`` name: files, ``.dir``
    manifests and the files in them (manifests read from the first store holding them;
    a manifest found nowhere is needed, its files unknown)."""
    memo: dict = {}
    needed: dict[str, str] = {}
    seen: set[str] = set()
    for rev in dict.fromkeys(commits):
        for path, info in _tracked_outputs(project, rev, memo).items():
            needed.setdefault(info.md5, path)
            if not info.isdir or info.md5 in seen:
                continue
            seen.add(info.md5)
            store = next((s for s in stores if s.exists(info.md5)), None)
            if store is not None:
                for entry in store.read_manifest(info.md5):  # checked: md5s and relpaths
                    needed.setdefault(entry["md5"], f"{path}/{entry['relpath']}")
    return needed


# -- copying --------------------------------------------------------------------------


def _copy_one(md5: str, src: Cache, dst: Cache) -> bool:
    source, target = src.object_path(md5), dst.object_path(md5)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with replacing(target) as tmp:
            shutil.copyfile(source, tmp)
            tmp.chmod(READONLY)  # as DVC leaves remote and cache objects: read-only
    except OSError as exc:
        raise RemoteError(
            f"Cannot copy object {md5} to {dst.dir}: {exc.strerror or exc}; free space or fix its permissions."
        ) from None
    return True


def transfer(needed: dict[str, str], src: Cache, dst: Cache, jobs: int | None = None) -> tuple[int, list[str]]:
    """Copy the objects of ``needed`` that ``dst`` lacks from ``src``; return how many
    were copied and the paths whose objects neither holds.

    Files go first and ``.dir`` manifests last, so a manifest in ``dst`` means its files
    are there too (DVC's remote status reads a present manifest that way)."""
    missing = sorted(needed[m] for m in needed if not dst.exists(m) and not src.exists(m))
    todo = [m for m in needed if not dst.exists(m) and src.exists(m)]
    files = sorted(m for m in todo if not m.endswith(".dir"))
    dirs = sorted(m for m in todo if m.endswith(".dir"))
    copied = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs or 4)) as pool:
        for batch in (files, dirs):
            copied += sum(pool.map(lambda m: _copy_one(m, src, dst), batch))
    return copied, missing


def _store(path: Path) -> Cache:
    return Cache(path, Hasher(None), ["copy"])


def _say_missing(missing: list[str], where: str) -> str:
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return f"{len(missing)} cache object(s) {where}: {shown}"


# -- the verbs ------------------------------------------------------------------------


def push(
    project: Project,
    git_remote: str,
    names: list[str] | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    force: bool = False,
    no_cache: bool = False,
    dvc_remote: str | None = None,
    jobs: int | None = None,
) -> list[str]:
    """Push experiment refs (default: those of HEAD) and, unless ``no_cache``, every cache
    object they need to the DVC remote (``dvc_remote``, default ``core.remote``), objects
    first so that a pushed ref never names data the remote lacks.

    Objects missing from the local cache are left out with a warning, as DVC does.

    Raises:
        JupyterExpError: nothing selected, an unknown name, a malformed ``.dvc`` or lock
            in an experiment, an unknown DVC remote, or git refused the push.
    """
    check_remote(git_remote)  # before any work, so an option as remote is the only line said
    selected = select_experiments(project, names, all_commits=all_commits, revs=revs, num=num)
    if not selected:
        raise JupyterExpError(f"No experiments to push; name them or use {option('all_commits')} / {option('revs')}.")
    notices = []
    if not no_cache:
        remote_dir = dvc_remote_dir(project, dvc_remote)
        local = _store(project.cache_dir)
        commits = [c for e in selected for c in experiment_commits(project, e.rev, e.baseline)]
        needed = needed_objects(project, commits, [local])
        if remote_dir is None:
            if needed:
                notices.append(
                    "no DVC remote is set, so only the experiment refs are pushed; "
                    "add one with `dvc remote add -d NAME PATH`, or name one for this command."
                )
        else:
            _, missing = transfer(needed, local, _store(remote_dir), jobs)
            if missing:
                notices.append(
                    _say_missing(missing, "are neither in the cache nor on the DVC remote, not pushed")
                    + "; reproduce their stages and push again."
                )
    plus = "+" if force else ""
    try:
        project.git.push(git_remote, [f"{plus}{e.ref}:{e.ref}" for e in selected])
    except RemoteUnavailableError:
        raise
    except GitError as exc:
        if not _rejected(exc.stderr):
            raise
        raise RemoteError(
            f"Push to '{git_remote}' was rejected ({exc}); pull first or push with {option('force')}."
        ) from None
    for notice in notices:  # said once the push went through: a refused push stays one line
        warn(notice)
    push_notes(project, git_remote)  # notes and tags travel with the experiments
    return [e.name for e in selected]


def _rejected(stderr: str) -> bool:
    """Whether git refused to move a ref (it moved on the other side), not failed to talk."""
    return "[rejected]" in stderr or "non-fast-forward" in stderr or "already exists" in stderr


def _ref_updates(project: Project, chosen: list[tuple[ExpRef, str]], force: bool, git_remote: str) -> list[str]:
    """``update-ref --stdin`` commands that move each ref to its fetched commit, each
    guarded by the value it has now; a local experiment that is not an ancestor of the
    fetched one (it diverged) is refused unless ``force``, as git's fetch refuses it."""
    commands = []
    for ref, sha in chosen:
        current = project.git.rev_parse(str(ref))
        if current == sha:
            continue
        if current is not None and not force and project.git.rev_list(current, not_from=[sha], limit=1):
            raise RemoteError(
                f"Fetch from '{git_remote}' failed (local experiment '{ref.name}' has diverged "
                f"from the remote one); use {option('force')} to overwrite local experiments."
            )
        commands.append(ref_update(str(ref), sha, current or ZERO))
    return commands


def pull(
    project: Project,
    git_remote: str,
    names: list[str] | None = None,
    *,
    all_commits: bool = False,
    revs: list[str] | None = None,
    num: int = 1,
    force: bool = False,
    no_cache: bool = False,
    dvc_remote: str | None = None,
    jobs: int | None = None,
) -> list[str]:
    """Fetch experiment refs (all with ``all_commits``, else by name, else those whose
    baseline ``revs``/``num`` select, HEAD's by default) and, unless ``no_cache``, every
    cache object they need from the DVC remote into the cache. The refs are written
    last, in one transaction, once their commits are checked and their data is here.

    Raises:
        JupyterExpError: an unknown name, git failed, a local experiment diverged
            (without ``force``), a malformed ``.dvc``, lock or manifest in a pulled
            experiment, an unknown DVC remote, or objects missing from the DVC remote
            (the others are copied; no ref is written).
    """
    remote = remote_experiments(project, git_remote)
    if all_commits:
        chosen = remote
    elif names:
        chosen = []
        for name in names:
            matches = [(r, s) for r, s in remote if r.name == name or str(r) == name]
            if not matches:
                raise UnknownExperimentError(f"No experiment named '{name}' on remote '{git_remote}'.")
            chosen += matches
    else:
        baselines = set(select_baselines(project, revs, num))
        chosen = [(r, s) for r, s in remote if r.baseline in baselines]
    if not chosen:
        _pull_notes(project, git_remote)
        return []
    # The commits come first, without touching a ref: what they name is checked and
    # copied before any experiment ref appears (a ref is written last, after its data).
    project.git.fetch(git_remote, list(dict.fromkeys(sha for _, sha in chosen)))
    updates = _ref_updates(project, chosen, force, git_remote)
    if not no_cache:
        remote_dir = dvc_remote_dir(project, dvc_remote)
        local = _store(project.cache_dir)
        stores = [local] if remote_dir is None else [_store(remote_dir), local]
        commits = [c for ref, sha in chosen for c in experiment_commits(project, sha, ref.baseline)]
        needed = needed_objects(project, commits, stores)
        if remote_dir is None:
            if any(not local.exists(m) for m in needed):
                warn(
                    "no DVC remote is set, so only the experiment refs were pulled; "
                    "add one with `dvc remote add -d NAME PATH`, or name one for this command."
                )
        else:
            _, missing = transfer(needed, stores[0], local, jobs)
            if missing:
                raise RemoteError(
                    _say_missing(missing, f"are missing from the DVC remote at {remote_dir}")
                    + f"; push them from a clone that has them, or pull with {option('no_cache')} for the refs alone."
                )
    project.git.update_refs(updates)
    _pull_notes(project, git_remote)
    return [ref.name for ref, _ in chosen]


def _pull_notes(project: Project, git_remote: str) -> None:
    """Merge the remote's notes into ours (ours win a conflict); a failure is a warning,
    the experiments are pulled already."""
    try:
        merge_notes(project, git_remote)
    except JupyterExpError as exc:
        warn(f"the notes of '{git_remote}' were not merged ({str(exc).rstrip('.')}); your notes are as they were.")
