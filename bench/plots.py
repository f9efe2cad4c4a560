"""``plots diff`` and ``plots trends`` of N experiments x S steps from the CLI, side by side with DVC.

    python bench/plots.py [--experiments 10] [--steps 1000] [--repeat 5] [--no-dvc] [--quick]

One project, read by both tools: a stage writes DVCLive's layout (two metrics over S
steps in ``dvclive/plots/metrics/*.tsv``, the stage's ``plots`` output with ``x: step``), N
experiments are queued as a sweep and run. Each command runs once to warm the file
system (and our caches), then ``--repeat`` times; the table gives the median and
min-max in milliseconds and the ratio DVC / ours, and the CPU milliseconds of each
command (itself and the git processes it waits for): on a shared machine the wall
time waits for other work, the CPU time does not (the load average is printed). Both run with
byte code written (``PYTHONDONTWRITEBYTECODE`` dropped). ``--quick`` is small and asserts
nothing (the tests run it to keep it working).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dvc_env import dvc_executable  # noqa: E402
from run import fmt, ours_cmd, run_timed  # noqa: E402

TRAIN = """import os, yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
os.makedirs("dvclive/plots/metrics", exist_ok=True)
with open("dvclive/plots/metrics/acc.tsv", "w") as f:
    f.write("step\\tacc\\n" + "".join(f"{{i}}\\t{{1 - 1 / (1 + lr * i):.6f}}\\n" for i in range({steps})))
with open("dvclive/plots/metrics/loss.tsv", "w") as f:
    f.write("step\\tloss\\n" + "".join(f"{{i}}\\t{{1 / (1 + lr * i):.6f}}\\n" for i in range({steps})))
"""
DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [lr]
    plots:
    - dvclive/plots/metrics:
        x: step
        cache: false
"""


def make_project(root: Path, experiments: int, steps: int) -> list[str]:
    """The project and its experiments; returns their names."""
    root.mkdir(parents=True)
    for args in (["init", "-q"], ["config", "user.email", "b@example.com"], ["config", "user.name", "B"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    (root / "params.yaml").write_text("lr: 0.1\n")
    (root / "train.py").write_text(TRAIN.format(steps=steps))
    (root / "dvc.yaml").write_text(DVC_YAML)
    quiet = {"cwd": root, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run(ours_cmd("init", space="dvc"), **quiet)
    subprocess.run(ours_cmd("repro"), **quiet)
    subprocess.run(["git", "add", "-A"], **quiet)
    subprocess.run(["git", "commit", "-qm", "baseline"], **quiet)
    sweep = ",".join(f"{(i + 1) / 100:g}" for i in range(experiments))
    subprocess.run(ours_cmd("run", "--queue", "-n", "exp", "-S", f"lr={sweep}"), **quiet)
    subprocess.run(ours_cmd("run", "--run-all", "-j", "2"), **quiet)
    return [f"exp-{i + 1}" for i in range(experiments)]


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Wall and CPU milliseconds of one command (the CPU of the processes it waited for included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, _ = run_timed(cmd, cwd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-dvc", action="store_true", help="ours only")
    parser.add_argument("--quick", action="store_true", help="3 experiments x 50 steps, once")
    args = parser.parse_args(argv)
    if args.quick:
        args.experiments, args.steps, args.repeat = 3, 50, 1
    dvc = None if args.no_dvc else dvc_executable()
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    # Warm as an installed tool is: byte code kept (an environment that forbids writing it
    # would make every run compile the modules it imports again, for both tools).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    work = Path(tempfile.mkdtemp(prefix="jx-bench-plots-"))
    try:
        root = work / "p"
        names = make_project(root, args.experiments, args.steps)
        out = str(work / "out")
        size = f"{len(names)} exps x {args.steps} steps"
        diff = ["plots", "diff", *names]
        # Each workload: our command, and DVC's that reads the same (None: DVC has none).
        workloads = {
            f"plots diff, {size}, HTML page (CLI, warm)": (diff, diff),
            f"plots diff, {size}, --json (CLI, warm)": ([*diff, "--json"], [*diff, "--json"]),
            # Trends read every history whatever dvc.yaml declares; DVC's equivalent names them.
            f"plots trends, {size}, --json (CLI, warm; DVC: plots diff --targets -x step)": (
                ["plots", "trends", *names, "--json"],
                [*diff, "--targets", "dvclive/plots/metrics", "-x", "step", "--json"],
            ),
        }
        print(f"plots benchmarks ({len(names)} experiments x {args.steps} steps; median (min-max) ms)\n")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
        print("| workload | jupyter_exp | DVC | DVC / ours | CPU ms: ours, DVC |")
        print("| --- | --- | --- | --- | --- |")
        for title, (verb, dvc_verb) in workloads.items():
            ours_times, dvc_times, ours_cpu, dvc_cpu = [], [], [], []
            for i in range(args.repeat + 1):  # the first run warms up
                t, cpu = timed(ours_cmd(*verb, "-o", out), root, env)
                ours_times += [t] if i else []
                ours_cpu += [cpu] if i else []
                if dvc is not None:
                    t, cpu = timed([str(dvc), *dvc_verb, "-o", out], root, env)
                    dvc_times += [t] if i else []
                    dvc_cpu += [cpu] if i else []
            ratio = "-"
            if dvc_times:
                ratio = f"{sorted(dvc_times)[len(dvc_times) // 2] / sorted(ours_times)[len(ours_times) // 2]:.1f}x"
            cpu = f"{median(ours_cpu):.0f}, {median(dvc_cpu):.0f}" if dvc_cpu else f"{median(ours_cpu):.0f}, -"
            print(f"| {title} | {fmt(ours_times)} | {fmt(dvc_times)} | {ratio} | {cpu} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
