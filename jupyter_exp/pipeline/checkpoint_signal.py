"""DVC 2's checkpoint signal, the engine's side.

A stage with checkpoint outputs (``dvc.api.make_checkpoint()``, or
:func:`jupyter_exp.live.make_checkpoint`) writes ``.dvc/tmp/DVC_CHECKPOINT`` — atomically,
with optional JSON info (step, total, metrics) — and waits until it is deleted. The
engine polls for the file while the stage runs, records the checkpoint, and only then
deletes the file: deleting it is the acknowledgement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


class CheckpointSignal:
    """The signal file at ``path`` (:attr:`Project.checkpoint_signal_file`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def reset(self) -> None:
        """Remove a signal left behind by a run that was killed."""
        self.path.unlink(missing_ok=True)

    def poll(self, record: Callable[[dict], None]) -> bool:
        """If the stage asked for a checkpoint: ``record(info)``, then acknowledge.

        Returns whether there was a signal. When ``record`` raises, the signal stays
        (the stage keeps waiting until its process is stopped).
        """
        if not self.path.exists():
            return False
        try:
            info = json.loads(self.path.read_text() or "{}")
        except ValueError:
            info = {}
        record(info if isinstance(info, dict) else {})
        self.path.unlink(missing_ok=True)
        return True
