"""The experiment table's host-neutral controller, driven without any widget: a
message in, a reply and state patches out, all plain JSON. The JupyterLab panel is
to drive the same controller over a websocket, so nothing here may need a kernel."""

import json
import re
import subprocess
import sys
import threading

import pytest
from conftest import REPO_ROOT, cli_command, git

import jupyter_exp
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.experiments import live_state
from jupyter_exp.project import Project
from jupyter_exp.table import TableController
from jupyter_exp.table.view import TableState

TABLE_JS = REPO_ROOT / "jupyter_exp" / "widgets" / "table.js"


@pytest.fixture
def table(exps):
    controller = TableController(Project(exps))
    patches = []
    controller.on_change(patches.append)
    controller.patches = patches  # what a host would have received
    yield controller
    controller.close()


def names(state):
    return [r["cells"][0] for r in state["table"]["rows"]]


def key(controller, name):
    return next(r["key"] for r in controller.state["table"]["rows"] if r["cells"][0] == name)


def test_the_controller_imports_no_widget_library():
    code = (
        "import sys, jupyter_exp.table, jupyter_exp.table.controller, jupyter_exp.table.actions; "
        "print(sorted(m for m in ('ipywidgets', 'anywidget', 'traitlets', 'IPython', 'comm', 'ipykernel') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_state_is_json_and_has_every_key_a_host_shows(table):
    assert set(table.state) == {
        "table",
        "prefs",
        "selected",
        "message",
        "message_kind",
        "message_time",
        "pending",
        "panel",
        "download",
        "live",
    }
    assert json.loads(json.dumps(table.state)) == table.state
    assert names(table.state)[:2] == ["workspace", "main"] and sorted(names(table.state)[2:]) == ["e1", "e2", "e3"]
    assert table.state["live"] is False and table.watcher is None


def test_a_message_gives_a_reply_and_patches_of_what_changed(table):
    reply = table.handle({"type": "sort", "column": "params.train.lr", "add": False})
    assert reply == {"ok": True}
    (patch,) = table.patches
    assert set(patch) == {"table", "prefs"}
    assert json.loads(json.dumps(patch)) == patch
    assert patch["prefs"]["sort"] == [["params.train.lr", "asc"]]
    assert names(patch)[2:] == ["e1", "e2", "e3"]
    assert table.preferences.sort == (("params.train.lr", "asc"),)


def test_a_bad_message_is_a_one_line_error_reply_and_changes_nothing(table, exps):
    before = dict(table.state["prefs"])
    reply = table.handle({"type": "filter", "column": "params.nope", "op": "=", "value": "1"})
    line = "Unknown column 'params.nope' for a filter; pick one of the table's columns."
    assert reply == {"ok": False, "error": line}
    (patch,) = table.patches
    assert patch == {"message": line, "message_kind": "error", "message_time": patch["message_time"]}
    assert table.state["prefs"] == before
    assert not (exps / ".dvc/tmp/jupyter_exp/table.json").exists()
    assert table.handle({"type": "nonsense"}) == {"ok": False, "error": "Unknown table message 'nonsense'."}
    with pytest.raises(JupyterExpError, match="^Unknown table option 'bogus'.$"):
        table.dispatch({"type": "option", "name": "bogus", "value": True})  # the Python way raises


def test_every_message_the_front_end_sends_has_a_handler(table):
    js = TABLE_JS.read_text()
    sent = set(re.findall(r'type: "([a-z-]+)"', js))
    commands = set(re.findall(r'data-cmd="([a-z-]+)"', js)) - {"add-filter", "columns", "confirm"}  # handled in JS
    assert sent and commands
    for kind in sent | commands | {"select"}:  # select: what a host sends for the checkboxes
        assert kind in table._handlers, kind


def test_selection_and_a_confirmed_remove(table, exps):
    keys = [key(table, "e1"), key(table, "e2")]
    table.handle({"type": "select", "keys": keys})
    assert table.state["selected"] == keys
    table.patches.clear()
    assert table.handle({"type": "action", "action": "remove"}) == {"ok": True}  # the selection's keys
    assert table.state["pending"]["prompt"] == "Remove 2 experiment(s): e1, e2?"
    assert len(git(exps, "for-each-ref", "refs/exps").splitlines()) == 3
    table.handle({"type": "cancel"})
    assert table.state["pending"] == {}
    table.handle({"type": "action", "action": "remove", "confirmed": True})
    assert git(exps, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split() == ["e3"]
    assert table.state["selected"] == [] and table.state["message"] == "Removed e1, e2."
    assert names(table.state)[2:] == ["e3"]


def test_actions_refuse_rows_they_cannot_take(table):
    reply = table.handle({"type": "action", "action": "apply", "keys": ["workspace"]})
    assert reply["error"] == "Apply works on experiments; pick an experiment row."
    reply = table.handle({"type": "action", "action": "explode", "keys": ["workspace"]})
    assert reply["error"] == "Unknown action 'explode'."
    reply = table.handle({"type": "action", "action": "apply", "keys": ["nope"]})
    assert reply["error"] == "No row 'nope' in the table any more; refresh it."


def test_plot_colours_are_kept_in_the_preferences(table, exps):
    table.handle({"type": "action", "action": "plot", "keys": [key(table, "e1"), key(table, "e2")]})
    assert table.state["panel"]["kind"] == "vega"
    colours = dict(table.preferences.colours)
    assert set(colours) == {"e1", "e2"} and len(set(colours.values())) == 2
    saved = json.loads((exps / ".dvc/tmp/jupyter_exp/table.json").read_text())
    assert saved["colours"] == colours
    table.handle({"type": "close-panel"})
    assert table.state["panel"] == {}


def test_preferences_are_shared_by_every_table_of_a_project(table, exps):
    table.handle({"type": "star", "key": key(table, "e2")})
    other = TableController(Project(exps))
    assert other.preferences.starred == (key(table, "e2"),)
    other.handle({"type": "reset"})
    assert other.preferences == TableState(starred=(key(table, "e2"),))
    other.close()


def test_on_change_returns_a_function_that_stops_the_calls(table):
    seen = []
    stop = table.on_change(seen.append)
    table.handle({"type": "refresh"})
    assert seen and "table" in seen[-1]
    stop()
    count = len(seen)
    table.handle({"type": "refresh"})
    assert len(seen) == count


def test_live_follows_a_run_in_another_process_and_close_ends_it(exps):
    table = TableController(Project(exps))
    arrived = threading.Event()
    table.on_change(lambda patch: "table" in patch and "outside" in names(patch) and arrived.set())
    table.start_live()
    try:
        assert table.state["live"] is True and table.watcher is not None
        subprocess.run(
            [*cli_command(), "run", "-S", "train.lr=0.9", "-n", "outside"], cwd=exps, check=True, capture_output=True
        )
        assert arrived.wait(timeout=10), "the live table did not refresh"
    finally:
        table.close()
    assert table.watcher is None and table.state["live"] is False and table.closed


def test_live_state_counts_the_queue_and_stamps_changes(exps):
    project = Project(exps)
    files = []
    before = live_state.change_stamp(project, files)
    assert live_state.queue_counts(project) == {"queued": 0, "running": 0, "success": 0, "failed": 0}
    jupyter_exp.run(queue=True, set_params=["train.lr=0.6,0.7"], name="q")
    assert live_state.queue_counts(project)["queued"] == 2
    assert live_state.change_stamp(project, files) != before
    assert live_state.worker_count(project) == 0
    assert live_state.running_progress(project, []) == {}


def test_the_queue_status_line_asks_the_engine_not_the_api(exps, monkeypatch):
    from jupyter_exp.display import QueueStatusLine

    jupyter_exp.run(queue=True, name="waiting")

    def no_api(*args, **kwargs):
        raise AssertionError("display.py called back into the api")

    monkeypatch.setattr(jupyter_exp, "queue_status", no_api)
    monkeypatch.setattr("jupyter_exp.api.queue.queue_status", no_api)  # where the api lives now
    line = QueueStatusLine(None, root=str(exps))
    assert line.text() == "Queue: 0 running, 1 queued, 0 done"
