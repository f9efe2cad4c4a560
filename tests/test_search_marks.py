"""A search's trials marked where experiments are listed (issue 19): the Trial column
of ``exp show`` (text, JSON meta), of ``jupyter_exp.show()`` and of the table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_repo
from helpers import exp_refs

import jupyter_exp
from jupyter_exp.project import Project
from jupyter_exp.table import TableController

SCORE = (
    "import json, yaml; p = yaml.safe_load(open('params.yaml'))['train']; "
    "json.dump({'acc': 1 - (p['depth'] - 4) ** 2 / 16}, open('metrics.json', 'w'))"
)
DVC_YAML = """stages:
  score:
    cmd: python score.py
    deps: [score.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
"""


@pytest.fixture
def searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(
        tmp_path / "proj",
        {"score.py": SCORE + "\n", "params.yaml": "train:\n  depth: 2\n", "dvc.yaml": DVC_YAML},
    )
    monkeypatch.chdir(root)
    jupyter_exp.run(name="by-hand", set_params=["train.depth=3"])  # (a trial with its params would be its commit)
    space = ["train.depth=choice(2,4,8)"]
    jupyter_exp.search(space, objective="metrics.json:acc", maximize=True, trials=3, name="st", seed=1, quiet=True)
    return root


def test_trials_are_marked_in_show_the_dataframe_and_the_table(searched: Path, cli):
    trials = jupyter_exp.search_trials("st")
    best = next(t.experiment for t in trials.values() if t.best)
    expected = {t.experiment: f"st #{t.number}" + (", best" if t.best else "") for t in trials.values()}

    df = jupyter_exp.show().set_index("experiment")
    assert df.loc[list(expected), "trial"].to_dict() == expected
    assert pd.isna(df.loc["by-hand", "trial"])  # an experiment run by hand is no trial

    listed = json.loads(cli("show", "--json").stdout)
    metas = {e["name"]: e["revs"][0]["data"]["meta"] for b in listed for e in b.get("experiments") or []}
    assert {n: m.get("trial") for n, m in metas.items()} == {**expected, "by-hand": None}

    text = cli("show").stdout
    header = text.splitlines()[0]
    assert "Trial" in header and f"st #{trials[best].number}, best" in text

    table = TableController(Project(searched))
    try:
        columns = {c["id"]: c for c in table.state["table"]["columns"]}
        assert columns["trial"]["label"] == "Trial" and not columns["trial"]["editable"]
        at = list(columns).index("trial")
        cells = {r["cells"][0]: r["cells"][at] for r in table.state["table"]["rows"]}
        assert {n: cells[n] for n in expected} == expected and cells["by-hand"] == "-"
    finally:
        table.close()


SHOW_WITHOUT_OPTUNA = """
import json, sys
import jupyter_exp
from jupyter_exp.project import Project
from jupyter_exp.table import TableController
labels = jupyter_exp.show().set_index("experiment")["trial"].dropna().to_dict()
table = TableController(Project.find("."))
studies = table.state["table"]["studies"]
table.close()
print(json.dumps({"optuna": "optuna" in sys.modules, "labels": labels, "studies": studies}))
"""


def test_show_labels_trials_without_importing_optuna(searched: Path):
    import subprocess
    import sys

    from jupyter_exp.experiments.annotations import _labels_through_optuna
    from jupyter_exp.studies.study import status_line

    out = subprocess.run(
        [sys.executable, "-c", SHOW_WITHOUT_OPTUNA], cwd=searched, capture_output=True, text=True, check=True
    )
    shown = json.loads(out.stdout)
    assert shown["optuna"] is False
    trials = jupyter_exp.search_trials("st")
    expected = {t.experiment: f"st #{t.number}" + (", best" if t.best else "") for t in trials.values()}
    assert shown["labels"] == expected == _labels_through_optuna(Project(searched))
    assert [(s["name"], s["line"]) for s in shown["studies"]] == [("st", status_line(Project(searched), "st"))]


def test_a_study_file_of_another_schema_is_not_read_without_optuna(searched: Path, tmp_path: Path):
    import sqlite3

    from jupyter_exp.experiments.annotations import _labels_through_optuna, _progress_through_optuna
    from jupyter_exp.studies.labels import read_labels
    from jupyter_exp.studies.progress import read_progress

    project = Project(searched)
    assert read_labels(project.search_dir / "studies.db") == _labels_through_optuna(project)
    assert read_progress(project.search_dir / "studies.db") == _progress_through_optuna(project)
    # As if a later Optuna had changed its schema: a revision, or a column, it reads not.
    for change in (
        "UPDATE alembic_version SET version_num = 'v9.0.0.a'",
        "ALTER TABLE trial_values RENAME COLUMN value_type TO kind",
        "DROP TABLE trial_user_attributes",
    ):
        other = tmp_path / "other.db"
        with sqlite3.connect(project.search_dir / "studies.db") as db, sqlite3.connect(other) as copy:
            db.backup(copy)  # (the file itself may not hold what its -wal does yet)
            copy.execute(change)
        assert read_labels(other) is None, change  # trial_labels reads it through Optuna then
        assert read_progress(other) is None, change  # and so does study_progress
        other.unlink()


def test_a_study_file_under_a_path_with_uri_characters_is_read_where_it_is(searched: Path, tmp_path: Path):
    """``?``, ``#`` and ``%`` in a project's path: the study file is read there, read-only;
    no file is made where a cut-short path would point."""
    import sqlite3

    from jupyter_exp.studies.labels import read_labels
    from jupyter_exp.studies.progress import read_progress

    project = Project(searched)
    expected = (read_labels(project.search_dir / "studies.db"), read_progress(project.search_dir / "studies.db"))
    odd = tmp_path / "odd" / "p?x#y%41"
    odd.mkdir(parents=True)
    with sqlite3.connect(project.search_dir / "studies.db") as db, sqlite3.connect(odd / "studies.db") as copy:
        db.backup(copy)
    assert (read_labels(odd / "studies.db"), read_progress(odd / "studies.db")) == expected
    assert expected[0] and sorted(p.name for p in (tmp_path / "odd").iterdir()) == ["p?x#y%41"]
    assert read_labels(tmp_path / "odd" / "missing.db") is None and not (tmp_path / "odd" / "missing.db").exists()


def test_one_commit_that_is_two_trials_keeps_each_ones_label(searched: Path, cli, monkeypatch: pytest.MonkeyPatch):
    """Two searches that sample the same params in the same second record one commit: the
    Trial label belongs to each experiment, not to the commit."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # the same second, whatever the load
        monkeypatch.setenv(variable, "2026-01-02T03:04:05+00:00")
    for name in ("one", "again"):
        space = ["train.depth=choice(5)"]
        jupyter_exp.search(space, objective="metrics.json:acc", maximize=True, trials=1, name=name, quiet=True)
    first = jupyter_exp.search_trials("one")["one-1"]
    refs = exp_refs(searched)
    assert refs["again-1"] == refs[first.experiment]  # one commit, two experiments
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["again-1", "trial"] == "again #1, best" and df.loc["one-1", "trial"] == "one #1, best"
    listed = json.loads(cli("show", "--json").stdout)
    metas = {e["name"]: e["revs"][0]["data"]["meta"] for b in listed for e in b.get("experiments") or []}
    assert metas["again-1"]["trial"] == "again #1, best" and metas["one-1"]["trial"] == "one #1, best"
    table = TableController(Project(searched))
    try:
        cells = trial_cells(table)
        assert cells["again-1"] == "again #1, best" and cells["one-1"] == "one #1, best"
    finally:
        table.close()


def studies_of(table: TableController) -> list[dict]:
    return table.state["table"]["studies"]


def trial_cells(table: TableController) -> dict[str, str]:
    """The Trial cell of each experiment row shown, by experiment name."""
    state = table.state["table"]
    at = [c["id"] for c in state["columns"]].index("trial")
    return {r["cells"][0]: r["cells"][at] for r in state["rows"] if r["kind"] == "experiment"}


def test_the_table_shows_a_line_per_study_read_again_only_when_a_trial_changes(searched: Path):
    from jupyter_exp.experiments.annotations import study_progress
    from jupyter_exp.studies.study import load, status_line

    project = Project(searched)
    table = TableController(project)
    try:
        [study] = studies_of(table)
        assert study["name"] == "st" and study["line"] == status_line(project, "st")
        assert study["line"].startswith("3 / 3 trials, 0 running, best 1 (")
        best = next(r for r in table.state["table"]["rows"] if r["key"] == study["best_key"])
        assert trial_cells(table)[best["cells"][0]].endswith(", best") and not study["filtered"]

        read = study_progress(project)
        table.refresh_live()  # nothing written to the study file: nothing read again
        assert study_progress(project) is read and studies_of(table) == [study]

        optuna_study, _ = load(project, "st")
        trial = optuna_study.ask()  # a trial starts
        table.refresh_live()
        assert studies_of(table)[0]["line"] == status_line(project, "st")
        assert studies_of(table)[0]["line"].startswith("3 / 3 trials, 1 running, best 1 (")
        optuna_study.tell(trial, 2.0)  # ... and completes, the new best (of no experiment in the table)
        table.refresh_live()
        assert studies_of(table)[0]["line"] == status_line(project, "st") == "4 / 3 trials, 0 running, best 2 (st-4)"
        assert studies_of(table)[0]["best_key"] is None
    finally:
        table.close()


def test_clicking_a_study_line_shows_exactly_its_trials_as_a_filter(searched: Path):
    space = ["train.depth=choice(2,4,8)"]
    jupyter_exp.search(space, objective="metrics.json:acc", maximize=True, trials=1, name="st2", seed=2, quiet=True)
    table = TableController(Project(searched))
    try:
        assert [s["name"] for s in studies_of(table)] == ["st", "st2"]
        everything = trial_cells(table)
        assert set(everything) == {"by-hand", "st-1", "st-2", "st-3", "st2-1"}
        assert table.handle({"type": "study", "name": "st"}) == {"ok": True}
        assert set(trial_cells(table)) == {"st-1", "st-2", "st-3"}
        [chip] = table.state["table"]["filters"]
        assert chip["text"] == "Trial of study st" and chip["active"]
        assert [s["filtered"] for s in studies_of(table)] == [True, False]
        assert table.handle({"type": "study", "name": "st2"}) == {"ok": True}  # another study instead
        assert set(trial_cells(table)) == {"st2-1"} and len(table.state["table"]["filters"]) == 1
        assert table.handle({"type": "study", "name": "st2"}) == {"ok": True}  # again: all
        assert trial_cells(table) == everything and table.state["table"]["filters"] == []
        table.handle({"type": "study", "name": "st"})  # cleared as any filter is
        assert table.handle({"type": "unfilter", "index": 0}) == {"ok": True}
        assert trial_cells(table) == everything and not any(s["filtered"] for s in studies_of(table))
        # the study filter belongs to the Trial column
        reply = table.handle({"type": "filter", "column": "experiment", "op": "study", "value": "st"})
        assert reply["ok"] is False and "Trial column" in reply["error"]
    finally:
        table.close()


def test_the_study_line_best_row_and_study_filter_in_jupyterlab(searched: Path, tmp_path: Path):
    """The notebook table in JupyterLab (Chromium): the line drawn above the rows, the best
    row tinted unlike the others, a click on the line filters to the study and back."""
    from playwright.sync_api import expect, sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, labextension_build, open_table, running_lab, table_notebook

    from jupyter_exp.studies.study import status_line

    best = next(t.experiment for t in jupyter_exp.search_trials("st").values() if t.best)
    line = status_line(Project(searched), "st")
    table_notebook(searched)
    with running_lab(searched, tmp_path, labextension_build()) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            table = open_table(page, base, token)
            study = table.locator(".jx-studies button.jx-study")
            expect(study).to_have_text(f"Study st: {line}")
            expect(table.locator("tr.jx-best td.jx-name")).to_have_text(re.compile(rf"^{best}\b"))
            colours = table.locator("tbody tr.jx-row.jx-experiment").evaluate_all(
                "rows => rows.map(r => [r.classList.contains('jx-best'), getComputedStyle(r.cells[3]).backgroundColor])"
            )
            tints = {is_best: {c for b, c in colours if b == is_best} for is_best in (True, False)}
            assert len(tints[True]) == 1 and not tints[True] & tints[False], colours
            names = table.locator("tbody tr.jx-experiment td.jx-name")
            expect(names).to_have_count(4)
            study.click()
            expect(table.locator(".jx-chip")).to_have_text("Trial of study st×")
            expect(names).to_have_count(3)
            expect(table.locator("tbody td.jx-name", has_text="by-hand")).to_have_count(0)
            expect(study).to_have_class(re.compile(r"\bjx-study-on\b"))
            study.click()
            expect(table.locator(".jx-chip")).to_have_count(0)
            expect(names).to_have_count(4)
        finally:
            browser.close()
