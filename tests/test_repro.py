import stat
import threading
import time
from pathlib import Path

import pytest
from conftest import git
from helpers import statuses

import jupyter_exp
from jupyter_exp.errors import (
    CyclicGraphError,
    MissingDependencyError,
    OutputDuplicatedError,
    PipelineError,
    StageFailedError,
    UnknownStageError,
    YAMLFileError,
)
from jupyter_exp.serialize import load_yaml


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_first_run_runs_everything_then_nothing(make_project):
    root = make_project("two_stage")
    assert statuses(jupyter_exp.repro()) == {"prepare": "ran", "train": "ran"}
    assert (root / "prepared" / "values.txt").read_text() == "2\n4\n6\n8\n"
    lock = load_yaml(root / "dvc.lock")
    assert list(lock["stages"]) == ["prepare", "train"]
    assert lock["stages"]["train"]["params"] == {
        "params.yaml": {"train": {"lr": 0.01, "epochs": 3, "model": {"depth": 2, "act": "relu"}}}
    }
    assert lock["stages"]["prepare"]["outs"][0]["md5"].endswith(".dir")
    assert statuses(jupyter_exp.repro()) == {"prepare": "skipped", "train": "skipped"}


def test_changed_param_reruns_only_dependents(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    jupyter_exp.apply_params(["train.lr=0.02"])
    results = jupyter_exp.repro()
    assert statuses(results) == {"prepare": "skipped", "train": "ran"}
    assert results[1].reason == "param 'train' changed"
    assert "lr=0.02" in (root / "model.bin").read_text()


def test_changed_dependency_reruns_downstream(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    write(root / "data" / "raw.csv", "5\n")
    assert statuses(jupyter_exp.repro()) == {"prepare": "ran", "train": "ran"}


def test_changed_or_missing_output_is_brought_back(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    model, metrics = (root / "model.bin").read_text(), (root / "metrics.json").read_text()
    (root / "model.bin").unlink()
    # Same inputs ran before: the run-cache restores instead of running.
    assert statuses(jupyter_exp.repro()) == {"prepare": "skipped", "train": "restored"}
    assert (root / "model.bin").read_text() == model
    (root / "metrics.json").write_text("{}")
    assert statuses(jupyter_exp.repro())["train"] == "restored"
    assert (root / "metrics.json").read_text() == metrics
    (root / "metrics.json").write_text("{}")
    results = jupyter_exp.repro(force=True)
    assert statuses(results) == {"prepare": "ran", "train": "ran"}
    assert results[1].reason == "forced"


def test_changed_command_reruns(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    text = (root / "dvc.yaml").read_text().replace("cmd: python train.py", "cmd: python train.py --again")
    (root / "dvc.yaml").write_text(text)
    assert statuses(jupyter_exp.repro())["train"] == "ran"


def test_targets_single_item_downstream_and_force(make_project):
    make_project("two_stage")
    assert statuses(jupyter_exp.repro("prepare")) == {"prepare": "ran"}
    assert statuses(jupyter_exp.repro("train", single_item=True, force=True)) == {"train": "ran"}
    assert statuses(jupyter_exp.repro("prepare", downstream=True, force=True)) == {"prepare": "ran", "train": "ran"}
    assert statuses(jupyter_exp.repro("train", force=True)) == {"prepare": "ran", "train": "ran"}
    assert statuses(jupyter_exp.repro("train", pipeline=True)) == {"prepare": "skipped", "train": "skipped"}


def test_unknown_stage_suggests_the_close_one(make_project):
    make_project("two_stage")
    with pytest.raises(UnknownStageError, match="Unknown stage 'trian'; did you mean 'train'\\?"):
        jupyter_exp.repro("trian")


def test_dry_runs_nothing(make_project):
    root = make_project("two_stage")
    out = []
    results = jupyter_exp.repro(dry=True, echo=out.append)
    assert statuses(results) == {"prepare": "dry", "train": "dry"}
    assert "> python prepare.py\n" in out
    assert not (root / "dvc.lock").exists() and not (root / "prepared").exists()


def test_force_downstream(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    write(root / "data" / "raw.csv", "1\n2\n3\n4\n\n")  # same values, new hash
    results = jupyter_exp.repro(force_downstream=True)
    assert statuses(results) == {"prepare": "ran", "train": "ran"}
    assert results[1].reason == "an upstream stage ran"


def test_outputs_are_cached_read_only_and_gitignored(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    lock = load_yaml(root / "dvc.lock")["stages"]
    model_md5 = next(o["md5"] for o in lock["train"]["outs"] if o["path"] == "model.bin")
    obj = root / ".dvc" / "cache" / "files" / "md5" / model_md5[:2] / model_md5[2:]
    assert obj.read_text() == (root / "model.bin").read_text()
    assert not obj.stat().st_mode & stat.S_IWUSR
    dir_md5 = lock["prepare"]["outs"][0]["md5"]
    assert (root / ".dvc/cache/files/md5" / dir_md5[:2] / dir_md5[2:]).exists()
    assert (root / ".gitignore").read_text().splitlines() == ["/prepared", "/model.bin"]
    assert "metrics.json" in git(root, "status", "--porcelain")  # cache: false stays in git


def test_outputs_removed_before_run_unless_persist(project: Path):
    write(
        project / "dvc.yaml",
        """stages:
  gen:
    cmd: (test -f out.txt && echo existed || echo fresh) > log.txt; echo x >> out.txt; echo y >> kept.txt
    outs:
    - out.txt
    - kept.txt:
        persist: true
    - log.txt:
        cache: false
""",
    )
    jupyter_exp.repro()
    first = next(o for o in load_yaml(project / "dvc.lock")["stages"]["gen"]["outs"] if o["path"] == "kept.txt")
    jupyter_exp.repro(force=True)
    # The persisted output was appended to in place; the cache object of the first run is intact.
    obj = project / ".dvc/cache/files/md5" / first["md5"][:2] / first["md5"][2:]
    assert obj.read_text() == "y\n"
    assert (project / "log.txt").read_text() == "fresh\n"
    assert (project / "out.txt").read_text() == "x\n"
    assert (project / "kept.txt").read_text() == "y\ny\n"


def test_stage_environment(project: Path):
    write(
        project / "dvc.yaml",
        """stages:
  env:
    cmd: echo "$DVC_ROOT|$DVC_STAGE" > env.txt
    outs:
    - env.txt
""",
    )
    jupyter_exp.repro()
    assert (project / "env.txt").read_text() == f"{project}|env\n"


def test_output_streams_live(project: Path):
    write(
        project / "dvc.yaml",
        """stages:
  slow:
    cmd: echo started; while [ ! -f go ]; do sleep 0.05; done; echo finished > done.txt
    outs:
    - done.txt
""",
    )
    seen: list[str] = []
    thread = threading.Thread(target=lambda: jupyter_exp.repro(echo=seen.append))
    thread.start()
    deadline = time.monotonic() + 20
    while "started\n" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "started\n" in seen, "output must reach the echo while the command still runs"
    assert thread.is_alive() and not (project / "done.txt").exists()
    (project / "go").write_text("")
    thread.join(20)
    assert (project / "done.txt").exists()


def test_run_cache_restores_instead_of_running(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    first = (root / "model.bin").read_text()
    jupyter_exp.apply_params(["train.lr=0.5"])
    jupyter_exp.repro()
    assert (root / "model.bin").read_text() != first
    jupyter_exp.apply_params(["train.lr=0.01"])
    out: list[str] = []
    results = jupyter_exp.repro(echo=out.append)
    assert statuses(results) == {"prepare": "skipped", "train": "restored"}
    assert "Stage 'train' is cached - skipping run, checking out outputs\n" in out
    assert not any("trained" in line for line in out)
    assert (root / "model.bin").read_text() == first
    # -f skips the run-cache
    assert statuses(jupyter_exp.repro("train", single_item=True, force=True)) == {"train": "ran"}


def test_templating_foreach_matrix_vars_and_cmd_lists(project: Path):
    write(project / "params.yaml", "models:\n  small: 1\n  big: 3\nsuffix: txt\n")
    write(project / "extra.yaml", "greeting: hello\n")
    write(
        project / "dvc.yaml",
        """vars:
  - extra.yaml
  - local: 7
stages:
  each:
    foreach: ${models}
    do:
      cmd: echo ${key}=${item} > ${key}.${suffix}
      outs:
      - ${key}.${suffix}
  grid:
    matrix:
      a: [1, 2]
      b: [x]
    cmd: echo ${item.a}${item.b} ${greeting} ${local} > grid-${item.a}-${item.b}.txt
    outs:
    - grid-${item.a}-${item.b}.txt
  multi:
    cmd:
    - echo one > multi.txt
    - echo two >> multi.txt
    outs:
    - multi.txt
""",
    )
    results = jupyter_exp.repro()
    assert [r.stage for r in results] == ["each@small", "each@big", "grid@1-x", "grid@2-x", "multi"]
    assert (project / "big.txt").read_text() == "big=3\n"
    assert (project / "grid-2-x.txt").read_text() == "2x hello 7\n"
    assert (project / "multi.txt").read_text() == "one\ntwo\n"
    lock = load_yaml(project / "dvc.lock")["stages"]
    assert lock["multi"]["cmd"] == ["echo one > multi.txt", "echo two >> multi.txt"]
    assert statuses(jupyter_exp.repro("each"))["each@big"] == "skipped"


def test_wdir_frozen_and_always_changed(project: Path):
    write(project / "sub" / "in.txt", "in\n")
    write(
        project / "dvc.yaml",
        """stages:
  inside:
    wdir: sub
    cmd: cp in.txt out.txt
    deps:
    - in.txt
    outs:
    - out.txt
  ice:
    frozen: true
    cmd: echo never > ice.txt
    outs:
    - ice.txt
  clock:
    always_changed: true
    cmd: date +%N >> clock.txt
    outs:
    - clock.txt:
        cache: false
        persist: true
""",
    )
    results = statuses(jupyter_exp.repro())
    assert results == {"inside": "ran", "ice": "frozen", "clock": "ran"}
    assert (project / "sub" / "out.txt").read_text() == "in\n"
    assert (project / "sub" / ".gitignore").read_text() == "/out.txt\n"
    assert statuses(jupyter_exp.repro()) == {"inside": "skipped", "ice": "frozen", "clock": "ran"}
    assert len((project / "clock.txt").read_text().splitlines()) == 2


# -- bad input: one named fixture each --------------------------------------------------
def test_malformed_yaml_names_file_and_line(make_project, cli):
    make_project("broken_yaml")
    with pytest.raises(YAMLFileError, match=r"^dvc.yaml, line 6: .*; fix the YAML syntax.$"):
        jupyter_exp.repro()
    proc = cli("repro", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR: dvc.yaml, line 6:") and proc.stderr.count("\n") == 1


def test_cycle(make_project):
    make_project("cycle")
    with pytest.raises(CyclicGraphError, match=r"Pipeline has a cycle: (a -> b -> a|b -> a -> b); remove"):
        jupyter_exp.repro()


def test_two_stages_with_the_same_output(make_project):
    make_project("duplicate_out")
    with pytest.raises(
        OutputDuplicatedError, match="Output 'result.txt' of stage 'two' overlaps output 'result.txt' of stage 'one'"
    ):
        jupyter_exp.repro()


def test_missing_dependency(make_project):
    root = make_project("missing_dep")
    with pytest.raises(MissingDependencyError, match="Dependency 'input.csv' of stage 'use' does not exist; create it"):
        jupyter_exp.repro()
    assert not (root / "dvc.lock").exists()


def test_failing_stage_names_exit_code_and_tail_and_keeps_lock(make_project, cli):
    root = make_project("failing_stage")
    with pytest.raises(
        StageFailedError, match=r"Stage 'fail' failed with exit code 3: about to fail \| disk on fire; fix"
    ):
        jupyter_exp.repro()
    lock = load_yaml(root / "dvc.lock")["stages"]
    assert list(lock) == ["ok"]
    proc = cli("repro", check=False)
    assert proc.returncode == 1
    assert (
        proc.stderr
        == "ERROR: Stage 'fail' failed with exit code 3: about to fail | disk on fire; fix the command and rerun.\n"
    )
    assert "about to fail" in proc.stdout  # the stage's own output streamed


def test_keep_going_and_ignore_errors(project: Path):
    write(
        project / "dvc.yaml",
        """stages:
  bad:
    cmd: exit 1
    outs:
    - bad.txt
  after_bad:
    cmd: cp bad.txt after.txt
    deps:
    - bad.txt
    outs:
    - after.txt
  good:
    cmd: echo ok > good.txt
    outs:
    - good.txt
""",
    )
    from jupyter_exp.pipeline.repro import ReproFailedError

    with pytest.raises(ReproFailedError, match="Stage\\(s\\) 'bad' failed"):
        jupyter_exp.repro(keep_going=True)
    assert (project / "good.txt").exists()
    lock = load_yaml(project / "dvc.lock")["stages"]
    assert list(lock) == ["good"]
    results = statuses(jupyter_exp.repro(ignore_errors=True))
    assert results == {"bad": "failed", "after_bad": "failed", "good": "skipped"}


def test_unknown_param_dependency(project: Path):
    write(project / "params.yaml", "lr: 1\n")
    write(project / "dvc.yaml", "stages:\n  s:\n    cmd: echo\n    params:\n    - epochs\n")
    with pytest.raises(PipelineError, match="depends on param 'epochs', missing from params.yaml"):
        jupyter_exp.repro()


def test_unknown_stage_key_and_bad_interpolation(project: Path):
    write(project / "dvc.yaml", "stages:\n  s:\n    cmd: echo\n    dep: [x]\n")
    with pytest.raises(PipelineError, match="unknown key 'dep'"):
        jupyter_exp.repro()
    write(project / "dvc.yaml", "stages:\n  s:\n    cmd: echo ${nope.x}\n")
    with pytest.raises(PipelineError, match="Could not find 'nope.x'"):
        jupyter_exp.repro()


def test_a_second_process_waits_for_the_lock(make_project):
    root = make_project("two_stage")
    from jupyter_exp.errors import LockError
    from jupyter_exp.project import Project

    errors = []

    def other_thread():
        try:
            with Project(root).lock(wait=0.2):
                pass
        except LockError as exc:
            errors.append(str(exc))

    with Project(root).lock():
        with Project(root).lock():  # re-entrant in the thread that holds it
            thread = threading.Thread(target=other_thread)
            thread.start()
            thread.join()
    assert errors == ["Another DVC or jupyter_exp command is running in this project; wait for it to finish and retry."]
    with Project(root).lock(wait=0.2):  # released
        pass
