"""The experiment table in a real browser: JupyterLab on a token-protected local port,
Debian's Chromium driven by Playwright. The README's test command installs Chromium
(apt-get); a machine without it fails here rather than skipping."""

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
from conftest import REPO_ROOT, cli_command, git

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def project_with_experiments(exps):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_exp"), nbformat.v4.new_code_cell("%exp show")]
    nbformat.write(nb, exps / "table.ipynb")
    with open(exps / ".git" / "info" / "exclude", "a") as exclude:  # the baseline stays as it is
        exclude.write("table.ipynb\n.ipynb_checkpoints\n")
    return exps


@pytest.fixture
def lab(project_with_experiments, tmp_path):
    token = secrets.token_hex(16)
    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
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
            f"--ServerApp.root_dir={project_with_experiments}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=project_with_experiments,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "lab.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
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
    yield base, token, project_with_experiments
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_experiment_table_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token, root = lab
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
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
            expect(table.locator(".jx-message")).to_have_text("Applied 'e1' to the workspace.")
            assert "lr: 0.1" in (root / "params.yaml").read_text()

            # Select e2, Branch…: the widget asks for the name; Enter creates the branch.
            rows.nth(3).locator("input.jx-select").check()
            table.get_by_role("button", name="Branch…").click()
            answer = table.locator(".jx-pending input.jx-answer")
            answer.fill("from-e2")
            answer.press("Enter")
            expect(table.locator(".jx-message")).to_have_text("Created branch 'from-e2' from 'e2'.")
            assert "lr: 0.2" in git(root, "show", "from-e2:params.yaml")

            # A filter from the filter bar; a star, and starred only.
            table.locator("select.jx-f-col").select_option("params.train.lr")
            table.locator("select.jx-f-op").select_option(">=")
            table.locator("input.jx-f-val").fill("0.2")
            table.get_by_role("button", name="Add filter").click()
            expect(rows).to_have_count(4)
            expect(table.locator(".jx-chip")).to_contain_text("params.train.lr >= 0.2")
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
            scatter = table.locator('.jx-panel [data-plot^="scatter:"] svg [aria-roledescription="point"]')
            expect(scatter).to_have_count(3)  # the panel's HTML fallback: the scatter's spec drawn as SVG

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
