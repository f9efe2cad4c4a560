"""The table's metric over commits in a real browser: JupyterLab, the notebook table of
``%exp show -n 3`` (three commits, experiments on two of them), its Plot panel drawn by
the labextension's vega in Debian's Chromium (a screenshot kept in test-artifacts/)."""

from __future__ import annotations

import nbformat
import pytest
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, built_labextension, open_table, running_lab  # noqa: F401
from test_plots_table import history  # noqa: F401 - fixture: three commits, e1..e4


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


def test_a_metric_over_commits_in_the_notebook_table(commits_lab):
    from playwright.sync_api import expect, sync_playwright

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
            # Three commits on the line, the four experiments as faint points, the metric named.
            expect(trend.locator('svg.marks [aria-roledescription="point"]')).to_have_count(7)
            expect(trend.locator("svg.marks")).to_contain_text("score over commits")
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
