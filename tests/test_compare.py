import json
from pathlib import Path

import pytest
from conftest import git

import jupyter_exp
from jupyter_exp.params_metrics import DiffRow


def test_params_diff_against_head(make_project, cli):
    make_project("two_stage")
    jupyter_exp.apply_params(["train.lr=0.5", "+train.seed=3"])
    rows = jupyter_exp.params_diff()
    assert rows == [
        DiffRow("params.yaml", "train.lr", 0.01, 0.5),
        DiffRow("params.yaml", "train.seed", None, 3),
    ]
    out = json.loads(cli("params", "diff", "--json").stdout)
    # DVC's: "diff" where both sides are numbers; Markdown padded as tabulate pads it
    assert out == {
        "params.yaml": {"train.lr": {"old": 0.01, "new": 0.5, "diff": 0.49}, "train.seed": {"old": None, "new": 3}}
    }
    md = cli("params", "diff", "--md").stdout
    assert md.splitlines()[0] == "| Path        | Param      | HEAD   | workspace   |"
    assert "| params.yaml | train.lr   | 0.01   | 0.5         |" in md
    assert [r.key for r in jupyter_exp.params_diff(all=True)] == [
        "prepare.scale",
        "train.epochs",
        "train.lr",
        "train.model.act",
        "train.model.depth",
        "train.seed",
    ]


def test_metrics_show_and_diff(make_project, cli):
    root = make_project("two_stage")
    jupyter_exp.repro()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "run")
    shown = jupyter_exp.metrics_show()
    assert shown == {"workspace": {"metrics.json": {"data": {"score": 0.6, "nested.loss": 0.625}}}}
    jupyter_exp.apply_params(["train.epochs=6"])
    jupyter_exp.repro()
    rows = {r.key: r for r in jupyter_exp.metrics_diff()}
    assert rows["score"].old == 0.6 and rows["score"].new == 1.2
    assert abs(rows["score"].change - 0.6) < 1e-9
    text = cli("metrics", "diff").stdout
    assert text.splitlines()[0].split() == ["Path", "Metric", "HEAD", "workspace", "Change"]
    assert "metrics.json  score" in text
    data = json.loads(cli("metrics", "show", "--json").stdout)
    assert data[""]["data"]["metrics.json"]["data"]["score"] == 1.2  # DVC keys the workspace alone ""
    assert "score" in cli("metrics", "show").stdout


def test_cached_metrics_are_read_from_the_cache_at_a_revision(project: Path):
    (project / "src.json").write_text('{"acc": 0.5}')
    (project / "dvc.yaml").write_text(
        "stages:\n  m:\n    cmd: cp src.json m.json\n    deps:\n    - src.json\n    metrics:\n    - m.json\n"
    )
    jupyter_exp.repro()
    assert (project / ".gitignore").read_text() == "/m.json\n"  # cached: git never sees it
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "m")
    (project / "src.json").write_text('{"acc": 0.7}')
    jupyter_exp.repro()
    rows = jupyter_exp.metrics_diff()
    assert [(r.key, r.old, r.new) for r in rows] == [("acc", 0.5, 0.7)]


def test_unknown_revision_is_one_line(make_project, cli):
    make_project("two_stage")
    proc = cli("params", "diff", "nope", check=False)
    assert proc.returncode == 1
    assert proc.stderr == "ERROR: Unknown revision 'nope'; use a commit, branch or tag.\n"


@pytest.mark.dvc
def test_params_and_metrics_diff_take_experiment_names_as_dvc_does(exps, cli, dvc):
    for verb in ("params", "metrics"):
        ours = json.loads(cli(verb, "diff", "e1", "e3", "--json").stdout)
        theirs = json.loads(dvc(verb, "diff", "e1", "e3", "--json").stdout)
        assert ours == theirs and ours, verb  # equal data (DVC's key order varies by run)
    rows = jupyter_exp.params_diff("HEAD", "e2")
    assert [(r.key, r.old, r.new) for r in rows] == [("train.lr", 0.01, 0.2)]
