"""The code passes its linters: ruff (lint and format) and mypy, configured in
pyproject.toml and run here from the repository root exactly as a developer runs them."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    """The tool of this interpreter's environment (the test extra installs both)."""
    return [sys.executable, "-m", name]


@pytest.mark.parametrize(
    "args",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_linter_passes(args):
    proc = subprocess.run([*_tool(args[0]), *args[1:]], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"`{' '.join(args)}` failed:\n{proc.stdout}\n{proc.stderr}"
