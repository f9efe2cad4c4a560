"""Fault injection and load: SIGKILL at seeded random moments, concurrent commands,
and a project with 10,000 experiments. Afterwards git and the cache must be whole."""

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from conftest import cli_command, git

import jupyter_exp
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.project import Project
from jupyter_exp.serialize import parse_lock

SEED = 20261124


def assert_whole(root: Path) -> None:
    """git fsck clean; every experiment ref names a complete commit whose cached outputs
    are all in the cache."""
    # Dangling objects (a commit whose ref was never written) are litter, not damage.
    assert git(root, "fsck", "--no-progress", "--no-dangling", "--strict") == ""
    objects = root / ".dvc" / "cache" / "files" / "md5"
    for line in git(root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/exps").splitlines():
        rev, ref = line.split()
        git(root, "cat-file", "-e", f"{rev}^{{tree}}")
        lock = parse_lock(git(root, "show", f"{rev}:dvc.lock"), "dvc.lock")
        for stage in (lock or {}).get("stages", {}).values():
            for out in stage.get("outs", []):
                if git(root, "cat-file", "-e", f"{rev}:{out['path']}", check_ok=True):
                    continue  # an uncached output: git holds it
                md5 = out["md5"]
                assert (objects / md5[:2] / md5[2:]).exists(), f"{ref}: {out['path']} {md5} missing"


def kill_if_in(root: Path, pid: int, group: bool) -> bool:
    """SIGKILL ``pid`` (its group with ``group``) only if it works inside ``root``;
    whether a signal was sent."""
    try:
        if not Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(root):
            return False
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
        return True
    except (OSError, ProcessLookupError):
        return False


def kill_at(cmd: list[str], cwd: Path, delay: float) -> int:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return proc.wait()


def test_sigkill_during_exp_run_at_random_moments(ran):
    rng = random.Random(SEED)
    for i in range(6):
        kill_at(
            [*cli_command(), "run", "-S", f"train.lr={0.1 * (i + 1):.1f}", "-n", f"k{i}"], ran, rng.uniform(0.05, 0.9)
        )
        assert_whole(ran)
    exp = jupyter_exp.run(params={"train.lr": 0.77}, name="after", force=True)
    assert exp.rev and (ran / ".dvc/tmp/lock").exists()
    assert_whole(ran)


def wait_dead(pid: int, timeout: float = 10) -> None:
    """Until ``pid`` has exited (gone, or a zombie nobody reaped) with all its threads: a
    SIGKILLed multi-threaded process shows its leader as a zombie while the other threads
    still exit, and its files (the queue entries' locks) close only with the last one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            threads = len(list(Path(f"/proc/{pid}/task").iterdir()))
        except (OSError, IndexError):
            return
        if state in ("Z", "X") and threads <= 1:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still runs {timeout} s after SIGKILL")


def test_sigkill_of_queue_workers_at_random_moments(ran, cli):
    rng = random.Random(SEED + 1)
    before = {
        p: p.read_bytes() for p in ran.rglob("*") if p.is_file() and ".git" not in p.parts and ".dvc" not in p.parts
    }
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3,0.4"], name="q")
    for _ in range(4):
        proc = subprocess.Popen(
            [*cli_command(), "queue", "start", "-j", "2"], cwd=ran, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        proc.wait()
        time.sleep(rng.uniform(0.05, 0.6))
        # Recorded pids may be dead and reused by now (pid_max can be 32768, and a full
        # test run starts more processes than that): kill only processes of this project,
        # or the test kills a neighbour test's process.
        for record in (ran / ".dvc/tmp/jupyter_exp/workers").glob("process-*.json"):
            pid = json.loads(record.read_text())["pid"]
            if kill_if_in(ran, pid, group=False):
                wait_dead(pid)  # SIGKILL is delivered asynchronously; its locks go when it is gone
        for entry in QueueStore(Project(ran)).entries():
            if entry.pgid:
                kill_if_in(ran, entry.pgid, group=True)
        entries = QueueStore(Project(ran)).entries()  # dead runs are reported failed here
        assert all(e.state in ("queued", "success", "failed") for e in entries)
        for e in entries:
            if e.state == "failed":
                assert QueueStore(Project(ran)).log_path(e.id).exists()
        assert_whole(ran)
        jupyter_exp.queue_retry(failed=True) if any(e.state == "failed" for e in entries) else None
    jupyter_exp.run(run_all=True, jobs=2)
    assert {e.state for e in QueueStore(Project(ran)).entries()} == {"success"}
    assert_whole(ran)
    after = {p: p.read_bytes() for p in before if p.exists()}
    assert after == before  # queued runs never touch the workspace


def test_sigkill_during_checkpoint_runs_keeps_every_committed_step(make_project):
    root = make_project("checkpoints")
    (root / "train.py").write_text(
        (root / "train.py")
        .read_text()
        .replace(
            'live.next_step(total=params["epochs"])',
            'live.next_step(total=params["epochs"]); import time; time.sleep(0.1)',
        )
    )
    (root / "params.yaml").write_text("train:\n  lr: 0.5\n  epochs: 30\n")
    git(root, "commit", "-qam", "longer")
    rng = random.Random(SEED + 2)
    head = git(root, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/ck"
    committed: list[str] = []
    for _ in range(4):
        kill_at([*cli_command(), "run", "-n", "ck"], root, rng.uniform(0.3, 1.5))
        progress = root / ".dvc/tmp/jupyter_exp/progress/ck.json"
        announced = json.loads(progress.read_text())["rev"] if progress.exists() else None
        now = (
            git(root, "rev-list", "--first-parent", ref, f"^{head}").split()
            if git(root, "rev-parse", "-q", "--verify", ref, check_ok=True)
            else []
        )
        assert now[len(now) - len(committed) :] == committed  # every earlier step still there
        assert announced is None or announced in now  # every step announced was committed
        committed = now
        assert_whole(root)
    jupyter_exp.run()
    final = git(root, "rev-list", "--first-parent", ref, f"^{head}").split()
    assert final[len(final) - len(committed) :] == committed
    assert json.loads((root / "model.json").read_text())["epoch"] == 30
    assert_whole(root)


def test_two_exp_runs_at_once_are_serialised_or_refused(ran):
    procs = [
        subprocess.Popen(
            [*cli_command(), "run", "-S", f"train.lr={lr}", "-n", name],
            cwd=ran,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for lr, name in ((0.3, "one"), (0.6, "two"))
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for _out, err, code in results:
        assert code == 0 or err.strip() == (
            "ERROR: Another DVC or jupyter_exp command is running in this project; wait for it to finish and retry."
        )
    names = git(ran, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").split()
    assert "one" in names or "two" in names
    for name, lr in (("one", 0.3), ("two", 0.6)):
        if name in names:
            head = git(ran, "rev-parse", "HEAD").strip()
            assert f"lr: {lr}" in git(ran, "show", f"refs/exps/{head[:2]}/{head[2:]}/{name}:params.yaml")
    assert_whole(ran)


def test_ten_thousand_experiments_stay_usable(ran, cli):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from run import make_experiments

    (ran / "params.yaml").write_text((ran / "params.yaml").read_text())
    make_experiments(ran, 10_000)
    data = json.loads(cli("show", "--json").stdout)
    assert len(data[1]["experiments"]) == 10_000
    assert len(jupyter_exp.show(hide_workspace=True)) == 10_001
    git(ran, "commit", "-q", "--allow-empty", "-m", "next")
    jupyter_exp.run(name="keeper")
    assert len(jupyter_exp.gc(workspace=True)) == 10_000
    assert jupyter_exp.remove(all_commits=True) == ["keeper"]
    assert git(ran, "for-each-ref", "refs/exps") == ""
