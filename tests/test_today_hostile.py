"""Hostile inputs to the day's study removal (``exp run --remove``) and SSH transfers:
each bad input is one line and changes nothing; a study is driven or removed by one
process at a time."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import cli_command, make_repo
from helpers import queue_states, wait_for
from safety import Snapshot
from test_search import DVC_YAML

import jupyter_exp
from jupyter_exp.project import Project
from jupyter_exp.studies.study import driving

# Each run takes ~steps * pause seconds and writes the objective once.
SCORE = """import json, time, yaml
q = yaml.safe_load(open('params.yaml'))['train']['q']
time.sleep({pause})
json.dump({{'acc': q}}, open('metrics.json', 'w'))
"""
SPACE = "train.q=choice(0.1,0.2,0.3,0.4)"


def _project(root: Path, pause: float) -> Path:
    return make_repo(
        root,
        {"score.py": SCORE.format(pause=pause), "params.yaml": "train:\n  q: 0.5\n", "dvc.yaml": DVC_YAML},
    )


def _cli(root: Path, *args: str | bytes) -> tuple[int, str, str]:
    proc = subprocess.run([*cli_command(), *args], cwd=root, capture_output=True)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def _one_line(root: Path, *args: str | bytes) -> str:
    code, out, err = _cli(root, *args)
    assert code == 1 and not out and err.count("\n") == 1 and err.startswith("ERROR: "), (args, code, out, err)
    return err.strip()


@pytest.mark.parametrize(
    "args, words",
    [
        # An empty name is still a study's: never a plain `exp run` of the workspace.
        (["run", "--remove", ""], "No study named ''"),
        (["run", "--resume", ""], "No study named ''"),
        (["run", "--remove", "../x"], "No study named '../x'"),
        (["run", "--remove=-x"], "No study named '-x'"),
        # A name with a byte that is no UTF-8: the name's rules, not a traceback.
        (["run", "-n", b"\xff"], "Invalid experiment name"),
        (
            ["run", "--search", "-S", SPACE, "--objective", "metrics.json:acc", "-n", b"a\xff"],
            "Invalid experiment name",
        ),
    ],
)
def test_a_bad_study_name_is_one_line_and_changes_nothing(tmp_path: Path, args, words):
    root = _project(tmp_path / "proj", 0)
    snap = Snapshot.take(root, outside=[tmp_path])
    assert words in _one_line(root, *args)
    snap.assert_unchanged()


def test_a_study_is_driven_or_removed_by_one_process_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """While a process holds a study (its driver, or a removal), another's --remove,
    --resume, or a new study of that name is refused in one line, changing nothing; a
    driver killed with -9 frees it."""
    root = _project(tmp_path / "proj", 0)
    monkeypatch.chdir(root)
    jupyter_exp.search([SPACE], objective="metrics.json:acc", name="held", trials=1, sampler="grid", quiet=True)
    snap = Snapshot.take(root, outside=[tmp_path])
    with driving(Project(root), "held"):
        for args in (
            ["run", "--remove", "held"],
            ["run", "--resume", "held"],
            ["run", "--search", "-S", SPACE, "--objective", "metrics.json:acc", "-n", "held"],
        ):
            line = _one_line(root, *args)
            assert line == (
                f"ERROR: Study 'held' is being run or removed by another process (pid {os.getpid()}); "
                "wait for it to end, or stop it, and retry."
            ), line
    snap.assert_unchanged()
    assert len(jupyter_exp.search_trials("held")) == 1

    # A real driver between its trials (each run takes seconds): --remove and a second
    # --resume are refused; before, the removal could land while the driver ran and the
    # driver died with a traceback at its next write.
    slow = _project(tmp_path / "slow", 5)
    monkeypatch.chdir(slow)
    driver = subprocess.Popen(
        [*cli_command(), "run", "--search", "-S", SPACE, "--objective", "metrics.json:acc", "-n", "s", "--trials", "4"],
        cwd=slow,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        # (one trial runs, the next is queued ahead of it)
        wait_for(lambda: {"running", "queued"} <= set(queue_states(slow).values()), "a trial running", timeout=60)
        assert "is being run or removed by another process" in _one_line(slow, "run", "--remove", "s")
        assert "is being run or removed by another process" in _one_line(slow, "run", "--resume", "s")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.communicate(timeout=30)
    # Killed: the lock is free; its running trial's entry reads failed (its runner died),
    # the one it had queued ahead is still refused until dropped, then the study goes.
    wait_for(lambda: "running" not in queue_states(slow).values(), "the dead run seen as such", timeout=30)
    if "queued" in queue_states(slow).values():  # (unless the running trial ended and the next began meanwhile)
        assert "(queued: s-" in _one_line(slow, "run", "--remove", "s")
        assert _cli(slow, "queue", "remove", "--queued")[0] == 0
    code, out, err = _cli(slow, "run", "--remove", "s")
    assert code == 0 and out.startswith("Removed study 's'"), (code, out, err)
