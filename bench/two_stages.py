"""The two-stage project that ``bench/status.py`` times and ``tests/test_status_dag.py``
compares with DVC: a tracked ``data.csv``, a ``prep`` stage and a ``train`` stage with
params and a metric, made and reproduced by DVC itself and committed.

Shared by the benchmark and the test suite (tests/conftest.py puts bench/ on the path).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TWO_STAGES = """\
stages:
  prep:
    cmd: cp data.csv prepared.csv
    deps:
    - data.csv
    outs:
    - prepared.csv
  train:
    cmd: cp prepared.csv model.pkl && echo '{"s":1}' > m.json
    deps:
    - prepared.csv
    params:
    - lr
    outs:
    - model.pkl
    metrics:
    - m.json:
        cache: false
"""


def build_two_stages(root: Path, dvc: Path, *, data: str = "1\n", images: int = 0) -> Path:
    """Make the project at ``root`` (which exists) with real DVC: ``data.csv`` holding
    ``data``, and with ``images`` > 0 a tracked directory ``imgs`` of that many files."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1")

    def run(*args: str) -> None:
        subprocess.run(args, cwd=root, env=env, check=True, capture_output=True)

    run("git", "init", "-q")
    run("git", "config", "user.email", "b@example.com")
    run("git", "config", "user.name", "bench")
    run(str(dvc), "init", "-q")
    (root / "data.csv").write_text(data)
    tracked = ["data.csv"]
    if images:
        (root / "imgs").mkdir()
        for i in range(images):
            (root / "imgs" / f"{i}.png").write_text(f"image {i}\n")
        tracked.append("imgs")
    (root / "params.yaml").write_text("lr: 0.1\nepochs: 3\n")
    (root / "dvc.yaml").write_text(TWO_STAGES)
    run(str(dvc), "add", "-q", *tracked)
    run(str(dvc), "repro", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "pipeline")
    return root
