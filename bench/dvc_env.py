"""Where DVC 3 lives for side-by-side runs: a virtualenv of its own under .cache/.

Shared by bench/run.py and the test suite, so both compare against the same DVC.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import venv
from pathlib import Path

DVC_VERSION = "3.67.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


def dvc_executable(install: bool = True) -> Path:
    """``$JUPYTER_EXP_DVC`` if set, else DVC in ``.cache/dvc-<version>`` (made on first use)."""
    configured = os.environ.get("JUPYTER_EXP_DVC")
    if configured:
        return Path(configured)
    env_dir = REPO_ROOT / ".cache" / f"dvc-{DVC_VERSION}"
    exe = env_dir / "bin" / "dvc"
    if exe.exists() or not install:
        return exe
    env_dir.parent.mkdir(exist_ok=True)
    # Parallel test workers share one install: the first one builds it under a lock.
    with open(env_dir.parent / "dvc-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not exe.exists():
            venv.create(env_dir, with_pip=True, clear=True)
            subprocess.run(
                [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", f"dvc=={DVC_VERSION}"],
                check=True,
            )
    return exe
