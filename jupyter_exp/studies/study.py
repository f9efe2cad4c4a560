"""Studies in the project's Optuna storage: setup, samplers, pruners, status, best.

One SQLite file (``Project.search_dir / "studies.db"``) holds every study of the
project; a study's name is the search's ``-n NAME``, and what it was set up with (the
``-S`` overrides, the objective, the trial count, the sampler) is kept in its user
attributes, so ``--resume NAME`` needs nothing else. Each trial's user attributes
name its experiment and queue entry, and say why it failed.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import option
from ..project import Project
from ..serialize import temp_sibling
from .exceptions import OptunaMissingError, SearchError, UnknownSamplerError, UnknownStudyError
from .labels import STATE_WORDS
from .space import SearchSpace, parse_space

SAMPLERS = ("tpe", "random", "grid", "cmaes")
PRUNERS = ("median", "halving")
STUDY_FILE = "studies.db"


@dataclass(frozen=True)
class Objective:
    """``FILE:KEY`` (dotted) of a metric, and which way is better."""

    file: str
    key: str
    maximize: bool

    @classmethod
    def parse(cls, spec: str | None, maximize: bool) -> Objective:
        if not spec or ":" not in spec or not all(spec.split(":", 1)):
            raise SearchError(
                f"Name the metric to optimize as FILE:KEY, e.g. {option('objective', 'metrics.json:val.acc')}."
            )
        file, key = spec.split(":", 1)
        return cls(file, key, maximize)

    def value_in(self, data: Any) -> float | None:
        """The objective's number in a metrics file's ``data``, or None."""
        for part in self.key.split("."):
            if not isinstance(data, dict) or part not in data:
                return None
            data = data[part]
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            return None
        return float(data)


@dataclass(frozen=True)
class Setup:
    """What a study was started with (its user attributes)."""

    set_params: tuple[str, ...]
    objective: Objective
    trials: int
    sampler: str
    seed: int | None
    prune: str | None
    points: int | None = None  # the grid sampler's: how many points its grid has

    @property
    def limit(self) -> int:
        """How many trials the study runs: its trial count, or fewer when a grid has fewer
        points (each point is tried once)."""
        return min(self.trials, self.points) if self.points is not None else self.trials

    def attrs(self) -> dict[str, Any]:
        return {
            "jupyter_exp": json.dumps(
                {
                    "set_params": list(self.set_params),
                    "objective": f"{self.objective.file}:{self.objective.key}",
                    "maximize": self.objective.maximize,
                    "trials": self.trials,
                    "sampler": self.sampler,
                    "seed": self.seed,
                    "prune": self.prune,
                    "points": self.points,
                }
            )
        }

    @classmethod
    def of(cls, attrs: dict[str, Any], name: str) -> Setup:
        try:
            raw = json.loads(attrs["jupyter_exp"])
            setup = cls(
                tuple(raw["set_params"]),
                Objective.parse(raw["objective"], bool(raw["maximize"])),
                int(raw["trials"]),
                str(raw["sampler"]),
                raw["seed"],
                raw["prune"],
                raw.get("points"),
            )
        except (KeyError, TypeError, ValueError):
            raise SearchError(f"Study '{name}' was not started by `exp run --search`; start a new one.") from None
        # (a grid study kept before its points were: counted from its space)
        return setup.with_points() if setup.sampler == "grid" and setup.points is None else setup

    def with_points(self) -> Setup:
        """This setup with its grid's point count (a grid sampler's; others have none)."""
        if self.sampler != "grid":
            return self
        return dataclasses.replace(self, points=math.prod(len(d.grid()) for d in self.space.dimensions))

    @property
    def space(self) -> SearchSpace:
        return parse_space(list(self.set_params))


def optuna() -> Any:
    """The optuna module, quiet (its INFO lines would drown the queue's)."""
    try:
        import optuna as module
    except ImportError:
        raise OptunaMissingError("Hyperparameter search needs Optuna; pip install 'jupyter_exp[search]'.") from None
    module.logging.set_verbosity(module.logging.WARNING)
    return module


def check_choices(trials: int, sampler: str, prune: str | None) -> None:
    """Refuse a trial count, sampler or pruner that cannot work, before anything starts."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise SearchError(f"A search needs at least one trial; use {option('trials', '1')} or more.")
    if sampler not in SAMPLERS:
        raise UnknownSamplerError(f"Unknown sampler '{sampler}'; use one of {', '.join(SAMPLERS)}.")
    if prune is not None and prune not in PRUNERS:
        raise UnknownSamplerError(f"Unknown pruner '{prune}'; use {option('prune', 'median')} or halving.")


def make_sampler(setup: Setup, space: SearchSpace) -> Any:
    """The Optuna sampler the setup names (seeded when it has a seed)."""
    samplers = optuna().samplers
    if setup.sampler == "random":
        return samplers.RandomSampler(seed=setup.seed)
    if setup.sampler == "grid":
        from optuna.samplers import GridSampler

        class Grid(GridSampler):
            # Optuna's stops the study once the grid is used up, which only works inside
            # study.optimize(); the driver asks and tells itself and stops at the count.
            def after_trial(self, *_args: Any) -> None:
                pass

        return Grid({d.name: d.grid() for d in space.dimensions}, seed=setup.seed)
    if setup.sampler == "cmaes":
        return samplers.CmaEsSampler(seed=setup.seed, warn_independent_sampling=False)
    # Few startup trials: a search here is tens of trials, not thousands.
    return samplers.TPESampler(seed=setup.seed, n_startup_trials=min(10, max(2, setup.trials // 4)))


def make_pruner(prune: str | None) -> Any:
    pruners = optuna().pruners
    if prune == "median":
        return pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if prune == "halving":
        return pruners.SuccessiveHalvingPruner()
    return pruners.NopPruner()


def storage(project: Project) -> Any:
    """The project's study storage (created on first use)."""
    path = str(project.search_dir / STUDY_FILE)
    # One per file and process: making one checks the schema (~0.3 s), and a status
    # line or a result reads the study several times.
    with _storages_lock:
        if path not in _storages or not os.path.exists(path):
            if not os.path.exists(path):
                _create(project.search_dir)
            engine = {"creator": partial(_connect, path)}
            _storages[path] = optuna().storages.RDBStorage(f"sqlite:///{path}", engine_kwargs=engine)
        return _storages[path]


def _create(folder: Path) -> None:
    """The storage file, made aside and renamed into place: a reader in another process
    never finds it without its tables (and two makers never race on them)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(folder / STUDY_FILE)
    try:
        made = optuna().storages.RDBStorage(f"sqlite:///{tmp}", engine_kwargs={"creator": partial(_connect, str(tmp))})
        made.engine.dispose()
        # A link, not a rename: it never replaces a file another process made meanwhile.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, folder / STUDY_FILE)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


_storages: dict[str, Any] = {}
_storages_lock = threading.Lock()


def _connect(path: str) -> sqlite3.Connection:
    # A status reader and the driver share the file: wait for its lock. Write-ahead log,
    # synced at checkpoints: a commit costs no fsync (a killed process loses nothing; a
    # power cut, at most the last trials' news), which is most of a trial's bookkeeping.
    connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def study_names(project: Project) -> list[str]:
    """The names of the project's studies (none when nothing was searched)."""
    if not (project.search_dir / STUDY_FILE).exists():
        return []
    return [s.study_name for s in optuna().get_all_study_summaries(storage(project), include_best_trial=False)]


def load(project: Project, name: str, setup: Setup | None = None) -> tuple[Any, Setup]:
    """Study ``name`` with its sampler and pruner, and its setup."""
    if name not in study_names(project):
        raise UnknownStudyError(f"No study named '{name}'; `exp run --search --status` lists them.")
    module = optuna()
    store = storage(project)
    plain = module.load_study(study_name=name, storage=store)
    setup = setup or Setup.of(plain.user_attrs, name)
    study = module.load_study(
        study_name=name,
        storage=store,
        sampler=make_sampler(setup, setup.space),
        pruner=make_pruner(setup.prune),
    )
    return study, setup


@dataclass(frozen=True)
class TrialInfo:
    """One trial as the table shows it: which study, which number, how it went."""

    study: str
    number: int  # 1-based, as in the experiment's name
    experiment: str
    state: str  # running | complete | pruned | failed | waiting
    value: float | None
    best: bool
    params: dict[str, Any]
    error: str | None


def trial_infos(project: Project, name: str) -> list[TrialInfo]:
    """Every trial of study ``name``, in order."""
    study, _setup = load(project, name)
    trials = study.get_trials(deepcopy=False)
    best = _best_number(study)
    return [
        TrialInfo(
            name,
            t.number + 1,
            _experiment(name, t),
            STATE_WORDS.get(t.state.name, t.state.name.lower()),
            t.value,
            t.number == best,
            dict(t.params),
            t.user_attrs.get("error"),
        )
        for t in trials
    ]


def _best_number(study: Any) -> int | None:
    try:
        return int(study.best_trial.number)
    except ValueError:  # no complete trial yet
        return None


def status_line(project: Project, name: str) -> str:
    """``23 / 40 trials, 3 running, best 0.914 (NAME-17)``; pruned and failed counts
    follow the running one when there are any."""
    study, setup = load(project, name)
    infos = trial_infos(project, name)
    from .progress import line_of

    done = sum(1 for t in infos if t.state in ("complete", "pruned", "failed"))
    counts = collections.Counter(t.state for t in infos)
    best = next((t for t in infos if t.best), None)
    shown = (best.value, best.experiment) if best is not None and best.value is not None else None
    return line_of(done, setup.limit, counts, shown, setup.trials)


def best_experiment(project: Project, name: str) -> str:
    """The experiment of study ``name``'s best trial."""
    best = next((t for t in trial_infos(project, name) if t.best), None)
    if best is None:
        raise SearchError(f"Study '{name}' has no complete trial yet; wait for one (`exp run --search --status`).")
    return best.experiment


@contextlib.contextmanager
def driving(project: Project, name: str) -> Iterator[None]:
    """Hold study ``name``'s driver lock for the block: one process at a time drives or
    removes a study (a driver's storage mirror takes it to be its study's one writer, and
    a study removed under its driver would leave it writing to nothing). A killed holder
    frees it.

    Raises:
        SearchError: another process holds it.
    """
    folder = project.search_dir / "drivers"
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]  # (any name: no path)
    fd = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise SearchError(
                f"Study '{name}' is being run or removed by another process{f' (pid {pid})' if pid else ''}; "
                "wait for it to end, or stop it, and retry."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # (which frees the lock)


def remove_study(project: Project, name: str) -> list[str]:
    """Delete study ``name`` from the project's storage; returns its trials' experiment
    names, which stay (they are ordinary experiments: ``exp remove`` removes them).
    Refused while its driver runs or one of its trials is queued or running: its driver
    would lose it."""
    load(project, name)  # (an unknown name: its error, and no lock file for it)
    with driving(project, name):
        return _remove(project, name)


def _remove(project: Project, name: str) -> list[str]:
    from ..experiments.queue_store import QueueStore

    study, _setup = load(project, name)
    trials = study.get_trials(deepcopy=False)
    # A dead driver's trials read RUNNING too: their queue entries say whether one lives.
    unfinished = {_experiment(name, t) for t in trials if t.state.name == "RUNNING"}
    waiting: dict[str, list[str]] = {"running": [], "queued": []}
    for entry in QueueStore(project).entries() if unfinished else []:
        if entry.name in unfinished and entry.state in waiting:
            waiting[entry.state].append(entry.name)
    if waiting["running"] or waiting["queued"]:
        listed = "; ".join(f"{state}: {', '.join(names)}" for state, names in waiting.items() if names)
        raise SearchError(
            f"Study '{name}' has trials in the queue ({listed}); stop or drop them first "
            f"(`exp queue kill NAME`, `exp queue remove NAME...`)."
        )
    optuna().delete_study(study_name=name, storage=storage(project))
    return [_experiment(name, t) for t in trials]


def free_name(project: Project, trial_names: set[str]) -> str:
    """A random study name that is no study's and whose trials' names no experiment takes."""
    from ..experiments.names import random_name

    return random_name(set(study_names(project)) | trial_names)


def trial_names_taken(project: Project) -> dict[str, list[str]]:
    """The experiments on HEAD named as a study's trials are (``NAME-<n>``), by NAME."""
    from ..experiments.catalog import list_experiments

    head = project.git.head()
    found: dict[str, list[str]] = {}
    for exp in sorted(list_experiments(project), key=lambda e: _natural(e.name)):
        study, dash, number = exp.name.rpartition("-")
        if exp.baseline == head and dash and number.isdigit():
            found.setdefault(study, []).append(exp.name)
    return found


def _natural(name: str) -> tuple[str, int]:
    study, _dash, number = name.rpartition("-")
    return (study, int(number)) if number.isdigit() else (name, -1)


def _experiment(study: str, trial: Any) -> str:
    return str(trial.user_attrs.get("experiment", f"{study}-{trial.number + 1}"))
