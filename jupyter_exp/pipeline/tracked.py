"""Data tracked outside pipelines: ``jupyter dvc add`` and ``jupyter dvc checkout``.

``add PATH`` puts a file or directory in the cache and writes ``PATH.dvc``
(``outs: [{md5, size, [nfiles,] hash: md5, path}]``) and a ``.gitignore`` entry.
``checkout`` links tracked data and cached stage outputs back from the cache.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CheckoutError, JupyterExpError, PipelineError, option
from ..project import Project
from ..serialize import decode_text, dump_yaml_text, parse_yaml, read_text, write_text_atomic
from ..tree import GitTree
from .cache import Cache, open_cache
from .dvcfile import load_all, walk_pipelines
from .gitignore import ignore
from .graph import build_graph
from .hashing import HashInfo
from .imports import import_source, read_import
from .lock import check_lock, entry_outs, lock_path_for, read_lock
from .results import StageResult, echo_stdout


@dataclass(frozen=True)
class Tracked:
    """One path that ``checkout`` can restore."""

    path: str  # project-relative
    info: HashInfo
    source: str  # the .dvc file or the stage address
    push: bool = field(default=True, compare=False)  # ``push: false``: data push leaves it out
    remote: str | None = field(default=None, compare=False)  # ``remote: NAME``: its data remote


def _dvc_file_entry(info: HashInfo, name: str) -> dict:
    entry: dict = {"md5": info.md5, "size": info.size}
    if info.isdir:
        entry["nfiles"] = info.nfiles
    entry["hash"] = "md5"
    entry["path"] = name
    return entry


def add(project: Project, paths: list[str], echo: Callable[[str], None] | None = None) -> list[str]:
    """Track data files or directories; return the ``.dvc`` files written.

    Raises:
        JupyterExpError: a path is missing, outside the project, or a stage output.
    """
    echo = echo or echo_stdout
    with project.lock():
        graph = walk_pipelines(project).graph()
        cache = open_cache(project)
        written = []
        to_git = []
        for raw in paths:
            path = (Path.cwd() / raw).resolve()
            if not path.is_relative_to(project.root):
                raise JupyterExpError(f"'{raw}' is outside the project; add paths inside it.")
            rel = project.relpath(path)
            if not path.exists():
                raise JupyterExpError(f"'{raw}' does not exist; check the path.")
            if rel.startswith(".dvc/") or rel.startswith(".git/") or rel in (".dvc", ".git"):
                raise JupyterExpError(f"'{raw}' is internal to the project and cannot be tracked.")
            producer = graph.producer_of(rel)
            if producer is not None:
                raise PipelineError(
                    f"'{rel}' is an output of stage '{producer.address}'; it is tracked by dvc.lock already."
                )
            if project.git.ls_files(rel, untracked=False):
                raise JupyterExpError(f"'{rel}' is tracked by git; untrack it with `git rm -r --cached {rel}` first.")
            info = cache.save(path)
            dvc_file = path.with_name(path.name + ".dvc")
            write_text_atomic(dvc_file, dump_yaml_text({"outs": [_dvc_file_entry(info, path.name)]}))
            gitignore = ignore(project.root, rel)
            written.append(project.relpath(dvc_file))
            to_git.append(project.relpath(dvc_file))
            if gitignore is not None or (project.root / rel).parent.joinpath(".gitignore").exists():
                to_git.append(project.relpath(path.parent / ".gitignore"))
        cache.hasher.flush()
    if to_git:
        echo("\nTo track the changes with git, run:\n\n\tgit add " + " ".join(sorted(set(to_git))) + "\n")
    return written


def _dvc_files(project: Project) -> list[Path]:
    """The ``.dvc`` files git knows about or that sit in the work tree."""
    return [project.root / name for name in project.git.ls_files("*.dvc", check=False) if name.endswith(".dvc")]


def read_dvc_file(project: Project, name: str, text: str | None = None) -> list[Tracked]:
    """The outputs a ``.dvc`` file (project-relative ``name``) records, checked.

    Each ``path`` goes through the project's boundary (relative to the file's
    directory, as DVC reads it) and each hash through the hash validator.

    Raises:
        YAMLFileError: the file does not parse or is not UTF-8.
        PipelineError, PathError, CacheError: a wrong type, a path or a hash refused.
    """
    fix = "restore it from git or track the data again with `jupyter dvc add`"
    if text is None:
        text = read_text(project.root / name, name)
    data = parse_yaml(text, name) or {}
    outs = data.get("outs") if isinstance(data, dict) else data
    if outs is None:
        return []
    if not isinstance(outs, list):
        raise PipelineError(f"{name}: 'outs' must be a list, not {outs!r}; {fix}.")
    base = posixpath.dirname(name) or "."
    found = []
    for out in outs:
        if not isinstance(out, dict) or "path" not in out:
            raise PipelineError(f"{name}: outs entry {out!r} needs a 'path'; {fix}.")
        rel = project.resolve_relpath(out["path"], base, where=name, output=True)
        if out.get("md5") is not None:
            found.append(
                Tracked(
                    rel,
                    HashInfo.from_entry(out, f"{name}, '{out['path']}'"),
                    name,
                    push=out.get("push", True) is not False,
                    remote=str(out["remote"]) if out.get("remote") else None,
                )
            )
    return found


def collect_tracked(project: Project, tree: GitTree | None = None) -> list[Tracked]:
    """Everything checkout can restore: ``.dvc`` files and cached stage outputs.

    ``tree`` reads them at a commit instead of the workspace (``exp apply`` checks an
    experiment's files this way before it changes anything). Every path and hash is
    checked on the way (see :func:`read_dvc_file` and ``check_lock``).
    """
    found: list[Tracked] = []
    if tree is None:
        for dvc_file in _dvc_files(project):
            found.extend(read_dvc_file(project, dvc_file.relative_to(project.root).as_posix()))
    else:
        for name in (n for n in project.git.ls_tree(tree.rev) if n.endswith(".dvc")):
            raw = tree.read(name)
            if raw is not None:
                found.extend(read_dvc_file(project, name, decode_text(raw, name)))
    # Every dvc.yaml of the project, each with its own dvc.lock.
    graph = build_graph([s for p in load_all(project, tree) for s in p.stages])
    locks: dict[str, dict] = {}
    for stage in graph.stages.values():
        lock_name = lock_path_for(stage.dvcfile)
        if lock_name not in locks:
            if tree is None:
                locks[lock_name] = read_lock(project.root / lock_name)
            else:
                raw = tree.read(lock_name)
                locks[lock_name] = (
                    {} if raw is None else check_lock(parse_yaml(decode_text(raw, lock_name), lock_name), lock_name)
                )
        entry = locks[lock_name].get(stage.name)
        if not entry:
            continue
        recorded = entry_outs(entry, f"{lock_name}, stage '{stage.name}'")
        for out in stage.outs:
            if out.cache and out.def_path in recorded:
                found.append(Tracked(out.path, recorded[out.def_path], stage.address, push=out.push, remote=out.remote))
    return found


CHANGE_KINDS = ("modified", "added", "deleted")  # DVC's order, in its lines and its summary


@dataclass(frozen=True)
class CheckoutReport:
    """What a checkout changed, as DVC reports it: each output changed (``outputs``:
    ``(kind, path)``, kind ``added`` when it was not there, else ``modified``) and the
    files added, modified and deleted inside them (``counts``)."""

    paths: tuple[str, ...] = ()  # the tracked paths checked out (files inside directories as such)
    outputs: tuple[tuple[str, str], ...] = ()
    counts: tuple[tuple[str, int], ...] = ()


def checkout(
    project: Project, targets: list[str] | None = None, force: bool = False, allow_missing: bool = False
) -> list[str]:
    """Restore tracked data and stage outputs from the cache; return the paths changed
    (see :func:`checkout_report`)."""
    return list(checkout_report(project, targets, force, allow_missing).paths)


def checkout_report(
    project: Project, targets: list[str] | None = None, force: bool = False, allow_missing: bool = False
) -> CheckoutReport:
    """Restore tracked data and stage outputs from the cache; report what changed.

    ``targets`` are stage names, ``.dvc`` files or tracked paths; all when empty. As
    DVC's, it does not replace a workspace file whose content is in no cache object
    (an edit, or a file added to a tracked directory) unless ``force``.

    Raises:
        CheckoutError: unsaved files would be replaced (nothing is changed); an object
            is missing from the cache (the others are restored), unless ``allow_missing``.
    """
    with project.lock():
        items = collect_tracked(project)
        cache: Cache = open_cache(project)
        owners: dict[str, str] = {}  # a file checked out from inside a directory -> the directory
        if targets:
            wanted = set()
            for target in targets:
                wanted.update({target, project.relpath(Path.cwd() / target, keep_link=True)})
            inside = _inside_directories(cache, items, wanted)
            items = [
                t
                for t in items
                if t.path in wanted or t.source in wanted or any(t.path.startswith(w.rstrip("/") + "/") for w in wanted)
            ] + [t for t, _ in inside]
            owners = {t.path: owner for t, owner in inside}
            if not items:
                raise CheckoutError(f"Nothing tracked matches {', '.join(targets)}; check the names.")
        if not force:
            unsaved = [p for item in items for p in _unsaved(project, cache, item)]
            if unsaved:
                raise CheckoutError(
                    f"Can't remove the following unsaved files without confirmation: "
                    f"{', '.join(unsaved)}; copy them elsewhere or rerun with {option('force')}."
                )
        changed, missing = [], []
        counts: dict[str, int] = {}
        kinds: dict[str, str] = {}  # output -> added | modified
        for item in items:
            output = owners.get(item.path, item.path)
            there = os.path.lexists(project.root / output)
            try:
                if cache.checkout(project.root / item.path, item.info, counts=counts):
                    changed.append(item.path)
                    kinds.setdefault(output, "modified" if there else "added")
            except CheckoutError:
                missing.append(item.path)
        cache.hasher.flush()
    imported = {i.source for i in items if i.path in missing and i.source.endswith(".dvc")}
    notices = [n.notice for n in (read_import(project, name) for name in sorted(imported)) if n is not None]
    if missing and not allow_missing and notices:
        raise CheckoutError(f"Missing from the cache: {', '.join(missing)}; " + " ".join(notices))
    if missing and not allow_missing:
        raise CheckoutError(
            f"Missing from the cache: {', '.join(missing)}; pull them with `dvc pull` or reproduce their stages."
        )
    # (a directory's path ends in '/', as DVC shows it)
    outputs = [(kind, f"{o}/" if (project.root / o).is_dir() else o) for o, kind in kinds.items()]
    return CheckoutReport(tuple(changed), tuple(outputs), tuple((k, counts[k]) for k in CHANGE_KINDS if counts.get(k)))


def _inside_directories(cache: Cache, items: list[Tracked], wanted: set[str]) -> list[tuple[Tracked, str]]:
    """The files of tracked directories that targets inside them name (``data/a.txt``, or
    a folder ``data/sub``), each as a file of its own with the directory it is in: as
    DVC's, checking one out leaves the rest of its directory alone. A manifest not in the
    cache gives nothing here."""
    found: list[tuple[Tracked, str]] = []
    for item in items:
        if not item.info.isdir:
            continue
        inner = {w.rstrip("/")[len(item.path) + 1 :] for w in wanted if w.startswith(item.path + "/")}
        inner.discard("")
        if not inner:
            continue
        try:
            entries = cache.read_manifest(item.info.md5)
        except JupyterExpError:
            continue
        for entry in entries:
            rel = entry["relpath"]
            if any(rel == w or rel.startswith(w + "/") for w in inner):
                info = HashInfo(entry["md5"], int(entry.get("size") or 0))
                found.append((Tracked(f"{item.path}/{rel}", info, item.source, item.push, item.remote), item.path))
    return found


def _unsaved(project: Project, cache: Cache, item: Tracked) -> list[str]:
    """Workspace files under ``item`` that checking it out would replace or remove and
    that no cache object holds (so they would be lost)."""
    path = project.root / item.path
    if not path.exists() and not path.is_symlink():
        return []
    found = cache.hasher.hash_tree(path)
    if found is None or found[0].md5 == item.info.md5:
        return []
    info, files = found
    if not files:  # a file: lost unless its bytes are an object
        return [] if cache.exists(info.md5) or path.is_dir() else [item.path]
    return [f"{item.path}/{rel}" for rel, _, md5, _ in files if not cache.exists(md5)]


def reproduce_data_source(
    project: Project, name: str, cache: Cache, echo: Callable[[str], None], dry: bool = False
) -> StageResult:
    """``dvc repro X.dvc``: a ``.dvc`` file is a stage with no command. Unchanged data is
    skipped; changed data is cached and its entry in the file rewritten, as DVC does.

    Raises:
        PipelineError: data the file records is missing (one line).
    """
    path = project.root / name
    data = parse_yaml(read_text(path, name), name) or {}
    source = import_source(data, name)
    if source is not None:  # its data comes from elsewhere: never re-hash it as plain data
        echo(source.notice + "\n")
        return StageResult(name, "frozen" if source.frozen else "skipped", "an import")
    tracked = read_dvc_file(project, name)
    current = {t.path: cache.hasher.hash_path(project.root / t.path) for t in tracked}
    if all((now := current[t.path]) is not None and now.md5 == t.info.md5 and cache.has_all(t.info) for t in tracked):
        echo(f"'{name}' didn't change, skipping\n")
        return StageResult(name, "skipped")
    echo(f"Verifying data sources in stage: '{name}'\n")
    missing = [t.path for t in tracked if current[t.path] is None]
    if missing:
        raise PipelineError(
            f"Failed to reproduce '{name}': missing data 'source': {missing[0]}; restore it or remove the .dvc file."
        )
    if dry:
        return StageResult(name, "dry", "its data changed")
    base = posixpath.dirname(name)
    for out in data.get("outs") or []:
        rel = project.resolve_relpath(out["path"], base or ".", where=name, output=True)
        info = cache.save(project.root / rel)
        entry = _dvc_file_entry(info, out["path"])
        out_keys = {k: v for k, v in out.items() if k not in entry and k not in ("md5", "nfiles", "size")}
        out.clear()
        out.update(entry, **out_keys)
    write_text_atomic(path, dump_yaml_text(data))
    cache.hasher.flush()
    return StageResult(name, "ran", "its data changed")
