"""Collecting the rows of ``exp show``: the workspace, baselines, their experiments.

Every ref is read with one ``git for-each-ref``, every file through one
``git cat-file --batch``, a file that is the same blob in many commits is parsed
once, and what was derived from a commit is kept by its SHA in
``.dvc/tmp/jupyter_exp/show-cache.json`` (commits never change). A commit that
cannot be read is a row with its error, never an exception. The cache is JSON, not
pickle: a file in the project directory must never be able to run code when read.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..errors import JupyterExpError
from ..notices import warn
from ..params_metrics import read_metrics, read_params
from ..pipeline.dvcfile import DVC_YAML, Pipeline, load_pipeline
from ..pipeline.lock import check_lock, lock_path_for
from ..project import Project
from ..revision import RevisionTree
from ..serialize import parse_lock, write_text_atomic
from ..tree import GitTree, Tree, WorkspaceTree, prefetch
from ..values import FileValues
from .catalog import ExpInfo, list_experiments, select_baselines
from .history import baseline_names, checkpoint_chains, commit_meta
from .queue_store import QueueEntry, QueueStore

CACHE_VERSION = 3  # 3: files inside cached outputs are read (2 kept them as absent)

# What a row is: the workspace, a baseline commit, an experiment (done, queued, running
# or failed: see its state), or a checkpoint of a checkpoint experiment.
RowKind = Literal["workspace", "baseline", "experiment", "checkpoint"]
# An experiment's run: recorded (success), in the queue, running, failed, or (checkpoint
# experiments) interrupted after committing some checkpoints.
RowState = Literal["success", "queued", "running", "failed", "interrupted"]


@dataclass(frozen=True)
class ExpData:
    """What a commit (or the workspace) holds: DVC's SerializableExp fields."""

    params: dict[str, FileValues] = field(default_factory=dict)  # by file
    metrics: dict[str, FileValues] = field(default_factory=dict)
    deps: dict[str, dict] = field(default_factory=dict)  # path -> {hash, size, nfiles}
    outs: dict[str, dict] = field(default_factory=dict)
    error: str | None = None

    @property
    def has_errors(self) -> bool:
        """Whether reading again might give another answer (a file missing from the
        commit is a fact about the commit; an object missing from the cache is not)."""
        return self.error is not None or any(
            v.error is not None and not v.absent for v in (*self.params.values(), *self.metrics.values())
        )


@dataclass(frozen=True)
class ExpRow:
    """One row of the experiment table."""

    rev: str  # a commit SHA, or "workspace"
    kind: RowKind
    data: ExpData
    name: str | None = None  # experiment name, or branch/tag of a baseline
    baseline: str | None = None
    state: RowState | None = None  # for experiments
    created: int | None = None  # committer time, seconds since the epoch (UTC)
    parent: str | None = None
    step: int | None = None  # checkpoint experiments: the step this commit records


class PipelineMemo:
    """Pipelines by the blob ids of the files they were built from.

    A thousand experiments usually share one ``dvc.yaml``; it is resolved once per
    distinct set of source files (``dvc.yaml`` and, with interpolation, the params
    and vars files).
    """

    def __init__(self) -> None:
        self._known: dict[str, list[tuple[tuple[str | None, ...], tuple[str, ...], Pipeline]]] = {}

    def load(self, project: Project, tree: Tree) -> Pipeline:
        if isinstance(tree, RevisionTree):
            tree = tree.inner  # a pipeline's files are git's
        if not isinstance(tree, GitTree):
            return load_pipeline(project.root, tree=tree)
        dvc_oid = tree.oid(DVC_YAML)
        if dvc_oid is None:
            return load_pipeline(project.root, tree=tree)
        for oids, sources, pipeline in self._known.get(dvc_oid, []):
            if tuple(tree.oid(s) for s in sources) == oids:
                return pipeline
        pipeline = load_pipeline(project.root, tree=tree)
        sources = pipeline.sources
        self._known.setdefault(dvc_oid, []).append((tuple(tree.oid(s) for s in sources), sources, pipeline))
        return pipeline


def read_data(project: Project, tree: Tree, param_deps: bool = False, pipelines: PipelineMemo | None = None) -> ExpData:
    """Params, metrics, deps and outs at ``tree``, read through the revision view;
    errors go into the record."""
    if not isinstance(tree, RevisionTree):
        tree = RevisionTree(project, tree, getattr(tree, "memo", None))
    try:
        pipeline = (pipelines or PipelineMemo()).load(project, tree)
    except JupyterExpError as exc:
        return ExpData(error=str(exc))
    params = read_params(project, tree, deps_only=param_deps, pipeline=pipeline)
    metrics = read_metrics(project, tree, pipeline=pipeline)
    deps: dict[str, dict] = {}
    outs: dict[str, dict] = {}
    lock_name = lock_path_for(pipeline.dvcfile)
    try:  # a lock we did not write is checked as repro checks it: a row error, not a traceback
        stages = check_lock(tree.load(lock_name, parse_lock), lock_name) if pipeline.stages else {}
    except JupyterExpError as exc:
        return ExpData(params, metrics, error=str(exc))
    for stage in pipeline.stages:
        entry = stages.get(stage.name) or {}
        locked_deps = {d.get("path"): d for d in entry.get("deps") or []}
        locked_outs = {o.get("path"): o for o in entry.get("outs") or []}
        for dep in stage.deps:
            d = locked_deps.get(dep.def_path, {})
            deps[dep.path] = {"hash": d.get("md5"), "size": d.get("size"), "nfiles": d.get("nfiles")}
        for out in stage.outs:
            if out.kind != "outs":
                continue
            o = locked_outs.get(out.def_path, {})
            outs[out.path] = {
                "hash": o.get("md5"),
                "size": o.get("size"),
                "nfiles": o.get("nfiles"),
                "use_cache": out.cache,
                "is_data_source": False,
            }
    return ExpData(params, metrics, deps, outs)


def _json_exact(value: Any) -> bool:
    """Whether ``value`` comes back from JSON as it went in (str keys, plain types):
    a YAML date or an integer key would not, so such an entry is not kept."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _json_exact(v) for k, v in value.items())
    if kind is list:
        return all(_json_exact(v) for v in value)
    return kind in (str, int, float, bool) or value is None


class _CommitCache:
    """ExpData by (commit SHA, param_deps), persisted between processes as JSON."""

    def __init__(self, project: Project) -> None:
        self.path = project.show_cache_file
        self.entries: dict[tuple[str, bool], ExpData] = {}
        self.dirty = False
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            warn(f"cannot read {project.relpath(self.path)} ({exc.strerror}); exp show reads every commit.")
            return
        try:
            self._load(raw)
        except (ValueError, TypeError, KeyError, AttributeError):
            warn(f"rebuilding the damaged {project.relpath(self.path)}.")
            self.entries.clear()
            self.dirty = True  # written anew on save, even if nothing is added

    def _load(self, raw: bytes) -> None:
        data = json.loads(raw.decode("utf-8"))  # not UTF-8: a ValueError, damage as any other
        if data.get("version") != CACHE_VERSION:
            return
        for rev, param_deps, fields in data["entries"]:
            if type(rev) is not str or type(param_deps) is not bool or not _valid_fields(fields):
                raise ValueError(rev)
            self.entries[(rev, param_deps)] = _from_fields(fields)

    def get(self, key: tuple[str, bool]) -> ExpData | None:
        return self.entries.get(key)

    def put(self, key: tuple[str, bool], data: ExpData) -> None:
        # Not kept: an error may be fixed later (a pull, a fetch); values JSON would change.
        if not data.has_errors and _json_exact(_fields(data)):
            self.entries[key] = data
            self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        entries = [[rev, param_deps, _fields(data)] for (rev, param_deps), data in self.entries.items()]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps({"version": CACHE_VERSION, "entries": entries}))
        except OSError as exc:  # a full disk: only a shortcut is lost
            warn(f"cannot write {self.path} ({exc.strerror}); exp show will read the commits again.")
        with contextlib.suppress(OSError):
            (self.path.parent / "show-cache.pickle").unlink(missing_ok=True)  # the old format, never read


_FIELDS = ("params", "metrics", "deps", "outs")


def _fields(data: ExpData) -> dict:
    """The cache's JSON for ``data``: files' values in DVC's shape."""
    return {
        "params": {f: v.to_dvc() for f, v in data.params.items()},
        "metrics": {f: v.to_dvc() for f, v in data.metrics.items()},
        "deps": data.deps,
        "outs": data.outs,
        "error": data.error,
    }


def _from_fields(fields: dict) -> ExpData:
    """The record back from the cache's JSON; ValueError if it is not that shape."""
    from_dvc = FileValues.from_dvc
    return ExpData(
        {f: from_dvc(v) for f, v in fields["params"].items()},
        {f: from_dvc(v) for f, v in fields["metrics"].items()},
        fields["deps"],
        fields["outs"],
        fields["error"],
    )


def _valid_fields(fields: Any) -> bool:
    return (
        type(fields) is dict
        and set(fields) == {*_FIELDS, "error"}
        and all(type(fields[f]) is dict for f in _FIELDS)
        and (fields["error"] is None or type(fields["error"]) is str)
    )


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
    baselines = select_baselines(project, revs, num, all_branches, all_tags, all_commits)
    head = project.git.head()
    names = baseline_names(project, head)
    experiments = list_experiments(project) if experiments is None else experiments
    queued: dict[str, list] = {}
    for entry in reversed(QueueStore(project).entries()):  # newest first, as experiments
        if entry.state in ("queued", "running", "failed"):
            queued.setdefault(entry.baseline, []).append(entry)
    by_baseline: dict[str, list[ExpInfo]] = {}
    for exp in experiments:
        by_baseline.setdefault(exp.baseline, []).append(exp)
    shown = [e for b in baselines for e in by_baseline.get(b, [])]
    chains = checkpoint_chains(project, shown)
    checkpoint_states, checkpoint_tips = _checkpoint_states(project)
    cache = _CommitCache(project)
    memo: dict[tuple[str, Any], Any] = {}
    pipelines = PipelineMemo()
    workspace = read_data(project, WorkspaceTree(project.root), param_deps, pipelines)
    wanted = [baseline for baseline in baselines] + [e.rev for b in baselines for e in by_baseline.get(b, [])]
    wanted += [e.rev for b in baselines for e in queued.get(b, [])]
    wanted += [rev for chain in chains.values() for rev, _, _ in chain]
    missing = [rev for rev in wanted if force or cache.get((rev, param_deps)) is None]
    # Read ahead, in one exchange, the files the workspace's pipeline says commits hold.
    paths = list(dict.fromkeys([DVC_YAML, "dvc.lock", *workspace.params, *workspace.metrics]))
    trees = prefetch(project.git, missing, paths, memo) if missing else {}

    def data_of(rev: str) -> ExpData:
        key = (rev, param_deps)
        cached = None if force else cache.get(key)
        if cached is None:
            try:
                tree = trees.get(rev) or GitTree(project.git, rev, memo=memo)
                cached = read_data(project, tree, param_deps, pipelines)
            except Exception as exc:  # a broken commit is a row with its error
                cached = ExpData(error=f"{type(exc).__name__}: {exc}")
            cache.put(key, cached)
        return cached

    rows: list[ExpRow] = []
    if not hide_workspace:
        rows.append(ExpRow("workspace", "workspace", workspace))
    meta = commit_meta(project, baselines)
    for baseline in baselines:
        created, parent = meta.get(baseline, (None, None))
        rows.append(
            ExpRow(
                baseline,
                "baseline",
                data_of(baseline),
                name=names.get(baseline),
                baseline=baseline,
                created=created,
                parent=parent,
            )
        )
        exps = sorted(by_baseline.get(baseline, []), key=lambda e: (-e.created, e.rev))
        for exp in exps:
            chain = chains.get(exp.rev, [])
            # The state of the run that made this chain, if it reported on this chain
            # (its last report may be a step behind the ref: killed in between).
            reported = checkpoint_tips.get(exp.name)
            on_chain = reported == exp.rev or any(rev == reported for rev, _, _ in chain)
            rows.append(
                ExpRow(
                    exp.rev,
                    "experiment",
                    data_of(exp.rev),
                    name=exp.name,
                    baseline=baseline,
                    state=checkpoint_states.get(exp.name, "success") if on_chain else "success",
                    created=exp.created,
                    parent=exp.parents[0] if exp.parents else None,
                    step=len(chain) if chain else None,
                )
            )  # DVCLive's step: from 0
            for index, (rev, parent, created) in enumerate(chain):
                rows.append(
                    ExpRow(
                        rev,
                        "checkpoint",
                        data_of(rev),
                        name=exp.name,
                        baseline=baseline,
                        created=created,
                        parent=parent,
                        step=len(chain) - index - 1,
                    )
                )
        for entry in queued.get(baseline, []):
            rows.append(_queue_row(entry, data_of(entry.rev)))
    cache.save()
    return rows


def _checkpoint_states(project: Project) -> tuple[dict[str, RowState], dict[str, str]]:
    """State and tip of checkpoint experiments that published progress (running,
    interrupted, failed), by name."""
    from .checkpoints import read_progress

    states: dict[str, RowState] = {}
    tips: dict[str, str] = {}
    for event in read_progress(project):
        if event.get("state") in ("running", "interrupted", "failed") and event.get("rev"):
            states[event["experiment"]] = event["state"]
            tips[event["experiment"]] = event["rev"]
    return states, tips


def _queue_row(entry: QueueEntry, data: ExpData) -> ExpRow:
    """A queued, running or failed entry: its params as queued; no metrics yet (a failed
    one says why it failed)."""
    error = f"Experiment run failed: {entry.error}" if entry.state == "failed" else None
    return ExpRow(
        entry.rev,
        "experiment",
        replace(data, metrics={}, error=error or data.error),
        name=entry.name,
        baseline=entry.baseline,
        state=entry.state,
        created=int(entry.created),
        parent=entry.baseline,
    )
