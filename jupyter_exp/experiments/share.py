"""``exp push`` / ``exp pull``: experiment refs to and from a git remote, and the
cache objects they name to and from a DVC remote that is a local directory
(DVC 3 layout: ``<url>/files/md5/<2 hex>/<30 hex>``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import JupyterExpError
from ..git import GitError, RemoteUnavailableError
from ..pipeline.cache import READONLY
from ..pipeline.lock import check_lock, entry_outs
from ..project import Project
from ..refs import ExpRef
from ..serialize import parse_lock
from ..tree import GitTree
from .catalog import select_experiments


class RemoteError(JupyterExpError):
    pass


def dvc_remote_dir(project: Project, name: str | None = None) -> Path | None:
    """The directory of DVC remote ``name`` (default: core.remote), or None if none is set."""
    config = project.config
    name = name or config.get("core", "remote", fallback=None)
    if not name:
        return None
    for section in (f'remote "{name}"', f"'remote \"{name}\"'"):
        if config.has_section(section):
            url = config.get(section, "url", fallback="")
            if "://" in url and not url.startswith("file://"):
                raise RemoteError(f"DVC remote '{name}' is {url}; only local-directory remotes are supported.")
            path = Path(url.removeprefix("file://"))
            return path if path.is_absolute() else (project.dvc_dir / path).resolve()
    raise RemoteError(f"No DVC remote named '{name}'; add it with `dvc remote add {name} PATH`.")


def _objects_of(project: Project, rev: str, object_dir: Path) -> set[str]:
    """md5s of the cache objects experiment ``rev`` names in its dvc.lock (dirs expanded)."""
    lock = check_lock(GitTree(project.git, rev).load("dvc.lock", parse_lock), f"dvc.lock of {rev[:7]}")
    found: set[str] = set()
    for stage, entry in lock.items():
        for info in entry_outs(entry, f"dvc.lock of {rev[:7]}, stage '{stage}'").values():
            found.add(info.md5)
            if info.isdir:
                manifest = object_dir / info.md5[:2] / info.md5[2:]
                if manifest.exists():
                    import json

                    from ..pipeline.hashing import check_md5  # a manifest names objects by hash only

                    found.update(check_md5(e.get("md5") if isinstance(e, dict) else e, f"cache manifest {info.md5}")
                                 for e in json.loads(manifest.read_bytes()))
    return found


def _copy_objects(md5s: set[str], src: Path, dst: Path) -> int:
    copied = 0
    for md5 in sorted(md5s, key=lambda m: not m.endswith(".dir")):
        source, target = src / md5[:2] / md5[2:], dst / md5[:2] / md5[2:]
        if target.exists() or not source.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")  # unique across processes
        shutil.copyfile(source, tmp)
        tmp.chmod(READONLY)
        tmp.replace(target)
        copied += 1
    return copied


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
) -> list[str]:
    """Push experiment refs (default: those of HEAD) and their cache objects."""
    selected = select_experiments(project, names, all_commits=all_commits, revs=revs, num=num)
    if not selected:
        raise JupyterExpError("No experiments to push; name them or use -A / --rev.")
    remote_dir = None if no_cache else dvc_remote_dir(project, dvc_remote)
    if remote_dir is not None:
        objects = project.cache_dir / "files" / "md5"
        needed = set().union(*(_objects_of(project, e.rev, objects) for e in selected))
        _copy_objects(needed, objects, remote_dir / "files" / "md5")
    plus = "+" if force else ""
    try:
        project.git.run_network("push", git_remote, *[f"{plus}{e.ref}:{e.ref}" for e in selected])
    except RemoteUnavailableError:
        raise
    except GitError as exc:
        if not _rejected(exc.stderr):
            raise
        raise RemoteError(f"Push to '{git_remote}' was rejected ({exc}); pull first or push with -f.") from None
    return [e.name for e in selected]


def _rejected(stderr: str) -> bool:
    """Whether git refused to move a ref (it moved on the other side), not failed to talk."""
    return "[rejected]" in stderr or "non-fast-forward" in stderr or "already exists" in stderr


def pull(
    project: Project,
    git_remote: str,
    names: list[str] | None = None,
    *,
    all_commits: bool = False,
    force: bool = False,
    no_cache: bool = False,
    dvc_remote: str | None = None,
) -> list[str]:
    """Fetch experiment refs (by name, or all with ``all_commits``, or those of HEAD)
    and the cache objects they need."""
    out = project.git.run_network("ls-remote", git_remote, "refs/exps/*")
    remote = [(ExpRef.parse(r), sha) for sha, _, r in (l.partition("\t") for l in out.splitlines())]
    remote = [(ref, sha) for ref, sha in remote if ref is not None]
    if names:
        chosen = []
        for name in names:
            matches = [(r, s) for r, s in remote if r.name == name or str(r) == name]
            if not matches:
                raise JupyterExpError(f"No experiment named '{name}' on remote '{git_remote}'.")
            chosen += matches
    elif all_commits:
        chosen = remote
    else:
        head = project.git.head()
        chosen = [(r, s) for r, s in remote if r.baseline == head]
    if not chosen:
        return []
    plus = "+" if force else ""
    try:
        project.git.run_network("fetch", git_remote, *[f"{plus}{ref}:{ref}" for ref, _ in chosen])
    except RemoteUnavailableError:
        raise
    except GitError as exc:
        if not _rejected(exc.stderr):
            raise
        raise RemoteError(f"Fetch from '{git_remote}' failed ({exc}); use -f to overwrite local experiments.") from None
    remote_dir = None if no_cache else dvc_remote_dir(project, dvc_remote)
    if remote_dir is not None:
        objects = remote_dir / "files" / "md5"
        needed = set().union(*(_objects_of(project, sha, objects) for _, sha in chosen))
        _copy_objects(needed, objects, project.cache_dir / "files" / "md5")
    return [ref.name for ref, _ in chosen]
