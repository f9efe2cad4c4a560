"""bench/compare.py keeps working (quick sizes, beside real DVC's nearest command); no
times asserted."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "compare.py"


def test_quick_compare_benchmark_prints_its_row(dvc_exe):
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--vs-dvc"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    header, rule, row = proc.stdout.splitlines()
    assert header.startswith("| workload |") and rule.startswith("|---")
    assert row.startswith("| exp diff of 3 experiments (N-way compare, CLI, warm) | ")
    assert row.count("x |") == 1  # a ratio to DVC's nearest command
