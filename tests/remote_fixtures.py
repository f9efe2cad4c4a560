"""Shared by the data-remote and gc tests: a DVC-made data project, an S3 server on
localhost (moto's, a real HTTP server in this process), DVC's S3 support, and checks
that read every object a remote holds."""

from __future__ import annotations

import hashlib
import re
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git

OBJECT = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{30}(\.dir)?$")

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
    - data/images
    - data/table.csv
    - train.py
    params:
    - lr
    outs:
    - model.bin
    metrics:
    - metrics.json:
        cache: false
"""

TRAIN = """\
import json, os, yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
n = len(os.listdir("data/images"))
rows = open("data/table.csv").read().count("\\n")
open("model.bin", "w").write(f"model lr={lr} images={n} rows={rows}\\n")
json.dump({"score": lr * n * rows}, open("metrics.json", "w"))
"""


def write_images(root: Path, count: int = 5, seed: str = "") -> None:
    images = root / "data" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (images / f"{i}.png").write_bytes(f"image {seed}{i}".encode() * (i + 3))


def make_data_project(root: Path, dvc, monkeypatch, images: int = 5) -> Path:
    """A committed project made by DVC: ``data/images`` (a directory) and
    ``data/table.csv`` tracked by ``.dvc`` files, and a reproduced stage with a cached
    ``model.bin``. The current directory is ``root`` afterwards."""
    root.mkdir(parents=True)
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    write_images(root, images)
    (root / "data" / "table.csv").write_text("a,b\n1,2\n3,4\n")
    (root / "params.yaml").write_text("lr: 0.1\n")
    (root / "train.py").write_text(TRAIN)
    (root / "dvc.yaml").write_text(DVC_YAML)
    dvc("init", "-q")
    dvc("add", "-q", "data/images", "data/table.csv")
    dvc("repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    return root


def data_files(root: Path) -> dict[str, bytes]:
    """The bytes of every file the data project tracks through DVC."""
    found = {}
    for rel in ("data/images", "data/table.csv", "model.bin"):
        top = root / rel
        paths = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        found.update({p.relative_to(root).as_posix(): p.read_bytes() for p in paths if p.exists()})
    return found


def cache_objects(root: Path) -> set[str]:
    """md5s of every object in ``root``'s cache."""
    base = root / ".dvc" / "cache" / "files" / "md5"
    if not base.exists():
        return set()
    return {p.parent.name + p.name for p in base.glob("*/*") if p.is_file()}


def verify_local_remote(store: Path) -> set[str]:
    """Every object under ``store/files/md5`` hashes to its name (a manifest too); only
    hidden temporary files may sit beside them. Returns the md5s."""
    found = set()
    base = store / "files" / "md5"
    for path in sorted(base.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(base).as_posix()
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        assert OBJECT.match(rel), f"stray file {rel} in the remote"
        md5 = rel.replace("/", "")
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5.removesuffix(".dir"), f"{rel} is corrupt"
        assert stat.S_IMODE(path.stat().st_mode) == 0o444, f"{rel} is writable"
        found.add(md5)
    return found


def lock_md5(root: Path, path: str) -> str:
    import yaml

    for entry in yaml.safe_load((root / "dvc.lock").read_text())["stages"].values():
        for out in entry.get("outs", []):
            if out["path"] == path:
                return out["md5"]
    raise AssertionError(f"{path} not in dvc.lock")


def dvc_file_md5(root: Path, name: str) -> str:
    import yaml

    return yaml.safe_load((root / name).read_text())["outs"][0]["md5"]


# -- S3 on localhost -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free localhost port, for this session; yields its endpoint."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture
def s3_bucket(s3_server, monkeypatch, request):
    """A fresh bucket on the localhost S3 (credentials in the environment, as a user has
    them); yields ``(endpoint, bucket, client)``."""
    import uuid

    import boto3

    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return s3_server, bucket, client


def add_s3_remote(run, name: str, endpoint: str, bucket: str, prefix: str = "store", default: bool = True) -> None:
    """Configure an S3 remote with ``run`` (the ``cli`` or the ``dvc`` fixture)."""
    run("remote", "add", *(["-d"] if default else []), name, f"s3://{bucket}/{prefix}")
    run("remote", "modify", name, "endpointurl", endpoint)


def s3_objects(client, bucket: str, prefix: str = "store") -> dict[str, bytes]:
    """Key (below ``prefix/files/md5/``) -> bytes of every object."""
    found = {}
    base = f"{prefix}/files/md5/"
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base):
        for item in page.get("Contents", []):
            found[item["Key"][len(base) :]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def verify_s3(client, bucket: str, prefix: str = "store") -> set[str]:
    """Every object under the prefix hashes to its name; returns the md5s."""
    return verify_objects(s3_objects(client, bucket, prefix))


def tree_files(top: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``top`` (an upload's temporary name too)."""
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def verify_objects(files: dict[str, bytes], prefix: str = "") -> set[str]:
    """Every file (path -> bytes, each path below ``prefix``) is an object whose bytes hash
    to its name (a manifest too); no stray or temporary file. Returns the md5s."""
    found = set()
    for rel, data in files.items():
        rel = rel.removeprefix(prefix)
        assert OBJECT.match(rel), f"stray file {rel} on the remote"
        md5 = rel.replace("/", "")
        assert hashlib.md5(data).hexdigest() == md5.removesuffix(".dir"), f"{rel} is corrupt"
        found.add(md5)
    return found


@pytest.fixture(scope="session")
def dvc_s3(dvc_exe):
    """DVC with its S3 support (``dvc-s3``) installed beside it, once, under a lock."""
    import sys

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    from dvc_env import ensure_dvc_s3

    ensure_dvc_s3(dvc_exe)
    probe = subprocess.run([str(dvc_exe.parent / "python"), "-c", "import dvc_s3"], capture_output=True)
    assert probe.returncode == 0, probe.stderr
    return dvc_exe
