"""Hyperparameter search overhead: what a study adds on top of the experiments it runs.

    python bench/search.py [--trials N] [--quick]

1. Scheduling overhead per trial, the driver's own steps (sample, queue on the
   search's snapshot, read the objective, tell) timed around real runs of a trivial one-stage pipeline (target:
   under 50 ms).
2. A study of N trials (default 100) with -j 2 against N plainly queued experiments
   (a ``range()`` sweep) run with -j 2, wall time each (target: within 1.3x).
3. The study's plots (``search_plots``: history and importances), warm.

Each part builds its own project in a temporary folder; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import jupyter_exp

SCORE = "import json, yaml; p = yaml.safe_load(open('params.yaml'))['train']; json.dump({'acc': -(p['x'] - 3) ** 2}, open('metrics.json', 'w'))\n"  # noqa: E501
DVC_YAML = """stages:
  score:
    cmd: python score.py
    deps: [score.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
"""


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "b@example.com"], ["config", "user.name", "B"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    (root / "score.py").write_text(SCORE)
    (root / "params.yaml").write_text("train:\n  x: 0\n")
    (root / "dvc.yaml").write_text(DVC_YAML)
    jupyter_exp.init(str(root))
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True)
    return root


def cpu() -> float:
    """CPU seconds of this process and of its children that ended (git's processes):
    unlike the clock, not inflated by a machine busy with other work."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def overhead(root: Path, trials: int) -> tuple[list[float], list[float], float, list[float]]:
    """Milliseconds per trial spent by the driver's Optuna steps (sample, tell, read the
    objective) and by queueing the trial, on the driver's own path (its storage mirror,
    its trial queue); the run itself excluded. Also the one-time snapshot of the
    workspace the trials are queued on, and the CPU milliseconds of the steps timed."""
    from jupyter_exp.experiments.executor import run_entry
    from jupyter_exp.options import ReproOptions
    from jupyter_exp.overrides import group_by_file
    from jupyter_exp.project import Project
    from jupyter_exp.studies.driver import read_objective
    from jupyter_exp.studies.mirror import mirrored
    from jupyter_exp.studies.space import parse_space
    from jupyter_exp.studies.study import Objective, optuna, storage
    from jupyter_exp.studies.trial_queue import TrialQueue

    project = Project(root)
    space = parse_space(["train.x=interval(0, 10)"])
    distributions = {d.name: d.distribution() for d in space.dimensions}
    objective = Objective.parse("metrics.json:acc", True)
    optuna().create_study(study_name="bench", storage=storage(project), direction="maximize")
    study = optuna().load_study(study_name="bench", storage=mirrored(storage(project), "bench"))
    start = time.perf_counter()
    queue = TrialQueue(project, None, ReproOptions())
    snapshot = (time.perf_counter() - start) * 1000
    optuna_costs, queue_costs, cpu_costs = [], [], []
    for number in range(trials):
        start, start_cpu = time.perf_counter(), cpu()
        trial = study.ask(distributions)
        asked = time.perf_counter()
        overrides = group_by_file(space.overrides(trial.params))
        entry_id = queue.queue(f"bench-{number + 1}", overrides)
        queued = time.perf_counter()
        trial.set_user_attr("entry_id", entry_id)
        noted, noted_cpu = time.perf_counter(), cpu()
        outcome = run_entry(str(root), entry_id)
        ran, ran_cpu = time.perf_counter(), cpu()
        value = read_objective(project, outcome.exp_rev or "", objective)
        study.tell(trial, value)
        cpu_costs.append((noted_cpu - start_cpu + cpu() - ran_cpu) * 1000)
        optuna_costs.append((asked - start + noted - queued + time.perf_counter() - ran) * 1000)
        queue_costs.append((queued - asked) * 1000)
    queue.close()
    return optuna_costs, queue_costs, snapshot, cpu_costs


def study_vs_queue(base: Path, trials: int) -> tuple[float, float, float, float]:
    """Wall seconds of a study of ``trials`` with -j 2, and of as many queued runs; then
    the CPU seconds of each (this process, git's and the stages')."""
    searched = make_project(base / "searched")
    start, start_cpu = time.perf_counter(), cpu()
    jupyter_exp.search(
        ["train.x=interval(0, 10)"], objective="metrics.json:acc", maximize=True, trials=trials, jobs=2,
        name="s", seed=0, quiet=True, root=str(searched),
    )  # fmt: skip
    study, study_cpu = time.perf_counter() - start, cpu() - start_cpu
    queued = make_project(base / "queued")
    start, start_cpu = time.perf_counter(), cpu()
    jupyter_exp.queue(set_params=[f"train.x=range(0,{trials})"], name="q", quiet=True, root=str(queued))
    jupyter_exp.run_all(2, echo=lambda _text: None, root=str(queued))
    return study, time.perf_counter() - start, study_cpu, cpu() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="10 trials")
    args = parser.parse_args()
    trials = 10 if args.quick else args.trials
    with tempfile.TemporaryDirectory(prefix="jupyter-exp-bench-search-") as tmp:
        costs, queueing, snapshot, cpus = overhead(make_project(Path(tmp) / "overhead"), min(trials, 30))
        print(
            f"per trial, {len(costs)} trials: sample + tell + read objective: median {statistics.median(costs):.1f} ms "
            f"(max {max(costs):.1f}); queueing the experiment: median {statistics.median(queueing):.1f} ms; "
            f"total median {statistics.median(c + q for c, q in zip(costs, queueing)):.1f} ms (target < 50 ms); "
            f"once per search: the workspace's snapshot {snapshot:.0f} ms; "
            f"CPU (this process and git's) mean {statistics.mean(cpus):.1f} ms a trial"
        )
        study, queue, study_cpu, queue_cpu = study_vs_queue(Path(tmp), trials)
        print(
            f"{trials} trials, -j 2: study {study:.1f} s, plain queue {queue:.1f} s, "
            f"ratio {study / queue:.2f}x (target <= 1.3x); CPU {study_cpu:.1f} s and {queue_cpu:.1f} s, "
            f"ratio {study_cpu / queue_cpu:.2f}x"
        )
        print(f"{trials} trials: {study_plots(Path(tmp) / 'searched')}")


def study_plots(root: Path) -> str:
    """Wall time of the study's plots (history and importances, filled specs), warm."""
    times = []
    for _ in range(4):  # the first warms the storage and imports
        start = time.perf_counter()
        assert len(jupyter_exp.search_plots("s", root=str(root)).specs) == 2
        times.append((time.perf_counter() - start) * 1000)
    return f"search_plots (history + importances): median {statistics.median(times[1:]):.0f} ms warm"


if __name__ == "__main__":
    main()
