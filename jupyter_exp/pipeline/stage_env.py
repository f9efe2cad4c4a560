"""The environment a stage command runs in, as DVC sets it.

``DVC_ROOT`` and ``DVC_STAGE`` always; ``DVC_CHECKPOINT=1`` for a stage with
checkpoint outputs, with our own variable naming the engine process that answers
its checkpoint signals (:mod:`.checkpoint_signal`). Experiment runs add
``DVC_EXP_NAME`` and ``DVC_EXP_BASELINE_REV`` through ``extra``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..live import ENGINE_PID_VAR
from .stage import Stage


def stage_env(root: Path, stage: Stage, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus ``extra`` plus DVC's stage variables."""
    env = dict(os.environ)
    env.update(extra or {})
    env["DVC_ROOT"] = str(root)
    env["DVC_STAGE"] = stage.address
    env.setdefault("PYTHONUNBUFFERED", "1")
    if stage.has_checkpoint:
        env["DVC_CHECKPOINT"] = "1"
        env[ENGINE_PID_VAR] = str(os.getpid())
    return env
