"""The server extension against a real Jupyter server, real git and real processes: the
table and its messages, runs started over the API (in a detached worker, never in the
server), the live socket's row-level diffs when another process records an experiment,
params, queue, logs and the apply preview, and reads that never wait for the project
lock."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli_command, make_repo
from server_helpers import *  # noqa: F403 - pytest-jupyter's fixtures and the server's
from server_helpers import (
    GATED_STEPS,
    environ_for_cli,
    fetch_json,
    git_out,
    messages_until,
    on_loop,
    slow_pipeline,
    stop_workers,
    wait_for,
)

import jupyter_exp
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.server.table_diff import apply_diff, table_diff, unique_keys

LIVE_LIMIT = 10 * 1024  # bytes of one live update while experiments run


# -- the diff, alone ---------------------------------------------------------------------
def _row(key: str, state: str = "success", step=None) -> dict:
    return {"key": key, "state": state, "cells": [key, state], "progress": None if step is None else {"step": step}}


def test_a_diff_carries_only_the_rows_that_changed():
    old = {"rows": [_row("workspace"), _row("b/x", "running", 1), _row("b/y")], "counts": {"running": 1}, "ops": [1]}
    new = {"rows": [_row("workspace"), _row("b/x", "running", 2), _row("b/y")], "counts": {"running": 1}, "ops": [1]}
    diff = table_diff(old, new)
    assert diff == {"rows": [_row("b/x", "running", 2)], "order": None, "table": {}}
    assert apply_diff(old, diff) == new
    assert table_diff(new, dict(new)) is None


def test_a_diff_gives_the_order_when_rows_come_go_or_move():
    old = {"rows": [_row("workspace"), _row("b/x"), _row("b/y")], "counts": {"experiments": 2}}
    new = {"rows": [_row("workspace"), _row("b/z", "queued"), _row("b/y")], "counts": {"experiments": 2, "queued": 1}}
    diff = table_diff(old, new)
    assert diff["rows"] == [_row("b/z", "queued")]
    assert diff["order"] == ["workspace", "b/z", "b/y"]
    assert diff["table"] == {"counts": new["counts"]}
    assert apply_diff(old, diff) == new
    moved = {"rows": [_row("b/y"), _row("workspace"), _row("b/z", "queued")], "counts": new["counts"]}
    assert apply_diff(new, table_diff(new, moved)) == moved
    # The first state: everything.
    assert apply_diff({}, table_diff({}, new)) == new


def test_a_diff_of_a_big_table_stays_small():
    """10,000 rows: a new experiment at the top, one that finished moving up, a new
    metric column that only the running rows have: a few rows, not the table."""
    cols = [{"id": f"params.p{i}"} for i in range(6)]
    keys = [f"b/exp-{i:05d}" for i in range(10000)]
    old = {"rows": [{"key": k, "cells": [k, *"12345"]} for k in keys], "columns": cols, "counts": {"running": 1}}
    new_cols = [*cols[:3], {"id": "metrics.loss"}, *cols[4:]]  # p3 hidden, loss shown in its place
    order = ["b/new", keys[5000], *keys[:5000], *keys[5001:]]
    cells = {k: [k, "1", "2", "-", "4", "5"] for k in order}
    cells["b/new"] = ["b/new", "1", "2", "0.5", "4", "5"]
    new = {"rows": [{"key": k, "cells": cells[k]} for k in order], "columns": new_cols, "counts": {"running": 2}}
    diff = table_diff(old, new)
    assert diff["remap"] == {"index": [0, 1, 2, -1, 4, 5], "fill": "-"}
    assert [r["key"] for r in diff["rows"]] == ["b/new"]
    assert diff["order"] is None and diff["order_edit"] == {
        "removed": [],
        "moves": [["b/new", None], [keys[5000], "b/new"]],
    }
    assert len(json.dumps(diff)) < 1024
    assert apply_diff(old, diff) == new


def test_a_diff_looks_between_the_rows_both_tables_keep():
    """With unique keys (as the session makes them) the diff looks only between the rows
    both tables start and end with (the same dicts): the same diff as looking at all."""
    import random

    rng = random.Random(15)
    for _ in range(2000):
        rows = [_row(f"b/{i}", rng.choice(["success", "running"])) for i in range(rng.randrange(30))]
        new_rows = [r for r in rows if rng.random() > 0.1]
        for _ in range(rng.randrange(4)):
            if new_rows:
                at = rng.randrange(len(new_rows))
                new_rows[at] = _row(new_rows[at]["key"], rng.choice(["success", "running"]), rng.randrange(2))
                new_rows.insert(rng.randrange(len(new_rows) + 1), new_rows.pop(at))
        new_rows.insert(rng.randrange(len(new_rows) + 1), _row("b/new"))
        old, new = {"rows": rows, "counts": {"n": 1}}, {"rows": new_rows, "counts": {"n": rng.randrange(2)}}
        diff = table_diff(old, new, unique=True)
        assert diff == table_diff(old, new)
        assert apply_diff(old, diff) == new


def test_rows_sharing_a_key_get_unique_aliases():
    """An experiment and a failed queue entry of the same name (the run failed, was
    queued again and recorded) share a key in the view; on the wire the second is
    ``<key>#2``."""
    table = {"rows": [_row("workspace"), _row("b/x", "success", 3), _row("b/x", "failed")], "counts": {}}
    unique, aliases = unique_keys(table)
    assert [r["key"] for r in unique["rows"]] == ["workspace", "b/x", "b/x#2"] and aliases == {"b/x#2": "b/x"}
    assert unique_keys(unique) == (unique, {})
    assert table["rows"][2]["key"] == "b/x"  # the controller's state is left as it was


def test_rows_sharing_a_key_are_all_sent():
    old = {"rows": [_row("b/x"), _row("b/x", "queued")]}
    new = {"rows": [_row("b/x"), _row("b/x", "running")]}
    assert table_diff(old, new)["rows"] == new["rows"]


# -- the table ---------------------------------------------------------------------------
@on_loop
async def test_the_table_and_a_message(jp_fetch, proj):
    first = await fetch_json(jp_fetch, "table", project="proj")
    state = first["state"]
    assert set(state) == {
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
    assert [r["key"] for r in state["table"]["rows"]][0] == "workspace"
    column = next(c["id"] for c in state["table"]["all_columns"] if c["id"].endswith("train.lr"))
    answer = await fetch_json(jp_fetch, "table", "POST", {"type": "sort", "column": column}, project="proj")
    assert answer["ok"] is True and answer["version"] > first["version"]
    assert answer["patch"]["prefs"]["sort"] == [[column, "asc"]]
    again = await fetch_json(jp_fetch, "table", project="proj")
    assert again["state"]["prefs"]["sort"] == [[column, "asc"]] and again["version"] == answer["version"]
    assert [m["type"] for m in answer["messages"]] == ["patch"] and answer["messages"][0]["patch"] == answer["patch"]
    # The engine's refusal is the table's message, as in a notebook; the table survives.
    bad = await fetch_json(jp_fetch, "table", "POST", {"type": "action", "action": "apply", "keys": []}, project="proj")
    assert bad["ok"] is False and bad["error"] == "Select a row to apply."
    assert bad["patch"]["message_kind"] == "error"
    # A body that is no table message at all.
    response = await jp_fetch(
        "jupyter-exp", "table", method="POST", body="[1]", params={"project": "proj"}, raise_error=False
    )
    assert response.code == 400 and json.loads(response.body)["message"] == "The request body must be a JSON object."


@on_loop
async def test_a_message_is_answered_with_what_changed_not_the_table(jp_fetch, proj):
    """Sorting or hiding a column of 300 experiments answers with the messages the socket
    gets (a row-level ``table-diff``, a ``patch``), each version once: the client turns
    its table into the server's with them, and the answer is a fraction of the table."""
    from run import make_experiments  # bench/run.py (conftest puts bench/ on the path)

    (proj / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    make_experiments(proj, 300)
    (proj / "dvc.lock").unlink()
    first = await fetch_json(jp_fetch, "table", project="proj")
    table, version = first["state"]["table"], first["version"]
    whole = len(json.dumps(table))
    column = next(c["id"] for c in table["all_columns"] if c["id"].endswith("train.lr"))
    orders = [[r["key"] for r in table["rows"]]]
    for message in (
        {"type": "sort", "column": column},
        {"type": "sort", "column": column},
        {"type": "hide", "column": column},
    ):
        response = await jp_fetch(
            "jupyter-exp", "table", method="POST", body=json.dumps(message), params={"project": "proj"}
        )
        answer = json.loads(response.body)
        assert answer["ok"] is True and "table" not in answer["patch"]
        assert [m["version"] for m in answer["messages"]] == list(range(version + 1, answer["version"] + 1))
        for m in answer["messages"]:
            if m["type"] == "table-diff":
                table = apply_diff(table, m)
        version = answer["version"]
        now = await fetch_json(jp_fetch, "table", project="proj")
        assert now["version"] == version and now["state"]["table"] == table, message
        assert len(response.body) < whole / 4, (message, len(response.body), whole)
        orders.append([r["key"] for r in table["rows"]])
    assert orders[1] != orders[0] and orders[2] == orders[0]  # sorted ascending, then as at first
    assert column not in [c["id"] for c in table["columns"]]


@on_loop
async def test_plots_lists_the_projects_dvc_plots_with_the_panels_ids(jp_fetch, jp_root_dir):
    root = make_repo(
        jp_root_dir / "plotted",
        {
            "dvc.yaml": "plots:\n- loss.csv:\n    x: step\n    y: loss\n- images\n",
            "loss.csv": "step,loss\n0,1.0\n1,0.5\n",
            "images/a.png": "not really a png",
        },
    )
    answer = await fetch_json(jp_fetch, "plots", project=root.name)
    assert answer == {
        "plots": [
            {"id": "template:loss.csv", "title": "loss.csv", "kind": "vega"},
            {"id": "image:images/a.png", "title": "images/a.png", "kind": "image"},
        ],
        "trends": [{"id": "trend:steps", "title": "Metrics over steps (DVCLive)", "metrics": []}],
        "studies": [],
        "errors": [],
    }


@on_loop
async def test_one_session_per_project_whatever_the_path(jp_fetch, proj, registry):
    await fetch_json(jp_fetch, "table", project="proj")
    await fetch_json(jp_fetch, "status", project="proj/")
    (proj / "sub").mkdir()
    await fetch_json(jp_fetch, "queue", project="proj/sub")
    assert list(registry._sessions) == [proj.resolve()]


@on_loop
async def test_params_are_typed(jp_fetch, proj):
    (proj / "dvc.yaml").write_text(
        (proj / "dvc.yaml").read_text().replace("params: [train]", "params: [train, {extra.toml: [opt.beta]}]")
    )
    (proj / "extra.toml").write_text("[opt]\nbeta = 0.5\nunused = 1\n")
    answer = await fetch_json(jp_fetch, "params", project="proj")
    files = {f["path"]: f for f in answer["files"]}
    assert list(files) == ["params.yaml", "extra.toml"]
    typed = {p["name"]: (p["value"], p["type"]) for p in files["params.yaml"]["params"]}
    assert typed == {
        "train.lr": (0.01, "float"),
        "train.epochs": (3, "int"),
        "train.use_bias": (True, "bool"),
        "train.layers": ([8, 4], "list"),
        "train.name": ("small", "str"),
    }
    assert files["extra.toml"]["params"] == [{"name": "opt.beta", "value": 0.5, "type": "float"}]


# -- running over the API ------------------------------------------------------------------
async def _entry(jp_fetch, name: str) -> dict | None:
    queue = await fetch_json(jp_fetch, "queue", project="proj")
    return next((e for e in queue["entries"] if e["name"] == name), None)


@on_loop
async def test_a_run_over_the_api_is_recorded_by_a_worker_process(jp_fetch, proj):
    body = {"set_params": ["train.lr=0.5"], "name": "api-run", "message": "from the panel", "queue": False, "jobs": 1}
    answer = await fetch_json(jp_fetch, "run", "POST", body, project="proj")
    assert [e["name"] for e in answer["started"]] == ["api-run"]

    async def finished():
        entry = await _entry(jp_fetch, "api-run")
        return entry if entry and entry["state"] in ("success", "failed") else None

    entry = await wait_for(finished)
    assert entry["state"] == "success", entry
    assert entry["params"] == {"train.lr": 0.5} and entry["log"] is True
    refs = git_out(proj, "for-each-ref", "--format=%(refname)", "refs/exps").split()
    (ref,) = [r for r in refs if r.endswith("/api-run")]
    ran = json.loads(git_out(proj, "show", f"{ref}:metrics.json"))
    assert ran["lr"] == 0.5
    server = os.getpid()  # pytest-jupyter's server runs in this process
    assert server not in (ran["pid"], ran["ppid"]) and ran["sid"] != os.getsid(0)
    # The log, followed by offsets.
    log = await fetch_json(jp_fetch, "logs", project="proj", entry=entry["id"], offset=0)
    assert log["done"] is True and log["offset"] == len(log["text"].encode()) > 0
    rest = await fetch_json(jp_fetch, "logs", project="proj", entry="api-run", offset=log["offset"])
    assert rest == {"text": "", "offset": log["offset"], "done": True, "reset": False}
    middle = await fetch_json(jp_fetch, "logs", project="proj", entry="api-run", offset=3)
    assert middle["text"] == log["text"].encode()[3:].decode()


@on_loop
async def test_a_queued_sweep_waits_for_start(jp_fetch, proj):
    body = {"set_params": ["train.lr=0.1,0.2,0.3"], "name": "sweep", "queue": True}
    answer = await fetch_json(jp_fetch, "run", "POST", body, project="proj")
    assert [e["name"] for e in answer["queued"]] == ["sweep-1", "sweep-2", "sweep-3"]
    queue = await fetch_json(jp_fetch, "queue", project="proj")
    assert [(e["name"], e["state"], e["params"]) for e in queue["entries"]] == [
        ("sweep-1", "queued", {"train.lr": 0.1}),
        ("sweep-2", "queued", {"train.lr": 0.2}),
        ("sweep-3", "queued", {"train.lr": 0.3}),
    ]
    assert queue["workers"] == []
    assert await fetch_json(jp_fetch, "status", project="proj") == {
        "running": 0,
        "queued": 3,
        "failed": 0,
        "workers": 0,
    }
    body = {"set_params": ["train.epochs=5"], "name": "t", "message": "only train", "targets": ["train"], "queue": True}
    await fetch_json(jp_fetch, "run", "POST", body, project="proj")
    (entry,) = [e for e in (await fetch_json(jp_fetch, "queue", project="proj"))["entries"] if e["name"] == "t"]
    assert (entry["targets"], entry["message"], entry["params"]) == (["train"], "only train", {"train.epochs": 5})
    await fetch_json(jp_fetch, "queue/remove", "POST", {"ids": ["t"]}, project="proj")
    removed = await fetch_json(jp_fetch, "queue/remove", "POST", {"ids": ["sweep-3"]}, project="proj")
    assert removed == {"message": "Removed sweep-3 from the queue."}
    bad = await jp_fetch(
        "jupyter-exp",
        "run",
        method="POST",
        body=json.dumps({"set_params": ["nope.key=1"]}),
        params={"project": "proj"},
        raise_error=False,
    )
    assert bad.code == 400 and "nope.key" in json.loads(bad.body)["message"]
    started = await fetch_json(jp_fetch, "queue/start", "POST", {"jobs": 2}, project="proj")
    assert started["message"].startswith("Started a queue worker process (pid ")

    async def done():
        status = await fetch_json(jp_fetch, "status", project="proj")
        return status if status["queued"] == status["running"] == 0 else None

    await wait_for(done)
    names = git_out(proj, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split()
    assert sorted(names) == ["sweep-1", "sweep-2"]


@on_loop
async def test_the_table_starts_the_queue_in_a_detached_process(jp_fetch, proj):
    await fetch_json(jp_fetch, "run", "POST", {"set_params": ["train.lr=0.4"], "name": "tq"}, project="proj")
    answer = await fetch_json(jp_fetch, "table", "POST", {"type": "queue", "op": "start", "jobs": 1}, project="proj")
    assert answer["ok"] is True, answer
    assert answer["patch"]["message"] == "Started a queue worker process running 1 at a time."

    async def finished():
        entry = await _entry(jp_fetch, "tq")
        return entry if entry and entry["state"] in ("success", "failed") else None

    assert (await wait_for(finished))["state"] == "success"
    ref = git_out(proj, "for-each-ref", "--format=%(refname)", "refs/exps").split()[0]
    ran = json.loads(git_out(proj, "show", f"{ref}:metrics.json"))
    assert os.getpid() not in (ran["pid"], ran["ppid"])


BAD_WHERE = [
    ({"executor": "spark"}, 'Unknown executor "spark"; choose local, dask or dask://HOST:PORT.'),
    (
        {"executor": "tcp://10.0.0.5:8786"},
        'Unknown executor "tcp://10.0.0.5:8786"; choose local, dask or dask://HOST:PORT.',
    ),
    ({"executor": "dask://10.0.0.5"}, '"dask://10.0.0.5" is not a Dask scheduler address; type it as dask://HOST:PORT'),
    ({"executor": "dask://:8786"}, '"dask://:8786" is not a Dask scheduler address; type it as dask://HOST:PORT'),
    ({"executor": "dask://h:99999"}, '"dask://h:99999" is not a Dask scheduler address; type it as dask://HOST:PORT'),
    ({"executor": "dask://h/x:1"}, '"dask://h/x:1" is not a Dask scheduler address; type it as dask://HOST:PORT'),
    ({"executor": 5}, '"executor" must be a string or null.'),
    ({"executor": "dask", "shared_fs": "yes"}, '"shared_fs" must be true, false or null (detect).'),
    (
        {"executor": "local", "shared_fs": False},
        '"shared_fs" applies to a Dask executor; choose dask or dask://HOST:PORT',
    ),
]


@on_loop
async def test_queue_start_chooses_where_and_refuses_a_bad_place(jp_fetch, proj):
    """The panel's choice of executor and shared file system reaches the api: a bad one
    is a 400 with one line and starts nothing; ``dask`` runs the entry on a local Dask
    cluster (a worker process of its own, not the queue worker's threads)."""
    await fetch_json(jp_fetch, "run", "POST", {"set_params": ["train.lr=0.3"], "name": "on-dask"}, project="proj")
    for body, message in BAD_WHERE:
        bad = await jp_fetch(
            "jupyter-exp",
            "queue/start",
            method="POST",
            body=json.dumps({"jobs": 1, **body}),
            params={"project": "proj"},
            raise_error=False,
        )
        answer = json.loads(bad.body)["message"]
        assert (bad.code, answer[: len(message)]) == (400, message), body
        assert "\n" not in answer
    with socket.socket() as sock:  # a port where no scheduler listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    body = {"jobs": 1, "executor": f"dask://127.0.0.1:{port}"}
    bad = await jp_fetch(
        "jupyter-exp",
        "queue/start",
        method="POST",
        body=json.dumps(body),
        params={"project": "proj"},
        raise_error=False,
    )
    assert bad.code == 400
    assert json.loads(bad.body)["message"] == (
        f"No Dask scheduler answers at 127.0.0.1:{port} (Connection refused); "
        "start it (dask scheduler) or check the address."
    )
    queue = await fetch_json(jp_fetch, "queue", project="proj")
    assert queue["workers"] == [] and [e["state"] for e in queue["entries"]] == ["queued"]  # nothing started

    body = {"jobs": 1, "executor": "dask", "shared_fs": None}
    started = await fetch_json(jp_fetch, "queue/start", "POST", body, project="proj")
    assert started["message"].startswith("Started a queue worker process (pid ")
    assert started["message"].endswith(" running 1 at a time on a local Dask cluster."), started
    worker_pid = int(started["message"].split("(pid ")[1].split(")")[0])
    entry = await _entry(jp_fetch, "on-dask")
    assert entry["where"] is None  # queued: nowhere yet

    async def finished():
        entry = await _entry(jp_fetch, "on-dask")
        return entry if entry and entry["state"] in ("success", "failed") else None

    entry = await wait_for(finished)
    assert entry["state"] == "success", entry
    ref = git_out(proj, "for-each-ref", "--format=%(refname)", "refs/exps").split()[0]
    ran = json.loads(git_out(proj, "show", f"{ref}:metrics.json"))
    assert ran["lr"] == 0.3
    # Run by a Dask worker process (the stage's ancestor), not by the queue worker's threads.
    record = QueueStore(jupyter_exp.Project(proj)).get(entry["id"])
    up = [int(pid) for pid in ran["up"].split()]
    assert record.pid not in (None, worker_pid) and record.pid in up and up.index(record.pid) < up.index(worker_pid)
    assert entry["where"] == f"Dask worker, pid {record.pid}"


@pytest.fixture
def scheduler(tmp_path):
    """A real ``dask scheduler`` and one ``dask worker`` on localhost (the worker sees this
    file system): the address typed into the panel, and the worker's process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent.parent), env.get("PYTHONPATH")]))
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - as long as the processes
    common = {"stdout": log, "stderr": subprocess.STDOUT, "cwd": tmp_path, "env": env, "start_new_session": True}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
            + ["--no-dashboard"],
            **common,
        )
    ]
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1"]
            + ["--no-nanny", "--no-dashboard", "--local-directory", str(tmp_path / "w")],
            **common,
        )
    )
    deadline = time.monotonic() + 60
    while True:  # the scheduler listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and procs[0].poll() is None, (tmp_path / "dask.log").read_text()
            time.sleep(0.1)
    yield f"127.0.0.1:{port}", procs[1].pid
    for proc in procs:
        proc.kill()
        proc.wait()
    log.close()


@on_loop
async def test_queue_start_on_a_dask_scheduler_typed_in(jp_fetch, proj, scheduler):
    address, worker_pid = scheduler
    await fetch_json(jp_fetch, "run", "POST", {"set_params": ["train.lr=0.6"], "name": "remote"}, project="proj")
    body = {"jobs": 1, "executor": f"dask://{address}", "shared_fs": True}
    started = await fetch_json(jp_fetch, "queue/start", "POST", body, project="proj")
    assert started["message"].endswith(f" on the Dask scheduler at {address} (shared file system)."), started

    async def finished():
        entry = await _entry(jp_fetch, "remote")
        return entry if entry and entry["state"] in ("success", "failed") else None

    entry = await wait_for(finished, timeout=180)
    assert entry["state"] == "success", entry
    # Run by the scheduler's worker (the one process it has), as the panel says.
    assert entry["where"] == f"Dask worker, pid {worker_pid}"


@on_loop
async def test_apply_preview_names_what_apply_would_change(jp_fetch, jp_root_dir, proj):
    jupyter_exp_run = subprocess.run(
        [*cli_command(), "run", "-n", "tuned", "-S", "train.lr=0.25"],
        cwd=proj,
        env=environ_for_cli(),
        capture_output=True,
    )
    assert jupyter_exp_run.returncode == 0, jupyter_exp_run.stderr
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=proj, check=True)
    (proj / "metrics.json").unlink()
    table = await fetch_json(jp_fetch, "table", project="proj")
    key = next(r["key"] for r in table["state"]["table"]["rows"] if r["key"].endswith("/tuned"))
    preview = await fetch_json(jp_fetch, "apply-preview", project="proj", key=key)
    # dvc.lock is the run's still (untracked, so `git checkout` left it): not listed.
    assert preview == {"paths": ["proj/metrics.json", "proj/params.yaml"]}
    # The paths are what apply changes.
    before = {p: (jp_root_dir / p).read_bytes() if (jp_root_dir / p).exists() else None for p in preview["paths"]}
    applied = await fetch_json(
        jp_fetch, "table", "POST", {"type": "action", "action": "apply", "keys": [key]}, project="proj"
    )
    assert applied["ok"] is True, applied
    assert all((jp_root_dir / p).read_bytes() != before[p] for p in preview["paths"])
    response = await jp_fetch(
        "jupyter-exp", "apply-preview", params={"project": "proj", "key": "workspace"}, raise_error=False
    )
    assert response.code == 400


# -- live ---------------------------------------------------------------------------------
@on_loop
async def test_the_socket_pushes_a_row_diff_when_another_process_records(jp_fetch, jp_ws_fetch, proj, registry):
    ws = await jp_ws_fetch("jupyter-exp", "live", params={"project": "proj"})
    session = next(iter(registry._sessions.values()))
    await wait_for(lambda: _true(session.controller.watcher is not None and session.state["live"]))
    start = await fetch_json(jp_fetch, "table", project="proj")
    proc = await asyncio.create_subprocess_exec(
        *cli_command(),
        "run",
        "-n",
        "other",
        "-S",
        "train.lr=0.7",
        cwd=proj,
        env=environ_for_cli(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )

    def recorded(message: dict) -> bool:
        return message["type"] == "table-diff" and any(r["key"].endswith("/other") for r in message["rows"])

    seen = await messages_until(ws, recorded)
    assert (await proc.wait()) == 0
    diff = seen[-1]
    placed = diff["order"] or [key for key, _ in diff["order_edit"]["moves"]]  # a new row is placed
    assert any(k.endswith("/other") for k in placed)
    assert all(m["_bytes"] < LIVE_LIMIT for m in seen)
    # Applying every diff in version order to the first table gives the server's table.
    await asyncio.sleep(1.5)  # the watcher's last refresh for this run
    now = await fetch_json(jp_fetch, "table", project="proj")
    while now["version"] > max([m["version"] for m in seen if "version" in m] + [start["version"]]):
        seen.append(json.loads(await asyncio.wait_for(ws.read_message(), 10)))
    table = start["state"]["table"]
    versions = [start["version"]]
    for message in sorted((m for m in seen if "version" in m), key=lambda m: m["version"]):
        if message["version"] <= start["version"]:
            continue
        versions.append(message["version"])
        if message["type"] == "table-diff":
            table = apply_diff(table, message)
    assert versions == list(range(versions[0], versions[0] + len(versions)))  # no gap
    assert table == now["state"]["table"]
    ws.close()


async def _true(value):
    return value


@on_loop
async def test_the_watcher_stops_after_the_last_socket(jp_ws_fetch, proj, registry):
    registry.grace = 0.3
    ws = await jp_ws_fetch("jupyter-exp", "live", params={"project": "proj"})
    session = next(iter(registry._sessions.values()))
    await wait_for(lambda: _true(session.controller.watcher is not None))
    ws.close()
    await wait_for(lambda: _true(session.controller.watcher is None and not session.sockets), timeout=10)
    # Another socket brings it back.
    ws = await jp_ws_fetch("jupyter-exp", "live", params={"project": "proj"})
    await wait_for(lambda: _true(session.controller.watcher is not None), timeout=10)
    ws.close()


@pytest.fixture
def slow(jp_root_dir: Path) -> Path:
    """Two checkpoint steps a second, and 300 finished experiments besides (in one
    ``git fast-import``, as the benchmarks make them): a live update must not resend them.
    Its first steps are gated (``slow_pipeline``): ``<root>/../gate/<name>``."""
    from run import make_experiments  # bench/run.py (conftest puts bench/ on the path)

    gate = jp_root_dir / "gate"
    gate.mkdir()
    root = make_repo(jp_root_dir / "proj", slow_pipeline(8, gate=gate))
    (root / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    make_experiments(root, 300)
    (root / "dvc.lock").unlink()
    yield root
    stop_workers(root)


@on_loop
async def test_live_updates_stay_small_while_two_experiments_run(jp_fetch, jp_ws_fetch, slow):
    """Two experiments running at once are followed step by step over the socket, each
    update small. The runs wait at their first steps until the socket has shown them
    (the gate), so how often the watcher may refresh on a loaded machine (once a second
    at most, within its CPU share) cannot make the runs outpace it."""
    gate = slow.parent / "gate"
    for name, lr in (("a", 1), ("b", 2)):
        await fetch_json(jp_fetch, "run", "POST", {"name": name, "set_params": [f"train.lr={lr}"]}, project="proj")
    ws = await jp_ws_fetch("jupyter-exp", "live", params={"project": "proj"})
    await fetch_json(jp_fetch, "queue/start", "POST", {"jobs": 2}, project="proj")
    steps: dict[str, set] = {"a": set(), "b": set()}

    def both_done(message: dict) -> bool:
        if message["type"] == "table-diff":
            for row in message["rows"]:
                name = row["key"].rsplit("/", 1)[-1]
                step = (row["progress"] or {}).get("step") if row["state"] == "running" else None
                if name in steps and step is not None and step not in steps[name]:
                    steps[name].add(step)
                    (gate / name).write_text(str(len(steps[name])))  # the run may go on
        return message["type"] == "status" and message["status"]["running"] == message["status"]["queued"] == 0

    seen = await messages_until(ws, both_done, timeout=180)
    sizes = [m["_bytes"] for m in seen]
    assert max(sizes) < LIVE_LIMIT, sizes
    assert len(steps["a"]) >= GATED_STEPS and len(steps["b"]) >= GATED_STEPS, steps  # followed step by step
    ws.close()


# -- no lock for reads ----------------------------------------------------------------------
@on_loop
async def test_reads_never_wait_for_the_project_lock(jp_fetch, proj):
    subprocess.run(
        [*cli_command(), "run", "-n", "one"], cwd=proj, env=environ_for_cli(), check=True, capture_output=True
    )
    await fetch_json(jp_fetch, "run", "POST", {"name": "q"}, project="proj")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX);"
            "print('held', flush=True); time.sleep(120)",
            str(proj / ".dvc" / "tmp" / "lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with open(proj / ".dvc" / "tmp" / "lock") as probe:  # it is held
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        table = await fetch_json(jp_fetch, "table", project="proj")
        key = next(r["key"] for r in table["state"]["table"]["rows"] if r["key"].endswith("/one"))
        started = time.monotonic()
        for route, params in [
            ("table", {}),
            ("status", {}),
            ("params", {}),
            ("queue", {}),
            ("logs", {"entry": "q", "offset": "0"}),
            ("apply-preview", {"key": key}),
            ("project", {"path": "proj"}),
        ]:
            await fetch_json(jp_fetch, route, project="proj", **params)
        assert time.monotonic() - started < 8  # the lock's wait is 10 s
        # A write does wait, and says so in one line.
        response = await jp_fetch(
            "jupyter-exp",
            "run",
            method="POST",
            body=json.dumps({"name": "w"}),
            params={"project": "proj"},
            raise_error=False,
            request_timeout=30,
        )
        assert response.code == 400
        assert json.loads(response.body)["message"].startswith("Another DVC or jupyter_exp command is running")
    finally:
        holder.kill()
        holder.wait()


# -- runs outlive the server ------------------------------------------------------------------
def test_a_run_started_over_the_api_survives_the_server(tmp_path: Path):
    """A real ``jupyter server`` process starts a run and is stopped while it runs: the
    detached worker finishes it and records the experiment."""
    from server import Server  # bench/server.py (conftest puts bench/ on the path)

    import jupyter_exp

    root = make_repo(tmp_path / "root" / "proj", slow_pipeline(20))  # 5 s
    server = Server(tmp_path / "root", tmp_path / "server.log")
    try:
        answer = json.loads(server.post("/jupyter-exp/run?project=proj", {"name": "survivor", "queue": False}))
        assert [e["name"] for e in answer["started"]] == ["survivor"]
        deadline = time.monotonic() + 60
        while json.loads(server.get("/jupyter-exp/status?project=proj"))["running"] != 1:
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.2)
    finally:
        server.stop()
    stopped = time.time()
    try:
        status = jupyter_exp.queue_wait(120, root=str(root))
        assert [(e.name, e.state) for e in status.entries] == [("survivor", "success")]
        assert status.entries[0].finished > stopped  # finished by the worker alone
        assert git_out(root, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split() == ["survivor"]
    finally:
        stop_workers(root)
