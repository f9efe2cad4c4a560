"""exp diff, and exp push / pull between two clones through a bare git remote and a
DVC remote that is a local directory."""

import json

import pytest
from conftest import git

import jupyter_exp
from jupyter_exp.experiments.exceptions import RemoteError


def test_diff_defaults_and_formats(make_project, cli):
    root = make_project("two_stage")
    jupyter_exp.run(params={"train.lr": 0.5}, name="a")
    jupyter_exp.run(params={"train.lr": 0.1}, name="b")
    d = jupyter_exp.diff("a")  # one experiment: it vs the workspace (holding b's results), as DVC
    assert d.a_name == "a" and d.b_name == "workspace"
    assert [(r.key, r.old, r.new) for r in d.params] == [("train.lr", 0.5, 0.1)]
    d = jupyter_exp.diff(git(root, "rev-parse", "HEAD").strip(), "a")  # its baseline vs it
    assert [(r.key, r.old, r.new) for r in d.params] == [("train.lr", 0.01, 0.5)]
    d = jupyter_exp.diff("a", "b")
    assert [(r.key, r.old, r.new) for r in d.metrics] == [("nested.loss", 0.032258, 0.142857), ("score", 30.0, 6.0)]
    assert abs(d.metrics[1].change + 24.0) < 1e-9
    d = jupyter_exp.diff()  # HEAD vs workspace
    assert d.b_name == "workspace" and ("train.lr", 0.01, 0.1) in [(r.key, r.old, r.new) for r in d.params]
    data = json.loads(cli("diff", "a", "b", "--json").stdout)
    assert data["params"]["params.yaml"]["train.lr"] == {"old": 0.5, "new": 0.1, "diff": -0.4}
    text = cli("diff", "a", "b").stdout
    assert text.splitlines()[0].split() == ["Path", "Metric", "a", "b", "Change"]
    assert len(jupyter_exp.diff("a", "b", all=True).params) == 5
    proc = cli("diff", "nope", check=False)
    assert proc.returncode == 1 and "Unknown experiment or revision 'nope'" in proc.stderr


@pytest.fixture
def clones(make_project, tmp_path):
    first = make_project("two_stage")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    storage = tmp_path / "storage"
    (first / ".dvc" / "config").write_text(f"[core]\n    remote = shared\n['remote \"shared\"']\n    url = {storage}\n")
    git(first, "add", ".dvc/config")
    git(first, "commit", "-qm", "remote")
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "-q", "origin", "main")
    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(remote), str(second))
    git(second, "config", "user.email", "b@example.com")
    git(second, "config", "user.name", "B")
    return first, second, storage


def test_two_clones_trade_experiments(clones, monkeypatch):
    first, second, storage = clones
    exp = jupyter_exp.run(params={"train.lr": 0.5}, name="shared-exp")
    assert jupyter_exp.push("origin", "shared-exp") == ["shared-exp"]
    assert any(storage.rglob("*"))  # cache objects reached the DVC remote
    monkeypatch.chdir(second)
    assert jupyter_exp.ls("origin") == {exp.baseline: [("shared-exp", exp.rev)]}
    assert jupyter_exp.pull("origin", "shared-exp") == ["shared-exp"]
    jupyter_exp.apply("shared-exp")
    assert "lr=0.5" in (second / "model.bin").read_text()  # a cached output, from the DVC remote
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["shared-exp", "metrics.score"] == 30.0
    # removing on the remote
    assert jupyter_exp.remove("shared-exp", git_remote="origin") == ["shared-exp"]
    assert jupyter_exp.ls("origin") == {}


def test_a_rejected_push_is_one_line(clones, monkeypatch, cli):
    first, second, _ = clones
    jupyter_exp.run(params={"train.lr": 0.5}, name="clash")
    jupyter_exp.push("origin", "clash", no_cache=True)
    monkeypatch.chdir(second)
    jupyter_exp.repro()
    jupyter_exp.run(params={"train.lr": 0.7}, name="clash")
    proc = cli("push", "origin", "clash", "--no-cache", check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "Push to 'origin' was rejected" in proc.stderr and "push with -f" in proc.stderr
    with pytest.raises(RemoteError):
        jupyter_exp.push("origin", "clash", no_cache=True)
    assert jupyter_exp.push("origin", "clash", force=True, no_cache=True) == ["clash"]
