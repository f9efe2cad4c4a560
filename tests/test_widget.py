"""The experiment table widget, driven headlessly: every message as the front end
sends it (``_handle_custom_msg``), checked against the repository afterwards."""

import json
import subprocess
import time

import pytest
from conftest import cli_command, git

import jupyter_exp
from jupyter_exp.table.view import TableState
from jupyter_exp.widgets import ExperimentTableWidget


def send(widget, **content):
    widget._handle_custom_msg(content, [])  # what the front end's model.send() arrives as
    return widget


def names(widget):
    return [r["cells"][0] for r in widget.table["rows"]]


def col(widget, cid):
    i = [c["id"] for c in widget.table["columns"]].index(cid)
    return [r["cells"][i] for r in widget.table["rows"]]


@pytest.fixture
def table(exps):
    widget = ExperimentTableWidget(str(exps), live=False)
    yield widget
    widget.close()


def test_rows_columns_and_groups_are_those_of_show(table, exps):
    frame = jupyter_exp.show()
    assert names(table) == [n for n in frame["experiment"]]
    assert table.to_dataframe().equals(frame)
    groups = {c["id"]: c["group"] for c in table.table["columns"]}
    assert groups["params.train.lr"] == "params" and groups["metrics.score"] == "metrics"
    assert groups["created"] == "info"
    assert [r["depth"] for r in table.table["rows"]] == [0, 0, 1, 1, 1]
    assert table.table["counts"] == {
        "queued": 0,
        "running": 0,
        "failed": 0,
        "success": 3,
        "experiments": 3,
        "shown": 3,
        "workers": 0,
    }


def test_sort_by_clicks_and_shift_clicks(table):
    send(table, type="sort", column="params.train.lr", add=False)
    assert names(table)[2:] == ["e1", "e2", "e3"]
    send(table, type="sort", column="params.train.lr", add=False)  # second click: descending
    assert sorted(names(table)[2:]) == ["e1", "e2", "e3"]
    send(table, type="sort", column="params.train.epochs", add=True)  # shift: a secondary key
    assert table.prefs["sort"] == [["params.train.lr", "desc"], ["params.train.epochs", "asc"]]
    send(table, type="sort", column="params.train.lr", add=False)  # after descending: unsorted
    assert table.prefs["sort"] == []
    send(table, type="sort", column="metrics.score", add=False)
    assert table.prefs["sort"] == [["metrics.score", "asc"]]


@pytest.mark.parametrize(
    "op,value,expected",
    [
        ("=", "0.2", ["e2"]),
        ("!=", "0.2", ["e1", "e3"]),
        ("<", "0.2", ["e1"]),
        ("<=", "0.2", ["e1", "e2"]),
        (">", "0.1", ["e2", "e3"]),
        (">=", "0.3", ["e3"]),
        ("contains", "0.3", ["e3"]),
        ("empty", "", []),
    ],
)
def test_filters_on_a_param(table, op, value, expected):
    send(table, type="filter", column="params.train.lr", op=op, value=value)
    assert table.message == ""
    assert sorted(n for n in names(table) if n.startswith("e")) == expected
    assert names(table)[:2] == ["workspace", "main"]  # workspace and baselines always stay


def test_text_and_date_filters(table, exps):
    send(table, type="filter", column="experiment", op="contains", value="E2")
    assert names(table)[2:] == ["e2"]
    send(table, type="unfilter", index=0)
    send(table, type="filter", column="created", op="before", value="2000-01-01")
    assert names(table)[2:] == []
    send(table, type="unfilter", index=0)
    send(table, type="filter", column="created", op="after", value="2000-01-01T00:00")
    assert sorted(names(table)[2:]) == ["e1", "e2", "e3"]


def test_bad_filters_say_so_in_one_line_and_change_nothing(table):
    before = dict(table.prefs)
    send(table, type="filter", column="params.nope", op="=", value="1")
    assert table.message_kind == "error"
    assert table.message == "Unknown column 'params.nope' for a filter; pick one of the table's columns."
    send(table, type="filter", column="params.train.lr", op=">", value="abc")
    assert table.message == "'abc' is not a number; 'params.train.lr' > needs one."
    send(table, type="filter", column="created", op="after", value="yesterday")
    assert table.message == "'yesterday' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM."
    assert table.prefs == before


def test_only_changed_hide_and_reorder_columns(table):
    ids = [c["id"] for c in table.table["columns"]]
    assert "params.train.epochs" in ids
    send(table, type="option", name="only_changed", value=True)
    ids = [c["id"] for c in table.table["columns"]]
    assert "params.train.epochs" not in ids and "params.train.lr" in ids
    send(table, type="hide", column="params.train.lr")
    assert "params.train.lr" not in [c["id"] for c in table.table["columns"]]
    assert [c["hidden"] for c in table.table["all_columns"] if c["id"] == "params.train.lr"] == [True]
    send(table, type="hide", column="params.train.lr")  # shown again
    before = [c["id"] for c in table.table["all_columns"]]
    i = before.index("params.train.lr")
    send(table, type="move", column="params.train.lr", by=-1)
    after = [c["id"] for c in table.table["all_columns"]]
    assert after == before[: i - 1] + ["params.train.lr", before[i - 1]] + before[i + 1 :]
    send(table, type="option", name="only_changed", value=False)
    shown = [c["id"] for c in table.table["columns"]]
    assert shown.index("params.train.lr") == shown.index(before[i - 1]) - 1


def test_stars_and_preferences_persist_per_project(table, exps):
    key = next(r["key"] for r in table.table["rows"] if r["cells"][0] == "e2")
    send(table, type="star", key=key)
    send(table, type="option", name="starred_only", value=True)
    send(table, type="sort", column="metrics.score", add=False)
    assert names(table) == ["workspace", "main", "e2"]
    saved = json.loads((exps / ".dvc/tmp/jupyter_exp/table.json").read_text())
    assert saved["starred"] == [key] and saved["starred_only"] is True
    again = ExperimentTableWidget(str(exps), live=False)  # a new kernel, the same project
    assert names(again) == ["workspace", "main", "e2"]
    assert again.preferences.sort == (("metrics.score", "asc"),)
    send(again, type="reset")
    assert again.preferences == TableState(starred=(key,))
    again.close()


def test_selection_synced_from_the_front_end_keeps_preferences(table):
    send(table, type="sort", column="params.train.lr", add=False)
    table.set_state({"selected": [_key(table, "e1")]})  # what a checkbox's save_changes() does
    assert table.selected == [_key(table, "e1")]
    send(table, type="filter", column="params.train.lr", op=">", value="0.1")
    assert table.message == "" and table.preferences.sort == (("params.train.lr", "asc"),)


def test_apply_changes_the_workspace(table, exps):
    send(table, type="action", action="apply", keys=[_key(table, "e3")])
    assert table.message == "Applied 'e3' to the workspace."
    assert "lr: 0.3" in (exps / "params.yaml").read_text()
    assert col(table, "params.train.lr")[0] == "0.3"  # the workspace row was refreshed


def _key(widget, name):
    return next(r["key"] for r in widget.table["rows"] if r["cells"][0] == name)


def test_branch_asks_for_a_name_then_creates_the_branch(table, exps):
    send(table, type="action", action="branch", keys=[_key(table, "e1")])
    assert table.pending["prompt"] == "Branch name for 'e1':" and table.pending["input"]
    assert git(exps, "branch", "--list", "from-e1") == ""
    send(table, type="action", action="branch", keys=[_key(table, "e1")], arg="from-e1", confirmed=True)
    assert table.pending == {}
    assert "lr: 0.1" in git(exps, "show", "from-e1:params.yaml")
    send(table, type="action", action="branch", keys=[_key(table, "e1")], arg="from-e1", confirmed=True)
    assert table.message_kind == "error" and "from-e1" in table.message and "\n" not in table.message


def test_rename_and_remove_with_confirmation(table, exps):
    send(table, type="action", action="rename", keys=[_key(table, "e1")], arg="first", confirmed=True)
    assert "first" in names(table) and "e1" not in names(table)
    refs = git(exps, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split()
    assert sorted(refs) == ["e2", "e3", "first"]
    keys = [_key(table, "first"), _key(table, "e2")]
    send(table, type="action", action="remove", keys=keys)
    assert table.pending["prompt"] == "Remove 2 experiment(s): first, e2?"
    assert len(git(exps, "for-each-ref", "refs/exps").splitlines()) == 3  # nothing yet
    send(table, type="cancel")
    assert table.pending == {}
    send(table, type="action", action="remove", keys=keys, confirmed=True)
    assert git(exps, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split() == ["e3"]
    assert names(table)[2:] == ["e3"]


def test_push_to_a_git_remote(table, exps, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    send(table, type="action", action="push", keys=[_key(table, "e2")])
    assert table.pending["prompt"] == "Push to git remote:"  # no origin: it asks
    send(table, type="action", action="push", keys=[_key(table, "e2")], arg=str(remote), confirmed=True)
    assert table.message_kind == "info", table.message
    assert git(remote, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split() == ["e2"]


def test_queue_again_with_modified_params(table, exps):
    send(table, type="action", action="requeue", keys=[_key(table, "e2")])
    fields = {f["id"]: f["value"] for f in table.pending["params"]}
    assert fields["params.train.lr"] == "0.2" and fields["params.train.model.act"] == "'relu'"
    send(
        table,
        type="action",
        action="requeue",
        keys=[_key(table, "e2")],
        confirmed=True,
        arg=dict(fields, **{"params.train.epochs": "7"}),
    )
    assert table.message_kind == "info", table.message
    (entry,) = jupyter_exp.queue_status().entries
    params = git(exps, "show", f"{entry.rev}:params.yaml")
    assert "lr: 0.2" in params and "epochs: 7" in params
    assert "# Parameters of the example pipeline." in params  # comments survive
    assert [r["state"] for r in table.table["rows"] if r["cells"][0] == entry.name] == ["queued"]
    assert table.table["counts"]["queued"] == 1


def test_diff_and_plot_panels(table):
    send(table, type="action", action="diff", keys=[_key(table, "e1"), _key(table, "e3")])
    assert table.panel["kind"] == "diff" and "lr" in table.panel["html"]
    send(table, type="action", action="plot", keys=[_key(table, "e1"), _key(table, "e2"), _key(table, "e3")])
    html = table.panel["html"]
    assert table.panel["kind"] == "plot" and "score vs train.lr" in html
    assert html.count("<circle") == 3
    send(table, type="close-panel")
    assert table.panel == {}


def test_actions_on_the_wrong_rows_say_why(table):
    send(table, type="action", action="apply", keys=["workspace"])
    assert (table.message_kind, table.message) == ("error", "Apply works on experiments; pick an experiment row.")
    send(table, type="action", action="apply", keys=[_key(table, "e1"), _key(table, "e2")])
    assert table.message == "Apply takes one experiment; select one row."
    send(table, type="action", action="rename", keys=[_key(table, "e1")], arg="bad name!", confirmed=True)
    assert table.message_kind == "error" and "bad name!" in table.message
    send(table, type="action", action="diff", keys=[])
    assert table.message == "Select a row to diff."
    send(table, type="nonsense")
    assert table.message == "Unknown table message 'nonsense'."


def test_checkpoints_collapse_under_their_experiment_and_plot_over_steps(make_project):
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")
    widget = ExperimentTableWidget(str(root), live=False)
    (row,) = [r for r in widget.table["rows"] if r["kind"] == "experiment"]
    assert row["children"] == 3 and not row["expanded"]
    assert [r["kind"] for r in widget.table["rows"]].count("checkpoint") == 0
    send(widget, type="expand", key=row["key"])
    assert [r["step"] for r in widget.table["rows"] if r["kind"] == "checkpoint"] == [
        2,
        1,
        0,
    ]  # labelled as DVCLive counts steps
    send(widget, type="action", action="plot", keys=[row["key"]])
    assert '<polyline data-experiment="ck"' in widget.panel["html"]  # from dvclive's TSV
    widget.close()


def test_live_table_follows_runs_in_other_processes(exps):
    widget = ExperimentTableWidget(str(exps), live=True)
    try:
        subprocess.run(
            [*cli_command(), "run", "-S", "train.lr=0.9", "-n", "outside"], cwd=exps, check=True, capture_output=True
        )
        deadline = time.monotonic() + 10
        while "outside" not in names(widget) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "outside" in names(widget)
    finally:
        widget.close()
    assert widget._watcher is None


def test_live_progress_of_a_checkpoint_run(make_project):
    root = make_project("checkpoints")
    (root / "train.py").write_text(
        (root / "train.py")
        .read_text()
        .replace(
            'live.next_step(total=params["epochs"])',
            'live.next_step(total=params["epochs"]); import time; time.sleep(0.4)',
        )
    )
    (root / "params.yaml").write_text("train:\n  lr: 0.5\n  epochs: 8\n")
    git(root, "commit", "-qam", "slower")
    widget = ExperimentTableWidget(str(root), live=True)
    seen = []
    widget.observe(
        lambda change: seen.extend(r["progress"] for r in change["new"]["rows"] if r.get("progress")), names="table"
    )
    proc = subprocess.Popen([*cli_command(), "run", "-n", "slow"], cwd=root, stdout=subprocess.DEVNULL)
    try:
        assert proc.wait(timeout=60) == 0
        time.sleep(1.5)
    finally:
        widget.close()
    assert seen, "no progress reached the table"
    assert {p["experiment"] for p in seen} == {"slow"} and all(p["total"] == 8 for p in seen)
    steps = [p["step"] for p in seen]
    assert steps == sorted(steps) and len(set(steps)) >= 2
    assert names(widget).count("slow") == 1


@pytest.mark.parametrize("kernel", ["python3", "ipykernel6"])
def test_in_a_real_kernel_exp_show_is_the_widget_and_follows_a_foreground_run(exps, kernel, request):
    """ipykernel 7 (this environment's) and 6 under nbclient: %exp show displays the
    widget (with text and HTML fallbacks), and its thread's updates reach the front end
    after a run."""
    import nbformat
    from nbclient import NotebookClient

    if kernel == "ipykernel6":
        kernel = request.getfixturevalue("ipykernel6_spec")
        expected = "6."
    else:
        import ipykernel

        expected = ipykernel.__version__
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import os\nos.chdir({str(exps)!r})\n%load_ext jupyter_exp\nimport ipykernel\nprint(ipykernel.__version__)"
        ),
        nbformat.v4.new_code_cell("%exp show"),
        nbformat.v4.new_code_cell("%exp run -S train.lr=0.5 -n in-kernel"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(3)"),
        nbformat.v4.new_code_cell("%exp show --sort-by score --sort-order desc"),
    ]
    NotebookClient(nb, timeout=120, kernel_name=kernel, store_widget_state=True).execute()
    assert nb.cells[0].outputs[0]["text"].startswith(expected)
    (shown,) = [o for o in nb.cells[1].outputs if o.get("output_type") == "execute_result"]
    assert {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"} <= set(shown["data"])
    assert "e1" in shown["data"]["text/plain"]
    model_id = shown["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"][model_id]["state"]
    rows = [r["cells"][0] for r in state["table"]["rows"]]
    assert "in-kernel" in rows and state["table"]["counts"]["experiments"] == 4
    (sorted_view,) = [o for o in nb.cells[4].outputs if o.get("output_type") == "execute_result"]
    model_id = sorted_view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"][model_id]["state"]
    assert state["prefs"]["sort"] == [["metrics.score", "desc"]]
    assert [r["cells"][0] for r in state["table"]["rows"]][2:] == ["in-kernel", "e3", "e2", "e1"]


def test_only_the_newest_tables_of_a_project_stay_live(exps):
    tables = [ExperimentTableWidget(str(exps), live=True) for _ in range(5)]
    try:
        assert [t.live for t in tables] == [False, False, True, True, True]
        assert [t._watcher is None for t in tables] == [True, True, False, False, False]
        send(tables[0], type="refresh")  # a table that stopped following still refreshes on demand
        assert names(tables[0])[2:]
    finally:
        for t in tables:
            t.close()


def test_running_and_failed_queue_entries_show_their_state(make_project):
    root = make_project("failing_stage")
    jupyter_exp.run(queue=True, name="broken")
    widget = ExperimentTableWidget(str(root), live=False)
    assert [(r["cells"][0], r["state"]) for r in widget.table["rows"] if r["kind"] == "experiment"] == [
        ("broken", "queued")
    ]
    jupyter_exp.run(run_all=True)  # reports the failure; the entry stays, failed
    send(widget, type="refresh")
    (row,) = [r for r in widget.table["rows"] if r["kind"] == "experiment"]
    assert row["state"] == "failed" and "failed" in row["error"]
    assert widget.table["counts"]["failed"] == 1
    send(widget, type="action", action="remove", keys=[row["key"]], confirmed=True)
    assert widget.message_kind == "info", widget.message
    assert [r for r in widget.table["rows"] if r["kind"] == "experiment"] == []
    widget.close()


def test_plot_colours_are_distinct_and_kept_per_experiment(table, exps):
    import re

    def colours():
        return dict(re.findall(r'<circle data-experiment="([^"]+)" [^>]*fill="(#[0-9a-f]{6})"', table.panel["html"]))

    send(table, type="action", action="plot", keys=[_key(table, n) for n in ("e1", "e2", "e3")])
    first = colours()
    assert len(set(first.values())) == 3
    send(
        table,
        type="action",
        action="plot",
        keys=[_key(table, n) for n in ("e3", "e1")],
        arg=["params.train.lr", "metrics.nested.loss"],
    )
    assert colours() == {"e3": first["e3"], "e1": first["e1"]}
    assert "nested.loss vs train.lr" in table.panel["html"]
    again = ExperimentTableWidget(str(exps), live=False)  # kept with the preferences
    send(again, type="action", action="plot", keys=[_key(again, "e2")])
    assert f'fill="{first["e2"]}"' in again.panel["html"]
    again.close()


def test_saved_preferences_that_no_longer_fit_are_left_out_not_fatal(exps):
    prefs = exps / ".dvc/tmp/jupyter_exp/table.json"
    prefs.parent.mkdir(parents=True, exist_ok=True)
    prefs.write_text(
        json.dumps(
            {
                "sort": [["params.gone", "asc"], ["params.train.lr", "desc"]],
                "filters": [
                    {"column": "params.train.lr", "op": ">", "value": "abc"},
                    {"column": "params.gone", "op": "=", "value": "1"},
                    {"column": "params.train.lr", "op": "<", "value": "0.3"},
                ],
                "hidden": ["params.gone"],
            }
        )
    )
    widget = ExperimentTableWidget(str(exps), live=False)
    assert names(widget)[2:] == ["e2", "e1"]  # the one usable filter, the usable sort key
    assert widget.table["inactive_filters"] == [0, 1]
    prefs.write_text("{not json")
    again = ExperimentTableWidget(str(exps), live=False)  # unreadable: defaults
    assert again.preferences == TableState()
    widget.close()
    again.close()


def test_show_table_from_python_takes_show_options(exps):
    widget = jupyter_exp.show_table(hide_workspace=True, live=False)
    assert isinstance(widget, ExperimentTableWidget)
    assert sorted(names(widget)) == ["e1", "e2", "e3", "main"]
    assert widget.to_dataframe().equals(jupyter_exp.show(hide_workspace=True))
    widget.close()


def test_run_the_queue_from_the_table(exps):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.6,0.7"], name="q")
    widget = ExperimentTableWidget(str(exps), live=False)
    assert widget.table["counts"]["queued"] == 2 and widget.table["counts"]["workers"] == 0
    send(widget, type="queue", op="start", jobs=2)
    assert widget.message == "Started a queue worker running 2 at a time."
    assert jupyter_exp.queue_wait(timeout=120)
    send(widget, type="refresh")
    assert widget.table["counts"]["success"] == 5 and widget.table["counts"]["workers"] == 0
    send(widget, type="queue", op="pause")
    assert widget.message == "Unknown queue operation 'pause'; use start or stop."
    widget.close()


def test_step_curves_from_cached_dvclive_plots(make_project):
    root = make_project("checkpoints", commit=False)
    (root / "dvc.yaml").write_text(
        (root / "dvc.yaml").read_text().replace("    - dvclive/plots:\n        cache: false\n", "    - dvclive/plots\n")
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "plots in the cache")
    jupyter_exp.run(name="cached")
    head = git(root, "rev-parse", "HEAD").strip()
    assert "dvclive/plots" not in git(root, "ls-tree", "-r", "--name-only", f"refs/exps/{head[:2]}/{head[2:]}/cached")
    widget = ExperimentTableWidget(str(root), live=False)
    send(widget, type="action", action="plot", keys=[_key(widget, "cached")])
    assert '<polyline data-experiment="cached"' in widget.panel["html"]
    widget.close()
    from jupyter_exp.project import Project
    from jupyter_exp.table.plots import _tsv_curves

    tip = git(root, "rev-parse", f"refs/exps/{head[:2]}/{head[2:]}/cached").strip()
    assert _tsv_curves(Project(root), tip) == {"w": [(0.0, 0.5), (1.0, 1.0), (2.0, 1.5), (3.0, 2.0)]}  # from the cache


def test_a_foreground_run_in_another_process_shows_while_it_runs(exps):
    (exps / "train.py").write_text("import time\ntime.sleep(3)\n" + (exps / "train.py").read_text())
    git(exps, "commit", "-qam", "slower training")
    widget = ExperimentTableWidget(str(exps), live=True)
    seen = []
    widget.observe(
        lambda change: seen.extend(
            (r["cells"][0], r["state"], bool(r["progress"] and r["progress"].get("started")))
            for r in change["new"]["rows"]
            if r["kind"] == "experiment"
        ),
        names="table",
    )
    proc = subprocess.Popen(
        [*cli_command(), "run", "-S", "train.lr=0.8", "-n", "slowrun"], cwd=exps, stdout=subprocess.DEVNULL
    )
    try:
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while ("slowrun", "success", False) not in seen and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        widget.close()
    assert ("slowrun", "running", True) in seen  # a row with a ticking clock while it ran
    assert ("slowrun", "success", False) in seen  # then the recorded experiment
    assert list((exps / ".dvc/tmp/jupyter_exp/progress").glob("slowrun.json")) == []
