"""``plots show`` / ``plots diff`` against real DVC 3.67.1, the HTML page, ``--open``,
and the notebook's Vega-Lite output in a real kernel.

Read-only comparisons run both tools on the *same* repository (one input, two
readers: nothing to normalise, not even the image files' absolute paths, which both
write under ``dvc_plots/``). Experiments are made by each tool in its own twin
(DVC's ``exp run`` in one, ours in the other, DVCLive in the stage); there the only
normalisation is the twin's root in image URLs.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import cli_command, git
from nbclient import NotebookClient
from test_exp_commits import in_dir, live_bin, live_path  # noqa: F401 - fixtures: DVCLive in DVC's venv

import jupyter_exp

pytestmark = pytest.mark.dvc

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# A template of the project's own (.dvc/plots/bars.json), as `dvc plots templates` users write them.
CUSTOM = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": "<DVC_METRIC_DATA>"},
    "title": "<DVC_METRIC_TITLE>",
    "mark": "bar",
    "encoding": {
        "x": {"field": "<DVC_METRIC_X>", "type": "nominal", "title": "<DVC_METRIC_X_LABEL>"},
        "y": {"field": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"},
        "color": "<DVC_METRIC_COLOR>",
    },
}
# One plot per DVC template, the ways dvc.yaml names data (a file, {file: fields},
# a directory, another dvc.yaml's files, a stage's plots output), images, and three
# files DVC cannot read (missing, not UTF-8, corrupt JSON).
DVC_YAML = """stages:
  report:
    cmd: python -c "print()"
    plots:
    - stage.csv:
        x: epoch
        y: auc
        title: From a stage
        cache: false
plots:
- loss.tsv:
    x: step
    y: loss
    title: Loss
- acc:
    x: step
    y:
      loss.tsv: [acc, loss]
    template: smooth
- roc.csv:
    x: fpr
    y: tpr
    template: simple
    x_label: False positive rate
- scatter.json:
    x: a
    y: b
    template: scatter
- conf.json:
    template: confusion
    x: actual
    y: predicted
- normalized:
    template: confusion_normalized
    x: actual
    y:
      conf.json: predicted
- bars.json:
    template: bar_horizontal
    x: value
    y: name
- sorted bars:
    template: bar_horizontal_sorted
    x: value
    y:
      bars.json: name
- mine:
    template: bars
    x: name
    y:
      bars.json: value
- nested.json
- series.yaml
- curves:
    x: step
- images/a.png
- images/steps
- missing.tsv
- bad.tsv
- corrupt.json
"""


def write_files(root: Path, scale: float = 1.0) -> None:
    """The data of DVC_YAML; ``scale`` changes the values (another revision)."""
    files = {
        "loss.tsv": "step\tloss\tacc\n" + "".join(f"{i}\t{scale / (i + 1):.4f}\t{i * scale / 10}\n" for i in range(5)),
        "roc.csv": f"fpr,tpr,threshold\n0,0,1\n0.5,{0.8 * scale},0.5\n1,1,0\n",
        "scatter.json": json.dumps([{"a": i, "b": i * i * scale} for i in range(4)]),
        "conf.json": json.dumps(
            [{"actual": a, "predicted": p} for a, p in [("cat", "cat"), ("dog", "cat"), ("dog", "dog"), ("cat", "cat")]]
        ),
        "bars.json": json.dumps([{"name": n, "value": v * scale} for n, v in (("a", 3), ("b", 1), ("c", 2))]),
        "nested.json": json.dumps({"train": [{"x": 1, "y": 2 * scale}, {"x": 2, "y": 3}], "meta": {"n": 2}}),
        "series.yaml": f"- {{epoch: 1, value: {scale}}}\n- {{epoch: 2, value: 0.5}}\n",
        "stage.csv": f"epoch,auc\n1,0.5\n2,{0.7 * scale}\n",
        "curves/a.tsv": "step\tm\n0\t1\n1\t2\n",
        "curves/b/c.tsv": f"step\tn\n0\t{scale}\n1\t3\n",
        "sub/dvc.yaml": "plots:\n- sub.csv:\n    x: k\n    y: v\n",
        "sub/sub.csv": f"k,v\n1,{scale}\n2,2\n",
        "dvc.yaml": DVC_YAML,
        ".dvc/plots/bars.json": json.dumps(CUSTOM),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "images" / "steps").mkdir(parents=True, exist_ok=True)
    (root / "images" / "a.png").write_bytes(PNG)
    for step in range(2):
        (root / "images" / "steps" / f"{step}.png").write_bytes(PNG)
    (root / "bad.tsv").write_bytes(b"step\tloss\n0\t\xff\xfe\n")
    (root / "corrupt.json").write_text('{"not": "closed"')


@pytest.fixture
def plots_repo(git_repo: Path, dvc) -> Path:
    """DVC_YAML and its data, committed twice (scale 1, then 2); the workspace at scale 3."""
    dvc("init", "-q")
    write_files(git_repo, 1.0)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "first")
    write_files(git_repo, 2.0)
    git(git_repo, "commit", "-qam", "second")
    write_files(git_repo, 3.0)
    return git_repo


def both(dvc, cli, *args: str) -> tuple[dict, dict]:
    """DVC's and our JSON for the same command, each from a clean ``dvc_plots``."""
    import shutil

    shutil.rmtree("dvc_plots", ignore_errors=True)
    theirs = json.loads(dvc("plots", *args, "--json").stdout)
    shutil.rmtree("dvc_plots", ignore_errors=True)
    ours = json.loads(cli("plots", *args, "--json").stdout)
    return ours, theirs


def test_plots_show_json_is_dvcs_for_every_template_image_and_error(plots_repo, dvc, cli):
    ours, theirs = both(dvc, cli, "show")
    assert ours == theirs
    kinds = {plot_id: entries[0]["type"] for plot_id, entries in theirs["data"].items() if entries}
    templates = {
        json.dumps(e[0]["content"]).count(marker)
        for e in theirs["data"].values()
        if e and e[0]["type"] == "vega"
        for marker in ['"loess"', '"xy_count"', '"bar"']
    }
    assert len(kinds) >= 17 and kinds["images/a.png"] == "image" and templates  # the repo is what it claims
    assert {e["source"]: e["type"] for e in theirs["errors"]} == {
        "missing.tsv": "FileNotFoundError",
        "bad.tsv": "EncodingError",
        "corrupt.json": "JSONFileCorruptedError",
    }


@pytest.mark.parametrize(
    "args",
    [
        [],  # tracked files changed: HEAD against the workspace
        ["HEAD~1", "HEAD"],
        ["HEAD~1", "main", "workspace"],
        ["HEAD~1", "--targets", "loss.tsv", "acc", "images/.*"],
        ["HEAD~1", "--targets", "roc.csv", "-x", "tpr", "-y", "fpr", "--title", "Flipped", "-t", "scatter"],
    ],
    ids=["dirty", "two-commits", "three-sides", "targets", "props"],
)
def test_plots_diff_json_is_dvcs(plots_repo, dvc, cli, args):
    ours, theirs = both(dvc, cli, "diff", *args)
    assert ours == theirs
    assert len({r for entries in theirs["data"].values() for e in entries for r in e["revisions"]}) >= 2


def test_split_and_show_vega_are_dvcs(plots_repo, dvc, cli):
    ours, theirs = both(dvc, cli, "diff", "HEAD~1", "--split")
    assert ours == theirs
    assert "anchor_definitions" in theirs["data"]["loss.tsv"][0]
    theirs = json.loads(dvc("plots", "show", "roc.csv", "--show-vega").stdout)
    assert json.loads(cli("plots", "show", "roc.csv", "--show-vega").stdout) == theirs


def test_templates_list_and_content_are_dvcs(plots_repo, dvc, cli):
    assert cli("plots", "templates").stdout.split() == dvc("plots", "templates").stdout.split()
    for name in ("linear", "confusion"):
        assert json.loads(cli("plots", "templates", name).stdout) == json.loads(dvc("plots", "templates", name).stdout)


def make_live(root: Path, dvc) -> Path:
    """A DVCLive project: a stage that logs two metrics over five steps, a custom plot
    and an image it writes itself; the initial commit's time fixed so that both twins
    share their baseline's SHA."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    (root / "params.yaml").write_text("lr: 0.1\n")
    (root / "train.py").write_text(
        "import base64, os, yaml\n"
        "from dvclive import Live\n"
        "lr = yaml.safe_load(open('params.yaml'))['lr']\n"
        "with Live() as live:\n"
        "    for i in range(5):\n"
        "        live.log_metric('acc', round(lr * (i + 1), 4))\n"
        "        live.log_metric('train/loss', round(1 / (1 + lr * i), 4))\n"
        "        live.next_step()\n"
        "    live.log_plot('pr', [{'recall': r / 4, 'precision': 1 - lr * r / 8} for r in range(5)],"
        " x='recall', y='precision', template='simple', title='PR')\n"
        "os.makedirs('images', exist_ok=True)\n"
        f"png = base64.b64decode({base64.b64encode(PNG).decode()!r})\n"
        "open('images/sample.png', 'wb').write(png + bytes([int(lr * 10)]))\n"
    )
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    deps: [train.py]\n    params: [lr]\n"
        "    plots:\n    - images:\n        cache: false\n"
    )
    in_dir(root, dvc, "init", "-q")
    git(root, "add", "-A")
    env = {"GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
    subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True, env={**os.environ, **env})
    return root


def test_dvclive_plots_of_experiments_are_dvcs(tmp_path, dvc, dvc_exe, live_path):  # noqa: F811
    ours, theirs = make_live(tmp_path / "ours", dvc), make_live(tmp_path / "theirs", dvc)
    assert git(ours, "rev-parse", "HEAD") == git(theirs, "rev-parse", "HEAD")
    for name, lr in (("e1", "0.1"), ("e2", "0.3")):
        in_dir(theirs, dvc, "exp", "run", "-n", name, "-S", f"lr={lr}")
        in_dir(ours, lambda name=name, lr=lr: jupyter_exp.run(name=name, set_params=[f"lr={lr}"]))

    def shown(root: Path, *args: str) -> dict:
        env = dict(os.environ, DVC_NO_ANALYTICS="1")
        exe = [str(dvc_exe)] if root == theirs else cli_command()
        out = subprocess.run([*exe, "plots", *args, "--json"], cwd=root, capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.replace(str(root), "<root>"))  # image files are written under each twin

    for args in (["show"], ["diff", "e1", "e2"], ["diff", "e2", "-e"], ["diff", "e1", "e2", "--targets", "dvclive/.*"]):
        theirs_json = shown(theirs, *args)
        assert shown(ours, *args) == theirs_json, args
    data = shown(theirs, "diff", "e1", "e2")["data"]
    assert {"dvclive/plots/metrics/acc.tsv", "dvclive/plots/metrics/train/loss.tsv", "images/sample.png"} <= set(data)
    assert data["dvclive/plots/metrics/acc.tsv"][0]["revisions"] == ["e1", "e2"]


def test_html_page_open_and_the_address_printed(plots_repo, dvc, cli, tmp_path, monkeypatch):
    out = cli("plots", "diff", "HEAD~1", "-o", "report")
    page = plots_repo / "report" / "index.html"
    assert out.stdout.strip() == page.as_uri()
    dvc("plots", "diff", "HEAD~1", "-o", "theirs")
    ours, theirs = page.read_text(), (plots_repo / "theirs" / "index.html").read_text()
    assert ours.count("vegaEmbed(") == theirs.count("vegaEmbed(") == 18  # DVC's page, chart for chart
    assert ours.count("<img") == theirs.count("<img") == 6
    assert sorted(os.listdir(plots_repo / "report" / "static")) == sorted(os.listdir(plots_repo / "theirs" / "static"))
    assert "WARNING: missing.tsv skipped (missing.tsv at HEAD~1)" in out.stderr
    # --open with a browser: the page's address goes to it ($BROWSER, a real process)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{browser} %s")
    cli("plots", "show", "--open")
    assert opened.read_text().strip() == (plots_repo / "dvc_plots" / "index.html").as_uri()
    # ... and without one, where the page is
    monkeypatch.delenv("BROWSER")
    monkeypatch.setenv("PATH", str(Path(cli_command()[0]).parent) + ":/usr/bin:/bin")
    out = cli("plots", "show", "--open", "-o", "again")
    assert out.stdout.splitlines()[-1] == f"No web browser found; open {plots_repo / 'again' / 'index.html'} yourself."


def test_the_notebook_gets_vega_lite_from_exp_plots_diff(plots_repo):
    """A real kernel (nbclient): ``%exp plots diff`` outputs one Vega-Lite bundle per
    plot (with HTML and PNG fallbacks), images as HTML; ``plots_diff`` returns the specs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_exp"),
        nbformat.v4.new_code_cell("%exp plots diff HEAD~1 HEAD --targets loss acc images/a"),  # ids, as patterns
        nbformat.v4.new_code_cell(
            "import jupyter_exp, json\n"
            "view = jupyter_exp.plots_diff('HEAD~1', 'HEAD', targets=['loss', 'acc'])\n"
            "print(json.dumps(view.specs))"
        ),
    ]
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(plots_repo)}}).execute()
    outputs = nb.cells[1].outputs
    vega = [o for o in outputs if "application/vnd.vegalite.v5+json" in o.get("data", {})]
    assert [o.output_type for o in vega] == ["display_data", "display_data"]
    assert all({"text/html", "image/png", "text/plain"} <= set(o["data"]) for o in vega)
    images = [o for o in outputs if o.get("data", {}).get("text/plain") == "images/a.png (image)"]
    assert len(images) == 1 and images[0]["data"]["text/html"].count("<img") == 2
    specs = json.loads(nb.cells[2].outputs[0]["text"])
    assert [o["data"]["application/vnd.vegalite.v5+json"] for o in vega] == [specs["loss.tsv"], specs["acc"]]
    assert specs["loss.tsv"]["encoding"]["color"]["scale"]["domain"] == ["HEAD~1", "HEAD"]


def test_the_plots_benchmark_runs(dvc_exe):
    """bench/plots.py keeps working (quick sizes, side by side with DVC); no times asserted."""
    bench = Path(__file__).resolve().parent.parent / "bench" / "plots.py"
    proc = subprocess.run([sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| plots diff")]
    assert len(rows) == 2 and all(row.count("|") == 6 and "x |" in row for row in rows), proc.stdout  # + CPU ms


def test_large_plots_show_as_vega_lite_without_slow_static_copies(project):
    """Past STATIC_MAX_POINTS datapoints the spec is the output (the front end draws it);
    the HTML fallback is dvc-render's Vega-Embed snippet and there is no PNG."""
    from jupyter_exp.plots.display import PNG_MAX_POINTS, STATIC_MAX_POINTS, VEGALITE_MIME

    rows = {"small.tsv": PNG_MAX_POINTS // 2, "medium.tsv": PNG_MAX_POINTS + 1, "large.tsv": STATIC_MAX_POINTS + 1}
    for name, count in rows.items():
        (project / name).write_text("step\tv\n" + "".join(f"{i}\t{i % 7}\n" for i in range(count)))
    (project / "dvc.yaml").write_text("plots:\n- small.tsv\n- medium.tsv\n- large.tsv\n")
    small, medium, large = jupyter_exp.plots_show().bundles()
    assert {VEGALITE_MIME, "text/html", "image/png"} <= set(small) and "<svg" in small["text/html"]
    assert "image/png" not in medium and "<svg" in medium["text/html"]
    assert "image/png" not in large and "vegaEmbed(" in large["text/html"]
    assert len(large[VEGALITE_MIME]["data"]["values"]) == STATIC_MAX_POINTS + 1
