"""Checkpoint experiments: a commit per step, resume, reset, interruptions, display."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import cli_command, git
from helpers import exp_chain

import jupyter_exp
from jupyter_exp.errors import CacheError, StageFailedError


def model(root: Path) -> dict:
    return json.loads((root / "model.json").read_text())


def test_a_commit_per_step_back_to_the_baseline(make_project):
    root = make_project("checkpoints")
    head = git(root, "rev-parse", "HEAD").strip()
    events = []
    exp = jupyter_exp.run(name="ck", on_progress=events.append)
    commits = exp_chain(root, "ck")
    assert len(commits) == 4 and commits[0] == exp.rev
    assert git(root, "rev-parse", f"{commits[-1]}^").strip() == head
    # each step's commit holds that step's model hash in dvc.lock and its metrics
    steps = [json.loads(git(root, "show", f"{c}:dvclive/metrics.json"))["w"] for c in reversed(commits)]
    assert steps == [0.5, 1.0, 1.5, 2.0]
    assert [e["step"] for e in events] == [1, 2, 3, 4] and events[-1]["total"] == 4
    assert events[-1]["metrics"] == {"w": 2.0} and events[0]["experiment"] == "ck"
    assert git(root, "fsck", "--no-progress") == ""
    progress = json.loads((root / ".dvc/tmp/jupyter_exp/progress/ck.json").read_text())
    assert progress["state"] == "success" and progress["step"] == 4


def test_resume_modified_and_reset(make_project, cli):
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")
    # no change: resumes the same experiment on the same chain (nothing left to train)
    out = cli("run").stdout
    assert "Resuming checkpoint experiment 'ck' from step 3." in out
    # changed params: a new experiment whose chain goes through the old one
    out = cli("run", "-S", "train.epochs=6", "-n", "more").stdout
    assert "Modified checkpoint experiment based on 'ck' will be created as 'more'." in out
    more = exp_chain(root, "more")
    assert len(more) == 6 and more[2:] == exp_chain(root, "ck")
    assert model(root) == {"epoch": 6, "w": 3.0}
    # --reset: checkpoint outputs deleted, a new chain from the baseline
    out = cli("run", "--reset", "-n", "fresh").stdout
    assert "Reset: starting checkpoint experiment 'fresh'." in out
    assert len(exp_chain(root, "fresh")) == 6 and model(root) == {"epoch": 6, "w": 3.0}
    assert set(exp_chain(root, "fresh")).isdisjoint(exp_chain(root, "ck"))


def test_a_crash_after_k_steps_keeps_them_and_the_next_run_resumes(make_project, monkeypatch, cli):
    root = make_project("checkpoints")
    monkeypatch.setenv("CRASH_AT_EPOCH", "3")
    with pytest.raises(StageFailedError, match="crashed at epoch 3"):
        jupyter_exp.run(name="crashy")
    assert len(exp_chain(root, "crashy")) == 2
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["crashy"].query("kind == 'experiment'")["state"].item() == "interrupted"
    monkeypatch.delenv("CRASH_AT_EPOCH")
    out = cli("run").stdout
    assert "Resuming checkpoint experiment 'crashy' from step 1." in out
    assert len(exp_chain(root, "crashy")) == 4 and model(root) == {"epoch": 4, "w": 2.0}


def test_ctrl_c_and_sigterm_keep_committed_steps(make_project):
    root = make_project("checkpoints")
    (root / "train.py").write_text(
        (root / "train.py")
        .read_text()
        .replace(
            '    live.next_step(total=params["epochs"])',
            '    live.next_step(total=params["epochs"])\n    import time; time.sleep(0.4)',
        )
    )
    git(root, "commit", "-qam", "slower")
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen(
            [*cli_command(), "run", "-n", "stopped"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 20
        progress = root / ".dvc/tmp/jupyter_exp/progress/stopped.json"

        # Wait for a step of *this* run (the first run's progress file is still there when
        # the second starts): signalling an engine that has not started its stage yet
        # tests nothing, and one killed before its handlers can leave its stage running.
        def stepped(progress: Path = progress, proc: subprocess.Popen = proc) -> bool:
            try:
                event = json.loads(progress.read_text())
            except (OSError, ValueError):
                return False
            return event.get("pid") == proc.pid and event["step"] >= 2

        while time.monotonic() < deadline and not stepped():
            time.sleep(0.05)
        assert stepped(), "the run never reached step 2"
        proc.send_signal(sig)
        proc.wait(timeout=20)
        assert proc.returncode != 0
        assert len(exp_chain(root, "stopped")) >= 2
        assert git(root, "fsck", "--no-progress") == ""
    jupyter_exp.run()
    assert len(exp_chain(root, "stopped")) == 4


def test_a_stale_signal_file_is_cleaned_up(make_project):
    root = make_project("checkpoints")
    (root / ".dvc/tmp").mkdir(exist_ok=True)
    (root / ".dvc/tmp/DVC_CHECKPOINT").write_text("{}")  # left by a killed run
    jupyter_exp.run(name="clean")
    assert len(exp_chain(root, "clean")) == 4
    assert not (root / ".dvc/tmp/DVC_CHECKPOINT").exists()


def test_a_checkpoint_that_cannot_be_cached_fails_without_a_half_commit(make_project):
    import hashlib

    root = make_project("checkpoints")
    md5 = hashlib.md5(json.dumps({"epoch": 2, "w": 1.0}).encode()).hexdigest()
    blocker = root / ".dvc/cache/files/md5" / md5[:2]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the cache needs a directory")
    with pytest.raises(CacheError, match="Cannot write to the cache"):
        jupyter_exp.run(name="nocache")
    commits = exp_chain(root, "nocache")
    assert len(commits) == 1  # step 1 only: step 2 never became a commit
    assert git(root, "fsck", "--no-progress") == ""


def test_sigkill_mid_run_leaves_previous_checkpoints_intact(make_project):
    root = make_project("checkpoints")
    (root / "train.py").write_text(
        (root / "train.py")
        .read_text()
        .replace(
            '    live.next_step(total=params["epochs"])',
            '    live.next_step(total=params["epochs"])\n    import time; time.sleep(0.3)',
        )
    )
    git(root, "commit", "-qam", "slower")
    proc = subprocess.Popen(
        [*cli_command(), "run", "-n", "killed"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    progress = root / ".dvc/tmp/jupyter_exp/progress/killed.json"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (progress.exists() and json.loads(progress.read_text())["step"] >= 2):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    commits = exp_chain(root, "killed")
    assert len(commits) >= 2
    for commit in commits:
        assert "model.json" in git(root, "show", f"{commit}:dvc.lock")
    assert git(root, "fsck", "--no-progress") == ""


def test_parallel_checkpoint_experiments_keep_separate_chains(make_project):
    root = make_project("checkpoints")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.5,0.25"], name="par")
    jupyter_exp.run(run_all=True, jobs=2)
    first, second = exp_chain(root, "par-1"), exp_chain(root, "par-2")
    assert len(first) == 4 and len(second) == 4 and set(first).isdisjoint(second)
    assert json.loads(git(root, "show", f"{second[0]}:dvclive/metrics.json"))["w"] == 1.0
    assert git(root, "status", "--porcelain") == ""


def test_display_apply_and_branch_of_any_checkpoint(make_project, cli):
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")
    df = jupyter_exp.show()
    rows = df[df.experiment == "ck"]
    assert list(rows["kind"]) == ["experiment", "checkpoint", "checkpoint", "checkpoint"]
    assert list(rows["step"]) == [3, 2, 1, 0]  # as DVCLive counts steps
    data = json.loads(cli("show", "--json").stdout)
    ck = next(e for e in data[1]["experiments"] if e["name"] == "ck")
    assert len(ck["revs"]) == 4
    text = cli("show").stdout
    assert "[ck] (step 3)" in text and "(step 1)" in text
    second = exp_chain(root, "ck")[2]  # step 2
    jupyter_exp.apply(second[:10])
    assert model(root) == {"epoch": 2, "w": 1.0}
    name = jupyter_exp.branch(second[:10], "from-step-2")
    assert git(root, "rev-parse", name).strip() == second


def test_the_in_stage_api_outside_a_stage_is_a_no_op(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("DVC_STAGE", "DVC_CHECKPOINT", "DVC_ROOT"):
        monkeypatch.delenv(var, raising=False)
    code = (
        "import sys, time; t = time.perf_counter()\n"
        "from jupyter_exp import live\n"
        "import jupyter_exp\n"
        "live.log_metric('loss', 1.0); live.next_step(); jupyter_exp.make_checkpoint()\n"
        "print([m for m in ('IPython', 'pandas', 'git', 'ruamel') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert not (tmp_path / "dvclive").exists()


def test_a_dvc2_style_script_works_unchanged(project: Path):
    (project / "train.sh").write_text(
        "for i in 1 2 3; do echo $i > out.txt; touch .dvc/tmp/DVC_CHECKPOINT;"
        " while [ -f .dvc/tmp/DVC_CHECKPOINT ]; do sleep 0.02; done; done; echo done > report.txt\n"
    )
    (project / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: sh train.sh\n    deps: [train.sh]\n    outs:\n    - out.txt:\n      "
        "  checkpoint: true\n"
        "    - report.txt\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-qm", "sh")
    exp = jupyter_exp.run(name="shell")
    # three steps, then a wrap-up commit: report.txt, written at the end only, is in it
    assert len(exp_chain(project, "shell")) == 4
    assert "report.txt" not in git(project, "show", f"{exp_chain(project, 'shell')[1]}:dvc.lock")
    assert "report.txt" in git(project, "show", f"{exp.rev}:dvc.lock")


def test_resume_any_checkpoint_in_a_temp_run_and_the_progress_bar(make_project, cli):
    root = make_project("checkpoints")
    out = cli("run", "-n", "ck").stdout
    assert "ck [#####...............] 1/4 w=0.5" in out and "ck [####################] 4/4 w=2" in out
    second = exp_chain(root, "ck")[2]  # step 2
    proc = cli("run", "-r", second[:10], check=False)
    assert proc.returncode == 1 and "-r/--rev resumes a checkpoint in a --queue or --temp run" in proc.stderr
    exp = jupyter_exp.run(temp=True, rev=second[:10], set_params=["train.epochs=5"], name="from-two")
    steps = exp_chain(root, "from-two")
    assert len(steps) == 5 and steps[3] == second  # steps 3..5 continue after step 2
    assert json.loads(git(root, "show", f"{exp.rev}:dvclive/metrics.json"))["w"] == 2.5
    assert model(root) == {"epoch": 4, "w": 2.0}  # the workspace was not touched


def test_a_note_follows_a_checkpoint_experiment_that_goes_on(make_project, monkeypatch, cli):
    """A note written on an interrupted checkpoint experiment stays with the experiment
    when a resumed run adds steps (its row is the new tip), and on the commit it was
    written on (that checkpoint's row)."""
    root = make_project("checkpoints")
    monkeypatch.setenv("CRASH_AT_EPOCH", "3")
    with pytest.raises(StageFailedError):
        jupyter_exp.run(name="crashy")
    noted_tip = exp_chain(root, "crashy")[0]
    jupyter_exp.note("crashy", "lr looks right", tags=["keep"])
    monkeypatch.delenv("CRASH_AT_EPOCH")
    cli("run")
    tip = exp_chain(root, "crashy")[0]
    assert tip != noted_tip
    df = jupyter_exp.show().set_index("rev")
    assert (df.loc[tip, "note"], df.loc[tip, "tags"]) == ("lr looks right", "keep")
    assert df.loc[noted_tip, "note"] == "lr looks right"


def test_a_note_stays_off_an_experiment_that_goes_on_from_anothers_steps(make_project, cli):
    """``more`` goes on from ``ck``'s steps (its chain holds ``ck``'s tip): the note on
    ``ck`` is ``ck``'s, not ``more``'s."""
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")
    jupyter_exp.note("ck", "the good one")
    cli("run", "-S", "train.epochs=6", "-n", "more")
    assert exp_chain(root, "ck")[0] in exp_chain(root, "more")
    df = jupyter_exp.show().query("kind == 'experiment'").set_index("experiment")
    assert df.loc["ck", "note"] == "the good one" and pd.isna(df.loc["more", "note"])


def test_a_torn_checkpoint_output_is_restored_before_resuming(make_project, monkeypatch, cli):
    """A kill while the stage wrote ``model.json`` leaves it half-written: the next run
    resumes from the committed step's copy in the cache, not from the torn file."""
    root = make_project("checkpoints")
    monkeypatch.setenv("CRASH_AT_EPOCH", "3")
    with pytest.raises(StageFailedError):
        jupyter_exp.run(name="crashy")
    monkeypatch.delenv("CRASH_AT_EPOCH")
    (root / "model.json").write_text('{"epoch": ')  # what a SIGKILL mid-write leaves
    # ... with the record a SIGKILLed engine leaves of its stage (both processes gone).
    gone = subprocess.Popen(["true"])
    gone.wait()
    (root / ".dvc/tmp/jupyter_exp/running-stage").write_text(f"{gone.pid} {gone.pid} 0\n")
    out = cli("run").stdout
    assert "Resuming checkpoint experiment 'crashy' from step 1." in out
    assert "Restored 'model.json' as step 1 recorded it." in out
    assert len(exp_chain(root, "crashy")) == 4 and model(root) == {"epoch": 4, "w": 2.0}
    assert "Restored" not in cli("run").stdout  # nothing torn: nothing restored
    # A checkpoint output the user removed between runs is theirs: not brought back.
    (root / "model.json").unlink()
    assert "Restored" not in cli("run", "-S", "train.epochs=5").stdout
