"""Data and experiments through an S3 remote served on localhost by moto's server, with
DVC 3.67.1 (and dvc-s3) on the other side: each tool pulls what the other pushed, the
bucket holds the same keys and bytes whichever pushed, an interrupted push completes
on the next one, and a fresh clone gets an experiment with ``exp pull`` and applies it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from remote_fixtures import (  # noqa: F401  (fixtures)
    add_s3_remote,
    cache_objects,
    data_files,
    dvc_file_md5,
    dvc_s3,
    lock_md5,
    make_data_project,
    s3_bucket,
    s3_objects,
    s3_server,
    verify_local_remote,
    verify_s3,
)

import jupyter_exp


@pytest.fixture
def s3_origin(tmp_path, dvc, dvc_s3, s3_bucket, monkeypatch):  # noqa: F811
    """The data project, its default remote an empty S3 prefix, committed; a bare git
    remote ``origin`` holding main."""
    endpoint, bucket, client = s3_bucket
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    add_s3_remote(dvc, "s3", endpoint, bucket)
    git(root, "commit", "-qam", "s3 remote")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    return root, bucket, client


def _clone(tmp_path: Path, name: str, monkeypatch) -> Path:
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(clone))
    git(clone, "config", "user.email", "b@example.com")
    git(clone, "config", "user.name", "B")
    monkeypatch.chdir(clone)
    return clone


def test_our_s3_push_is_dvcs_and_dvc_pulls_it(s3_origin, tmp_path, monkeypatch, cli, dvc, jdvc):
    root, bucket, client = s3_origin
    expected = data_files(root)
    assert jdvc("push").stdout == "8 files pushed\n"
    ours = s3_objects(client, bucket)
    dvc("remote", "add", "--local", "theirs", f"s3://{bucket}/theirs")
    endpoint = jupyter_exp.Project(root).config.get('remote "s3"', "endpointurl")
    dvc("remote", "modify", "--local", "theirs", "endpointurl", endpoint)
    dvc("push", "-r", "theirs")
    assert s3_objects(client, bucket, "theirs") == ours
    clone = _clone(tmp_path, "clone", monkeypatch)
    dvc("pull")
    assert data_files(clone) == expected
    assert "up to date" in dvc("status").stdout


def test_dvcs_s3_push_is_pulled_by_us(s3_origin, tmp_path, monkeypatch, cli, dvc, jdvc):
    root, bucket, client = s3_origin
    expected = data_files(root)
    dvc("push")
    clone = _clone(tmp_path, "clone", monkeypatch)
    assert jdvc("pull").stdout.splitlines()[-1] == "8 files fetched and 7 files added"
    assert data_files(clone) == expected
    assert cache_objects(clone) == verify_s3(client, bucket)
    assert "up to date" in dvc("status").stdout


def test_a_push_to_s3_killed_mid_upload_completes_on_the_next_push(s3_origin, tmp_path, cli, dvc, jdvc):
    """SIGKILL while a 128 MiB object is in a multipart upload and small ones are going:
    the bucket holds whole objects only, and the next push sends what is missing."""
    root, bucket, client = s3_origin
    with open(root / "data" / "big.bin", "wb") as fobj:
        for _ in range(32):
            fobj.write(os.urandom(1 << 22))
    for i in range(60):
        (root / "data" / "images" / f"extra{i}.png").write_bytes(os.urandom(2048))
    jupyter_exp.add(["data/big.bin", "data/images"])
    proc = subprocess.Popen([*jdvc_command(), "push", "-j", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    caught = False
    while not caught and time.monotonic() < deadline and proc.poll() is None:
        caught = bool(client.list_multipart_uploads(Bucket=bucket).get("Uploads"))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert caught, "the push finished before it could be interrupted"
    big = dvc_file_md5(root, "data/big.bin.dvc")
    after_kill = verify_s3(client, bucket)  # whole objects only, each under its name
    assert big not in after_kill
    out = jdvc("push").stdout
    endpoint = jupyter_exp.Project(root).config.get('remote "s3"', "endpointurl")
    dvc("remote", "add", "--local", "theirs", f"s3://{bucket}/theirs")
    dvc("remote", "modify", "--local", "theirs", "endpointurl", endpoint)
    dvc("push", "-r", "theirs")
    wanted = verify_s3(client, bucket, "theirs")
    assert out == f"{len(wanted - after_kill)} files pushed\n"
    assert verify_s3(client, bucket) == wanted


def test_ctrl_c_during_a_fetch_from_s3_leaves_whole_objects_only_and_the_next_fetch_completes(s3_origin, cli, jdvc):
    """SIGINT while objects come from S3 (a 128 MiB one among small ones): the fetch stops
    with status 130 once the transfers under way are done, the cache holds whole
    objects only (no temporary name left), and the next fetch brings the rest."""
    root, bucket, client = s3_origin
    with open(root / "data" / "big.bin", "wb") as fobj:
        for _ in range(32):
            fobj.write(os.urandom(1 << 22))
    for i in range(60):
        (root / "data" / "images" / f"extra{i}.png").write_bytes(os.urandom(2048))
    jupyter_exp.add(["data/big.bin", "data/images"])
    jdvc("push")
    pushed = verify_s3(client, bucket)
    cache = root / ".dvc" / "cache"
    shutil.rmtree(cache)
    proc = subprocess.Popen([*jdvc_command(), "fetch", "-j", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    caught = False
    while not caught and time.monotonic() < deadline and proc.poll() is None:
        caught = any(p.name.startswith(".") for p in cache.glob("files/md5/*/*"))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert caught, "the fetch finished before it could be interrupted"
    assert proc.returncode == 130 and err.decode().endswith("Interrupted.\n"), err
    assert not [p for p in cache.rglob("*") if p.name.startswith(".")], "a temporary download was left behind"
    verify_local_remote(cache)  # each object left hashes to its name
    assert cache_objects(root) < pushed
    jdvc("fetch")
    assert cache_objects(root) == pushed
    verify_local_remote(cache)


def test_a_fresh_clone_pulls_an_experiment_from_git_and_s3_and_applies_it(s3_origin, tmp_path, monkeypatch, cli, dvc):
    root, bucket, client = s3_origin
    jupyter_exp.run(params={"lr": 0.5}, name="ours")
    expected = data_files(root)
    assert "lr=0.5" in (root / "model.bin").read_text()
    cli("push", "origin", "ours")
    assert lock_md5(root, "model.bin") in verify_s3(client, bucket)
    clone = _clone(tmp_path, "clone", monkeypatch)
    assert not (clone / ".dvc" / "cache").exists()
    assert cli("pull", "origin", "ours").stdout.strip() == "Pulled experiment(s) ours from Git remote 'origin'."
    cli("apply", "ours")
    assert data_files(clone) == expected
    assert "lr=0.5" in (clone / "model.bin").read_text()
    assert "up to date" in dvc("status").stdout


def test_dvc_exp_push_to_s3_then_our_exp_pull_and_the_reverse(s3_origin, tmp_path, monkeypatch, cli, dvc):
    root, bucket, client = s3_origin
    dvc("exp", "run", "-q", "-S", "lr=0.7", "-n", "theirs")
    dvc("exp", "push", "origin", "theirs")
    jupyter_exp.run(params={"lr": 0.9}, name="ours")
    cli("push", "origin", "ours")
    clone = _clone(tmp_path, "clone", monkeypatch)
    cli("pull", "origin", "theirs")
    cli("apply", "theirs")
    assert "lr=0.7" in (clone / "model.bin").read_text()
    other = _clone(tmp_path, "other", monkeypatch)
    dvc("exp", "pull", "origin", "ours")
    dvc("exp", "apply", "ours")
    assert "lr=0.9" in (other / "model.bin").read_text()


def test_a_missing_bucket_is_one_line(s3_origin, cli, jdvc):
    root, bucket, client = s3_origin
    endpoint = jupyter_exp.Project(root).config.get('remote "s3"', "endpointurl")
    jdvc("remote", "add", "nobucket", "s3://no-such-bucket-here/x")
    jdvc("remote", "modify", "nobucket", "endpointurl", endpoint)
    proc = jdvc("push", "-r", "nobucket", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("ERROR: ") and "nobucket" in proc.stderr


@pytest.mark.parametrize("size", [100, 20 << 20], ids=["small", "large"])
def test_a_corrupted_cache_object_never_stays_on_s3(s3_origin, cli, size, jdvc):
    root, bucket, client = s3_origin
    (root / "data" / "blob.bin").write_bytes(os.urandom(size))
    jupyter_exp.add(["data/blob.bin"])
    blob = dvc_file_md5(root, "data/blob.bin.dvc")
    obj = root / ".dvc" / "cache" / "files" / "md5" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(os.urandom(size))
    proc = jdvc("push", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and f"cache object {blob} is corrupted" in proc.stderr
    assert blob not in verify_s3(client, bucket)  # every other object is whole and named right
