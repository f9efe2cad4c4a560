"""The JupyterLab workbench in a real browser, with no kernel: a token-protected
`jupyter lab` (XSRF on) with the jupyter_exp server extension, the built `jupyter-exp`
labextension, and Debian's Chromium driven by Playwright.

The labextension is not built here: the test finds it where `pip install -e .` puts
it (the jupyter-builder hook runs `jlpm build` into jupyter_exp/labextension), or where
`cd labextension && jlpm install && jlpm build` does, and fails with that command when
it is missing or older than its sources. JupyterLab finds it through JUPYTER_PATH, so
nothing is installed into any environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, git, make_repo
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, free_port, labextension_build

import jupyter_exp

# A checkpointed stage that takes `sleep` seconds per epoch and prints each one, so a
# queued run has step progress to watch and a log to follow.
TRAIN = """\
import json, os, time
import yaml
from jupyter_exp import live

p = yaml.safe_load(open("params.yaml"))["train"]
state = json.load(open("model.json")) if os.path.exists("model.json") else {"epoch": 0, "w": 0.0}
for epoch in range(state["epoch"], p["epochs"]):
    time.sleep(p["sleep"])
    state = {"epoch": epoch + 1, "w": round(state["w"] + p["lr"], 6)}
    json.dump(state, open("model.json", "w"))
    print(f"epoch {epoch + 1} of {p['epochs']}: w={state['w']}", flush=True)
    live.log_metric("w", state["w"])
    live.next_step(total=p["epochs"])
"""
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
    - train.py
    params:
    - train
    outs:
    - model.json:
        checkpoint: true
    metrics:
    - dvclive/metrics.json:
        cache: false
"""
PARAMS = "train:\n  lr: 0.01\n  epochs: 3\n  sleep: 0\n"


# An element's text and background colours as the browser paints them (a canvas pixel
# reads any CSS colour syntax, color-mix() included).
PAINTED = """el => {
  const s = getComputedStyle(el);
  const ctx = document.createElement('canvas').getContext('2d');
  return [s.color, s.backgroundColor].map(css => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
  });
}"""


def contrast(fg: list[int], bg: list[int]) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255 channels)."""

    def luminance(rgb: list[int]) -> float:
        r, g, b = (v / 255 for v in rgb)
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture
def built_labextension() -> Path:
    return labextension_build()


@pytest.fixture
def lab_project(tmp_path, monkeypatch):
    root = make_repo(tmp_path / "proj", {"train.py": TRAIN, "dvc.yaml": DVC_YAML, "params.yaml": PARAMS})
    monkeypatch.chdir(root)
    for i, lr in enumerate((0.1, 0.2, 0.3)):
        jupyter_exp.run(params={"train.lr": lr}, name=f"e{i + 1}")
        (root / "model.json").unlink()  # else the next run resumes from this checkpoint
    git(root, "checkout", "-q", "--", ".")
    jupyter_exp.checkout()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "analysis.ipynb")
    with open(root / ".git" / "info" / "exclude", "a") as exclude:  # the baseline stays as it is
        exclude.write("analysis.ipynb\n.ipynb_checkpoints\n")
    return root


@contextlib.contextmanager
def running_lab(root_dir: Path, built_labextension: Path, tmp_path: Path):
    """A token-protected `jupyter lab` serving ``root_dir`` with this checkout's
    extension (server and front end); yields its base URL and token."""
    token = secrets.token_hex(16)
    port = free_port()
    config = tmp_path / "jupyter-config"
    config.mkdir()
    # The server extension, enabled as its installed config file does.
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_exp.server": True}}})
    )
    data = tmp_path / "jupyter-data" / "labextensions"
    data.mkdir(parents=True)
    (data / "jupyter-exp").symlink_to(built_labextension)
    # JupyterLab's news question, answered: its toast, coming late on a loaded machine,
    # took the focus from the command palette (a modal that closes when it loses it).
    notification = config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_PATH=str(tmp_path / "jupyter-data"),  # searched first: this build wins
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    log = tmp_path / "lab.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_unauthenticated_access=False",
            "--LabApp.expose_app_in_browser=True",
            "--allow-root",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=root_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),
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
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "JupyterLab did not start:\n" + log.read_text()
        time.sleep(0.3)
    try:
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def lab_server(lab_project, built_labextension, tmp_path):
    with running_lab(lab_project, built_labextension, tmp_path) as (base, token):
        yield base, token, lab_project
    # A queue worker started from the panel is detached: stop it with the test.
    jupyter_exp.queue_stop(kill=True, root=str(lab_project))


def status_of(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None) -> int:
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def open_tab(page, project: str, url: str | None = None):
    """Load JupyterLab at ``url`` (None: reload the page) and open ``project``'s
    Experiments tab from its command; returns the tab."""
    if url is None:
        page.reload()
    else:
        page.goto(url)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('jupyter-exp:open')")
    page.evaluate(f"window.jupyterapp.commands.execute('jupyter-exp:open', {{project: {json.dumps(project)}}})")
    return page.locator(f"#jupyter-exp-{project}")


def submit(page, button: str) -> None:
    """Accept the run form; the server's refusal, if any, fails the test with its line."""
    from playwright.sync_api import expect

    page.locator(".jp-Dialog").get_by_role("button", name=button, exact=True).click()
    # A refused form comes back at once with the server's line under it.
    page.wait_for_timeout(2000)
    error = page.locator(".jp-Dialog .jp-ExperimentsRunForm-error")
    if error.count():
        raise AssertionError(f"the form came back: {error.text_content()}")
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def test_experiments_workbench_in_jupyterlab(lab_server):
    from playwright.sync_api import expect, sync_playwright

    base, token, root = lab_server
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    ARTIFACTS.mkdir(exist_ok=True)

    # The API refuses requests without credentials, and answers with the token.
    assert status_of(f"{base}/jupyter-exp/table?project=") == 403
    assert status_of(f"{base}/jupyter-exp/table?project=", headers={"Authorization": f"token {token}"}) == 200

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        try:
            page.goto(f"{base}/lab?token={token}")
            page.locator("#jp-main-dock-panel").wait_for(timeout=60_000)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('jupyter-exp:open')")
            news = page.locator(".jp-toast-button", has_text="No")
            try:  # JupyterLab asks once about its news feed; the answer does not matter here
                news.click(timeout=5_000)
            except Exception:
                pass

            # XSRF is on: a cookie-authenticated POST without the X-XSRFToken header is refused.
            refused = page.request.post(f"{base}/jupyter-exp/table?project=", data=json.dumps({"type": "refresh"}))
            assert refused.status == 403

            def palette(label: str) -> None:
                # The palette's own command (its key binding needs the page focused first),
                # once the layout is restored (restoring moves the focus).
                page.evaluate("window.jupyterapp.restored")
                page.evaluate("window.jupyterapp.commands.execute('apputils:activate-command-palette')")
                box = page.locator(".lm-CommandPalette-input")
                box.fill(label)
                expect(page.locator(".lm-CommandPalette-item.lm-mod-active")).to_contain_text(label)
                box.press("Enter")

            # Open the Experiments tab from the palette (the project of the file browser's folder).
            palette("Open experiments")
            table = page.locator(".jp-ExperimentsTab .jx-table-widget")
            rows = table.locator("tbody tr.jx-row")
            expect(rows).to_have_count(5, timeout=30_000)  # workspace, baseline, e1..e3
            expect(table.locator(".jx-counts")).to_contain_text("3 experiments")

            # Sort by w, descending: e3 first.
            header = table.locator("thead th[data-sort]", has_text="w").filter(has_not_text="step").first
            header.click()
            expect(header).to_contain_text("▲")
            header.click()
            expect(header).to_contain_text("▼")
            expect(rows.nth(2).locator("td.jx-name")).to_contain_text("e3")
            expect(rows.nth(4).locator("td.jx-name")).to_contain_text("e1")

            # Filter lr >= 0.2: e1 goes; removing the chip brings it back.
            table.locator("select.jx-f-col").select_option("params.train.lr")
            table.locator("select.jx-f-op").select_option(">=")
            table.locator("input.jx-f-val").fill("0.2")
            table.get_by_role("button", name="Add filter").click()
            expect(rows).to_have_count(4)
            table.locator(".jx-chip button").click()
            expect(rows).to_have_count(5)

            # Plot, with the vega the extension bundles (no network), then Compare.
            for name in ("e1", "e2", "e3"):
                table.get_by_label(f"select {name}", exact=True).check()
            table.get_by_role("button", name="Plot").click()
            panel = table.locator(".jx-panel")
            for kind in ("scatter", "parallel"):
                expect(panel.locator(f".jx-plot-{kind} .jx-vega svg.marks")).to_have_count(1, timeout=30_000)
            expect(panel.locator(".jx-plot-parallel svg .role-legend-label text")).to_have_text(["e1", "e2", "e3"])
            table.get_by_role("button", name="Compare").click()
            expect(panel.locator(".jx-compare-table th.jx-ref")).to_have_text("e1 reference", timeout=20_000)
            expect(panel.locator(".jx-compare-table tbody tr", has_text="lr")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "lab-compare.png"))

            # A note on e2, from the actions bar; it shows in a Note column.
            for name in ("e1", "e3"):
                table.get_by_label(f"select {name}", exact=True).uncheck()
            table.get_by_role("button", name="Note…").click()
            note = table.locator(".jx-annotate input.jx-edit-input")
            note.fill("the middle one")
            note.press("Enter")
            expect(table.locator("tr.jx-row", has_text="the middle one")).to_have_count(1, timeout=20_000)
            table.get_by_label("select e2", exact=True).uncheck()
            panel.locator('[data-cmd="close-panel"]').click()

            # Notebook-aware Apply: params.yaml is open with unsaved edits; Apply asks first.
            page.evaluate("window.jupyterapp.commands.execute('docmanager:open', {path: 'params.yaml'})")
            editor = page.locator(".jp-FileEditor .cm-content")
            editor.wait_for(timeout=20_000)
            editor.click()
            page.keyboard.press("Control+End")
            page.keyboard.type("# an unsaved note\n")
            expect(page.locator(".jp-mod-dirty")).to_have_count(1, timeout=10_000)
            page.locator(".lm-TabBar-tab", has_text="Experiments:").click()
            assert "lr: 0.01" in (root / "params.yaml").read_text()
            rows.nth(4).locator("button.jx-apply").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_contain_text("params.yaml")
            dialog.get_by_role("button", name="Discard and apply").click()
            # (It may also say where the workspace's own changes went: dvclive/ is untracked.)
            expect(table.locator(".jx-message-text")).to_contain_text("Applied 'e1' to the workspace", timeout=20_000)
            assert "lr: 0.1" in (root / "params.yaml").read_text()
            assert "unsaved note" not in (root / "params.yaml").read_text()

            # Run experiment with params…: a typed form from GET params; a worker process runs it.
            palette("Run experiment with params…")
            form = page.locator(".jp-Dialog .jp-ExperimentsRunForm")
            form.wait_for()
            form.get_by_label("train.lr", exact=True).fill("0.9")
            form.locator('input[name="name"]').fill("from-form")
            submit(page, "Run")
            expect(table.locator("td.jx-name", has_text="from-form")).to_have_count(1, timeout=60_000)
            # (While it runs the engine may list it twice, as its entry and its first checkpoint.)
            from_form = table.locator("tr.jx-row", has_text="from-form")
            expect(from_form.locator(".jx-state-success")).to_have_count(1, timeout=60_000)
            expect(from_form.locator(".jx-state-running")).to_have_count(0, timeout=20_000)
            assert "from-form" in git(root, "for-each-ref", "--format=%(refname)", "refs/exps")

            # Queue experiments…: a sweep of two slow runs, queued, not started.
            palette("Queue experiments…")
            form = page.locator(".jp-Dialog .jp-ExperimentsRunForm")
            form.wait_for()
            form.get_by_label("train.lr", exact=True).fill("0.5,0.6")
            form.get_by_label("train.sleep", exact=True).fill("2")
            form.get_by_label("train.epochs", exact=True).fill("4")
            form.locator('input[name="name"]').fill("sweep")
            submit(page, "Queue")
            expect(table.locator("tr.jx-row", has_text="sweep-")).to_have_count(2, timeout=30_000)
            status = page.locator(".jp-ExperimentsStatus")
            expect(status).to_contain_text("2 queued", timeout=20_000)

            # Start the queue from the sidebar, one at a time.
            palette("Show experiments sidebar")
            sidebar = page.locator("#jupyter-exp-sidebar")
            expect(sidebar.locator(".jp-ExperimentsQueue-entry.jp-mod-queued")).to_have_count(2, timeout=20_000)
            sidebar.locator(".jp-ExperimentsQueue-jobs").fill("1")
            sidebar.locator('button[data-op="start"]').click()

            # A running row shows its step progress; the status bar counts.
            # (The engine may list a running checkpoint experiment twice, as its queue entry
            # and as its first checkpoint: the test looks at the first.)
            running = table.locator("tr.jx-row", has=page.locator(".jx-state-running")).first
            expect(running.locator("td.jx-name")).to_contain_text("sweep-1", timeout=60_000)
            expect(running.locator("td.jx-name .jx-progress")).to_contain_text("step", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "lab-running.png"))
            expect(status).to_contain_text("1 running · 1 queued", timeout=20_000)

            # Its log, followed in the sidebar.
            entry = sidebar.locator(".jp-ExperimentsQueue-entry.jp-mod-running")
            entry.get_by_role("button", name="Log").click()
            expect(sidebar.locator(".jp-ExperimentsLog-text")).to_contain_text("epoch 1 of 4", timeout=30_000)

            # Both sweep runs finish; the status bar says nothing runs.
            expect(table.locator("tr.jx-row", has_text="sweep-").locator(".jx-state-success")).to_have_count(
                2, timeout=120_000
            )
            expect(status).to_contain_text("no experiments running", timeout=30_000)
            expect(sidebar.locator(".jp-ExperimentsLog-text")).to_contain_text("epoch 4 of 4", timeout=30_000)

            # The status bar opens the tab; "Show queue logs" follows the newest log.
            page.locator(".lm-TabBar-tab", has_text="params.yaml").click()
            status.click()
            expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text="Experiments:")).to_have_count(1)
            palette("Show queue logs")
            expect(sidebar.locator(".jp-ExperimentsLog-title")).to_contain_text("Log of sweep-")

            # A notebook's toolbar runs with params for the notebook's project.
            page.evaluate("window.jupyterapp.commands.execute('docmanager:open', {path: 'analysis.ipynb'})")
            toolbar = page.locator(".jp-NotebookPanel-toolbar")
            toolbar.get_by_role("button", name="Run with params…").click()
            form = page.locator(".jp-Dialog .jp-ExperimentsRunForm")
            expect(form.get_by_label("train.lr", exact=True)).to_have_value("0.1")  # the workspace: e1 applied
            page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
            expect(toolbar.get_by_role("button", name="Experiments")).to_have_count(1)

            # The dark theme: state badges stay readable (WCAG AA contrast), kept as a picture.
            page.locator(".lm-TabBar-tab", has_text="Experiments:").click()
            page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
            page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
            page.wait_for_timeout(500)
            badge = table.locator(".jx-state-success").first
            colours = badge.evaluate(PAINTED)
            assert contrast(*colours) >= 4.5, colours
            page.screenshot(path=str(ARTIFACTS / "lab-dark.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lab-ui-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


@pytest.fixture
def two_projects(tmp_path, monkeypatch):
    """A server root holding two projects, with experiments of their own."""
    roots = {}
    for name, lrs in (("proj-a", (0.1, 0.2)), ("proj-b", (0.7,))):
        root = make_repo(tmp_path / "root" / name, {"train.py": TRAIN, "dvc.yaml": DVC_YAML, "params.yaml": PARAMS})
        monkeypatch.chdir(root)
        for i, lr in enumerate(lrs):
            jupyter_exp.run(params={"train.lr": lr}, name=f"{name[-1]}{i + 1}")
            (root / "model.json").unlink()  # else the next run resumes from this checkpoint
        git(root, "checkout", "-q", "--", ".")
        roots[name] = root
    return roots


def test_two_projects_in_two_tabs_work_independently(two_projects, built_labextension, tmp_path, monkeypatch):
    """Two Experiments tabs on two project roots of one server: each shows its own
    experiments, sorts on its own, follows its own project live, and closing one
    leaves the other working."""
    from playwright.sync_api import expect, sync_playwright

    root_dir = two_projects["proj-a"].parent
    with running_lab(root_dir, built_labextension, tmp_path) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{base}/lab?reset&token={token}")
            page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('jupyter-exp:open')")
            for project in ("proj-a", "proj-b"):
                page.evaluate(f"window.jupyterapp.commands.execute('jupyter-exp:open', {{project: '{project}'}})")
            tab_a, tab_b = page.locator("#jupyter-exp-proj-a"), page.locator("#jupyter-exp-proj-b")
            rows_a, rows_b = tab_a.locator("tbody tr.jx-row"), tab_b.locator("tbody tr.jx-row")
            expect(page.locator(".lm-TabBar-tab", has_text="Experiments: proj-a")).to_have_count(1, timeout=30_000)
            expect(page.locator(".lm-TabBar-tab", has_text="Experiments: proj-b")).to_have_count(1)
            # Each its own experiments: workspace, baseline and a1, a2 / b1.
            expect(rows_a).to_have_count(4, timeout=30_000)
            expect(rows_b).to_have_count(3, timeout=30_000)
            # A name cell also shows the commit id, which may contain "a1" or "b1": match the name.
            expect(tab_a.locator("td.jx-name", has_text=re.compile(r"^\W*b1(\s|$)"))).to_have_count(0)
            expect(tab_b.locator("td.jx-name", has_text=re.compile(r"^\W*a1(\s|$)"))).to_have_count(0)
            expect(tab_a.locator("td.jx-name", has_text=re.compile(r"^\W*a1(\s|$)"))).to_have_count(1)

            # Sorting proj-b's table leaves proj-a's as it was.
            page.locator(".lm-TabBar-tab", has_text="Experiments: proj-b").click()
            header_b = tab_b.locator("thead th[data-sort='params.train.lr']")
            header_b.click()
            expect(header_b).to_contain_text("▲")
            expect(tab_a.locator("thead th[data-sort='params.train.lr']")).not_to_contain_text("▲")
            expect(tab_a.locator("thead th[data-sort='params.train.lr']")).not_to_contain_text("▼")

            # An experiment recorded in proj-b appears in its tab only, live.
            monkeypatch.chdir(two_projects["proj-b"])
            jupyter_exp.run(params={"train.lr": 0.8}, name="b-later")
            expect(tab_b.locator("td.jx-name", has_text="b-later")).to_have_count(1, timeout=30_000)
            expect(rows_b).to_have_count(4)
            expect(rows_a).to_have_count(4)
            page.screenshot(path=str(ARTIFACTS / "lab-two-projects.png"))

            # Closing proj-a's tab: proj-b's still follows its project.
            page.locator(".lm-TabBar-tab", has_text="Experiments: proj-a").locator(".lm-TabBar-tabCloseIcon").click()
            expect(page.locator("#jupyter-exp-proj-a")).to_have_count(0)
            (two_projects["proj-b"] / "model.json").unlink(missing_ok=True)
            jupyter_exp.run(params={"train.lr": 0.9}, name="b-last")
            expect(tab_b.locator("td.jx-name", has_text="b-last")).to_have_count(1, timeout=30_000)
            expect(tab_b.locator(".jx-message-text.jx-error, .jx-error .jx-message-text")).to_have_count(0)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lab-two-projects-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_the_sidebar_chooses_which_plots_the_tab_shows(tmp_path, monkeypatch, built_labextension):
    """The sidebar's Plots section lists the project's DVC plots and the panel's kinds;
    unchecking one takes it out of the tab's plots view, and a custom metric-vs-param
    plot added there is drawn for the plotted experiments."""
    from playwright.sync_api import expect, sync_playwright

    files = {"train.py": TRAIN, "dvc.yaml": DVC_YAML + "plots:\n- loss.csv:\n    x: step\n    y: loss\n"}
    files.update({"params.yaml": PARAMS, "loss.csv": "step,loss\n0,1.0\n1,0.6\n2,0.4\n"})
    root = make_repo(tmp_path / "root" / "plotted", files)
    monkeypatch.chdir(root)
    for i, lr in enumerate((0.1, 0.3)):
        jupyter_exp.run(params={"train.lr": lr}, name=f"p{i + 1}")
        (root / "model.json").unlink()
    git(root, "checkout", "-q", "--", ".")
    with running_lab(root.parent, built_labextension, tmp_path) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            table = open_tab(page, "plotted", f"{base}/lab?reset&token={token}")
            for name in ("p1", "p2"):
                table.get_by_label(f"select {name}", exact=True).check(timeout=30_000)
            table.get_by_role("button", name="Plot").click()
            panel = table.locator(".jx-panel")
            for kind in ("template", "scatter", "parallel"):
                expect(panel.locator(f".jx-plot-{kind} .jx-vega svg.marks")).to_have_count(1, timeout=30_000)

            page.evaluate("window.jupyterapp.commands.execute('jupyter-exp:show-sidebar')")
            plots = page.locator("#jupyter-exp-sidebar .jp-ExperimentsPlots")
            expect(plots.locator('input[data-plot="template:loss.csv"]')).to_be_checked(timeout=20_000)
            plots.locator('input[data-plot="template:loss.csv"]').uncheck()
            plots.locator('input[data-plot="parallel"]').uncheck()
            expect(panel.locator(".jx-plot-template")).to_have_count(0)
            expect(panel.locator(".jx-plot-parallel")).to_have_count(0)
            expect(panel.locator(".jx-plot-scatter .jx-vega svg.marks")).to_have_count(1)

            # A custom plot: the metric w against the param train.lr.
            metric = plots.locator("select.jp-ExperimentsPlots-metric")
            w = next(v for v in metric.locator("option").evaluate_all("os => os.map(o => o.value)") if v.endswith("w"))
            metric.select_option(w)
            plots.locator("select.jp-ExperimentsPlots-param").select_option("params.train.lr")
            plots.get_by_role("button", name="Add plot").click()
            custom = panel.locator(".jx-plot-custom .jx-vega svg.marks")
            expect(custom).to_have_count(1, timeout=20_000)
            legend = panel.locator(".jx-plot-custom svg .role-legend-label text")
            expect(legend).to_have_count(2)  # (in the table's order: both made within a second)
            assert sorted(legend.all_text_contents()) == ["p1", "p2"]
            page.screenshot(path=str(ARTIFACTS / "lab-plot-selection.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lab-plot-selection-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_the_sidebar_starts_the_queue_on_a_local_dask_cluster(tmp_path, monkeypatch, built_labextension):
    """The Queue section's place to run: a scheduler address that is not one is refused
    with one line and starts nothing; a local Dask cluster runs the queued entry to
    success on a Dask worker, which the entry shows; the choice outlives a reload; the
    table's own "▶ Run queue" starts the queue there too, and its title says where."""
    from playwright.sync_api import expect, sync_playwright

    root = make_repo(tmp_path / "root" / "daskproj", {"train.py": TRAIN, "dvc.yaml": DVC_YAML, "params.yaml": PARAMS})
    monkeypatch.chdir(root)
    jupyter_exp.queue(params={"train.lr": 0.4}, name="on-dask", quiet=True)
    with running_lab(root.parent, built_labextension, tmp_path) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            open_tab(page, "daskproj", f"{base}/lab?reset&token={token}")
            page.evaluate("window.jupyterapp.commands.execute('jupyter-exp:show-sidebar')")
            queue = page.locator("#jupyter-exp-sidebar .jp-ExperimentsQueue")
            entry = queue.locator(".jp-ExperimentsQueue-entry", has_text="on-dask")
            expect(entry.locator(".jp-ExperimentsQueue-state")).to_have_text("queued", timeout=30_000)
            message = queue.locator(".jp-ExperimentsQueue-message")

            # A scheduler address without a port: one line from the server, nothing started.
            queue.locator("select.jp-ExperimentsQueue-executor").select_option("address")
            queue.locator("input.jp-ExperimentsQueue-address").fill("dask://nohost")
            queue.locator("input.jp-ExperimentsQueue-address").press("Tab")  # its change event
            queue.locator('button[data-op="start"]').click()
            expect(message).to_have_text(
                '"dask://nohost" is not a Dask scheduler address; type it as dask://HOST:PORT (e.g. dask://10.0.0.5:8786).'
            )
            expect(message).to_have_class("jp-ExperimentsQueue-message jp-mod-error")
            expect(message).to_be_in_viewport()
            page.screenshot(path=str(ARTIFACTS / "lab-queue-dask-refused.png"))
            expect(queue.locator(".jp-ExperimentsQueue-workers")).to_have_text("No worker running.")
            assert [e.state for e in jupyter_exp.queue_status(root=str(root)).entries] == ["queued"]

            # A local Dask cluster: the entry runs on one of its workers, to success.
            queue.locator("select.jp-ExperimentsQueue-executor").select_option("dask")
            queue.locator('button[data-op="start"]').click()
            expect(message).to_contain_text("running 1 at a time on a local Dask cluster.", timeout=20_000)
            expect(entry.locator(".jp-ExperimentsQueue-state")).to_have_text("success", timeout=120_000)
            expect(entry.locator(".jp-ExperimentsQueue-worker")).to_contain_text("Dask worker, pid ")
            expect(message).to_be_in_viewport()
            entry.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "lab-queue-dask.png"))
            assert "on-dask" in git(root, "for-each-ref", "--format=%(refname)", "refs/exps")
            (recorded,) = jupyter_exp.queue_status(root=str(root)).entries
            assert entry.locator(".jp-ExperimentsQueue-worker").text_content() == f"Dask worker, pid {recorded.pid}"

            # The choice is the project's, kept in the browser: a reload shows it.
            open_tab(page, "daskproj")
            page.evaluate("window.jupyterapp.commands.execute('jupyter-exp:show-sidebar')")
            expect(queue.locator(".jp-ExperimentsQueue-entry", has_text="on-dask")).to_have_count(1, timeout=30_000)
            expect(queue.locator("select.jp-ExperimentsQueue-executor")).to_have_value("dask")
            expect(queue.locator("input.jp-ExperimentsQueue-address")).to_have_value("dask://nohost")

            # The table's own "▶ Run queue" runs where the sidebar chose, and says so.
            jupyter_exp.queue(params={"train.lr": 0.5}, name="by-table", quiet=True)
            tab = page.locator(".jp-ExperimentsTab")
            run_queue = tab.locator('.jx-queue-ctl button[data-queue="start"]')
            expect(run_queue).to_be_visible(timeout=30_000)  # the live table saw the entry queued
            expect(run_queue).to_have_attribute("title", re.compile(r"on a local Dask cluster"))
            run_queue.click()
            expect(tab.locator(".jx-message")).to_contain_text(
                "running 1 at a time on a local Dask cluster.", timeout=20_000
            )
            by_table = queue.locator(".jp-ExperimentsQueue-entry", has_text="by-table")
            expect(by_table.locator(".jp-ExperimentsQueue-state")).to_have_text("success", timeout=120_000)
            expect(by_table.locator(".jp-ExperimentsQueue-worker")).to_contain_text("Dask worker, pid ")
            (started,) = [e for e in jupyter_exp.queue_status(root=str(root)).entries if e.name == "by-table"]
            assert by_table.locator(".jp-ExperimentsQueue-worker").text_content() == f"Dask worker, pid {started.pid}"
            # Back to this machine in the sidebar: the table's button says so at once.
            queue.locator("select.jp-ExperimentsQueue-executor").select_option("local")
            expect(run_queue).to_have_attribute("title", re.compile(r"in a worker process on the server's machine"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lab-queue-dask-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
            jupyter_exp.queue_stop(kill=True, root=str(root))
