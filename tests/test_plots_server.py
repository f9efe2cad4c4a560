"""The plots the JupyterLab sidebar offers beside DVC's (issue 16): trends over steps of
the plotted experiments, in their table colours, and each Optuna study's optimization
history and param importances, listed and drawn by the server's ``plots`` route, which
refuses requests without credentials like every route."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tornado.httpclient
from conftest import make_repo
from server_helpers import *  # noqa: F403 - pytest-jupyter's fixtures and the server's
from server_helpers import fetch_json, on_loop
from test_search import OBJECTIVE, SPACE

import jupyter_exp
from jupyter_exp.project import Project
from jupyter_exp.table import TableController

# The objective as in test_search, and a DVCLive-style history of a loss over three steps.
TRAIN = (
    "import json, math, os, yaml; p = yaml.safe_load(open('params.yaml'))['train']\n"
    "acc = 1 - (math.log10(p['lr']) + 2) ** 2 / 4 - (p['depth'] - 4) ** 2 / 16\n"
    "json.dump({'val': {'acc': acc}}, open('metrics.json', 'w'))\n"
    "os.makedirs('dvclive/plots/metrics', exist_ok=True)\n"
    "rows = ''.join(f'{s}\\t{1 / (s + 1) + p[\"lr\"]}\\n' for s in range(3))\n"
    "open('dvclive/plots/metrics/loss.tsv', 'w').write('step\\tloss\\n' + rows)\n"
)
DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
    outs:
    - dvclive/plots/metrics:
        cache: false
"""


@pytest.fixture
def studied(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project at ``<server root>/studied`` with study ``sp`` of three trials, reproduced."""
    root = make_repo(
        jp_root_dir / "studied",
        {"train.py": TRAIN, "params.yaml": "train:\n  lr: 0.001\n  depth: 2\n", "dvc.yaml": DVC_YAML},
    )
    monkeypatch.chdir(root)
    jupyter_exp.search(
        SPACE, objective=OBJECTIVE, maximize=True, trials=3, name="sp", seed=3, sampler="random", quiet=True
    )
    jupyter_exp.repro()  # the workspace's own histories: the metric picker lists them
    return root


async def status(jp_fetch, params: list[tuple[str, str]]) -> tuple[int, dict]:
    try:
        response = await jp_fetch("jupyter-exp", "plots", params=params)
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body) if exc.response is not None else {}
    return response.code, json.loads(response.body)


@on_loop
async def test_the_sidebar_is_offered_trends_and_study_plots_and_gets_them_drawn(jp_fetch, studied):
    listed = await fetch_json(jp_fetch, "plots", project="studied")
    assert listed["trends"] == [{"id": "trend:steps", "title": "Metrics over steps (DVCLive)", "metrics": ["loss"]}]
    assert listed["studies"] == [
        {"id": "study:sp:history", "title": "sp: optimization history", "study": "sp"},
        {"id": "study:sp:importances", "title": "sp: param importances", "study": "sp"},
    ]
    history = await fetch_json(jp_fetch, "plots", project="studied", plot="study:sp:history")
    (entry,) = history["specs"]
    assert entry["id"] == "study:sp:history" and entry["kind"] == "study"
    assert entry["spec"] == jupyter_exp.search_plots("sp").specs["optimization history"]
    assert [p["trial"] for p in entry["spec"]["data"]["values"]] == [1, 2, 3]
    bars = await fetch_json(jp_fetch, "plots", project="studied", plot="study:sp:importances")
    assert bars["specs"][0]["kind"] == "study"
    assert {b["param"] for b in bars["specs"][0]["spec"]["data"]["values"]} == {"train.lr", "train.depth"}

    # Trends over steps of two trials, in the colours the table gave them when plotted.
    controller = TableController(Project(studied))
    try:
        rows = {r["cells"][0]: r for r in controller.state["table"]["rows"]}
        reply = controller.handle(
            {"type": "action", "action": "plot", "keys": [rows["sp-1"]["key"], rows["sp-3"]["key"]]}
        )
        assert "error" not in reply, reply
        kept = dict(controller.preferences.colours)
    finally:
        controller.close()
    revisions = [("revisions", json.dumps([f"{n}={rows[n]['rev']}" for n in ("sp-1", "sp-3")]))]
    code, drawn = await status(jp_fetch, [("project", "studied"), ("plot", "trend:steps"), *revisions])
    assert code == 200, drawn
    (loss,) = drawn["specs"]
    assert loss["kind"] == "trend" and loss["title"] == "loss"
    assert loss["spec"]["encoding"]["color"]["scale"] == {
        "domain": ["sp-1", "sp-3"],
        "range": [kept["sp-1"], kept["sp-3"]],
    }
    points = loss["spec"]["data"]["values"]
    steps = [(p["rev"], p["step"]) for p in points]  # (TSV values are strings, as DVC keeps them)
    assert steps == [(n, str(s)) for n in ("sp-1", "sp-3") for s in range(3)]
    code, none = await status(
        jp_fetch, [("project", "studied"), ("plot", "trend:steps"), ("metric", "acc"), *revisions]
    )
    assert code == 200 and none["specs"] == []

    # Bad requests: one line each, 400.
    for params, message in (
        ([("plot", "nope")], "Unknown plot 'nope'; ask for trend:steps or study:<name>:history|importances."),
        ([("plot", "study:gone:history")], "No study named 'gone'; `exp run --search --status` lists them."),
        (
            [("plot", "trend:steps"), ("revisions", json.dumps(["sp-1=HEAD~1"]))],
            "Bad revision 'sp-1=HEAD~1'; give label=<commit id> or workspace.",
        ),
        (
            [("plot", "trend:steps"), ("revisions", "sp-1")],
            'revisions must be a JSON list of "label=<commit id>" strings.',
        ),
        (  # nested past the JSON parser's depth: still a 400, not a server error
            [("plot", "trend:steps"), ("revisions", "[" * 5000)],
            'revisions must be a JSON list of "label=<commit id>" strings.',
        ),
        (
            [("plot", "trend:steps"), ("revisions", json.dumps(["sp-1=" + "f" * 40]))],
            f"Commit id {'f' * 40} names no single commit of this project (for 'sp-1'); refresh the table.",
        ),
    ):
        code, answer = await status(jp_fetch, [("project", "studied"), *params])
        assert code == 400 and answer["message"] == message, answer


@on_loop
async def test_drawing_a_plot_needs_credentials(http_server_client, jp_base_url, studied):
    for query in ("plot=study:sp:history", "plot=trend:steps&revisions=%5B%22workspace%22%5D", ""):
        response = await http_server_client.fetch(
            f"{jp_base_url}jupyter-exp/plots?project=studied&{query}", raise_error=False
        )
        assert response.code == 403, query
