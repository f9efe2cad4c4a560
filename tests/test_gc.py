"""Cache ``gc`` against DVC's on a twin: on a project with history, experiments, a
checkpoint chain, a queued entry, a saved workspace and an orphan object, ours removes
what DVC's ``gc --all-experiments`` removes, except what the queued entry and the saved
workspace need (DVC cannot see them); from the cache and, with ``-c``, from the remote."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from remote_fixtures import (
    cache_objects,
    data_files,
    dvc_file_md5,
    lock_md5,
    make_data_project,
)
from safety import Snapshot

import jupyter_exp
from jupyter_exp.api import data as api
from jupyter_exp.errors import JupyterExpError


@pytest.fixture
def busy(tmp_path, dvc, monkeypatch):
    """The data project, with everything gc must weigh; returns (root, facts)."""
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    facts: dict[str, object] = {"old_table": dvc_file_md5(root, "data/table.csv.dvc")}
    # history: a second version of the table; the first lives in HEAD~1 only
    (root / "data" / "table.csv").write_text("a,b\n9,9\n")
    dvc("add", "-q", "data/table.csv")
    dvc("repro", "-q")
    git(root, "commit", "-qam", "v2")
    # experiments
    facts["exps"] = set()
    for name, lr in (("e1", 0.3), ("e2", 0.4)):
        jupyter_exp.run(params={"lr": lr}, name=name)
        facts["exps"].add(lock_md5(root, "model.bin"))
    git(root, "checkout", "-q", "--", ".")
    jupyter_exp.checkout(force=True)
    # a checkpoint chain: one commit per step, each with its own model
    head = git(root, "rev-parse", "HEAD").strip()
    parent, steps = head, set()
    for lr in ("0.5", "0.6"):
        (root / "params.yaml").write_text(f"lr: {lr}\n")
        jupyter_exp.repro()
        git(root, "add", "-A")
        parent = git(root, "commit-tree", git(root, "write-tree").strip(), "-p", parent, "-m", lr).strip()
        steps.add(lock_md5(root, "model.bin"))
    git(root, "reset", "-q", "--mixed", head)
    git(root, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/chain", parent)
    git(root, "checkout", "-q", "--", ".")
    jupyter_exp.checkout(force=True)
    facts["steps"] = steps
    # a queued entry whose snapshot holds data nothing else has
    (root / "data" / "table.csv").write_text("a,b\nqueued,1\n")
    jupyter_exp.add(["data/table.csv"])
    facts["queued"] = {dvc_file_md5(root, "data/table.csv.dvc")}
    jupyter_exp.queue(params={"lr": 0.9}, name="later")
    git(root, "checkout", "-q", "--", ".")
    jupyter_exp.checkout(force=True)
    # a saved workspace: new images added, then an experiment applied over them
    (root / "data" / "images" / "new.png").write_bytes(b"only the saved workspace has me\n")
    jupyter_exp.add(["data/images"])
    new_image = hashlib.md5(b"only the saved workspace has me\n").hexdigest()
    facts["saved"] = {dvc_file_md5(root, "data/images.dvc"), new_image}
    applied = jupyter_exp.apply("e1")
    facts["saved_name"] = applied.saved
    assert applied.saved is not None
    # an orphan: tracked once, its .dvc file deleted
    (root / "scratch.bin").write_bytes(b"nobody needs me\n")
    jupyter_exp.add(["scratch.bin"])
    facts["orphan"] = dvc_file_md5(root, "scratch.bin.dvc")
    (root / "scratch.bin.dvc").unlink()
    return root, facts


def _twin(root: Path, where: Path) -> Path:
    twin = where / "twin"
    shutil.copytree(root, twin, symlinks=True)
    return twin


def _tag_our_snapshots(twin: Path) -> None:
    """Tags at the queued entry's and the saved workspace's commits (and the saved index),
    so that DVC's ``-T`` keeps what they need: what ours keeps without being told."""
    for i, line in enumerate(git(twin, "for-each-ref", "--format=%(objectname)", "refs/jupyter-exp").split()):
        git(twin, "tag", f"snap{i}", line)
        second = git(twin, "rev-parse", "-q", "--verify", f"{line}^2", check_ok=True)
        if second:
            git(twin, "tag", f"snap{i}-index", f"{line}^2")


@pytest.mark.parametrize(
    "flags", [["-w"], ["-A"], ["-a", "-T"], ["--date", "2000-01-01"], ["--date", "2999-01-01"], ["-A", "--skip-failed"]]
)
def test_gc_removes_what_dvc_removes_except_what_queued_and_saved_work_needs(
    busy,
    tmp_path,
    monkeypatch,
    cli,
    dvc,
    flags,
    jdvc,
):
    root, facts = busy
    plain, tagged = _twin(root, tmp_path / "plain"), _twin(root, tmp_path / "tagged")
    _tag_our_snapshots(tagged)
    before = cache_objects(root)
    removed = {}
    for twin, extra in ((plain, []), (tagged, ["-T"])):
        monkeypatch.chdir(twin)
        dvc("gc", *flags, *extra, "--all-experiments", "-f")
        removed[twin] = before - cache_objects(twin)
    monkeypatch.chdir(root)
    out = jdvc("gc", *flags, "-f").stdout
    ours = before - cache_objects(root)
    assert ours == removed[tagged]  # exactly what DVC removes once it is told about our snapshots
    assert (facts["queued"] | facts["saved"]) <= removed[plain] - ours  # which DVC alone would lose
    assert facts["orphan"] in ours
    assert not (facts["exps"] | facts["steps"]) & ours
    assert (facts["old_table"] in ours) == (
        flags[:2] not in (["-A"], ["--date", "2000-01-01"], ["-A", "--skip-failed"])
    )
    assert out.startswith(f"Removed {len(ours)} object(s) (") and out.endswith(") from the cache.\n")


def test_what_gc_kept_still_applies_and_runs(busy, monkeypatch, cli, jdvc):
    root, facts = busy
    jdvc("gc", "-w", "-f")
    assert jdvc("gc", "-w", "-f").stdout == "No unused cache to remove.\n"
    jupyter_exp.apply(facts["saved_name"])  # the saved workspace comes back whole
    assert (root / "data" / "images" / "new.png").read_text() == "only the saved workspace has me\n"
    jupyter_exp.apply("chain")
    jupyter_exp.apply("e2")
    outcomes = jupyter_exp.run_all()  # the queued entry runs from its snapshot's data
    assert [(o.name, o.state) for o in outcomes] == [("later", "success")], outcomes
    jupyter_exp.apply("later")
    assert (root / "data" / "table.csv").read_text() == "a,b\nqueued,1\n"


def test_dry_lists_first_and_nothing_goes_without_a_yes(busy, cli, jdvc):
    root, facts = busy
    before = cache_objects(root)
    dry = jdvc("gc", "-w", "--dry").stdout.splitlines()
    listed = {line.rsplit("/", 2)[-2] + line.rsplit("/", 1)[-1] for line in dry if line.startswith("Removing ")}
    assert facts["orphan"] in listed and dry[-1].startswith(f"Would remove {len(listed)} object(s)")
    assert cache_objects(root) == before
    proc = subprocess.run([*jdvc_command(), "gc", "-w"], input="n\n", capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1].endswith("Nothing removed.")
    assert cache_objects(root) == before
    proc = subprocess.run([*jdvc_command(), "gc", "-w"], input="y\n", capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1].endswith(f"[y/n] Removed {len(listed)} object(s) (141 B) from the cache.")
    assert before - cache_objects(root) == listed


def test_gc_cloud_removes_the_same_from_the_remote_and_never_a_stray(busy, tmp_path, monkeypatch, cli, dvc, jdvc):
    root, facts = busy
    store = tmp_path / "store"
    jdvc("remote", "add", "-d", "store", str(store))
    # everything the cache holds goes to the remote (the orphan and the old table too)
    for md5 in cache_objects(root):
        src = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
        dst = store / "files" / "md5" / md5[:2] / md5[2:]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        dst.chmod(0o444)
    strays = [store / "files" / "md5" / "zz" / "notanobject", store / "files" / "md5" / "ab" / "short", store / "x.txt"]
    for stray in strays:
        stray.parent.mkdir(parents=True, exist_ok=True)
        stray.write_text("keep me\n")
    remote_before = verify_local_remote_ignoring(store)
    twin = _twin(root, tmp_path)
    _tag_our_snapshots(twin)
    shutil.copytree(store, tmp_path / "twin-store")
    monkeypatch.chdir(twin)
    dvc("remote", "modify", "store", "url", str(tmp_path / "twin-store"))
    dvc("gc", "-w", "-T", "--all-experiments", "-c", "-f")
    theirs = remote_before - verify_local_remote_ignoring(tmp_path / "twin-store")
    monkeypatch.chdir(root)
    out = jdvc("gc", "-w", "-c", "-f").stdout
    ours = remote_before - verify_local_remote_ignoring(store)
    assert ours == theirs and facts["orphan"] in ours
    assert not (facts["queued"] | facts["saved"]) & ours
    assert all(stray.read_text() == "keep me\n" for stray in strays)
    assert f"and {len(ours)} (" in out and "from remote 'store'" in out


def verify_local_remote_ignoring(store: Path) -> set[str]:
    """The objects of a local remote, stray names left out."""
    base = store / "files" / "md5"
    names = (p.relative_to(base).as_posix() for p in base.glob("*/*") if p.is_file())
    return {n.replace("/", "") for n in names if re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{30}(\.dir)?", n)}


def test_gc_needs_a_flag_and_refuses_a_revision_it_cannot_read(busy, tmp_path, cli, jdvc):
    root, facts = busy
    proc = jdvc("gc", "-f", check=False)
    assert proc.returncode == 1 and "gc needs one of -w, -a, -T, -A" in proc.stderr
    proc = jdvc("gc", "-w", "-r", "x", check=False)
    assert proc.returncode == 1 and "-r/--remote needs -c/--cloud" in proc.stderr
    head = git(root, "rev-parse", "HEAD").strip()
    bad_lock = "schema: '2.0'\nstages:\n  train: 5\n"
    blob = git(root, "hash-object", "-w", "--stdin", input_text=bad_lock).strip()
    index = tmp_path / "index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    subprocess.run(["git", "read-tree", head], cwd=root, env=env, check=True)
    subprocess.run(
        ["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},dvc.lock"], cwd=root, env=env, check=True
    )
    tree = subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True, capture_output=True, text=True).stdout
    tree = tree.strip()
    bad = git(root, "commit-tree", tree, "-p", head, "-m", "bad lock").strip()
    git(root, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/broken", bad)
    before = Snapshot.take(root, outside=[tmp_path / "store"])
    proc = jdvc("gc", "-w", "-f", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and f"dvc.lock of {bad[:7]}" in proc.stderr, (
        proc.stderr
    )
    before.assert_unchanged()
    with pytest.raises(JupyterExpError):
        api.data_gc(workspace=True, force=True)
    assert data_files(root)


def test_gc_not_in_remote_also_removes_what_the_remote_holds_as_dvc_does(busy, tmp_path, monkeypatch, dvc, jdvc):
    root, facts = busy
    dvc("remote", "add", "-d", "store", str(tmp_path / "store"))
    dvc("push", "-q", "data/images.dvc")  # the images are safe on the remote
    before = cache_objects(root)
    twin = _twin(root, tmp_path)
    _tag_our_snapshots(twin)
    monkeypatch.chdir(twin)
    dvc("gc", "-w", "-T", "--all-experiments", "--not-in-remote", "-f")
    theirs = before - cache_objects(twin)
    monkeypatch.chdir(root)
    jdvc("gc", "-w", "--not-in-remote", "-f")
    ours = before - cache_objects(root)
    assert ours == theirs and dvc_file_md5(root, "data/images.dvc") in ours
    assert not facts["queued"] & ours


def test_gc_skip_failed_skips_an_unreadable_tag_and_keeps_what_the_others_need(busy, tmp_path, jdvc):
    root, facts = busy
    head = git(root, "rev-parse", "HEAD").strip()
    blob = git(root, "hash-object", "-w", "--stdin", input_text="outs: 5\n").strip()
    index = tmp_path / "index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    subprocess.run(["git", "read-tree", head], cwd=root, env=env, check=True)
    subprocess.run(
        ["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},broken.dvc"], cwd=root, env=env, check=True
    )
    tree = subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True, capture_output=True, text=True)
    bad = git(root, "commit-tree", tree.stdout.strip(), "-p", head, "-m", "bad").strip()
    git(root, "tag", "broken", bad)
    before = Snapshot.take(root, outside=[tmp_path / "store"])
    proc = jdvc("gc", "-w", "--rev", "broken", "-f", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "broken.dvc" in proc.stderr, proc.stderr
    before.assert_unchanged()
    proc = jdvc("gc", "-w", "--rev", "broken", "--skip-failed", "-f")
    assert f"skipped commit {bad[:7]}" in proc.stderr and facts["orphan"] not in cache_objects(root)
    assert (facts["exps"] | facts["steps"] | facts["queued"]) <= cache_objects(root)


def test_gc_projects_keeps_what_another_project_sharing_the_cache_needs(busy, tmp_path, monkeypatch, dvc, jdvc):
    root, facts = busy
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.chdir(other)
    dvc("init", "-q")
    dvc("cache", "dir", str(root / ".dvc" / "cache"))
    (other / "mine.txt").write_text("only the other project has me\n")
    dvc("add", "-q", "mine.txt")
    mine = hashlib.md5(b"only the other project has me\n").hexdigest()
    monkeypatch.chdir(root)
    assert mine in cache_objects(root)
    jdvc("gc", "-w", "-p", str(other), "-f")
    assert mine in cache_objects(root) and facts["orphan"] not in cache_objects(root)
    jdvc("gc", "-w", "-f")
    assert mine not in cache_objects(root)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-w", "--date", "31/01/2024"], "is not a date; write it as YYYY-MM-DD"),
        (["-w", "-c", "--not-in-remote"], "cannot go together"),
        (["-w", "-r", "store"], "needs -c/--cloud or --not-in-remote"),
        (["-w", "-p", "/nonexistent/x"], "is not a directory"),
        (["-w", "-p", "/"], "is not in a jupyter_exp/DVC project"),
        (["-w", "-p", "-x"], "unrecognized arguments"),
    ],
)
def test_bad_gc_flags_are_one_line_and_remove_nothing(busy, tmp_path, jdvc, args, message):
    root, _ = busy
    before = cache_objects(root)
    proc = jdvc("gc", *args, "-f", check=False)
    assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert cache_objects(root) == before
