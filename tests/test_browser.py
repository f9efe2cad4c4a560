"""The experiment table in a real browser: JupyterLab on a token-protected local port,
Debian's Chromium driven by Playwright. The README's test command installs Chromium
(apt-get); a machine without it fails here rather than skipping.

JupyterLab loads this checkout's built labextension (through JUPYTER_PATH, as
tests/test_lab_ui.py explains): the notebook widget's Plot panel draws with the vega the
extension bundles, which it finds on the page.
"""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, cli_command, git, make_repo

import jupyter_exp

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


BUILT = REPO_ROOT / "jupyter_exp" / "labextension"
SOURCES = [
    *(REPO_ROOT / "labextension" / "src").glob("*.ts"),
    *(REPO_ROOT / "labextension" / "style").glob("*"),
    REPO_ROOT / "jupyter_exp" / "widgets" / "table.js",
    REPO_ROOT / "jupyter_exp" / "widgets" / "table.css",
]
BUILD_HINT = "pip install -e . (its build hook runs jlpm), or: cd labextension && jlpm install && jlpm build"


def labextension_build() -> Path:
    """This checkout's built labextension; fails with the command to build it."""
    package = BUILT / "package.json"
    assert package.exists(), f"The jupyter-exp labextension is not built: {BUILD_HINT}"
    stale = [str(p) for p in SOURCES if p.stat().st_mtime > package.stat().st_mtime]
    assert not stale, f"The labextension build is older than {stale[0]}: {BUILD_HINT}"
    return BUILT


@pytest.fixture
def built_labextension() -> Path:
    return labextension_build()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table_notebook(root: Path) -> None:
    """table.ipynb in ``root``: load the extension, show the table; git does not see it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_exp"), nbformat.v4.new_code_cell("%exp show")]
    nbformat.write(nb, root / "table.ipynb")
    with open(root / ".git" / "info" / "exclude", "a") as exclude:  # the baseline stays as it is
        exclude.write("table.ipynb\n.ipynb_checkpoints\n")


@pytest.fixture
def project_with_experiments(exps):
    table_notebook(exps)
    return exps


@contextlib.contextmanager
def running_lab(root: Path, tmp_path: Path, labextension: Path):
    """JupyterLab on ``root`` with this checkout's labextension; yields (base, token)."""
    token = secrets.token_hex(16)
    port = free_port()
    data = tmp_path / "jupyter-data" / "labextensions"
    data.mkdir(parents=True)
    (data / "jupyter-exp").symlink_to(labextension)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_PATH=str(tmp_path / "jupyter-data"),  # searched first: this build wins
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "lab.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                if urllib.request.urlopen(req, timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()
            assert time.monotonic() < deadline, "JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()
            time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def lab(project_with_experiments, tmp_path, built_labextension):
    with running_lab(project_with_experiments, tmp_path, built_labextension) as (base, token):
        yield base, token, project_with_experiments


def open_table(page, base: str, token: str):
    """Opens table.ipynb, runs its cells, and returns the table widget's locator."""
    page.goto(f"{base}/lab/tree/table.ipynb?token={token}")
    page.locator(".jp-Notebook").wait_for(timeout=60_000)
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select")
    try:  # JupyterLab may ask which kernel to start
        select.click(timeout=10_000)
    except Exception:
        pass
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
    page.get_by_role("menuitem", name="Run").click()
    page.get_by_text("Run All Cells", exact=True).click()
    table = page.locator(".jx-table-widget")
    table.locator("tbody tr").first.wait_for(timeout=60_000)
    return table


def test_experiment_table_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token, root = lab
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            table = open_table(page, base, token)
            rows = table.locator("tbody tr")
            expect(rows).to_have_count(5)
            expect(table.locator(".jx-counts")).to_contain_text("3 experiments")

            # Sort by score, descending (two clicks on its header): e3 first.
            header = table.locator('th[data-sort="metrics.score"]')
            header.click()
            expect(header).to_contain_text("▲")
            header.click()
            expect(header).to_contain_text("▼")
            expect(rows.nth(2).locator("td.jx-name")).to_contain_text("e3")
            expect(rows.nth(4).locator("td.jx-name")).to_contain_text("e1")

            # Apply e1 from its row; the workspace changes on disk.
            assert "lr: 0.01" in (root / "params.yaml").read_text()
            rows.nth(4).locator("button.jx-apply").click()
            expect(table.locator(".jx-message-text")).to_have_text("Applied 'e1' to the workspace.")
            assert "lr: 0.1" in (root / "params.yaml").read_text()

            # Select e2, Branch…: the widget asks for the name; Enter creates the branch.
            rows.nth(3).locator("input.jx-select").check()
            table.get_by_role("button", name="Branch…").click()
            answer = table.locator(".jx-pending input.jx-answer")
            answer.fill("from-e2")
            answer.press("Enter")
            expect(table.locator(".jx-message-text")).to_have_text("Created branch 'from-e2' from 'e2'.")
            assert "lr: 0.2" in git(root, "show", "from-e2:params.yaml")

            # A filter from the filter bar; a star, and starred only.
            table.locator("select.jx-f-col").select_option("params.train.lr")
            table.locator("select.jx-f-op").select_option(">=")
            table.locator("input.jx-f-val").fill("0.2")
            table.get_by_role("button", name="Add filter").click()
            expect(rows).to_have_count(4)
            expect(table.locator(".jx-chip")).to_contain_text("lr >= 0.2")  # the column's display name
            table.locator(".jx-chip button").click()
            expect(rows).to_have_count(5)
            rows.nth(2).locator("button.jx-star").click()
            expect(rows.nth(2).locator("button.jx-star")).to_have_text("★")
            table.get_by_label("Starred only").check()
            expect(rows).to_have_count(3)
            table.get_by_label("Starred only").uncheck()
            expect(rows).to_have_count(5)

            # Plot the three experiments: one dot each on the scatter.
            table.locator("input.jx-select").nth(3).uncheck()
            for i in (2, 3, 4):
                rows.nth(i).locator("input.jx-select").check()
            table.get_by_role("button", name="Plot").click()
            scatter = table.locator('.jx-panel [data-plot^="scatter:"] .jx-vega svg [aria-roledescription="point"]')
            expect(scatter).to_have_count(3)  # drawn by vega-embed, from the labextension on the page

            # An experiment run outside the notebook
            # appears without re-running the cell (live updates over real comms).
            subprocess.run(
                [*cli_command(), "run", "-S", "train.lr=0.7", "-n", "from-shell"],
                cwd=root,
                check=True,
                capture_output=True,
            )
            expect(table.locator("td.jx-name", has_text="from-shell")).to_have_count(1, timeout=20_000)
            expect(table.locator(".jx-counts")).to_contain_text("4 experiments")
            page.screenshot(path=str(ARTIFACTS / "experiment-table.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "experiment-table-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


# A stage with DVC's plots (a loss curve per experiment, the `linear` template) and
# metrics, for the Plot panel's chart kinds.
CURVE_TRAIN = """\
import json
import yaml

p = yaml.safe_load(open("params.yaml"))["train"]
loss, lines = 1.0, ["step,loss"]
for step in range(p["epochs"]):
    loss *= 1 - p["lr"]
    lines.append(f"{step},{loss:.6f}")
open("loss.csv", "w").write("\\n".join(lines) + "\\n")
json.dump({"loss": round(loss, 6), "acc": round(1 - loss, 6)}, open("metrics.json", "w"))
"""
CURVE_DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
    - train.py
    params:
    - train
    plots:
    - loss.csv:
        cache: false
        x: step
        y: loss
    metrics:
    - metrics.json:
        cache: false
"""


@pytest.fixture
def plots_lab(tmp_path, monkeypatch, built_labextension):
    root = make_repo(
        tmp_path / "curves",
        {"train.py": CURVE_TRAIN, "dvc.yaml": CURVE_DVC_YAML, "params.yaml": "train:\n  lr: 0.05\n  epochs: 8\n"},
    )
    monkeypatch.chdir(root)
    for i, lr in enumerate((0.1, 0.2, 0.3)):
        jupyter_exp.run(params={"train.lr": lr}, name=f"c{i + 1}")
    git(root, "checkout", "-q", "--", ".")
    jupyter_exp.checkout()
    table_notebook(root)
    with running_lab(root, tmp_path, built_labextension) as (base, token):
        yield base, token, root


def test_plots_compare_and_notes_in_the_notebook_table(plots_lab):
    """The Plot panel draws DVC's template plot, the scatter and parallel coordinates
    with vega (a screenshot of each kept in test-artifacts/), Compare marks and moves its
    reference, and a note written in the table lands in git notes."""
    from playwright.sync_api import expect, sync_playwright

    base, token, root = plots_lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            table = open_table(page, base, token)
            # Export CSV saves the table as shown, every time it is asked.
            for _ in range(2):
                with page.expect_download(timeout=30_000) as saved:
                    table.get_by_role("button", name="Export CSV").click()
                assert saved.value.suggested_filename == "experiments-curves.csv"
                assert "c3" in Path(saved.value.path()).read_text()

            for name in ("c1", "c2", "c3"):
                table.get_by_label(f"select {name}", exact=True).check()

            table.get_by_role("button", name="Plot").click()
            panel = table.locator(".jx-panel")
            for kind in ("template", "scatter", "parallel"):
                chart = panel.locator(f".jx-plot-{kind} .jx-vega svg.marks, .jx-plot-{kind} .jx-vega canvas")
                expect(chart).to_have_count(1, timeout=30_000)
                plot = panel.locator(f".jx-plot-{kind}")
                plot.scroll_into_view_if_needed()
                plot.screenshot(path=str(ARTIFACTS / f"plots-{kind}.png"))
            # The template plot: a line per experiment, each named in the legend.
            legend = panel.locator(".jx-plot-template svg .role-legend-label text")
            expect(legend).to_have_text(["c1", "c2", "c3"])
            lines = panel.locator(".jx-plot-template svg .mark-line path").count()
            assert lines >= 3, lines
            expect(panel.locator(".jx-plot-template .vega-actions, .jx-plot-template details")).not_to_have_count(0)
            expect(panel.locator('select[data-axis="y"]')).to_have_count(1)  # loss or acc on the scatter
            panel.locator('select[data-axis="y"]').select_option("metrics.acc")
            expect(panel.locator(".jx-plot-scatter svg.marks")).to_contain_text("acc", timeout=30_000)

            table.get_by_role("button", name="Compare").click()
            compare = panel.locator(".jx-compare-table")
            expect(compare).to_have_count(1, timeout=30_000)
            expect(compare.locator("th.jx-ref")).to_have_count(1)
            expect(compare.locator("th.jx-ref")).to_have_text("c1 reference")  # the first selected
            expect(compare.locator("tbody tr", has_text="lr")).to_have_count(1)
            expect(compare.locator("tbody tr", has_text="loss")).to_have_count(1)
            panel.locator("select[data-reference]").select_option(label="c2")
            expect(compare.locator("th.jx-ref")).to_have_text("c2 reference", timeout=30_000)
            panel.screenshot(path=str(ARTIFACTS / "compare.png"))

            # The first note: from the actions bar (the table has no Note column yet).
            for name in ("c1", "c2"):
                table.get_by_label(f"select {name}", exact=True).uncheck()
            table.get_by_role("button", name="Note…").click()
            editor = table.locator(".jx-annotate input.jx-edit-input")
            editor.fill("best so far")
            editor.press("Enter")
            expect(table.locator(".jx-message-text")).to_have_text("Noted 'c3'.", timeout=30_000)
            c3 = table.locator("tr.jx-row", has=page.get_by_label("select c3", exact=True))
            expect(c3).to_contain_text("best so far")
            # ... then edited in its cell.
            c3.hover()
            c3.locator('button[data-edit="note"]').click()
            cell = c3.locator("input.jx-edit-input")
            cell.fill("best so far, lr 0.3")
            cell.press("Enter")
            expect(c3).to_contain_text("best so far, lr 0.3", timeout=30_000)
            rev = c3.locator(".jx-rev").first.text_content().strip()
            assert "best so far, lr 0.3" in git(root, "notes", "--ref=jupyter-exp", "show", rev)
            # The message fades on its own.
            expect(table.locator(".jx-message")).to_be_hidden(timeout=15_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "plots-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
