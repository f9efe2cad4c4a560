"""The revision view: files inside cached outputs, top-level sections and vars files,
read at every revision as real DVC 3 reads them, and the machine-readable outputs of
``metrics``/``params``/``exp diff`` byte for byte against DVC on the same repository."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import git, make_repo

import jupyter_exp

pytestmark = pytest.mark.dvc

# Shaped like DVC's examples: example-get-started's cached ``eval/`` directory holding
# the metrics of a top-level ``metrics:`` section, example-get-started-experiments'
# cached ``results/train`` holding a params.yaml listed in top-level ``params:``, and a
# ``vars:`` file whose interpolated key DVC shows as a params column.
FILES = {
    "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\n",
    "config.yaml": "model:\n  depth: 4\n",
    "src/train.py": """import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
os.makedirs("results/train", exist_ok=True)
yaml.safe_dump({"lr": p["lr"], "epochs": p["epochs"], "arch": "x"}, open("results/train/params.yaml", "w"))
json.dump({"loss": round(1 / (1 + p["epochs"] * p["lr"]), 4)}, open("results/train/metrics.json", "w"))
open("model.bin", "w").write(str(p))
""",
    "src/evaluate.py": """import json, os
os.makedirs("eval/plots", exist_ok=True)
s = open("model.bin").read()
json.dump({"avg_prec": {"train": len(s) / 100, "test": len(s) / 200}, "roc_auc": 0.5}, open("eval/metrics.json", "w"))
open("eval/plots/p.tsv", "w").write("step\\tx\\n0\\t1\\n")
""",
    "dvc.yaml": """vars:
- config.yaml
params:
- results/train/params.yaml
metrics:
- eval/metrics.json
- results/train/metrics.json
stages:
  train:
    cmd: python3 src/train.py ${model.depth}
    deps:
    - src/train.py
    params:
    - train
    outs:
    - model.bin
    - results/train
  evaluate:
    cmd: python3 src/evaluate.py
    deps:
    - model.bin
    - src/evaluate.py
    outs:
    - eval
""",
}


@pytest.fixture
def example(tmp_path: Path, monkeypatch, dvc) -> Path:
    """The project after DVC's repro (committed), a DVC-made experiment and one of ours."""
    root = make_repo(tmp_path / "p", FILES)
    monkeypatch.chdir(root)
    dvc("repro")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "repro")
    dvc("exp", "run", "-S", "train.lr=0.2", "-n", "dvc-lr2")
    jupyter_exp.run(set_params=["train.epochs=5"], name="ours-ep5")
    return root


def _rows(shown: list) -> dict:
    """name -> (params, metrics) of every row; timestamps and order left out."""
    rows = {}
    for row in shown:
        rows[row["rev"] if row["rev"] == "workspace" else row["name"]] = row["data"]
        for exp in row.get("experiments") or []:
            for rev in exp["revs"]:
                rows[rev["name"]] = rev["data"]
    return {k: (v["params"], v["metrics"]) for k, v in rows.items()}


def test_exp_show_reads_what_dvc_reads_at_every_row(example: Path, dvc, cli):
    theirs = _rows(json.loads(dvc("exp", "show", "--json").stdout))
    ours = _rows(json.loads(cli("show", "--json").stdout))
    assert set(ours) == set(theirs) == {"workspace", "main", "dvc-lr2", "ours-ep5"}
    assert ours == theirs
    params, metrics = ours["main"]  # read from the cache at a commit, not from git
    assert metrics["eval/metrics.json"] == {"data": {"avg_prec": {"train": 0.24, "test": 0.12}, "roc_auc": 0.5}}
    assert params["results/train/params.yaml"] == {"data": {"arch": "x", "epochs": 3, "lr": 0.1}}
    assert params["config.yaml"] == {"data": {"model.depth": 4}}
    assert ours["ours-ep5"][1]["results/train/metrics.json"] == {
        "data": {"loss": 0.5}
    }  # lr 0.2 (the workspace after DVC's run), 5 epochs
    # and again from the show cache, the same
    assert _rows(json.loads(cli("show", "--json").stdout)) == theirs


def test_a_missing_directory_object_is_an_error_row_not_cached(example: Path, cli):
    objects = example / ".dvc" / "cache" / "files" / "md5"
    saved = example.parent / "saved"
    shutil.copytree(objects, saved)
    for manifest in objects.rglob("*.dir"):
        manifest.chmod(0o644)
        manifest.unlink()
    rows = _rows(json.loads(cli("show", "--json", "-f").stdout))
    assert "error" in rows["main"][1]["eval/metrics.json"]
    shutil.rmtree(objects)
    shutil.copytree(saved, objects)
    rows = _rows(json.loads(cli("show", "--json").stdout))
    assert rows["main"][1]["eval/metrics.json"]["data"]["roc_auc"] == 0.5


def test_dvc2_cache_layout_is_read(example: Path):
    cache = example / ".dvc" / "cache"
    for obj in list((cache / "files" / "md5").rglob("*")):
        if obj.is_file():
            dest = cache / obj.parent.name / obj.name
            dest.parent.mkdir(exist_ok=True)
            shutil.move(obj, dest)
    shutil.rmtree(example / "eval")
    shown = jupyter_exp.metrics_show(["HEAD"])
    assert shown["HEAD"]["eval/metrics.json"] == {
        "data": {"avg_prec.train": 0.24, "avg_prec.test": 0.12, "roc_auc": 0.5}
    }


def test_a_manifest_naming_a_path_outside_is_refused(example: Path):
    cache = example / ".dvc" / "cache" / "files" / "md5"
    for manifest in cache.rglob("*.dir"):
        manifest.chmod(0o644)
        manifest.write_text('[{"md5": "' + "0" * 32 + '", "relpath": "../../etc/passwd"}]')
    shown = jupyter_exp.metrics_show(["HEAD"])
    assert "outside its directory" in shown["HEAD"]["eval/metrics.json"]["error"]["msg"]


def _same(dvc, cli, *args: str) -> None:
    theirs = dvc(*args).stdout
    ours = cli(*(args[1:] if args[0] == "exp" else args)).stdout
    assert ours == theirs, f"{' '.join(args)}:\n--- dvc\n{theirs}--- ours\n{ours}"


def test_metrics_params_and_exp_diff_outputs_byte_for_byte(example: Path, dvc, cli):
    git(example, "checkout", "-q", "--", ".")  # the workspace as committed
    dvc("checkout")
    _same(dvc, cli, "metrics", "show", "--json")
    _same(dvc, cli, "metrics", "show")
    _same(dvc, cli, "metrics", "show", "--md")
    _same(dvc, cli, "metrics", "show", "-A", "--json")
    _same(dvc, cli, "metrics", "show", "-A")
    _same(dvc, cli, "metrics", "show", "-a", "--json")
    jupyter_exp.apply_params(["train.lr=0.3"])  # one changed key: DVC's set order cannot differ
    _same(dvc, cli, "params", "diff", "--json")
    _same(dvc, cli, "params", "diff")
    _same(dvc, cli, "params", "diff", "--md")
    # NAME against the workspace; two changed files: DVC's order is its set order, so
    # equal as data, and the text equal line for line
    theirs = json.loads(dvc("exp", "diff", "dvc-lr2", "--json").stdout)
    assert json.loads(cli("diff", "dvc-lr2", "--json").stdout) == theirs
    assert theirs["params"]["params.yaml"] == {"train.lr": {"old": 0.2, "new": 0.3, "diff": 0.09999999999999998}}
    theirs = dvc("exp", "diff", "dvc-lr2").stdout
    assert sorted(cli("diff", "dvc-lr2").stdout.splitlines()) == sorted(theirs.splitlines())
    theirs = json.loads(dvc("exp", "diff", "main", "dvc-lr2", "--json").stdout)
    assert json.loads(cli("diff", "main", "dvc-lr2", "--json").stdout) == theirs
    theirs = json.loads(dvc("params", "diff", "--json", "--all").stdout)
    assert json.loads(cli("params", "diff", "--json", "--all").stdout) == theirs
