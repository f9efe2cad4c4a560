"""The quick start's JupyterLab cell in a real JupyterLab (Chromium, a real kernel): the
button it draws opens the project's Experiments tab. Uses tests/test_lab_ui.py's server
(this checkout's built labextension, the server extension, a token) rooted at a project."""

from __future__ import annotations

from pathlib import Path

import nbformat
from conftest import REPO_ROOT
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from test_lab_ui import built_labextension, lab_project, lab_server  # noqa: F401 - fixtures

LINK = "data-commandlinker-command"


def quickstart_cell() -> str:
    """The source of the quick start's cell that draws the Experiments tab's button."""
    nb = nbformat.read(REPO_ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    (source,) = [c.source for c in nb.cells if c.cell_type == "code" and LINK in c.source]
    return source


def test_the_quickstart_button_opens_the_experiments_tab(lab_server):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, token, root = lab_server
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # The quick start's `project` (its first cell makes it), here the served project itself.
    nb.cells = [
        nbformat.v4.new_code_cell("from pathlib import Path\nproject = Path.cwd()"),
        nbformat.v4.new_code_cell(quickstart_cell()),
    ]
    nbformat.write(nb, root / "analysis.ipynb")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{base}/lab/tree/analysis.ipynb?token={token}")
            page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('jupyter-exp:open')")
            page.locator(".jp-Notebook").wait_for(timeout=60_000)
            page.wait_for_function(
                "window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                timeout=60_000,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            button = page.locator(f"button[{LINK}='jupyter-exp:open']")
            expect(button).to_have_text(f"Open the Experiments tab of {Path(root).name}", timeout=60_000)
            assert page.locator(".jp-ExperimentsTab").count() == 0
            button.click()
            rows = page.locator(".jp-ExperimentsTab .jx-table-widget tbody tr.jx-row")
            expect(rows).to_have_count(5, timeout=30_000)  # workspace, baseline, e1..e3
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "quickstart-lab-button.png"))
        finally:
            browser.close()
