"""Data push and pull, jupyter_exp against DVC in the same run, printed as one table.

    python bench/remote.py [--small N] [--large-mb N] [--repeat N] [--only local|s3|ssh|http] [--quick]

Two data sets: ``--small`` files of 1-4 KiB in one tracked directory (default 1,000), and
one ``--large-mb`` file (default 1024); 0 leaves one out. Four remotes: a local directory, S3 served on
localhost by moto's server, SSH served by the tests' asyncssh SFTP server (key auth) and
HTTP served by the tests' upload-capable HTTP server (each started here, in a process of
its own; DVC gets ``dvc-s3`` and ``dvc-ssh`` through bench/dvc_env.py).
For each, ``jupyter dvc push`` and ``dvc push`` each send the data to an empty
remote of their own, then ``jupyter dvc pull`` and ``dvc pull`` each bring it back
into an empty cache and workspace (``.dvc/tmp`` cleared too, so neither tool starts
warm). Both are run as the commands a user types, in alternating order, ``--repeat``
times; the table gives the median seconds and DVC / ours, and the median CPU seconds
(user + system) each command used, steadier than the clock on a shared machine. ``--quick`` shrinks
everything so CI can keep the script alive; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dvc_env import DVC_VERSION, dvc_executable, ensure_dvc_plugins  # noqa: E402

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _ours() -> list[str]:
    return [sys.executable, "-m", "jupyter_exp.cli.dvc"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], cwd: Path, env: dict, cpu: list[float]) -> float:
    """Seconds ``cmd`` took; the CPU seconds it used (user + system) go on ``cpu``: on a
    shared machine they vary far less than the wall clock."""
    started, used = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    cpu.append(_cpu() - used)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def _make_project(root: Path, dvc: Path, env: dict, small: int, large_mb: int) -> None:
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    if small:
        data = root / "data"
        data.mkdir()
        for i in range(small):
            (data / f"{i:05d}.bin").write_bytes(os.urandom(1024 + (i * 37) % 3072))
    else:
        with open(root / "big.bin", "wb") as fobj:
            for _ in range(large_mb):
                fobj.write(os.urandom(1 << 20))
    subprocess.run([str(dvc), "init", "-q"], cwd=root, env=env, check=True)
    subprocess.run([str(dvc), "add", "-q", "data" if small else "big.bin"], cwd=root, env=env, check=True)


def _reset_for_pull(root: Path, small: bool) -> None:
    for rel in (".dvc/cache", ".dvc/tmp", "data" if small else "big.bin"):
        path = root / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _add_remote(root: Path, dvc: Path, env: dict, name: str, url: str, options: dict[str, str]) -> None:
    subprocess.run([str(dvc), "remote", "add", "-f", name, url], cwd=root, env=env, check=True)
    for option, value in options.items():
        subprocess.run([str(dvc), "remote", "modify", name, option, value], cwd=root, env=env, check=True)


def measure(kind: str, label: str, small: int, large_mb: int, repeat: int, work: Path, server: dict) -> list:
    """Rows ``(workload, ours median, dvc median, ours CPU median, dvc CPU median)`` for
    push and pull of one data set."""
    dvc = dvc_executable()
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", **S3_ENV}
    slug = "small" if small else "large"
    root = work / f"{kind}-{slug}"
    _make_project(root, dvc, env, small, large_mb)
    data = root / ("data" if small else "big.bin")
    times: dict[str, list[float]] = {"push ours": [], "push dvc": [], "pull ours": [], "pull dvc": []}
    cpu: dict[str, list[float]] = {key: [] for key in times}
    for attempt in range(repeat):
        if kind == "s3":
            import boto3

            bucket = f"bench-{'small' if small else 'large'}-{attempt}"
            client = boto3.client(
                "s3",
                endpoint_url=server["endpointurl"],
                region_name="us-east-1",
                aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
            )
            client.create_bucket(Bucket=bucket)
            urls = {"ours": f"s3://{bucket}/ours", "dvc": f"s3://{bucket}/dvc"}
        elif kind in ("ssh", "http"):  # the server's root is work/<kind>-root
            urls = {tool: f"{server['base']}/remote-{slug}-{tool}-{attempt}" for tool in ("ours", "dvc")}
        else:
            urls = {tool: str(work / f"remote-{slug}-{tool}-{attempt}") for tool in ("ours", "dvc")}
        for tool, url in urls.items():
            _add_remote(root, dvc, env, tool, url, server.get("options", {}))
        order = ("ours", "dvc") if attempt % 2 == 0 else ("dvc", "ours")
        # push: the cache holds the data (as after `dvc add`), the remote is empty
        for tool in order:
            cmd = [*_ours(), "push", "-r", "ours"] if tool == "ours" else [str(dvc), "push", "-r", "dvc"]
            times[f"push {tool}"].append(_run(cmd, root, env, cpu[f"push {tool}"]))
        # pull: an empty cache and workspace, as in a fresh clone
        for tool in order:
            _reset_for_pull(root, bool(small))
            cmd = [*_ours(), "pull", "-r", "ours"] if tool == "ours" else [str(dvc), "pull", "-r", "dvc"]
            times[f"pull {tool}"].append(_run(cmd, root, env, cpu[f"pull {tool}"]))
        assert data.exists()
        if kind == "local":
            for url in urls.values():
                shutil.rmtree(url, ignore_errors=True)
        elif kind in ("ssh", "http"):
            for tool in urls:
                shutil.rmtree(work / f"{kind}-root" / f"remote-{slug}-{tool}-{attempt}", ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    rows = []
    for verb in ("push", "pull"):
        rows.append(
            (
                f"{verb} {label} ({kind})",
                statistics.median(times[f"{verb} ours"]),
                statistics.median(times[f"{verb} dvc"]),
                statistics.median(cpu[f"{verb} ours"]),
                statistics.median(cpu[f"{verb} dvc"]),
            )
        )
    return rows


def _start_s3() -> tuple[subprocess.Popen, str]:
    """moto's S3 server in a process of its own (so that it never shares this one's
    interpreter lock with the timing loop); returns it and its endpoint."""
    import urllib.request

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            return server, endpoint
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise SystemExit("moto's server did not start") from None
            time.sleep(0.1)


def _start_test_server(kind: str, work: Path) -> tuple[subprocess.Popen, dict]:
    """The tests' SFTP or HTTP server (tests/ssh_server.py, tests/http_server.py) in a
    process of its own, serving ``work/<kind>-root``; returns it and how remotes reach it."""
    root = work / f"{kind}-root"
    root.mkdir()
    tests = HERE.parent / "tests"
    args = [str(root)]
    if kind == "ssh":
        keys = work / "ssh-keys"
        keys.mkdir()
        args.append(str(keys))
    script = tests / ("ssh_server.py" if kind == "ssh" else "http_server.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, env=env)
    assert server.stdout is not None
    port = int(server.stdout.readline())
    if kind == "ssh":
        return server, {"base": f"ssh://tester@127.0.0.1:{port}", "options": {"keyfile": str(keys / "id_ed25519")}}
    return server, {"base": f"http://127.0.0.1:{port}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000, help="number of small files")
    parser.add_argument("--large-mb", type=int, default=1024, help="size of the large file in MiB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("local", "s3", "ssh", "http"))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.small, args.large_mb, args.repeat = 50, 8, 1
    ensure_dvc_plugins(dvc_executable())
    kinds = [args.only] if args.only else ["local", "s3", "ssh", "http"]
    rows = []
    server: subprocess.Popen | None = None
    with tempfile.TemporaryDirectory(prefix="jx-remote-bench-") as tmp:
        work = Path(tmp)
        for kind in kinds:
            reach: dict = {}
            if kind == "s3":
                server, endpoint = _start_s3()
                reach = {"endpointurl": endpoint, "options": {"endpointurl": endpoint}}
            elif kind in ("ssh", "http"):
                server, reach = _start_test_server(kind, work)
            try:
                if args.small:  # 0 leaves a data set out
                    rows += measure(kind, f"{args.small} small files", args.small, 0, args.repeat, work, reach)
                if args.large_mb:
                    rows += measure(kind, f"one {args.large_mb} MiB file", 0, args.large_mb, args.repeat, work, reach)
            finally:
                if server is not None:
                    server.kill()
                    server.wait()
                    server = None
    print(f"jupyter_exp vs DVC {DVC_VERSION}, {os.cpu_count()} CPUs, median seconds of {args.repeat} run(s)")
    print(f"{'workload':<40} {'ours':>8} {'dvc':>8} {'dvc/ours':>9} {'cpu ours':>9} {'cpu dvc':>8}")
    for name, ours, theirs, cpu_ours, cpu_theirs in rows:
        print(f"{name:<40} {ours:>8.2f} {theirs:>8.2f} {theirs / ours:>8.1f}x {cpu_ours:>9.2f} {cpu_theirs:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
