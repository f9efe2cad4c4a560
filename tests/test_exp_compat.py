"""Experiments both ways with real DVC 3: DVC lists and applies ours, we list and apply theirs."""

import json

import pytest
from conftest import git

import jupyter_exp
from jupyter_exp.serialize import parse_yaml

pytestmark = pytest.mark.dvc


def _dvc_exps(dvc) -> dict[str, dict]:
    data = json.loads(dvc("exp", "show", "--json").stdout)
    return {e["name"]: e["revs"][0] for e in data[1]["experiments"] or []}


def test_dvc_lists_applies_and_branches_our_experiments(make_project, dvc):
    root = make_project("two_stage")
    ours = jupyter_exp.run(params={"train.lr": 0.5}, name="ours-fast")
    jupyter_exp.run(params={"train.epochs": 7}, name="ours-long")
    listed = _dvc_exps(dvc)
    assert set(listed) == {"ours-fast", "ours-long"}
    fast = listed["ours-fast"]
    assert fast["rev"] == ours.rev
    assert fast["data"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.5
    assert fast["data"]["metrics"]["metrics.json"]["data"]["score"] == 30.0
    assert fast["error"] is None
    # The same params and metrics as our own table shows.
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["ours-fast", "params.train.lr"] == 0.5
    assert df.loc["ours-fast", "metrics.score"] == 30.0
    # dvc exp apply brings our experiment, cached outputs included.
    dvc("exp", "apply", "ours-fast")
    assert "lr: 0.5" in (root / "params.yaml").read_text()
    assert "lr=0.5" in (root / "model.bin").read_text()
    dvc("exp", "branch", "ours-long", "long-branch")
    assert git(root, "rev-parse", "long-branch").strip() == _dvc_exps(dvc)["ours-long"]["rev"]
    assert "Data and pipelines are up to date." in dvc("status").stdout


def test_we_list_and_apply_experiments_dvc_made(make_project, dvc):
    root = make_project("two_stage")
    dvc("exp", "run", "-S", "train.lr=0.25", "-n", "theirs")
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["theirs", "params.train.lr"] == 0.25
    assert df.loc["theirs", "metrics.score"] == 15.0
    assert df.loc["theirs", "kind"] == "experiment"
    # Back to the baseline, then our apply brings DVC's experiment.
    git(root, "checkout", "--", "params.yaml")
    jupyter_exp.repro()
    jupyter_exp.apply("theirs")
    assert "lr: 0.25" in (root / "params.yaml").read_text()
    assert "lr=0.25" in (root / "model.bin").read_text()
    lock = parse_yaml((root / "dvc.lock").read_text(), "dvc.lock")
    assert lock["stages"]["train"]["params"]["params.yaml"]["train"]["lr"] == 0.25
