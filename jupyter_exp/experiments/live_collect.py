"""A collection kept current while experiments run, at the cost of what moved.

A table following a project with 10,000 experiments cannot collect them all again
for each checkpoint a running experiment commits. ``update`` reads again only what
moves while experiments run: the experiment refs that were added, rewritten or
removed (found from directory listings, read through the persistent ``git cat-file``),
the queue entries, the checkpoint progress and the workspace row. Everything else
(baselines, their names, every other experiment's rows) is reused. When what it
reuses may have changed (HEAD, a branch, a tag, packed refs or the DVC config moved)
it collects everything again, as ``collect`` does.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from ..gc_pause import gc_paused
from ..project import Project
from ..refs import EXPS_NAMESPACE, ExpRef, InvalidExpNameError, check_name
from .catalog import ExpInfo
from .checkpoints import read_progress
from .collect import Collected, Reader, assemble, fixed_stamp, gather
from .history import Chain, checkpoint_chains
from .queue_store import QueueEntry, QueueStore
from .show import workspace_files
from .show_stamp import file_stats

MAX_PARSED = 1000  # files parsed by updates, kept for the next ones (a run's params, its dvc.yaml)
MAX_WALK = 64  # commits read back to the old tip of a checkpoint chain before asking git log
LISTING_SPACING = 1000  # seconds between listings of the refs per second a listing costs (0.1% of a core)


def update(project: Project, previous: Collected) -> Collected:
    """``previous`` brought up to date: the same rows as a new ``collect`` with its
    settings would give, the unchanged ones the same objects. A full collection when
    HEAD, branches, tags, packed refs or the DVC config changed since ``previous``.

    Two things wait for later: an error row is not read again (a pull may mend it; the
    next full collection does), and an experiment another process added or removed
    while none runs shows once the refs are listed again (at once in a small project;
    a few seconds apart with 10,000 experiments, see LISTING_SPACING).
    """
    if fixed_stamp(project) != previous.fixed:
        return gather(project, previous.settings, previous=previous)
    with gc_paused():
        return _update(project, previous)


def _update(project: Project, previous: Collected) -> Collected:
    loose, listed = previous.loose, previous.listed
    folders = project.git.folders_stamp((EXPS_NAMESPACE,))
    if folders != listed[0] and time.monotonic() >= listed[1]:
        # Listing 10,000 refs takes milliseconds: spaced by its cost (running experiments'
        # refs are read whenever they move; others that come or go wait a little).
        cpu = time.thread_time()
        loose = project.git.loose_refs(EXPS_NAMESPACE)
        listed = (folders, time.monotonic() + LISTING_SPACING * (time.thread_time() - cpu))
    entries = QueueStore(project).entries()
    progress = read_progress(project)
    changed = _changed_refs(previous, loose, entries, progress)
    experiments = dict(previous.experiments)
    chains = dict(previous.chains)
    moved: dict[str, ExpInfo | None] = {}  # refs that moved, came or went: what they named before
    for refname, info in zip(changed, _read_refs(project, changed, previous.experiments)):
        old = experiments.get(refname)
        if info is not None and old is not None and info.rev == old.rev:
            continue  # read again, not moved
        if old is None and info is None:
            continue
        moved[refname] = old
        if old is not None:
            del experiments[refname]
            chains.pop(old.rev, None)
        if info is not None:
            experiments[refname] = info
    _extend_chains(project, previous, experiments, chains, moved)
    if len(previous.parsed[0]) > MAX_PARSED:
        previous.parsed[0].clear()  # parsed files of commits long gone
    reader = Reader(project, previous.cache, previous.settings[6], parsed=previous.parsed)
    workspace, stats = previous.workspace, previous.workspace_stats
    if stats is None or file_stats([Path(p) for p in stats]) != stats:
        stats = file_stats(workspace_files(project))  # before reading: a change meanwhile is seen next time
        workspace = reader.workspace()
        if workspace == previous.workspace:
            workspace = previous.workspace  # the same object: its row is the same
    collected = replace(
        previous,
        workspace=workspace,
        workspace_stats=stats,
        experiments=experiments,
        loose=loose,
        listed=listed,
        chains=chains,
        order={baseline: list(refs) for baseline, refs in previous.order.items()},  # changed in place
        rows=[],
    )
    collected.rows = assemble(collected, entries, progress, reader, moved=moved)
    return collected


def _changed_refs(
    previous: Collected, loose: dict[str, int], entries: list[QueueEntry], progress: list[dict]
) -> list[str]:
    """Refs to read again: loose refs added, rewritten (another inode) or removed, and
    those of experiments that run now or ran at the last update (a ref rewritten twice
    between two listings may get its first inode back; the listing may wait)."""
    # Refs whose (name, inode) is on one side only: added, rewritten or removed (at C speed).
    changed = {name for name, _ in loose.items() ^ previous.loose.items()}
    for entry in entries:
        if entry.state == "running":
            changed.add(str(ExpRef(entry.baseline, entry.name)))
    names = set(previous.special)
    for event in progress:
        if event.get("state") == "running" and isinstance(event.get("experiment"), str):
            if isinstance(event.get("baseline"), str):
                changed.add(str(ExpRef(event["baseline"], event["experiment"])))
            else:
                names.add(event["experiment"])
    changed |= {str(ExpRef(baseline, name)) for baseline in previous.baselines for name in names}
    return sorted(changed)


def _read_refs(project: Project, refnames: list[str], known: dict[str, ExpInfo]) -> list[ExpInfo | None]:
    """The experiment each ref names now (None: gone, or not an experiment's commit),
    through the persistent ``git cat-file --batch``: no process per update."""
    refs = [known[refname].ref if refname in known else _valid(refname) for refname in refnames]
    # A name git could read as more than a ref (``x:path``, ``x^{...}``) is never asked.
    answers = iter(project.git.read_objects([str(ref) for ref in refs if ref is not None]))
    found: list[ExpInfo | None] = []
    for ref in refs:
        answer = next(answers) if ref is not None else None
        if ref is None or answer is None or answer[1] != "commit":
            found.append(None)
            continue
        found.append(ExpInfo(ref, answer[0], *_commit_fields(answer[2])))
    return found


def _commit_fields(data: bytes) -> tuple[str, int, tuple[str, ...]]:
    """A commit object's tree, committer time and parents."""
    tree, created, parents = "", 0, []
    for line in data.split(b"\n\n", 1)[0].decode(errors="replace").splitlines():
        field, _, value = line.partition(" ")
        if field == "tree":
            tree = value
        elif field == "parent":
            parents.append(value)
        elif field == "committer":
            created = int(value.rsplit(" ", 2)[-2])
    return tree, created, tuple(parents)


def _valid(refname: str) -> ExpRef | None:
    """The experiment ``refname`` names, if it is one and its name is one git takes (a
    file in the refs' folders or a progress file may name anything)."""
    ref = ExpRef.parse(refname)
    try:
        return ref if ref is not None and check_name(ref.name) else None
    except InvalidExpNameError:
        return None


def _extend_chains(
    project: Project,
    previous: Collected,
    experiments: dict[str, ExpInfo],
    chains: dict[str, Chain],
    moved: dict[str, ExpInfo | None],
) -> None:
    """Checkpoint chains of the experiments that moved: new checkpoints on the old tip
    extend its chain (read through the running cat-file); any other chain is read
    from git (one process for them all)."""
    unknown = []
    for refname, old in moved.items():
        exp = experiments.get(refname)
        if exp is None or not exp.parents or exp.parents[0] == exp.baseline:
            continue  # not a chain: its commit sits on its baseline
        chain = _walk(project, exp, old, previous.chains)
        if chain is None:
            unknown.append(exp)
        else:
            chains[exp.rev] = chain
    if unknown:
        chains.update(checkpoint_chains(project, unknown))


def _walk(project: Project, exp: ExpInfo, old: ExpInfo | None, known: dict[str, Chain]) -> Chain | None:
    """``exp``'s chain from its commit down to its old tip ``old`` (whose chain is
    ``known``) or its baseline, a few commits at most; None past that."""
    chain: Chain = []
    rev = exp.parents[0]
    while len(chain) < MAX_WALK:
        if old is not None and rev == old.rev:
            return [*chain, (old.rev, old.parents[0] if old.parents else None, old.created), *known.get(old.rev, [])]
        if rev == exp.baseline:
            return chain
        found = project.git.read_object(rev)
        if found is None or found[1] != "commit":
            return None
        _, created, parents = _commit_fields(found[2])
        chain.append((rev, parents[0] if parents else None, created))
        if not parents:
            return None  # a root commit: not on the baseline
        rev = parents[0]
    return None
