"""What an experiment commit holds, against real DVC 3.67.1 on twin repositories:
staged files, ``.dvc`` files of changed data, what stages ``git add`` (DVCLive), and
DVCLive's plots; the user's index afterwards; queued and temporary runs in git
repositories of their own; DVCLive in its three layouts; the kernel's interpreter.

Stages import the real ``dvclive``: it is installed into the DVC virtualenv (never our
own environment) on first use, and those stages run with that venv's ``python``.
"""

import fcntl
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import git

import jupyter_exp
from jupyter_exp.experiments.checkpoints import read_progress
from jupyter_exp.experiments.queue import this_host
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.project import Project

pytestmark = pytest.mark.dvc

DVCLIVE_VERSION = "3.49.1"

TRAIN = """import os, sys, yaml
from dvclive import Live
p = yaml.safe_load(open("params.yaml"))
data = open("data/data.txt").read()
kwargs = {LIVE_KWARGS}
with Live(**kwargs) as live:
    live.log_params(p)
    for i in range(2):
        live.log_metric("acc", p["lr"] * (i + 1) + len(data))
        live.next_step()
"""

DVC_YAML = """stages:
  train:
    cmd: python src/train.py
    deps: [src/train.py, data/data.txt]
    params: [lr]
"""

# The three layouts: DVCLive's default (it writes the top-level metrics/plots of
# dvc.yaml), Live(dvcyaml=...) in a sub-directory, and metrics/plots the stage declares.
LAYOUTS = {
    "default": ("{}", DVC_YAML),
    "subdir": ('{"dir": "results/train", "dvcyaml": "results/dvc.yaml"}', DVC_YAML),
    "declared": (
        '{"dvcyaml": None}',
        DVC_YAML
        + """    metrics:
    - dvclive/metrics.json:
        cache: false
    plots:
    - dvclive/plots:
        cache: false
""",
    ),
}


@pytest.fixture(scope="session")
def live_bin(dvc_exe: Path) -> Path:
    """The DVC venv's ``bin`` with ``dvclive`` installed (once, under a lock, so that
    parallel workers share one install)."""
    bindir = dvc_exe.parent
    python = bindir / "python"
    probe = [str(python), "-c", "import dvclive"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        with open(bindir.parent.parent / "dvclive-install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if subprocess.run(probe, capture_output=True).returncode != 0:
                subprocess.run([str(python), "-m", "pip", "install", "-q", f"dvclive=={DVCLIVE_VERSION}"], check=True)
    return bindir


@pytest.fixture
def live_path(live_bin: Path, monkeypatch) -> Path:
    """Stages' ``python`` is the DVC venv's (it has dvclive); our engine's interpreter
    stays on PATH after it, so the stage PATH is left as arranged."""
    monkeypatch.setenv("PATH", os.pathsep.join([str(live_bin), os.path.dirname(sys.executable), os.environ["PATH"]]))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    return live_bin


def make(root: Path, dvc, layout: str = "default") -> Path:
    """A project shaped like DVC's examples: data tracked by a ``.dvc`` file, params, a
    DVCLive training stage; committed. ``dvc add`` tracks the data in both twins."""
    kwargs, dvc_yaml = LAYOUTS[layout]
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    (root / "data").mkdir()
    (root / "src").mkdir()
    (root / "data" / "data.txt").write_text("one\n")
    (root / "params.yaml").write_text("lr: 0.1\n")
    (root / "src" / "train.py").write_text(TRAIN.replace("{LIVE_KWARGS}", kwargs))
    (root / "dvc.yaml").write_text(dvc_yaml)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        dvc("init", "-q")
        dvc("add", "-q", "data/data.txt")
    finally:
        os.chdir(cwd)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def user_changes(root: Path) -> None:
    """A staged new file, an untracked one nobody staged, and changed tracked data."""
    (root / "staged.txt").write_text("staged\n")
    git(root, "add", "staged.txt")
    (root / "unstaged.txt").write_text("unstaged\n")
    (root / "data" / "data.txt").write_text("two\n")


def exp_ref(root: Path, name: str) -> str:
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split()
    (ref,) = [r for r in refs if r.endswith(f"/{name}") and "/exec/" not in r]
    return ref


def tree(root: Path, name: str) -> str:
    return git(root, "ls-tree", "-r", exp_ref(root, name))


def in_dir(root: Path, fn, *args):
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return fn(*args)
    finally:
        os.chdir(cwd)


def test_workspace_run_commits_what_dvc_commits(tmp_path, dvc, live_path):
    ours, theirs = make(tmp_path / "ours", dvc), make(tmp_path / "theirs", dvc)
    for root in (ours, theirs):
        user_changes(root)
    index_before = git(ours, "ls-files", "--stage")
    in_dir(theirs, dvc, "exp", "run", "-n", "ws")
    in_dir(ours, lambda: jupyter_exp.run(name="ws"))
    # Same files, same blobs: staged.txt in, unstaged.txt out, data.txt.dvc updated,
    # DVCLive's metrics, params and step TSVs (which it git-adds) in.
    assert tree(ours, "ws") == tree(theirs, "ws")
    names = git(ours, "ls-tree", "-r", "--name-only", exp_ref(ours, "ws")).split()
    assert {"staged.txt", "dvclive/plots/metrics/acc.tsv", "dvclive/metrics.json"} <= set(names)
    assert "unstaged.txt" not in names
    assert "c193497a1a06b2c72230e6146ff47080" in git(ours, "show", f"{exp_ref(ours, 'ws')}:data/data.txt.dvc")
    # The user's index is as it was: DVCLive's additions are not left staged.
    assert git(ours, "ls-files", "--stage") == index_before
    # DVC reads it: the changed data is in the cache, plots diff works, status is clean.
    in_dir(ours, dvc, "exp", "apply", "ws")
    assert (ours / "data" / "data.txt").read_text() == "two\n"
    assert "acc" in in_dir(ours, dvc, "plots", "diff", "ws", "--json").stdout
    assert in_dir(ours, dvc, "status").stdout.strip() == "Data and pipelines are up to date."


@pytest.mark.parametrize("mode", ["queue", "temp"])
def test_queued_and_temp_runs_commit_what_dvc_commits(tmp_path, dvc, live_path, mode):
    ours, theirs = make(tmp_path / "ours", dvc), make(tmp_path / "theirs", dvc)
    for root in (ours, theirs):
        user_changes(root)
    status_before = git(ours, "status", "--porcelain")
    index_before = git(ours, "ls-files", "--stage")
    if mode == "queue":
        in_dir(theirs, dvc, "exp", "run", "--queue", "-n", "x")
        in_dir(theirs, dvc, "exp", "run", "--run-all")
        in_dir(ours, lambda: jupyter_exp.run(queue=True, name="x"))
        in_dir(ours, lambda: jupyter_exp.run(run_all=True))
    else:
        in_dir(theirs, dvc, "exp", "run", "--temp", "-n", "x")
        in_dir(ours, lambda: jupyter_exp.run(temp=True, name="x"))
    assert tree(ours, "x") == tree(theirs, "x")
    assert git(ours, "status", "--porcelain") == status_before  # the workspace is untouched
    assert git(ours, "ls-files", "--stage") == index_before
    assert (ours / "data" / "data.txt.dvc").read_text() == (theirs / "data" / "data.txt.dvc").read_text()
    assert "acc" in in_dir(ours, dvc, "plots", "diff", "x", "--json").stdout
    # The run had a repository of its own: nothing is left in the user's git dir.
    assert not list((ours / ".git").glob("index.lock"))
    assert not git(ours, "worktree", "list", "--porcelain").count("worktree ") > 1


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_dvclive_layouts_show_as_dvc_shows_them(tmp_path, dvc, live_path, layout):
    ours, theirs = make(tmp_path / "ours", dvc, layout), make(tmp_path / "theirs", dvc, layout)
    in_dir(theirs, dvc, "exp", "run", "-n", "ws")
    in_dir(theirs, dvc, "exp", "run", "--temp", "-n", "tmp", "-S", "lr=0.2")
    in_dir(theirs, dvc, "exp", "run", "--queue", "-n", "q", "-S", "lr=0.3")
    in_dir(theirs, dvc, "exp", "run", "--run-all")
    in_dir(ours, lambda: jupyter_exp.run(name="ws"))
    in_dir(ours, lambda: jupyter_exp.run(temp=True, name="tmp", set_params=["lr=0.2"]))
    in_dir(ours, lambda: jupyter_exp.run(queue=True, name="q", set_params=["lr=0.3"]))
    in_dir(ours, lambda: jupyter_exp.run(run_all=True))
    for name in ("ws", "tmp", "q"):
        assert tree(ours, name) == tree(theirs, name), name

    def rows(root: Path) -> dict:
        shown = json.loads(in_dir(root, dvc, "exp", "show", "--json").stdout)
        found = {}
        for baseline in shown:
            for exp in baseline.get("experiments") or []:
                data = exp["revs"][0]["data"]
                found[exp["name"]] = (data["params"], data["metrics"])
        return found

    theirs_rows = rows(theirs)
    assert rows(ours) == theirs_rows
    assert all(metrics for _params, metrics in theirs_rows.values())


def test_parallel_dvclive_batches_do_not_fail(tmp_path, dvc, live_path):
    """Stages that call git (DVCLive's `git add`) in parallel runs: each run has its own
    repository, so none races on the user's index.lock. 5 batches of 8 at -j 4 (the
    issue's 20 batches scaled to a 2-core machine)."""
    root = make(tmp_path / "p", dvc)
    for batch in range(5):
        in_dir(
            root,
            lambda batch=batch: jupyter_exp.run(
                queue=True, name=f"b{batch}", set_params=["lr=" + ",".join(str(i) for i in range(1, 9))]
            ),
        )
        in_dir(root, lambda: jupyter_exp.run(run_all=True, jobs=4))
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/exps").split()
    assert len(refs) == 40
    failed = [e.name for e in QueueStore(Project(root)).entries() if e.state == "failed"]
    assert failed == []
    for ref in refs:
        assert "dvclive/metrics.json" in git(root, "ls-tree", "-r", "--name-only", ref)
    assert git(root, "status", "--porcelain") == ""


def test_dvclive_step_progress_of_a_run_directory(tmp_path, dvc):
    """Stock DVCLive writes its step signal under $DVC_ROOT (the run directory): the
    table's progress reads it for the running entry."""
    root = make(tmp_path / "p", dvc)
    project = Project(root)
    (queued,) = in_dir(root, lambda: jupyter_exp.run(queue=True, name="live"))
    store = QueueStore(project)
    assert "live" not in {e["experiment"] for e in read_progress(project)}
    store.transition(queued.id, "running", ("queued",), pid=os.getpid(), host=this_host())
    signal = project.tmp_dir / "exps" / f"run-{queued.id}" / ".dvc" / "tmp" / "exps" / "run"
    signal.mkdir(parents=True)
    (signal / "DVCLIVE_STEP_COMPLETED").write_text(json.dumps({"pid": os.getpid(), "step": 2}))
    events = {e["experiment"]: e for e in read_progress(project)}
    assert events["live"]["step"] == 3 and events["live"]["state"] == "running"


def test_stages_run_with_the_engines_interpreter(tmp_path, project):
    """An interpreter started by path (a registered kernel's, venv/bin/ipython) whose
    bin/ is not on PATH: its stages' `python` is that interpreter, not PATH's."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    root = project
    (root / "dvc.yaml").write_text(
        "stages:\n  where:\n    cmd: python -c 'import sys; print(sys.prefix)' > prefix.txt\n"
        "    outs:\n    - prefix.txt:\n        cache: false\n"
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "stage")
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if os.path.realpath(p) != os.path.realpath(env_dir / "bin")
    )
    env = dict(os.environ, PATH=path, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "jupyter_exp.cli", "repro"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    assert Path((root / "prefix.txt").read_text().strip()) == env_dir
    assert str(env_dir) not in (root / "dvc.yaml").read_text()
