"""The table, polished (issue 16): each case reproduces what a new user met, through the
controller's messages (what the notebook widget and the JupyterLab panel send), and
the export of the visible table (item 6)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time

import pytest
from conftest import cli_command, git

import jupyter_exp
from jupyter_exp.project import Project
from jupyter_exp.table import TableController


@pytest.fixture
def table(exps):
    controller = TableController(Project(exps))
    yield controller
    controller.close()


def rows_by_name(table) -> dict[str, dict]:
    return {r["cells"][0]: r for r in table.state["table"]["rows"]}


def cell(table, row: dict, column: str) -> str:
    ids = [c["id"] for c in table.state["table"]["columns"]]
    return row["cells"][ids.index(column)]


def test_apply_says_where_unsaved_work_went_and_how_to_bring_it_back(table, exps, cli):
    params = exps / "params.yaml"
    params.write_text(params.read_text().replace("lr: 0.01", "lr: 0.0123  # my edit"))
    key = rows_by_name(table)["e2"]["key"]
    assert table.handle({"type": "action", "action": "apply", "keys": [key]}) == {"ok": True}
    message = table.state["message"]
    saved = message.split("saved as '")[1].split("'")[0]
    assert message == (
        f"Applied 'e2' to the workspace; your previous workspace was saved as '{saved}'; "
        f"bring it back with: jupyter exp apply {saved}"
    )
    assert "lr: 0.2" in params.read_text()
    cli("apply", saved)  # the command the message names brings the edit back
    assert "lr: 0.0123  # my edit" in params.read_text()
    # Nothing unsaved: the short message.
    git(exps, "checkout", "-q", "--", ".")
    jupyter_exp.checkout()
    table.refresh()
    assert table.handle({"type": "action", "action": "apply", "keys": [key]}) == {"ok": True}
    assert table.state["message"] == "Applied 'e2' to the workspace."


def test_messages_carry_their_time_and_can_be_dismissed(table):
    before = time.time()
    table.handle({"type": "filter", "column": "params.nope", "op": "=", "value": "1"})
    assert table.state["message_kind"] == "error" and table.state["message_time"] >= before
    seen = []
    table.on_change(seen.append)
    assert table.handle({"type": "dismiss"}) == {"ok": True}
    assert seen == [{"message": "", "message_kind": "", "message_time": 0.0}]


def test_a_cell_showing_a_bang_says_which_file_and_why(table, exps):
    (exps / "metrics.json").write_text('{"score": 1, oops')
    table.refresh()
    workspace = rows_by_name(table)["workspace"]
    assert cell(table, workspace, "metrics.score") == "!"
    columns = {c["id"]: c for c in table.state["table"]["columns"]}

    def reason(row: dict, column: str) -> str | None:  # as a front end finds it
        return row["errors"].get(column) or columns[column].get("error")

    why = reason(workspace, "metrics.score")
    assert why.startswith("metrics.json: ") and "\n" not in why and len(why) > len("metrics.json: ")
    assert reason(workspace, "metrics.nested.loss") == why
    assert "error" not in columns["params.train.lr"]


def test_a_row_whose_bang_has_another_reason_carries_it():
    from jupyter_exp.experiments.collect import ExpData, ExpRow
    from jupyter_exp.experiments.columns import Column
    from jupyter_exp.table import view
    from jupyter_exp.values import FileValues

    def row(name: str, metrics: FileValues) -> ExpRow:
        return ExpRow(name * 40, "experiment", ExpData(metrics={"m.json": metrics}), name=name, baseline="b" * 40)

    missing = FileValues.missing("m.json")
    rows = [
        row("a", missing),
        row("b", missing),
        row("c", FileValues.failed(ValueError("line 1: bad JSON"))),
        row("d", FileValues({"acc": 1})),
    ]
    built = view.build(rows, [Column("metrics", "m.json", "acc", "acc")], view.TableState())
    (acc,) = [c for c in built["columns"] if c["id"] == "metrics.acc"]
    assert acc["error"] == "m.json: [Errno 2] No such file or directory: 'm.json'"  # what most share
    errors = {r["cells"][0]: r["errors"] for r in built["rows"]}
    assert errors == {"a": {}, "b": {}, "c": {"metrics.acc": "m.json: line 1: bad JSON"}, "d": {}}


def test_filter_chips_operators_and_the_rows_filters_skip(table):
    state = table.state["table"]
    assert state["operators_by_type"] == {
        "number": ["=", "!=", "<", "<=", ">", ">=", "empty"],
        "text": ["=", "!=", "contains", "empty"],
        "date": ["before", "after", "empty"],
    }
    types = {c["id"]: c["type"] for c in state["all_columns"]}
    assert types["params.train.lr"] == "number" and types["params.train.model.act"] == "text"
    assert types["created"] == "date"
    assert not any(r["filters_skip"] for r in state["rows"]) and state["filter_note"] == ""
    table.handle({"type": "filter", "column": "params.train.lr", "op": ">", "value": "0.15"})
    table.handle({"type": "filter", "column": "metrics.nested.loss", "op": "empty"})
    chips = table.state["table"]["filters"]
    assert [c["text"] for c in chips] == ["train.lr > 0.15", "nested.loss is empty"]  # names as the headers
    assert chips[0]["label"] == next(c["label"] for c in state["all_columns"] if c["id"] == "params.train.lr")
    assert chips[0] == {**chips[0], "index": 0, "column": "params.train.lr", "op": ">", "value": "0.15", "active": True}
    rows = table.state["table"]["rows"]
    assert [(r["cells"][0], r["filters_skip"]) for r in rows] == [("workspace", True), ("main", True)]
    assert table.state["table"]["filter_note"].startswith("Filters and Starred only choose experiments")


def test_a_running_row_shows_its_params_and_offers_no_apply_or_star(exps):
    (exps / "train.py").write_text(
        "import os, time\n"
        "deadline = time.monotonic() + 60\n"
        "while not os.path.exists('go') and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n" + (exps / "train.py").read_text()
    )
    git(exps, "commit", "-qam", "training waits for a go")
    table = TableController(Project(exps))
    proc = subprocess.Popen(
        [*cli_command(), "run", "-S", "train.lr=0.7", "-n", "inflight"], cwd=exps, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while "inflight" not in rows_by_name(table) and time.monotonic() < deadline:
            time.sleep(0.1)
            table.refresh()
        row = rows_by_name(table)["inflight"]
        assert row["state"] == "running"
        assert cell(table, row, "params.train.lr") == "0.7"  # the params it runs with, known already
        assert (row["can_apply"], row["can_star"], row["can_note"]) == (False, False, False)
        for action in ("apply", "branch"):
            reply = table.handle({"type": "action", "action": action, "keys": [row["key"]], "arg": "b"})
            assert reply == {"ok": False, "error": f"'inflight' is still running; {action} it once it has finished."}
        reply = table.handle({"type": "star", "key": row["key"]})
        assert reply == {"ok": False, "error": "'inflight' is still running; star it once it has finished."}
        assert table.handle({"type": "action", "action": "compare", "keys": [row["key"], "workspace"]})["ok"]
        (exps / "go").touch()
        assert proc.wait(timeout=60) == 0
        table.refresh()
        done = rows_by_name(table)["inflight"]
        assert done["state"] == "success" and (done["can_apply"], done["can_star"], done["can_note"]) == (True,) * 3
    finally:
        (exps / "go").touch()
        proc.wait(timeout=60)
        table.close()


def test_export_is_the_visible_table_in_its_order(table, exps, cli):
    # Without preferences: the rows and the params/metrics columns of `exp show --csv`.
    table.handle({"type": "export", "format": "csv"})
    download = table.state["download"]
    assert download["filename"] == f"experiments-{exps.name}.csv" and download["mime"] == "text/csv"
    ours = list(csv.reader(io.StringIO(download["text"])))
    theirs = list(csv.reader(io.StringIO(cli("show", "--csv").stdout)))
    data = [h for h in theirs[0] if h not in ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")]
    data = [h for h in data if not h.endswith((".py", ".csv")) and h != "prepared"]  # DVC's CSV has deps too
    assert ours[0] == ["Experiment", "State", "Created", *data]
    their_names = [r[0] or r[1] for r in theirs[1:]]
    assert [r[0] for r in ours[1:]] == their_names
    for mine, dvc_row in zip(ours[1:], theirs[1:]):
        assert mine[3:] == [dvc_row[theirs[0].index(h)] for h in data]  # full precision, as DVC's CSV
    assert table.state["message"] == f"Exported 5 row(s) to experiments-{exps.name}.csv."
    # Sorted, filtered, a column hidden: what is on screen.
    table.handle({"type": "sort", "column": "metrics.score", "add": False})
    table.handle({"type": "sort", "column": "metrics.score", "add": False})  # descending
    table.handle({"type": "filter", "column": "params.train.lr", "op": ">=", "value": "0.2"})
    table.handle({"type": "hide", "column": "params.prepare.scale"})
    df = table.to_dataframe(visible=True)
    assert list(df["experiment"]) == ["workspace", "main", "e3", "e2"]
    assert "params.prepare.scale" not in df.columns and list(df.columns[:3]) == ["experiment", "state", "created"]
    assert df["metrics.score"].tolist()[2:] == [18.0, 12.0] and str(df["created"].dtype).startswith("datetime64")
    table.handle({"type": "export", "format": "csv"})
    lines = table.state["download"]["text"].splitlines()
    assert [line.split(",")[0] for line in lines] == ["Experiment", "workspace", "main", "e3", "e2"]
    assert "scale" not in lines[0]
    full = table.to_dataframe()  # without visible: show()'s frame, every row and column
    assert len(full) == 5 and "params.prepare.scale" in full.columns and "note" in full.columns
    reply = table.handle({"type": "export", "format": "xlsx"})
    assert reply == {"ok": False, "error": "Unknown export format 'xlsx'; use csv."}


def test_the_widget_exports_and_fades(exps):
    from jupyter_exp.widgets.table import ExperimentTableWidget

    widget = ExperimentTableWidget(str(exps), live=False)
    try:
        widget.handle({"type": "export", "format": "csv"})
        assert widget.download["filename"].endswith(".csv") and widget.message_time > 0
        assert list(widget.to_dataframe(visible=True)["experiment"])[:2] == ["workspace", "main"]
        state = widget.get_state()
        assert json.loads(json.dumps(state["download"])) == widget.download
    finally:
        widget.close()
