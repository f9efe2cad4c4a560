"""What the server tests share: pytest-jupyter's fixtures, a real Jupyter server with the
extension enabled, a small DVC pipeline in its root, and a way to run async tests.

pytest-jupyter's fixtures come in by ``from server_helpers import *`` in each server
test module, not through ``pytest_plugins``: a plugin's autouse fixtures (a fresh event
loop, a ServerApp cleanup) and its async-test hooks would then apply to every test of
the session. Imported into a module, they are that module's fixtures only, and
:func:`on_loop` runs its async tests on pytest-jupyter's loop in strict mode (no
``asyncio_mode=auto``, which makes every ``jp_fetch`` time out).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import make_repo
from jupyter_core.utils import ensure_event_loop
from pytest_jupyter.jupyter_server import *  # noqa: F403 - the fixtures, for the importing module only
from traitlets.config import Config

import jupyter_exp

SESSIONS = "jupyter_exp_sessions"

# A stage that records which process ran it: the server must never be that process,
# nor its parent, nor in its session.
# "up" lists its ancestors' pids (the user's $SHELL may or may not exec the command).
TRAIN = """import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
up, pid = [], os.getppid()
while pid > 1:
    up.append(str(pid))
    pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
ran = {"lr": p["lr"], "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0), "up": " ".join(up)}
json.dump(ran, open("metrics.json", "w"))
"""
PIPELINE = {
    "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    deps: [train.py]\n    params: [train]\n"
    "    metrics:\n    - metrics.json:\n        cache: false\n",
    "params.yaml": "train:\n  lr: 0.01\n  epochs: 3\n  use_bias: true\n  layers: [8, 4]\n  name: small\n",
    "train.py": TRAIN,
}

# Two steps a second with a checkpoint each: a running experiment that changes.
SLOW_TRAIN = """import json, os, sys, time
from jupyter_exp import live
steps = int(sys.argv[1])
gate = sys.argv[2] if len(sys.argv) > 2 else None
state = json.load(open("model.json")) if os.path.exists("model.json") else {"step": 0}
for step in range(state["step"], steps):
    time.sleep(0.25)
    state = {"step": step + 1}
    json.dump(state, open("model.json", "w"))
    live.log_metric("loss", 1 / (step + 1))
    live.next_step(total=steps)
    # Gated (a test following the run): wait until the test has seen this many steps
    # of this experiment (the number in the gate's file), for the first GATED steps.
    seen = os.path.join(gate, os.environ.get("DVC_EXP_NAME", "-")) if gate else None
    deadline = time.monotonic() + 60
    while seen and step < GATED and time.monotonic() < deadline:
        if os.path.exists(seen) and int(open(seen).read() or 0) > step:
            break
        time.sleep(0.05)
"""
GATED_STEPS = 3


def slow_pipeline(steps: int, gate: Path | None = None) -> dict[str, str]:
    """A checkpoint pipeline of ``steps`` steps, 4 a second. With ``gate`` (a folder),
    each of its first GATED_STEPS steps waits (60 s at most) until the file
    ``gate/<experiment name>`` holds a number above it: a test that writes there how
    many steps it has seen follows the run step by step however loaded the machine."""
    cmd = f"python slow.py {steps}" + (f" {gate}" if gate else "")
    return {
        "dvc.yaml": f"stages:\n  train:\n    cmd: {cmd}\n    deps: [slow.py]\n"
        "    params: [train]\n    outs:\n    - model.json:\n        checkpoint: true\n"
        "    metrics:\n    - dvclive/metrics.json:\n        cache: false\n",
        "params.yaml": "train:\n  lr: 0.1\n",
        "slow.py": SLOW_TRAIN.replace("GATED", str(GATED_STEPS)),
    }


def on_loop(test):
    """An async test, run to completion on pytest-jupyter's loop (its own pytest hooks
    that would do this are not loaded; see the module docstring)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        ensure_event_loop(prefer_selector_loop=True).run_until_complete(test(*args, **kwargs))

    return run


@pytest.fixture
def allow_unauthenticated() -> bool:
    """ServerApp.allow_unauthenticated_access (parametrize to change it)."""
    return False


@pytest.fixture
def disable_xsrf() -> bool:
    """ServerApp.disable_check_xsrf: a POST without credentials then reaches the handler."""
    return False


@pytest.fixture
def authorizer_class():
    """ServerApp.authorizer_class (None: the server's default, which allows all)."""
    return None


@pytest.fixture
def jp_server_config(allow_unauthenticated, disable_xsrf, authorizer_class):  # noqa: F811 - pytest-jupyter's
    server = {
        "jpserver_extensions": {"jupyter_exp.server": True},
        "allow_unauthenticated_access": allow_unauthenticated,
        "disable_check_xsrf": disable_xsrf,
    }
    if authorizer_class is not None:
        server["authorizer_class"] = authorizer_class
    return Config({"ServerApp": server})


@pytest.fixture
def jp_serverapp(jp_server_config, jp_argv, jp_configurable_serverapp):  # noqa: F811 - pytest-jupyter's, overridden
    """The server, its projects' watchers and thread pool stopped afterwards."""
    app = jp_configurable_serverapp(config=jp_server_config, argv=jp_argv)
    yield app
    registry = app.web_app.settings.get(SESSIONS)
    if registry is not None:
        registry.close()


@pytest.fixture
def registry(jp_serverapp):
    return jp_serverapp.web_app.settings[SESSIONS]


@pytest.fixture
def proj(jp_root_dir: Path) -> Path:
    """A committed project at ``<server root>/proj`` with one stage."""
    root = make_repo(jp_root_dir / "proj", PIPELINE)
    yield root
    stop_workers(root)


def stop_workers(root: Path) -> None:
    """Stop the queue workers a test started in ``root`` (they are ours), and wait."""
    from jupyter_exp.experiments.workers import list_workers, wait

    project = jupyter_exp.Project(root)
    if list_workers(project):
        jupyter_exp.queue_stop(kill=True, root=str(root))
        assert wait(project, timeout=60), "a queue worker did not stop"


def git_out(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


async def fetch_json(jp_fetch, route: str, method: str = "GET", body=None, **params) -> dict:
    """An authenticated request to ``jupyter-exp/<route>``; the JSON answer."""
    kwargs = {"method": method, "params": params}
    if method != "GET":
        kwargs["body"] = json.dumps(body if body is not None else {})
    response = await jp_fetch("jupyter-exp", route, **kwargs)
    assert response.code == 200
    return json.loads(response.body)


async def wait_for(condition, timeout: float = 120, every: float = 0.2):
    """Await ``condition()`` (a coroutine function) until it returns a true value."""
    deadline = time.monotonic() + timeout
    while True:
        found = await condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"not true within {timeout} s: {condition.__doc__ or condition}"
        await asyncio.sleep(every)


async def messages_until(ws, done, timeout: float = 90) -> list[dict]:
    """Socket messages, read until ``done(message)``; every one is returned."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no such message within {timeout} s; got {[m.get('type') for m in seen]}"
        text = await asyncio.wait_for(ws.read_message(), left)
        assert text is not None, "the socket closed"
        message = json.loads(text)
        message["_bytes"] = len(text.encode())
        seen.append(message)
        if done(message):
            return seen


def environ_for_cli() -> dict[str, str]:
    return dict(os.environ, DVC_NO_ANALYTICS="1")
