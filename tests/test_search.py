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
