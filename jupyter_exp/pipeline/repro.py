"""Reproducing a pipeline: decide which stages are out of date, run them, record them.

A stage runs when its command, a dependency, a tracked param or an output changed,
an output is missing, it has no lock entry, or it is ``always_changed``. Before a
run its outputs are removed (unless ``persist``); when its exact inputs ran before,
the run-cache restores the outputs instead. After a run the outputs go to the cache
and the stage's ``dvc.lock`` entry is written; a failing command leaves its entry
untouched.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import JupyterExpError, MissingDependencyError, PipelineError, StageFailedError, UnknownStageError
from ..options import ReproOptions
from ..project import Project
from . import stamp
from .cache import open_cache, remove
from .checkpoint_signal import CheckpointSignal
from .dvcfile import Pipelines, walk_pipelines
from .gitignore import ignore
from .graph import Graph, parse_target, plan
from .hashing import HashInfo
from .lock import LockFiles, build_entry, current_params, entry_outs, lock_path_for, why_changed
from .memo import WorkspaceMemo
from .results import Echo, StageResult, echo_stdout
from .runcache import RunCache, can_cache
from .runner import record_stage, run_command, stop_orphaned_stage
from .stage import Stage
from .stage_env import stage_env

__all__ = ["ReproAbortedError", "ReproFailedError", "commit", "open_cache", "reproduce"]
# open_cache moved to cache.py; re-exported for experiments/snapshot.py


class ReproFailedError(JupyterExpError):
    pass


class ReproAbortedError(JupyterExpError):
    pass


def _changed_besides_missing(run: _Run, graph: Graph, stage: Stage, entry: dict, params: dict) -> str | None:
    """DVC's ``--allow-missing``: why ``stage`` must run when its missing dependencies and
    outputs (absent or not in the cache) count as what its lock entry recorded. A missing
    dependency an upstream stage now records with another hash still counts as changed."""
    recorded: dict[str, HashInfo] = {}
    for key, items in (("deps", stage.deps), ("outs", stage.outs)):
        locked = {i.get("path"): i for i in entry.get(key) or [] if isinstance(i, dict)}
        for item in items:
            if item.def_path in locked and locked[item.def_path].get("md5"):
                recorded[item.path] = HashInfo.from_entry(locked[item.def_path], item.def_path)
    for dep in stage.deps:
        producer = graph.producer_of(dep.path)
        if run.hash_of(dep.path) is None and producer is not None and dep.path in recorded:
            produced = entry_outs(run.locks.entry(producer) or {})
            for out in producer.outs:
                if (
                    out.path == dep.path
                    and out.def_path in produced
                    and produced[out.def_path].md5 != recorded[dep.path].md5
                ):
                    return f"dependency '{dep.def_path}' changed"

    def hash_of(path: str) -> HashInfo | None:
        return run.hash_of(path) or recorded.get(path)

    return why_changed(stage, entry, hash_of, params, lambda info: True)  # "not in cache" allowed


class _Run:
    """One reproduction: what it read (:class:`~.memo.WorkspaceMemo`), the lock files
    (:class:`~.lock.LockFiles`), the cache and run-cache, the echo; it runs and records
    one stage at a time."""

    def __init__(
        self,
        project: Project,
        echo: Echo,
        env: dict[str, str] | None,
        on_start: Callable[[int], None] | None = None,
        on_checkpoint: Callable[[Stage, dict], None] | None = None,
    ) -> None:
        self.project = project
        self.echo = echo
        self.extra_env = env or {}
        self.on_start = on_start
        self.on_checkpoint = on_checkpoint
        self.cache = open_cache(project)
        self.hasher = self.cache.hasher
        self.memo = WorkspaceMemo(project.root, self.hasher)
        self.hash_of = self.memo.hash_of
        self.locks = LockFiles(project.root)
        self.run_cache = RunCache(project.cache_dir)
        self.signal = CheckpointSignal(project.checkpoint_signal_file)

    def record(self, stage: Stage, entry: dict) -> None:
        self.echo(f"Updating lock file '{lock_path_for(stage.dvcfile)}'\n")
        self.locks.record(stage, entry)

    # -- one stage ------------------------------------------------------------
    def check_deps(self, stage: Stage) -> None:
        for dep in stage.deps:
            if self.hash_of(dep.path) is None:
                raise MissingDependencyError(
                    f"Dependency '{dep.def_path}' of stage '{stage.address}' does not exist; "
                    "create it or add the stage that outputs it.",
                    path=dep.path,
                )

    def key_entry(self, stage: Stage, params: dict) -> dict:
        deps = {d.def_path: self.hash_of(d.path) for d in stage.deps}
        entry = build_entry(stage, deps, params, {})  # type: ignore[arg-type]
        entry["outs"] = [{"path": p} for p in sorted(o.def_path for o in stage.outs)]
        return entry

    def restore_from_run_cache(self, stage: Stage, params: dict) -> bool:
        cached = self.run_cache.lookup(self.key_entry(stage, params))
        if cached is None:
            return False
        outs = entry_outs(cached)
        if set(outs) != {o.def_path for o in stage.outs}:
            return False
        if not all(self.cache.has_all(info) for info in outs.values()):
            return False
        self.echo(f"Stage '{stage.address}' is cached - skipping run, checking out outputs\n")
        for out in stage.outs:
            self.cache.checkout(self.project.root / out.path, outs[out.def_path], copy=not out.cache)
            if out.cache:
                ignore(self.project.root, out.path)
        self.memo.forget([o.path for o in stage.outs])
        deps = {d.def_path: self.hash_of(d.path) for d in stage.deps}
        self.record(stage, build_entry(stage, deps, params, outs))  # type: ignore[arg-type]
        return True

    def run_stage(self, stage: Stage, params: dict) -> int:
        root = self.project.root
        for out in stage.outs:
            path = root / out.path
            # A checkpoint stage resumes where it stopped: none of its outputs (its
            # metrics and logs included) is removed before it runs.
            if out.persist or stage.has_checkpoint:
                if path.exists():
                    self.cache.unprotect(path)
            else:
                remove(path)
        self.memo.forget([o.path for o in stage.outs])
        self.echo(f"Running stage '{stage.address}':\n")
        env = stage_env(root, stage, self.extra_env)
        monitor = None
        if stage.has_checkpoint:
            self.signal.reset()
            monitor = lambda: self.signal.poll(lambda info: self.checkpoint(stage, params, info))  # noqa: E731
        stop_orphaned_stage(self.stage_record)
        for cmd in stage.commands:
            self.echo(f"> {cmd}\n")
            try:
                result = run_command(cmd, root / stage.wdir, env, self.echo, self.started, monitor)
            finally:
                self.stage_record.unlink(missing_ok=True)
            if result.returncode != 0:
                raise StageFailedError(stage.address, result.returncode, result.tail)
        return 0

    @property
    def stage_record(self) -> Path:
        return self.project.running_stage_file

    def started(self, pgid: int) -> None:
        record_stage(self.stage_record, pgid)
        if self.on_start is not None:
            self.on_start(pgid)

    def checkpoint(self, stage: Stage, params: dict, info: dict) -> None:
        """The stage asked for a checkpoint: cache its outputs, write its lock entry and
        let the experiment record it (the signal is acknowledged after this returns)."""
        self.memo.forget([d.path for d in stage.deps] + [o.path for o in stage.outs])
        self.commit_stage(stage, params, cacheable=False, allow_missing=True)
        if self.on_checkpoint is not None:
            self.on_checkpoint(stage, info)

    def commit_stage(self, stage: Stage, params: dict, cacheable: bool, allow_missing: bool = False) -> dict:
        """Cache the outputs and write the lock entry (``allow_missing``: at a checkpoint,
        outputs the stage has not written yet are left out)."""
        root = self.project.root
        outs: dict[str, HashInfo] = {}
        for out in stage.outs:
            path = root / out.path
            if allow_missing and not path.exists():
                continue
            if not path.exists():
                raise PipelineError(
                    f"Stage '{stage.address}' did not create output '{out.def_path}'; "
                    "fix its command or the outs in dvc.yaml."
                )
            if out.cache:
                # An output its stage goes on writing in place (persist, a checkpoint stage
                # between steps) must not share its inode with the cache object.
                outs[out.def_path] = self.cache.save(path, copy=out.persist or stage.has_checkpoint)
                ignore(root, out.path)
            elif cacheable:
                outs[out.def_path] = self.cache.save(path, copy=True)
            else:
                info = self.hasher.hash_path(path)
                assert info is not None
                outs[out.def_path] = info
        self.memo.forget([d.path for d in stage.deps] + [o.path for o in stage.outs])
        deps = {d.def_path: self.hash_of(d.path) for d in stage.deps}
        entry = build_entry(stage, deps, params, outs)  # type: ignore[arg-type]
        self.record(stage, entry)
        if cacheable:
            self.run_cache.save(entry)
        return entry


def reproduce(
    project: Project,
    targets: list[str] | None = None,
    options: ReproOptions = ReproOptions(),
    *,
    dry: bool = False,
    run_cache: bool = True,
    env: dict[str, str] | None = None,
    echo: Echo | None = None,
    on_start: Callable[[int], None] | None = None,
    on_checkpoint: Callable[[Stage, dict], None] | None = None,
    cwd: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    pipelines: Pipelines | None = None,
) -> list[StageResult]:
    """Bring the selected stages up to date; return what happened to each.

    ``options`` select the stages and say how failures are treated (``dvc repro``'s
    flags, see :class:`~jupyter_exp.options.ReproOptions`). Targets are read as DVC reads
    them from ``cwd`` (a project-relative directory; default the current directory when
    it is inside the project, else the root): no target means ``dvc.yaml`` there.
    ``confirm(question)`` is asked before each stage runs (the interactive option), and
    a no ends the reproduction with ReproAbortedError.

    ``env`` is added to the stage commands' environment; ``on_start`` gets each
    command's process group id when it starts; ``on_checkpoint(stage, info)`` is called
    at each checkpoint a stage asks for, after its outputs are cached and its lock
    entry written (without it, checkpoints are only acknowledged).

    ``pipelines`` are the project's pipelines when the caller has loaded them already
    (under the project lock, after any change to the files they were built from; see
    :meth:`~.dvcfile.Pipelines.reads`); default: loaded here.

    Raises:
        StageFailedError: a command failed (unless keep_going or ignore_errors).
        MissingDependencyError, PipelineError, UnknownStageError, CyclicGraphError.
        ReproFailedError: with keep_going, after the others ran, when any failed.
    """
    echo = echo or echo_stdout
    cwd = stamp.current_dir(project.root) if cwd is None else cwd
    selected = stamp.selection(targets, options, cwd)
    if options.pull:
        _pull_notice(project, echo)
    with project.lock():
        graph = (pipelines or walk_pipelines(project)).graph()
        wanted = list(targets or []) or ["dvc.yaml"]  # DVC: dvc.yaml of the current directory
        dirs = _target_dirs(project, wanted, cwd) if options.recursive else None
        rooted = [
            posixpath.normpath(posixpath.join(cwd, t))
            if dirs and posixpath.normpath(posixpath.join(cwd, t)) in dirs
            else _from_root(t, cwd)
            for t in wanted
        ]
        # A .dvc file is a stage with no command (DVC's data source).
        sources = [t for t in rooted if t.endswith(".dvc") and not options.all_pipelines]
        for name in sources:
            if not (project.root / name).is_file():
                raise UnknownStageError(
                    f"'{name}' does not exist; name a stage, a dvc.yaml or a .dvc file of the project."
                )
        rooted = [t for t in rooted if t not in sources]
        order = (
            []
            if sources and not rooted
            else plan(graph, None if options.all_pipelines else rooted, options, recursive_dirs=dirs)
        )
        run = _Run(project, echo, env, on_start, on_checkpoint)
        results: dict[str, StageResult] = {}
        try:
            if sources:
                from .tracked import reproduce_data_source

                for name in sources:
                    results[name] = reproduce_data_source(project, name, run.cache, echo, dry=dry)
            for address in order:
                results[address] = _reproduce_one(
                    run, graph, graph.stages[address], results, options, dry=dry, run_cache=run_cache, confirm=confirm
                )
        finally:
            run.hasher.flush()
        final = list(results.values())
        if not any(r.status in ("ran", "restored", "dry", "failed") for r in final):
            if not (dry or options.allow_missing or sources):  # missing data is no "up to date" for a plain repro
                stamp.record(
                    project.own_tmp_dir, selected, final, _read_paths(run, graph, order), _searched_dirs(project, graph)
                )
            echo("Data and pipelines are up to date.\n")
    failed = [r.stage for r in final if r.status == "failed"]
    if failed and options.keep_going:
        raise ReproFailedError(f"Stage(s) {', '.join(repr(f) for f in failed)} failed; fix them and rerun.")
    return final


def commit(
    project: Project, targets: list[str] | None = None, echo: Echo | None = None, pipelines: Pipelines | None = None
) -> list[str]:
    """Record the outputs as they are in the cache and ``dvc.lock`` (``dvc commit -f``).

    Stages whose dependencies or outputs are missing are left alone. Returns the
    addresses of the stages whose lock entries changed. ``pipelines``: as :func:`reproduce`.
    """
    with project.lock():
        graph = (pipelines or walk_pipelines(project)).graph()
        run = _Run(project, echo or echo_stdout, None)
        changed = []
        try:
            for address in plan(graph, targets):
                stage = graph.stages[address]
                paths = [d.path for d in stage.deps] + [o.path for o in stage.outs]
                if any(run.hash_of(p) is None for p in paths):
                    continue
                params = current_params(stage, run.memo.read_params)
                entry = run.locks.entry(stage)
                if why_changed(stage, entry, run.hash_of, params, run.cache.has_all) is None:
                    continue
                run.commit_stage(stage, params, cacheable=False)
                changed.append(address)
        finally:
            run.hasher.flush()
    return changed


def _reproduce_one(
    run: _Run,
    graph: Graph,
    stage: Stage,
    results: dict[str, StageResult],
    options: ReproOptions,
    *,
    dry: bool,
    run_cache: bool,
    confirm: Callable[[str], bool] | None = None,
) -> StageResult:
    force = options.force
    upstream = [results[u] for u in graph.upstream[stage.address] if u in results]
    if options.keep_going and any(r.status in ("failed", "not-run") for r in upstream):
        return StageResult(stage.address, "not-run", "an upstream stage failed")
    if stage.frozen and not force:
        run.echo(f"Stage '{stage.address}' is frozen, skipping\n")
        return StageResult(stage.address, "frozen")
    params = current_params(stage, run.memo.read_params)
    entry = run.locks.entry(stage)
    upstream_ran = any(r.status in ("ran", "restored") for r in upstream)
    forced = force or (options.force_downstream and upstream_ran)
    if force:
        reason: str | None = "forced"
    elif forced:
        reason = "an upstream stage ran"
    else:
        reason = why_changed(stage, entry, run.hash_of, params, run.cache.has_all)
        if reason is not None and options.allow_missing and entry is not None:
            reason = _changed_besides_missing(run, graph, stage, entry, params)
    if reason is None:
        run.echo(f"Stage '{stage.address}' didn't change, skipping\n")
        return StageResult(stage.address, "skipped")
    if dry:
        run.echo(f"Running stage '{stage.address}' ({reason}):\n")
        for cmd in stage.commands:
            run.echo(f"> {cmd}\n")
        return StageResult(stage.address, "dry", reason)
    if confirm is not None and not confirm(
        f"Going to reproduce stage: '{stage.address}'. Are you sure you want to continue?"
    ):
        raise ReproAbortedError(f"Reproduction aborted by the user at stage '{stage.address}'; answer y to run it.")
    started = time.monotonic()
    try:
        run.check_deps(stage)
        cacheable = run_cache and can_cache(stage)
        if cacheable and not forced and run.restore_from_run_cache(stage, params):
            return StageResult(stage.address, "restored", reason, duration=time.monotonic() - started)
        run.run_stage(stage, params)
        run.commit_stage(stage, params, cacheable)
    except JupyterExpError as exc:
        if not (options.keep_going or options.ignore_errors):
            raise
        run.echo(f"ERROR: {exc}\n")
        code = exc.returncode if isinstance(exc, StageFailedError) else None
        return StageResult(stage.address, "failed", reason, code, time.monotonic() - started, str(exc))
    return StageResult(stage.address, "ran", reason, 0, time.monotonic() - started)


def _pull_notice(project: Project, echo: Echo) -> None:
    """``--pull``: outputs come from the DVC remote; with none configured, say so once."""
    if not project.config.get("core", "remote", fallback=None):
        echo(
            "WARNING: no DVC remote is configured, so no missing output was pulled; "
            "add one with `dvc remote add -d NAME URL`.\n"
        )


def _from_root(target: str, cwd: str) -> str:
    """``target`` (relative to ``cwd``) as a project-relative target; stage names of the
    current directory's ``dvc.yaml`` become ``DIR/dvc.yaml:NAME``."""
    if cwd == ".":
        return target
    file, name = parse_target(target, cwd)
    if name is None:
        return file
    return name if file == "dvc.yaml" else f"{file}:{name}"


def _target_dirs(project: Project, targets: list[str], cwd: str) -> set[str]:
    """Project-relative directories among ``targets`` (for ``-R``)."""
    found = set()
    for target in targets:
        rel = posixpath.normpath(posixpath.join(cwd, target))
        if not rel.startswith("../") and rel != ".." and (project.root / rel).is_dir():
            found.add(rel)
    return found


def _searched_dirs(project: Project, graph: Graph) -> list[Path]:
    """The directories searched for ``dvc.yaml`` files and the ignore files that steered
    the search, for the up-to-date stamp."""
    root = project.root
    paths = [root / d for d in graph.walked]
    paths += [root / d / name for d in graph.walked for name in (".gitignore", ".dvcignore")]
    paths.append(root / ".git" / "info" / "exclude")  # a linked work tree: not watched
    return paths


def _read_paths(run: _Run, graph: Graph, order: list[str]) -> list[Path]:
    """Everything a no-op decision over ``order`` read, for the up-to-date stamp."""
    root = run.project.root
    paths = [root / p for p in graph.sources]
    paths += [run.project.config_file, run.project.local_config_file]
    paths += [root / lock_path_for(graph.stages[a].dvcfile) for a in order]
    paths += [root / p for p in run.memo.params_read]
    for address in order:
        stage = graph.stages[address]
        paths += [root / d.path for d in stage.deps]
        for out in stage.outs:
            paths.append(root / out.path)
            info = run.hash_of(out.path)
            if out.cache and info is not None:
                paths += [run.cache.object_path(md5) for md5 in run.cache.object_ids(info)]
    return sorted(set(paths))
