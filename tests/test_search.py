"""Hyperparameter search (issue 19): Optuna studies whose trials are queued experiments."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from conftest import cli_command, git, make_repo
from helpers import queue_states, wait_for

import jupyter_exp
from jupyter_exp.errors import ParamsError
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.project import Project
from jupyter_exp.studies.exceptions import (
    SearchError,
    SearchSpaceError,
    StudyExistsError,
    UnknownSamplerError,
    UnknownStudyError,
)

# acc is best (1.0) at lr = 0.01, depth = 4; a known function of the params.
SCORE = (
    "import json, math, yaml; p = yaml.safe_load(open('params.yaml'))['train']; "
    "json.dump({'val': {'acc': 1 - (math.log10(p['lr']) + 2) ** 2 / 4 - (p['depth'] - 4) ** 2 / 16}}, "
    "open('metrics.json', 'w'))"
)
SPACE = ["train.lr=tag(log, interval(1e-4, 0.1))", "train.depth=choice(2,4,8)"]
OBJECTIVE = "metrics.json:val.acc"


def acc(lr: float, depth: int) -> float:
    return 1 - (math.log10(lr) + 2) ** 2 / 4 - (depth - 4) ** 2 / 16


DVC_YAML = """stages:
  score:
    cmd: python score.py
    deps: [score.py]
    params: [train]
    metrics:
    - metrics.json:
        cache: false
"""


@pytest.fixture
def scored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(
        tmp_path / "proj",
        {
            "score.py": SCORE + "\n",
            "params.yaml": "train:\n  lr: 0.001\n  depth: 2\n  epochs: 3\n",
            "dvc.yaml": DVC_YAML,
        },
    )
    monkeypatch.chdir(root)
    return root


def exp_refs(root: Path) -> dict[str, str]:
    out = git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps")
    return {line.split()[0].rsplit("/", 1)[1]: line.split()[1] for line in out.splitlines()}


def test_study_trials_are_experiments_dvc_lists(scored: Path, dvc):
    result = jupyter_exp.search(
        SPACE + ["train.epochs=5"], objective=OBJECTIVE, maximize=True, trials=12, jobs=2, name="st", seed=0, quiet=True
    )
    refs = exp_refs(scored)
    assert sorted(refs) == sorted(f"st-{i}" for i in range(1, 13))
    listed = json.loads(dvc("exp", "show", "--json").stdout)
    names = {e["name"] for b in listed for e in (b.get("experiments") or [])}
    assert names == set(refs)
    trials = jupyter_exp.search_trials("st")
    assert len(trials) == 12 and all(t.state == "complete" for t in trials.values())
    best = [t for t in trials.values() if t.best]
    assert [t.experiment for t in best] == [result.best_experiment]
    # Each trial's experiment holds its sampled params (and the fixed one) and its objective.
    for t in trials.values():
        params = git(scored, "show", f"{refs[t.experiment]}:params.yaml")
        assert "epochs: 5" in params and f"depth: {t.params['train.depth']}" in params
        assert t.value == pytest.approx(acc(t.params["train.lr"], t.params["train.depth"]))
    assert result.best_value == max(t.value for t in trials.values())
    status = jupyter_exp.search_status("st")
    assert status == f"12 / 12 trials, 0 running, best {result.best_value:.6g} ({result.best_experiment})"
    # apply --best brings the best trial's params into the workspace.
    subprocess.run([*cli_command(), "apply", "st", "--best"], check=True, capture_output=True)
    assert f"depth: {result.best_params['train.depth']}" in (scored / "params.yaml").read_text()


def _random_baseline(seed: int, trials: int = 12) -> float:
    """The best of ``trials`` random points of the same space with the same seed."""
    from jupyter_exp.studies.space import parse_space

    space = parse_space(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed), direction="maximize")
    for _ in range(trials):
        trial = study.ask({d.name: d.distribution() for d in space.dimensions})
        study.tell(trial, acc(trial.params["train.lr"], trial.params["train.depth"]))
    return study.best_value


def test_tpe_beats_random_on_average(scored: Path):
    seeds = (1, 2, 3)
    found = [
        jupyter_exp.search(
            SPACE, objective=OBJECTIVE, maximize=True, trials=12, jobs=2, name=f"s{seed}", seed=seed, quiet=True
        ).best_value
        for seed in seeds
    ]
    baseline = [_random_baseline(seed) for seed in seeds]
    assert sum(found) / len(seeds) > sum(baseline) / len(seeds), (found, baseline)


def one_line_error(*args: str) -> str:
    proc = subprocess.run([*cli_command(), *args], capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_bad_searches_are_one_line_errors(scored: Path):
    base = ["run", "--search", "--objective", OBJECTIVE, *sum((["-S", s] for s in SPACE), [])]
    assert "at least one trial" in one_line_error(*base, "--trials", "0")
    assert "Unknown sampler 'bayes'; use one of tpe, random, grid, cmaes." in one_line_error(
        *base, "--sampler", "bayes"
    )
    assert "Unknown pruner" in one_line_error(*base, "--prune", "asha")
    assert "Empty interval" in one_line_error(
        "run", "--search", "--objective", OBJECTIVE, "-S", "train.lr=interval(1,0)"
    )
    assert "log scale needs a positive" in one_line_error(
        "run", "--search", "--objective", OBJECTIVE, "-S", "train.lr=tag(log, interval(0, 1))"
    )
    assert "Nothing to search" in one_line_error("run", "--search", "--objective", OBJECTIVE, "-S", "train.lr=0.1")
    assert "grid sampler cannot sample 'train.lr'" in one_line_error(*base, "--sampler", "grid")
    assert "FILE:KEY" in one_line_error("run", "--search", "-S", SPACE[0])
    assert "No study named 'nope'" in one_line_error("run", "--search", "--resume", "nope")
    with pytest.raises(SearchSpaceError, match="cannot sample"):
        jupyter_exp.search(["train.depth=choice([1,2],[3])"], objective=OBJECTIVE)
    with pytest.raises(UnknownSamplerError):
        jupyter_exp.search(SPACE, objective=OBJECTIVE, sampler="nope")
    with pytest.raises(SearchError, match="at least one trial"):
        jupyter_exp.search(SPACE, objective=OBJECTIVE, trials=0)
    assert not exp_refs(scored)  # nothing was queued or run


def test_flags_a_search_cannot_honour_are_refused_and_nothing_changes(scored: Path):
    (scored / "params.yaml").write_text("train:\n  lr: 0.002\n  depth: 2\n  epochs: 3\n")  # unsaved work
    before = (
        git(scored, "status", "--porcelain", "--ignored"),
        git(scored, "for-each-ref"),
        git(scored, "rev-parse", "HEAD"),
        (scored / "params.yaml").read_text(),
    )
    search = ["run", "--search", "--objective", OBJECTIVE, *sum((["-S", s] for s in SPACE), [])]
    refused = {
        (*search, "--queue"): "--queue does not apply to --search (its trials are queued and run by the study); "
        "drop --queue.",
        (*search, "--temp"): "--temp does not apply to --search (its trials are queued and run by the study); "
        "drop --temp.",
        (*search, "--run-all"): "--run-all does not apply to --search (its trials are queued and run by the study); "
        "drop --run-all.",
        (*search, "--dry"): "--dry does not apply to --search; drop --dry.",
        (*search, "-C", "data.csv"): "-C/--copy-paths does not apply to --search; drop -C/--copy-paths.",
        (*search, "-r", "x"): "-r/--rev does not apply to --search; drop -r/--rev.",
        (*search, "-m", "hi"): "-m/--message does not apply to --search; drop -m/--message.",
        ("run", "--resume", "st", "--queue"): "--queue does not apply to --resume (its trials are queued and run by "
        "the study); drop --queue.",
        ("run", "--resume", "st", "--trials", "5"): "--trials does not apply to --resume: study 'st' keeps what it "
        "was started with; drop --trials.",
        ("run", "--resume", "st", "-S", "train.lr=0.1"): "-S does not apply to --resume: study 'st' keeps what it "
        "was started with; drop -S.",
        ("run", "--search", "--status", "st", "-j", "2"): "-j/--executor do not apply to --status; drop them.",
        ("run", "--resume", "st", "--status"): "--resume and --status exclude each other; pick one.",
        ("run", "--objective", OBJECTIVE): "--objective applies to --search only; add --search or drop --objective.",
        ("run", "--trials", "5", "--queue"): "--trials applies to --search only; add --search or drop --trials.",
    }
    for args, line in refused.items():
        assert one_line_error(*args) == f"ERROR: {line}", args
    from jupyter_exp import cli
    from jupyter_exp.errors import JupyterExpError

    with pytest.raises(JupyterExpError, match="--queue does not apply to --search"):  # the magic says the same
        cli.execute([*search, "--queue"], prog="%exp", from_kernel=True)
    after = (
        git(scored, "status", "--porcelain", "--ignored"),
        git(scored, "for-each-ref"),
        git(scored, "rev-parse", "HEAD"),
        (scored / "params.yaml").read_text(),
    )
    assert after == before
    assert not queue_states(scored) and not (Project(scored).search_dir / "studies.db").exists()


def test_missing_objective_fails_the_trial_and_the_study_goes_on(scored: Path):
    result = jupyter_exp.search(
        ["train.depth=choice(2,4)"], objective="metrics.json:val.loss", trials=3, name="miss", seed=0, quiet=True
    )
    trials = jupyter_exp.search_trials("miss")
    assert [t.state for t in trials.values()] == ["failed"] * 3
    assert all(t.error == f"metric 'val.loss' is not in metrics.json of {t.experiment}" for t in trials.values())
    # A group of metrics, or a file no run writes: each says which, not "not in".
    for objective, name, error in (
        (
            "metrics.json:val",
            "grp",
            "metric 'val' in metrics.json of grp-1 is a group, not a number; name one: val.acc",
        ),
        (
            "nope.json:auc",
            "nof",
            "grp-1 has no metrics file nope.json (or it does not parse); check the objective FILE:KEY",
        ),
    ):
        jupyter_exp.search(["train.depth=choice(2,4)"], objective=objective, trials=1, name=name, seed=0, quiet=True)
        (trial,) = jupyter_exp.search_trials(name).values()
        assert trial.state == "failed" and trial.error == error.replace("grp-1", trial.experiment), trial
    assert result.best_experiment is None
    assert jupyter_exp.search_status("miss") == "3 / 3 trials, 0 running, 3 failed, no best yet"
    with pytest.raises(StudyExistsError, match="continue it with resume='miss'"):
        jupyter_exp.search(["train.depth=choice(2,4)"], objective=OBJECTIVE, name="miss")
    with pytest.raises(SearchError, match="no complete trial"):
        jupyter_exp.apply("miss", best=True)
    # A failing stage fails its trial, with the run's reason; the others complete.
    (scored / "score.py").write_text(
        "import sys, yaml\nif yaml.safe_load(open('params.yaml'))['train']['depth'] == 8: sys.exit(3)\n" + SCORE + "\n"
    )
    git(scored, "commit", "-qam", "fail at depth 8")
    jupyter_exp.search(["train.depth=choice(4,8)"], objective=OBJECTIVE, sampler="grid", trials=2, name="g", quiet=True)
    states = {t.params["train.depth"]: (t.state, t.error) for t in jupyter_exp.search_trials("g").values()}
    assert states[4] == ("complete", None)
    assert states[8][0] == "failed" and "its experiment failed" in str(states[8][1])


# Ten steps, each writing the step's accuracy (DVCLive's metrics.json shape: "step" beside
# the metrics); a worse quality lags at every step. Each run notes its name in RUNS_LOG.
STEPPED = """import json, os, sys, time, yaml
q = yaml.safe_load(open('params.yaml'))['train']['quality']
with open(os.environ['RUNS_LOG'], 'a') as log:
    log.write(os.environ['DVC_EXP_NAME'] + '\\n')
os.makedirs('plots/metrics', exist_ok=True)
for step in range(10):
    time.sleep({pause})
    with open('plots/metrics/acc.tsv', 'a') as tsv:
        tsv.write(('step\\tacc\\n' if step == 0 else '') + f'{{step}}\\t{{q * (step + 1) / 10}}\\n')
    json.dump({{'step': step, 'acc': q * (step + 1) / 10}}, open('metrics.json', 'w'))
"""


@pytest.fixture
def stepped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(pause: float) -> Path:
        root = make_repo(
            tmp_path / "proj",
            {
                "score.py": STEPPED.format(pause=pause),
                "params.yaml": "train:\n  quality: 0.5\n",
                "dvc.yaml": DVC_YAML,
            },
        )
        monkeypatch.chdir(root)
        monkeypatch.setenv("RUNS_LOG", str(tmp_path / "runs.log"))
        return root

    return make


def runs(root: Path) -> list[str]:
    path = root.parent / "runs.log"
    return path.read_text().split() if path.exists() else []


def test_prune_stops_lagging_trials(stepped, dvc):
    root = stepped(0.25)
    # Good trials first (grid order is the seed's), then worse ones: the median pruner
    # stops the laggards after a few steps.
    jupyter_exp.search(
        ["train.quality=choice(0.9,0.8,0.2,0.1,0.15)"],
        objective="metrics.json:acc",
        maximize=True,
        sampler="grid",
        seed=0,
        trials=5,
        prune="median",
        name="pr",
        quiet=True,
    )
    trials = {t.params["train.quality"]: t for t in jupyter_exp.search_trials("pr").values()}
    pruned = [q for q, t in trials.items() if t.state == "pruned"]
    # A laggard is pruned; which others the median rule also stops depends on how the
    # trials' steps interleave (under load a good one can be behind a better one).
    assert set(pruned) & {0.1, 0.15, 0.2}, {q: t.state for q, t in trials.items()}
    refs = exp_refs(root)
    stopped_at = {}
    for q in pruned:
        # Its stage had no checkpoints: the experiment records its sampled params and the
        # metrics and step history it had written when it was stopped.
        rev = refs[trials[q].experiment]
        assert f"quality: {q}" in git(root, "show", f"{rev}:params.yaml")
        metrics = json.loads(git(root, "show", f"{rev}:metrics.json"))
        # (Under load the prune can land as the stage ends: its step is whatever it reached.)
        assert metrics["acc"] == pytest.approx(q * (metrics["step"] + 1) / 10)
        stopped_at[q] = metrics["step"]
        history = git(root, "show", f"{rev}:plots/metrics/acc.tsv").splitlines()
        assert history[0] == "step\tacc" and 1 <= len(history) - 1 <= 10 and history[-1].count("\t") == 1
        assert "pruned at step" in git(root, "log", "-1", "--format=%s", rev)
        assert git(root, "rev-parse", f"{rev}^") == git(root, "rev-parse", "HEAD")
        assert queue_states(root)[trials[q].experiment] == "success"  # its entry points at it: one table row
        (entry,) = [e for e in QueueStore(Project(root)).entries() if e.name == trials[q].experiment]
        assert entry.exp_rev == rev and entry.error == f"pruned at step {metrics['step']} by study 'pr'"
    # (A prune that comes after its run has ended is no prune: that trial is complete.)
    complete = [q for q, t in trials.items() if t.state == "complete"]
    # It ran its ten steps (the driver, polling, may have seen fewer of them under load).
    assert all(
        json.loads(git(root, "show", f"{refs[trials[q].experiment]}:metrics.json"))["step"] == 9 for q in complete
    )
    assert 0.9 in complete and all(trials[q].value == pytest.approx(q) for q in complete)
    assert f"{len(pruned)} pruned" in jupyter_exp.search_status("pr")
    assert sorted(refs) == sorted(t.experiment for t in trials.values())  # every trial is an experiment
    # The study's history marks them, at their last reported value, off the best-so-far line.
    history = jupyter_exp.search_plots("pr").specs["optimization history"]["data"]["values"]
    states = {p["train.quality"]: p["state"] for p in history}
    assert {q for q, state in states.items() if state == "pruned"} == set(pruned)
    best = max(t.value for t in trials.values() if t.state == "complete")
    assert history[-1]["best so far"] == best
    listed = json.loads(dvc("exp", "show", "--json").stdout)  # DVC lists the pruned ones with their metrics
    shown = {e["name"]: e for b in listed for e in (b.get("experiments") or [])}
    for q in pruned:
        data = shown[trials[q].experiment]["revs"][0]["data"]
        assert data["params"]["params.yaml"]["data"]["train"]["quality"] == q
        assert data["metrics"]["metrics.json"]["data"]["step"] == stopped_at[q]


def _finished_trials(name: str) -> int:
    try:
        trials = jupyter_exp.search_trials(name)
    except UnknownStudyError:
        return 0
    return sum(1 for t in trials.values() if t.state in ("complete", "failed", "pruned"))


def test_killed_driver_resumes_without_running_a_trial_twice(stepped):
    root = stepped(0.05)
    args = [
        *cli_command(),
        "run",
        "--search",
        "-S",
        "train.quality=interval(0.1, 1)",
        "--objective",
        "metrics.json:acc",
        "--maximize",
        "--trials",
        "12",
        "-j",
        "2",
        "-n",
        "kk",
        "--seed",
        "0",
    ]
    driver = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while _finished_trials("kk") < 3:
        assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and the stages it ran
    driver.wait()
    assert _finished_trials("kk") < 12
    storage = f"sqlite:///{Project(root).search_dir / 'studies.db'}"
    left = [
        t.number + 1 for t in optuna.load_study(study_name="kk", storage=storage).trials if not t.state.is_finished()
    ]
    assert left  # trials were in flight when the driver died
    out = subprocess.run(
        [*cli_command(), "run", "--search", "--resume", "kk", "-j", "2"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    trials = jupyter_exp.search_trials("kk")
    assert len(trials) == 12 and sorted(t.number for t in trials.values()) == list(range(1, 13))
    assert all(t.state in ("complete", "failed") for t in trials.values())
    seen = runs(root)
    # In flight when the driver died: a run it had started is failed, not run again (one
    # it had only queued runs now, once).
    in_flight = [t for t in trials.values() if t.number in left]
    assert any(t.state == "failed" and "worker died" in str(t.error) for t in in_flight), in_flight
    assert len(seen) == len(set(seen)), seen  # no trial ran twice
    refs = exp_refs(root)
    for t in trials.values():
        assert (t.state == "complete") == (t.experiment in refs)
        if t.state == "failed":
            assert t.error
    assert (
        "12 / 12 trials, 0 running"
        in subprocess.run(
            [*cli_command(), "run", "--search", "--status", "kk"], capture_output=True, text=True, check=True
        ).stdout
    )


def test_a_driver_killed_after_a_run_recorded_its_experiment_tells_it_complete_on_resume(scored: Path):
    args = [*cli_command(), "run", "--search", "-S", "train.depth=choice(2,4)", "--sampler", "grid"]
    args += ["--objective", OBJECTIVE, "--maximize", "--trials", "2", "-j", "1", "-n", "kr"]
    # Killed between writing the first trial's experiment ref and marking its entry done.
    killed = subprocess.run(args, env=dict(os.environ, JUPYTER_EXP_KILL_AT="queue.recorded"), capture_output=True)
    assert killed.returncode == -9
    (recorded,) = exp_refs(scored)
    assert queue_states(scored)[recorded] == "failed"  # its worker died before marking it
    out = subprocess.run([*cli_command(), "run", "--search", "--resume", "kr"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    trials = jupyter_exp.search_trials("kr")
    assert sorted(trials) == ["kr-1", "kr-2"] and all(t.state == "complete" for t in trials.values())
    for t in trials.values():  # told from the experiment it had recorded, as the other from its run
        assert t.value == pytest.approx(acc(0.001, t.params["train.depth"]))
    assert sorted(exp_refs(scored)) == ["kr-1", "kr-2"]


def test_study_on_a_local_dask_cluster(scored: Path):
    result = jupyter_exp.search(
        SPACE, objective=OBJECTIVE, maximize=True, trials=12, jobs=2, name="dk", seed=0, executor="dask", quiet=True
    )
    trials = jupyter_exp.search_trials("dk")
    assert len(trials) == 12 and all(t.state == "complete" for t in trials.values())
    assert sorted(exp_refs(scored)) == sorted(f"dk-{i}" for i in range(1, 13))
    pids = {e.pid for e in QueueStore(Project(scored)).entries() if e.name.startswith("dk-")}
    assert pids and os.getpid() not in pids  # run in Dask's worker processes
    assert result.best_value == max(t.value for t in trials.values() if t.value is not None)


def test_exp_magic_runs_and_reports_a_search(scored: Path):
    from jupyter_exp import cli

    line = ["run", "--search", "-S", "train.depth=choice(2,4)", "--objective", OBJECTIVE, "--maximize"]
    out = cli.execute([*line, "--trials", "2", "--sampler", "grid", "-n", "mg", "-q"], prog="%exp", from_kernel=True)
    best = jupyter_exp.search_best("mg")  # depth 4: 0.75 (lr stays 0.001)
    assert jupyter_exp.search_trials("mg")[best].params == {"train.depth": 4}
    assert str(out) == f"Study 'mg': 2 / 2 trials, 0 running, best 0.75 ({best})\n"
    assert str(cli.execute(["run", "--search", "--status", "mg"], prog="%exp")) == (
        f"2 / 2 trials, 0 running, best 0.75 ({best})\n"
    )
    assert "mg: 2 / 2 trials" in str(cli.execute(["run", "--search", "--status"], prog="%exp"))
    with pytest.raises(StudyExistsError) as caught:
        cli.execute([*line, "-n", "mg"], prog="%exp", from_kernel=True)
    assert "continue it with --resume mg or pick another -n OTHER" in str(caught.value)
    removed = cli.execute(["run", "--remove", "mg"], prog="%exp", from_kernel=True)
    assert str(removed) == "Removed study 'mg'; its 2 experiments stay (`exp remove mg-1 mg-2` removes them).\n"


CHECKPOINTED = """import json, os, time, yaml
from jupyter_exp import live
q = yaml.safe_load(open('params.yaml'))['train']['quality']
state = json.load(open('model.json')) if os.path.exists('model.json') else {'epoch': 0}
for epoch in range(state['epoch'], 10):
    time.sleep(0.2)
    json.dump({'epoch': epoch + 1}, open('model.json', 'w'))
    live.log_metric('acc', q * (epoch + 1) / 10)
    live.next_step(total=10)
"""
CHECKPOINT_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    outs:
    - model.json:
        checkpoint: true
    metrics:
    - dvclive/metrics.json:
        cache: false
"""


def test_pruned_checkpoint_trial_keeps_the_steps_it_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_repo(
        tmp_path / "proj",
        {"train.py": CHECKPOINTED, "params.yaml": "train:\n  quality: 0.5\n", "dvc.yaml": CHECKPOINT_YAML},
    )
    monkeypatch.chdir(root)
    jupyter_exp.search(
        ["train.quality=choice(0.9,0.8,0.2,0.1,0.15)"],
        objective="dvclive/metrics.json:acc",
        maximize=True,
        sampler="grid",
        seed=0,
        trials=5,
        prune="median",
        name="ck",
        quiet=True,
    )
    trials = {t.params["train.quality"]: t for t in jupyter_exp.search_trials("ck").values()}
    refs = exp_refs(root)
    head = git(root, "rev-parse", "HEAD").strip()

    def steps(experiment: str) -> int:  # checkpoint commits the experiment records
        return int(git(root, "rev-list", "--count", "--first-parent", f"{head}..{refs[experiment]}"))

    pruned = [t for t in trials.values() if t.state == "pruned"]
    assert pruned  # which trials the median rule prunes depends on timing; what they keep does not
    for t in pruned:  # stopped cleanly: recorded with the steps it made (under load the prune can land at the last)
        made = steps(t.experiment)
        assert 0 < made <= 10
        assert json.loads(git(root, "show", f"{refs[t.experiment]}:dvclive/metrics.json"))["step"] == made - 1
    assert all(steps(t.experiment) == 10 for t in trials.values() if t.state == "complete")


def test_ctrl_c_stops_the_runs_and_resume_finishes_the_study(stepped):
    root = stepped(0.3)  # a run takes 3 s
    args = ["run", "--search", "-S", "train.quality=interval(0.1, 1)", "--objective", "metrics.json:acc"]
    driver = subprocess.Popen(
        [*cli_command(), *args, "--trials", "4", "-j", "2", "-n", "ci"], stderr=subprocess.PIPE, text=True
    )
    wait_for(lambda: list(queue_states(root).values()).count("running") == 2, "two trials running")
    driver.send_signal(signal.SIGINT)
    _out, err = driver.communicate(timeout=60)
    assert driver.returncode != 0
    assert err.strip() == "ERROR: Interrupted; study 'ci' keeps its trials; continue it with --resume ci."
    # The runs were stopped, not waited for (a finished one would be recorded): back in
    # the queue, nothing recorded. (No wall-clock bound: under load it measures the load.)
    assert set(queue_states(root).values()) == {"queued"}
    assert not exp_refs(root)
    out = subprocess.run(
        [*cli_command(), "run", "--search", "--resume", "ci", "-j", "2"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    trials = jupyter_exp.search_trials("ci")
    assert len(trials) == 4 and all(t.state == "complete" for t in trials.values())
    assert sorted(exp_refs(root)) == ["ci-1", "ci-2", "ci-3", "ci-4"]


def _stage_processes(root: Path) -> list[int]:
    """Pids of the stage commands (score.py) running in this test's project."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if b"score.py" in cmdline and cwd.is_relative_to(root.resolve()):
            found.append(int(entry.name))
    return found


def test_ctrl_c_on_dask_stops_the_tasks_and_resume_finishes_the_study(stepped):
    root = stepped(1.0)  # a run takes 10 s
    args = ["run", "--search", "-S", "train.quality=interval(0.1, 1)", "--objective", "metrics.json:acc"]
    driver = subprocess.Popen(
        [*cli_command(), *args, "--trials", "2", "-j", "2", "-n", "cd", "--executor", "dask"],
        stderr=subprocess.PIPE,
        text=True,
    )
    store = QueueStore(Project(root))
    wait_for(
        lambda: len([e for e in store.entries() if e.state == "running" and e.pgid]) == 2,
        "two trials' stages running on the cluster",
        timeout=90,
    )
    wait_for(lambda: len(runs(root)) == 2, "both stages started")
    workers = {e.pid for e in store.entries()}
    assert driver.pid not in workers  # run by Dask's worker processes
    driver.send_signal(signal.SIGINT)
    _out, err = driver.communicate(timeout=60)
    assert driver.returncode != 0
    assert (
        err.strip().splitlines()[-1] == "ERROR: Interrupted; study 'cd' keeps its trials; continue it with --resume cd."
    )
    # The runs were stopped, not waited for (a finished one would be recorded): back in
    # the queue, nothing recorded. (No wall-clock bound: under load it measures the load.)
    assert set(queue_states(root).values()) == {"queued"}
    assert not exp_refs(root)
    assert not _stage_processes(root)
    assert sorted(runs(root)) == ["cd-1", "cd-2"]  # each started once, neither again
    out = subprocess.run(
        [*cli_command(), "run", "--search", "--resume", "cd", "-j", "2"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    trials = jupyter_exp.search_trials("cd")
    assert len(trials) == 2 and all(t.state == "complete" for t in trials.values())
    assert sorted(exp_refs(root)) == ["cd-1", "cd-2"]
    assert sorted(runs(root)) == ["cd-1", "cd-1", "cd-2", "cd-2"]  # each run again once, from its start


# A stage that only ends on its own or on SIGKILL: a prune's stop takes the whole grace
# period of SIGINT and SIGTERM, a window in which the driver has pruned and not told.
STUBBORN = (
    "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
)


def _prune_decisions(root: Path) -> dict[int, str]:
    """Trial number (1-based) -> its state, for the trials the driver decided to prune."""
    import sqlite3

    path = Project(root).search_dir / "studies.db"
    if not path.exists():
        return {}
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT t.number, t.state FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id "
            "WHERE a.key = 'prune_decided_at_step'"
        ).fetchall()
    return {number + 1: state for number, state in rows}


def test_a_driver_killed_after_pruning_a_trial_leaves_it_pruned_for_resume(stepped):
    root = stepped(0.5)  # a run takes 5 s
    (root / "score.py").write_text(STUBBORN + (root / "score.py").read_text())
    git(root, "commit", "-qam", "a stage that ignores SIGINT and SIGTERM")
    args = [*cli_command(), "run", "--search", "-S", "train.quality=choice(0.9,0.8,0.1)", "--sampler", "grid"]
    args += ["--objective", "metrics.json:acc", "--maximize", "--prune", "median", "--trials", "3", "-j", "1"]
    env = dict(os.environ, JUPYTER_EXP_KILL_GRACE="10")
    driver = subprocess.Popen(
        [*args, "-n", "pk", "--seed", "5"], env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    # The grid's order (seed 5) runs the good ones first; the laggard is pruned after them.
    decided = wait_for(lambda: _prune_decisions(root), "a trial pruned", timeout=120)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    for pid in _stage_processes(root):  # the pruned stage, in its own group, ignoring the stop
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not _stage_processes(root), "the stage gone")
    (number,) = decided
    assert _prune_decisions(root) == {number: "RUNNING"}  # pruned, not told: the driver died in between
    out = subprocess.run([*cli_command(), "run", "--search", "--resume", "pk"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    trials = jupyter_exp.search_trials("pk")
    pruned = trials[f"pk-{number}"]
    assert pruned.state == "pruned" and pruned.params["train.quality"] == 0.1, pruned
    assert sorted(t.state for t in trials.values()) == ["complete", "complete", "pruned"]
    # Recorded as a pruned trial is: its params and the metrics it had written when pruned.
    rev = exp_refs(root)[f"pk-{number}"]
    assert "quality: 0.1" in git(root, "show", f"{rev}:params.yaml")
    metrics = json.loads(git(root, "show", f"{rev}:metrics.json"))
    assert "pruned at step" in git(root, "log", "-1", "--format=%s", rev)
    assert metrics["acc"] == pytest.approx(0.1 * (metrics["step"] + 1) / 10)
    assert not list(Project(root).search_dir.glob("pruned-*.json"))  # told: nothing left waiting


def test_a_driver_killed_after_recording_a_pruned_trial_leaves_it_pruned_for_resume(stepped):
    """Killed right after the pruned trial's experiment ref was written (the third record of
    this driver: two trials ran to the end first), before Optuna was told: still pruned."""
    root = stepped(0.5)  # a run takes 5 s
    args = [*cli_command(), "run", "--search", "-S", "train.quality=choice(0.9,0.8,0.1)", "--sampler", "grid"]
    args += ["--objective", "metrics.json:acc", "--maximize", "--prune", "median", "--trials", "3", "-j", "1"]
    env = dict(os.environ, JUPYTER_EXP_KILL_AT="record.ref-written#3")
    killed = subprocess.run([*args, "-n", "pr3", "--seed", "5"], env=env, capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    (number,) = _prune_decisions(root)
    assert f"pr3-{number}" in exp_refs(root)  # recorded, not told
    out = subprocess.run([*cli_command(), "run", "--search", "--resume", "pr3"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    trials = jupyter_exp.search_trials("pr3")
    assert trials[f"pr3-{number}"].state == "pruned", trials[f"pr3-{number}"]
    assert sorted(t.state for t in trials.values()) == ["complete", "complete", "pruned"]


def test_a_symlinked_params_file_is_written_through_its_link(scored: Path):
    """params.yaml a committed link to conf/params.yaml: each trial writes the file the link
    names and keeps the link; a link out of the project fails its trials with one line."""
    (scored / "conf").mkdir()
    (scored / "params.yaml").rename(scored / "conf" / "params.yaml")
    (scored / "params.yaml").symlink_to("conf/params.yaml")
    git(scored, "add", "-A")
    git(scored, "commit", "-qm", "params through a link")
    jupyter_exp.search(["train.depth=choice(4,8)"], objective=OBJECTIVE, maximize=True, sampler="grid", name="ln")
    trials = jupyter_exp.search_trials("ln")
    assert sorted(t.state for t in trials.values()) == ["complete", "complete"]
    for t in trials.values():
        rev = exp_refs(scored)[t.experiment]
        assert git(scored, "ls-tree", rev, "params.yaml").split()[0] == "120000"  # still a link
        assert f"depth: {t.params['train.depth']}" in git(scored, "show", f"{rev}:conf/params.yaml")
        assert t.value == pytest.approx(acc(0.001, t.params["train.depth"]))
    (scored / "params.yaml").unlink()
    (scored / "params.yaml").symlink_to("../outside.yaml")
    git(scored, "commit", "-qam", "a link out of the project")
    before = sorted(exp_refs(scored))
    with pytest.raises(ParamsError, match="^Params file 'params.yaml' is a symlink to '../outside.yaml'") as caught:
        jupyter_exp.search(["train.depth=choice(4,8)"], objective=OBJECTIVE, trials=1, name="out", quiet=True)
    assert "\n" not in str(caught.value)
    assert {n: (t.state, t.error) for n, t in jupyter_exp.search_trials("out").items()} == {
        "out-1": ("failed", str(caught.value))  # the study keeps the trial, failed with the reason
    }
    assert sorted(exp_refs(scored)) == before and not (scored.parent / "outside.yaml").exists()
    assert not [e for e in QueueStore(Project(scored)).entries() if e.name.startswith("out")]


NESTED_SCORE = """import json, yaml
depth = yaml.safe_load(open('conf/params.yaml'))['train']['depth']
seed = yaml.safe_load(open('params.yaml'))['seed']
json.dump({'acc': -(depth - 4) ** 2 + seed / 100}, open('metrics.json', 'w'))
"""
NESTED_DVC_YAML = """stages:
  score:
    cmd: python score.py
    deps: [score.py]
    params:
    - seed
    - conf/params.yaml:
      - train
    metrics:
    - metrics.json:
        cache: false
"""


def test_trials_start_from_the_workspace_as_the_search_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_repo(
        tmp_path / "proj",
        {
            "score.py": NESTED_SCORE,
            "params.yaml": "seed: 1\n",
            "conf/params.yaml": "# the searched file\ntrain:\n  depth: 2\n  width: 8\n",
            "dvc.yaml": NESTED_DVC_YAML,
        },
    )
    monkeypatch.chdir(root)
    (root / "conf" / "params.yaml").write_text("# the searched file, edited\ntrain:\n  depth: 2\n  width: 16\n")
    (root / "notes.txt").write_text("staged, not committed\n")
    git(root, "add", "notes.txt")
    space = ["conf/params.yaml:train.depth=choice(2,4,8)", "seed=3"]  # a file in a folder, and the top one
    jupyter_exp.search(
        space, objective="metrics.json:acc", maximize=True, trials=3, sampler="grid", name="nf", quiet=True
    )
    trials = jupyter_exp.search_trials("nf")
    assert sorted(t.params["conf/params.yaml:train.depth"] for t in trials.values()) == [2, 4, 8]
    refs = exp_refs(root)
    for t in trials.values():
        rev = refs[t.experiment]
        depth = t.params["conf/params.yaml:train.depth"]
        # The workspace as it was (its uncommitted edit, what was staged), the trial's value in.
        assert git(root, "show", f"{rev}:conf/params.yaml") == (
            f"# the searched file, edited\ntrain:\n  depth: {depth}\n  width: 16\n"
        )
        assert git(root, "show", f"{rev}:params.yaml") == "seed: 3\n"
        assert git(root, "show", f"{rev}:notes.txt") == "staged, not committed\n"
        assert t.value == pytest.approx(-((depth - 4) ** 2) + 0.03)
    # The workspace is untouched.
    assert (root / "params.yaml").read_text() == "seed: 1\n"
    assert "width: 16" in (root / "conf" / "params.yaml").read_text()


def test_study_plots_history_and_importances_from_api_cli_and_a_kernel(scored: Path):
    import nbformat
    from nbclient import NotebookClient

    with pytest.raises(UnknownStudyError, match="No study named 'sp'"):
        jupyter_exp.search_plots("sp")
    jupyter_exp.search(
        SPACE, objective=OBJECTIVE, maximize=True, trials=4, name="sp", seed=3, sampler="random", quiet=True
    )
    trials = sorted(jupyter_exp.search_trials("sp").values(), key=lambda t: t.number)
    view = jupyter_exp.search_plots("sp")
    assert list(view.specs) == ["optimization history", "param importances"] and not view.errors
    history = view.specs["optimization history"]["data"]["values"]
    assert [p["trial"] for p in history] == [1, 2, 3, 4]
    assert [p[OBJECTIVE] for p in history] == [t.value for t in trials]
    best = [max(t.value for t in trials[: i + 1]) for i in range(4)]  # maximized: the running maximum
    assert [p["best so far"] for p in history] == best
    assert [p["experiment"] for p in history] == [t.experiment for t in trials]
    bars = view.specs["param importances"]["data"]["values"]
    assert {b["param"] for b in bars} == {"train.lr", "train.depth"}
    assert sum(b["importance"] for b in bars) == pytest.approx(1.0)
    assert all({"application/vnd.vegalite.v5+json", "text/html", "image/png"} <= set(b) for b in view.bundles())
    # The command line: DVC's --json shape, DVC's page, one plot by --targets, one-line errors.
    out = subprocess.run([*cli_command(), "plots", "study", "sp", "--json"], capture_output=True, text=True)
    shown = json.loads(out.stdout)["data"]
    assert shown["optimization history"][0]["content"] == view.specs["optimization history"]
    assert shown["param importances"][0]["revisions"] == ["sp"]
    out = subprocess.run([*cli_command(), "plots", "study", "sp", "-o", "study"], capture_output=True, text=True)
    page = scored / "study" / "index.html"
    assert out.stdout.strip() == page.as_uri() and page.read_text().count("vegaEmbed(") == 2
    out = subprocess.run(
        [*cli_command(), "plots", "study", "sp", "--targets", "param importances", "--show-vega"],
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout) == view.specs["param importances"]
    assert (
        one_line_error("plots", "study", "nope")
        == "ERROR: No study named 'nope'; `exp run --search --status` lists them."
    )
    assert one_line_error("plots", "study", "sp", "--targets", "x") == (
        "ERROR: plots: no plot 'x'; name one of 'optimization history', 'param importances'."
    )
    # One complete trial: the history, and the importances' reason for being left out.
    jupyter_exp.search(["train.depth=choice(2,4)"], objective=OBJECTIVE, trials=1, name="one", quiet=True)
    one = jupyter_exp.search_plots("one")
    assert list(one.specs) == ["optimization history"]
    assert [e["msg"] for e in one.errors] == ["study 'one': needs two complete trials"]
    # A real kernel: %exp plots study shows Vega-Lite, one bundle per plot.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_exp"), nbformat.v4.new_code_cell("%exp plots study sp")]
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(scored)}}).execute()
    vega = [o["data"] for o in nb.cells[1].outputs if "application/vnd.vegalite.v5+json" in o.get("data", {})]
    assert [d["application/vnd.vegalite.v5+json"] for d in vega] == list(view.specs.values())


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli_command(), *args], capture_output=True, text=True)


def test_a_grid_smaller_than_the_trial_count_says_so_and_resume_has_nothing_to_run(scored: Path):
    from jupyter_exp.studies.progress import read_progress

    args = ["run", "--search", "-S", "train.depth=choice(2,4)", "--sampler", "grid", "--trials", "5"]
    out = _cli(*args, "--objective", OBJECTIVE, "--maximize", "-n", "g")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "The grid has 2 points: study 'g' runs 2 trials, not 5."
    best = jupyter_exp.search_best("g")
    status = f"2 / 2 trials (a grid of 2 points; 5 asked), 0 running, best 0.75 ({best})"
    assert lines[-1] == f"Study 'g': {status}"
    assert jupyter_exp.search_status("g") == status
    # The table reads the study file itself, without Optuna: the same words.
    assert read_progress(Project(scored).search_dir / "studies.db")["g"].line == status
    refs = exp_refs(scored)
    resumed = _cli("run", "--search", "--resume", "g")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines() == ["Study 'g' has all its 2 trials; nothing to run.", f"Study 'g': {status}"]
    assert exp_refs(scored) == refs


def test_a_doubtful_objective_and_a_prune_with_no_step_values_are_said(scored: Path):
    subprocess.run([*cli_command(), "run", "-q"], check=True)  # the workspace's metrics.json: {"val": {"acc": ..}}
    args = ["run", "--search", "-S", "train.depth=choice(2,4)", "--sampler", "grid", "--trials", "2"]
    out = _cli(*args, "--objective", "metrics.json:val.ac", "-n", "typo")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        "Warning: metric 'val.ac' is not in metrics.json of the workspace; each trial fails unless its run writes it."
    )
    # A correct objective: no warning. --prune on runs that write no step values: said once.
    out = _cli(*args, "--objective", OBJECTIVE, "--maximize", "--prune", "median", "-n", "np")
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stdout
    notice = (
        "--prune median pruned nothing: no run wrote a step value of 'val.acc' to metrics.json "
        "(DVCLive writes one at each next_step(); so does jupyter_exp.live)."
    )
    assert out.stdout.splitlines().count(notice) == 1, out.stdout


def test_an_objective_outside_the_project_is_refused_before_the_study_exists(scored: Path):
    outside = scored.parent / "elsewhere.json"
    outside.write_text('{"acc": 1}')
    (scored / "linked.json").symlink_to(outside)
    for objective, why in (("../elsewhere.json:acc", "leaves the project"), ("linked.json:acc", "outside")):
        line = one_line_error("run", "--search", "-S", "train.depth=choice(2,4)", "--objective", objective, "-n", "o")
        assert line.startswith("ERROR: --objective:") and why in line, line
    assert not (Project(scored).search_dir / "studies.db").exists() or "o" not in _cli(
        "run", "--search", "--status"
    ).stdout.split(":")
    assert not exp_refs(scored) and not queue_states(scored)
    assert outside.read_text() == '{"acc": 1}'


def test_removing_a_study_keeps_its_experiments_and_waits_for_its_queued_trials(stepped):
    root = stepped(0.3)  # a run takes 3 s
    args = ["run", "--search", "-S", "train.quality=choice(0.2,0.4,0.6,0.8)", "--sampler", "grid"]
    driver = subprocess.Popen(
        [*cli_command(), *args, "--objective", "metrics.json:acc", "--trials", "4", "-j", "2", "-n", "rm"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def state() -> tuple:
        return (
            git(root, "status", "--porcelain", "--ignored"),
            git(root, "for-each-ref"),
            git(root, "rev-parse", "HEAD"),
            sorted(jupyter_exp.search_trials("rm")),
        )

    try:
        wait_for(lambda: list(queue_states(root).values()).count("running") == 2, "two trials running")
        refused = one_line_error("run", "--remove", "rm")  # (its driver holds it)
        assert refused == (
            f"ERROR: Study 'rm' is being run or removed by another process (pid {driver.pid}); "
            "wait for it to end, or stop it, and retry."
        ), refused
        assert jupyter_exp.search_trials("rm")  # (its driver goes on writing: the rest is checked below)
    finally:
        driver.send_signal(signal.SIGINT)
        driver.communicate(timeout=60)
    # Interrupted: its trials are back in the queue, and still refused, changing nothing.
    assert set(queue_states(root).values()) == {"queued"}
    before = state()
    refused = one_line_error("run", "--remove", "rm")
    assert refused.startswith("ERROR: Study 'rm' has trials in the queue (queued: rm-"), refused
    assert refused.endswith("stop or drop them first (`exp queue kill NAME`, `exp queue remove NAME...`).")
    assert state() == before
    subprocess.run([*cli_command(), "queue", "remove", "--queued"], check=True, capture_output=True)
    # A study whose trials ended: removed; the experiments it made stay, and DVC's view too.
    space = ["train.quality=choice(0.2,0.4)"]
    jupyter_exp.search(space, objective="metrics.json:acc", name="kept", trials=2, sampler="grid", quiet=True)
    made = sorted(exp_refs(root))
    assert made == ["kept-1", "kept-2"]
    assert "kept-" in jupyter_exp.show().to_string()
    out = _cli("run", "--remove", "kept")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Removed study 'kept'; its 2 experiments stay (`exp remove kept-1 kept-2` removes them).\n"
    assert sorted(exp_refs(root)) == made
    assert sorted(jupyter_exp.search_trials()) == sorted(jupyter_exp.search_trials("rm"))  # only rm is left
    assert "kept" not in _cli("run", "--search", "--status").stdout
    assert "No study named 'kept'" in one_line_error("run", "--remove", "kept")
    assert jupyter_exp.search_remove("rm")[:3] == ["rm-1", "rm-2", "rm-3"]  # (a 4th if it was asked already)
    assert _cli("run", "--search", "--status").stdout == "No studies.\n"
    # A new study of that name would name its trials as the experiments that stayed: refused
    # before it exists; with them removed, the name is free.
    assert one_line_error("run", "--search", "-S", space[0], "--objective", "metrics.json:acc", "-n", "kept") == (
        "ERROR: Experiments kept-1, kept-2 on this baseline have the names study 'kept''s trials would get; "
        "pick another -n OTHER, or remove them (`exp remove kept-1 kept-2`)."
    )
    assert _cli("run", "--search", "--status").stdout == "No studies.\n"
    jupyter_exp.remove(["kept-1", "kept-2"])
    jupyter_exp.search(space, objective="metrics.json:acc", name="kept", trials=1, quiet=True)
    assert len(jupyter_exp.search_trials("kept")) == 1
