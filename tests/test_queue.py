"""Queued, temporary and parallel experiments; sweeps; queue management; faults."""

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import cli_command, git, wait_for_command
from helpers import pids, queue_states

import jupyter_exp
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.experiments.exceptions import QueueError
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.experiments.workers import wait
from jupyter_exp.project import Project


def exp_names(root: Path) -> list[str]:
    out = git(root, "for-each-ref", "--format=%(refname)", "refs/exps")
    return sorted(line.rsplit("/", 1)[1] for line in out.splitlines())


def exp_rev(root: Path, name: str) -> str:
    head = git(root, "rev-parse", "HEAD").strip()
    return git(root, "rev-parse", f"refs/exps/{head[:2]}/{head[2:]}/{name}").strip()


def wait_until_running(root: Path, timeout: float = 30) -> str:
    """The name of an entry that a worker runs, once one does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [name for name, state in queue_states(root).items() if state == "running"]
        if running:
            return running[0]
        time.sleep(0.1)
    raise AssertionError(f"no entry started within {timeout} s: {queue_states(root)}")


def slow(root: Path, seconds: float) -> None:
    text = (root / "dvc.yaml").read_text().replace("cmd: python train.py", f"cmd: sleep {seconds} && python train.py")
    (root / "dvc.yaml").write_text(text)
    git(root, "commit", "-qam", "slow")


def test_queue_snapshots_without_touching_the_workspace(ran, cli):
    (ran / "notes.txt").write_text("untracked, not ignored")
    (ran / "staged.txt").write_text("staged, never committed")
    git(ran, "add", "staged.txt")
    before_status = git(ran, "status", "--porcelain")
    before_params = (ran / "params.yaml").read_text()
    out = cli("run", "--queue", "-S", "train.lr=0.5", "-n", "later").stdout
    assert out == "Queued experiment 'later' for future execution.\n"
    assert git(ran, "status", "--porcelain") == before_status
    assert (ran / "params.yaml").read_text() == before_params
    entry = QueueStore(Project(ran)).find("later")
    assert "lr: 0.5" in git(ran, "show", f"{entry.rev}:params.yaml")
    # As DVC: what is staged is in the snapshot, untracked files nobody staged are not.
    assert git(ran, "show", f"{entry.rev}:staged.txt") == "staged, never committed"
    assert "notes.txt" not in git(ran, "ls-tree", "-r", "--name-only", entry.rev).split()
    assert not git(ran, "for-each-ref", "refs/exps")  # nothing DVC would list yet
    # Durable: a new process (a restarted kernel) sees it.
    assert "later  " in cli("queue", "status").stdout


def test_sweeps_queue_one_entry_per_combination(ran):
    entries = jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2", "train.epochs=range(1,4,2)"], name="sw")
    assert [e.name for e in entries] == ["sw-1", "sw-2", "sw-3", "sw-4"]
    params = [git(ran, "show", f"{e.rev}:params.yaml") for e in entries]
    assert "lr: 0.1" in params[0] and "epochs: 1" in params[0]
    assert "lr: 0.2" in params[3] and "epochs: 3" in params[3]
    with pytest.raises(JupyterExpError, match=r"Sweep overrides need the queue; queue them with queue\(\)"):
        jupyter_exp.run(set_params=["train.lr=0.1,0.2"])


def test_run_all_in_parallel_equals_serial(ran, cli):
    jupyter_exp.run(queue=True, params={"train.lr": 0.3}, name="serial")
    cli("run", "--run-all", "-j", "1")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.3,0.4"], name="par")
    out = cli("run", "--run-all", "-j", "2").stdout
    assert "[par-2] Running stage 'train':" in out and "[par-2] Reproduced experiment(s): par-2" in out
    assert "[par-1] Stage 'train' is cached - skipping run" in out  # the same inputs as "serial"
    assert exp_names(ran) == ["par-1", "par-2", "serial"]

    def tree(name: str) -> str:
        return git(ran, "rev-parse", f"{exp_rev(ran, name)}^{{tree}}").strip()

    assert tree("par-1") == tree("serial")
    assert tree("par-2") != tree("serial")
    assert queue_states(ran) == {"serial": "success", "par-1": "success", "par-2": "success"}
    assert not list((ran / ".dvc" / "tmp" / "exps").glob("run-*"))  # run directories removed
    assert git(ran, "status", "--porcelain") == ""
    assert git(ran, "fsck", "--no-progress") == ""


def test_temp_run_leaves_the_workspace_alone(ran):
    head = git(ran, "rev-parse", "HEAD").strip()
    exp = jupyter_exp.run(temp=True, params={"train.lr": 0.9}, name="tmp")
    assert exp.name == "tmp" and exp_rev(ran, "tmp") == exp.rev
    assert git(ran, "status", "--porcelain") == "" and git(ran, "rev-parse", "HEAD").strip() == head
    assert "lr=0.9" not in (ran / "model.bin").read_text()
    assert queue_states(ran) == {}  # a successful temp run leaves no queue entry
    assert not list((ran / ".dvc" / "tmp" / "exps").glob("run-*"))


def test_a_failing_experiment_is_recorded_failed_and_the_others_go_on(ran, cli):
    text = (
        (ran / "train.py")
        .read_text()
        .replace(
            'params = yaml.safe_load(open("params.yaml"))["train"]',
            'params = yaml.safe_load(open("params.yaml"))["train"]\n'
            'if params["lr"] > 1:\n    raise SystemExit("lr too high")',
        )
    )
    (ran / "train.py").write_text(text)
    git(ran, "commit", "-qam", "guard")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.5,5"], name="mix")
    cli("run", "--run-all", "-j", "2")
    assert queue_states(ran) == {"mix-1": "success", "mix-2": "failed"}
    assert exp_names(ran) == ["mix-1"]
    assert "lr too high" in cli("queue", "logs", "mix-2").stdout
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["mix-2", "state"] == "failed" and df.loc["mix-2", "params.train.lr"] == 5
    data = json.loads(cli("show", "--json").stdout)
    failed = next(e for e in data[1]["experiments"] if e["name"] == "mix-2")
    assert failed["executor"]["state"] == "failed"
    assert "lr too high" in failed["revs"][0]["error"]["msg"]
    # apply of the failed entry brings its inputs, to debug
    jupyter_exp.apply("mix-2")
    assert "lr: 5" in (ran / "params.yaml").read_text()


def test_show_lists_queued_entries(ran):
    jupyter_exp.run(queue=True, params={"train.lr": 0.7}, name="waiting")
    df = jupyter_exp.show().set_index("experiment")
    assert df.loc["waiting", "state"] == "queued" and df.loc["waiting", "params.train.lr"] == 0.7
    assert pd_isna(df.loc["waiting", "metrics.score"])


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_a_git_ignored_dependency_names_the_file_and_suggests_copy(ran, cli):
    (ran / "secret.cfg").write_text("k=1\n")
    (ran / ".gitignore").write_text((ran / ".gitignore").read_text() + "/secret.cfg\n")
    (ran / "dvc.yaml").write_text(
        (ran / "dvc.yaml").read_text()
        + "  extra:\n    cmd: cp secret.cfg copied.cfg\n    deps:\n    - secret.cfg\n    outs:\n    - copied.cfg\n"
    )
    git(ran, "add", "-A")
    git(ran, "commit", "-qm", "extra")
    with pytest.raises(
        JupyterExpError,
        match=r"Dependency 'secret.cfg' of stage 'extra' does not exist.*git ignores it"
        r".*queue again with copy_paths=\['secret.cfg'\]\.$",
    ):
        jupyter_exp.run_temp(name="no-copy")
    assert queue_states(ran) == {"no-copy": "failed"}
    proc = cli("run", "--temp", "-n", "no-copy-cli", check=False)  # the command line's words
    assert proc.returncode == 1 and proc.stderr.strip().endswith("queue again with -C secret.cfg.")
    exp = jupyter_exp.run(temp=True, name="with-copy", copy_paths=["secret.cfg"])
    assert exp_rev(ran, "with-copy") == exp.rev


def test_an_unwritable_cache_fails_that_experiment_only(ran):
    def model_md5(lr: float) -> str:
        return hashlib.md5(f"model lr={lr} epochs=3\n".encode()).hexdigest()

    doomed, fine = 0.25, 0.35
    assert model_md5(doomed)[:2] != model_md5(fine)[:2]
    blocker = ran / ".dvc/cache/files/md5" / model_md5(doomed)[:2]
    assert not blocker.exists()
    blocker.write_text("a file where the cache needs a directory")
    jupyter_exp.run(queue=True, set_params=[f"train.lr={doomed},{fine}"], name="disk")
    jupyter_exp.run(run_all=True, jobs=2)
    assert queue_states(ran) == {"disk-1": "failed", "disk-2": "success"}
    entry = QueueStore(Project(ran)).find("disk-1")
    assert entry.error.startswith("Cannot write to the cache")


def test_ctrl_c_during_run_all_puts_entries_back(ran):
    slow(ran, 37)  # a duration no other test uses: the process check below looks for it
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2"], name="long")
    proc = subprocess.Popen(
        [*cli_command(), "run", "--run-all", "-j", "2"],
        cwd=ran,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(pids(running="sleep 37")) < 2:  # both stage commands run
        assert time.monotonic() < deadline, queue_states(ran)
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.startswith("ERROR: Interrupted; 2 experiment(s) are in the queue")
    assert queue_states(ran) == {"long-1": "queued", "long-2": "queued"}
    assert not list((ran / ".dvc" / "tmp" / "exps").glob("run-*"))
    assert not pids(running="sleep 37")


def test_background_workers_from_the_shell(ran, cli):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3"], name="bg")
    started = time.monotonic()
    out = cli("queue", "start", "-j", "2").stdout
    assert "detached process" in out and time.monotonic() - started < 5
    assert wait(Project(ran), timeout=60)
    assert queue_states(ran) == {"bg-1": "success", "bg-2": "success", "bg-3": "success"}
    assert exp_names(ran) == ["bg-1", "bg-2", "bg-3"]


def test_two_starts_at_once_run_each_entry_once(ran):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3,0.4"], name="twice")
    procs = [subprocess.Popen([*cli_command(), "queue", "start", "-j", "2"], cwd=ran) for _ in range(2)]
    for proc in procs:
        proc.wait(timeout=30)
    assert wait(Project(ran), timeout=90)
    assert set(queue_states(ran).values()) == {"success"}
    store = QueueStore(Project(ran))
    for entry in store.entries():
        assert store.log_path(entry.id).read_text().count("Running stage 'train'") == 1


def test_a_killed_worker_is_reported_failed_and_can_run_again(ran, cli):
    slow(ran, 38)
    jupyter_exp.run(queue=True, params={"train.lr": 0.6}, name="victim")
    cli("queue", "start")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not QueueStore(Project(ran)).find("victim").pgid:
        time.sleep(0.1)  # running, its stage command started
    entry = QueueStore(Project(ran)).find("victim")
    os.kill(entry.pid, signal.SIGKILL)
    if entry.pgid:
        os.killpg(entry.pgid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while "Failed" not in (status := cli("queue", "status").stdout):  # the death is noticed
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert "victim" in status and "Failed" in status and "worker died" in status
    assert "Running stage 'train'" in cli("queue", "logs", "victim").stdout  # the log is kept
    assert jupyter_exp.queue_retry("victim") == ["victim"]
    assert queue_states(ran) == {"victim": "queued"}
    assert git(ran, "fsck", "--no-progress") == ""
    assert not exp_names(ran)  # no half experiment


def test_queue_remove_kill_and_status(ran, cli):
    slow(ran, 39)
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2"], name="rm")
    cli("queue", "start")
    running = wait_until_running(ran)
    proc = cli("queue", "remove", running, check=False)
    assert proc.returncode == 1
    assert f"Experiment '{running}' is running; kill it first" in proc.stderr
    while not QueueStore(Project(ran)).find(running).pgid:
        time.sleep(0.05)
    cli("queue", "kill", running)
    cli("queue", "stop")
    assert wait(Project(ran), timeout=60)
    assert queue_states(ran)[running] == "failed"
    assert cli("queue", "remove", "--failed").stdout.startswith("Removed ")
    assert running not in queue_states(ran)
    with pytest.raises(QueueError, match="No queued experiment 'ghost'"):
        jupyter_exp.queue_remove("ghost")


def test_kernel_queue_start_returns_at_once(ran):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2"], name="nb")
    workers = jupyter_exp.queue_start(2, threads=True)
    assert workers[0].kind == "thread"
    status = jupyter_exp.queue_status()
    assert len(status.workers) == 1
    assert wait(Project(ran), timeout=60)
    assert queue_states(ran) == {"nb-1": "success", "nb-2": "success"}
    assert "Workers: none" in str(jupyter_exp.queue_status())


def test_logs_follow_stop_kill_and_remove_queue(ran, cli):
    slow(ran, 36)
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3"], name="lf")
    cli("queue", "start")
    running = wait_until_running(ran)
    # logs -f follows the running experiment until its run ends
    follower = subprocess.Popen(
        [*cli_command(), "queue", "logs", running, "-f"], cwd=ran, stdout=subprocess.PIPE, text=True
    )
    wait_for_command(ran, "sleep 36")  # the stage runs: stop --kill interrupts it
    assert follower.poll() is None  # still following
    # stop --kill: the running experiment is interrupted and goes back to the queue
    assert "Asked 1 worker(s) to stop" in cli("queue", "stop", "--kill").stdout
    out, _ = follower.communicate(timeout=30)
    assert "Running stage 'train'" in out and "Interrupted; the experiment is back in the queue." in out
    assert wait(Project(ran), timeout=30)
    assert set(queue_states(ran).values()) == {"queued"}
    # Its stage's processes get the signals as a group and are gone moments after (a
    # SIGKILLed process lingers until the kernel has torn it down).
    deadline = time.monotonic() + 10
    while pids(running="sleep 36", inside=ran) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pids(running="sleep 36", inside=ran)
    # exp remove --queue empties the queue
    assert cli("remove", "--queue").stdout.startswith("Removed experiments: ")  # DVC's line
    assert queue_states(ran) == {}


def test_exp_remove_takes_the_name_of_a_queued_entry(ran, cli):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.4"], name="waiting")
    jupyter_exp.run(params={"train.lr": 0.5}, name="done")
    assert cli("remove", "waiting", "done").returncode == 0
    assert jupyter_exp.queue_status().entries == []
    assert git(ran, "for-each-ref", "refs/exps") == ""
    proc = cli("remove", "waiting", check=False)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith(
        "ERROR: Unknown experiment 'waiting'"
    )


def test_run_all_on_a_local_dask_cluster(ran):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3"], name="dk")
    outcomes = jupyter_exp.run(run_all=True, jobs=2, executor="dask")
    assert sorted((o.name, o.state) for o in outcomes) == [
        ("dk-1", "success"),
        ("dk-2", "success"),
        ("dk-3", "success"),
    ]
    entries = QueueStore(Project(ran)).entries()
    assert {e.pid for e in entries} - {os.getpid()} == {e.pid for e in entries}  # ran in Dask's worker processes
    head = git(ran, "rev-parse", "HEAD").strip()
    for i, lr in enumerate((0.1, 0.2, 0.3), start=1):
        assert f"lr: {lr}" in git(ran, "show", f"refs/exps/{head[:2]}/{head[2:]}/dk-{i}:params.yaml")
    assert git(ran, "status", "--porcelain") == ""  # the workspace untouched


def test_queue_start_on_dask_from_the_shell(ran, cli):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.4,0.5"], name="bg")
    out = cli("queue", "start", "-j", "2", "--executor", "dask").stdout
    assert "running 2 experiment(s) at a time on dask" in out
    assert jupyter_exp.queue_wait(timeout=180)
    assert queue_states(ran) == {"bg-1": "success", "bg-2": "success"}


def test_dask_executor_errors_are_one_line(ran, cli):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.4"], name="nowhere")
    proc = cli("run", "--run-all", "--executor", "dask://127.0.0.1:9", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("ERROR: Cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert proc.stderr.strip().endswith("or use --executor dask for a local cluster.")
    proc = cli("queue", "start", "--executor", "spark", check=False)
    assert proc.stderr.strip() == "ERROR: Unknown executor 'spark'; use local, dask or dask://HOST:PORT."
    proc = cli("run", "--executor", "dask", check=False)
    assert proc.stderr.strip() == "ERROR: --executor applies to --run-all (and `queue start`); add --run-all."
    assert queue_states(ran) == {"nowhere": "queued"}  # nothing ran, nothing lost


def test_stopping_a_dask_batch(ran):
    (ran / "train.py").write_text("import time\ntime.sleep(30)\n" + (ran / "train.py").read_text())
    git(ran, "commit", "-qam", "slow")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3"], name="st")
    jupyter_exp.queue_start(1, threads=True, executor="dask")
    deadline = time.monotonic() + 60
    while "running" not in queue_states(ran).values():
        assert time.monotonic() < deadline, queue_states(ran)
        time.sleep(0.1)
    jupyter_exp.queue_stop()  # drain: the two unclaimed entries are not started
    while not any(e.pgid for e in QueueStore(Project(ran)).entries()):  # its stage runs, recorded
        assert time.monotonic() < deadline, queue_states(ran)
        time.sleep(0.02)
    report = jupyter_exp.queue_stop(kill=True)  # and the running one is stopped on its worker
    assert len(report.stopped) == 1 and report.stopped[0][1].startswith("stopped with SIGINT after ")
    assert jupyter_exp.queue_wait(timeout=60)
    # As with local workers, `stop --kill` puts what it stopped back in the queue.
    assert sorted(queue_states(ran).values()) == ["queued", "queued", "queued"]
    store = QueueStore(Project(ran))
    (stopped,) = [e for e in store.entries() if store.log_path(e.id).exists()]
    log = store.log_path(stopped.id).read_text()
    assert "Running stage 'train'" in log and "Interrupted; the experiment is back in the queue." in log
    assert git(ran, "for-each-ref", "refs/exps") == ""
