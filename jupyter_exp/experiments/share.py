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

from ..errors import JupyterExpError
from ..git import GitError, RemoteUnavailableError, check_remote
from ..notices import warn
from ..project import Project
from ..refs import ExpRef
from ..remote.config import resolve
from ..remote.sync import fetch_objects, object_store, open_remote, push_objects
from ..remote.used import Revisions, experiment_chains, wanted_objects
from .catalog import select_baselines
from .exceptions import RemoteError, UnknownExperimentError
from .resolve import select_experiments


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
        raise JupyterExpError("No experiments to push; name them or use -A / --rev.")
    notices = []
    if not no_cache:
        spec = resolve(project, dvc_remote)
        commits = experiment_chains(project, [(e.rev, e.baseline) for e in selected])
        wanted = wanted_objects(project, Revisions(list(commits)), [object_store(project)])
        if spec is None:
            if wanted:
                notices.append(
                    "no DVC remote is set, so only the experiment refs are pushed; "
                    "add one with `dvc remote add -d NAME PATH` or pass -r NAME."
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
        project.git.run_network("push", git_remote, *[f"{plus}{e.ref}:{e.ref}" for e in selected])
    except RemoteUnavailableError:
        raise
    except GitError as exc:
        if not _rejected(exc.stderr):
            raise
        raise RemoteError(f"Push to '{git_remote}' was rejected ({exc}); pull first or push with -f.") from None
    for notice in notices:  # said once the push went through: a refused push stays one line
        warn(notice)
    return [e.name for e in selected]


def _rejected(stderr: str) -> bool:
    """Whether git refused to move a ref (it moved on the other side), not failed to talk."""
    return "[rejected]" in stderr or "non-fast-forward" in stderr or "already exists" in stderr


def _remote_refs(project: Project, git_remote: str) -> list[tuple[ExpRef, str]]:
    out = project.git.run_network("ls-remote", git_remote, "refs/exps/*")
    remote = [(ExpRef.parse(r), sha) for sha, _, r in (line.partition("\t") for line in out.splitlines())]
    return [(ref, sha) for ref, sha in remote if ref is not None]


def _ref_updates(project: Project, chosen: list[tuple[ExpRef, str]], force: bool, git_remote: str) -> list[str]:
    """``update-ref --stdin`` commands that move each ref to its fetched commit, each
    guarded by the value it has now; a local experiment that is not an ancestor of the
    fetched one (it diverged) is refused unless ``force``, as git's fetch refuses it."""
    commands = []
    for ref, sha in chosen:
        current = project.git.rev_parse(str(ref))
        if current == sha:
            continue
        if current is not None and not force and project.git.run("rev-list", "-n", "1", current, "--not", sha):
            raise RemoteError(
                f"Fetch from '{git_remote}' failed (local experiment '{ref.name}' has diverged "
                "from the remote one); use -f to overwrite local experiments."
            )
        commands.append(f"update {ref} {sha} {current or '0' * 40}")
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
    remote = _remote_refs(project, git_remote)
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
        return []
    # The commits come first, without touching a ref: what they name is checked and
    # copied before any experiment ref appears (a ref is written last, after its data).
    project.git.run_network(
        "fetch", git_remote, *dict.fromkeys(sha for _, sha in chosen), options=("--no-write-fetch-head", "--no-tags")
    )
    updates = _ref_updates(project, chosen, force, git_remote)
    if not no_cache:
        spec = resolve(project, dvc_remote)
        local = object_store(project)
        commits = Revisions(experiment_chains(project, [(sha, ref.baseline) for ref, sha in chosen]))
        if spec is None:
            if any(not local.exists(m) for m in wanted_objects(project, commits, [local]).paths):
                warn(
                    "no DVC remote is set, so only the experiment refs were pulled; "
                    "add one with `dvc remote add -d NAME PATH` or pass -r NAME."
                )
        else:
            spec, objects = open_remote(project, spec.name)
            wanted = wanted_objects(project, commits, [local, objects])
            missing = fetch_objects(project, spec, objects, wanted, jobs).missing
            if missing:
                raise RemoteError(
                    _say_missing(missing, f"are missing from the DVC remote at {spec.url}")
                    + "; push them from a clone that has them, or pull with --no-cache for the refs alone."
                )
    project.git.update_refs(updates)
    return [ref.name for ref, _ in chosen]
