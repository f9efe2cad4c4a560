"""exp push / exp pull carry every cache object an experiment needs (``.dvc``-tracked
data, the outputs of every ``dvc.lock``, directories with their manifests), through a
bare git remote and a DVC remote that is a local directory, both ways with real DVC.

The project is shaped like DVC's example-get-started: ``data/data.xml.dvc`` (a file),
``data/images.dvc`` (a directory), a root pipeline with a cached ``eval/`` directory
and a model, and ``sub/dvc.yaml`` with its own ``dvc.lock``. The baseline's data is
never pushed: only what ``exp push`` carries reaches the fresh clone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import git
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
    - data/data.xml
    - data/images
    - train.py
    params:
    - train.lr
    outs:
    - model.pkl
    - eval
    metrics:
    - metrics.json:
        cache: false
"""

TRAIN = """\
import json, os, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
rows = open("data/data.xml").read().count("<row")
images = sorted(os.listdir("data/images"))
open("model.pkl", "w").write(f"lr={lr} rows={rows} images={len(images)}\\n")
os.makedirs("eval/plots", exist_ok=True)
json.dump({"score": rows * lr}, open("eval/scores.json", "w"))
open("eval/plots/curve.tsv", "w").write(f"step\\tlr\\n0\\t{lr}\\n")
json.dump({"score": rows * lr}, open("metrics.json", "w"))
"""

SUB_YAML = """\
stages:
  report:
    cmd: python report.py
    deps:
    - report.py
    params:
    - k
    outs:
    - report.txt
"""

SUB_SCRIPT = 'import yaml\nopen("report.txt", "w").write(f"k={yaml.safe_load(open(\'params.yaml\'))[\'k\']}\\n")\n'


def _files(root: Path, rel: str) -> dict[str, bytes]:
    top = root / rel
    if top.is_file():
        return {rel: top.read_bytes()}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


@pytest.fixture
def origin(tmp_path: Path, monkeypatch, dvc):
    """A DVC-made baseline (data added, both pipelines reproduced, committed), pushed
    to ``remote.git``; ``store`` is the committed default DVC remote, still empty."""
    root = tmp_path / "origin"
    root.mkdir()
    monkeypatch.chdir(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "a@example.com")
    git(root, "config", "user.name", "A")
    (root / "data" / "images").mkdir(parents=True)
    (root / "data" / "data.xml").write_text("".join(f'<row Id="{i}"/>\n' for i in range(40)))
    for i in range(3):
        (root / "data" / "images" / f"{i}.png").write_bytes(bytes([i]) * (i + 5))
    (root / "params.yaml").write_text("train:\n  lr: 0.1\n")
    (root / "train.py").write_text(TRAIN)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "sub").mkdir()
    (root / "sub" / "params.yaml").write_text("k: 2\n")
    (root / "sub" / "report.py").write_text(SUB_SCRIPT)
    (root / "sub" / "dvc.yaml").write_text(SUB_YAML)
    dvc("init", "-q")
    dvc("add", "-q", "data/data.xml", "data/images")
    dvc("repro", "-q")
    dvc("repro", "-q", "sub/dvc.yaml")
    store = tmp_path / "store"
    dvc("remote", "add", "-d", "store", str(store))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    return root


def _out_md5(lock: Path, path: str) -> str:
    import yaml

    for entry in yaml.safe_load(lock.read_text())["stages"].values():
        for out in entry.get("outs", []):
            if out["path"] == path:
                return out["md5"]
    raise AssertionError(f"{path} not in {lock}")


def _clone(tmp_path: Path, name: str, monkeypatch) -> Path:
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(clone))
    git(clone, "config", "user.email", "b@example.com")
    git(clone, "config", "user.name", "B")
    monkeypatch.chdir(clone)
    return clone


def _expected(root: Path) -> dict[str, bytes]:
    found = {}
    for rel in ("data/data.xml", "data/images", "model.pkl", "eval"):
        found.update(_files(root, rel))
    return found


def _our_experiment(origin: Path) -> str:
    """An experiment run by us in ``origin``; the workspace keeps its results, which
    are what a clone must get back."""
    exp = jupyter_exp.run(params={"train.lr": 0.5}, name="ours")
    assert "lr=0.5" in (origin / "model.pkl").read_text()
    return exp.name


def test_our_push_carries_dvc_data_and_every_lock_to_a_fresh_clone(origin, tmp_path, monkeypatch, cli, dvc):
    name = _our_experiment(origin)
    expected = _expected(origin)
    cli("push", "origin", name)
    store = tmp_path / "store" / "files" / "md5"
    report_md5 = _out_md5(origin / "sub" / "dvc.lock", "report.txt")
    clone = _clone(tmp_path, "clone", monkeypatch)
    assert not (clone / ".dvc" / "cache").exists()
    assert cli("pull", "origin", name).stdout.strip() == f"Pulled experiment(s) {name} from Git remote 'origin'."
    cli("apply", name)  # the old push carried dvc.lock's root outputs only: "Missing from the cache: data/data.xml"
    got = {}
    for rel in ("data/data.xml", "data/images", "model.pkl", "eval"):
        got.update(_files(clone, rel))
    assert got == expected
    # sub/dvc.lock's output travelled too (DVC's push walks every dvc.lock)
    assert (store / report_md5[:2] / report_md5[2:]).exists()
    assert (clone / ".dvc" / "cache" / "files" / "md5" / report_md5[:2] / report_md5[2:]).exists()
    # DVC finds everything it needs in the cache, and then sees nothing to do
    dvc("checkout")
    assert (clone / "sub" / "report.txt").read_text() == "k=2\n"
    assert "up to date" in dvc("status").stdout


def test_dvc_exp_push_then_our_pull_and_apply(origin, tmp_path, monkeypatch, cli, dvc):
    dvc("exp", "run", "-q", "-S", "train.lr=0.5", "-n", "theirs")
    expected = _expected(origin)
    dvc("exp", "push", "origin", "theirs")
    clone = _clone(tmp_path, "clone", monkeypatch)
    cli("pull", "origin", "theirs")
    cli("apply", "theirs")
    got = {}
    for rel in ("data/data.xml", "data/images", "model.pkl", "eval"):
        got.update(_files(clone, rel))
    assert got == expected
    assert "lr=0.5" in (clone / "model.pkl").read_text()
    dvc("checkout")  # every object DVC's pushed experiment needs is in our cache
    assert "up to date" in dvc("status").stdout


def test_our_exp_push_then_dvc_exp_pull_and_apply(origin, tmp_path, monkeypatch, cli, dvc):
    name = _our_experiment(origin)
    expected = _expected(origin)
    cli("push", "origin", name)
    clone = _clone(tmp_path, "clone", monkeypatch)
    dvc("exp", "pull", "origin", name)
    dvc("exp", "apply", name)
    got = {}
    for rel in ("data/data.xml", "data/images", "model.pkl", "eval"):
        got.update(_files(clone, rel))
    assert got == expected
    assert (clone / "sub" / "report.txt").read_text() == "k=2\n"
    assert dvc("checkout").returncode == 0
    assert "up to date" in dvc("status").stdout


def _tree_of(top: Path) -> dict[str, tuple[int, bytes | None]]:
    found = {}
    for path in sorted(top.rglob("*")):
        mode = stat.S_IMODE(path.stat().st_mode)
        found[path.relative_to(top).as_posix()] = (mode, path.read_bytes() if path.is_file() else None)
    return found


def test_the_remote_holds_what_dvc_exp_push_puts_there_byte_for_byte(origin, tmp_path, cli, dvc):
    name = _our_experiment(origin)
    dvc("remote", "add", "--local", "ours", str(tmp_path / "ours"))
    dvc("remote", "add", "--local", "theirs", str(tmp_path / "theirs"))
    cli("push", "origin", name, "-r", "ours")
    dvc("exp", "push", "origin", name, "-r", "theirs")
    ours, theirs = _tree_of(tmp_path / "ours"), _tree_of(tmp_path / "theirs")
    assert ours == theirs
    assert any(k.endswith(".dir") for k in ours) and all(m == 0o444 for m, b in ours.values() if b is not None)
    assert not (tmp_path / "store").exists()  # -r chose the remote


def test_no_cache_pushes_refs_only_and_pull_selects_by_baseline(origin, tmp_path, monkeypatch, cli):
    name = _our_experiment(origin)
    cli("push", "origin", name, "--no-cache")
    assert not (tmp_path / "store").exists()
    clone = _clone(tmp_path, "clone", monkeypatch)
    assert cli("pull", "origin", "--rev", "HEAD", "--no-cache").stdout.startswith(f"Pulled experiment(s) {name}")
    assert not (clone / ".dvc" / "cache").exists()
    proc = cli("apply", name, check=False)
    assert proc.returncode == 1 and "Missing from the cache" in proc.stderr
    monkeypatch.chdir(origin)
    cli("push", "origin", name)  # now with its data
    monkeypatch.chdir(clone)
    cli("pull", "origin", "-A")
    cli("apply", name)
    assert "lr=0.5" in (clone / "model.pkl").read_text()


def test_objects_missing_locally_warn_on_push_and_refuse_on_pull(origin, tmp_path, monkeypatch, cli):
    name = _our_experiment(origin)
    model_md5 = _out_md5(origin / "dvc.lock", "model.pkl")
    obj = origin / ".dvc" / "cache" / "files" / "md5" / model_md5[:2] / model_md5[2:]
    obj.unlink()
    proc = cli("push", "origin", name)
    warning = [line for line in proc.stderr.splitlines() if line.startswith("WARNING:")]
    assert len(warning) == 1 and "model.pkl" in warning[0], proc.stderr
    clone = _clone(tmp_path, "clone", monkeypatch)
    proc = cli("pull", "origin", name, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "model.pkl" in proc.stderr and "--no-cache" in proc.stderr
    assert git(clone, "for-each-ref", "refs/exps") == ""  # no ref names data that is not here
    assert cli("pull", "origin", name, "--no-cache").returncode == 0
    assert git(clone, "for-each-ref", "refs/exps") != ""


@pytest.mark.parametrize(
    "dvc_text",
    [
        "outs:\n- md5: ab/../../../../etc/passwd\n  size: 1\n  hash: md5\n  path: x\n",
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  hash: md5\n  path: ../../outside\n",
    ],
)
def test_a_pulled_experiment_with_a_hostile_dvc_file_is_refused_before_anything_changes(
    origin, tmp_path, monkeypatch, cli, dvc_text
):
    head = git(origin, "rev-parse", "HEAD").strip()
    (origin / "evil.dvc").write_text(dvc_text)
    git(origin, "add", "evil.dvc")
    rev = git(origin, "commit-tree", git(origin, "write-tree").strip(), "-p", head, "-m", "evil").strip()
    git(origin, "reset", "-q", "--hard", head)
    ref = f"refs/exps/{head[:2]}/{head[2:]}/evil"
    git(origin, "push", "-q", "origin", f"{rev}:{ref}")
    (tmp_path / "store" / "files").mkdir(parents=True)
    clone = _clone(tmp_path, "clone", monkeypatch)
    before = Snapshot.take(clone, outside=[tmp_path])
    proc = cli("pull", "origin", "evil", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("ERROR: evil.dvc")
    before.assert_unchanged()
    with pytest.raises(JupyterExpError):
        jupyter_exp.pull("origin", "evil")


def test_a_checkpoint_chain_carries_the_objects_of_every_step(origin, tmp_path, monkeypatch, cli):
    """DVC pushes every commit from the tip down its first parents to the baseline."""
    head = git(origin, "rev-parse", "HEAD").strip()
    steps = []
    parent = head
    for lr in ("0.2", "0.3"):
        (origin / "params.yaml").write_text(f"train:\n  lr: {lr}\n")
        jupyter_exp.repro()
        git(origin, "add", "-A")
        parent = git(origin, "commit-tree", git(origin, "write-tree").strip(), "-p", parent, "-m", lr).strip()
        steps.append(_out_md5(origin / "dvc.lock", "model.pkl"))
    git(origin, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/chain", parent)
    cli("push", "origin", "chain")
    store = tmp_path / "store" / "files" / "md5"
    assert all((store / m[:2] / m[2:]).exists() for m in steps)
    clone = _clone(tmp_path, "clone", monkeypatch)
    cli("pull", "origin", "chain")
    cache = clone / ".dvc" / "cache" / "files" / "md5"
    assert all((cache / m[:2] / m[2:]).exists() for m in steps)
    assert os.listdir(cache)
