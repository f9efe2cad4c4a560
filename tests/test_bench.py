"""bench/run.py keeps working (quick sizes, side by side with real DVC); no times asserted."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_quick_benchmark_prints_its_table(dvc_exe):
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--quick",
            "--vs-dvc",
            "--repeat",
            "1",
            "--data-mb",
            "4",
            "--show-sizes",
            "5",
            "--queue-size",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[2].startswith("| workload |")
    rows = {line.split("|")[1].strip(): line for line in lines[4:]}
    assert set(rows) == {
        "python -c 'import jupyter_exp'",
        "no-op repro, 2 stages (CLI)",
        "no-op repro, 2 stages (api, warm process)",
        "forced repro -f, 2 stages (CLI)",
        "first hash of a large dependency",
        "unchanged check of that dependency",
        "exp run overhead, 2 stages (CLI)",
        "exp run overhead, 2 stages (api, warm; DVC: CLI)",
        "forced repro of a stage writing a large output (cache save)",
        "checkout of that large output",
        "exp show --json, 5 exps, first time",
        "exp show --json, 5 exps, warm",
        "exp show --json, 100 exps, metrics inside a cached eval/, first time",
        "exp show --json, 100 exps, metrics inside a cached eval/, warm",
        "%load_ext jupyter_exp (in an IPython shell)",
        "%exp show, 100 exps, rendered (first in a kernel)",
        "%exp show, 100 exps, rendered (again)",
        "table widget, 100 exps: built (first in a kernel)",
        "table widget, 100 exps: built (again)",
        "table widget, 100 exps: drawn in Chromium (front end)",
        "live table while 2 experiments run (6 steps each): kernel CPU ms",
        "live table while 2 experiments run (6 steps each, 100 more in the table): kernel CPU ms",
        "2 queued experiments, --run-all -j 1",
        "2 queued experiments, --run-all -j 2",
        "2 queued experiments, --run-all -j 2 --executor dask",
        "checkpoint run of 5 steps, 10 MB output (CLI, total)",
        "one checkpoint: cache a 10 MB output + commit (seen from the stage)",
        "exp show --json, 2 exps x 5 checkpoints, first time",
        "exp show --json, 2 exps x 5 checkpoints, warm",
    }
    for name in (
        "no-op repro, 2 stages (CLI)",
        "exp run overhead, 2 stages (CLI)",
        "exp show --json, 5 exps, warm",
        "2 queued experiments, --run-all -j 2",
    ):
        assert rows[name].count("x |") == 1, name  # a DVC ratio was computed
