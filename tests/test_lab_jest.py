"""The panel's front-end unit tests (jest, in labextension/) run with the rest.

`pip install -e .` (the README's test command) builds the extension, which installs
its node modules; jest then runs the panel's model host with the real table.js under
jsdom (fake fetch and WebSocket at the network edge)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

LAB = Path(__file__).resolve().parent.parent / "labextension"


def test_jest_suite_of_the_lab_extension_passes():
    jlpm = shutil.which("jlpm")
    assert jlpm, "jlpm (from the jupyter-builder package) is not on PATH; `pip install -e .[test]` installs it"
    assert (LAB / "node_modules").is_dir(), (
        "labextension/node_modules is missing: `pip install -e .[test]` builds the extension and installs them"
    )
    proc = subprocess.run([jlpm, "test", "--ci"], cwd=LAB, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "failed" not in out.split("Tests:")[-1].splitlines()[0], out[-4000:]
