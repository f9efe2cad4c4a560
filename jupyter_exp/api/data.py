"""Data remotes and the cache: ``remote_*`` (DVC's ``remote`` verbs), ``data_push``,
``data_fetch``, ``data_pull`` (DVC's ``push``, ``fetch``, ``pull``) and ``data_gc``
(DVC's cache ``gc``, which keeps every experiment, queued entry and saved workspace
whatever the flags). ``push``/``pull``/``gc`` of the package are the experiment verbs.

Revisions are chosen as DVC chooses them: the workspace, ``all_branches`` (``-a``),
``all_tags`` (``-T``), ``all_commits`` (``-A``), plus experiments: every one
(``all_experiments``) or those named (``experiments``), each with its checkpoint chain.
"""

from __future__ import annotations

from . import as_list, project_at
from . import confirm as ask

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..project import Project
    from ..remote.config import RemoteEntry
    from ..remote.gc import GcPlan
    from ..remote.sync import SyncReport
    from ..remote.used import Revisions

__all__ = [
    "data_fetch",
    "data_gc",
    "data_pull",
    "data_push",
    "remote_add",
    "remote_default",
    "remote_list",
    "remote_modify",
    "remote_remove",
    "remote_rename",
]


# -- remotes ---------------------------------------------------------------------------


def remote_add(
    name: str,
    url: str,
    *,
    default: bool = False,
    force: bool = False,
    level: str | None = None,
    root: str | None = None,
) -> None:
    """``dvc remote add [-d] [-f] NAME URL``: written to ``.dvc/config`` (``level="local"``:
    ``.dvc/config.local``) byte for byte as DVC writes it; a relative path is relative
    to the current directory."""
    from ..remote import config

    config.add(project_at(root), name, url, default=default, force=force, level=level)


def remote_modify(
    name: str,
    option: str,
    value: str | None = None,
    *,
    unset: bool = False,
    level: str | None = None,
    root: str | None = None,
) -> None:
    """``dvc remote modify [--unset] NAME OPTION [VALUE]`` (options as DVC's schema has
    them for the remote's URL scheme: ``endpointurl``, ``profile``, ``region``, ...)."""
    from ..remote import config

    config.modify(project_at(root), name, option, value, unset=unset, level=level)


def remote_remove(name: str, *, level: str | None = None, root: str | None = None) -> None:
    """``dvc remote remove NAME`` (a default pointing at it is unset)."""
    from ..remote import config

    config.remove(project_at(root), name, level=level)


def remote_rename(name: str, new: str, *, level: str | None = None, root: str | None = None) -> None:
    """``dvc remote rename NAME NEW`` (the default follows)."""
    from ..remote import config

    config.rename(project_at(root), name, new, level=level)


def remote_default(
    name: str | None = None, *, unset: bool = False, level: str | None = None, root: str | None = None
) -> str | None:
    """``dvc remote default [NAME]``: set (or with ``unset`` remove) the default remote;
    with no name, return it (None when there is none)."""
    from ..remote import config

    return config.default(project_at(root), name, unset=unset, level=level)


def remote_list(*, level: str | None = None, root: str | None = None) -> list[RemoteEntry]:
    """``dvc remote list``: every configured remote (``level``: that file's only)."""
    from ..remote import config

    return config.listing(project_at(root), level=level)


# -- push, fetch, pull -----------------------------------------------------------------


def _revisions(
    project: Project,
    *,
    all_branches: bool,
    all_tags: bool,
    all_commits: bool,
    all_experiments: bool,
    experiments: list[str] | None,
    revs: list[str] | None = None,
    num: int = 1,
    workspace: bool = True,
    since: float | None = None,
    skip_failed: bool = False,
) -> Revisions:
    from ..remote.used import select_revisions

    pairs: list[tuple[str, str]] = []
    if experiments:
        from ..experiments.resolve import select_experiments

        pairs = [(e.rev, e.baseline) for e in select_experiments(project, experiments)]
    return select_revisions(
        project,
        workspace=workspace,
        revs=revs,
        num=num,
        all_branches=all_branches,
        all_tags=all_tags,
        all_commits=all_commits,
        experiments=pairs,
        every_experiment=all_experiments,
        since=since,
        skip_failed=skip_failed,
    )


def _targets(project: Project, targets: list[str] | str | None, glob: bool) -> list[str] | None:
    """``targets`` widened as DVC's ``--glob`` widens them (``-d`` widens them at each
    revision, see :func:`..remote.used.selected_items`)."""
    from ..remote import targets as widen

    found = as_list(targets)
    if found and glob:
        found = widen.expand_glob(project, found)
    return found or None


def _sync(verb: str, args: dict) -> SyncReport:
    """``sync.<verb>`` with a public function's arguments (its ``locals()``): the revisions
    and targets they choose, and the rest of them as they are."""
    from ..remote import sync

    args = dict(args)
    project = project_at(args.pop("root"))
    revisions = _revisions(
        project,
        all_branches=args.pop("all_branches"),
        all_tags=args.pop("all_tags"),
        all_commits=args.pop("all_commits"),
        all_experiments=args.pop("all_experiments"),
        experiments=as_list(args.pop("experiments")),
    )
    chosen = _targets(project, args.pop("targets"), args.pop("glob"))
    report: SyncReport = getattr(sync, verb)(project, revisions, chosen, **args)
    return report


def data_push(
    targets: list[str] | str | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    all_experiments: bool = False,
    experiments: list[str] | str | None = None,
    with_deps: bool = False,
    recursive: bool = False,
    glob: bool = False,
    run_cache: bool = False,
    root: str | None = None,
) -> SyncReport:
    """``dvc push``: send the objects the workspace (and the chosen revisions and
    experiments) need to the remote (``remote``, else an output's own ``remote:``, else
    ``core.remote``; ``push: false`` outputs stay); ``targets`` (stages, ``.dvc`` files,
    tracked paths) narrow it down: with ``glob`` they may hold wildcards, ``with_deps``
    adds the stages they depend on, ``recursive`` takes every ``.dvc`` file and stage in a
    target directory. ``jobs`` transfers at once. ``run_cache``: the run history too (:mod:`.remote.runs`).

    Raises:
        JupyterExpError: a glob that matches nothing; see :func:`.remote.sync.push`.
    """
    return _sync("push", locals())


def data_fetch(
    targets: list[str] | str | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    all_experiments: bool = False,
    experiments: list[str] | str | None = None,
    with_deps: bool = False,
    recursive: bool = False,
    glob: bool = False,
    run_cache: bool = False,
    root: str | None = None,
) -> SyncReport:
    """``dvc fetch``: bring into the cache what the chosen revisions need, verified."""
    return _sync("fetch", locals())


def data_pull(
    targets: list[str] | str | None = None,
    *,
    remote: str | None = None,
    jobs: int | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    all_experiments: bool = False,
    experiments: list[str] | str | None = None,
    force: bool = False,
    allow_missing: bool = False,
    with_deps: bool = False,
    recursive: bool = False,
    glob: bool = False,
    run_cache: bool = False,
    root: str | None = None,
) -> SyncReport:
    """``dvc pull``: :func:`data_fetch`, then check the workspace's data out (``force``:
    replace workspace files no cache object holds; ``allow_missing``: no error for
    objects the remote lacks)."""
    return _sync("pull", locals())


# -- gc --------------------------------------------------------------------------------


def _question(plan: GcPlan) -> str:
    from ..remote.gc import size_text

    text = f"Remove {len(plan.local)} unused object(s) ({size_text(plan.local_bytes)}) from the cache"
    if plan.remote_name is not None:
        text += f" and {len(plan.remote)} ({size_text(plan.remote_bytes)}) from remote '{plan.remote_name}'"
    return text + "?"


def _since(date: str | None) -> float | None:
    """DVC's ``--date``: midnight (local time) of ``YYYY-MM-DD``, as a POSIX time."""
    if date is None:
        return None
    from datetime import datetime

    from ..errors import JupyterExpError

    try:
        return datetime.strptime(date, "%Y-%m-%d").timestamp()
    except ValueError:
        raise JupyterExpError(f"--date {date!r} is not a date; write it as YYYY-MM-DD (e.g. 2024-01-31).") from None


def _other_projects(project: Project, paths: list[str]) -> list[Project]:
    """The projects ``-p`` names (this one left out), each checked to exist.

    Raises:
        JupyterExpError: a path that is no directory; NotAProjectError: one in no project.
    """
    import os

    from ..errors import JupyterExpError
    from ..project import Project

    found: dict[str, Project] = {}
    for path in paths:
        if not os.path.isdir(path):
            raise JupyterExpError(f"-p/--projects: '{path}' is not a directory; name the root of a project.")
        other = Project.find(path)
        if other.root.resolve() != project.root.resolve():
            found.setdefault(str(other.root.resolve()), other)
    return list(found.values())


def data_gc(
    *,
    workspace: bool = False,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    all_experiments: bool = False,
    revs: list[str] | str | None = None,
    num: int = 1,
    date: str | None = None,
    cloud: bool = False,
    remote: str | None = None,
    not_in_remote: bool = False,
    skip_failed: bool = False,
    projects: list[str] | str | None = None,
    force: bool = False,
    dry: bool = False,
    confirm: Callable[[GcPlan], bool] | None = None,
    root: str | None = None,
) -> GcPlan:
    """``dvc gc``: remove cache objects (with ``cloud``, remote objects too) that no kept
    revision needs. Kept: the workspace, what ``all_branches``/``all_tags``/
    ``all_commits``/``revs`` choose, every commit since ``date`` (``YYYY-MM-DD``), and
    always every experiment with its checkpoints, every queued entry and every saved
    workspace (``all_experiments`` is accepted for DVC's sake). One of the flags must be
    given, as DVC requires. ``not_in_remote``: kept objects the remote (``remote``, default
    ``core.remote``) already holds go too. ``skip_failed``: a chosen commit that cannot be
    read is skipped with a warning instead of stopping gc. ``projects``: other projects
    sharing this cache, whose needs (same flags) are kept as well.

    ``dry`` returns what would go and removes nothing; otherwise ``confirm(plan)`` (default:
    a yes/no question) is asked unless ``force``. Returns what was removed (``applied``
    False when nothing was).

    Raises:
        JupyterExpError: no flag; ``remote`` without ``cloud`` or ``not_in_remote``;
            ``cloud`` with ``not_in_remote``; a bad ``date``; a queued experiment is
            running; a kept revision that cannot be read (nothing is removed).
    """
    import contextlib

    from ..errors import JupyterExpError
    from ..experiments.queue_store import QueueStore
    from ..remote import gc as engine
    from ..remote.sync import open_remote

    revs = as_list(revs)
    if not any([workspace, all_branches, all_tags, all_commits, all_experiments, revs, date]):
        raise JupyterExpError(
            "gc needs one of -w, -a, -T, -A, --all-experiments, --date or --rev to say what to keep; "
            "-w keeps the workspace (experiments, queued entries and saved workspaces are always kept)."
        )
    if remote and not (cloud or not_in_remote):
        raise JupyterExpError("gc: -r/--remote needs -c/--cloud or --not-in-remote; add one of them.")
    if cloud and not_in_remote:
        raise JupyterExpError("gc: --not-in-remote and -c/--cloud cannot go together; choose one.")
    since = _since(date)
    project = project_at(root)
    others = _other_projects(project, as_list(projects) or [])
    running = [e.name for p in (project, *others) for e in QueueStore(p).entries() if e.state == "running"]
    if running:
        raise JupyterExpError(
            f"Experiment(s) {', '.join(running)} are running and may be caching outputs; "
            "run gc once they finish (`jupyter exp queue status`)."
        )
    with contextlib.ExitStack() as held:
        for locked in (project, *others):
            held.enter_context(locked.lock())
        also_kept: set[str] = set()
        for other in others:
            chosen = _revisions(
                other,
                all_branches=all_branches,
                all_tags=all_tags,
                all_commits=all_commits,
                all_experiments=False,
                experiments=None,
                num=num,
                since=since,
                skip_failed=skip_failed,
            )
            also_kept |= engine.kept_objects(other, chosen, skip_failed)
        revisions = _revisions(
            project,
            all_branches=all_branches,
            all_tags=all_tags,
            all_commits=all_commits,
            all_experiments=False,  # every experiment is kept anyway (engine.protected_commits)
            experiments=None,
            revs=revs,
            num=num,
            since=since,
            skip_failed=skip_failed,
        )
        objects = open_remote(project, remote)[1] if (cloud or not_in_remote) else None
        plan = engine.plan(
            project,
            revisions,
            (objects.name, objects) if objects is not None and cloud else None,
            skip_failed=skip_failed,
            also_kept=also_kept,
            not_in=(objects.name, objects) if objects is not None and not_in_remote else None,
        )
        if dry or not (plan.local or plan.remote):
            return plan
        if not force and not (confirm or (lambda p: ask(_question(p))))(plan):
            return plan
        return engine.collect(project, plan, objects if cloud else None)
