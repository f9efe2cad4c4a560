"""Dask workers without a shared file system (issue 18): a real ``dask scheduler`` and two
``dask worker`` processes, each in a mount namespace of its own where the directory
holding the projects is hidden under an empty tmpfs (a path of the submitting side
that leaked into a task fails the run), with its own HOME and worker home. They reach
a bare git remote and a DVC remote (a local directory) only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO_ROOT, cli_command, git, jdvc_command
from remote_fixtures import S3_ENV, add_s3_remote, s3_bucket, s3_objects, s3_server  # noqa: F401

TRAIN = """\
import json, os, sys, time
import yaml
p = yaml.safe_load(open("params.yaml"))
rows = open("data/table.csv").read().count("\\n")
for step in range(p["steps"]):
    print(f"step {step} of {os.environ.get('DVC_EXP_NAME')}", flush=True)
    time.sleep(p["pause"])
open("model.bin", "w").write(f"model lr={p['lr']} rows={rows}\\n")
json.dump({"score": p["lr"] * rows, "host": os.path.exists(sys.argv[1])}, open("metrics.json", "w"))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    """The scheduler and the workers; ``site`` is what the workers cannot see."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.site = base / "site"
        self.site.mkdir()
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        self.procs: dict[str, subprocess.Popen] = {}
        log = open(base / "scheduler.log", "w")  # noqa: SIM115 - lives as long as the cluster
        self.procs["scheduler"] = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
            + ["--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=base,
        )
        for name in ("w1", "w2"):
            self.start_worker(name)
        self.wait_workers(2)

    def start_worker(self, name: str) -> None:
        home = self.base / name
        (home / "home").mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_EXP_WORKER", "DASK_", "GIT_", "XDG_"))}
        env.update(
            S3_ENV,  # a worker's own credentials for the DVC remote (the task carries none)
            HOME=str(home / "home"),
            JUPYTER_EXP_WORKER_HOME=str(home / "cache"),
            JUPYTER_EXP_KILL_GRACE="0.5",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        )
        worker = (
            f"mount -t tmpfs jupyter-exp-hidden {self.site} && exec {sys.executable} -m distributed.cli.dask_worker "
            f"tcp://{self.address} --nthreads 1 --no-nanny --name {name} --no-dashboard --local-directory {home}/dask"
        )
        log = open(self.base / f"{name}.log", "w")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", worker],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=home,
            env=env,
            start_new_session=True,
        )

    def workers(self) -> int:
        from distributed import Client

        with Client(self.address, timeout="10s") as client:
            return len(client.scheduler_info()["workers"])

    def wait_workers(self, count: int) -> None:
        _wait(lambda: self.workers() == count, 60, f"{count} Dask workers")

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL) if proc.pid != self.procs["scheduler"].pid else proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    found = Cluster(tmp_path_factory.mktemp("dask"))
    yield found
    found.close()


@pytest.fixture(scope="module")
def template(cluster: Cluster, dvc_exe: Path) -> Path:
    """A project made by DVC in the hidden site, its data pushed to a DVC remote (a
    directory outside the site); each test works on a copy (DVC's start is slow)."""
    root = cluster.site / "template"
    root.mkdir()

    def dvc(*args: str) -> None:
        env = dict(os.environ, DVC_NO_ANALYTICS="1")
        subprocess.run([str(dvc_exe), *args], cwd=root, env=env, check=True, capture_output=True)

    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    (root / "data").mkdir()
    (root / "data" / "table.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    (root / "params.yaml").write_text("lr: 0.1\nsteps: 1\npause: 0.0\n")
    (root / "train.py").write_text(TRAIN)
    # The stage is told a path of the submitting side: it records whether it sees it.
    (root / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: python train.py {root}\n    deps: [train.py, data/table.csv]\n"
        "    params: [lr, steps, pause]\n    outs: [model.bin]\n"
        "    metrics:\n    - metrics.json:\n        cache: false\n"
    )
    dvc("init", "-q")
    dvc("add", "-q", "data/table.csv")
    dvc("remote", "add", "-d", "store", str(cluster.base / "store"))
    dvc("repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    dvc("push", "-q")
    return root


@pytest.fixture
def remote_project(cluster: Cluster, template: Path, request, monkeypatch) -> Path:
    """A copy of the template with a bare git remote of its own (outside the site)
    holding its history."""
    name = request.node.name
    root = cluster.site / name
    shutil.copytree(template, root, ignore=lambda folder, _names: ["tmp"] if folder.endswith(".dvc") else [])
    origin = cluster.base / f"{name}.git"
    git(cluster.base, "init", "-q", "--bare", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main")
    monkeypatch.chdir(root)
    return root


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*cli_command(), *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"jupyter exp {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def entries(root: Path) -> dict[str, dict]:
    folder = root / ".dvc" / "tmp" / "jupyter_exp" / "queue"
    found = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    return {e["name"]: e for e in found}


def log_of(root: Path, name: str) -> str:
    entry = entries(root)[name]
    path = root / ".dvc" / "tmp" / "jupyter_exp" / "queue" / f"{entry['id']}.log"
    return path.read_text() if path.exists() else ""


def shown(root: Path) -> dict[str, tuple[dict, dict]]:
    """Each experiment's params and metrics, by name, as `exp show --json` gives them."""
    rows = json.loads(cli("show", "--json").stdout)
    found = {}
    for row in rows:
        for exp in row.get("experiments") or []:
            data = exp["revs"][0]["data"]
            found[exp["name"]] = (data["params"]["params.yaml"]["data"], data["metrics"]["metrics.json"]["data"])
    return found


def exp_refs(root: Path, name: str) -> list[str]:
    return [r for r in git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split() if r.endswith("/" + name)]


def test_queued_experiments_run_on_workers_that_cannot_see_the_project(cluster: Cluster, remote_project: Path):
    root = remote_project
    cli("run", "--queue", "-S", "lr=0.5,1.5,2.5,3.5", "-n", "far")
    out = cli("run", "--run-all", "-j", "2", "--executor", f"dask://{cluster.address}")
    assert "far-1: success" in out.stdout and "far-4: success" in out.stdout, out.stdout
    # The same entries run locally record the same params and metrics.
    cli("run", "--queue", "-S", "lr=0.5,1.5,2.5,3.5", "-n", "near")
    cli("run", "--run-all", "-j", "2")
    table = shown(root)
    for i in range(1, 5):
        far, near = table[f"far-{i}"], table[f"near-{i}"]
        assert far[0] == near[0]
        assert far[1]["score"] == near[1]["score"] == [0.5, 1.5, 2.5, 3.5][i - 1] * 4
        assert far[1]["host"] is False and near[1]["host"] is True  # the worker never saw the project
    log = log_of(root, "far-2")
    assert "on Dask worker tcp://127.0.0.1:" in log and "step 0 of far-2" in log and "Reproduced" in log
    # Outputs came back through the DVC remote: `apply` finds them in this cache.
    cli("apply", "far-3")
    assert (root / "model.bin").read_text() == "model lr=2.5 rows=4\n"
    # The workers keep their object store and cache; no scratch directory is left.
    for name in ("w1", "w2"):
        cache = cluster.base / name / "cache"
        assert not list((cache / "tasks").iterdir())
    assert any((cluster.base / n / "cache" / "cache" / "files").is_dir() for n in ("w1", "w2"))


def test_data_through_an_s3_remote(cluster: Cluster, remote_project: Path, s3_bucket):  # noqa: F811
    root = remote_project
    endpoint, bucket, client = s3_bucket

    def jdvc(*args: str) -> None:
        subprocess.run([*jdvc_command(), *args], check=True, capture_output=True, timeout=60)

    add_s3_remote(jdvc, "s3", endpoint, bucket)
    jdvc("push")
    git(root, "commit", "-qam", "data on S3")
    git(root, "push", "-q", "origin", "main")
    cli("run", "--queue", "-S", "lr=4,5", "-n", "cloud")
    out = cli("run", "--run-all", "-j", "2", "--executor", f"dask://{cluster.address}", "--no-shared-fs").stdout
    assert "cloud-1: success" in out and "cloud-2: success" in out, out
    # (The data itself may come from the workers' caches: earlier tests fetched the same.)
    lock = yaml.safe_load(git(root, "show", f"{exp_refs(root, 'cloud-2')[0]}:dvc.lock"))
    (model,) = [o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "model.bin"]
    assert f"{model[:2]}/{model[2:]}" in s3_objects(client, bucket)  # the worker pushed it
    cli("apply", "cloud-2")
    assert (root / "model.bin").read_text() == "model lr=5 rows=4\n"


def test_submitter_restart_collects_and_logs_stream(cluster: Cluster, remote_project: Path):
    root = remote_project
    cli("run", "--queue", "-S", "lr=1,2", "-S", "steps=12", "-S", "pause=0.25", "-n", "slow")
    submitter = subprocess.Popen(
        [*cli_command(), "run", "--run-all", "-j", "2", "--executor", f"dask://{cluster.address}", "--no-shared-fs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Logs arrive while the experiments run.
    _wait(lambda: all("step 1 of" in log_of(root, n) for n in ("slow-1", "slow-2")), 40, "streamed logs")
    assert {e["state"] for e in entries(root).values()} == {"running"}
    submitter.kill()  # the submitting process dies (a kernel restart)
    submitter.wait()
    # Its entries are reported failed, saying how to take them up again; one is retried
    # before the submitter comes back.
    assert "Failed" in cli("queue", "status").stdout
    address = cluster.address.removeprefix("tcp://")
    assert entries(root)["slow-2"]["error"] == (
        f"the process following its run on the Dask scheduler at tcp://{address} ended; "
        f"`jupyter exp queue start --executor dask://{address}` takes it up again (or records how it ended)"
    )
    cli("queue", "retry", "slow-1")
    time.sleep(3.5)  # meanwhile the tasks finish on their workers
    out = cli("run", "--run-all", "--executor", f"dask://{cluster.address}")
    assert "slow-1: success" in out.stdout and "slow-2: success" in out.stdout, out.stdout
    assert {e["state"] for e in entries(root).values()} == {"success"}
    assert "again (its submitter restarted)" in log_of(root, "slow-2")  # collected, not run again
    assert log_of(root, "slow-2").count("Running experiment 'slow-2'") == 1
    first = log_of(root, "slow-1")  # the retried one ran anew; the earlier result was discarded
    assert "was retried; it is stopped and its result discarded" in first
    assert first.count("Running experiment 'slow-1'") == 2
    for name in ("slow-1", "slow-2"):
        assert len(exp_refs(root, name)) == 1
    table = shown(root)
    assert table["slow-2"][1]["score"] == 8


def test_checkpoint_chain_and_progress_come_back(cluster: Cluster, monkeypatch):
    import jupyter_exp
    from jupyter_exp.experiments.checkpoints import read_progress
    from jupyter_exp.project import Project

    root = cluster.site / "checkpoints"
    shutil.copytree(FIXTURES / "checkpoints", root)
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    jupyter_exp.init(str(root))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "checkpoints")  # no git remote, no DVC remote: the history travels
    cli("run", "--queue", "-S", "train.epochs=4", "-n", "chain")
    out = cli("run", "--run-all", "--executor", f"dask://{cluster.address}", "--no-shared-fs").stdout
    assert "chain: success" in out, out
    (ref,) = exp_refs(root, "chain")
    assert len(git(root, "rev-list", "--first-parent", ref, "^main").split()) == 4  # a commit per step
    assert json.loads(git(root, "show", f"{ref}:dvclive/metrics.json"))["step"] == 3
    (event,) = [e for e in read_progress(Project(root)) if e["experiment"] == "chain"]
    assert event["step"] == 4 and event["state"] != "running"


def test_stop_kill_interrupts_the_remote_stage(cluster: Cluster, remote_project: Path):
    root = remote_project
    cli("run", "--queue", "-S", "steps=100", "-S", "pause=0.2", "-n", "halted")
    cli("queue", "start", "--executor", f"dask://{cluster.address}")
    _wait(lambda: "step 1 of halted" in log_of(root, "halted"), 40, "the remote stage")
    began = time.monotonic()
    cli("queue", "stop", "--kill")  # from another process than the one that submitted it
    _wait(lambda: entries(root)["halted"]["state"] == "queued", 30, "the entry back in the queue")
    assert time.monotonic() - began < 15  # stopped, not run to its end (20 s)
    log = log_of(root, "halted")
    assert "Interrupted; the experiment is back in the queue." in log
    assert "step 99" not in log and exp_refs(root, "halted") == []
    assert cli("queue", "status").returncode == 0


def test_a_killed_worker_fails_its_entry_and_retry_records_it_once(cluster: Cluster, remote_project: Path):
    root = remote_project
    cli("run", "--queue", "-S", "steps=40", "-S", "pause=0.2", "-n", "doomed")
    submitter = subprocess.Popen(
        [*cli_command(), "run", "--run-all", "--executor", f"dask://{cluster.address}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait(lambda: "step 2 of" in log_of(root, "doomed"), 40, "the run to start")
    worker = entries(root)["doomed"]["worker"].split()[-1]
    victim = next(n for n in ("w1", "w2") if _runs_on(cluster, n, worker))
    cluster.kill(victim)
    out, _ = submitter.communicate(timeout=60)
    entry = entries(root)["doomed"]
    assert entry["state"] == "failed" and "Dask worker died" in entry["error"], out
    assert "step 2 of doomed" in log_of(root, "doomed")  # the log so far is kept
    assert exp_refs(root, "doomed") == []
    cli("queue", "retry", "doomed")
    cli("run", "--queue", "-S", "lr=7", "-n", "after")
    out = cli("run", "--run-all", "--executor", f"dask://{cluster.address}").stdout
    assert "doomed: success" in out and "after: success" in out, out
    assert len(exp_refs(root, "doomed")) == 1
    assert shown(root)["after"][1]["score"] == 28


def _runs_on(cluster: Cluster, name: str, address: str) -> bool:
    """Whether worker ``name`` is the one at ``address`` (from its log)."""
    return address in (cluster.base / f"{name}.log").read_text()


def test_the_benchmark_script_keeps_working(cluster: Cluster):
    """bench/dask_remote.py --quick prints its table (no times asserted), on this cluster."""
    bench = REPO_ROOT / "bench" / "dask_remote.py"
    args = [sys.executable, str(bench), "--quick", "--scheduler", cluster.address]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line.rsplit(None, 1)[0] for line in proc.stdout.splitlines()[2:]]
    assert rows[:4] == ["2 queued, -j 2, local", "2 queued, -j 2, dask", "1 queued, local", "1 queued, dask"]
    assert "  on the worker, median prepare" in rows and "each further task, -j 2, dask" in rows
