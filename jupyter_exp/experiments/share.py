"""``exp push`` / ``exp pull``: experiment refs to and from a git remote, and the
cache objects they need to and from a DVC data remote of any kind (through the
transfer layer of :mod:`jupyter_exp.remote`).

What travels is what ``dvc exp push`` / ``dvc exp pull`` carry (their ``_push_cache``
runs ``dvc push --rev`` over every commit of the experiment): for each commit from the
experiment's tip down its first parents to the baseline, the outputs of every ``.dvc``
file and of every cached stage output recorded in any ``dvc.lock`` (the stage declared
in the ``dvc.yaml`` beside it, ``cache: false`` outputs left out), directories with their
``.dir`` manifest and every file it names. The remote is DVC 3's layout,
``<url>/files/md5/<2 hex>/<30 hex>``, objects read-only, so either tool reads what the
other wrote. Every path and hash read from the commits goes through the same validators
as ``exp apply`` (``read_dvc_file``, ``check_lock``, ``check_md5``); what the commits
need is :func:`jupyter_exp.remote.used.wanted_objects`.
"""

from __future__ import annotations

from ..errors import JupyterExpError, option
from ..git import GitError, RemoteUnavailableError, check_remote, ref_update
from ..notices import warn
from ..project import Project
from ..refs import ExpRef
from ..remote.config import resolve
from ..remote.sync import fetch_objects, object_store, open_remote, push_objects
from ..remote.used import Revisions, experiment_chains, wanted_objects
from .catalog import remote_experiments, select_baselines
from .exceptions import RemoteError, UnknownExperimentError
from .notes import merge_notes
from .notes_push import push_notes_of
from .resolve import select_experiments
from .snapshot import ZERO


def _say_missing(missing: tuple[str, ...], where: str) -> str:
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
        spec = resolve(project, dvc_remote)
        commits = experiment_chains(project, [(e.rev, e.baseline) for e in selected])
        wanted = wanted_objects(project, Revisions(list(commits)), [object_store(project)])
        if spec is None:
            if wanted:
                notices.append(
                    "no DVC remote is set, so only the experiment refs are pushed; "
                    "add one with `dvc remote add -d NAME PATH`, or name one for this command."
                )
        else:
            spec, objects = open_remote(project, spec.name)
            missing = push_objects(project, spec, objects, wanted, jobs).missing
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
    # Notes and tags travel with the experiments: theirs only (see notes_push).
    push_notes_of(project, git_remote, experiment_chains(project, [(e.rev, e.baseline) for e in selected]))
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
        spec = resolve(project, dvc_remote)
        local = object_store(project)
        commits = Revisions(experiment_chains(project, [(sha, ref.baseline) for ref, sha in chosen]))
        if spec is None:
            if any(not local.exists(m) for m in wanted_objects(project, commits, [local]).paths):
                warn(
                    "no DVC remote is set, so only the experiment refs were pulled; "
                    "add one with `dvc remote add -d NAME PATH`, or name one for this command."
                )
        else:
            spec, objects = open_remote(project, spec.name)
            wanted = wanted_objects(project, commits, [local, objects])
            missing = fetch_objects(project, spec, objects, wanted, jobs).missing
            if missing:
                raise RemoteError(
                    _say_missing(missing, f"are missing from the DVC remote at {spec.url}")
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
