"""Data ``push``, ``fetch`` and ``pull``: DVC's verbs, between the cache and a remote.

``push`` sends every object the chosen revisions need that the remote lacks; ``fetch``
brings into the cache every one the cache lacks; ``pull`` is ``fetch`` and then
``checkout`` of the workspace, as in DVC. Revisions are chosen by :func:`.used.select_revisions`
(workspace, ``--rev``, ``-a``, ``-T``, ``-A``, experiments), objects by
:func:`.used.wanted_objects`, and they travel through :mod:`.transfer`. The remote is
DVC 3's layout, so either tool reads what the other wrote.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from ..pipeline.cache import Cache
from ..pipeline.hashing import Hasher
from ..pipeline.tracked import CheckoutReport, checkout_report, collect_tracked
from ..project import Project
from . import runs, transfer
from .config import RemoteSpec, resolve
from .errors import DataRemoteError, RemoteConfigError
from .objects import RemoteObjects, describe, is_storage_error
from .storage import failure_hint, open_storage
from .used import Revisions, Selected, Wanted, selected_items, wanted_from


class NoRemoteError(RemoteConfigError):
    """No remote was named and no default remote is set."""


@dataclass(frozen=True)
class SyncReport:
    """What a data verb did."""

    remote: str
    transferred: int = 0
    nbytes: int = 0
    missing: tuple[str, ...] = ()  # paths whose objects neither side holds
    checked_out: CheckoutReport | None = None  # pull: what changed, as DVC reports it

    @property
    def changed(self) -> tuple[str, ...]:
        """pull: the workspace paths checked out."""
        return self.checked_out.paths if self.checked_out else ()


def object_store(project: Project) -> Cache:
    """The project's cache as an object store: no hash state (nothing is hashed into it
    here, and a fresh clone gets no ``.dvc/tmp`` from a transfer)."""
    return Cache(project.cache_dir, Hasher(None), project.link_types)


@contextlib.contextmanager
def storage_errors(name: str, url: str) -> Iterator[None]:
    """The boundary where a storage's own errors (network, credentials, a missing
    bucket) become one line naming the remote."""
    try:
        yield
    except Exception as exc:
        if not is_storage_error(exc) or isinstance(exc, DataRemoteError):
            raise
        hint = failure_hint(url, exc)
        if hint is not None:
            raise DataRemoteError(f"Remote '{name}' ({url}): {hint.replace('NAME', name)}.") from None
        raise DataRemoteError(
            f"Remote '{name}' ({url}) failed: {describe(exc)}; check its URL, your credentials and the network."
        ) from None


def open_remote(project: Project, name: str | None = None) -> tuple[RemoteSpec, RemoteObjects]:
    """Remote ``name`` (default: ``core.remote``), opened.

    Raises:
        NoRemoteError: no name and no default remote.
        RemoteConfigError, MissingDriverError: see :func:`.config.resolve` and :func:`.storage.open_storage`.
    """
    spec = resolve(project, name)
    if spec is None:
        raise NoRemoteError(
            "No remote provided and no default remote set; add one with `jupyter dvc remote add -d NAME URL` "
            "or pass -r NAME."
        )
    for option in ("worktree", "version_aware"):
        if spec.options.get(option, "").lower() == "true":
            raise RemoteConfigError(
                f"Remote '{spec.name}' is a {option} remote (cloud versioning), which jupyter_exp does not "
                "write; push and pull it with DVC, or use a remote in DVC's object layout."
            )
    with storage_errors(spec.name, spec.url):
        return spec, RemoteObjects(open_storage(project, spec))


def jobs_for(spec: RemoteSpec, jobs: int | None) -> int:
    """``-j``, else the remote's ``jobs`` option, else DVC's default (four per CPU)."""
    if jobs is not None and jobs > 0:
        return jobs
    configured = spec.options.get("jobs")
    return int(configured) if configured else 4 * (os.cpu_count() or 1)


def _paths(wanted: Wanted, md5s: list[str]) -> tuple[str, ...]:
    return tuple(sorted({wanted.paths.get(m, m) for m in md5s}))


def _shown(paths: tuple[str, ...] | list[str]) -> str:
    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    return ", ".join(paths[:5]) + more


def _raise_failures(verb: str, result: transfer.TransferResult, where: str, target: str, spec: RemoteSpec) -> None:
    """One line for failed transfers (``target``: where the bytes were going)."""
    if not result.failed:
        return
    kept = f"the {result.transferred} object(s) that went through are kept" if result.transferred else "nothing changed"
    hint = None if result.first_error is None else failure_hint(spec.url, result.first_error)
    if hint is not None:  # a server that is not there, or refuses us: the same for every object
        raise DataRemoteError(f"Remote '{spec.name}' ({spec.url}): {hint.replace('NAME', spec.name)} ({kept}).")
    if result.no_room is not None:
        raise DataRemoteError(
            f"Cannot write to {target}: {result.no_room}; free space there and {verb} again ({kept})."
        )
    first = next(iter(result.failed.values()))
    raise DataRemoteError(
        f"{verb.capitalize()} {where} failed for {len(result.failed)} object(s) ({first}); fix that and {verb} again "
        f"({kept})."
    )


def push_objects(
    project: Project, spec: RemoteSpec, remote: RemoteObjects, wanted: Wanted, jobs: int | None = None
) -> SyncReport:
    """Send ``wanted``'s objects that ``remote`` lacks; objects the cache lacks too are
    reported ``missing``.

    Raises:
        DataRemoteError: a transfer failed (the others are on the remote).
    """
    cache = object_store(project)
    with storage_errors(spec.name, spec.url):
        result = transfer.push(cache, remote, wanted, jobs_for(spec, jobs))
    _raise_failures("push", result, f"to remote '{spec.name}'", f"remote '{spec.name}' ({spec.url})", spec)
    return SyncReport(spec.name, result.transferred, result.nbytes, _paths(wanted, result.missing))


def fetch_objects(
    project: Project,
    spec: RemoteSpec,
    remote: RemoteObjects,
    wanted: Wanted,
    jobs: int | None = None,
    verb: str = "fetch",
) -> SyncReport:
    """Bring ``wanted``'s objects that the cache lacks; objects the remote lacks are
    reported ``missing``.

    Raises:
        DataRemoteError: a transfer failed, or the disk is full (what was fetched stays).
    """
    cache = object_store(project)
    with storage_errors(spec.name, spec.url):
        result = transfer.fetch(remote, cache, wanted, jobs_for(spec, jobs))
    _raise_failures(verb, result, f"from remote '{spec.name}'", f"the cache at {cache.dir}", spec)
    return SyncReport(spec.name, result.transferred, result.nbytes, _paths(wanted, result.missing))


def _groups(selected: Selected, remote: str | None, pushing: bool) -> dict[str | None, Selected]:
    """``selected`` by the remote each goes to, as DVC routes it: ``-r NAME`` takes what has
    no ``remote:`` of its own or names that one; otherwise an output's ``remote:`` wins over
    the default (the None key). A push leaves ``push: false`` outputs out."""
    groups: dict[str | None, Selected] = {}
    for item, inner in selected:
        if pushing and not item.push:
            continue
        if remote and item.remote and item.remote != remote:
            continue
        groups.setdefault(remote or item.remote, []).append((item, inner))
    return groups or {remote: []}


def _merged(reports: list[SyncReport]) -> SyncReport:
    return SyncReport(
        reports[0].remote,
        sum(r.transferred for r in reports),
        sum(r.nbytes for r in reports),
        tuple(m for r in reports for m in r.missing),
    )


def push(
    project: Project,
    revisions: Revisions,
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    recursive: bool = False,
    with_deps: bool = False,
    run_cache: bool = False,
) -> SyncReport:
    """``push``: every object ``revisions`` need (what ``targets`` select; ``recursive``:
    also every ``.dvc`` file and stage in a target directory) to its remote: ``remote``,
    else an output's own ``remote:``, else ``core.remote``; ``push: false`` outputs stay.
    ``run_cache``: every run-cache entry too (see :mod:`.runs`), counted as pushed.

    Raises:
        NoRemoteError, RemoteConfigError, MissingDriverError: no usable remote.
        JupyterExpError: a malformed ``.dvc`` file, lock or manifest; targets matching nothing.
        DataRemoteError: a transfer failed.
    """
    with project.lock():
        selected = selected_items(project, revisions, targets, recursive, with_deps)
        reports = []
        for name, part in _groups(selected, remote, pushing=True).items():
            spec, objects = open_remote(project, name)
            with storage_errors(spec.name, spec.url):
                wanted = wanted_from(part, [object_store(project)])
            reports.append(push_objects(project, spec, objects, wanted, jobs))
        report = _merged(reports)
        if run_cache:  # the run history goes to -r or the default remote, as DVC sends it
            spec, objects = open_remote(project, remote)
            with storage_errors(spec.name, spec.url):
                sent = runs.push_runs(project, objects)
            report = SyncReport(report.remote, report.transferred + sent, report.nbytes, report.missing)
        return report


def fetch(
    project: Project,
    revisions: Revisions,
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    recursive: bool = False,
    with_deps: bool = False,
    run_cache: bool = False,
) -> SyncReport:
    """``fetch``: every object ``revisions`` need (what ``targets`` select) into the cache,
    each from its remote (as :func:`push` routes it; ``push: false`` outputs too).

    Raises:
        as :func:`push`; DataRemoteError also when objects are missing from the remote
        (the others are fetched) or the disk is full.
    """
    with project.lock():
        if run_cache:
            _fetch_runs(project, remote)
        report, spec, _ = _fetch(project, revisions, targets, remote, jobs, recursive, with_deps)
    _raise_missing(report, spec)
    return report


def _fetch_runs(project: Project, remote: str | None) -> None:
    """``--run-cache``: the remote's run history into the cache (not counted, as in DVC)."""
    spec, objects = open_remote(project, remote)
    with storage_errors(spec.name, spec.url):
        runs.fetch_runs(project, objects)


def _fetch(
    project: Project,
    revisions: Revisions,
    targets: list[str] | None,
    remote: str | None,
    jobs: int | None,
    recursive: bool,
    with_deps: bool,
    verb: str = "fetch",
) -> tuple[SyncReport, RemoteSpec, Selected]:
    selected = selected_items(project, revisions, targets, recursive, with_deps)
    reports = []
    spec = None
    for name, part in _groups(selected, remote, pushing=False).items():
        spec, objects = open_remote(project, name)
        with storage_errors(spec.name, spec.url):
            wanted = wanted_from(part, [object_store(project), objects])
        reports.append(fetch_objects(project, spec, objects, wanted, jobs, verb))
    assert spec is not None  # _groups gives one group at least
    return _merged(reports), spec, selected


def _raise_missing(report: SyncReport, spec: RemoteSpec) -> None:
    if report.missing:
        raise DataRemoteError(
            f"{len(report.missing)} file(s) are missing from remote '{spec.name}': {_shown(report.missing)}; "
            "push them from a clone that has them (the rest was fetched)."
        )


def pull(
    project: Project,
    revisions: Revisions,
    targets: list[str] | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    allow_missing: bool = False,
    recursive: bool = False,
    with_deps: bool = False,
    run_cache: bool = False,
) -> SyncReport:
    """``pull``: :func:`fetch`, then check out the workspace's data (``targets``).

    What was fetched is checked out even when some objects are missing from the remote;
    the missing ones are then one error line, unless ``allow_missing``.

    Raises:
        as :func:`fetch`; CheckoutError: unsaved workspace files would be replaced
        (without ``force``; nothing is replaced).
    """
    with project.lock():
        if run_cache:
            _fetch_runs(project, remote)
        report, spec, selected = _fetch(project, revisions, targets, remote, jobs, recursive, with_deps, "pull")
        # What the targets selected in the workspace is what is checked out (as DVC's
        # pull checks out what it collected): a -R directory's .dvc files and stages, -d's stages.
        paths = None
        if targets:
            here = {(t.path, t.source) for t in collect_tracked(project)}
            # (A target inside a directory output checks out that file or folder alone.)
            paths = sorted(
                {
                    item.path if inner is None else f"{item.path}/{inner}"
                    for item, inner in selected
                    if (item.path, item.source) in here
                }
            )
        done = CheckoutReport() if paths == [] else checkout_report(project, paths, force=force, allow_missing=True)
    report = SyncReport(report.remote, report.transferred, report.nbytes, report.missing, done)
    if not allow_missing:
        _raise_missing(report, spec)
    return report
