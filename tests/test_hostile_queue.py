"""The queue under hostile input, races and kills (issue 12, items 10, 11, 14, 15, 18, 22).

Each bad input asserts the one line the user sees and that nothing changed: the
Snapshot of tests/safety.py (which skips ``.dvc/tmp``, where the queue's records live)
and the queue's own status, compared before and after.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_command, git
from helpers import pids, queue_states, wait_for
from safety import Snapshot

import jupyter_exp
from jupyter_exp.experiments import queue as queue_module
from jupyter_exp.experiments.exceptions import EntryGone, StateConflict
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.experiments.workers import wait
from jupyter_exp.git import Git
from jupyter_exp.processes import group_alive, start_time, stop_group
from jupyter_exp.project import Project


def queue_state(root: Path) -> list[tuple]:
    """Every entry's identity and state, and the queue's refs: what a bad command must keep."""
    entries = [(e.id, e.name, e.state, e.rev, e.error) for e in QueueStore(Project(root)).entries()]
    return [entries, git(root, "for-each-ref", "refs/jupyter-exp/queue")]


def stage_cmd(root: Path, cmd: str) -> None:
    """Make the train stage run ``cmd`` first, and commit that."""
    text = (root / "dvc.yaml").read_text().replace("cmd: python train.py", f"cmd: {cmd} && python train.py")
    (root / "dvc.yaml").write_text(text)
    git(root, "commit", "-qam", "slow train")


def running_with_stage(root: Path, name: str):
    """The entry ``name`` once its stage command runs."""

    def check():
        entry = QueueStore(Project(root)).entries()
        found = [e for e in entry if e.name == name and e.state == "running" and e.pgid]
        return found[0] if found else None

    return wait_for(check, f"'{name}' to run its stage")


@pytest.fixture
def fast_kills(monkeypatch):
    monkeypatch.setenv("JUPYTER_EXP_KILL_GRACE", "0.5")


# -- 15: names resolve exactly, or by an unambiguous id prefix of 4+ characters ------------
@pytest.mark.parametrize("verb", ["remove", "kill", "retry", "logs"])
def test_one_hex_digit_or_empty_name_picks_no_entry(ran, cli, tmp_path, verb):
    entries = jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3"], name="keep")
    digit = entries[0].id[0]
    before, queued = Snapshot.take(ran, outside=[tmp_path]), queue_state(ran)
    proc = cli("queue", verb, digit, check=False)
    assert proc.returncode == 1
    assert proc.stderr == f"ERROR: No queued experiment '{digit}'; give its name, or at least 4 characters of its id.\n"
    proc = cli("queue", verb, "", check=False)
    assert proc.returncode == 1
    assert proc.stderr == "ERROR: Name a queue entry (its name or id); see `jupyter exp queue status`.\n"
    before.assert_unchanged()
    assert queue_state(ran) == queued


def test_an_id_prefix_of_four_resolves_and_an_ambiguous_one_is_refused(ran, cli, tmp_path, monkeypatch):
    # The queue's verbs take a uuid only for each entry's id (the store, which names its
    # temp files with uuids too, is another module: its uuids stay real).
    ids = iter(["abcd1111aaaa", "abcd2222bbbb", "ffff3333cccc"])

    class FixedIds:  # only the entry ids are fixed; everything else stays real
        @staticmethod
        def uuid4():
            class Value:
                hex = next(ids).ljust(32, "0")

            return Value

    with monkeypatch.context() as patch:
        patch.setattr(queue_module, "uuid", FixedIds)
        jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="one")
        jupyter_exp.run(queue=True, set_params=["train.lr=0.2"], name="two")
        jupyter_exp.run(queue=True, set_params=["train.lr=0.3"], name="three")
    before, queued = Snapshot.take(ran, outside=[tmp_path]), queue_state(ran)
    proc = cli("queue", "remove", "abcd", check=False)
    assert proc.returncode == 1
    assert proc.stderr == (
        "ERROR: 'abcd' is the start of 2 entries' ids (one (abcd1111aaaa), "
        "two (abcd2222bbbb)); give more of the id, or the name.\n"
    )
    proc = cli("queue", "remove", "abc", check=False)
    assert proc.stderr == "ERROR: No queued experiment 'abc'; give its name, or at least 4 characters of its id.\n"
    before.assert_unchanged()
    assert queue_state(ran) == queued
    assert cli("queue", "remove", "abcd2").stdout == "Removed two from the queue.\n"
    assert cli("queue", "remove", "ffff3333cccc").stdout == "Removed three from the queue.\n"
    assert queue_states(ran) == {"one": "queued"}


def test_a_bad_name_among_good_ones_removes_nothing(ran, cli, tmp_path):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2"], name="pair")
    before, queued = Snapshot.take(ran, outside=[tmp_path]), queue_state(ran)
    proc = cli("queue", "remove", "pair-1", "ghost", check=False)
    assert proc.stderr == "ERROR: No queued experiment 'ghost'; see `jupyter exp queue status`.\n"
    before.assert_unchanged()
    assert queue_state(ran) == queued


# -- 14: one transition function, allowed source states ----------------------------------
def test_changes_from_a_state_they_do_not_apply_to_are_refused(ran, cli, tmp_path):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="waiting")
    before, queued = Snapshot.take(ran, outside=[tmp_path]), queue_state(ran)
    proc = cli("queue", "kill", "waiting", check=False)
    assert proc.stderr == "ERROR: Experiment 'waiting' is queued, not running; nothing to kill.\n"
    proc = cli("queue", "retry", "waiting", check=False)
    assert proc.stderr == "ERROR: Experiment 'waiting' is queued; nothing to retry.\n"
    store = QueueStore(Project(ran))
    entry = store.find("waiting")
    with pytest.raises(StateConflict, match="Experiment 'waiting' is queued now"):
        store.transition(entry.id, "success", ("running",))
    with pytest.raises(EntryGone, match="claimed again or retried"):
        store.transition(entry.id, "running", ("queued",), owner="not-its-claim")
    before.assert_unchanged()
    assert queue_state(ran) == queued


def test_remove_failed_with_nothing_failed_says_so(ran, cli, tmp_path):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="fine")
    before, queued = Snapshot.take(ran, outside=[tmp_path]), queue_state(ran)
    proc = cli("queue", "remove", "--failed")
    assert proc.stdout == "Nothing to remove: no failed entries in the queue.\n"
    assert cli("queue", "retry", "--failed").stdout == "Nothing to retry: no failed entries in the queue.\n"
    before.assert_unchanged()
    assert queue_state(ran) == queued


def test_remove_force_of_a_running_entry_is_not_written_back(ran, cli, fast_kills):
    stage_cmd(ran, "sleep 43")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="doomed")
    cli("queue", "start")
    entry = running_with_stage(ran, "doomed")
    assert cli("queue", "remove", "--force", "doomed").stdout == "Removed doomed from the queue.\n"
    assert not group_alive(entry.pgid)
    assert wait(Project(ran), timeout=30)
    assert queue_states(ran) == {}  # the worker did not write it back as failed
    assert git(ran, "for-each-ref", "refs/jupyter-exp/queue", "refs/exps") == ""
    assert not list((ran / ".dvc/tmp/exps").glob("run-*"))
    assert git(ran, "fsck", "--no-progress", "--no-dangling") == ""


def test_queue_stop_from_a_shell_reaches_a_kernels_thread_worker(ran, cli):
    stage_cmd(ran, "sleep 1")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2,0.3"], name="th")
    jupyter_exp.queue_start(1, threads=True)  # as a kernel starts it
    running_with_stage(ran, "th-1")
    assert "Asked 1 worker(s) to finish" in cli("queue", "stop").stdout
    assert wait(Project(ran), timeout=60)
    assert queue_states(ran) == {"th-1": "success", "th-2": "queued", "th-3": "queued"}


def test_two_queueings_of_one_name_at_once_queue_one(ran):
    procs = [
        subprocess.Popen(
            [*cli_command(), "run", "--queue", "-n", "same", "-S", f"train.lr=0.{i}"],
            cwd=ran,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    results = [(proc.wait(timeout=60), *proc.communicate()) for proc in procs]
    assert sorted(code for code, _out, _err in results) == [0, 1]
    (err,) = [err for code, _out, err in results if code]
    head = git(ran, "rev-parse", "HEAD").strip()
    assert err == f"ERROR: Experiment 'same' already exists on baseline {head[:7]}; rerun with -f to overwrite.\n"
    assert queue_states(ran) == {"same": "queued"}
    assert len(git(ran, "for-each-ref", "refs/jupyter-exp/queue").splitlines()) == 1


HOLD_LOCK = """
import sys, time
from pathlib import Path
from jupyter_exp.project import Project
root = Path(sys.argv[1])
with Project(root).lock():
    params = root / "params.yaml"
    original = params.read_bytes()
    params.write_bytes(original.replace(b"lr: ", b"lr: 9"))  # another run's override, mid-run
    (root / "holding").touch()
    while not (root / "release").exists():
        time.sleep(0.02)
    params.write_bytes(original)
"""


def test_queueing_waits_for_the_project_lock_and_never_snapshots_another_runs_params(ran):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(ran)])
    wait_for(lambda: (ran / "holding").exists(), "the lock holder")
    queuer = subprocess.Popen(
        [*cli_command(), "run", "--queue", "-n", "q"],
        cwd=ran,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with pytest.raises(subprocess.TimeoutExpired):
        queuer.wait(timeout=2)  # it waits for the lock (unlocked, it snapshots at once)
    (ran / "release").touch()
    assert holder.wait(timeout=30) == 0
    assert queuer.wait(timeout=30) == 0, queuer.communicate()
    (entry,) = QueueStore(Project(ran)).entries()
    assert git(ran, "show", f"{entry.rev}:params.yaml") == (ran / "params.yaml").read_text()
    (ran / "holding").unlink()
    (ran / "release").unlink()


# -- 11 and 18: kills escalate, are reported as they happened, and are not user errors ----
def test_queue_kill_escalates_past_a_stage_that_ignores_sigint(ran, cli, fast_kills):
    stage_cmd(ran, "trap '' INT; sleep 44")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="stubborn")
    cli("queue", "start")
    entry = running_with_stage(ran, "stubborn")
    out = cli("queue", "kill", "stubborn").stdout
    assert out.startswith("Experiment 'stubborn': its stage stopped with SIGTERM after 0.")
    assert not group_alive(entry.pgid)
    assert wait(Project(ran), timeout=30)
    (failed,) = QueueStore(Project(ran)).entries()
    assert failed.state == "failed"
    assert failed.error == "killed by `jupyter exp queue kill`; its log keeps the output until then"


def test_a_killed_python_stage_is_not_reported_as_the_users_error(ran, cli, fast_kills):
    (ran / "train.py").write_text(
        "import time\nprint('waiting', flush=True)\ntime.sleep(45)\n" + (ran / "train.py").read_text()
    )
    git(ran, "commit", "-qam", "slow python")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="py")
    cli("queue", "start")
    running_with_stage(ran, "py")
    store = QueueStore(Project(ran))
    wait_for(lambda: "waiting" in store.log_path(store.find("py").id).read_text(), "the stage to start")
    assert cli("queue", "kill", "py").stdout.startswith("Experiment 'py': its stage stopped with SIGINT after ")
    assert wait(Project(ran), timeout=30)
    entry = store.find("py")
    assert entry.state == "failed" and "KeyboardInterrupt" not in entry.error
    assert "killed by `jupyter exp queue kill`" in entry.error
    assert "ERROR: killed by `jupyter exp queue kill`" in store.log_path(entry.id).read_text()


def test_stop_kill_escalates_and_reports_each_stage(ran, cli, fast_kills):
    stage_cmd(ran, "trap '' INT TERM; sleep 46")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2"], name="sk")
    cli("queue", "start")
    entry = running_with_stage(ran, "sk-1")
    out = cli("queue", "stop", "--kill").stdout
    assert out.startswith("Asked 1 worker(s) to stop: running experiments interrupted now.\n")
    assert "'sk-1' stopped with SIGKILL after 1." in out and "back in the queue" in out
    assert not group_alive(entry.pgid)
    assert wait(Project(ran), timeout=30)
    assert queue_states(ran) == {"sk-1": "queued", "sk-2": "queued"}


def test_a_stored_group_id_that_names_another_process_is_not_signalled():
    other = subprocess.Popen(["sleep", "47"], start_new_session=True)
    try:
        stopped = stop_group(other.pid, "1", grace=0.1)  # recorded with another start time
        assert stopped.signal is None
        assert stopped.describe() == "had already ended (its process id now names another program)"
        assert other.poll() is None
        assert stop_group(other.pid, None, grace=0.1).signal is None  # unknown identity: left alone
        assert other.poll() is None
        stopped = stop_group(other.pid, start_time(other.pid), grace=0.1)
        assert stopped.signal == "SIGINT" and stopped.gone
    finally:
        other.kill()
        other.wait()


# -- 10: a retry stops what the previous claim left -------------------------------------
def watchdogs_of(pgid: int) -> list[int]:
    """Pids of the watchdog processes guarding the stage group ``pgid``."""
    found = pids(argv=["jupyter-exp-watchdog", str(pgid)])
    assert found, f"no watchdog guards stage group {pgid}"
    return found


def test_retry_stops_the_stage_a_killed_worker_left(ran, cli, fast_kills):
    stage_cmd(ran, "sleep 48")
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1"], name="orphan")
    cli("queue", "start")
    entry = running_with_stage(ran, "orphan")
    # The worker and its stage's watchdog (which would otherwise stop the stage when the
    # worker dies: the OOM killer can take both): the stage runs on.
    for pid in watchdogs_of(entry.pgid):
        os.kill(pid, signal.SIGKILL)
    os.kill(entry.pid, signal.SIGKILL)
    wait_for(lambda: queue_states(ran)["orphan"] == "failed", "the dead worker to be noticed")
    assert group_alive(entry.pgid)
    assert jupyter_exp.queue_retry("orphan") == ["orphan"]
    assert not group_alive(entry.pgid)  # stopped before the entry can be claimed again
    assert queue_states(ran) == {"orphan": "queued"}


# -- 22: the table's ref stamp sees packed refs and linked work trees ----------------------
def test_refs_stamp_sees_removal_of_packed_refs(exps):
    git(exps, "pack-refs", "--all")
    assert not list((exps / ".git/refs/exps").rglob("e1"))  # packed, no loose file left
    packed = Git(exps).refs_stamp()
    jupyter_exp.remove("e1")
    assert Git(exps).refs_stamp() != packed


def test_refs_stamp_in_a_linked_worktree(exps, tmp_path):
    linked = tmp_path / "linked"
    git(exps, "worktree", "add", "-q", str(linked))
    stamp = Git(linked).refs_stamp()
    assert any(str(exps / ".git" / "refs" / "exps") in str(name) for name, *_ in stamp)  # the shared refs
    jupyter_exp.remove("e2")  # from the main work tree: the refs are shared
    assert Git(linked).refs_stamp() != stamp
    git(exps, "pack-refs", "--all")
    stamp = Git(linked).refs_stamp()
    jupyter_exp.remove("e3")
    assert Git(linked).refs_stamp() != stamp


# -- 8: a damaged queue record is skipped with a warning ------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2]",
        b"\xff\xfe\x00",
        b'{"id": 5}',
        None,  # a valid record with fields of the wrong type, made below
    ],
)
def test_a_damaged_queue_record_is_skipped_with_one_warning(ran, cli, content):
    jupyter_exp.run(queue=True, set_params=["train.lr=0.1,0.2"], name="ok")
    store = QueueStore(Project(ran))
    damaged, kept = store.entries()
    record = store.dir / f"{damaged.id}.json"
    if content is None:
        data = json.loads(record.read_text())
        data.update(created="yesterday", state="exploded", pid="12")
        content = json.dumps(data).encode()
    record.write_bytes(content)
    for args in (["queue", "status"], ["show", "--json"]):
        proc = cli(*args)
        warning = (
            f"WARNING: Skipping the damaged queue record .dvc/tmp/jupyter_exp/queue/{damaged.id}.json; "
            "delete it (its experiment is not queued).\n"
        )
        assert proc.stderr == warning, proc.stderr
    assert "ok-2" in cli("queue", "status").stdout and kept.name == "ok-2"
    assert record.read_bytes() == content  # set aside, not rewritten
