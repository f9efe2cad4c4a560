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
# DVC's remote plugins that the remote tests and benchmarks run DVC with, pinned: the
# one list the DVC virtualenv is built with (module -> requirement). dvc-http ships with DVC.
DVC_PLUGINS = {"dvc_s3": "dvc-s3==3.3.0", "dvc_ssh": "dvc-ssh==4.3.0"}
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
                [
                    str(env_dir / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    f"dvc=={DVC_VERSION}",
                    *DVC_PLUGINS.values(),
                ],
                check=True,
            )
    return exe


def ensure_dvc_plugins(exe: Path) -> None:
    """Install the :data:`DVC_PLUGINS` missing beside the DVC at ``exe`` (a virtualenv built
    before the list grew, or ``$JUPYTER_EXP_DVC``'s); idempotent, one installer at a time
    across processes, under the same lock as the DVC install."""
    python = exe.parent / "python"
    probe = [str(python), "-c", "import " + ", ".join(DVC_PLUGINS)]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return
    lock_dir = REPO_ROOT / ".cache"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / "dvc-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if subprocess.run(probe, capture_output=True).returncode != 0:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *DVC_PLUGINS.values()], check=True)


ensure_dvc_s3 = ensure_dvc_plugins  # the name the S3 fixtures know it by
