"""Benchmarks of the JupyterLab server extension (issue 15), against a real ``jupyter
server`` process with the extension enabled:

- the server's CPU while a live socket follows a project where 2 checkpoint
  experiments run in a detached worker (goal: under 3% of one core), with 0 and with
  many finished experiments in the table besides them (``--others 0,1000,10000``);
  the server's own git helpers (its ``cat-file --batch``) are counted with it;
- how often the table updates meanwhile and how long a checkpoint takes to reach the
  socket (from its progress file appearing on disk to the diff that shows its step);
- the bytes of each live update the socket receives meanwhile (goal: under 10 KB);
- building the table state of 10,000 experiments server side: ``GET table`` the first
  time (nothing cached), in a new server (the per-commit show cache warm), and again in
  the same server; and the same with a live socket open (no collection per request).

    python bench/server.py [--quick] [--size N] [--steps N] [--others N,N] [--only live|table]
                           [--profile DIR]

Prints one Markdown table. Worker processes' CPU is not the server's and is not counted.
The CPU is given as seconds beside the share of a core: on a shared machine the wall
time stretches with other work, the seconds less so. ``--profile DIR`` samples the
server with py-spy while the experiments run (``DIR/live-N.txt``, collapsed stacks of
every thread: ``py-spy record --format raw``; py-spy must be installed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import make_experiments, make_project, ours_cmd  # noqa: E402
from widget import SLOW_TRAIN  # noqa: E402

TOKEN = "bench-token"
TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """``jupyter server`` with the extension, its root ``root``; stopped by ``stop``."""

    def __init__(self, root: Path, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = log.with_suffix(".json")
        config.write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {"jupyter_exp.server": True},
                        "root_dir": str(root),
                        "port": self.port,
                        "ip": "127.0.0.1",
                        "open_browser": False,
                        "allow_root": True,
                    },
                    "IdentityProvider": {"token": TOKEN},
                }
            )
        )
        self.out = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config}"],
            cwd=root,  # `-m` puts the working directory first on the path: never a checkout's
            stdout=self.out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/api/status")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"jupyter server did not start; see {log}") from None
                time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(self.url(path), headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read()

    def post(self, path: str, body: dict) -> bytes:
        request = urllib.request.Request(
            self.url(path),
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read()

    def cpu(self) -> float:
        """Seconds of CPU the server process used so far, with the git processes it
        keeps running (not its other children: the queue worker runs experiments)."""
        return _cpu(self.proc.pid) + sum(_cpu(pid) for pid in _children(self.proc.pid, "git"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def _cpu(pid: int) -> float:
    """Seconds of CPU process ``pid`` used itself (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int, command: str) -> list[int]:
    """Live child processes of ``pid`` running ``command``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if name == command and int(rest.split()[1]) == pid:
            found.append(int(entry.name))
    return found


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def _slow_project(root: Path, steps: int, others: int) -> Path:
    make_project(root, 1 << 10)
    (root / "slow.py").write_text(SLOW_TRAIN)
    (root / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: python slow.py {steps}\n    deps: [slow.py]\n    params: [train.lr]\n"
        "    outs:\n    - model.json:\n        checkpoint: true\n"
        "    metrics:\n    - dvclive/metrics.json:\n        cache: false\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "slow checkpoints"], cwd=root, check=True)
    if others:
        (root / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
        make_experiments(root, others)
        (root / "dvc.lock").unlink()
    return root


async def _watch_progress(folder: Path, seen: dict[tuple[str, int], float], stop: asyncio.Event) -> None:
    """When each (experiment, step) first appeared in a progress file (polled every 20 ms)."""
    while not stop.is_set():
        for path in folder.glob("*.json") if folder.is_dir() else []:
            try:
                event = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(event, dict) and isinstance(event.get("step"), int) and event.get("state") == "running":
                seen.setdefault((event["experiment"], event["step"]), time.monotonic())
        await asyncio.sleep(0.02)


def _profiler(pid: int, out: Path) -> subprocess.Popen:
    """py-spy sampling process ``pid`` (non-blocking: the server is not paused) into ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
    return subprocess.Popen([*command, "--threads", "--nonblocking", "--rate", "200"], stdout=subprocess.DEVNULL)


async def _follow(server: Server, project: str, root: Path, idle_seconds: float, profile: Path | None = None) -> dict:
    """Open the live socket; measure the server's CPU idle, then while 2 experiments
    run in a worker the API started; every message's size and arrival; when each
    checkpoint's progress reached the disk and the socket."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(
        f"ws://127.0.0.1:{server.port}/jupyter-exp/live?project={project}",
        headers={"Authorization": f"token {TOKEN}"},
        # The socket opens once the project's table is collected: seconds on a busy machine.
        connect_timeout=300,
        request_timeout=300,
    )
    ws = await websocket_connect(request)
    await asyncio.sleep(2)  # the watcher starts and collects once
    cpu0, t0 = server.cpu(), time.monotonic()
    await asyncio.sleep(idle_seconds)
    idle = 100 * (server.cpu() - cpu0) / (time.monotonic() - t0)
    sizes: list[int] = []
    kinds: dict[str, int] = {}
    on_disk: dict[tuple[str, int], float] = {}
    on_socket: dict[tuple[str, int], float] = {}
    diffs: list[float] = []  # arrival of each table diff while experiments run
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_progress(root / ".dvc/tmp/jupyter_exp/progress", on_disk, stop))
    spy = _profiler(server.proc.pid, profile) if profile else None
    cpu0, t0 = server.cpu(), time.monotonic()
    await asyncio.get_running_loop().run_in_executor(
        None, server.post, f"/jupyter-exp/queue/start?project={project}", {"jobs": 2}
    )
    seen_running = False
    finished_at = None
    while True:
        timeout = 1.5 if finished_at else 300
        try:
            text = await asyncio.wait_for(ws.read_message(), timeout)
        except asyncio.TimeoutError:
            break
        if text is None:
            break
        now = time.monotonic()
        message = json.loads(text)
        sizes.append(len(text.encode()))
        kinds[message["type"]] = kinds.get(message["type"], 0) + 1
        if message["type"] == "table-diff":
            if seen_running and not finished_at:
                diffs.append(now)
            for row in message["rows"]:
                progress = row.get("progress") or {}
                if isinstance(progress.get("step"), int):
                    on_socket.setdefault((progress.get("experiment"), progress["step"]), now)
        if message["type"] == "status":
            status = message["status"]
            seen_running = seen_running or status["running"] > 0
            if seen_running and status["running"] == status["queued"] == 0:
                finished_at = now
    wall = time.monotonic() - t0
    seconds = server.cpu() - cpu0
    busy = 100 * seconds / wall
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        spy.wait(timeout=60)
    stop.set()
    await watcher
    ws.close()
    # A step is on the socket once the socket showed it or a later step of its experiment.
    latency = []
    for (name, step), written in on_disk.items():
        shown = [t for (other, later), t in on_socket.items() if other == name and later >= step and t >= written]
        if shown:
            latency.append(min(shown) - written)
    gaps = [b - a for a, b in zip(diffs, diffs[1:])]
    return {
        "idle": idle,
        "busy": busy,
        "seconds": seconds,
        "wall": wall,
        "sizes": sizes,
        "kinds": kinds,
        "latency": latency,
        "gaps": gaps,
        "steps": len(on_disk),
        "shown": len(latency),
    }


def bench_live(work: Path, steps: int, others: int, rows: list[tuple], profile: Path | None = None) -> None:
    root = _slow_project(work / f"live-{others}", steps, others)
    for name in ("a", "b"):
        subprocess.run(ours_cmd("run", "--queue", "-n", name), cwd=root, check=True, capture_output=True)
    server = Server(work, work / f"server-live-{others}.log")
    try:
        found = asyncio.run(_follow(server, root.name, root, 10, profile / f"live-{others}.txt" if profile else None))
    finally:
        server.stop()
    besides = f", {others} finished besides" if others else ""
    sizes = found["sizes"]
    rows.append(
        (
            f"server CPU, live socket, 2 experiments running ({steps} steps{besides})",
            f"{found['busy']:.1f}% of a core",
            f"{found['seconds']:.2f} CPU s over {found['wall']:.1f} s; idle watching: {found['idle']:.2f}%",
        )
    )
    rows.append(
        (
            f"live updates, 2 experiments running{besides}: interval between table diffs",
            f"{fmt(found['gaps'])} s",
            f"a checkpoint on disk -> that step (or a later one) on the socket: {fmt(found['latency'])} s "
            f"({found['shown']} of {found['steps']} steps)",
        )
    )
    rows.append(
        (
            f"bytes per live update, 2 experiments running{besides}",
            f"max {max(sizes) / 1024:.1f} KB, median {statistics.median(sizes):.0f} B",
            f"{len(sizes)} messages: " + ", ".join(f"{n} {k}" for k, n in sorted(found["kinds"].items())),
        )
    )


def _big_project(work: Path, size: int) -> Path:
    root = make_project(work / f"big-{size}", 1 << 10)
    subprocess.run(ours_cmd("repro"), cwd=root, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "ran"], cwd=root, check=True)
    make_experiments(root, size)
    return root


def _timed_get(server: Server, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    body = server.get(path)
    return (time.perf_counter() - started) * 1000, len(body)


async def _live_gets(server: Server, path: str, project: str, repeat: int) -> list[float]:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(
        f"ws://127.0.0.1:{server.port}/jupyter-exp/live?project={project}",
        headers={"Authorization": f"token {TOKEN}"},
        # The socket opens once the project's table is collected: seconds on a busy machine.
        connect_timeout=300,
        request_timeout=300,
    )
    ws = await websocket_connect(request)
    await asyncio.sleep(1)
    loop = asyncio.get_running_loop()
    times = [(await loop.run_in_executor(None, _timed_get, server, path))[0] for _ in range(repeat)]
    ws.close()
    return times


def _answer_sizes(server: Server, path: str) -> list[tuple[str, float, int]]:
    """Time and size of the answers to a few table messages: each carries what the
    message changed (patches), not the table."""
    table = json.loads(server.get(path))["state"]["table"]
    key = next(r["key"] for r in table["rows"] if r["kind"] == "experiment")
    column = next(c["id"] for c in table["columns"] if c["id"].endswith("train.lr"))  # each row its own
    results = []
    for what, message in [
        ("star one row", {"type": "star", "key": key}),
        ("sort by a param", {"type": "sort", "column": column}),
        ("hide a column", {"type": "hide", "column": column}),
    ]:
        started = time.perf_counter()
        body = server.post(path, message)
        results.append((what, (time.perf_counter() - started) * 1000, len(body)))
    return results


def bench_big_table(work: Path, size: int, repeat: int, rows: list[tuple]) -> None:
    root = _big_project(work, size)
    path = f"/jupyter-exp/table?project={root.name}"
    server = Server(work, work / "server-big-1.log")
    try:
        first, nbytes = _timed_get(server, path)
        again = [_timed_get(server, path)[0] for _ in range(repeat)]
        live = asyncio.run(_live_gets(server, path, root.name, repeat))
        answers = _answer_sizes(server, path)
    finally:
        server.stop()
    server = Server(work, work / "server-big-2.log")  # a new server: the show cache is warm
    try:
        warm, _ = _timed_get(server, path)
    finally:
        server.stop()
    rows.append((f"GET table, {size} exps, first (nothing cached)", f"{first:.0f} ms", f"{nbytes / 1e6:.1f} MB JSON"))
    rows.append((f"GET table, {size} exps, first in a new server (show cache warm)", f"{warm:.0f} ms", ""))
    rows.append((f"GET table, {size} exps, again (collected again: no socket open)", f"{fmt(again)} ms", ""))
    rows.append((f"GET table, {size} exps, with a live socket open (no collection)", f"{fmt(live)} ms", ""))
    for what, ms, size_bytes in answers:
        rows.append((f"POST table ({what}), {size} exps: the answer", f"{ms:.0f} ms", f"{size_bytes / 1e3:.1f} KB"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--size", type=int, default=None, help="experiments for the table build (default 10000)")
    parser.add_argument("--steps", type=int, default=None, help="checkpoint steps of each running experiment")
    parser.add_argument(
        "--others", default=None, help="finished experiments besides the running ones, comma-separated (0,1000,10000)"
    )
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--only", choices=["live", "table"], help="run one group of workloads")
    parser.add_argument("--profile", type=Path, help="sample the server with py-spy while experiments run, into DIR")
    args = parser.parse_args(argv)
    size = args.size or (200 if args.quick else 10000)
    steps = args.steps or (6 if args.quick else 40)
    default_others = "0,100" if args.quick else "0,1000,10000"
    others = [int(n) for n in (args.others if args.others is not None else default_others).split(",")]
    repeat = args.repeat or (2 if args.quick else 5)
    rows: list[tuple] = []
    work = Path(tempfile.mkdtemp(prefix="jupyter-exp-server-bench-"))
    try:
        if args.only in (None, "live"):
            for count in dict.fromkeys(others):
                bench_live(work, steps, count, rows, args.profile)
        if args.only in (None, "table"):
            bench_big_table(work, size, repeat, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"jupyter_exp server extension — {platform.node()}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; repeat={repeat}"
    )
    print()
    print("| workload | measured | note |")
    print("|---|---|---|")
    for workload, measured, note in rows:
        print(f"| {workload} | {measured} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
