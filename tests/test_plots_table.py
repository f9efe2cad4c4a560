"""The table's Plot panel, driven headlessly through the controller's messages: the
Vega-Lite specs it holds (DVC's plots of the selection, metric vs param, parallel
coordinates), their colours, and what vl-convert draws of them (ticks that are round
numbers, no axis below zero for positive metrics, whole steps)."""

from __future__ import annotations

import json

import pytest
import vl_convert
from conftest import git

import jupyter_exp
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
