"""Transfer progress: a tqdm bar on a terminal, a progress widget in a notebook, else nothing.

The transfer layer reports bytes as they move (from any worker thread) through
:class:`Progress`; which bar shows them is chosen here, once per transfer. tqdm is
optional: without it (or outside a terminal and a kernel, or with
``JUPYTER_EXP_PROGRESS=0``) transfers are silent and the verb's summary line says
what moved.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from ..kernel import in_kernel


class Progress:
    """Thread-safe byte counter behind an optional bar."""

    def __init__(self, bar: Any = None, counts_bytes: bool = True) -> None:
        self._bar = bar
        self._lock = threading.Lock()
        self.counts_bytes = counts_bytes

    def update(self, amount: int) -> None:
        if self._bar is not None and amount:
            with self._lock:
                self._bar.update(amount)

    def finished(self, size: int, callback: Any) -> None:
        """One object moved: count what its callback did not (or the object itself)."""
        if not self.counts_bytes:
            self.update(1)
        else:
            self.update(size - int(getattr(callback, "value", 0) or 0))

    def close(self) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.close()

    def callback(self) -> Any:
        """An fsspec callback feeding this bar while one file moves (None: no bar, or
        a bar that counts objects)."""
        if self._bar is None or not self.counts_bytes:
            return None
        from fsspec.callbacks import Callback

        progress = self

        class _Feed(Callback):
            def call(self, *args: Any, **kwargs: Any) -> None:
                pass

            def relative_update(self, inc: int | None = 1) -> None:
                inc = inc or 0
                self.value = int(getattr(self, "value", 0) or 0) + inc
                progress.update(inc)

            def absolute_update(self, value: int) -> None:
                progress.update(max(0, value - int(getattr(self, "value", 0) or 0)))
                self.value = value

        return _Feed()


def _wanted() -> str | None:
    """Which bar fits this process: "notebook", "terminal" or None."""
    if os.environ.get("JUPYTER_EXP_PROGRESS", "1") == "0":
        return None
    if in_kernel():
        return "notebook"
    stream = sys.stderr
    return "terminal" if stream is not None and stream.isatty() else None


def open_progress(description: str, total: int, unit: str = "B") -> Progress:
    """A bar for moving ``total`` bytes (``unit="file"``: objects), or a silent
    counter when no bar fits this process."""
    kind = _wanted()
    if kind is None or total <= 0:
        return Progress()
    scaled = unit == "B"
    try:
        if kind == "notebook":
            from tqdm.notebook import tqdm  # a progress widget (ipywidgets)
        else:
            from tqdm import tqdm
    except ImportError:
        return Progress()
    try:
        bar = tqdm(total=total, desc=description, unit=unit, unit_scale=scaled, unit_divisor=1024, leave=False)
    except ImportError:  # tqdm.notebook without ipywidgets: a text bar instead
        from tqdm import tqdm as text_tqdm

        bar = text_tqdm(total=total, desc=description, unit=unit, unit_scale=scaled, unit_divisor=1024, leave=False)
    return Progress(bar, counts_bytes=scaled)
