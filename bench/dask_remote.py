"""Queued experiments on Dask workers without a shared file system, against the local
executor, printed as one table.

    python bench/dask_remote.py [--size N] [--repeat N] [--quick] [--scheduler HOST:PORT]

Builds a project of ours (one tracked data file, a trivial ``python`` stage, params),
pushes its git history to a bare remote and its data to a DVC remote (a local
directory), starts a ``dask scheduler`` and two single-threaded ``dask worker``
processes (each with a worker home of its own; the cluster is started once and used by
every batch, as a team's cluster would be), then times, as the commands a user types:

- ``--size`` queued experiments, ``jupyter exp run --run-all -j 2`` (local threads);
- the same on the two workers, ``--executor dask://HOST:PORT --no-shared-fs`` (each
  experiment a self-contained task: git bundle, data fetched from and outputs pushed
  to the DVC remote, result recorded here);
- one queued experiment each way: the difference is what a batch costs beyond the
  local one (importing Dask, connecting, one task's round trips); what each further task
  adds is given for both, and the workers' own account of a task (``Task times on the worker`` in each entry's log:
  ``prepare`` = unbundle + data fetch, ``send`` = output push + result bundle) is given
  as medians.

``--quick`` shrinks everything so CI can keep the script alive; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN = (
    "import json, yaml\n"
    "p = yaml.safe_load(open('params.yaml'))\n"
    "rows = open('data/table.csv').read().count('\\n')\n"
    "open('model.bin', 'w').write(f\"model {p['lr']} {rows}\\n\")\n"
    "json.dump({'score': p['lr'] * rows}, open('metrics.json', 'w'))\n"
)
DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py, data/table.csv]
    params: [lr]
    outs: [model.bin]
    metrics:
    - metrics.json:
        cache: false
"""


def _exp() -> list[str]:
    return [sys.executable, "-m", "jupyter_exp.cli"]


def _dvc() -> list[str]:
    return [sys.executable, "-m", "jupyter_exp.cli.dvc"]


def _run(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_project(root: Path, remotes: Path) -> Path:
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "bench@example.com")
    _git(root, "config", "user.name", "Bench")
    (root / "data").mkdir()
    (root / "data" / "table.csv").write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(100)))
    (root / "params.yaml").write_text("lr: 0.1\n")
    (root / "train.py").write_text(TRAIN)
    (root / "dvc.yaml").write_text(DVC_YAML)
    _run([*_dvc(), "init"], root)
    _run([*_dvc(), "add", "data/table.csv"], root)
    _run([*_dvc(), "remote", "add", "-d", "store", str(remotes / f"{root.name}-store")], root)
    _run([*_dvc(), "repro"], root)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "baseline")
    _run([*_dvc(), "push"], root)
    origin = remotes / f"{root.name}.git"
    _git(remotes, "init", "-q", "--bare", str(origin))
    _git(root, "remote", "add", "origin", str(origin))
    _git(root, "push", "-q", "origin", "main")
    return root


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_cluster(work: Path) -> tuple[str, list[subprocess.Popen]]:
    port = _free_port()
    address = f"127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
            + ["--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    for name in ("w1", "w2"):
        env = dict(os.environ, JUPYTER_EXP_WORKER_HOME=str(work / name))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://{address}", "--nthreads", "1"]
                + ["--no-nanny", "--no-dashboard", "--name", name, "--local-directory", str(work / name / "dask")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        )
    from distributed import Client

    deadline = time.monotonic() + 60
    with Client(address, timeout="30s") as client:
        while len(client.scheduler_info()["workers"]) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("the Dask workers did not start")
            time.sleep(0.1)
    return address, procs


def batch(root: Path, size: int, executor: list[str]) -> float:
    lrs = ",".join(str(round(0.1 * (i + 1), 2)) for i in range(size))
    _run([*_exp(), "run", "--queue", "-S", f"lr={lrs}"], root)
    return _run([*_exp(), "run", "--run-all", "-j", "2", *executor], root)


def worker_times(root: Path) -> dict[str, float]:
    """Medians of the workers' own per-task times, from the entries' logs."""
    found: dict[str, list[float]] = {}
    for log in (root / ".dvc" / "tmp" / "jupyter_exp" / "queue").glob("*.log"):
        for name, value in re.findall(
            r"(\w+) ([\d.]+) s", "".join(re.findall(r"Task times on the worker: (.*)", log.read_text()))
        ):
            found.setdefault(name, []).append(float(value))
    return {name: statistics.median(values) for name, values in found.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16, help="queued experiments per batch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 experiments, one repeat")
    parser.add_argument("--scheduler", help="HOST:PORT of a running cluster to use instead of starting one")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeat = 2, 1
    work = Path(tempfile.mkdtemp(prefix="jupyter-exp-dask-bench-"))
    address, procs = (args.scheduler, []) if args.scheduler else start_cluster(work)
    remote = ["--executor", f"dask://{address}", "--no-shared-fs"]
    rows: dict[str, list[float]] = {}
    try:
        remotes = work / "remotes"
        remotes.mkdir()
        for i in range(args.repeat):
            local = make_project(work / f"local-{i}", remotes)
            far = make_project(work / f"far-{i}", remotes)
            # Alternating order, so neither side always runs on a warmer machine.
            pairs = [("local", local, []), ("dask", far, remote)]
            for label, root, executor in pairs if i % 2 == 0 else pairs[::-1]:
                rows.setdefault(f"{args.size} queued, -j 2, {label}", []).append(batch(root, args.size, executor))
            for label, root, executor in pairs:
                rows.setdefault(f"1 queued, {label}", []).append(batch(root, 1, executor))
        times = worker_times(work / "far-0")
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in rows.items()}
    print(f"Dask without a shared file system, {os.cpu_count()} CPUs, median seconds of {args.repeat} run(s)")
    print(f"{'workload':<52} {'seconds':>8}")
    for name, value in median.items():
        print(f"{name:<52} {value:>8.2f}")
    many = f"{args.size} queued, -j 2"
    print(f"{'ratio dask / local, ' + many:<52} {median[many + ', dask'] / median[many + ', local']:>7.2f}x")
    overhead = median["1 queued, dask"] - median["1 queued, local"]
    print(f"{'overhead of a batch of 1 (dask - local)':<52} {overhead:>8.2f}")
    for label in ("local", "dask"):
        extra = (median[f"{many}, {label}"] - median[f"1 queued, {label}"]) / (args.size - 1)
        print(f"{'each further task, -j 2, ' + label:<52} {extra:>8.2f}")
    for name, value in times.items():
        print(f"{'  on the worker, median ' + name:<52} {value:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
