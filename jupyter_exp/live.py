"""The in-stage API: cheap to import in a training script (no IPython, pandas, git).

    from jupyter_exp import live
    for epoch in range(epochs):
        ...
        live.log_metric("loss", loss)
        live.next_step(total=epochs)   # writes the metrics, then makes a checkpoint

``make_checkpoint()`` speaks DVC 2's protocol: with ``DVC_CHECKPOINT=1`` in the
environment it writes ``$DVC_ROOT/.dvc/tmp/DVC_CHECKPOINT`` and waits until the
engine deletes it, so scripts written for ``dvc.api.make_checkpoint()`` work
unchanged. The logger writes DVCLive's files: ``dvclive/metrics.json`` (with
``step``), ``dvclive/plots/metrics/<name>.tsv`` and ``dvclive/params.yaml``. Outside a
stage (no ``DVC_STAGE`` in the environment) every call is a cheap no-op.
"""

from __future__ import annotations

import json
import os
import time

from .processes import alive

SIGNAL_NAME = "DVC_CHECKPOINT"
POLL_SECONDS = 0.02
DEFAULT_DIR = "dvclive"
# Set by our engine (not DVC's): the process that deletes the signal file.
ENGINE_PID_VAR = "JUPYTER_EXP_ENGINE_PID"


def _root() -> str:
    return os.environ.get("DVC_ROOT") or os.getcwd()


def make_checkpoint(info: dict | None = None) -> None:
    """Ask the engine to record a checkpoint of this stage's outputs; wait until it has.

    ``info`` (step, total, metrics) travels in the signal file for progress displays.
    A no-op unless the stage has checkpoint outputs (``DVC_CHECKPOINT=1``).
    """
    if os.environ.get("DVC_CHECKPOINT") != "1":
        return
    engine = int(os.environ.get(ENGINE_PID_VAR) or 0)
    _check_engine(engine)
    # Imported here: only checkpoint stages pay for them.
    from .project import Project
    from .serialize import replacing

    path = Project(_root()).checkpoint_signal_file
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed into place: the engine polls for the file and reads it
    # as soon as it exists, so it must never see it empty or half written.
    with replacing(path) as tmp:
        with open(tmp, "x") as fobj:
            fobj.write(json.dumps(info or {}))
            fobj.flush()
            os.fsync(fobj.fileno())
    polls = 0
    while os.path.exists(path):  # the engine deletes it once the checkpoint is committed
        time.sleep(POLL_SECONDS)
        polls += 1
        if engine and polls % 25 == 0 and not alive(engine):
            os.unlink(path)
            _check_engine(engine)
    # Gone, but deleted by whom? A later run clears a stale signal file as it starts.
    _check_engine(engine)


def _check_engine(engine: int) -> None:
    """Stop this stage if the engine that runs it was killed: nobody would record its
    checkpoints, and a later run may already be writing the same outputs."""
    if engine and not alive(engine):
        raise SystemExit(f"jupyter_exp: the engine (pid {engine}) that ran this stage is gone; stopping.")


class Live:
    """A DVCLive-compatible logger of one stage run; ``jupyter_exp.live`` is one of these."""

    def __init__(self, directory: str = DEFAULT_DIR) -> None:
        self.dir = directory
        self.step: int | None = None  # read lazily: resuming continues from the last logged step
        self.metrics: dict[str, float] = {}
        self.total: int | None = None

    @property
    def active(self) -> bool:
        return "DVC_STAGE" in os.environ

    def _start(self) -> int:
        if self.step is None:
            self.step = 0
            if os.environ.get("DVCLIVE_RESUME") == "1":
                try:
                    with open(os.path.join(self.dir, "metrics.json")) as fobj:
                        self.step = int(json.load(fobj).get("step", -1)) + 1
                except (OSError, ValueError):
                    pass
        return self.step

    def log_metric(self, name: str, value: float) -> None:
        """Remember ``value`` for this step; written by :meth:`next_step`."""
        if self.active:
            self._start()
            self.metrics[name] = value

    def log_param(self, name: str, value) -> None:
        """Record a param in ``dvclive/params.yaml`` (YAML's JSON subset)."""
        if not self.active:
            return
        path = os.path.join(self.dir, "params.yaml")
        params: dict = {}
        try:
            with open(path) as fobj:
                for line in fobj:
                    key, sep, raw = line.partition(": ")
                    if sep:
                        params[key] = json.loads(raw)
        except (OSError, ValueError):
            params = {}
        params[name] = value
        os.makedirs(self.dir, exist_ok=True)
        with open(path, "w") as fobj:
            fobj.writelines(f"{k}: {json.dumps(v)}\n" for k, v in params.items())

    def next_step(self, total: int | None = None) -> None:
        """Write this step's metrics, make a checkpoint, and move to the next step."""
        if not self.active:
            return
        step = self._start()
        if total is not None:
            self.total = total
        os.makedirs(os.path.join(self.dir, "plots", "metrics"), exist_ok=True)
        for name, value in self.metrics.items():
            tsv = os.path.join(self.dir, "plots", "metrics", f"{name}.tsv")
            new = not os.path.exists(tsv)
            with open(tsv, "a") as fobj:
                if new:
                    fobj.write(f"step\t{name}\n")
                fobj.write(f"{step}\t{value}\n")
        with open(os.path.join(self.dir, "metrics.json"), "w") as fobj:
            json.dump({"step": step, **self.metrics}, fobj)
        make_checkpoint({"step": step, "total": self.total, "metrics": self.metrics})
        self.step = step + 1


_default = Live()
log_metric = _default.log_metric
log_param = _default.log_param
next_step = _default.next_step
