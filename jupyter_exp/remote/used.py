"""Which cache objects revisions need: what ``push``, ``fetch``, ``exp push`` and ``gc`` act on.

A revision (the workspace, or a commit) needs the outputs its ``.dvc`` files record and
the cached outputs every ``dvc.lock`` records for the stages of the ``dvc.yaml`` beside
it (``cache: false`` outputs left out), each directory with its ``.dir`` manifest and
every file the manifest names: DVC's ``used_objs``. Paths and hashes read from commits
go through the same validators as ``exp apply`` (``read_dvc_file``, ``check_lock``,
``check_md5``, ``check_manifest``), and errors name the file and the commit.

Which revisions: the workspace, ``--rev``/``-n``, branch tips (``-a``), tags (``-T``),
every commit (``-A``: HEAD, branches, tags and remote branches, as DVC lists them), and
experiments: each ``refs/exps`` ref with its chain of first parents down to its
baseline (a checkpoint experiment has a commit per step).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..errors import CheckoutError, JupyterExpError
from ..notices import warn
from ..pipeline.dvcfile import load_pipeline
from ..pipeline.lock import check_lock, entry_outs
from ..pipeline.tracked import Tracked, collect_tracked, read_dvc_file
from ..project import Project
from ..refs import EXPS_NAMESPACE, HEADS, ExpRef
from ..serialize import decode_text, parse_yaml
from ..tree import GitTree

LOCK_NAME = "dvc.lock"
WORKSPACE = None  # the revision that is the work tree


class ManifestSource(Protocol):
    """Where a ``.dir`` manifest can be read: the cache, or a remote."""

    def exists(self, md5: str) -> bool: ...

    def read_manifest(self, md5: str) -> list[dict]: ...


@dataclass
class Wanted:
    """Objects to move: every md5 with a path that needs it (for messages), and each
    directory's ``(md5, relpath)`` files (None when no store holds its manifest).

    A directory selected only through files inside it (``push data/dir/f1.txt``) is in
    ``partial`` with the md5s of those files: its manifest travels with them, as DVC
    sends it, so the other side can find them (a fresh clone's ``pull data/dir/f1.txt``)."""

    paths: dict[str, str] = field(default_factory=dict)
    dirs: dict[str, list[tuple[str, str]] | None] = field(default_factory=dict)
    partial: dict[str, set[str]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.paths)

    def needed(self, manifest: str) -> list[str] | None:
        """The files that must be on the other side before ``manifest`` goes: all it names,
        or those selected of a directory selected only in part; None: no store holds it."""
        entries = self.dirs.get(manifest)
        if entries is None:
            return None
        if manifest in self.partial and manifest not in self.whole:
            return sorted(self.partial[manifest])
        return [md5 for md5, _ in entries]


# -- revisions ----------------------------------------------------------------------


def experiment_chains(project: Project, pairs: list[tuple[str, str]]) -> list[str]:
    """The commits of experiments given as ``(tip, baseline)``: each tip and its first
    parents down to (not including) the baseline, as DVC's ``exp_commits`` walks them."""
    found: list[str] = []
    for tip, baseline in pairs:
        if project.git.rev_parse(f"{baseline}^{{commit}}") is None:
            found.append(tip)
            continue
        found += project.git.first_parent_chain(tip, baseline) or [tip]
    return list(dict.fromkeys(found))


def all_experiments(project: Project) -> list[tuple[str, str]]:
    """``(tip, baseline)`` of every experiment ref (DVC's own namespaces left out)."""
    pairs = []
    for name, sha in project.git.for_each_ref(EXPS_NAMESPACE, ["refname", "objectname"]):
        ref = ExpRef.parse(name)
        if ref is not None:
            pairs.append((sha, ref.baseline))
    return pairs


@dataclass(frozen=True)
class Revisions:
    """The revisions a verb acts on: ``required`` ones must be read; an ``optional`` one
    that cannot be read is skipped with a warning (DVC's ``-A`` does the same)."""

    required: Sequence[str | None]
    optional: Sequence[str] = field(default_factory=list)

    def all(self) -> list[str | None]:
        return list(dict.fromkeys([*self.required, *self.optional]))


def select_revisions(
    project: Project,
    *,
    workspace: bool = True,
    revs: list[str] | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    experiments: list[tuple[str, str]] | None = None,
    every_experiment: bool = False,
    since: float | None = None,
    skip_failed: bool = False,
) -> Revisions:
    """The workspace (unless not ``workspace``), ``num`` first-parent commits from each of
    ``revs``, branch tips (``num`` each), tags, every commit, and the chains of the given
    ``experiments`` (every one with ``every_experiment``); with ``since`` (a POSIX time,
    DVC's ``--date``) every commit committed then or later. With ``skip_failed`` only the
    workspace must be readable (a commit that is not is skipped with a warning).

    Raises:
        JupyterExpError: a ``--rev`` that names no commit.
    """
    required: list[str | None] = [WORKSPACE] if workspace else []
    for rev in revs or []:
        sha = project.git.rev_parse(rev)
        if sha is None:
            raise JupyterExpError(f"'{rev}' is not a commit of this repository; check the revision.")
        required += project.git.rev_list(sha, first_parent=True, limit=max(num, 1))
    chains = list(experiments or [])
    if every_experiment:
        chains += all_experiments(project)
    required += experiment_chains(project, chains)
    optional: list[str] = []
    head = project.git.head()
    if all_commits:
        optional += project.git.rev_list(*([head] if head else []), branches=True, tags=True, remotes=True)
    else:
        if all_branches:  # each branch tip and ``num - 1`` first parents below it, as DVC's -a -n
            for (tip,) in project.git.for_each_ref(HEADS, ["objectname"]):
                optional += project.git.rev_list(tip, first_parent=True, limit=max(num, 1))
        if all_tags:
            optional += project.git.rev_list(tags=True, no_walk=True)
    if since is not None:
        starts = [*([head] if head else []), "--branches", "--tags", "--remotes"]
        optional += [sha for sha, when, _ in project.git.commits(starts, not_from=[]) if when >= since]
    if skip_failed:
        optional = [r for r in required if r is not None] + optional
        required = [WORKSPACE] if workspace else []
    return Revisions(list(dict.fromkeys(required)), [r for r in dict.fromkeys(optional) if r not in required])


# -- what a revision records ---------------------------------------------------------


def tracked_at(project: Project, rev: str | None, memo: dict) -> list[Tracked]:
    """Every output ``rev`` (None: the workspace) records through ``.dvc`` files and
    ``dvc.lock`` files, checked; ``memo`` keeps parsed blobs between commits."""
    if rev is WORKSPACE:
        return collect_tracked(project)
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
    found: list[Tracked] = []
    for name in dvc_files:
        found += read_dvc_file(project, name, decode_text(tree.read(name) or b"", name))
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
                    found.append(
                        Tracked(out.path, recorded[out.def_path], stage.address, push=out.push, remote=out.remote)
                    )
    return found


def _dvcfile_of(source: str) -> str:
    """The ``dvc.yaml`` (or ``.dvc`` file) a Tracked's source names."""
    if source.endswith(".dvc"):
        return source
    return source.rpartition(":")[0] if ":" in source else "dvc.yaml"


def _matches(item: Tracked, target: str, in_dir: bool = False) -> tuple[bool, str | None]:
    """Whether ``item`` is selected by ``target``, and the file inside it ``target`` names
    if any. ``target`` is a project-relative path (an output, a file inside a directory
    output, a ``.dvc`` or ``dvc.yaml`` file) or a stage address; ``in_dir`` (``-R`` on a
    directory): what the ``.dvc`` and ``dvc.yaml`` files in that directory define, and
    nothing else (an output directory holds none, so ``-R`` on it selects nothing, as in DVC)."""
    target = target.rstrip("/") or "."
    dvcfile = _dvcfile_of(item.source)
    if in_dir:
        return target == "." or dvcfile.startswith(target + "/"), None
    name = item.source.rpartition(":")[2]
    if target in (item.path, item.source, dvcfile) or (dvcfile == "dvc.yaml" and target == name):
        return True, None
    if target.startswith(item.path + "/") and item.info.isdir:
        return True, target[len(item.path) + 1 :]
    return False, None


@dataclass(frozen=True)
class Target:
    """A target as typed, and as the project-relative path or stage address it names."""

    typed: str
    rel: str
    is_dir: bool  # a directory of the workspace (not a tracked file)


def resolve_targets(project: Project, targets: list[str]) -> list[Target]:
    """Each target made project-relative (a stage address kept as typed).

    Raises:
        CheckoutError: a path outside the project.
    """
    found = []
    for typed in targets:
        if ":" in typed and not (project.root / typed).exists():
            # A stage address: ``[path/]dvc.yaml:stage`` names it as the stage's address does.
            file, _, stage = typed.rpartition(":")
            if file and posixpath.basename(file) in ("dvc.yaml", "dvc.yml") and stage:
                where = project.relpath(file if file.startswith("/") else str(Path.cwd() / file), keep_link=True)
                found.append(Target(typed, stage if where == "dvc.yaml" else f"{where}:{stage}", False))
            else:
                found.append(Target(typed, typed, False))
            continue
        absolute = typed if typed.startswith("/") else str(Path.cwd() / typed)
        rel = project.relpath(absolute, keep_link=True).rstrip("/") or "."
        if rel == ".." or rel.startswith("../"):
            raise CheckoutError(f"'{typed}' is outside the project; name a path, .dvc file or stage inside it.")
        found.append(Target(typed, rel, (project.root / rel).is_dir()))
    return found


def select_targets(
    project: Project, items: list[Tracked], targets: list[str] | None, recursive: bool = False
) -> list[tuple[Tracked, str | None]]:
    """``items`` the targets select (all when none), each with the file inside a
    directory output a target names (None: the whole output).

    Raises:
        CheckoutError: a target selects nothing: every target must name something, as
            DVC collects them (a directory without ``-R`` names nothing).
    """
    if not targets:
        return [(item, None) for item in items]
    chosen, unmatched = _select(items, resolve_targets(project, targets), recursive)
    if unmatched:
        raise _unmatched_error(unmatched, recursive)
    return chosen


def _select(
    items: list[Tracked], targets: list[Target], recursive: bool, upstream: Sequence[str] = ()
) -> tuple[list[tuple[Tracked, str | None]], list[Target]]:
    """What ``targets`` (and the ``upstream`` stages and ``.dvc`` files ``-d`` adds) select
    from ``items``, and the targets that selected nothing (a directory under ``-R`` is
    never one: an empty selection is what it names; nor is an upstream stage)."""
    chosen: list[tuple[Tracked, str | None]] = []
    hits: set[str] = set()
    every = [*targets, *(Target(n, n, False) for n in upstream)]
    for item in items:
        inners: list[str | None] = []  # what of the item the targets name (None: all of it)
        for target in every:
            hit, inner = _matches(item, target.rel, recursive and target.is_dir)
            if not hit and target.typed != target.rel and not target.is_dir:  # a stage name as typed
                hit, inner = _matches(item, target.typed)
            if hit:
                inners.append(inner)
                hits.add(target.typed)
        # Several files of one directory each count (push data/d/a data/d/b); the whole of it, once.
        chosen += [(item, None)] if None in inners else [(item, i) for i in dict.fromkeys(inners)]
    missed = [t for t in targets if t.typed not in hits and not (recursive and t.is_dir)]
    # An item may match an earlier target first: a later target naming it too is not missed.
    missed = [t for t in missed if not any(_matches(item, t.rel)[0] or _matches(item, t.typed)[0] for item in items)]
    return chosen, missed


def _unmatched_error(unmatched: list[Target], recursive: bool) -> CheckoutError:
    dirs = [t for t in unmatched if t.is_dir and not recursive]
    if dirs:
        return CheckoutError(
            f"'{dirs[0].typed}' is a directory, not an output, .dvc file or stage; pass -R to take every "
            ".dvc file and dvc.yaml in it, or name the outputs."
        )
    return CheckoutError(f"Nothing tracked matches {', '.join(t.typed for t in unmatched)}; check the names.")


Selected = list[tuple[Tracked, str | None]]


def selected_items(
    project: Project,
    revisions: Revisions,
    targets: list[str] | None = None,
    recursive: bool = False,
    with_deps: bool = False,
) -> Selected:
    """What the revisions record that ``targets`` select (see :func:`select_targets`),
    with ``with_deps`` widened in each revision by that revision's own pipelines.

    As DVC collects them, a revision where a target selects nothing is skipped with a
    warning, and that is an error only when no revision could be collected.

    Raises:
        JupyterExpError: a required revision records a malformed ``.dvc``, lock or
            manifest, or ``targets`` select nothing in any revision.
    """
    from .targets import with_deps_at

    memo: dict = {}
    found: Selected = []
    collected = 0
    failures: list[tuple[str | None, CheckoutError]] = []
    resolved = resolve_targets(project, targets) if targets else []
    for rev in revisions.all():
        try:
            items = tracked_at(project, rev, memo)
            upstream = with_deps_at(project, rev, [t.rel for t in resolved], memo) if with_deps and targets else []
        except JupyterExpError as exc:
            if rev is WORKSPACE or rev in revisions.required:
                raise
            warn(f"skipped commit {rev[:7]} ({exc})")
            continue
        if not targets:
            found += [(item, None) for item in items]
            collected += 1
            continue
        chosen, unmatched = _select(items, resolved, recursive, upstream)
        if unmatched:
            failures.append((rev, _unmatched_error(unmatched, recursive)))
            continue
        found += chosen
        collected += 1
    if failures and not collected:
        raise failures[0][1]
    for rev, error in failures:
        warn(f"skipped {'the workspace' if rev is WORKSPACE else 'commit ' + rev[:7]}: {error}")
    return found


def wanted_from(selected: Selected, stores: list[ManifestSource]) -> Wanted:
    """The objects of ``selected``, directories expanded through the first store holding their manifest."""
    wanted = Wanted()
    for item, inner in selected:
        _add(wanted, item, inner, stores)
    return wanted


def wanted_objects(
    project: Project,
    revisions: Revisions,
    stores: list[ManifestSource],
    targets: list[str] | None = None,
) -> Wanted:
    """Every object the revisions need (only what ``targets`` select), directories
    expanded through the first store holding their manifest.

    Raises:
        as :func:`selected_items`.
    """
    return wanted_from(selected_items(project, revisions, targets), stores)


def _add(wanted: Wanted, item: Tracked, inner: str | None, stores: list[ManifestSource]) -> None:
    info = item.info
    wanted.paths.setdefault(info.md5, item.path)  # (a directory's manifest, also for a file inside it)
    if not info.isdir:
        return
    if inner is None:
        wanted.whole.add(info.md5)
    if wanted.dirs.get(info.md5) is None:
        store = next((s for s in stores if s.exists(info.md5)), None)
        entries = store.read_manifest(info.md5) if store is not None else None
        wanted.dirs[info.md5] = None if entries is None else [(e["md5"], e["relpath"]) for e in entries]
    for md5, rel in wanted.dirs[info.md5] or []:
        if inner is None or rel == inner or rel.startswith(inner + "/"):
            wanted.paths.setdefault(md5, f"{item.path}/{rel}")
            if inner is not None:
                wanted.partial.setdefault(info.md5, set()).add(md5)
