"""exp run / save / apply / branch / rename / remove / gc / list, checked through git."""

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import cli_command, git, wait_for_command
from helpers import exp_refs

import jupyter_exp
from jupyter_exp.errors import JupyterExpError, StageFailedError
from jupyter_exp.experiments.exceptions import (
    AmbiguousExperimentError,
    ExperimentExistsError,
    NoBaselineError,
    UnknownExperimentError,
)
from jupyter_exp.refs import InvalidExpNameError


def test_run_records_a_commit_on_the_baseline(make_project):
    root = make_project("two_stage")
    head = git(root, "rev-parse", "HEAD").strip()
    branch_before = git(root, "symbolic-ref", "HEAD").strip()
    out: list[str] = []
    exp = jupyter_exp.run(params={"train.lr": 0.5}, name="fast", echo=out.append)
    assert "Reproduced experiment(s): fast" in "".join(out)
    ref = f"refs/exps/{head[:2]}/{head[2:]}/fast"
    assert exp_refs(root, full=True) == {ref: exp.rev}
    assert git(root, "rev-parse", f"{exp.rev}^").strip() == head  # first parent = baseline
    assert git(root, "rev-list", "--count", exp.rev).strip() == "2"
    # HEAD, branch and index untouched; results left in the workspace
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert git(root, "symbolic-ref", "HEAD").strip() == branch_before
    assert git(root, "diff", "--cached", "--name-only") == ""
    assert "lr=0.5" in (root / "model.bin").read_text()
    files = set(git(root, "ls-tree", "-r", "--name-only", exp.rev).split())
    assert {"dvc.lock", "params.yaml", "metrics.json", ".gitignore"} <= files
    assert "model.bin" not in files and "prepared/values.txt" not in files  # cached outputs stay out
    assert "lr: 0.5" in git(root, "show", f"{exp.rev}:params.yaml")
    assert json.loads(git(root, "show", f"{exp.rev}:metrics.json"))["score"] == 30.0
    assert git(root, "fsck", "--no-progress") == ""


def test_stage_commands_see_the_experiment(project: Path):
    (project / "dvc.yaml").write_text(
        'stages:\n  env:\n    cmd: echo "$DVC_EXP_NAME $DVC_EXP_BASELINE_REV" > env.txt\n'
        "    outs:\n    - env.txt:\n        cache: false\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-qm", "stage")
    head = git(project, "rev-parse", "HEAD").strip()
    exp = jupyter_exp.run(name="seen")
    assert git(project, "show", f"{exp.rev}:env.txt") == f"seen {head}\n"


def test_names_random_unique_and_validated(make_project):
    root = make_project("two_stage")
    first = jupyter_exp.run()
    assert len(first.name.split("-")) == 2
    with pytest.raises(InvalidExpNameError, match="Invalid experiment name 'a/b'"):
        jupyter_exp.run(name="a/b")
    for bad in ("with space", "..dots", "-", "x.lock", ".hidden", "a:b"):
        if bad == "-":
            continue
        with pytest.raises(InvalidExpNameError):
            jupyter_exp.run(name=bad)
    with pytest.raises(
        ExperimentExistsError,
        match=f"Experiment '{first.name}' already exists on baseline .*; rerun with force=True to overwrite.",
    ):
        jupyter_exp.run(name=first.name, params={"train.lr": 0.9})
    again = jupyter_exp.run(name=first.name, params={"train.lr": 0.9}, force=True)
    assert again.rev != first.rev and len(exp_refs(root, full=True)) == 1


def test_one_condition_one_error_type(make_project):
    """A taken name raises ExperimentExistsError from every verb (the queue raised a
    QueueError, rename a bare JupyterExpError); a word that names nothing raises
    UnknownExperimentError from every resolver (diff and queue -r raised other types)."""
    root = make_project("two_stage")
    jupyter_exp.run(name="taken")
    jupyter_exp.run(name="other", params={"train.lr": 0.5})
    refs = exp_refs(root, full=True)
    taken = [
        lambda: jupyter_exp.run(name="taken", params={"train.lr": 0.9}),
        lambda: jupyter_exp.run(queue=True, name="taken", params={"train.lr": 0.9}),
        lambda: jupyter_exp.save(name="taken"),
        lambda: jupyter_exp.rename("other", "taken"),
        lambda: jupyter_exp.branch("taken", "main"),
    ]
    for attempt in taken:
        with pytest.raises(ExperimentExistsError, match="already exists"):
            attempt()
    unknown = [
        (lambda: jupyter_exp.apply("ghost"), "Unknown experiment 'ghost'"),
        (lambda: jupyter_exp.branch("ghost"), "Unknown experiment 'ghost'"),
        (lambda: jupyter_exp.diff("ghost"), "Unknown experiment or revision 'ghost'"),
        (lambda: jupyter_exp.run(queue=True, rev="abcdef12"), "'abcdef12' is not a checkpoint of any experiment"),
    ]
    for attempt, message in unknown:
        with pytest.raises(UnknownExperimentError, match=message):
            attempt()
    assert exp_refs(root, full=True) == refs and sorted(r.rsplit("/", 1)[1] for r in refs) == ["other", "taken"]


def test_a_failing_stage_writes_no_ref(make_project, cli):
    root = make_project("failing_stage")
    with pytest.raises(StageFailedError, match="Stage 'fail' failed with exit code 3"):
        jupyter_exp.run(name="broken")
    assert exp_refs(root, full=True) == {}
    proc = cli("run", "-n", "broken", check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("ERROR: Stage 'fail' failed with exit code 3")
    assert exp_refs(root, full=True) == {}


def test_no_baseline_commit(git_repo: Path):
    jupyter_exp.init()
    with pytest.raises(NoBaselineError, match="commit your project first"):
        jupyter_exp.run()


def test_sweep_without_queue_is_refused_in_each_front_ends_words(make_project, cli):
    """The engine names the option; Python hears the api's function, the command line
    its flag, and a flag of another verb comes with that verb's command."""
    make_project("two_stage")
    with pytest.raises(JupyterExpError, match=r"^Sweep overrides need the queue; queue them with queue\(\) or"):
        jupyter_exp.run(set_params=["train.lr=0.1,0.2"])
    proc = cli("run", "-S", "train.lr=0.1,0.2", check=False)
    assert proc.returncode == 1
    assert proc.stderr == "ERROR: Sweep overrides need the queue; queue them with --queue or give one value.\n"
    proc = cli("queue", "start", check=False)
    assert proc.stderr == "ERROR: The queue is empty; queue experiments with `jupyter exp run --queue` first.\n"
    with pytest.raises(JupyterExpError, match=r"^The queue is empty; queue experiments with queue\(\) first\.$"):
        jupyter_exp.queue_start()


def test_killed_run_leaves_no_half_experiment(make_project):
    root = make_project("two_stage")
    text = (root / "dvc.yaml").read_text().replace("cmd: python train.py", "cmd: sleep 30 && python train.py")
    (root / "dvc.yaml").write_text(text)
    git(root, "commit", "-qam", "slow")
    proc = subprocess.Popen(
        [*cli_command(), "run", "-n", "killed"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_command(root, "sleep 30")  # the train stage runs: the moment to kill
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert exp_refs(root, full=True) == {}
    assert git(root, "fsck", "--no-progress") == ""
    (root / "dvc.yaml").write_text(text.replace("sleep 30 && ", ""))
    exp = jupyter_exp.run(name="after")
    assert list(exp_refs(root, full=True).values()) == [exp.rev]


def test_save_records_without_running(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    (root / "notes.txt").write_text("why this run")
    exp = jupyter_exp.save(name="kept", include_untracked=["notes.txt"])
    assert git(root, "show", f"{exp.rev}:notes.txt") == "why this run"
    assert "train" in git(root, "show", f"{exp.rev}:dvc.lock")


def test_apply_brings_files_and_cached_outputs(make_project):
    root = make_project("two_stage")
    slow = jupyter_exp.run(params={"train.lr": 0.5}, name="slow-lr")
    jupyter_exp.run(params={"train.lr": 0.02}, name="other")
    assert "lr=0.02" in (root / "model.bin").read_text()
    out: list[str] = []
    applied = jupyter_exp.apply("slow-lr", echo=out.append)
    assert applied.saved is None  # the workspace held only experiment "other"
    assert "Changes for experiment 'slow-lr' have been applied" in "".join(out)
    assert "lr: 0.5" in (root / "params.yaml").read_text()
    assert "lr=0.5" in (root / "model.bin").read_text()  # cached output from the cache
    assert git(root, "rev-parse", "HEAD").strip() == slow.baseline
    assert git(root, "diff", "--cached", "--name-only") == ""


def test_apply_saves_uncommitted_work_and_says_how_to_restore(make_project):
    root = make_project("two_stage")
    jupyter_exp.run(params={"train.lr": 0.5}, name="a")
    (root / "train.py").write_text((root / "train.py").read_text() + "# my unsaved edit\n")
    (root / "params.yaml").write_text((root / "params.yaml").read_text().replace("lr: 0.5", "lr: 0.7"))
    (root / "scratch.txt").write_text("untracked notes")
    out: list[str] = []
    applied = jupyter_exp.apply("a", echo=out.append)
    assert applied.saved and applied.saved.startswith("workspace-")
    assert applied.restore_command == f"jupyter exp apply {applied.saved}"
    assert f"bring it back with: {applied.restore_command}" in "".join(out)
    assert "# my unsaved edit" not in (root / "train.py").read_text()
    assert "lr: 0.5" in (root / "params.yaml").read_text()
    assert (root / "scratch.txt").read_text() == "untracked notes"  # apply removes nothing
    (root / "scratch.txt").unlink()
    # The printed command, run as printed, brings everything back.
    subprocess.run([*cli_command(), *applied.restore_command.split()[2:]], cwd=root, check=True, capture_output=True)
    assert "# my unsaved edit" in (root / "train.py").read_text()
    assert "lr: 0.7" in (root / "params.yaml").read_text()
    assert (root / "scratch.txt").read_text() == "untracked notes"
    assert not any("workspace-" in r for r in exp_refs(root, full=True))  # DVC never sees saved workspaces


def test_branch_rename_remove_gc_list(make_project, cli):
    root = make_project("two_stage")
    a = jupyter_exp.run(params={"train.lr": 0.5}, name="a")
    jupyter_exp.run(params={"train.lr": 0.6}, name="b")
    assert jupyter_exp.branch("a") == "a-branch"
    assert git(root, "rev-parse", "a-branch").strip() == a.rev
    with pytest.raises(JupyterExpError, match="Branch 'a-branch' already exists"):
        jupyter_exp.branch("a")
    jupyter_exp.rename("a", "a2")
    assert git(root, "rev-parse", f"refs/exps/{a.baseline[:2]}/{a.baseline[2:]}/a2").strip() == a.rev
    with pytest.raises(UnknownExperimentError, match="Unknown experiment 'a'; did you mean 'a2'\\?"):
        jupyter_exp.apply("a")
    listing = cli("list").stdout
    assert listing.startswith("main:\n") and "[a2]" in listing and "[b]" in listing
    assert cli("list", "--name-only").stdout.split() == ["a2", "b"]
    assert jupyter_exp.remove("b") == ["b"]
    assert list(exp_refs(root, full=True).values()) == [a.rev]
    # gc keeps experiments of HEAD's commit only
    (root / "extra.txt").write_text("x")
    git(root, "add", "extra.txt")
    git(root, "commit", "-qm", "next")
    jupyter_exp.run(name="on-new-head")
    assert sorted(jupyter_exp.gc(workspace=True)) == ["a2"]
    assert [r.split("/")[-1] for r in exp_refs(root, full=True)] == ["on-new-head"]
    proc = cli("gc", "-w", check=False)
    assert proc.returncode == 2 and "rerun with -f to confirm" in proc.stderr
    assert jupyter_exp.remove(all_commits=True) == ["on-new-head"]
    assert exp_refs(root, full=True) == {}


def test_ambiguous_names_across_baselines(make_project):
    root = make_project("two_stage")
    jupyter_exp.run(name="same")
    git(root, "checkout", "-q", "-b", "other")
    (root / "extra.txt").write_text("x")
    git(root, "add", "extra.txt")
    git(root, "commit", "-qm", "other")
    jupyter_exp.run(name="same", params={"train.lr": 0.3})
    assert jupyter_exp.branch("same", "from-head")  # HEAD's baseline wins
    git(root, "checkout", "-q", "--detach", "HEAD~1")
    git(root, "commit", "-q", "--allow-empty", "-m", "third")
    with pytest.raises(AmbiguousExperimentError, match="Experiment 'same' exists on several baselines"):
        jupyter_exp.apply("same")
