"""``exp remove``'s flags against DVC 3.67.1 on twin repositories (what each removes and
the line it prints), and ``exp clean`` (what killed runs left goes, nothing live does)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import cli_command, git
from dvc_twins import build_base, run_dvc, twin

from jupyter_exp.experiments.clean import STALE_SECONDS
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.project import Project


def _exps(root: Path) -> list[str]:
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split()
    return sorted(r.rsplit("/", 1)[1] for r in refs if len(r.split("/")) == 5)  # not DVC's exec/ refs


@pytest.fixture(scope="module")
def base(tmp_path_factory, dvc_exe) -> Path:
    """A project with experiments e1, e2 on the first commit and e3 on the second, made by DVC."""
    root = build_base(dvc_exe, tmp_path_factory.mktemp("base") / "p")
    for name, text in (("e1", "one\n"), ("e2", "two\n")):
        (root / "in.txt").write_text(text)
        run_dvc(dvc_exe, root, "exp", "run", "-q", "-n", name)
    git(root, "checkout", "-q", "--", ".")
    (root / "in.txt").write_text("second\n")
    run_dvc(dvc_exe, root, "repro", "-q")
    git(root, "commit", "-qam", "second")
    (root / "in.txt").write_text("three\n")
    run_dvc(dvc_exe, root, "exp", "run", "-q", "-n", "e3")
    git(root, "checkout", "-q", "--", ".")
    assert _exps(root) == ["e1", "e2", "e3"]
    return root


def _ours(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli_command(), *args], cwd=root, capture_output=True, text=True)


@pytest.mark.parametrize(
    "args",
    [
        ["e1"],
        ["e1", "e3"],
        ["-A"],
        ["--rev", "HEAD"],
        ["--rev", "HEAD", "-n", "-1"],
        ["--rev", "HEAD~1", "--keep"],
        ["e2", "--keep"],
        ["--queue"],
    ],
)
def test_exp_remove_removes_what_dvc_removes_and_says_it_as_dvc(base, tmp_path, dvc_exe, args):
    ours, theirs = twin(base, tmp_path / "ours"), twin(base, tmp_path / "theirs")
    mine = _ours(ours, "remove", *args)
    real = run_dvc(dvc_exe, theirs, "exp", "remove", *args)
    assert mine.returncode == 0, mine.stderr
    assert _exps(ours) == _exps(theirs), args
    # DVC lists removed names in the order it found them; the set and the shape must agree.
    prefix = "Removed experiments: "
    if real.stdout.startswith(prefix):
        assert mine.stdout.startswith(prefix)
        assert sorted(mine.stdout[len(prefix) :].replace(" and ", ", ").strip().split(", ")) == sorted(
            real.stdout[len(prefix) :].replace(" and ", ", ").strip().split(", ")
        )
    else:
        assert mine.stdout == real.stdout


@pytest.mark.parametrize(
    "args",
    [[], ["e1", "-A"], ["e1", "--rev", "HEAD"], ["--keep", "--queue"], ["--queue", "-g", "origin"], ["-e1"]],
)
def test_exp_remove_refuses_what_dvc_refuses_in_one_line_and_removes_nothing(base, tmp_path, dvc_exe, args):
    ours, theirs = twin(base, tmp_path / "ours"), twin(base, tmp_path / "theirs")
    mine = _ours(ours, "remove", *args)
    real = run_dvc(dvc_exe, theirs, "exp", "remove", *args, check=False)
    assert real.returncode != 0 and mine.returncode != 0, (mine, real)
    assert len(mine.stderr.strip().splitlines()) == 1 and mine.stderr.startswith("ERROR:"), mine.stderr
    assert _exps(ours) == _exps(theirs) == ["e1", "e2", "e3"]


def test_exp_remove_on_a_git_remote_by_revision_and_keep(base, tmp_path):
    """``-g`` with ``--rev`` and with ``--keep`` acts on the remote's experiments, as DVC's does."""
    ours = twin(base, tmp_path / "ours")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(ours, "push", "-q", str(remote), "HEAD:refs/heads/main", "refs/exps/*:refs/exps/*")
    assert _ours(ours, "remove", "-g", str(remote), "--rev", "HEAD").stdout == "Removed experiments: 'e3'\n"
    assert _exps(remote) == ["e1", "e2"]
    assert _ours(ours, "remove", "-g", str(remote), "e1", "--keep").stdout == "Removed experiments: 'e2'\n"
    assert _exps(remote) == ["e1"] and _exps(ours) == ["e1", "e2", "e3"]


def test_exp_clean_removes_what_killed_runs_left_and_nothing_live(base, tmp_path):
    ours = twin(base, tmp_path / "ours")
    project = Project(ours)
    assert _ours(ours, "clean").stdout == "Nothing to clean.\n"
    # A killed run's directory (entry not running), an orphan one (old, and new),
    # an old scratch index, a fresh scratch index.
    store = QueueStore(project)
    import jupyter_exp

    with_entry = jupyter_exp.run(queue=True, name="queued", root=str(ours))  # a queue entry nobody runs
    entry = next(e for e in store.entries() if e.name == "queued")
    killed = project.exp_run_dir(entry.id)
    (killed / "sub").mkdir(parents=True)
    (killed / "sub" / "file").write_text("left\n")
    os.chmod(killed / "sub" / "file", 0o444)
    old_orphan, new_orphan = project.exp_run_dir("gone1"), project.exp_run_dir("gone2")
    old_orphan.mkdir()
    new_orphan.mkdir()
    project.own_tmp_dir.mkdir(parents=True, exist_ok=True)
    old_index, new_index = project.own_tmp_dir / "index-aaaa", project.own_tmp_dir / "index-bbbb"
    old_index.write_text("x")
    new_index.write_text("x")
    past = time.time() - STALE_SECONDS - 60
    for path in (old_orphan, old_index):
        os.utime(path, (past, past))
    # A run directory whose entry's run lock is held (a live worker) stays.
    with store.try_lock(entry.id):
        assert _ours(ours, "clean").stdout == "Removed 1 run directory and 1 scratch file left by killed runs.\n"
        assert killed.exists()
    assert not old_orphan.exists() and not old_index.exists()
    assert new_orphan.exists() and new_index.exists()
    assert _ours(ours, "clean").stdout == "Removed 1 run directory left by killed runs.\n"
    assert not killed.exists()
    assert [e.name for e in store.entries()] == ["queued"] and with_entry is not None
    assert _exps(ours) == ["e1", "e2", "e3"]
