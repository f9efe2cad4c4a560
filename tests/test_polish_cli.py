"""Rough edges a new user met outside the table (issue 16's polish list), each reproduced
as it was met: a summary missing a finished Dask run, ``%exp queue start`` on an empty
queue, ``show --json | head``, the queue thread writing into a terminal IPython's
prompt, and ``exp save -I`` of a file that does not exist."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path

import pytest
from conftest import cli_command, git
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import PathError
from jupyter_exp.experiments.dask_executor import split_done


class FinishesWhenAsked(Future):
    """A future that finishes the moment it is first asked whether it is done (a run that
    ends while the executor is collecting the others): it answers no, then is done."""

    def done(self) -> bool:
        was = super().done()
        if not was:
            self.set_result("finished meanwhile")
        return was


def test_a_future_finishing_between_two_looks_is_kept():
    early, late = Future(), FinishesWhenAsked()
    early.set_result("done")
    finished, pending = split_done([early, late])
    assert finished == [early] and pending == [late]  # late is looked at again next round
    finished, pending = split_done(pending)
    assert finished == [late] and pending == []


def test_run_all_on_dask_summarises_every_finished_entry(ran):
    jupyter_exp.queue(set_params=["train.lr=0.1,0.2,0.3,0.4,0.5"], name="sum")
    said: list[str] = []
    outcomes = jupyter_exp.run_all(5, executor="dask", echo=said.append)
    assert sorted((o.name, o.state) for o in outcomes) == [(f"sum-{i}", "success") for i in range(1, 6)]
    summary = sorted(line for line in "".join(said).splitlines() if line.startswith("sum-"))
    assert summary == [f"sum-{i}: success" for i in range(1, 6)]


def _run_cells(root: Path, *sources: str) -> list[list[dict]]:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(root)}}
    ).execute()
    return [c["outputs"] for c in nb.cells]


def test_queue_start_on_an_empty_queue_in_a_kernel_is_one_line_and_nothing_else(ran):
    (outputs,) = _run_cells(ran, "%load_ext jupyter_exp\n%exp queue start")[0:1]
    assert [o["output_type"] for o in outputs] == ["error"]  # no "starting" line before it
    (error,) = outputs
    assert error["ename"] == "JupyterExpError"
    assert error["evalue"] == "The queue is empty; queue experiments with `%exp run --queue` first."
    assert len(error["traceback"]) == 1  # one line, no traceback


def test_queue_start_in_a_kernel_shows_one_line_that_follows_the_queue(ran):
    jupyter_exp.queue(set_params=["train.lr=0.1,0.2"], name="k")
    outputs = _run_cells(
        ran, "%load_ext jupyter_exp\n%exp queue start", "import jupyter_exp\njupyter_exp.queue_wait(timeout=120);"
    )
    shown = [o for o in outputs[0] if o["output_type"] == "display_data"]
    assert len(shown) == 1 and shown[0]["data"]["text/plain"].startswith("Queue (-j 1): ")


def test_show_json_into_a_closed_pipe_exits_quietly_as_dvc(exps):
    proc = subprocess.Popen(
        [*cli_command(), "show", "--json", "-f"], cwd=exps, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # `| head` that has read what it wanted, before we write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141  # 128 + SIGPIPE, as dvc exits
    assert err == ""


def test_the_queue_thread_writes_nothing_into_a_terminal_ipython(ran):
    jupyter_exp.queue(set_params=["train.lr=0.1,0.2"], name="term")
    script = (
        "%load_ext jupyter_exp\n%exp queue start\n"
        "import jupyter_exp\n_ = jupyter_exp.queue_wait(timeout=120)\nprint('waited')\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--no-banner",
            "--colors=NoColor",
            "--simple-prompt",
            "--HistoryManager.enabled=False",
        ],
        cwd=ran,
        input=script,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Started a queue worker thread running 1 experiment(s) at a time" in proc.stdout
    assert "waited" in proc.stdout
    assert "Queue (-j" not in proc.stdout and "Queue worker starting" not in proc.stdout  # nothing from the thread
    assert {e.state for e in jupyter_exp.queue_status().entries} == {"success"}


@pytest.mark.dvc
def test_save_include_of_a_missing_file_fails_with_one_line(ran, cli, dvc, tmp_path):
    # DVC 3.67 saves without it, silently (checked here, on the same repository) ...
    assert dvc("exp", "save", "-I", "missing.txt", "-n", "by-dvc").returncode == 0
    assert "missing.txt" not in git(ran, "ls-tree", "-r", "--name-only", "refs/exps/" + _exp_path(ran, "by-dvc"))
    # ... a typo would lose the file the user meant to keep: we refuse, nothing saved.
    before = Snapshot.take(ran, outside=[tmp_path / "outside"])
    proc = cli("save", "-I", "missing.txt", "-n", "ours", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert (
        proc.stderr == "ERROR: -I/--include-untracked: 'missing.txt' does not exist; check the path and save again.\n"
    )
    before.assert_unchanged()
    with pytest.raises(PathError, match="leaves the project"):
        jupyter_exp.save(include_untracked=["../elsewhere.txt"], name="ours")
    before.assert_unchanged()
    (ran / "notes.txt").write_text("kept\n")
    exp = jupyter_exp.save(include_untracked=["notes.txt"], name="ours")
    assert git(ran, "show", f"{exp.rev}:notes.txt") == "kept\n"


def _exp_path(root: Path, name: str) -> str:
    ref = next(
        line.split("\t")[1] for line in git(root, "for-each-ref", "refs/exps").splitlines() if line.endswith("/" + name)
    )
    return ref.removeprefix("refs/exps/")
