"""Hostile local state: copied projects, damaged or code-running bookkeeping, a full
disk, bad numeric flags and names, what would make recording fail, temp-name races.

Each refusal asserts the one line the user sees and that nothing changed."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import git
from safety import Snapshot

import jupyter_exp
from jupyter_exp.arguments import InvalidArgumentError
from jupyter_exp.experiments.collect import CACHE_VERSION
from jupyter_exp.experiments.exceptions import CannotRecordError
from jupyter_exp.git import GitError
from jupyter_exp.refs import InvalidExpNameError
from jupyter_exp.serialize import write_text_atomic

OWN = ".dvc/tmp/jupyter_exp"


def _same_size_same_mtime(path: Path, old: str, new: str) -> None:
    """Rewrite ``path`` with ``old`` replaced by ``new`` (same length), mtime kept."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


# --- 7: a copy never answers with the original's stamps or hashes ---------------------------------


def test_a_copied_project_reruns_and_shows_its_own_params(ran, cli, monkeypatch):
    assert "up to date" in cli("repro").stdout  # records the up-to-date stamp
    cli("show", "--json")  # records the show stamp
    copy = ran.parent / "copy"
    subprocess.run(["cp", "-a", str(ran), str(copy)], check=True)
    _same_size_same_mtime(copy / "params.yaml", "scale: 2", "scale: 3")
    _same_size_same_mtime(copy / "data/raw.csv", "1", "7")
    monkeypatch.chdir(copy)

    shown = json.loads(cli("show", "--json").stdout)
    assert shown[0]["data"]["params"]["params.yaml"]["data"]["prepare"]["scale"] == 3
    out = cli("repro").stdout
    assert "Running stage 'prepare'" in out and "up to date" not in out.splitlines()[0]
    lock = (copy / "dvc.lock").read_text()
    assert lock != (ran / "dvc.lock").read_text()  # the copy's data was hashed anew
    # The original still answers for itself.
    monkeypatch.chdir(ran)
    assert "Data and pipelines are up to date." in cli("repro").stdout


def test_a_project_replaced_in_place_by_a_copy_rehashes(ran, cli, monkeypatch):
    assert "up to date" in cli("repro").stdout
    saved = ran.parent / "saved"
    monkeypatch.chdir(ran.parent)
    os.rename(ran, saved)
    subprocess.run(["cp", "-a", str(saved), str(ran)], check=True)
    _same_size_same_mtime(ran / "data/raw.csv", "1", "7")
    monkeypatch.chdir(ran)
    assert "Running stage 'prepare'" in cli("repro").stdout


# --- 8: bookkeeping that cannot run code, and damaged bookkeeping ----------------------------------


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_planted_show_cache_pickle_is_never_loaded(exps, cli):
    (exps / OWN).mkdir(parents=True, exist_ok=True)
    (exps / OWN / "show-cache.pickle").write_bytes(pickle.dumps((1, _Payload())))
    cli("show", "--json", "-f")
    cli("show", "--json")
    assert not (exps / "pwned").exists()
    assert json.loads((exps / OWN / "show-cache.json").read_text())["version"] == CACHE_VERSION


def test_a_damaged_show_cache_is_rebuilt_with_a_warning(exps, cli):
    cli("show", "--json")
    expected = cli("show", "--json", "-f").stdout
    cache = exps / OWN / "show-cache.json"
    cache.write_text(f'{{"version": {CACHE_VERSION}, "entries": [["abc", false, {{"params": 3}}]]')
    shutil.rmtree(exps / OWN / "show-output")
    proc = cli("show", "--json")
    assert proc.stdout == expected
    assert proc.stderr == f"WARNING: rebuilding the damaged {OWN}/show-cache.json.\n"
    assert json.loads(cache.read_text())["entries"]


def test_a_show_cache_that_is_not_utf8_is_rebuilt_with_a_warning(exps, cli):
    expected = cli("show", "--json", "-f").stdout
    cache = exps / OWN / "show-cache.json"
    cache.write_bytes(b'{"a": "\xff"}')
    shutil.rmtree(exps / OWN / "show-output", ignore_errors=True)
    proc = cli("show", "--json")
    assert proc.stdout == expected
    assert proc.stderr == f"WARNING: rebuilding the damaged {OWN}/show-cache.json.\n"


def test_a_damaged_state_db_is_rebuilt_with_a_warning(ran, cli):
    db = ran / OWN / "state.db"
    assert db.exists()
    db.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):  # else SQLite reads the pages from the write-ahead log
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    proc = cli("repro", "-f")
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("WARNING: rebuilding the damaged hash state ")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM state2").fetchone()[0] > 0


def test_a_damaged_progress_file_is_skipped_with_a_warning(exps, cli):
    progress = exps / OWN / "progress"
    progress.mkdir(parents=True, exist_ok=True)
    (progress / "broken.json").write_bytes(b"\xff\xfe{not json")
    (progress / "list.json").write_text("[1, 2]")
    proc = cli("show", "--json", "-f")
    assert sorted(row["name"] for row in json.loads(proc.stdout)[1]["experiments"]) == ["e1", "e2", "e3"]
    assert (
        "WARNING: skipping the damaged progress file .dvc/tmp/jupyter_exp/progress/broken.json; delete it."
        in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_a_damaged_checkpoint_record_starts_afresh(project):
    from jupyter_exp.experiments.checkpoints import load_workspace_state
    from jupyter_exp.project import Project

    record = project / OWN / "checkpoint.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text('{"name": 1, "baseline": "x", "tip": "y", "step": "z", "state": "running"}')
    assert load_workspace_state(Project(project)) is None


# --- 16: a full disk, numeric flags, long names ---------------------------------------------------


@pytest.fixture
def full_disk(tmp_path):
    """A directory on a tiny tmpfs that is already full (needs root and mount)."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    assert made.returncode == 0, f"these tests run as root and mount a tmpfs: {made.stderr}"
    try:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_write_text_atomic_on_a_full_disk_leaves_the_file_and_no_temp(full_disk):
    target = full_disk / "stamp.json"
    before = sorted(p.name for p in full_disk.iterdir())
    with pytest.raises(OSError):
        write_text_atomic(target, "x" * 100_000)
    assert sorted(p.name for p in full_disk.iterdir()) == before


def test_state_and_stamps_on_a_full_disk_warn_and_carry_on(ran, full_disk, cli, capfd):
    from jupyter_exp.pipeline import stamp
    from jupyter_exp.pipeline.hashing import Hasher, State

    state = State(full_disk / "state.db")
    hasher = Hasher(state)
    for _ in range(3):
        assert hasher.hash_path(ran / "data/raw.csv") is not None
        hasher.flush()
    err = capfd.readouterr().err
    assert "Traceback" not in err
    stamp.record(full_disk, {"targets": []}, [], [ran / "params.yaml"])  # no exception, no stamp
    assert not (full_disk / "uptodate").exists() or not list((full_disk / "uptodate").iterdir())


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ("show", "--precision", "-3"),
            "jupyter exp show: argument --precision: must be a whole number of 0 or more, got -3; "
            "see `jupyter exp show --help`.",
        ),
        (
            ("show", "-n", "-3"),
            "jupyter exp show: argument -n/--num: must be a whole number of 0 or more, got -3; see "
            "`jupyter exp show --help`.",
        ),
        (
            ("run", "-j", "0"),
            "jupyter exp run: argument -j/--jobs: must be a whole number of 1 or more, got 0; see "
            "`jupyter exp run --help`.",
        ),
        (
            ("queue", "start", "-j", "-3"),
            "jupyter exp queue start: argument -j/--jobs: must be a whole number of 1 or more, got "
            "-3; see `jupyter exp queue start --help`.",
        ),
        (
            ("diff", "--precision", "-1"),
            "jupyter exp diff: argument --precision: must be a whole number of 0 or more, got -1; "
            "see `jupyter exp diff --help`.",
        ),
        (
            ("metrics", "show", "--precision", "x"),
            "jupyter exp metrics show: argument --precision: must be a whole number, got 'x'; see "
            "`jupyter exp metrics show --help`.",
        ),
    ],
)
def test_bad_numeric_flags_are_one_line(ran, cli, tmp_path, args, line):
    before = Snapshot.take(ran, outside=[tmp_path])
    proc = cli(*args, check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"ERROR: {line}\n"
    before.assert_unchanged()


def test_bad_jobs_through_the_api(make_project, tmp_path):
    ran = make_project("two_stage")
    before = Snapshot.take(ran, outside=[tmp_path])
    with pytest.raises(
        InvalidArgumentError, match=r"^jobs must be a whole number of 1 or more, got 0; pass 1 or more\.$"
    ):
        jupyter_exp.queue_start(jobs=0, threads=True)
    with pytest.raises(InvalidArgumentError, match="got -3"):
        jupyter_exp.run(set_params=["train.lr=0.5,0.6"], queue=True, run_all=True, jobs=-3)
    before.assert_unchanged()
    assert not list((ran / OWN).glob("queue/**/*.json"))


def test_a_300_character_name_is_refused_before_anything(make_project, tmp_path):
    ran = make_project("two_stage")  # no open hash state whose WAL a collection could fold in
    (ran / ".dvc/tmp").mkdir(exist_ok=True)
    (ran / ".dvc/tmp/lock").touch()  # the project lock's file, which any run creates
    before = Snapshot.take(ran, outside=[tmp_path])
    with pytest.raises(InvalidExpNameError) as info:
        jupyter_exp.run(params={"train.lr": 0.5}, name="a" * 300)
    assert str(info.value) == (
        "Experiment name 'aaaaaaaaaaaaaaaaaaaaaaaa...' is 300 bytes long; use a name of at most 200 bytes."
    )
    with pytest.raises(InvalidExpNameError):
        jupyter_exp.run(params={"train.lr": 0.5}, name="b" * 300, queue=True)
    before.assert_unchanged()


# --- 17: what would make recording fail is refused before the pipeline runs -------------------------

MODES = {"workspace": {}, "queue": {"queue": True}, "temp": {"temp": True}}


def _refused_before_running(root: Path, tmp_path: Path, error, message: str, mode: str = "workspace") -> None:
    (root / ".dvc/tmp").mkdir(exist_ok=True)
    (root / ".dvc/tmp/lock").touch()  # the project lock's file, which the run creates anyway
    before = Snapshot.take(root, outside=[tmp_path])
    with pytest.raises(error) as info:
        jupyter_exp.run(params={"prepare.scale": 5}, **MODES[mode])
    assert str(info.value) == message
    assert not (root / "prepared").exists()  # no stage ran
    assert not list((root / OWN / "queue").glob("*.json"))  # nothing queued
    assert not (root / ".dvc/tmp/exps").exists() or not any((root / ".dvc/tmp/exps").iterdir())
    before.assert_unchanged()  # params.yaml among the workspace files


@pytest.mark.parametrize("mode", MODES)
def test_no_git_identity_is_refused_before_running(make_project, tmp_path, monkeypatch, mode):
    root = make_project("two_stage")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    git(root, "config", "--unset", "user.name")
    git(root, "config", "--unset", "user.email")
    _refused_before_running(
        root,
        tmp_path,
        GitError,
        "git needs your identity; run `git config user.name NAME` and `git config user.email EMAIL`.",
        mode,
    )


@pytest.fixture
def immutable():
    """``chattr +i`` on paths for the test, undone after it (root ignores permission bits)."""
    done: list[Path] = []

    def make(path: Path) -> None:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        assert made.returncode == 0, f"these tests run as root with chattr: {made.stderr}"
        done.append(path)

    yield make
    for path in done:
        subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.mark.parametrize("mode", MODES)
def test_a_read_only_git_is_refused_before_running(make_project, tmp_path, immutable, mode):
    root = make_project("two_stage")
    immutable(root / ".git/objects")
    _refused_before_running(
        root,
        tmp_path,
        CannotRecordError,
        "Cannot write .git/objects (Operation not permitted), so the experiment could not be recorded; "
        "make .git writable (`chattr -i`, a read-write mount) and rerun.",
        mode,
    )


def test_an_unwritable_progress_folder_is_refused_before_running(make_project, tmp_path, immutable):
    root = make_project("two_stage")
    progress = root / OWN / "progress"
    progress.mkdir(parents=True, exist_ok=True)
    immutable(progress)
    _refused_before_running(
        root,
        tmp_path,
        CannotRecordError,
        f"Cannot write {OWN}/progress (Operation not permitted), so the experiment could not be "
        "recorded; make it writable and rerun.",
    )


def test_a_dependency_inside_a_submodule_is_refused_before_running(make_project, tmp_path):
    root = make_project("two_stage")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "input.txt").write_text("1\n")
    git(other, "add", "-A")
    git(other, "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "x")
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other), "sub")
    text = (
        (root / "dvc.yaml").read_text().replace("    - data/raw.csv\n", "    - data/raw.csv\n    - sub/input.txt\n", 1)
    )
    (root / "dvc.yaml").write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "submodule")
    _refused_before_running(
        root,
        tmp_path,
        CannotRecordError,
        "'sub/input.txt' is inside the git submodule 'sub', which an experiment commit cannot hold; "
        "move it into the project's own repository.",
    )


# --- 21: temp names unique per thread; the checkpoint signal appears whole -------------------------


def test_threads_writing_one_file_never_collide(tmp_path):
    target = tmp_path / "shared.json"
    texts = [json.dumps({"writer": i, "pad": "x" * (1000 + i)}) for i in range(32)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(texts))

    def write(text: str) -> None:
        try:
            start.wait()
            for _ in range(20):
                write_text_atomic(target, text)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["shared.json"]  # no temp file left


def test_the_checkpoint_signal_is_never_seen_half_written(tmp_path, monkeypatch):
    from jupyter_exp import live

    monkeypatch.setenv("DVC_CHECKPOINT", "1")
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.delenv(live.ENGINE_PID_VAR, raising=False)
    signal = tmp_path / ".dvc" / "tmp" / live.SIGNAL_NAME
    info = {"metrics": {f"m{i}": i for i in range(200_000)}}
    seen = []
    for _ in range(5):
        stage = threading.Thread(target=live.make_checkpoint, args=(info,))
        stage.start()
        try:
            while not signal.exists():  # the engine's poll, as tight as it gets
                pass
            try:
                seen.append(json.loads(signal.read_text()) == info)
            except ValueError:
                seen.append(False)  # seen empty or half written
        finally:
            while stage.is_alive():  # acknowledge, whatever was read, so the stage ends
                signal.unlink(missing_ok=True)
                stage.join(0.05)
    assert all(seen)
    assert [p.name for p in signal.parent.iterdir()] == []


def test_repro_onto_a_full_cache_is_one_line_and_records_nothing(project, tmp_path, cli):
    """A whole command on a full disk: the cache is a tmpfs too small for the output."""
    (project / "dvc.yaml").write_text(
        "stages:\n  big:\n    cmd: head -c 600000 /dev/urandom > big.bin\n    outs: [big.bin]\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a big output")
    cache = project / ".dvc" / "cache"
    cache.mkdir(exist_ok=True)
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(cache)], capture_output=True, text=True
    )
    assert made.returncode == 0, f"these tests run as root and mount a tmpfs: {made.stderr}"
    try:
        proc = cli("repro", check=False)
        assert proc.returncode == 1
        line = proc.stderr.strip()
        assert "\n" not in line and line.startswith(f"ERROR: Cannot write {cache}/files/md5/"), proc.stderr
        assert line.endswith(": No space left on device; free space or fix its permissions."), line
        assert not (project / "dvc.lock").exists()  # nothing recorded
        assert [p.name for p in cache.rglob("*") if p.is_file()] == []  # no half object
        assert git(project, "status", "--porcelain") == "?? big.bin\n" or "big.bin" in git(
            project, "status", "--porcelain", "--ignored"
        )
    finally:
        subprocess.run(["umount", "-l", str(cache)], check=False)


def test_a_full_disk_under_the_whole_project_is_one_line(tmp_path, cli, monkeypatch, jdvc):
    """The project on a tmpfs filled up after it was set up: no traceback, whatever the
    command was writing when the space ran out."""
    disk = tmp_path / "disk"
    disk.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True, text=True)
    assert made.returncode == 0, f"these tests run as root and mount a tmpfs: {made.stderr}"
    try:
        root = disk / "repo"
        root.mkdir()
        monkeypatch.chdir(root)
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.email", "t@example.com")
        git(root, "config", "user.name", "T")
        jdvc("init")
        (root / "params.yaml").write_text("lr: 0.1\n")
        (root / "dvc.yaml").write_text(
            "stages:\n  s:\n    cmd: python -c \"open('o.txt','w').write('x' * 4000)\"\n    params: [lr]\n"
            "    outs: [o.txt]\n"
        )
        git(root, "add", "-A")
        git(root, "commit", "-qm", "init")
        with open(root / "filler", "wb") as fobj:  # every byte the file system has left
            try:
                while fobj.write(b"\0" * 65536):
                    fobj.flush()
            except OSError:
                pass
        for args in (["run", "-S", "lr=0.3"], ["run", "--queue", "-S", "lr=0.4"], ["save"], ["repro"]):
            proc = cli(*args, check=False)
            assert proc.returncode != 0 and "Traceback" not in proc.stderr, (args, proc.stderr)
            assert proc.stderr.strip().splitlines()[-1].startswith("ERROR: "), (args, proc.stderr)
    finally:
        monkeypatch.chdir(tmp_path)
        subprocess.run(["umount", "-l", str(disk)], check=False)
