"""SIGKILL at every named fault point (jupyter_exp/faults.py) of exp run, queued and
temporary runs and checkpoint runs. Afterwards git and the cache are whole, nothing
recorded is lost, and the next command carries on as if nothing had happened."""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import cli_command, git
from helpers import exp_refs, pids
from test_faults import assert_whole

import jupyter_exp
from jupyter_exp import faults
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.processes import group_alive
from jupyter_exp.project import Project
from jupyter_exp.serialize import parse_lock


def run_killed_at(point: str, root: Path, *args: str) -> None:
    """Run ``jupyter-exp ARGS`` in ``root``; assert it died at ``point``."""
    env = dict(os.environ, JUPYTER_EXP_KILL_AT=point)
    proc = subprocess.run([*cli_command(), *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, f"never reached {point}: {proc.returncode}\n{proc.stdout}{proc.stderr}"


def workspace_files(root: Path) -> dict[Path, bytes]:
    return {
        p: p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not {".git", ".dvc"} & set(p.relative_to(root).parts)
    }


@pytest.mark.parametrize("point", ["cache.linked", "run.reproduced", "record.committed", "record.ref-written"])
def test_exp_run_killed_at(point, ran):
    run_killed_at(point, ran, "run", "-S", "train.lr=0.3", "-n", "k")
    assert_whole(ran)
    recorded = exp_refs(ran)
    assert (point == "record.ref-written") == ("k" in recorded)  # the ref is the last write
    assert list(ran.glob(".dvc/cache/files/md5/*/*.tmp")) == [] or point == "cache.linked"
    if "k" in recorded:  # the run was over but for returning: the name is taken
        assert "lr: 0.3" in git(ran, "show", f"refs/exps/{_ref(ran, 'k')}:params.yaml")
        with pytest.raises(jupyter_exp.JupyterExpError, match="'k' already exists"):
            jupyter_exp.run(set_params=["train.lr=0.3"], name="k")
    else:  # the same command again finishes the job: same name, no -f needed
        jupyter_exp.run(set_params=["train.lr=0.3"], name="k")
        assert "lr: 0.3" in git(ran, "show", f"refs/exps/{_ref(ran, 'k')}:params.yaml")
    assert_whole(ran)


@pytest.mark.parametrize("point", ["queue.committed", "queue.ref-written"])
def test_queueing_killed_at(point, ran):
    run_killed_at(point, ran, "run", "--queue", "-S", "train.lr=0.4", "-n", "q")
    assert_whole(ran)
    assert QueueStore(Project(ran)).entries() == []  # the record is the last write
    assert "q" not in jupyter_exp.show()["experiment"].tolist()
    jupyter_exp.run(queue=True, set_params=["train.lr=0.4"], name="q")
    jupyter_exp.run(run_all=True)
    assert "q" in exp_refs(ran)
    assert_whole(ran)


@pytest.mark.parametrize("point", ["queue.claimed", "record.committed", "queue.recorded"])
@pytest.mark.parametrize("how", [("run", "--run-all"), ("run", "--temp", "-S", "train.lr=0.5", "-n", "t")])
def test_queued_and_temp_runs_killed_at(point, how, ran):
    if how[1] == "--run-all":
        jupyter_exp.run(queue=True, set_params=["train.lr=0.5"], name="t")
    before = workspace_files(ran)
    run_killed_at(point, ran, *how)
    assert_whole(ran)
    assert workspace_files(ran) == before  # queued and temp runs never touch the workspace
    (entry,) = QueueStore(Project(ran)).entries()
    assert entry.state == "failed"  # its worker is dead: reported as such, with its log
    assert QueueStore(Project(ran)).log_path(entry.id).exists()
    assert ("t" in exp_refs(ran)) == (point == "queue.recorded")
    jupyter_exp.queue_retry(failed=True)
    jupyter_exp.run(run_all=True)
    assert [e.state for e in QueueStore(Project(ran)).entries()] == ["success"]
    assert "lr: 0.5" in git(ran, "show", f"refs/exps/{_ref(ran, 't')}:params.yaml")
    assert workspace_files(ran) == before
    assert_whole(ran)


def _ref(root: Path, name: str) -> str:
    out = git(root, "for-each-ref", "--format=%(refname)", "refs/exps")
    (ref,) = [r for r in out.split() if r.endswith(f"/{name}")]
    return ref[len("refs/exps/") :]


@pytest.mark.parametrize("point", ["checkpoint.committed", "checkpoint.ref-written"])
def test_checkpoint_run_killed_at(point, make_project):
    root = make_project("checkpoints")
    head = git(root, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/ck"
    run_killed_at(f"{point}#3", root, "run", "-n", "ck")
    # The stage waiting for its checkpoint notices that the engine is gone and stops.
    deadline = time.monotonic() + 10
    while pids(inside=root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids(inside=root) == []
    assert_whole(root)
    steps = git(root, "rev-list", "--first-parent", ref, f"^{head}").split()
    assert len(steps) == (3 if point == "checkpoint.ref-written" else 2)
    progress = root / ".dvc/tmp/jupyter_exp/progress/ck.json"
    assert json.loads(progress.read_text())["rev"] == steps[0 if point == "checkpoint.committed" else 1]
    jupyter_exp.run()  # resumes from the ref's tip, whatever the progress file says
    final = git(root, "rev-list", "--first-parent", ref, f"^{head}").split()
    assert final[len(final) - len(steps) :] == steps
    assert json.loads((root / "model.json").read_text())["epoch"] == 4
    assert_whole(root)


@pytest.mark.parametrize("point", ["apply.saved", "apply.files-written", "apply.index-restored"])
def test_apply_killed_at(point, exps):
    # Work apply must keep: a staged new file the experiment also has (edited since), a
    # staged edit of a file it overwrites, an unstaged edit.
    (exps / "params.yaml").write_text((exps / "params.yaml").read_text() + "# unstaged\n")
    (exps / "train.py").write_text((exps / "train.py").read_text() + "# staged\n")
    (exps / "notes.txt").write_text("staged\n")
    git(exps, "add", "train.py", "notes.txt")
    (exps / "notes.txt").write_text("staged, then edited\n")
    before = workspace_files(exps)
    index = git(exps, "ls-files", "-s") + git(exps, "diff", "--cached")
    run_killed_at(point, exps, "apply", "e2")
    assert_whole(exps)
    (saved,) = git(exps, "for-each-ref", "--format=%(refname:lstrip=3)", "refs/jupyter-exp/saved").split()
    if point != "apply.saved":
        assert "# unstaged" not in (exps / "params.yaml").read_text()  # it had begun
    # The way back printed before the first write brings back the workspace and the index.
    subprocess.run([*cli_command(), "apply", saved], cwd=exps, check=True, capture_output=True)
    assert workspace_files(exps) == before
    assert git(exps, "ls-files", "-s") + git(exps, "diff", "--cached") == index
    assert_whole(exps)


def test_every_named_point_is_placed_once_and_killed_at_here():
    source = Path(jupyter_exp.__file__).parent
    placed = re.findall(r'faults\.point\("([^"]+)"\)', "\n".join(p.read_text() for p in source.rglob("*.py")))
    assert sorted(placed) == sorted(faults.POINTS)
    tested = re.findall(r'"((?:cache|run|record|queue|checkpoint|apply)\.[a-z-]+)"', Path(__file__).read_text())
    assert set(faults.POINTS) <= set(tested)


DVC2_STAGE = """import json, os, time
step = json.load(open("model.json"))["step"] if os.path.exists("model.json") else 0
for i in range(step, 4):
    json.dump({"step": i + 1}, open("model.json", "w"))
    os.makedirs("dvclive/plots", exist_ok=True)
    open("dvclive/plots/step.tsv", "a").write(f"{i}\\n")
    json.dump({"step": i}, open("dvclive/metrics.json", "w"))
    open(".dvc/tmp/DVC_CHECKPOINT", "w").close()  # DVC 2's protocol, no engine check
    while os.path.exists(".dvc/tmp/DVC_CHECKPOINT"):
        time.sleep(0.02)
"""


def test_a_stage_orphaned_by_a_killed_engine_is_stopped_by_the_next_run(make_project):
    root = make_project("checkpoints")
    (root / "train.py").write_text(DVC2_STAGE)
    git(root, "commit", "-qam", "a DVC 2 style stage")
    run_killed_at("checkpoint.committed#2", root, "run", "-n", "ck")
    pgid = int((root / ".dvc/tmp/jupyter_exp/running-stage").read_text().split()[0])
    os.killpg(pgid, 0)  # the orphan still waits for its checkpoint, for ever
    jupyter_exp.run()
    assert not group_alive(pgid)  # (a zombie its new parent has not reaped yet does not count)
    assert pids(inside=root) == []
    head = git(root, "rev-parse", "HEAD").strip()
    steps = git(root, "rev-list", "--first-parent", f"refs/exps/{head[:2]}/{head[2:]}/ck", f"^{head}").split()

    def model_step(rev: str) -> int:
        lock = parse_lock(git(root, "show", f"{rev}:dvc.lock"), "dvc.lock")
        (md5,) = [o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "model.json"]
        return json.loads((root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).read_text())["step"]

    recorded = [model_step(rev) for rev in reversed(steps)]
    assert recorded == sorted(set(recorded)) and recorded[-1] == 4  # every step once, in order
    assert_whole(root)


def test_a_checkpoint_run_whose_engine_was_killed_shows_interrupted(make_project):
    root = make_project("checkpoints")
    run_killed_at("checkpoint.ref-written#2", root, "run", "-n", "ck")
    frame = jupyter_exp.show()
    assert frame.loc[frame.experiment == "ck", "state"].tolist()[0] == "interrupted"
    assert "running" not in frame["state"].tolist()


def test_a_reused_pid_is_never_killed_as_an_orphan(tmp_path):
    from jupyter_exp.pipeline.runner import record_stage, stop_orphaned_stage

    other = subprocess.Popen(["sleep", "30"], start_new_session=True)  # some program, alive
    try:
        record = tmp_path / "running-stage"
        dead_engine = subprocess.Popen(["true"])
        dead_engine.wait()
        # The record names this group, but as started at another time: the pid was reused.
        record.write_text(f"{other.pid} {dead_engine.pid} 1\n")
        assert stop_orphaned_stage(record) is False
        assert other.poll() is None and not record.exists()
        record_stage(record, other.pid)  # recorded by a process that then died
        record.write_text(record.read_text().replace(f" {os.getpid()} ", f" {dead_engine.pid} "))
        assert stop_orphaned_stage(record) is True
        assert other.wait(timeout=5) == -9
    finally:
        other.kill()
