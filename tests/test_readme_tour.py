"""The README's shell tour works as written: its runnable block, run line by line by
bash in an empty directory with the installed ``jupyter exp``, exits 0 at every line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- the runnable tour:"


def tour_block() -> str:
    """The fenced block right after the tour's marker comment."""
    text = README.read_text()
    assert MARKER in text, "README.md lost the runnable tour's marker"
    after = text[text.index(MARKER) :].split("\n", 1)[1]
    assert after.startswith("```bash\n"), "the marker must sit right above a ```bash block"
    return after[len("```bash\n") : after.index("\n```")]


def test_the_tour_block_is_plain_commands():
    """One command per line (a user pastes it into a shell as it is): no line
    continuations, no here-documents."""
    lines = tour_block().splitlines()
    assert len(lines) >= 15
    assert not [line for line in lines if line.rstrip().endswith("\\") or "<<" in line]


def test_the_readme_tour_runs_as_written(tmp_path: Path):
    # `jupyter` (jupyter_core's launcher), `jupyter-exp` and `python` as this
    # interpreter's environment has them: the virtualenv the README's first lines make.
    bin_dirs = [str(Path(sys.executable).parent)]
    if not (Path(sys.executable).parent / "jupyter-dvc").exists():
        # An install made before `jupyter-dvc` existed: the same entry point, by its module.
        shim = tmp_path / "bin" / "jupyter-dvc"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m jupyter_exp.cli.dvc "$@"\n')
        shim.chmod(0o755)
        bin_dirs.insert(0, str(shim.parent))
    env = dict(os.environ, PATH=os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")]))
    env.pop("JUPYTER_EXP_KILL_AT", None)
    tour = tmp_path / "tour"
    tour.mkdir()
    # -e: the first line that fails stops it; -x: each line is echoed before it runs.
    script = "set -euo pipefail\n" + tour_block() + "\n"
    proc = subprocess.run(["bash", "-x", "-c", script], cwd=tour, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"the README tour failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    # It did what it says: experiments recorded, a branch made, the sweep run.
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps"], cwd=tour, capture_output=True, text=True
    ).stdout.split()
    assert sorted(refs) == ["fast", "sweep-1", "sweep-2"]
    branches = subprocess.run(["git", "branch", "--list", "fast-branch"], cwd=tour, capture_output=True, text=True)
    assert "fast-branch" in branches.stdout
