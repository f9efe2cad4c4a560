"""Side-by-side benchmarks of jupyter_exp against DVC, printed as one table.

    python bench/run.py [--vs-dvc] [--quick] [--repeat N] [--data-mb N]

Each workload builds a synthetic project in a temporary folder (a 2-stage pipeline of
trivial ``python`` stages, nested params, a data file of the chosen size) and runs
several times; the table gives the median and min-max in milliseconds, the peak
resident memory of the measured process, and with ``--vs-dvc`` the same workload on
DVC 3 (installed by bench/dvc_env.py) and the ratio DVC / ours. ``--quick`` uses small
sizes and few repeats, so CI can run it to keep the code alive; it asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import widget as widget_bench  # noqa: E402
from dvc_env import DVC_VERSION, dvc_executable  # noqa: E402

PARAMS = """# nested params, as real projects have them
prepare:
  scale: 2
train:
  lr: 0.01
  epochs: 3
  model:
    depth: 4
    act: relu
    layers: [64, 32]
"""
PREPARE = "import shutil\nshutil.copyfile('data/raw.bin', 'prepared.bin')\n"
TRAIN = (
    "import json\njson.dump({'acc': 0.9, 'loss': 0.1}, open('metrics.json', 'w'))\nopen('model.bin', 'w').write('m')\n"
)
DVC_YAML = """stages:
  prepare:
    cmd: python prepare.py
    deps: [data/raw.bin, prepare.py]
    params: [prepare.scale]
    outs: [prepared.bin]
  train:
    cmd: python train.py
    deps: [prepared.bin, train.py]
    params: [train]
    outs: [model.bin]
    metrics:
    - metrics.json:
        cache: false
"""


@dataclass
class Row:
    workload: str
    ours: list[float] = field(default_factory=list)
    ours_mem: int = 0
    dvc: list[float] = field(default_factory=list)
    dvc_mem: int = 0
    note: str = ""

    def time_ours(self, cmd: list[str], cwd: Path, minus: float = 0.0) -> None:
        """Run ``cmd`` once; keep its time (less ``minus``) and its peak memory."""
        t, mem = run_timed(cmd, cwd)
        self.ours.append(t - minus)
        self.ours_mem = max(self.ours_mem, mem)

    def time_dvc(self, cmd: list[str], cwd: Path, env: dict, minus: float = 0.0) -> None:
        t, mem = run_timed(cmd, cwd, env)
        self.dvc.append(t - minus)
        self.dvc_mem = max(self.dvc_mem, mem)


def run_timed(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float | None = None) -> tuple[float, int]:
    """Wall time in ms and peak RSS in MB of one command (its own rusage, via wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    if timeout is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
        return elapsed, 0
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{err}")
    proc.stderr and proc.stderr.close()
    return elapsed, usage.ru_maxrss // 1024


def run_captured(cmd: list[str], cwd: Path) -> tuple[str, int]:
    """stdout and peak RSS in MB of a measuring script (in-process workloads)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = proc.stdout.read()  # the scripts print a line; their stderr stays small
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark script failed in {cwd}:\n{err}")
    return out, usage.ru_maxrss // 1024


def make_project(root: Path, data_bytes: int) -> Path:
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.email", "bench@example.com"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.name", "Bench"], cwd=root, check=True)
    (root / "data").mkdir()
    with open(root / "data" / "raw.bin", "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(max(1, data_bytes >> 20)):
            f.write(chunk)
    (root / "params.yaml").write_text(PARAMS)
    (root / "prepare.py").write_text(PREPARE)
    (root / "train.py").write_text(TRAIN)
    (root / "dvc.yaml").write_text(DVC_YAML)
    subprocess.run(
        [sys.executable, "-m", "jupyter_exp.cli.dvc", "init"], cwd=root, check=True, stdout=subprocess.DEVNULL
    )
    # Tracked by a .dvc file, so that runs in temporary directories find it in the cache.
    subprocess.run(
        [sys.executable, "-m", "jupyter_exp.cli.dvc", "add", "data/raw.bin"],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)
    return root


def ours_cmd(*args: str, space: str = "exp") -> list[str]:
    """``jupyter exp ARGS`` (``space="dvc"``: ``jupyter dvc ARGS``) as installed beside this Python."""
    exe = Path(sys.executable).parent / f"jupyter-{space}"
    return [str(exe) if exe.exists() else f"jupyter-{space}", *args]


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:.1f} ({min(values):.1f}-{max(values):.1f})"


def bench_imports(row_import: Row, repeat: int) -> None:
    for _ in range(repeat):
        row_import.time_ours([sys.executable, "-c", "import jupyter_exp"], Path.cwd())


def bench_repro(work: Path, repeat: int, data_mb: int, dvc: Path | None, rows: dict[str, Row]) -> None:
    ours = make_project(work / "ours", data_mb << 20)
    # Both tools get the same warm-up: one run that reproduces, one no-op.
    for _ in range(2):
        subprocess.run(ours_cmd("repro"), cwd=ours, check=True, stdout=subprocess.DEVNULL)
    for _ in range(repeat):
        rows["noop"].time_ours(ours_cmd("repro"), ours)
    for _ in range(repeat):
        rows["forced"].time_ours(ours_cmd("repro", "-f"), ours)
    # Warm, in-process (as the kernel runs it).
    code = (
        "import time, statistics, jupyter_exp, os\n"
        "jupyter_exp.repro(echo=lambda s: None)\n"
        f"ts = []\nfor _ in range({repeat}):\n"
        "    t = time.perf_counter(); jupyter_exp.repro(echo=lambda s: None)\n"
        "    ts.append((time.perf_counter() - t) * 1000)\n"
        "print(' '.join(f'{t:.3f}' for t in ts))\n"
    )
    out, rows["noop_api"].ours_mem = run_captured([sys.executable, "-c", code], ours)
    rows["noop_api"].ours = [float(x) for x in out.split()]
    if dvc is not None:
        theirs = make_project(work / "theirs", data_mb << 20)
        env = dict(os.environ, DVC_NO_ANALYTICS="1")
        for _ in range(2):
            subprocess.run([str(dvc), "repro"], cwd=theirs, check=True, stdout=subprocess.DEVNULL, env=env)
        for _ in range(repeat):
            rows["noop"].time_dvc([str(dvc), "repro"], theirs, env)
        for _ in range(repeat):
            rows["forced"].time_dvc([str(dvc), "repro", "-f"], theirs, env)


CACHE_DVC_YAML = """stages:
  make:
    cmd: python make.py
    deps: [data/raw.bin, make.py]
    outs: [out.bin]
"""
# A new output every run (16 random bytes at its end), so each run stores a new object.
MAKE = "import os, shutil\nshutil.copyfile('data/raw.bin', 'out.bin')\nopen('out.bin', 'ab').write(os.urandom(16))\n"


def bench_cache(work: Path, repeat: int, data_mb: int, rows: dict[str, Row]) -> None:
    """Saving a large output into the cache (forced repro) and checking it out again.

    Both run under the default ``cache.type``: copies (or reflinks where the file system
    has them), so a write into the workspace file can never change the cache object.
    """
    root = make_project(work / "cache", data_mb << 20)
    (root / "dvc.yaml").write_text(CACHE_DVC_YAML)
    (root / "make.py").write_text(MAKE)
    subprocess.run(ours_cmd("repro"), cwd=root, check=True, stdout=subprocess.DEVNULL)
    command_ms = statistics.median(run_timed([sys.executable, "make.py"], root)[0] for _ in range(repeat))
    for _ in range(repeat):
        rows["cache_save"].time_ours(ours_cmd("repro", "-f"), root, minus=command_ms)
    for _ in range(repeat):
        (root / "out.bin").unlink()
        rows["cache_checkout"].time_ours(ours_cmd("checkout", space="dvc"), root)
    rows["cache_save"].note = f"{data_mb} MB output; the stage command's own {command_ms:.0f} ms taken off"
    rows["cache_checkout"].note = f"{data_mb} MB output, deleted first"


def bench_hash(work: Path, repeat: int, data_mb: int, rows: dict[str, Row]) -> None:
    """First hash of a large file against md5sum, then the unchanged check."""
    path = work / "big.bin"
    with open(path, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(data_mb):
            f.write(chunk)
    code = (
        "import sys, time\nfrom pathlib import Path\n"
        "from jupyter_exp.pipeline.hashing import Hasher, State\n"
        "db = Path(sys.argv[2]); p = Path(sys.argv[1])\n"
        "h = Hasher(State(db)); t = time.perf_counter(); h.hash_path(p); h.flush()\n"
        "first = (time.perf_counter() - t) * 1000\n"
        "h2 = Hasher(State(db)); t = time.perf_counter(); h2.hash_path(p)\n"
        "again = (time.perf_counter() - t) * 1000\n"
        "print(first, again, h2.files_read)\n"
    )
    for i in range(repeat):
        db = work / f"state{i}.db"
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # same page-cache state for both
        t_md5sum, _ = run_timed(["md5sum", str(path)], work)
        text, mem = run_captured([sys.executable, "-c", code, str(path), str(db)], work)
        out = text.split()
        rows["hash"].ours_mem = max(rows["hash"].ours_mem, mem)
        first, again, reread = float(out[0]), float(out[1]), int(out[2])
        rows["hash"].ours.append(first)
        rows["hash"].dvc.append(t_md5sum)
        rows["unchanged"].ours.append(again)
        assert reread == 0, "the unchanged check must not read the file"
    rows["hash"].note = f"{data_mb} MB; right column is md5sum, not DVC"
    rows["unchanged"].note = f"{data_mb} MB file, state table hit, 0 bytes read"


def _command_ms(project: Path, repeat: int) -> float:
    """Median time of the stage command an ``exp run -S train.lr=...`` reruns (train)."""
    times = []
    for _ in range(repeat):
        t, _ = run_timed([sys.executable, "train.py"], project)
        times.append(t)
    return statistics.median(times)


def bench_exp_run(work: Path, repeat: int, dvc: Path | None, rows: dict[str, Row]) -> None:
    """exp run overhead: wall time minus the stage command it reruns."""
    ours = make_project(work / "exp-ours", 1 << 20)
    subprocess.run(ours_cmd("repro"), cwd=ours, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["git", "add", "-A"], cwd=ours, check=True)
    subprocess.run(["git", "commit", "-qm", "ran"], cwd=ours, check=True)
    command = _command_ms(ours, repeat)
    for i in range(repeat):
        rows["exp_cli"].time_ours(ours_cmd("run", "-S", f"train.lr={0.001 * (i + 1)}"), ours, command)
    code = (
        "import sys, time, jupyter_exp\n"
        "ts = []\n"
        f"for i in range({repeat + 1}):\n"
        "    t = time.perf_counter()\n"
        "    jupyter_exp.run(params={'train.lr': 0.5 + i / 1000}, echo=lambda s: None)\n"
        "    ts.append((time.perf_counter() - t) * 1000)\n"
        "print(' '.join(f'{t:.3f}' for t in ts[1:]))\n"  # the first call warms the process
    )
    out, rows["exp_api"].ours_mem = run_captured([sys.executable, "-c", code], ours)
    rows["exp_api"].ours = [float(x) - command for x in out.split()]
    rows["exp_cli"].note = rows["exp_api"].note = f"minus the stage command itself ({command:.0f} ms)"
    if dvc is not None:
        theirs = make_project(work / "exp-theirs", 1 << 20)
        env = dict(os.environ, DVC_NO_ANALYTICS="1")
        subprocess.run([str(dvc), "repro"], cwd=theirs, check=True, stdout=subprocess.DEVNULL, env=env)
        subprocess.run(["git", "add", "-A"], cwd=theirs, check=True)
        subprocess.run(["git", "commit", "-qm", "ran"], cwd=theirs, check=True)
        for i in range(repeat):
            rows["exp_cli"].time_dvc(
                [str(dvc), "exp", "run", "-S", f"train.lr={0.001 * (i + 1)}"], theirs, env, command
            )
        rows["exp_api"].dvc = rows["exp_cli"].dvc  # DVC has no warm in-process path


def make_experiments(root: Path, count: int) -> None:
    """``count`` experiment commits on HEAD, written in one ``git fast-import``.

    Each has its own params.yaml, metrics.json and dvc.lock, as exp run would leave them.
    """
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    lock = (root / "dvc.lock").read_text()
    stream = io.StringIO()
    for i in range(count):
        lr = round(0.0001 * (i + 1), 6)
        files = {
            "params.yaml": PARAMS.replace("lr: 0.01", f"lr: {lr}"),
            "metrics.json": f'{{"acc": {round(0.5 + (i % 500) / 1000, 4)}, "loss": {round(1 / (i + 2), 6)}}}',
            "dvc.lock": lock.replace("lr: 0.01", f"lr: {lr}"),
        }
        name = f"exp-{i:05d}"
        stream.write(f"commit refs/exps/{head[:2]}/{head[2:]}/{name}\n")
        stream.write(f"committer Bench <bench@example.com> {1_790_000_000 + i} +0000\n")
        message = f"dvc: commit experiment {i}"
        stream.write(f"data {len(message)}\n{message}\nfrom {head}\n")
        for path, text in files.items():
            data = text.encode()
            stream.write(f"M 100644 inline {path}\ndata {len(data)}\n")
            stream.write(text + "\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=stream.getvalue().encode(), check=True)


def bench_exp_show(
    work: Path, sizes: list[int], repeat: int, dvc: Path | None, dvc_max: int, rows: dict[str, Row]
) -> None:
    for size in sizes:
        root = make_project(work / f"show-{size}", 1 << 10)
        subprocess.run(ours_cmd("repro"), cwd=root, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", "ran"], cwd=root, check=True)
        make_experiments(root, size)
        cold, warm = Row(f"exp show --json, {size} exps, first time"), Row(f"exp show --json, {size} exps, warm")
        own = root / ".dvc" / "tmp" / "jupyter_exp"
        for _ in range(max(1, repeat // 2)):
            # First time: nothing derived from these commits, no output remembered.
            (own / "show-cache.json").unlink(missing_ok=True)
            shutil.rmtree(own / "show-output", ignore_errors=True)
            cold.time_ours(ours_cmd("show", "--json"), root)
        for _ in range(repeat):
            warm.time_ours(ours_cmd("show", "--json"), root)
        if dvc is not None and size <= dvc_max:
            env = dict(os.environ, DVC_NO_ANALYTICS="1")
            for _ in range(max(1, repeat // 2)):
                cold.time_dvc([str(dvc), "exp", "show", "--json", "-f"], root, env)
            for _ in range(max(1, repeat // 2)):
                warm.time_dvc([str(dvc), "exp", "show", "--json"], root, env)
            cold.note = "DVC with -f (its cache ignored)"
        rows[f"show_cold_{size}"] = cold
        rows[f"show_warm_{size}"] = warm


CACHED_METRICS_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    outs: [eval]
metrics: [eval/metrics.json]
"""


def _cached_eval(root: Path, i: int) -> str:
    """``eval/metrics.json`` of experiment ``i`` stored in the cache inside an ``eval``
    directory (its object and ``.dir`` manifest, as DVC stores them); the lock entry."""
    objects = root / ".dvc" / "cache" / "files" / "md5"
    metrics = f'{{"acc": {round(0.5 + (i % 500) / 1000, 4)}, "loss": {round(1 / (i + 2), 6)}}}'.encode()
    md5 = hashlib.md5(metrics).hexdigest()
    manifest = json.dumps([{"md5": md5, "relpath": "metrics.json"}]).encode()
    dir_md5 = hashlib.md5(manifest).hexdigest() + ".dir"
    for digest, data in ((md5, metrics), (dir_md5, manifest)):
        (objects / digest[:2]).mkdir(parents=True, exist_ok=True)
        (objects / digest[:2] / digest[2:]).write_bytes(data)
    lr = round(0.0001 * (i + 1), 6) if i >= 0 else 0.01
    return (
        f"schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n    - path: train.py\n"
        f"      hash: md5\n      md5: '{'0' * 32}'\n      size: 1\n    params:\n      params.yaml:\n"
        f"        train:\n          lr: {lr}\n    outs:\n    - path: eval\n      hash: md5\n"
        f"      md5: {dir_md5}\n      size: {len(metrics)}\n      nfiles: 1\n"
    )


def bench_exp_show_cached(work: Path, size: int, repeat: int, rows: dict[str, Row]) -> None:
    """``exp show --json`` where every row's metrics live inside a cached ``eval``
    directory (example-get-started's shape), against the same table with plain
    git-tracked metrics files (the ``show`` group's project)."""
    timings = {}
    for kind in ("plain", "cached"):
        root = make_project(work / f"show-{kind}-{size}", 1 << 10)
        if kind == "plain":
            subprocess.run(ours_cmd("repro"), cwd=root, check=True, stdout=subprocess.DEVNULL)
        else:
            (root / "dvc.yaml").write_text(CACHED_METRICS_YAML)
            (root / "train.py").write_text("pass\n")
            (root / "dvc.lock").write_text(_cached_eval(root, -1))
            (root / ".gitignore").write_text("/eval\n")
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", "ran"], cwd=root, check=True)
        if kind == "plain":
            make_experiments(root, size)
        else:
            _make_cached_experiments(root, size)
        cold, warm = Row("cold"), Row("warm")
        own = root / ".dvc" / "tmp" / "jupyter_exp"
        for _ in range(max(1, repeat // 2)):
            (own / "show-cache.json").unlink(missing_ok=True)
            shutil.rmtree(own / "show-output", ignore_errors=True)
            cold.time_ours(ours_cmd("show", "--json"), root)
        for _ in range(repeat):
            warm.time_ours(ours_cmd("show", "--json"), root)
        timings[kind] = (cold, warm)
    for index, label in ((0, "first time"), (1, "warm")):
        row = Row(f"exp show --json, {size} exps, metrics inside a cached eval/, {label}")
        row.ours, row.ours_mem = timings["cached"][index].ours, timings["cached"][index].ours_mem
        row.dvc = timings["plain"][index].ours
        row.note = "other = ours on the same table with plain git-tracked metrics"
        rows[f"show_cached_{index}_{size}"] = row


def _make_cached_experiments(root: Path, count: int) -> None:
    """``count`` experiment commits whose ``eval/metrics.json`` is only in the cache."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    stream = io.StringIO()
    for i in range(count):
        lr = round(0.0001 * (i + 1), 6)
        files = {"params.yaml": PARAMS.replace("lr: 0.01", f"lr: {lr}"), "dvc.lock": _cached_eval(root, i)}
        stream.write(f"commit refs/exps/{head[:2]}/{head[2:]}/exp-{i:05d}\n")
        stream.write(f"committer Bench <bench@example.com> {1_790_000_000 + i} +0000\n")
        message = f"dvc: commit experiment {i}"
        stream.write(f"data {len(message)}\n{message}\nfrom {head}\n")
        for path, text in files.items():
            stream.write(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=stream.getvalue().encode(), check=True)


def bench_magics(work: Path, size: int, repeat: int, rows: dict[str, Row]) -> None:
    """``%load_ext jupyter_exp`` and ``%exp show`` rendered to HTML, in an IPython shell."""
    root = make_project(work / f"magic-{size}", 1 << 10)
    subprocess.run(ours_cmd("repro"), cwd=root, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "ran"], cwd=root, check=True)
    make_experiments(root, size)
    code = (
        "import time\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'jupyter_exp')\n"
        "load = (time.perf_counter() - t) * 1000\n"
        "ts = []\n"
        f"for _ in range({repeat + 1}):\n"
        "    t = time.perf_counter(); html = ip.run_line_magic('exp', 'show')._repr_html_()\n"
        "    ts.append((time.perf_counter() - t) * 1000)\n"
        "print(load, ' '.join(f'{x:.3f}' for x in ts))\n"
    )
    for _ in range(repeat):
        text, mem = run_captured([sys.executable, "-c", code], root)
        out = text.split()
        rows["load_ext"].ours.append(float(out[0]))
        rows["load_ext"].ours_mem = max(rows["load_ext"].ours_mem, mem)
    times = [float(x) for x in out[1:]]
    rows["magic_show_first"] = Row(f"%exp show, {size} exps, rendered (first in a kernel)", [times[0]], mem)
    rows["magic_show"] = Row(f"%exp show, {size} exps, rendered (again)", times[1:], mem)
    widget_bench.bench_table(root, size, repeat, rows, Row)


def bench_widget_live(work: Path, steps: int, others: int, rows: dict[str, Row]) -> None:
    for count in (0, others):
        root = make_project(work / f"live-{count}", 1 << 10)
        widget_bench.bench_live(root, steps, ours_cmd, rows, Row, count, make_experiments)


def _lrs(size: int) -> str:
    return ",".join(str(round(0.001 * (i + 1), 4)) for i in range(size))


def _queued_project(root: Path, size: int) -> Path:
    """A project of ours, reproduced and committed, with ``size`` experiments queued."""
    root = make_project(root, 1 << 10)
    subprocess.run(ours_cmd("repro"), cwd=root, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "ran"], cwd=root, check=True)
    subprocess.run(
        ours_cmd("run", "--queue", "-S", f"train.lr={_lrs(size)}"), cwd=root, check=True, stdout=subprocess.DEVNULL
    )
    return root


def bench_queue(work: Path, size: int, dvc: Path | None, rows: dict[str, Row], timeout: float) -> None:
    """``size`` queued trivial experiments, run with --run-all -j 1 and -j 2 (wall time)."""
    for jobs in (1, 2):
        row = rows[f"queue_j{jobs}"] = Row(f"{size} queued experiments, --run-all -j {jobs}")
        ours = _queued_project(work / f"queue-ours-{jobs}", size)
        lrs = _lrs(size)
        t, mem = run_timed(ours_cmd("run", "--run-all", "-j", str(jobs)), ours)
        row.ours, row.ours_mem = [t], mem
        if dvc is None:
            continue
        theirs = make_project(work / f"queue-theirs-{jobs}", 1 << 10)
        # DVC's queue workers start `dvc` by name: its environment must be on PATH.
        env = dict(os.environ, DVC_NO_ANALYTICS="1", PATH=f"{dvc.parent}{os.pathsep}{os.environ['PATH']}")
        subprocess.run([str(dvc), "repro"], cwd=theirs, check=True, stdout=subprocess.DEVNULL, env=env)
        subprocess.run(["git", "add", "-A"], cwd=theirs, check=True)
        subprocess.run(["git", "commit", "-qm", "ran"], cwd=theirs, check=True)
        subprocess.run(
            [str(dvc), "exp", "run", "--queue", "-S", f"train.lr={lrs}"],
            cwd=theirs,
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        try:
            t, mem = run_timed([str(dvc), "exp", "run", "--run-all", "-j", str(jobs)], theirs, env, timeout)
            row.dvc, row.dvc_mem = [t], mem
            done = subprocess.run(
                ["git", "for-each-ref", "refs/exps"], cwd=theirs, capture_output=True, text=True
            ).stdout
            if done.count("refs/exps/") - done.count("refs/exps/celery") < size:
                row.note = "DVC finished fewer experiments than queued"
        except subprocess.TimeoutExpired:
            row.note = f"DVC did not finish within {timeout:.0f} s"
        subprocess.run([str(dvc), "queue", "stop", "--kill"], cwd=theirs, env=env, capture_output=True)
    # The same batch on a local Dask cluster of 2 worker processes (its start included).
    row = rows["queue_dask"] = Row(f"{size} queued experiments, --run-all -j 2 --executor dask")
    ours = _queued_project(work / "queue-dask", size)
    row.time_ours(ours_cmd("run", "--run-all", "-j", "2", "--executor", "dask"), ours)
    row.note = "a local cluster started for the batch"


CHECKPOINT_TRAIN = """import os, sys, time, statistics
from jupyter_exp import live
steps = int(sys.argv[1])
costs = []
for step in range(steps):
    with open("model.bin", "wb") as f:
        f.write(os.urandom(10 * 1024 * 1024))
    live.log_metric("loss", 1 / (step + 1))
    t = time.perf_counter()
    live.next_step(total=steps)
    costs.append((time.perf_counter() - t) * 1000)
open("costs.txt", "w").write(" ".join(f"{c:.3f}" for c in costs))
"""


def bench_checkpoints(
    work: Path, steps: int, chains: int, chain_length: int, repeat: int, rows: dict[str, Row]
) -> None:
    """One checkpoint (commit + cache of a 10 MB output), a run of ``steps`` steps, and
    exp show over ``chains`` experiments of ``chain_length`` checkpoints each."""
    root = make_project(work / "checkpoints", 1 << 10)
    (root / "ck.py").write_text(CHECKPOINT_TRAIN)
    (root / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: python ck.py {steps}\n    deps: [ck.py]\n"
        "    outs:\n    - model.bin:\n        checkpoint: true\n    - costs.txt:\n        cache: false\n"
        "    metrics:\n    - dvclive/metrics.json:\n        cache: false\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "checkpoints"], cwd=root, check=True)
    t, mem = run_timed(ours_cmd("run", "-n", "long"), root)
    rows["ck_run"] = Row(f"checkpoint run of {steps} steps, 10 MB output (CLI, total)", [t], mem)
    rows["ck_one"] = Row(
        "one checkpoint: cache a 10 MB output + commit (seen from the stage)",
        [float(x) for x in (root / "costs.txt").read_text().split()],
        mem,
    )
    # exp show over many long chains, written with fast-import
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    lock = (root / "dvc.lock").read_text() if (root / "dvc.lock").exists() else ""
    stream = io.StringIO()
    mark = 0
    for c in range(chains):
        previous = head
        for step in range(chain_length):
            mark += 1
            files = {"dvclive/metrics.json": f'{{"step": {step}, "loss": {1 / (step + 1 + c):.6f}}}', "dvc.lock": lock}
            ref = f"refs/exps/{head[:2]}/{head[2:]}/chain-{c:02d}"
            stream.write(f"commit {ref}\nmark :{mark}\n")
            stream.write(f"committer Bench <bench@example.com> {1_790_000_000 + mark} +0000\n")
            message = f"checkpoint {step}"
            stream.write(f"data {len(message)}\n{message}\nfrom {previous}\n")
            for path, text in files.items():
                stream.write(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n")
            previous = f":{mark}"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=stream.getvalue().encode(), check=True)
    own = root / ".dvc" / "tmp" / "jupyter_exp"
    (own / "show-cache.json").unlink(missing_ok=True)
    shutil.rmtree(own / "show-output", ignore_errors=True)
    cold, cold_mem = run_timed(ours_cmd("show", "--json"), root)
    warm_runs = [run_timed(ours_cmd("show", "--json"), root) for _ in range(repeat)]
    rows["ck_show_cold"] = Row(
        f"exp show --json, {chains} exps x {chain_length} checkpoints, first time", [cold], cold_mem
    )
    rows["ck_show_warm"] = Row(
        f"exp show --json, {chains} exps x {chain_length} checkpoints, warm",
        [t for t, _ in warm_runs],
        max(m for _, m in warm_runs),
    )


GROUPS = (
    "import",
    "repro",
    "hash",
    "cache",
    "exp_run",
    "magics",
    "widget",
    "queue",
    "checkpoints",
    "show",
    "show_cached",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs-dvc", action="store_true", help=f"also run DVC {DVC_VERSION} and print ratios")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--data-mb", type=int, default=None, help="size of the large dependency")
    parser.add_argument("--show-sizes", type=int, nargs="*", help="experiment counts for exp show")
    parser.add_argument("--queue-size", type=int, default=None, help="queued experiments to run")
    parser.add_argument("--dvc-timeout", type=float, default=600, help="seconds before a DVC queue run is given up")
    parser.add_argument(
        "--dvc-show-max", type=int, default=1000, help="largest experiment count to time DVC's exp show on (it is slow)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(GROUPS), help="run only these groups of workloads (default: all)"
    )
    args = parser.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 7)
    data_mb = args.data_mb or (8 if args.quick else 1024)
    dvc = dvc_executable() if args.vs_dvc else None

    rows = {
        "import": Row("python -c 'import jupyter_exp'"),
        "noop": Row("no-op repro, 2 stages (CLI)"),
        "noop_api": Row("no-op repro, 2 stages (api, warm process)"),
        "forced": Row("forced repro -f, 2 stages (CLI)"),
        "hash": Row("first hash of a large dependency"),
        "unchanged": Row("unchanged check of that dependency"),
        "load_ext": Row("%load_ext jupyter_exp (in an IPython shell)"),
        "exp_cli": Row("exp run overhead, 2 stages (CLI)"),
        "exp_api": Row("exp run overhead, 2 stages (api, warm; DVC: CLI)"),
        "cache_save": Row("forced repro of a stage writing a large output (cache save)"),
        "cache_checkout": Row("checkout of that large output"),
    }
    only = set(args.only or GROUPS)
    with tempfile.TemporaryDirectory(prefix="jupyter-exp-bench-") as tmp:
        work = Path(tmp)
        if "import" in only:
            bench_imports(rows["import"], repeat)
        if "repro" in only:
            bench_repro(work, repeat, 1, dvc, rows)
        if "hash" in only:
            bench_hash(work, repeat, data_mb, rows)
        if "cache" in only:
            bench_cache(work, repeat, data_mb, rows)
        if "exp_run" in only:
            bench_exp_run(work, repeat, dvc, rows)
        if "magics" in only:
            bench_magics(work, 100 if args.quick else 1000, repeat, rows)
        if "widget" in only:
            bench_widget_live(work, 6 if args.quick else 20, 100 if args.quick else 1000, rows)
        if "queue" in only:
            bench_queue(work, args.queue_size or (4 if args.quick else 16), dvc, rows, args.dvc_timeout)
        if "checkpoints" in only:
            bench_checkpoints(
                work, 5 if args.quick else 200, 2 if args.quick else 20, 5 if args.quick else 200, repeat, rows
            )
        if "show" in only:
            bench_exp_show(
                work,
                args.show_sizes or ([10, 100] if args.quick else [10, 100, 1000, 10000]),
                repeat,
                dvc,
                args.dvc_show_max,
                rows,
            )
        if "show_cached" in only:
            bench_exp_show_cached(work, 100 if args.quick else 1000, repeat, rows)
        rows = {key: row for key, row in rows.items() if row.ours or row.dvc}

    print(
        f"jupyter_exp benchmarks — {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; repeat={repeat}" + (f"; DVC {DVC_VERSION}" if dvc else "")
    )
    print()
    print("| workload | ours ms, median (min-max) | peak MB | other ms | other peak MB | ratio other/ours | note |")
    print("|---|---|---|---|---|---|---|")
    for row in rows.values():
        ratio = f"{statistics.median(row.dvc) / statistics.median(row.ours):.1f}x" if row.dvc and row.ours else "-"
        other = "DVC" if not row.workload.startswith(("first hash", "unchanged")) and row.dvc else ""
        print(
            f"| {row.workload} | {fmt(row.ours)} | {row.ours_mem or '-'} | {fmt(row.dvc)} | "
            f"{row.dvc_mem or '-'} | {ratio} | {row.note or other} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
