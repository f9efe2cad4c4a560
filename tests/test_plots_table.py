"""The table's Plot panel, driven headlessly through the controller's messages: the
Vega-Lite specs it holds (DVC's plots of the selection, metric vs param, parallel
coordinates, a metric over commits), their colours, and what vl-convert draws of them (ticks that are round
numbers, no axis below zero for positive metrics, whole steps)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import replace

import pytest
import vl_convert
import yaml
from conftest import git

import jupyter_exp
from jupyter_exp.experiments.show import select
from jupyter_exp.options import ShowOptions
from jupyter_exp.plots.commits import commit_trend
from jupyter_exp.plots.display import static_svg
from jupyter_exp.project import Project
from jupyter_exp.table import TableController
from jupyter_exp.table.plots import PALETTE, assign_colours


@pytest.fixture
def table(exps):
    controller = TableController(Project(exps))
    yield controller
    controller.close()


def key(controller, name):
    return next(r["key"] for r in controller.state["table"]["rows"] if r["cells"][0] == name)


def plot(controller, names, arg=None) -> dict:
    message = {"type": "action", "action": "plot", "keys": [key(controller, n) for n in names]}
    if arg is not None:
        message["arg"] = arg
    reply = controller.handle(message)
    assert "error" not in reply, reply
    panel = controller.state["panel"]
    assert panel["kind"] == "vega" and json.loads(json.dumps(panel)) == panel  # plain JSON for any host
    return panel


def entries(panel, kind):
    return [e for e in panel["specs"] if e["kind"] == kind]


def axis_labels(spec) -> dict[str, list[str]]:
    """The tick labels vl-convert lays out, by axis title."""
    graph = vl_convert.vegalite_to_scenegraph(spec, vl_version="5.20")
    found: dict[str, list[str]] = {}
    labels: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("marktype") == "text" and node.get("role") in ("axis-label", "axis-title"):
                texts = [str(i.get("text")) for i in node.get("items", [])]
                if node["role"] == "axis-label":
                    labels[:] = texts
                else:
                    found[texts[0]] = list(labels)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(graph)
    return found


def test_the_scatter_takes_a_param_that_varies_and_draws_round_positive_ticks(table):
    panel = plot(table, ["e1", "e2", "e3"])
    (scatter,) = entries(panel, "scatter")
    assert panel["x"] == "params.train.lr" and panel["y"] == "metrics.score"  # not the constant prepare.scale
    assert "params.prepare.scale" in panel["params"]
    ticks = axis_labels(scatter["spec"])
    for title in ("train.lr", "score"):
        values = [float(t.replace(",", "")) for t in ticks[title]]
        assert values and min(values) >= 0, ticks  # nothing below zero for positive values
        assert all(len(t.split(".")[-1]) <= 2 if "." in t else True for t in ticks[title]), ticks  # round ticks
    panel = plot(table, ["e1", "e3"], ["params.train.epochs", "metrics.nested.loss"])
    assert [e["title"] for e in entries(panel, "scatter")] == ["nested.loss vs train.epochs"]


def test_parallel_coordinates_over_the_selection_or_every_row(table):
    (lines,) = entries(plot(table, ["e1", "e3"]), "parallel")
    assert [v["experiment"] for v in lines["spec"]["data"]["values"]] == ["e1", "e3"]
    titles = json.loads(lines["spec"]["transform"][3]["calculate"].split("[datum")[0])
    assert sorted(titles.values()) == ["nested.loss", "score", "train.lr"]  # what varies, and the metrics
    (lines,) = entries(plot(table, ["e2"]), "parallel")  # one row selected: every row
    assert sorted(v["experiment"] for v in lines["spec"]["data"]["values"]) == ["e1", "e2", "e3", "main", "workspace"]
    svg = static_svg(lines["spec"])
    assert svg is not None and svg.count('aria-roledescription="line mark"') == 5


def test_any_number_of_experiments_get_distinct_colours_kept_across_plots(exps):
    jupyter_exp.run(queue=True, set_params=["train.lr=" + ",".join(str(i / 100) for i in range(1, 13))], name="s")
    jupyter_exp.run_all(jobs=2)
    git(exps, "checkout", "-q", "--", ".")
    controller = TableController(Project(exps))
    try:
        names = [f"s-{i}" for i in range(1, 13)] + ["e1", "e2", "e3"]
        panel = plot(controller, names)
        (scatter,) = entries(panel, "scatter")
        scale = scatter["spec"]["encoding"]["color"]["scale"]
        colours = dict(zip(scale["domain"], scale["range"]))
        assert len(colours) == 15 and len(set(colours.values())) == 15  # no cap, no repeats
        assert set(PALETTE) <= set(colours.values())
        (lines,) = entries(panel, "parallel")
        assert lines["spec"]["layer"][1]["encoding"]["color"]["scale"]["range"] == [colours[n] for n in names]
        again = plot(controller, ["s-12", "e2"])
        (scatter,) = entries(again, "scatter")
        scale = scatter["spec"]["encoding"]["color"]["scale"]
        assert dict(zip(scale["domain"], scale["range"])) == {"s-12": colours["s-12"], "e2": colours["e2"]}
    finally:
        controller.close()


def test_colours_past_the_palette_stay_distinct():
    colours = assign_colours({}, [f"x{i}" for i in range(200)])
    assert len(set(colours.values())) == 200
    assert assign_colours(colours, ["x3", "new"])["x3"] == colours["x3"]


def test_dvc_plots_of_the_selection_in_its_colours_with_whole_steps(make_project):
    root = make_project("checkpoints")
    jupyter_exp.run(name="a")
    jupyter_exp.run(name="b", set_params=["train.lr=0.2"])
    controller = TableController(Project(root))
    try:
        rows = {r["cells"][0]: r for r in controller.state["table"]["rows"]}
        panel = plot(controller, [n for n in ("a", "b") if n in rows])
        (curve,) = entries(panel, "template")
        assert curve["title"] == "dvclive/plots/metrics/w.tsv"
        spec = curve["spec"]
        colours = dict(controller.preferences.colours)
        assert spec["encoding"]["color"]["scale"] == {"domain": ["a", "b"], "range": [colours["a"], colours["b"]]}
        assert spec["encoding"]["x"]["axis"]["tickMinStep"] == 1
        steps = axis_labels(spec)["step"]
        assert steps and all(t.isdigit() for t in steps), steps  # no 0.5 steps
        assert f'data-plot="{curve["id"]}"' in panel["html"]  # drawn for hosts that show HTML only
    finally:
        controller.close()


def commit_at(root, message: str, when: int) -> None:
    """A commit of the work tree at committer time ``when`` (seconds since the epoch)."""
    stamp = f"@{when} +0000"
    env = dict(os.environ, GIT_COMMITTER_DATE=stamp, GIT_AUTHOR_DATE=stamp)
    subprocess.run(["git", "commit", "-qam", message], cwd=root, env=env, check=True, capture_output=True)


def lr_commit(root, lr: float, when: int) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["train"]["lr"] = lr
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    jupyter_exp.repro()
    commit_at(root, f"lr {lr}", when)


@pytest.fixture
def history(exps):
    """``exps`` (e1..e3 on the first commit, score 0.1 * 3 * sum) and two later commits,
    an hour apart, with lr 0.02 and 0.03; e4 (lr 0.5) on the second."""
    start = int(time.time())
    lr_commit(exps, 0.02, start + 3600)
    jupyter_exp.run(params={"train.lr": 0.5}, name="e4")
    git(exps, "checkout", "-q", "--", ".")
    jupyter_exp.checkout()
    lr_commit(exps, 0.03, start + 7200)
    return exps


def test_a_metric_over_the_commits_the_table_shows(history):
    controller = TableController(Project(history), {"num": 3})
    try:
        panel = plot(controller, ["e4"])
        (trend,) = entries(panel, "commits")
        assert trend["metric"] == "score" and trend["title"] == "score over commits"
        points = trend["spec"]["data"]["values"]
        commits = [p for p in points if p["kind"] == "commit"]
        assert len(commits) == 3 and [p["order"] for p in commits] == [1, 2, 3]  # oldest first
        assert [p["time"] for p in commits] == sorted(p["time"] for p in commits)
        scores = [p["value"] for p in commits]
        assert scores[0] * 2 == pytest.approx(scores[1]) and scores[0] * 3 == pytest.approx(scores[2])
        faint = {p["name"]: p for p in points if p["kind"] == "experiment"}
        assert set(faint) == {"e1", "e2", "e3", "e4"}
        assert faint["e4"]["commit"] == commits[1]["commit"] and faint["e1"]["commit"] == commits[0]["commit"]
        # Each experiment in its stable colour, distinct from the others': the one its row keeps
        # in the preferences (the sidebar's swatch), its line's in parallel coordinates.
        scale = trend["spec"]["layer"][1]["encoding"]["color"]["scale"]
        in_trend = dict(zip(scale["domain"], scale["range"]))
        kept = dict(controller.preferences.colours)
        assert set(in_trend) == {"e1", "e2", "e3", "e4"} and len(set(in_trend.values())) == 4
        assert in_trend == {n: kept[n] for n in in_trend}
        (scatter,) = entries(panel, "scatter")
        assert scatter["spec"]["encoding"]["color"]["scale"] == {"domain": ["e4"], "range": [in_trend["e4"]]}
        (lines,) = entries(panel, "parallel")
        scale = lines["spec"]["layer"][1]["encoding"]["color"]["scale"]
        assert {n: in_trend[n] for n in in_trend} == {
            n: c for n, c in zip(scale["domain"], scale["range"]) if n in in_trend
        }
        assert trend["spec"]["layer"][0]["mark"]["color"] not in in_trend.values()  # the commits' line is none of them
        assert trend["spec"]["layer"][0]["encoding"]["x"]["type"] == "temporal"  # a commit per second: time
        svg = static_svg(trend["spec"])
        assert svg is not None and svg.count('aria-roledescription="point"') == 7  # 3 commits + 4 experiments
        assert f'data-plot="{trend["id"]}"' in panel["html"]
        ticks = [float(t.replace(",", "")) for t in axis_labels(trend["spec"])["score"]]
        assert ticks and min(ticks) >= 0, ticks  # no axis below zero for a score that cannot be negative
        # The metric picked for y is the one over commits too.
        panel = plot(controller, ["e4"], [panel["x"], "metrics.nested.loss"])
        (trend,) = entries(panel, "commits")
        assert trend["metric"] == "nested.loss"
        losses = [p["value"] for p in trend["spec"]["data"]["values"] if p["kind"] == "commit"]
        assert losses == sorted(losses, reverse=True)
    finally:
        controller.close()
    one = TableController(Project(history))  # one commit shown: no trend to draw
    try:
        assert not entries(plot(one, ["main"]), "commits")
    finally:
        one.close()


def test_commits_in_one_second_are_placed_in_order_and_python_has_the_trend(history, cli):
    from jupyter_exp.plots.commits import TrendError

    view = jupyter_exp.plots_trends(kind="commits", num=3, metric="nested.loss", experiments=False)
    assert view.metric == "nested.loss" and [p["kind"] for p in view.points] == ["commit"] * 3
    assert "image/png" in view._repr_mimebundle_() and str(view) == "nested.loss over commits: 3 commits, 0 experiments"
    rows, cols = select(Project(history), ShowOptions(num=3))
    same = [replace(r, created=1_700_000_000) for r in rows]
    _metric, spec = commit_trend(same, cols)
    assert spec is not None and spec["layer"][0]["encoding"]["x"]["field"] == "order"
    assert [p["order"] for p in spec["data"]["values"] if p["kind"] == "experiment"] == [2, 1, 1, 1]  # at its commit
    for bad, message in (
        (
            dict(kind="commits", num=3, metric="nope"),
            "No metric 'nope' with values at two or more commits; choose one of",
        ),
        (dict(kind="commit"), "Unknown trends kind 'commit'"),
        (dict(kind="commits", num=0), "num must be a whole number"),
        (dict(kind="commits"), "Fewer than two commits have metrics"),
    ):
        with pytest.raises(TrendError, match=message):
            jupyter_exp.plots_trends(**bad)
    # The command line: the spec, a page; flags that do not fit, in one line.
    spec = json.loads(cli("plots", "trends", "--commits", "-n", "3", "--metric", "nested.loss", "--json").stdout)
    assert spec["title"] == "nested.loss over commits" and len(spec["data"]["values"]) == 7
    page = cli("plots", "trends", "--commits", "-n", "3", "-o", "page").stdout.strip()
    assert page.endswith("page/index.html") and "vegaEmbed(" in (history / "page" / "index.html").read_text()
    for args, message in (
        (["--metric", "score"], "--metric, -n, -A and --no-experiments go with --commits"),
        (["--commits", "--targets", "x"], "--commits draws one chart"),
        (["--commits", "-n", "3", "--metric", "nope"], "No metric 'nope'"),
    ):
        failed = cli("plots", "trends", *args, check=False)
        assert failed.returncode != 0 and message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
