"""Trends over steps and a study's plots in the notebook table's Plot panel, in a real
browser: JupyterLab, the notebook table of a project with DVCLive histories and an Optuna
study, drawn by the labextension's vega in Debian's Chromium (screenshots kept in
test-artifacts/)."""

from __future__ import annotations

import pytest
from test_browser import (  # noqa: F401
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    built_labextension,
    open_table,
    running_lab,
    table_notebook,
)
from test_exp_commits import live_bin, live_path  # noqa: F401
from test_plots_table_history import live_project  # noqa: F401 - e1, e2 with DVCLive histories; study 'st'


@pytest.fixture
def history_lab(live_project, tmp_path, built_labextension):  # noqa: F811
    table_notebook(live_project)
    with running_lab(live_project, tmp_path, built_labextension) as (base, token):
        yield base, token


def test_trends_over_steps_and_study_plots_in_the_notebook_table(history_lab, live_project):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, token = history_lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            table = open_table(page, base, token)
            trial = table.locator("tr.jx-row", has_text="st-").first.locator("input.jx-select")
            for name in ("e1", "e2"):
                table.get_by_label(f"select {name}", exact=True).check()
            trial.check()
            table.get_by_role("button", name="Plot").click()
            panel = table.locator(".jx-panel")
            trend = panel.locator(".jx-plot-trend")
            expect(trend.locator(".jx-vega svg.marks")).to_have_count(1, timeout=30_000)
            expect(trend.locator("svg .mark-line path")).not_to_have_count(0)
            legend = trend.locator("svg .role-legend-label text")
            expect(legend).to_have_count(3)  # e1, e2 and the trial, each its line
            studies = panel.locator(".jx-plot-study .jx-vega svg.marks")
            expect(studies).to_have_count(2, timeout=30_000)  # optimization history, param importances
            expect(panel.locator(".jx-plot-study").first).to_contain_text("Optimization history")
            expect(
                panel.locator(".jx-plot-study svg .mark-rect path, .jx-plot-study svg .mark-rect")
            ).not_to_have_count(0)
            trend.scroll_into_view_if_needed()
            trend.screenshot(path=str(ARTIFACTS / "plots-trend-steps.png"))
            for i in range(2):
                study = panel.locator(".jx-plot-study").nth(i)
                study.scroll_into_view_if_needed()
                study.screenshot(path=str(ARTIFACTS / f"plots-study-{i + 1}.png"))
            # The picker: another metric's history, then every one.
            picker = panel.locator("select[data-trend-metric]")
            expect(picker).to_have_count(1)
            picker.select_option("train/loss")
            expect(trend.locator("svg.marks")).to_contain_text("train/loss", timeout=30_000)
            panel.locator("select[data-trend-metric]").select_option(label="every metric")
            expect(panel.locator(".jx-plot-trend .jx-vega svg.marks")).to_have_count(2, timeout=30_000)
            panel.screenshot(path=str(ARTIFACTS / "plots-trends-and-study.png"))
            # Rows with neither: no trend picker, no study plots.
            for name in ("e1", "e2"):
                table.get_by_label(f"select {name}", exact=True).uncheck()
            trial.uncheck()
            table.get_by_label("select main", exact=True).check()
            table.get_by_role("button", name="Plot").click()
            expect(panel.locator(".jx-plot-scatter, .jx-plot-parallel, .jx-plot-empty").first).to_be_visible(
                timeout=30_000
            )
            expect(panel.locator(".jx-plot-study")).to_have_count(0)
            expect(panel.locator("select[data-trend-metric]")).to_have_count(0)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "plots-history-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
