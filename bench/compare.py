"""N-way compare of N experiments from the CLI, warm: ``jupyter-exp diff e0 e1 ... eN-1``.

    python bench/compare.py [--experiments 10] [--repeat 7] [--vs-dvc] [--quick]

The project is bench/run.py's (a 2-stage pipeline, nested params), with N experiment
commits written in one ``git fast-import`` (each its own params, metrics and lock). The
command runs once to warm the file system, then ``--repeat`` times; the row gives the
median and min-max in milliseconds and the peak memory. DVC has no N-way compare: with
``--vs-dvc`` the other column is its nearest, ``dvc exp show --only-changed --csv``
(the columns that differ among the same experiments, without differences). ``--quick``
is small and asserts nothing (a test runs it to keep it working).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dvc_env import dvc_executable  # noqa: E402
from run import Row, fmt, make_experiments, make_project, ours_cmd  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--vs-dvc", action="store_true", help="time dvc exp show --only-changed beside it")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    count = args.experiments or (3 if args.quick else 10)
    repeat = args.repeat or (1 if args.quick else 7)
    with tempfile.TemporaryDirectory(prefix="jupyter-exp-bench-compare-") as tmp:
        root = make_project(Path(tmp) / "compare", 1 << 10)
        quiet = {"cwd": root, "check": True, "stdout": subprocess.DEVNULL}
        subprocess.run(ours_cmd("repro"), **quiet)
        subprocess.run(["git", "add", "-A"], **quiet)
        subprocess.run(["git", "commit", "-qm", "ran"], **quiet)
        make_experiments(root, count)
        names = [f"exp-{i:05d}" for i in range(count)]
        row = Row(f"exp diff of {count} experiments (N-way compare, CLI, warm)")
        command = ours_cmd("diff", *names)
        out = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout  # warm-up
        assert "Δ " in out, out
        for _ in range(repeat):
            row.time_ours(command, root)
        if args.vs_dvc:
            env = dict(os.environ, DVC_NO_ANALYTICS="1")
            theirs = [str(dvc_executable()), "exp", "show", "--only-changed", "--csv"]
            subprocess.run(theirs, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
            for _ in range(repeat):
                row.time_dvc(theirs, root, env)
            row.note = "other: dvc exp show --only-changed --csv (DVC has no N-way compare)"
    print("| workload | ours ms, median (min-max) | peak MB | other ms | ratio other/ours | note |")
    print("|---|---|---|---|---|---|")
    ratio = "-"
    if row.dvc:
        import statistics

        ratio = f"{statistics.median(row.dvc) / statistics.median(row.ours):.1f}x"
    print(f"| {row.workload} | {fmt(row.ours)} | {row.ours_mem or '-'} | {fmt(row.dvc)} | {ratio} | {row.note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
