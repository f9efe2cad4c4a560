"""``status`` of a two-stage project from the shell: ``jupyter dvc status`` against ``dvc status``.

    python bench/status.py [--repeat N]

The project: a tracked ``data.csv``, a ``prep`` stage and a ``train`` stage with params and
a metric, reproduced by DVC and committed. Each tool runs as the command a user types
(a fresh process: interpreter start-up and imports included), in alternating order,
``--repeat`` times, clean and after a dependency changed; the table gives the median
seconds and DVC / ours, then both less the start-up of a bare ``python -c pass`` (the
part no Python command avoids). The target of issue 17 is 10x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dvc_env import dvc_executable  # noqa: E402
from two_stages import build_two_stages  # noqa: E402


def _time(cmd: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    dvc = dvc_executable()
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    # As installed: modules compiled once to bytecode (DVC's virtualenv has its .pyc files too).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ours = [sys.executable, "-m", "jupyter_exp.cli.dvc", "status"]
    theirs = [str(dvc), "status"]
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        root = Path(tmp)
        build_two_stages(root, dvc, data="".join(f"{i}\n" for i in range(10_000)))
        _time(ours, root, env)  # the first run writes the bytecode
        print(f"{'case':<22}{'ours (s)':>10}{'dvc (s)':>10}{'dvc/ours':>10}")
        for case in ("clean", "dependency changed"):
            if case == "dependency changed":
                (root / "data.csv").write_text("changed\n")
            times: dict[str, list[float]] = {"ours": [], "dvc": [], "python": []}
            outputs = {}
            for i in range(args.repeat):
                order = [("ours", ours), ("dvc", theirs)] if i % 2 == 0 else [("dvc", theirs), ("ours", ours)]
                for name, cmd in [*order, ("python", [sys.executable, "-c", "pass"])]:
                    elapsed, out = _time(cmd, root, env)
                    times[name].append(elapsed)
                    outputs[name] = out
            assert outputs["ours"] == outputs["dvc"], outputs  # the same answer, or the timing means nothing
            mine, real = statistics.median(times["ours"]), statistics.median(times["dvc"])
            print(f"{case:<22}{mine:>10.3f}{real:>10.3f}{real / mine:>9.1f}x")
            bare = statistics.median(times["python"])  # what any Python command pays before its first line
            print(
                f"{'  beyond python start':<22}{mine - bare:>10.3f}{real - bare:>10.3f}"
                f"{(real - bare) / (mine - bare):>9.1f}x"
            )


if __name__ == "__main__":
    main()
