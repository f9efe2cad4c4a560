"""Collecting the rows of ``exp show``: the workspace, baselines, their experiments.

Every ref is read with one ``git for-each-ref``, every file through one
``git cat-file --batch``, a file that is the same blob in many commits is parsed
once, and what was derived from a commit is kept by its SHA (``commit_cache.py``).
A commit that cannot be read is a row with its error, never an exception.

A collection keeps what it read (``Collected``): a table that follows its project
updates it, reading again only refs, queue entries and progress that moved
(``live_collect.py``), and an experiment whose commit and state did not change keeps
its row objects.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any, cast

from ..gc_pause import gc_paused
from ..project import Project
from ..refs import EXPS_NAMESPACE, HEADS, TAGS, ExpRef
from .catalog import ExpInfo, list_experiments, select_baselines
from .commit_cache import CACHE_VERSION, CommitCache, file_stat
from .commit_reader import PipelineMemo, Reader, read_data, shaped
from .history import Chain, baseline_names, checkpoint_chains, commit_meta
from .queue_store import QueueEntry, QueueStore
from .records import ExpData, ExpRow, RowKind, RowState

__all__ = [  # the records and read_data are re-exported: callers import them from here
    "CACHE_VERSION",
    "Collected",
    "ExpData",
    "ExpRow",
    "RowKind",
    "RowState",
    "collect",
    "gather",
    "PipelineMemo",
    "read_data",
]


Settings = tuple  # collect()'s arguments but force, in signature order (see Collected.settings)
# Rows made for a baseline (by its commit), an experiment (its ref) or a queue entry (its id):
# what else they were made from, the rows, and the (commit, data) they show.
Memo = dict[str, tuple[tuple, tuple[ExpRow, ...], tuple[tuple[str, ExpData], ...]]]


@dataclass
class Collected:
    """One collection: its rows and what they were made from, kept so that a table
    following the project can read again only what moves while experiments run (see
    ``live_collect.update``). Rows of experiments that did not change are the same
    objects from one collection to the next."""

    rows: list[ExpRow]
    settings: Settings
    fixed: tuple  # what an update does not read again: HEAD, branches, tags, packed refs, DVC config
    head: str | None
    baselines: list[str]
    names: dict[str, str]
    meta: dict[str, tuple[int, str | None]]
    workspace: ExpData
    experiments: dict[str, ExpInfo]  # by ref name
    loose: dict[str, int]  # loose experiment refs and their files' inodes, listed before they were read
    listed: tuple  # the stamp of the refs' folders when listed, and when an update may list them again
    chains: dict[str, Chain]  # by experiment commit
    cache: CommitCache
    memo: Memo  # the rows of each baseline (by commit) and experiment (by ref), with the data they show
    blocks: dict[str, tuple[ExpRow, ...]] = field(default_factory=dict)  # memo's rows alone
    parsed: tuple[dict, PipelineMemo] = field(default_factory=lambda: ({}, PipelineMemo()))  # by updates
    entry_memo: Memo = field(default_factory=dict)  # the rows of each queue entry, by id
    order: dict[str, list[tuple[tuple[int, str], str]]] = field(default_factory=dict)  # refs under each baseline
    special: set[str] = field(default_factory=set)  # names of experiments running or reporting progress
    running: set[str] = field(default_factory=set)  # names of the rows shown running
    workspace_stats: dict | None = None  # the files the workspace row read, when an update looked


def fixed_stamp(project: Project) -> tuple:
    """A fingerprint (file stats, no git process) of what decides which baselines a
    collection shows and how it reads commits: HEAD, branches, tags, packed refs and the
    DVC config. While it holds, an update may reuse them."""
    refs = project.git.refs_stamp(prefixes=(HEADS, TAGS))
    config = tuple(file_stat(project.dvc_dir / name) for name in ("config", "config.local"))
    return (refs, config)


def collect(
    project: Project,
    *,
    revs: list[str] | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
    force: bool = False,
    experiments: list[ExpInfo] | None = None,
) -> list[ExpRow]:
    """The rows of ``exp show``: workspace, then each baseline and its experiments,
    newest first."""
    settings = settings_of(revs, num, all_branches, all_tags, all_commits, hide_workspace, param_deps)
    return gather(project, settings, force=force, experiments=experiments).rows


def settings_of(
    revs: list[str] | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
) -> Settings:
    """``collect``'s arguments but ``force``, as ``Collected.settings`` keeps them."""
    return (revs, num, all_branches, all_tags, all_commits, hide_workspace, param_deps)


def gather(
    project: Project,
    settings: Settings,
    *,
    force: bool = False,
    experiments: list[ExpInfo] | None = None,
    previous: Collected | None = None,
) -> Collected:
    """``collect`` with what it read (``settings``: its arguments but ``force``, in
    order). Rows of ``previous`` (a collection with the same settings) that still hold
    are reused."""
    with gc_paused():
        return _gather(project, settings, force, experiments, previous)


def _gather(
    project: Project,
    settings: Settings,
    force: bool,
    experiments: list[ExpInfo] | None,
    previous: Collected | None,
) -> Collected:
    revs, num, all_branches, all_tags, all_commits, hide_workspace, param_deps = settings
    fixed = fixed_stamp(project)  # before reading: a change meanwhile is seen by the next update
    listed = (project.git.folders_stamp((EXPS_NAMESPACE,)), 0.0)
    loose = project.git.loose_refs(EXPS_NAMESPACE)
    baselines = select_baselines(project, revs, num, all_branches, all_tags, all_commits)
    head = project.git.head()
    names = baseline_names(project, head)
    found = list_experiments(project) if experiments is None else experiments
    shown = set(baselines)
    chains = checkpoint_chains(project, [e for e in found if e.baseline in shown])
    reader = Reader(project, CommitCache(project), param_deps, force)
    workspace = reader.workspace()
    collected = Collected(
        [],
        settings,
        fixed,
        head,
        baselines,
        names,
        commit_meta(project, baselines),
        workspace,
        {str(e.ref): e for e in found},
        loose,
        listed,
        chains,
        reader.cache,
        previous.memo if previous is not None and previous.settings == settings else {},
    )
    from .checkpoints import read_progress

    collected.rows = assemble(collected, QueueStore(project).entries(), read_progress(project), reader)
    reader.cache.save()
    return collected


def assemble(
    collected: Collected,
    entries: list[QueueEntry],
    progress: list[dict],
    reader: Reader,
    *,
    moved: dict[str, ExpInfo | None] | None = None,
) -> list[ExpRow]:
    """The rows of ``collected`` with the queue's ``entries`` and the checkpoint
    ``progress`` events. Rows made before (``collected.memo``) for the same commit and
    state are reused: by a full collection if the data they show is still the cache's.

    ``moved``: an update's refs that moved, appeared or went (with what they named
    before, None if new) since ``collected`` was assembled: only those and the
    experiments that run (or ran) are looked at again; the other experiments keep
    their rows, errors too (the next full collection reads those again).
    """
    live = moved is not None
    shown = set(collected.baselines)
    queued: dict[str, list[QueueEntry]] = {}
    for entry in reversed(entries):  # newest first, as experiments
        if entry.state in ("queued", "running", "failed") and entry.baseline in shown:
            queued.setdefault(entry.baseline, []).append(entry)
    # A checkpoint experiment run from the queue has a ref (its last checkpoint) while its
    # entry runs: one row, the ref's, in the entry's state. DVC too shows a running
    # experiment once, with its latest metrics (DVC 3 from the run's own directory).
    running = {(e.baseline, e.name) for e in entries if e.state == "running"}
    states, tips = _checkpoint_states(progress)
    special = set(tips) | {name for _, name in running}  # names whose rows may not be "success"
    old, old_entries = collected.memo, collected.entry_memo
    # An update changes its collection's memo in place (an entry always holds what its check
    # says, so a failed update leaves no wrong one); a full collection starts anew.
    memo: Memo = old if live else {}
    blocks = collected.blocks if live else {}  # memo's rows alone, for joining them at C speed
    entry_memo: Memo = {}
    read_ahead = not live  # once, at the first row made anew

    def reuse(key: str, check: tuple, into: Memo, make: Callable[..., tuple[ExpRow, ...]], *args: Any) -> None:
        """Keep in ``into`` the rows made before under ``key`` from the same ``check``,
        else ``make(*args)``."""
        nonlocal read_ahead
        known = (old_entries if into is entry_memo else old).get(key)
        if known is None or known[0] != check or not (live or reader.current(known[2])):
            if read_ahead:
                read_ahead = False
                reader.want(_revs(collected, queued))
            reader.used = []
            known = (check, make(*args), tuple(reader.used))
        into[key] = known
        if into is memo:
            blocks[key] = known[1]

    earlier: dict[str, tuple[ExpRow, ...]] = {}  # the rows moved refs had (their checkpoints stay)
    if moved is not None:
        for refname, named_before in moved.items():
            if refname in memo:
                earlier[refname] = memo.pop(refname)[1]
            blocks.pop(refname, None)
            if named_before is not None and named_before.baseline in shown:
                _take_out(collected.order.get(named_before.baseline, []), (_newest_first(named_before), refname))
            now = collected.experiments.get(refname)
            if now is not None and now.baseline in shown:
                insort(collected.order.setdefault(now.baseline, []), (_newest_first(now), refname))
        looked_at = set(moved)
        for name in special | collected.special:
            looked_at |= {str(ExpRef(baseline, name)) for baseline in collected.baselines}
    else:
        collected.order = {}
        for refname, exp in collected.experiments.items():
            if exp.baseline in shown:
                collected.order.setdefault(exp.baseline, []).append((_newest_first(exp), refname))
        for order in collected.order.values():
            order.sort()
        looked_at = set(collected.experiments)
    shown_running: set[str] = set()  # names of rows shown running (refs not looked at are not)
    for refname in looked_at:
        found = collected.experiments.get(refname)
        if found is None or found.baseline not in shown:
            continue
        exp = found
        steps = collected.chains.get(exp.rev, [])
        state: RowState = "success"
        reported = tips.get(exp.name)
        # The state of the run that made this chain, if it reported on this chain
        # (its last report may be a step behind the ref: killed in between).
        if reported is not None and (reported == exp.rev or any(rev == reported for rev, _, _ in steps)):
            state = states.get(exp.name, "success")
        if (exp.baseline, exp.name) in running:
            state = "running"
        if state == "running":
            shown_running.add(exp.name)
        known = old.get(refname)
        before = known[1] if known is not None else earlier.get(refname, ())
        reuse(refname, (exp.rev, state), memo, _exp_rows, exp, steps, state, reader, before)
    collected.special = special

    rows: list[ExpRow] = []
    if not collected.settings[5]:  # hide_workspace
        reuse("workspace", (id(collected.workspace),), memo, _workspace_rows, collected.workspace)
        rows += memo["workspace"][1]
    for baseline in collected.baselines:
        named = collected.names.get(baseline)
        reuse(baseline, (named,), memo, _baseline_rows, collected, baseline, named, reader)
        rows += memo[baseline][1]
        refnames = map(itemgetter(1), collected.order.get(baseline, ()))
        rows += itertools.chain.from_iterable(map(blocks.__getitem__, refnames))  # 10,000 experiments: no loop here
        for entry in queued.get(baseline, []):
            if entry.state == "running" and str(ExpRef(baseline, entry.name)) in collected.experiments:
                continue  # shown by its experiment's row
            check = (entry.rev, entry.state, entry.name, entry.created, entry.error)
            reuse(entry.id, check, entry_memo, _queue_rows, entry, reader)
            if entry.state == "running":
                shown_running.add(entry.name)
            rows += entry_memo[entry.id][1]
    collected.memo, collected.blocks, collected.entry_memo = memo, blocks, entry_memo
    collected.running = shown_running
    return rows


def _take_out(order: list[tuple[tuple[int, str], str]], item: tuple[tuple[int, str], str]) -> None:
    at = bisect_left(order, item)
    if at < len(order) and order[at] == item:
        del order[at]


def _newest_first(exp: ExpInfo) -> tuple[int, str]:
    """The order of experiments under their baseline (then by ref name, as listed)."""
    return (-exp.created, exp.rev)


def _revs(collected: Collected, queued: dict[str, list[QueueEntry]]) -> list[str]:
    """Every commit the rows show."""
    revs = list(collected.baselines)
    for baseline in collected.baselines:
        for _, refname in collected.order.get(baseline, ()):
            exp = collected.experiments[refname]
            revs += [exp.rev, *(rev for rev, _, _ in collected.chains.get(exp.rev, []))]
        revs += [e.rev for e in queued.get(baseline, [])]
    return revs


def _workspace_rows(data: ExpData) -> tuple[ExpRow]:
    return (ExpRow("workspace", "workspace", data),)


def _baseline_rows(collected: Collected, baseline: str, name: str | None, reader: Reader) -> tuple[ExpRow]:
    created, parent = collected.meta.get(baseline, (None, None))
    return (ExpRow(baseline, "baseline", reader.data_of(baseline), name, baseline, None, created, parent),)


def _exp_rows(
    exp: ExpInfo, chain: Chain, state: RowState, reader: Reader, before: tuple[ExpRow, ...]
) -> tuple[ExpRow, ...]:
    """An experiment's row and, for a checkpoint experiment, a row per earlier checkpoint
    (those it had ``before`` kept: a checkpoint's row never changes)."""
    head = ExpRow(
        exp.rev,
        "experiment",
        reader.data_of(exp.rev),
        name=exp.name,
        baseline=exp.baseline,
        state=state,
        created=exp.created,
        parent=exp.parents[0] if exp.parents else None,
        step=len(chain) if chain else None,  # DVCLive's step: from 0
    )
    kept = {row.rev: row for row in before if row.kind == "checkpoint"}
    steps = []
    for index, (rev, parent, created) in enumerate(chain):
        row = kept.get(rev)
        step = len(chain) - index - 1
        if (
            row is None
            or (row.step, row.parent, row.created, row.name) != (step, parent, created, exp.name)
            or not reader.current(((rev, row.data),))  # (an error is read again)
        ):
            row = ExpRow(rev, "checkpoint", reader.data_of(rev), exp.name, exp.baseline, None, created, parent, step)
        else:
            reader.used.append((rev, row.data))
        steps.append(row)
    return (head, *steps)


def _checkpoint_states(progress: list[dict]) -> tuple[dict[str, RowState], dict[str, str]]:
    """State and tip of checkpoint experiments that published progress (running,
    interrupted, failed), by name."""
    states: dict[str, RowState] = {}
    tips: dict[str, str] = {}
    for event in progress:
        if event.get("state") in ("running", "interrupted", "failed") and event.get("rev"):
            states[event["experiment"]] = event["state"]
            tips[event["experiment"]] = event["rev"]
    return states, tips


def _queue_rows(entry: QueueEntry, reader: Reader) -> tuple[ExpRow]:
    """A queued, running or failed entry: its params as queued; no metrics yet (a failed
    one says why it failed)."""
    data = reader.data_of(entry.rev)
    error = f"Experiment run failed: {entry.error}" if entry.state == "failed" else None
    return (
        ExpRow(
            entry.rev,
            "experiment",
            shaped(replace(data, metrics={}, error=error or data.error)),
            name=entry.name,
            baseline=entry.baseline,
            state=cast(RowState, entry.state),
            created=int(entry.created),
            parent=entry.baseline,
        ),
    )
