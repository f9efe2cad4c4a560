"""The table following a project cheaply: an update reads only what moved (a ref, the
queue, progress) and keeps every other row as it was; HEAD moving collects everything.

Each update is checked against a table collected from scratch (a new controller): the
cheap path must draw exactly what the full one draws. What it does not do is measured
by real effects: the git processes started (``GIT_TRACE``) and the row objects kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import cli_command, git, make_repo
from server_helpers import slow_pipeline

import jupyter_exp
from jupyter_exp.experiments import collect
from jupyter_exp.project import Project
from jupyter_exp.render.json import exp_show
from jupyter_exp.table import TableController

MANY = 300


def add_experiments(root: Path, count: int) -> None:
    """``count`` experiments of HEAD (``more-000``...), each with its own params and
    metrics, written by one ``git fast-import`` as another process would."""
    head = git(root, "rev-parse", "HEAD").strip()
    stream = []
    for i in range(count):
        metrics = json.dumps({"loss": round(1 / (i + 2), 6)})
        stream.append(
            f"commit refs/exps/{head[:2]}/{head[2:]}/more-{i:03d}\n"
            f"committer T <t@example.com> {1_700_000_000 + i} +0000\ndata 4\nmore\nfrom {head}\n"
            f"M 100644 inline metrics.json\ndata {len(metrics)}\n{metrics}\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True)


def checkpoint(root: Path, name: str, loss: float, step: int) -> str:
    """What a running checkpoint experiment does at a step, from outside: a commit on
    its ref holding the new metrics, then its progress event."""
    head = git(root, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/{name}"
    metrics = json.dumps({"loss": loss})
    stream = (
        f"commit {ref}\ncommitter T <t@example.com> {1_800_000_000 + step} +0000\ndata 4\nstep\nfrom {ref}^0\n"
        f"M 100644 inline metrics.json\ndata {len(metrics)}\n{metrics}\n"
    )
    subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=root, input=stream.encode(), check=True)
    tip = git(root, "rev-parse", ref).strip()
    progress = root / ".dvc/tmp/jupyter_exp/progress"
    progress.mkdir(parents=True, exist_ok=True)
    event = {"experiment": name, "step": step, "total": 9, "metrics": {"loss": loss}, "rev": tip, "state": "running"}
    (progress / f"{name}.json").write_text(json.dumps(dict(event, pid=os.getpid())))
    return tip


@pytest.fixture
def many(exps: Path) -> Path:
    """``exps`` (e1..e3, real runs) and 300 more experiments."""
    add_experiments(exps, MANY)
    return exps


@pytest.fixture
def table(many: Path):
    controller = TableController(Project(many))
    yield controller
    controller.close()


@pytest.fixture
def git_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``count(fn)``: run ``fn`` and return how many git processes it started."""

    def count(fn) -> int:
        trace = tmp_path / f"trace-{time.monotonic_ns()}"
        monkeypatch.setenv("GIT_TRACE", str(trace))
        try:
            fn()
        finally:
            monkeypatch.delenv("GIT_TRACE")
        return trace.read_text().count("trace: built-in: git") if trace.exists() else 0

    return count


def as_collected_anew(table: TableController) -> None:
    """The live table draws what a table collected from scratch draws."""
    fresh = TableController(table.project)
    try:
        assert table.state["table"] == fresh.state["table"]
        assert exp_show(table.rows) == exp_show(fresh.rows)
    finally:
        fresh.close()


def row_of(table: TableController, name: str) -> dict:
    (row,) = [r for r in table.state["table"]["rows"] if r["cells"][0] == name and r["kind"] == "experiment"]
    return row


def test_a_checkpoint_updates_its_row_and_reads_nothing_else(table, many, git_processes):
    before = {id(r) for r in table.rows}
    loss_column = next(i for i, c in enumerate(table.state["table"]["columns"]) if c["id"] == "metrics.loss")
    table.dispatch({"type": "expand", "key": row_of(table, "more-007")["key"]})

    tip = checkpoint(many, "more-007", 0.0123, 1)
    assert git_processes(table.refresh_live) == 0  # the ref through the running cat-file, no for-each-ref
    row = row_of(table, "more-007")
    assert row["cells"][loss_column] == "0.0123" and row["state"] == "running" and row["step"] == 1
    assert row["rev"] == tip[:7] and row["children"] == 1  # the previous commit is its checkpoint now
    assert row["progress"]["step"] == 1
    # Every other row is the same object: nothing else was read or made anew.
    changed = [r for r in table.rows if id(r) not in before]
    assert [(r.kind, r.name) for r in changed] == [("experiment", "more-007"), ("checkpoint", "more-007")]
    assert len(table.rows) == len(before) + 1
    as_collected_anew(table)

    before = {id(r) for r in table.rows}
    checkpoint(many, "more-007", 0.0042, 2)
    assert git_processes(table.refresh_live) == 0
    assert row_of(table, "more-007")["cells"][loss_column] == "0.0042"
    assert row_of(table, "more-007")["children"] == 2  # the chain grew from the known one
    # The new tip's row and the old tip's checkpoint row are new; the first checkpoint's is kept.
    changed = [(r.kind, r.step) for r in table.rows if id(r) not in before]
    assert changed == [("experiment", 2), ("checkpoint", 1)]
    as_collected_anew(table)


def test_progress_alone_moves_only_the_progress(table, many, git_processes):
    checkpoint(many, "more-042", 0.5, 1)
    table.refresh_live()
    rows = list(table.rows)
    event = json.loads((many / ".dvc/tmp/jupyter_exp/progress/more-042.json").read_text())
    (many / ".dvc/tmp/jupyter_exp/progress/more-042.json").write_text(json.dumps(dict(event, step=2)))
    assert git_processes(table.refresh_live) == 0
    assert all(a is b for a, b in zip(table.rows, rows)) and len(table.rows) == len(rows)
    assert row_of(table, "more-042")["progress"]["step"] == 2
    as_collected_anew(table)


def test_a_new_experiment_appears_and_a_removed_one_disappears(table, many, cli):
    kept = {id(r) for r in table.rows}
    cli("run", "-S", "train.lr=0.77", "-n", "newcomer")
    cli("remove", "e2", "more-100")
    table.refresh_live()
    names = [r["cells"][0] for r in table.state["table"]["rows"]]
    assert "newcomer" in names and "e2" not in names and "more-100" not in names
    # Only the newcomer's row is new (and the workspace's: the run left its results there).
    assert [r.name or r.kind for r in table.rows if id(r) not in kept] == ["workspace", "newcomer"]
    as_collected_anew(table)


def test_head_moving_collects_everything(table, many, git_processes):
    (many / "notes.txt").write_text("a new baseline\n")
    git(many, "add", "notes.txt")
    git(many, "commit", "-qm", "new baseline")
    assert git_processes(table.refresh_live) >= 4  # HEAD, names, refs, metadata: the full path
    baseline = table.state["table"]["rows"][1]
    assert baseline["kind"] == "baseline" and baseline["rev"] == git(many, "rev-parse", "--short=7", "HEAD").strip()
    assert not any(r["kind"] == "experiment" for r in table.state["table"]["rows"])  # none on the new commit
    as_collected_anew(table)


def test_a_workspace_edit_redraws_the_workspace_row(table, many):
    params = many / "params.yaml"
    params.write_text(params.read_text().replace("lr: ", "lr: 9", 1))
    table.refresh_live()
    as_collected_anew(table)


def test_an_update_matches_a_full_collection_through_the_queue(table, many):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.11,0.12"], name="waiting")
    table.refresh_live()
    assert [r["state"] for r in table.state["table"]["rows"] if r["cells"][0].startswith("waiting")] == ["queued"] * 2
    as_collected_anew(table)
    jupyter_exp.queue_remove(names=["waiting-1"])
    table.refresh_live()
    as_collected_anew(table)


# -- a real checkpoint experiment run from the queue -----------------------------------------
@pytest.fixture
def slow(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "slow", slow_pipeline(24))  # 6 s of checkpoints


def test_a_running_checkpoint_experiment_is_one_row_with_its_progress(slow: Path):
    """Its ref (the last checkpoint) and its running queue entry are one experiment: one
    row, running, with the latest metrics, as DVC shows a running experiment once."""
    project = Project(slow)
    jupyter_exp.run(queue=True, name="ck", root=str(slow))
    table = TableController(project)
    table.start_live()
    seen: list[list[dict]] = []
    table.on_change(lambda patch: "table" in patch and seen.append(patch["table"]["rows"]))
    worker = subprocess.Popen([*cli_command(), "queue", "start", "-j", "1"], cwd=slow)
    try:
        deadline = time.monotonic() + 120
        while not any(
            r["cells"][0] == "ck" and r["state"] == "running" and ((r["progress"] or {}).get("step") or 0) >= 2
            for rows in seen
            for r in rows
        ):
            assert time.monotonic() < deadline, "the running checkpoint experiment never showed progress"
            time.sleep(0.1)
        rows = collect.collect(project)  # the engine, mid-run (seconds of steps left)
        ck = [r for r in rows if r.kind == "experiment" and r.name == "ck"]
        assert [r.state for r in ck] == ["running"] and ck[0].step is not None and ck[0].data.metrics
        (state,) = [e for e in exp_show(rows)[1]["experiments"] if e["name"] == "ck"]
        assert state["executor"]["state"] == "running" and len(state["revs"]) == ck[0].step + 1
        for drawn in seen:  # never two rows with one key
            keys = [r["key"] for r in drawn]
            assert len(keys) == len(set(keys))
        assert jupyter_exp.queue_wait(120, root=str(slow)).entries[0].state == "success"
        deadline = time.monotonic() + 30
        while row_state(table, "ck") != "success":
            assert time.monotonic() < deadline, "the live table did not see the run end"
            time.sleep(0.1)
        assert table.watcher is not None and table.watcher.refreshes > 0
        worker.wait(timeout=120)
        # The worker leaves after its last run ends: the table counts no worker then (a
        # table compared before it refreshed again would still count one).
        deadline = time.monotonic() + 30
        while table.state["table"]["counts"].get("workers"):
            assert time.monotonic() < deadline, "the live table did not see the worker leave"
            time.sleep(0.1)
    finally:
        worker.wait(timeout=120)
        table.close()
    as_collected_anew(table)


def row_state(table: TableController, name: str) -> str | None:
    found = [r["state"] for r in table.state["table"]["rows"] if r["cells"][0] == name and r["kind"] == "experiment"]
    return found[0] if found else None


def test_a_collection_in_another_thread_shares_the_show_cache(many):
    """Two tables of a project (two threads) collect at once: the show cache they share in
    memory comes out whole, and a new process reads every entry back from its file."""
    project = Project(many)
    (many / ".dvc/tmp/jupyter_exp/show-cache.json").unlink(missing_ok=True)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(len(collect.collect(project)))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [results[0]] * 2 and results[0] > MANY
    entries = json.loads((many / ".dvc/tmp/jupyter_exp/show-cache.json").read_text())["entries"]
    assert len(entries) == MANY + 4  # each experiment and the baseline, once


def test_names_from_progress_files_and_stray_ref_files_never_reach_git_as_more_than_refs(table, many):
    """A progress file names anything; a file in the refs' folders may be no ref git
    would take. An update reads neither as a revision (``x:path``, ``x^0``): it draws
    what a full collection draws."""
    head = git(many, "rev-parse", "HEAD").strip()
    progress = many / ".dvc/tmp/jupyter_exp/progress"
    progress.mkdir(parents=True, exist_ok=True)
    for name in ("e1^0", "e1:params.yaml", "../e2", "e3~1"):
        event = {"experiment": name, "state": "running", "rev": head, "baseline": head, "step": 1}
        (progress / f"{abs(hash(name))}.json").write_text(json.dumps(event))
    folder = many / ".git" / "refs" / "exps" / head[:2] / head[2:]
    (folder / "e1^0").write_text(git(many, "rev-parse", "HEAD").strip() + "\n")
    (folder / "e2:params.yaml").write_text(git(many, "rev-parse", "HEAD").strip() + "\n")
    table.refresh_live()
    names = [r["cells"][0] for r in table.state["table"]["rows"]]
    assert not any(n.startswith(("e1^", "e1:", "e2:", "../", "e3~")) for n in names)
    as_collected_anew(table)


def test_the_view_memo_draws_what_a_fresh_build_draws(many):
    """A long run of random changes to rows, columns, preferences and progress: every
    build with the kept memos (the view's, the columns') equals a build from scratch."""
    import random
    from dataclasses import replace

    from jupyter_exp.experiments import show
    from jupyter_exp.experiments.annotations import Annotation
    from jupyter_exp.experiments.columns import columns
    from jupyter_exp.experiments.columns_memo import ColumnsMemo
    from jupyter_exp.table import view
    from jupyter_exp.table.view_memo import ViewMemo
    from jupyter_exp.values import FileValues

    rows, cols = show.select(Project(many))
    experiments = [r for r in rows if r.kind == "experiment"]
    spare_cols = [*cols]
    memo, columns_memo, rng = ViewMemo(), ColumnsMemo(), random.Random(15)
    state, progress, annotations = view.TableState(), {}, {}
    for step in range(400):
        action = rng.randrange(11)
        at = rng.randrange(2, len(rows))
        if action == 0:  # an experiment moves to the top (a new checkpoint), with a checkpoint row
            exp = rng.choice(experiments)
            moved = replace(exp, state="running", step=(exp.step or 0) + 1, data=rng.choice(experiments).data)
            rows = [r for r in rows if r.name != exp.name or r.kind == "workspace"]
            rows[2:2] = [moved, replace(exp, kind="checkpoint", step=0)]
        elif action == 1:  # one goes
            del rows[at]
            rows = [r for i, r in enumerate(rows) if r.kind != "checkpoint" or rows[i - 1].kind != "baseline"]
        elif action == 2:  # one comes, anywhere, maybe with params no other row has
            data = rng.choice(experiments).data
            if rng.random() < 0.3:
                data = replace(data, params={**data.params, f"extra{step % 3}.yaml": data.params["params.yaml"]})
            rows.insert(at, replace(rng.choice(experiments), name=f"new-{step}", data=data))
        elif action == 3:  # its state changes in place
            if rows[at].kind == "experiment":
                rows[at] = replace(rows[at], state=rng.choice(["running", "failed", "queued", None]))
        elif action == 4:  # a column comes, goes, or is relabelled (its key now in two files)
            cols = [c for c in spare_cols if rng.random() < 0.8] or spare_cols
            if rng.random() < 0.5:
                cols = [replace(c, label=f"{c.file}:{c.key}") if rng.random() < 0.3 else c for c in cols]
            elif rng.random() < 0.5:  # one id, another file: nothing of the old column is its
                cols = [replace(c, file="elsewhere.json") if rng.random() < 0.3 else c for c in cols]
        elif action == 5:  # progress of some names
            names = [r.name for r in rng.sample(experiments, 3)]
            progress = {n: {"experiment": n, "step": rng.randrange(5)} for n in names if rng.random() < 0.7}
        elif action == 6:  # the user sorts, filters, expands, hides, stars
            key = view.row_key(rng.choice([r for r in rows if r.kind == "experiment"]))
            state = rng.choice(
                [
                    view.TableState(),
                    view.TableState(sort=(("metrics.loss", "desc"),)),
                    view.TableState(filters=(view.Filter("metrics.loss", "<", "0.1"),)),
                    view.TableState(expanded=(key,), starred=(key,)),
                    view.TableState(hidden=("created",), starred=(key,), starred_only=rng.random() < 0.5),
                    view.TableState(only_changed=True),
                ]
            )
        elif action == 9:  # notes, tags or a message come or go (a new annotations object), or an unreadable note
            picked = rng.sample([r for r in rows if r.kind != "workspace" and r.rev], 4)
            annotations = {
                r.rev: rng.choice([Annotation("a note"), Annotation(tags=("best",)), Annotation(error="bad note")])
                for r in picked
                if rng.random() < 0.6
            }
        elif action == 10:  # a row's metrics file cannot be read any more (or another row's can again)
            row = rows[at]
            metrics = {f: FileValues.failed(ValueError("bad json")) for f in row.data.metrics}
            rows[at] = replace(row, data=replace(row.data, metrics=metrics))
        else:  # nothing but a new list of the same rows (a refresh that found nothing)
            rows = list(rows)
        assert columns_memo.columns(rows) == columns(rows), f"step {step}, action {action}"
        kept = view.build(view.with_running(rows, progress), cols, state, progress, annotations, memo=memo)
        fresh = view.build(view.with_running(rows, progress), cols, state, progress, annotations)
        assert kept == fresh, f"step {step}, action {action}"
