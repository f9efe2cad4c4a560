"""What commits (and the workspace) hold, as ``exp show`` reads them: ``read_data``
for one tree, and the ``Reader`` that answers a collection from the show cache and
reads the commits it does not know together."""

from __future__ import annotations

from typing import Any

from ..errors import JupyterExpError
from ..params_metrics import read_metrics, read_params
from ..pipeline.dvcfile import DVC_YAML, Pipeline, load_pipeline
from ..pipeline.lock import check_lock, lock_path_for
from ..project import Project
from ..revision import RevisionTree
from ..serialize import parse_lock
from ..tree import GitTree, Tree, WorkspaceTree, prefetch
from .commit_cache import CommitCache
from .records import ExpData


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


class Reader:
    """What commits hold (``read_data``), from the show cache when it knows them; those
    it does not know are read ahead together (``want``), in one exchange with git."""

    def __init__(
        self,
        project: Project,
        cache: CommitCache,
        param_deps: bool,
        force: bool = False,
        parsed: tuple[dict, PipelineMemo] | None = None,
    ) -> None:
        """``parsed``: files and pipelines parsed before, by blob (an update's, kept)."""
        self.project = project
        self.cache = cache
        self.param_deps = param_deps
        self.force = force
        self.memo: dict[tuple[str, Any], Any] = parsed[0] if parsed else {}
        self.pipelines = parsed[1] if parsed else PipelineMemo()
        self.trees: dict[str, GitTree] = {}
        self.used: list[tuple[str, ExpData]] = []  # what data_of answered, for the rows' memo
        self._paths = [DVC_YAML, "dvc.lock"]

    def workspace(self) -> ExpData:
        data = read_data(self.project, WorkspaceTree(self.project.root), self.param_deps, self.pipelines)
        # Read ahead, for commits, the files the workspace's pipeline says they hold.
        self._paths = list(dict.fromkeys([DVC_YAML, "dvc.lock", *data.params, *data.metrics]))
        return shaped(data)

    def want(self, revs: list[str]) -> None:
        """Read ahead every commit of ``revs`` the cache does not hold."""
        key = self.param_deps
        missing = [rev for rev in dict.fromkeys(revs) if self.force or self.cache.get((rev, key)) is None]
        if missing:
            self.trees.update(prefetch(self.project.git, missing, self._paths, self.memo))

    def data_of(self, rev: str) -> ExpData:
        key = (rev, self.param_deps)
        cached = None if self.force else self.cache.get(key)
        if cached is None:
            try:
                tree = self.trees.get(rev) or GitTree(self.project.git, rev, memo=self.memo)
                cached = read_data(self.project, tree, self.param_deps, self.pipelines)
            except Exception as exc:  # a broken commit is a row with its error
                cached = ExpData(error=f"{type(exc).__name__}: {exc}")
            self.cache.put(key, cached)
        self.used.append((rev, cached))
        return shaped(cached)

    def current(self, used: tuple[tuple[str, ExpData], ...]) -> bool:
        """Whether data read before is what the cache holds now (a row with an error is
        read again: a pull may mend it)."""
        return not self.force and all(self.cache.get((rev, self.param_deps)) is data for rev, data in used)


def shaped(data: ExpData) -> ExpData:
    """``data`` with its params' and metrics' keys worked out: the table lists the
    columns of 10,000 rows at C speed only if each has them (``records.shapes``)."""
    data.shape()
    return data
