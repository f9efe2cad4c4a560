"""Cache ``gc``: remove the objects no kept revision needs, from the cache and (``-c``) a remote.

Kept are the revisions DVC's flags choose (the workspace always; ``-a``, ``-T``, ``-A``,
``--rev``/``-n``) and, whatever the flags, everything that could still be applied or
run: every experiment with its checkpoint chain (``refs/exps``), every queued entry and
saved workspace (``refs/jupyter-exp/...``, a saved index included), DVC's own queue and
apply stashes with their reflogs. An object is removed only when none of them needs
it; a revision that cannot be read stops the whole collection (skipping it could
remove what it needs).

:func:`plan` lists what would go, :func:`collect` removes it; the verb shows the plan
first, then removes under the project lock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..notices import warn
from ..pipeline.cache import Cache
from ..project import Project
from ..refs import EXPS_NAMESPACE, OWN_NAMESPACE, ExpRef
from .objects import RemoteObjects, parse_object_path
from .sync import object_store, storage_errors
from .used import Revisions, Wanted, experiment_chains, wanted_objects

DVC_STASH_REFS = (
    f"{EXPS_NAMESPACE}/stash",
    f"{EXPS_NAMESPACE}/celery/stash",
    f"{EXPS_NAMESPACE}/celery/failed",
    f"{EXPS_NAMESPACE}/apply/stash",
)


@dataclass
class GcPlan:
    """What :func:`collect` would remove: md5 -> size, from the cache and the remote."""

    local: dict[str, int] = field(default_factory=dict)
    remote: dict[str, int] = field(default_factory=dict)
    remote_name: str | None = None
    kept: int = 0  # objects the kept revisions need
    cache_dir: str = ""
    applied: bool = False  # whether these were removed (else: what would be)

    @property
    def local_bytes(self) -> int:
        return sum(self.local.values())

    @property
    def remote_bytes(self) -> int:
        return sum(self.remote.values())


def size_text(nbytes: int) -> str:
    """``nbytes`` for people: ``512 B``, ``3.4 MiB``."""
    size = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def protected_commits(project: Project) -> list[str]:
    """Commits gc keeps whatever the flags: experiments (each with its first-parent
    chain to its baseline), our queue entries and saved workspaces, DVC's stashes and
    their reflogs, each with its extra parents (a saved index, a stash's untracked files)."""
    git = project.git
    pairs: list[tuple[str, str]] = []
    others: list[str] = []
    for prefix in (EXPS_NAMESPACE, OWN_NAMESPACE):
        for name, sha, kind in git.for_each_ref(prefix, ["refname", "objectname", "objecttype"]):
            if kind != "commit":
                continue
            ref = ExpRef.parse(name)
            if ref is not None:
                pairs.append((sha, ref.baseline))
            else:
                others.append(sha)
    for stash in DVC_STASH_REFS:
        others += git.reflog(stash)
    extra: list[str] = []
    for sha in dict.fromkeys(others):
        extra += [sha, *git.parents(sha)[1:]]  # its extra parents: a saved index, untracked files
    return list(dict.fromkeys(experiment_chains(project, pairs) + extra))


def _cache_objects(cache: Cache) -> dict[str, tuple[str, int]]:
    """md5 -> (path, size) of every object in the cache, DVC 3's layout and DVC 2's."""
    found: dict[str, tuple[str, int]] = {}
    for top in (cache.dir / "files" / "md5", cache.dir):
        try:
            prefixes = sorted(os.listdir(top))
        except FileNotFoundError:
            continue
        for prefix in prefixes:
            folder = top / prefix
            if len(prefix) != 2 or not folder.is_dir():
                continue
            for name in os.listdir(folder):
                md5 = parse_object_path(f"{prefix}/{name}")
                if md5 is None or md5 in found:
                    continue
                try:
                    found[md5] = (str(folder / name), os.lstat(folder / name).st_size)
                except FileNotFoundError:
                    continue
    return found


def _used(project: Project, revisions: Revisions, cache: Cache) -> Wanted:
    wanted = wanted_objects(project, revisions, [cache])
    unknown = [md5 for md5, entries in wanted.dirs.items() if entries is None]
    if unknown:
        shown = ", ".join(f"{wanted.paths.get(m, m)} ({m})" for m in unknown[:3])
        warn(
            f"the manifests of {len(unknown)} kept directory output(s) are not in the cache ({shown}); "
            "their files cannot be told apart from unused ones: fetch the manifests first to keep them."
        )
    return wanted


def kept_objects(project: Project, revisions: Revisions, skip_failed: bool = False) -> set[str]:
    """Every object ``revisions`` and :func:`protected_commits` need, read through the
    shared cache. A revision that cannot be read stops everything (skipping it could
    remove what it needs), unless ``skip_failed`` and it is one the flags chose.

    Raises:
        JupyterExpError: a kept revision records a malformed ``.dvc`` file, lock or manifest.
    """
    protected = protected_commits(project)
    if skip_failed:
        kept = Revisions([*revisions.required, *protected], [r for r in revisions.optional if r not in protected])
    else:
        kept = Revisions([*revisions.all(), *protected])
    return set(_used(project, kept, object_store(project)).paths)


def plan(
    project: Project,
    revisions: Revisions,
    remote: tuple[str, RemoteObjects] | None = None,
    *,
    skip_failed: bool = False,
    also_kept: set[str] | None = None,
    not_in: tuple[str, RemoteObjects] | None = None,
) -> GcPlan:
    """What gc would remove: cache objects (and, with ``remote`` (name, objects), remote
    objects) that neither ``revisions`` nor :func:`protected_commits` need, nor
    ``also_kept`` lists (other projects' needs). With ``not_in`` (DVC's
    ``--not-in-remote``), needed objects that remote already holds go from the cache too.

    Raises:
        JupyterExpError: a kept revision records a malformed ``.dvc`` file, lock or
            manifest (nothing is removed).
        DataRemoteError: the remote cannot be listed.
    """
    cache = object_store(project)
    used = kept_objects(project, revisions, skip_failed) | (also_kept or set())
    result = GcPlan(kept=len(used), cache_dir=str(cache.dir))
    if not_in is not None:
        name, objects = not_in
        with storage_errors(name, objects.storage.url):
            used -= objects.present(used, 4 * (os.cpu_count() or 1))
    for md5, (_, size) in sorted(_cache_objects(cache).items()):
        if md5 not in used:
            result.local[md5] = size
    if remote is not None:
        name, objects = remote
        result.remote_name = name
        with storage_errors(name, objects.storage.url):
            sizes = objects.sizes()
        result.remote = {md5: size for md5, size in sorted(sizes.items()) if md5 not in used}
    return result


def collect(project: Project, chosen: GcPlan, remote: RemoteObjects | None = None) -> GcPlan:
    """Remove what ``chosen`` lists (what is already gone is skipped); return what was removed."""
    cache = object_store(project)
    objects = _cache_objects(cache)
    removed = GcPlan(remote_name=chosen.remote_name, kept=chosen.kept, cache_dir=chosen.cache_dir, applied=True)
    # Manifests first: a manifest never outlives a file it names.
    for md5 in sorted(chosen.local, key=lambda m: not m.endswith(".dir")):
        path = objects.get(md5, (None, 0))[0]
        if path is None:
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        removed.local[md5] = chosen.local[md5]
    if remote is not None and chosen.remote:
        ordered = sorted(chosen.remote, key=lambda m: not m.endswith(".dir"))
        with storage_errors(remote.name, remote.storage.url):
            remote.remove(ordered)
        removed.remote = dict(chosen.remote)
    return removed
