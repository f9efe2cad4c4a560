"""The table's Plot panel shows what the JupyterLab sidebar draws on request: the plotted
experiments' DVCLive histories over steps (in their table colours, one metric or every
one, chosen in the panel) and the optimization history and param importances of the
Optuna study their trials belong to; none of them where they do not apply. Driven
headlessly through the controller's messages, as a host drives it."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import pytest
from conftest import git, make_repo
from test_exp_commits import (
    live_bin,  # noqa: F401
    live_path,  # noqa: F401 - the DVC venv's python with dvclive
)
from test_plots_table import entries, plot  # the controller driven as a host drives it

import jupyter_exp
from jupyter_exp.plots.display import static_svg
from jupyter_exp.project import Project
from jupyter_exp.table import TableController

TRAIN = """import json, yaml
from dvclive import Live
p = yaml.safe_load(open('params.yaml'))['train']
with Live(dvcyaml=False) as live:
    for i in range(p['epochs']):
        live.log_metric('acc', round(1 - p['lr'] / (i + 1), 4))
        live.log_metric('train/loss', round(p['lr'] * 10 / (i + 1) + p['depth'] / 100, 4))
        live.next_step()
json.dump({'val': {'acc': 1 - abs(p['lr'] - 0.01) * 10 - abs(p['depth'] - 4) / 16}}, open('metrics.json', 'w'))
"""

DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
    - dvclive/metrics.json:
        cache: false
    outs:
    - dvclive/plots:
        cache: false
"""


@pytest.fixture
def live_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_path, dvc) -> Path:  # noqa: F811
    """Two DVCLive experiments (e1, e2), and a 3-trial search study 'st' over the same stage."""
    root = make_repo(
        tmp_path / "proj",
        {"train.py": TRAIN, "params.yaml": "train:\n  lr: 0.05\n  depth: 2\n  epochs: 4\n", "dvc.yaml": DVC_YAML},
    )
    monkeypatch.chdir(root)
    jupyter_exp.run(name="e1")
    jupyter_exp.run(name="e2", set_params=["train.lr=0.02"])
    jupyter_exp.search(
        ["train.lr=tag(log, interval(1e-3, 0.1))", "train.depth=choice(2,4,8)"],
        objective="metrics.json:val.acc",
        maximize=True,
        trials=3,
        name="st",
        seed=1,
        sampler="random",
        quiet=True,
    )
    git(root, "checkout", "-q", "--", ".")
    return root


@pytest.fixture
def table(live_project: Path):
    controller = TableController(Project(live_project))
    yield controller
    controller.close()


def line_colours(spec) -> dict[str, str]:
    """The colour each experiment's line gets in a DVC-template spec (``rev`` scale)."""
    found: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            scale = node.get("scale")
            if node.get("field") == "rev" and isinstance(scale, dict) and "range" in scale:
                found.update(zip(scale["domain"], scale["range"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return found


def repo_state(root: Path) -> str:
    refs = git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    return refs + git(root, "status", "--porcelain", "--ignored")


def test_trends_over_steps_in_the_rows_colours_with_a_metric_picker(table):
    panel = plot(table, ["e1", "e2"])
    assert panel["trend_metrics"] == ["acc", "train/loss"] and panel["trend_metric"] == "acc"  # the first by default
    (trend,) = entries(panel, "trend")
    assert trend["title"] == "acc" and trend["id"] == "trend:dvclive/plots/metrics/acc.tsv"
    points = trend["spec"]["data"]["values"]
    assert sorted({p["rev"] for p in points}) == ["e1", "e2"] and len(points) == 8  # 4 steps each
    # The table's colours: what the scatter gives each experiment, the trend gives its line.
    (scatter,) = entries(panel, "scatter")
    scale = scatter["spec"]["encoding"]["color"]["scale"]
    assert line_colours(trend["spec"]) == dict(zip(scale["domain"], scale["range"]))
    kept = dict(table.state["prefs"]["colours"])
    assert line_colours(trend["spec"]) == {"e1": kept["e1"], "e2": kept["e2"]}
    svg = static_svg(trend["spec"])
    assert svg is not None and svg.count('aria-roledescription="line mark"') >= 2
    assert not entries(panel, "study")  # e1, e2 are no trials
    # The picker: another metric, then every one; the scatter's axes stay as chosen.
    panel = plot(table, ["e1", "e2"], [panel["x"], panel["y"], "train/loss"])
    assert [e["title"] for e in entries(panel, "trend")] == ["train/loss"] and panel["trend_metric"] == "train/loss"
    panel = plot(table, ["e1", "e2"], [panel["x"], panel["y"], ""])
    assert [e["title"] for e in entries(panel, "trend")] == ["acc", "train/loss"] and panel["trend_metric"] == ""
    panel = plot(table, ["e1", "e2"], [panel["x"], panel["y"], "no/such"])  # a metric gone: the first again
    assert [e["title"] for e in entries(panel, "trend")] == ["acc"]


def test_a_trial_shows_its_study_history_and_importances(table):
    trial = next(r["cells"][0] for r in table.state["table"]["rows"] if str(r["cells"][0]).startswith("st-"))
    panel = plot(table, ["e1", trial])
    studies = entries(panel, "study")
    assert [e["id"] for e in studies] == ["study:st:history", "study:st:importances"]
    history = studies[0]["spec"]["data"]["values"]
    assert [p["trial"] for p in history] == [1, 2, 3] and trial in {p["experiment"] for p in history}
    assert {b["param"] for b in studies[1]["spec"]["data"]["values"]} == {"train.lr", "train.depth"}
    for entry in studies:
        svg = static_svg(entry["spec"])
        assert svg is not None and "mark" in svg
    assert {p["rev"] for p in entries(panel, "trend")[0]["spec"]["data"]["values"]} == {"e1", trial}
    assert "study:st:history" in panel["html"]  # the static fallback has them too


def test_nothing_added_where_nothing_applies(exps):
    """A project without DVCLive histories or studies: the panel as before, no picker."""
    controller = TableController(Project(exps))
    try:
        panel = plot(controller, ["e1", "e2"])
        assert not entries(panel, "trend") and not entries(panel, "study") and not entries(panel, "error")
        assert panel["trend_metrics"] == [] and panel["trend_metric"] == ""
    finally:
        controller.close()


def test_histories_dvc_plots_draw_already_are_not_drawn_twice(table, live_project):
    (live_project / "dvc.yaml").write_text(DVC_YAML + "plots:\n- dvclive/plots/metrics:\n    x: step\n")
    panel = plot(table, ["workspace"])
    assert [e["title"] for e in entries(panel, "template")] == [
        "dvclive/plots/metrics/acc.tsv",
        "dvclive/plots/metrics/train/loss.tsv",
    ]
    assert not entries(panel, "trend") and panel["trend_metrics"] == []


@pytest.mark.parametrize(
    "history, message",
    [
        (b"\xff\xfe\x00garbage\x80\x81", "is not valid utf8"),
        (b"step\tacc\n0\t0.5\n\x00\x01{{{[[[\n1\tnot-a-number\n" + b"#" * 5000, "3 of 4 rows are not numbers"),
        (b"step\tacc\n" + b"".join(b"%d\t0.%d\n" % (i, i % 10) for i in range(200_000)), "more than the panel"),
    ],
    ids=["non-utf8", "garbage", "huge"],
)
def test_a_bad_history_is_a_message_in_the_panel_and_changes_nothing(table, live_project, history, message):
    bad = live_project / "dvclive" / "plots" / "metrics" / "acc.tsv"
    bad.write_bytes(history)
    before = repo_state(live_project)
    started = time.monotonic()
    panel = plot(table, ["workspace", "e1"])
    assert time.monotonic() - started < 30
    assert panel["trend_metric"] == "acc"
    shown = [e for e in panel["specs"] if e["id"].startswith("trend:")]
    errors = [e for e in shown if e["kind"] == "error"]
    said = [e["message"] for e in errors]
    assert any(message in m for m in said) and not any("\n" in m for m in said), said
    assert "Traceback" not in json.dumps(panel)
    assert all(html.escape(m) in panel["html"] for m in said)  # the static fallback says it too
    assert repo_state(live_project) == before
    assert bad.read_bytes() == history
