"""Hyperparameter search (issue 19): Optuna studies whose trials are queued experiments."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from conftest import cli_command, git, make_repo

import jupyter_exp
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.project import Project
from jupyter_exp.studies.exceptions import SearchError, SearchSpaceError, StudyExistsError, UnknownSamplerError

# acc is best (1.0) at lr = 0.01, depth = 4; a known function of the params.
SCORE = (
    "import json, math, yaml; p = yaml.safe_load(open('params.yaml'))['train']; "
    "json.dump({'val': {'acc': 1 - (math.log10(p['lr']) + 2) ** 2 / 4 - (p['depth'] - 4) ** 2 / 16}}, "
    "open('metrics.json', 'w'))"
)
SPACE = ["train.lr=tag(log, interval(1e-4, 0.1))", "train.depth=choice(2,4,8)"]
OBJECTIVE = "metrics.json:val.acc"


def acc(lr: float, depth: int) -> float:
    return 1 - (math.log10(lr) + 2) ** 2 / 4 - (depth - 4) ** 2 / 16


DVC_YAML = """stages:
  score:
    cmd: python score.py
    deps: [score.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
"""


@pytest.fixture
def scored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(
        tmp_path / "proj",
        {
            "score.py": SCORE + "\n",
            "params.yaml": "train:\n  lr: 0.001\n  depth: 2\n  epochs: 3\n",
            "dvc.yaml": DVC_YAML,
        },
    )
    monkeypatch.chdir(root)
    return root


def exp_refs(root: Path) -> dict[str, str]:
    out = git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps")
    return {line.split()[0].rsplit("/", 1)[1]: line.split()[1] for line in out.splitlines()}


def test_study_trials_are_experiments_dvc_lists(scored: Path, dvc):
    result = jupyter_exp.search(
        SPACE + ["train.epochs=5"], objective=OBJECTIVE, maximize=True, trials=12, jobs=2, name="st", seed=0, quiet=True
    )
    refs = exp_refs(scored)
    assert sorted(refs) == sorted(f"st-{i}" for i in range(1, 13))
    listed = json.loads(dvc("exp", "show", "--json").stdout)
    names = {e["name"] for b in listed for e in (b.get("experiments") or [])}
    assert names == set(refs)
    trials = jupyter_exp.search_trials("st")
    assert len(trials) == 12 and all(t.state == "complete" for t in trials.values())
    best = [t for t in trials.values() if t.best]
    assert [t.experiment for t in best] == [result.best_experiment]
    # Each trial's experiment holds its sampled params (and the fixed one) and its objective.
    for t in trials.values():
        params = git(scored, "show", f"{refs[t.experiment]}:params.yaml")
        assert "epochs: 5" in params and f"depth: {t.params['train.depth']}" in params
        assert t.value == pytest.approx(acc(t.params["train.lr"], t.params["train.depth"]))
    assert result.best_value == max(t.value for t in trials.values())
    status = jupyter_exp.search_status("st")
    assert status == f"12 / 12 trials, 0 running, best {result.best_value:.6g} ({result.best_experiment})"
    # apply --best brings the best trial's params into the workspace.
    subprocess.run([*cli_command(), "apply", "st", "--best"], check=True, capture_output=True)
    assert f"depth: {result.best_params['train.depth']}" in (scored / "params.yaml").read_text()


def _random_baseline(seed: int, trials: int = 12) -> float:
    """The best of ``trials`` random points of the same space with the same seed."""
    from jupyter_exp.studies.space import parse_space

    space = parse_space(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed), direction="maximize")
    for _ in range(trials):
        trial = study.ask({d.name: d.distribution() for d in space.dimensions})
        study.tell(trial, acc(trial.params["train.lr"], trial.params["train.depth"]))
    return study.best_value


def test_tpe_beats_random_on_average(scored: Path):
    seeds = (1, 2, 3)
    found = [
        jupyter_exp.search(
            SPACE, objective=OBJECTIVE, maximize=True, trials=12, jobs=2, name=f"s{seed}", seed=seed, quiet=True
        ).best_value
        for seed in seeds
    ]
    baseline = [_random_baseline(seed) for seed in seeds]
    assert sum(found) / len(seeds) > sum(baseline) / len(seeds), (found, baseline)


def one_line_error(*args: str) -> str:
    proc = subprocess.run([*cli_command(), *args], capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_bad_searches_are_one_line_errors(scored: Path):
    base = ["run", "--search", "--objective", OBJECTIVE, *sum((["-S", s] for s in SPACE), [])]
    assert "at least one trial" in one_line_error(*base, "--trials", "0")
    assert "Unknown sampler 'bayes'; use one of tpe, random, grid, cmaes." in one_line_error(
        *base, "--sampler", "bayes"
    )
    assert "Unknown pruner" in one_line_error(*base, "--prune", "asha")
    assert "Empty interval" in one_line_error(
        "run", "--search", "--objective", OBJECTIVE, "-S", "train.lr=interval(1,0)"
    )
    assert "log scale needs a positive" in one_line_error(
        "run", "--search", "--objective", OBJECTIVE, "-S", "train.lr=tag(log, interval(0, 1))"
    )
    assert "Nothing to search" in one_line_error("run", "--search", "--objective", OBJECTIVE, "-S", "train.lr=0.1")
    assert "grid sampler cannot sample 'train.lr'" in one_line_error(*base, "--sampler", "grid")
    assert "FILE:KEY" in one_line_error("run", "--search", "-S", SPACE[0])
    assert "No study named 'nope'" in one_line_error("run", "--search", "--resume", "nope")
    with pytest.raises(SearchSpaceError, match="cannot sample"):
        jupyter_exp.search(["train.depth=choice([1,2],[3])"], objective=OBJECTIVE)
    with pytest.raises(UnknownSamplerError):
        jupyter_exp.search(SPACE, objective=OBJECTIVE, sampler="nope")
    with pytest.raises(SearchError, match="at least one trial"):
        jupyter_exp.search(SPACE, objective=OBJECTIVE, trials=0)
    assert not exp_refs(scored)  # nothing was queued or run


def test_missing_objective_fails_the_trial_and_the_study_goes_on(scored: Path):
    result = jupyter_exp.search(
        ["train.depth=choice(2,4)"], objective="metrics.json:val.loss", trials=3, name="miss", seed=0, quiet=True
    )
    trials = jupyter_exp.search_trials("miss")
    assert [t.state for t in trials.values()] == ["failed"] * 3
    assert all(t.error == f"metric 'val.loss' is not in metrics.json of {t.experiment}" for t in trials.values())
    assert result.best_experiment is None
    assert jupyter_exp.search_status("miss") == "3 / 3 trials, 0 running, 3 failed, no best yet"
    with pytest.raises(StudyExistsError, match="continue it with resume='miss'"):
        jupyter_exp.search(["train.depth=choice(2,4)"], objective=OBJECTIVE, name="miss")
    with pytest.raises(SearchError, match="no complete trial"):
        jupyter_exp.apply("miss", best=True)
    # A failing stage fails its trial, with the run's reason; the others complete.
    (scored / "score.py").write_text(
        "import sys, yaml\nif yaml.safe_load(open('params.yaml'))['train']['depth'] == 8: sys.exit(3)\n" + SCORE + "\n"
    )
    git(scored, "commit", "-qam", "fail at depth 8")
    jupyter_exp.search(["train.depth=choice(4,8)"], objective=OBJECTIVE, sampler="grid", trials=2, name="g", quiet=True)
    states = {t.params["train.depth"]: (t.state, t.error) for t in jupyter_exp.search_trials("g").values()}
    assert states[4] == ("complete", None)
    assert states[8][0] == "failed" and "its experiment failed" in str(states[8][1])
