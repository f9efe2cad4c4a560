"""Hyperparameter search: Optuna studies whose trials are queued experiments.

``search(["train.lr=tag(log, interval(1e-4, 0.1))", "train.depth=choice(2,4,8)"],
objective="metrics.json:val.acc", maximize=True, trials=40, jobs=4)`` runs a study; the
same is ``jupyter exp run --search -S ... --objective ... --trials 40 -j 4`` and ``%exp``.
"""

from __future__ import annotations

from . import as_list, echo_stdout, project_at, silent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..options import ReproOptions
    from ..plots.display import PlotsView
    from ..studies.driver import SearchResult
    from ..studies.study import TrialInfo

__all__ = ["search", "search_best", "search_plots", "search_remove", "search_status", "search_trials"]


def search(
    set_params: list[str] | str | None = None,
    *,
    objective: str | None = None,
    maximize: bool = False,
    trials: int = 20,
    jobs: int = 1,
    name: str | None = None,
    sampler: str = "tpe",
    seed: int | None = None,
    prune: str | None = None,
    executor: str | None = None,
    resume: str | None = None,
    targets: list[str] | str | None = None,
    options: ReproOptions | None = None,
    quiet: bool = False,
    root: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> SearchResult:
    """Run a study of ``trials`` trials, ``jobs`` at a time, each a queued experiment
    ``NAME-<n>`` with the sampled params; returns its best trial and status line.

    ``set_params``: ``-S`` overrides; sweeps (``interval(a, b)``, ``tag(log, interval(a,
    b))``, ``int(interval(a, b))``, ``choice(...)``, ``range(...)``) are searched, the rest
    fixed. ``objective``: ``FILE:KEY`` of a metric, minimized unless ``maximize``.
    ``sampler``: tpe, random, grid or cmaes (seeded by ``seed``). ``prune``: median or
    halving, from the objective's step values while trials run. ``executor``: as in
    :func:`~jupyter_exp.run_all`. ``resume``: continue study NAME to its trial count
    (the other arguments but ``jobs`` and ``executor`` come from the study).
    """
    from ..arguments import check_jobs
    from ..options import ReproOptions
    from ..studies.driver import run_search

    check_jobs(jobs)
    return run_search(
        project_at(root),
        as_list(set_params),
        objective=objective,
        maximize=maximize,
        trials=trials,
        jobs=jobs,
        name=name,
        sampler=sampler,
        seed=seed,
        prune=prune,
        executor=executor,
        resume=resume,
        targets=as_list(targets),
        options=options or ReproOptions(),
        echo=silent if quiet else (echo or echo_stdout),
    )


def search_status(name: str, *, root: str | None = None) -> str:
    """``23 / 40 trials, 3 running, best 0.914 (NAME-17)`` for study ``name``."""
    from ..studies.study import status_line

    return status_line(project_at(root), name)


def search_remove(name: str, *, root: str | None = None) -> list[str]:
    """Delete study ``name`` (``exp run --remove NAME``); returns the names of its trials'
    experiments, which stay: ``remove(...)`` removes them as any experiment.

    Raises:
        UnknownStudyError: no study has that name.
        SearchError: some of its trials are queued or running.
    """
    from ..studies.study import remove_study

    return remove_study(project_at(root), name)


def search_best(name: str, *, root: str | None = None) -> str:
    """The name of the experiment of study ``name``'s best trial."""
    from ..studies.study import best_experiment

    return best_experiment(project_at(root), name)


def search_trials(name: str | None = None, *, root: str | None = None) -> dict[str, TrialInfo]:
    """Every trial of study ``name`` (default: of every study), by experiment name: its
    study, number, state, objective value, params and whether it is the best. What
    ``exp show`` and the table need to group and mark a study's trials."""
    from ..studies.study import study_names, trial_infos

    project = project_at(root)
    names = [name] if name is not None else study_names(project)
    return {t.experiment: t for study in names for t in trial_infos(project, study)}


def search_plots(name: str, *, root: str | None = None) -> PlotsView:
    """Study ``name``'s optimization history (each complete trial's objective, and the
    best so far) and param importances (Optuna's ``get_param_importances``), as
    :func:`~jupyter_exp.plots_show` gives plots: shown as Vega-Lite in a notebook,
    ``.specs`` for Python, ``.to_json()`` and ``.write_html()`` as DVC's.

    Raises:
        UnknownStudyError: no study has that name.
    """
    from ..plots.display import PlotsView
    from ..studies.plots import study_plots

    project = project_at(root)
    return PlotsView(project, study_plots(project, name))
