"""Trends (issue 16): each metric over the steps of the chosen experiments, from
DVCLive's histories, against real DVC's reading of the same files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import cli_command
from nbclient import NotebookClient
from test_exp_commits import in_dir, live_bin, live_path  # noqa: F401 - fixtures: DVCLive in DVC's venv
from test_plots import make_live

import jupyter_exp
from jupyter_exp.errors import PathError
from jupyter_exp.experiments.exceptions import UnknownExperimentError

pytestmark = pytest.mark.dvc
ACC, LOSS = "dvclive/plots/metrics/acc.tsv", "dvclive/plots/metrics/train/loss.tsv"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli_command(), "plots", *args], cwd=root, capture_output=True, text=True)


def test_trends_plot_each_metric_over_the_steps_of_experiments(tmp_path, dvc, dvc_exe, live_path):  # noqa: F811
    root = make_live(tmp_path / "proj", dvc)
    for name, lr in (("e1", "0.1"), ("e2", "0.3"), ("e3", "0.5")):
        in_dir(root, lambda name=name, lr=lr: jupyter_exp.run_temp(name=name, set_params=[f"lr={lr}"]))
    view = in_dir(root, jupyter_exp.plots_trends, "e1", "e3")
    assert [p.id for p in view.plots] == [ACC, LOSS] and not view.errors
    acc = view.specs[ACC]
    assert acc["title"]["text"] == "acc" and view.specs[LOSS]["title"]["text"] == "train/loss"
    assert acc["encoding"]["x"]["field"] == "step" and acc["layer"][0]["encoding"]["y"]["field"] == "acc"
    points = acc["data"]["values"]
    assert [(p["rev"], p["step"], p["acc"]) for p in points if p["rev"] == "e3"] == [
        ("e3", str(i), str(round(0.5 * (i + 1), 4))) for i in range(5)
    ]
    # The same history DVC reads from the same experiments (its plots diff, step on x).
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    theirs = subprocess.run(
        [str(dvc_exe), "plots", "diff", "e1", "e3", "--targets", ACC, "-x", "step", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    dvc_points = json.loads(theirs.stdout)["data"][ACC][0]["content"]["data"]["values"]
    assert [{k: p[k] for k in ("rev", "step", "acc")} for p in dvc_points] == [
        {k: p[k] for k in ("rev", "step", "acc")} for p in points
    ]
    # None named: the workspace (no DVCLive files there) and every experiment of HEAD.
    every = in_dir(root, jupyter_exp.plots_trends)
    assert every.revisions == ("workspace", "e1", "e2", "e3") and every.plots[0].revisions == ("e1", "e2", "e3")
    # The command line: DVC's --json, the page, one plot by --targets; errors in one line.
    shown = json.loads(cli(root, "trends", "e1", "e3", "--json").stdout)["data"]
    assert shown[ACC][0]["content"] == acc and shown[ACC][0]["revisions"] == ["e1", "e3"]
    out = cli(root, "trends", "-o", "trends")
    assert out.stdout.strip() == (root / "trends" / "index.html").as_uri()
    assert (root / "trends" / "index.html").read_text().count("vegaEmbed(") == 2
    one = json.loads(cli(root, "trends", "e2", "--targets", LOSS, "--show-vega").stdout)
    assert one["title"]["text"] == "train/loss" and {p["rev"] for p in one["data"]["values"]} == {"e2"}
    for args, line in {
        ("trends", "nope"): "ERROR: Unknown experiment or revision 'nope'; list experiments with `jupyter exp list`.",
        ("trends", "--live-dir", "../x"): "ERROR: --live-dir: '../x' leaves the project; use a path inside it.",
        ("trends", "--targets", "x"): f"ERROR: plots: no plot 'x'; name one of '{ACC}', '{LOSS}'.",
    }.items():
        proc = cli(root, *args)
        assert proc.returncode != 0 and proc.stderr.strip() == line, proc.stderr
    with pytest.raises(UnknownExperimentError):
        in_dir(root, jupyter_exp.plots_trends, "nope")
    with pytest.raises(PathError):
        in_dir(root, lambda: jupyter_exp.plots_trends(live_dir="/etc"))
    assert not cli(root, "trends", "--live-dir", "elsewhere").stdout  # no histories: nothing drawn
    # A real kernel: %exp plots trends shows one Vega-Lite plot per metric.
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_exp"),
        nbformat.v4.new_code_cell("%exp plots trends e1 e3"),
    ]
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    vega = [o["data"] for o in nb.cells[1].outputs if "application/vnd.vegalite.v5+json" in o.get("data", {})]
    assert [d["application/vnd.vegalite.v5+json"] for d in vega] == [acc, view.specs[LOSS]]


def test_checkpoint_experiments_trend_from_their_checkpoints(tmp_path, monkeypatch):
    """``jupyter_exp.live`` in a checkpoint stage records its metrics file at each
    checkpoint (not the TSVs): the trend of each experiment is read from its chain."""
    from conftest import make_repo
    from test_lab_ui import DVC_YAML, PARAMS, TRAIN

    root = make_repo(tmp_path / "proj", {"train.py": TRAIN, "dvc.yaml": DVC_YAML, "params.yaml": PARAMS})
    monkeypatch.chdir(root)
    jupyter_exp.queue(set_params=["train.lr=0.1,0.2"], name="ck", quiet=True)
    jupyter_exp.run_all(1, echo=lambda _text: None)
    view = jupyter_exp.plots_trends("ck-2", "ck-1")
    assert [p.id for p in view.plots] == ["dvclive/plots/metrics/w.tsv"] and view.plots[0].revisions == ("ck-2", "ck-1")
    spec = view.specs["dvclive/plots/metrics/w.tsv"]
    assert spec["title"]["text"] == "w" and spec["encoding"]["color"]["scale"]["domain"] == ["ck-2", "ck-1"]
    points = [(p["rev"], p["step"], p["w"]) for p in spec["data"]["values"]]
    expected = [
        (name, i, pytest.approx(round(lr * (i + 1), 6)))
        for name, lr in (("ck-2", 0.2), ("ck-1", 0.1))
        for i in range(3)
    ]
    assert points == expected
