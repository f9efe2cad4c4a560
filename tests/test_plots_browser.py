"""The table's metric over commits in a real browser: JupyterLab, the notebook table of
``%exp show -n 3`` (three commits, experiments on two of them), its Plot panel drawn by
the labextension's vega in Debian's Chromium (a screenshot kept in test-artifacts/)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from conftest import make_repo
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, built_labextension, open_table, running_lab  # noqa: F401
from test_plots_table import history  # noqa: F401 - fixture: three commits, e1..e4

import jupyter_exp


@pytest.fixture
def commits_lab(history, tmp_path, built_labextension):  # noqa: F811
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_exp"), nbformat.v4.new_code_cell("%exp show -n 3")]
    nbformat.write(nb, history / "table.ipynb")
    with open(history / ".git" / "info" / "exclude", "a") as exclude:
        exclude.write("table.ipynb\n.ipynb_checkpoints\n")
    with running_lab(history, tmp_path, built_labextension) as (base, token):
        yield base, token


def test_a_metric_over_commits_in_the_notebook_table(commits_lab, history):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from jupyter_exp.project import Project

    base, token = commits_lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            table = open_table(page, base, token)
            table.get_by_label("select e4", exact=True).check()
            table.get_by_role("button", name="Plot").click()
            panel = table.locator(".jx-panel")
            trend = panel.locator(".jx-plot-commits")
            expect(trend.locator(".jx-vega svg.marks")).to_have_count(1, timeout=30_000)
            # Three commits on the line, the four experiments as points, the metric named.
            expect(trend.locator('svg.marks [aria-roledescription="point"]')).to_have_count(7)
            expect(trend.locator("svg.marks")).to_contain_text("score over commits")
            kept = json.loads(Project(history).table_state_file.read_text())["colours"]
            points = trend.locator('svg.marks [aria-roledescription="point"]').evaluate_all(
                "ps => ps.map(p => [p.getAttribute('aria-label'), (p.getAttribute('fill') || '').toLowerCase()])"
            )
            for name in ("e1", "e2", "e3", "e4"):  # each in the colour its row keeps, all distinct
                fills = [fill for aria, fill in points if re.search(rf"\brow: {name}(;|$)", aria or "")]
                assert fills == [kept[name].lower()], (name, points, kept)
            assert len({kept[n] for n in ("e1", "e2", "e3", "e4")}) == 4
            commits = [
                fill for aria, fill in points if re.search(r"\brow: main(;|$)|\brow: [0-9a-f]{7}(;|$)", aria or "")
            ]
            assert len(commits) == 3 and not set(commits) & {c.lower() for c in kept.values()}, points
            trend.scroll_into_view_if_needed()
            trend.screenshot(path=str(ARTIFACTS / "plots-commits.png"))
            # The y picker chooses the metric over commits too.
            panel.locator('select[data-axis="y"]').select_option("metrics.nested.loss")
            expect(trend.locator("svg.marks")).to_contain_text("nested.loss over commits", timeout=30_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "plots-commits-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


IMAGE_TRAIN = """import base64, os, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
os.makedirs("images/steps", exist_ok=True)
for step in range(3):  # a tiny PNG per step, its last byte telling step and run apart
    open(f"images/steps/{step}.png", "wb").write(base64.b64decode(PNG) + bytes([step, int(lr * 10)]))
"""
IMAGE_DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    outs:
    - images/steps:
        cache: false
plots:
- images/steps
"""


@pytest.fixture
def images_lab(tmp_path, monkeypatch, built_labextension):  # noqa: F811
    import base64

    from conftest import git, make_repo
    from test_browser import table_notebook
    from test_plots import PNG

    import jupyter_exp

    train = IMAGE_TRAIN.replace("PNG)", f"{base64.b64encode(PNG).decode()!r})")
    root = make_repo(
        tmp_path / "images", {"train.py": train, "dvc.yaml": IMAGE_DVC_YAML, "params.yaml": "train:\n  lr: 0.1\n"}
    )
    monkeypatch.chdir(root)
    for i, lr in enumerate((0.1, 0.2)):
        jupyter_exp.run(params={"train.lr": lr}, name=f"i{i + 1}")
    git(root, "checkout", "-q", "--", ".")
    jupyter_exp.checkout()
    table_notebook(root)
    with running_lab(root, tmp_path, built_labextension) as (base, token):
        yield base, token


def test_the_image_plot_steps_through_its_images_in_the_notebook_table(images_lab):
    """DVCLive-style images per step are one plot with a step slider: the last step first,
    one image per selected experiment; moving the slider shows that step's images."""
    from playwright.sync_api import expect, sync_playwright

    base, token = images_lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            table = open_table(page, base, token)
            for name in ("i1", "i2"):
                table.get_by_label(f"select {name}", exact=True).check()
            table.get_by_role("button", name="Plot").click()
            box = table.locator(".jx-panel .jx-plot-images")
            expect(box).to_have_count(1, timeout=30_000)
            expect(box.locator(".jx-step")).to_have_text("2")
            expect(box.locator("figure img")).to_have_count(2)
            last = box.locator("figure img").first.get_attribute("src")
            slider = box.locator('input[type="range"]')
            slider.fill("0")  # (fires input, as a drag does)
            expect(box.locator(".jx-step")).to_have_text("0")
            expect(box.locator("figure img")).to_have_count(2)
            assert box.locator("figure img").first.get_attribute("src") != last
            assert box.locator("figure img").first.evaluate("img => img.complete && img.naturalWidth > 0")
            box.scroll_into_view_if_needed()
            box.screenshot(path=str(ARTIFACTS / "plots-image-slider.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "plots-image-slider-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_the_sidebar_draws_a_study_plot_and_trends_over_steps_in_the_tab(tmp_path, monkeypatch, built_labextension):  # noqa: F811
    """In JupyterLab's sidebar, choosing a study's optimization history draws it in the
    Experiments tab's plots view; choosing trends over steps draws each plotted
    experiment's DVCLive history in the colour its row keeps."""
    from playwright.sync_api import expect, sync_playwright
    from test_lab_ui import open_tab
    from test_lab_ui import running_lab as lab_running
    from test_plots_server import DVC_YAML, TRAIN
    from test_search import OBJECTIVE, SPACE

    from jupyter_exp.project import Project

    files = {"train.py": TRAIN, "params.yaml": "train:\n  lr: 0.001\n  depth: 2\n", "dvc.yaml": DVC_YAML}
    root = make_repo(tmp_path / "root" / "studied", files)
    monkeypatch.chdir(root)
    jupyter_exp.search(
        SPACE, objective=OBJECTIVE, maximize=True, trials=3, name="sp", seed=3, sampler="random", quiet=True
    )
    jupyter_exp.repro()
    with lab_running(root.parent, built_labextension, tmp_path) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            table = open_tab(page, "studied", f"{base}/lab?reset&token={token}")
            for name in ("sp-1", "sp-2"):
                table.get_by_label(f"select {name}", exact=True).check(timeout=30_000)
            table.get_by_role("button", name="Plot").click()
            panel = table.locator(".jx-panel")
            expect(panel.locator(".jx-plot-scatter .jx-vega svg.marks")).to_have_count(1, timeout=30_000)
            expect(panel.locator(".jx-plot-study")).to_have_count(0)  # chosen in the sidebar only

            page.evaluate("window.jupyterapp.commands.execute('jupyter-exp:show-sidebar')")
            plots = page.locator("#jupyter-exp-sidebar .jp-ExperimentsPlots")
            history = plots.locator('input[data-plot="study:sp:history"]')
            expect(history).not_to_be_checked(timeout=20_000)
            expect(plots.locator('input[data-plot="study:sp:importances"]')).to_have_count(1)
            history.check()
            drawn = panel.locator(".jx-plot-study .jx-vega svg.marks")
            expect(drawn).to_have_count(1, timeout=30_000)
            expect(drawn).to_contain_text("Optimization history of 'sp'")
            expect(drawn.locator('[aria-roledescription="point"]')).to_have_count(3)  # one per trial
            panel.locator(".jx-plot-study").screenshot(path=str(ARTIFACTS / "lab-study-history.png"))

            plots.locator('input[data-plot="trend:steps"]').check()
            plots.locator('select[data-trend="steps"]').select_option("loss")
            trend = panel.locator(".jx-plot-trend .jx-vega svg.marks")
            expect(trend).to_have_count(1, timeout=30_000)
            kept = json.loads(Project(root).table_state_file.read_text())["colours"]
            strokes = trend.locator('[aria-roledescription="line mark"]').evaluate_all(
                "ls => ls.map(l => (l.getAttribute('stroke') || '').toLowerCase())"
            )
            assert strokes and set(strokes) == {kept[n].lower() for n in ("sp-1", "sp-2")}, (strokes, kept)
            panel.locator(".jx-plot-trend").screenshot(path=str(ARTIFACTS / "lab-trend-steps.png"))
            history.uncheck()
            expect(panel.locator(".jx-plot-study")).to_have_count(0)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lab-study-plots-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
