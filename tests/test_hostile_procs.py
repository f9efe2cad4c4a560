"""Hostile processes and writes (issue 12, items 3, 9, 10, 13, 24): cache objects that a
write into the workspace must not change, stages that leave children behind, engines
killed under their stage, and output without newlines."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli_command, git
from helpers import group_alive, wait_for

import jupyter_exp
from jupyter_exp.errors import CheckoutError
from jupyter_exp.experiments.queue_store import QueueStore
from jupyter_exp.pipeline.cache import Cache
from jupyter_exp.pipeline.hashing import Hasher
from jupyter_exp.project import Project


# -- helpers ------------------------------------------------------------------------
def cache_objects(root: Path) -> list[Path]:
    objects = root / ".dvc" / "cache" / "files" / "md5"
    return [p for p in objects.rglob("*") if p.is_file() and not p.name.startswith(".")]


def assert_cache_intact(root: Path) -> None:
    """Every cache object's bytes still hash to its name."""
    objects = cache_objects(root)
    assert objects
    for obj in objects:
        name = obj.parent.name + obj.name.removesuffix(".dir")
        assert hashlib.md5(obj.read_bytes()).hexdigest() == name, f"cache object {obj} was changed"


def write_in_place(path: Path, text: str) -> None:
    """What a script does to its output: open it for writing (as root, through a
    read-only mode), not replace it."""
    with open(path, "w") as fobj:
        fobj.write(text)


def set_cache_type(root: Path, value: str) -> None:
    config = root / ".dvc" / "config"
    config.write_text(config.read_text() + f"[cache]\n    type = {value}\n")


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- 3. cache objects never change through the workspace ---------------------------------
@pytest.mark.skipif(os.geteuid() != 0, reason="root writes through read-only files")
def test_in_place_write_after_repro_does_not_change_the_cache(ran):
    model, values = ran / "model.bin", ran / "prepared" / "values.txt"
    good_model, good_values = model.read_bytes(), values.read_bytes()
    write_in_place(model, "overwritten\n")
    write_in_place(values, "1\n")
    assert_cache_intact(ran)
    with pytest.raises(CheckoutError, match="unsaved files"):  # edits no object holds: as DVC
        jupyter_exp.checkout()
    restored = jupyter_exp.checkout(force=True)
    assert sorted(restored) == ["model.bin", "prepared"]
    assert model.read_bytes() == good_model and values.read_bytes() == good_values
    assert_cache_intact(ran)


@pytest.mark.skipif(os.geteuid() != 0, reason="root writes through read-only files")
def test_in_place_write_after_checkout_does_not_change_the_cache(ran):
    model = ran / "model.bin"
    good = model.read_bytes()
    model.unlink()
    jupyter_exp.checkout()
    assert os.stat(model).st_nlink == 1 and model.stat().st_mode & 0o200  # a private, writable copy
    write_in_place(model, "overwritten\n")
    with pytest.raises(CheckoutError, match="confirmation: model.bin;"):
        jupyter_exp.checkout()
    jupyter_exp.checkout(force=True)
    assert model.read_bytes() == good
    assert_cache_intact(ran)
    # repro sees the output changed and brings the right bytes back too.
    write_in_place(model, "overwritten again\n")
    jupyter_exp.repro()
    assert model.read_bytes() == good
    assert_cache_intact(ran)


@pytest.mark.skipif(os.geteuid() != 0, reason="root writes through read-only files")
def test_truncating_added_data_does_not_change_the_cache(project):
    data = project / "data" / "data.xml"
    data.parent.mkdir()
    data.write_text("<rows>" + "<row/>" * 1000 + "</rows>\n")
    good = data.read_bytes()
    jupyter_exp.add("data/data.xml")
    subprocess.run(["truncate", "-s", "0", str(data)], check=True)
    assert_cache_intact(project)
    jupyter_exp.checkout(force=True)
    assert data.read_bytes() == good


@pytest.mark.skipif(os.geteuid() != 0, reason="root writes through read-only files")
def test_run_cache_restore_gives_private_copies(ran):
    model = ran / "model.bin"
    good = model.read_bytes()
    jupyter_exp.run(params={"train.lr": 0.5}, name="other")
    git(ran, "checkout", "-q", "--", ".")
    (ran / "model.bin").unlink()
    results = jupyter_exp.repro()  # back at the baseline's params: restored from the run-cache
    assert "restored" in {r.status for r in results}
    assert model.read_bytes() == good and os.stat(model).st_nlink == 1
    write_in_place(model, "overwritten\n")
    assert_cache_intact(ran)


@pytest.mark.skipif(os.geteuid() != 0, reason="root writes through read-only files")
def test_hard_links_left_by_older_versions_are_unshared_by_checkout(ran):
    model = ran / "model.bin"
    obj = next(p for p in cache_objects(ran) if p.read_bytes() == model.read_bytes())
    model.unlink()
    os.link(obj, model)  # what the old default (reflink, hardlink, copy) left on ext4
    assert jupyter_exp.checkout() == []  # nothing to restore...
    assert not os.path.samestat(os.stat(model), os.stat(obj))  # ...but no longer shared
    write_in_place(model, "overwritten\n")
    assert_cache_intact(ran)


def test_configured_hard_links_are_protected_as_dvc_protects_them(make_project):
    root = make_project("two_stage", commit=False)
    set_cache_type(root, "hardlink,copy")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "hardlinks")
    jupyter_exp.repro()
    model = root / "model.bin"
    obj = next(p for p in cache_objects(root) if p.read_bytes() == model.read_bytes())
    # As DVC 3 with cache.type hardlink: the output is the object, read-only.
    assert os.path.samestat(os.stat(model), os.stat(obj))
    assert model.stat().st_mode & 0o777 == 0o444
    model.unlink()
    jupyter_exp.checkout()
    assert os.path.samestat(os.stat(model), os.stat(obj)) and model.stat().st_mode & 0o777 == 0o444


def test_a_persist_output_is_unprotected_before_its_stage_appends(project):
    for link in ("hardlink,copy", "symlink,copy"):
        set_cache_type(project, link)
        (project / "dvc.yaml").write_text(
            "stages:\n  grow:\n    cmd: echo more >> log.txt\n    params: [n]\n"
            "    outs:\n    - log.txt:\n        persist: true\n"
        )
        for n in range(3):
            (project / "params.yaml").write_text(f"n: {n}\n")
            jupyter_exp.repro()
            (project / "log.txt").unlink()
            jupyter_exp.checkout()  # the output is now a hard link of the object, or a symlink to it
            log = project / "log.txt"
            assert log.is_symlink() or os.stat(log).st_nlink > 1
        assert (project / "log.txt").read_text() == "more\n" * 3
        assert_cache_intact(project)
        (project / "log.txt").unlink()
        (project / ".dvc" / "config").write_text("[core]\n")


def test_a_directory_output_is_walked_once_when_saved(tmp_path):
    class CountingHasher(Hasher):
        walks = 0

        def walk(self, path):
            CountingHasher.walks += 1
            return super().walk(path)

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    for i in range(5):
        (out / "sub" / f"f{i}").write_text(str(i))
    cache = Cache(tmp_path / "cache", CountingHasher(None), ["reflink", "copy"])
    info = cache.save(out)
    assert CountingHasher.walks == 1
    assert info.nfiles == 5 and cache.has_all(info)
    manifest = cache.read_manifest(info.md5)
    assert [e["relpath"] for e in manifest] == [f"sub/f{i}" for i in range(5)]
    for entry in manifest:
        assert os.stat(cache.object_path(entry["md5"])).st_nlink == 1  # copies, not links


# -- 9. a background child holding the output does not hold the engine ----------------
def test_a_background_child_holding_stdout_does_not_block_the_run(project, cli):
    (project / "dvc.yaml").write_text(
        "stages:\n  bg:\n    cmd: echo $$ > pgid.txt; (sleep 60 &); echo ok > d.txt\n    outs: [d.txt]\n"
    )
    started = time.monotonic()
    try:
        cli("repro")
        elapsed = time.monotonic() - started
    finally:
        if (project / "pgid.txt").exists():
            kill_group(int((project / "pgid.txt").read_text()))
    assert elapsed < 10, f"repro waited {elapsed:.1f}s for the stage's background child"
    assert (project / "d.txt").read_text() == "ok\n"
    assert "bg" in (project / "dvc.lock").read_text()


# -- 10. a stage dies with its engine -----------------------------------------------------
TICKER = "echo $$ > {pgid}; while true; do date +%s%N > {tick}; sleep 0.05; done"


@pytest.mark.parametrize("how", ["repro", "run-all"])
def test_killing_the_engine_stops_its_stage(project, tmp_path, how):
    pgid_file, tick = tmp_path / "pgid.txt", tmp_path / "tick.txt"
    (project / "dvc.yaml").write_text(
        f"stages:\n  tick:\n    cmd: {TICKER.format(pgid=pgid_file, tick=tick)}\n    params: [n]\n"
    )
    (project / "params.yaml").write_text("n: 1\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "ticker")
    if how == "repro":
        args = ["repro"]
    else:  # the stage is started from a queue worker thread, not the main thread
        jupyter_exp.run(queue=True, set_params=["n=2"])
        args = ["run", "--run-all"]
    engine = subprocess.Popen(
        [*cli_command(), *args],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pgid = None
    try:
        wait_for(
            lambda: tick.exists() and pgid_file.exists() and pgid_file.read_text().strip(), what="the stage to start"
        )
        pgid = int(pgid_file.read_text())
        os.kill(engine.pid, signal.SIGKILL)  # the engine only, not its stage's group
        engine.wait()
        wait_for(lambda: not group_alive(pgid), timeout=5, what="the stage's group to end")
        last = tick.read_text()
        time.sleep(0.3)  # six ticks' worth
        assert tick.read_text() == last
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()
        if pgid is not None:
            kill_group(pgid)


def test_a_stage_that_finishes_leaves_no_watchdog(project):
    (project / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo hi > o.txt\n    outs: [o.txt]\n")
    jupyter_exp.repro()
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        assert not (b"jupyter-exp-watchdog" in cmdline and ppid == me)


# -- 13. output without newlines under --run-all ----------------------------------------------
def test_run_all_handles_long_output_without_newlines(project):
    size = 20_000_000
    (project / "dvc.yaml").write_text(
        "stages:\n  noisy:\n"
        f"    cmd: {sys.executable} -c \"import sys; sys.stdout.write('x' * {size})\"\n"
        "    params: [n]\n"
    )
    (project / "params.yaml").write_text("n: 1\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "noisy")
    [entry] = jupyter_exp.run(queue=True, set_params=["n=2"])
    shown: list[str] = []
    [outcome] = jupyter_exp.run(run_all=True, echo=shown.append)
    assert outcome.state == "success"
    log = QueueStore(Project(project)).log_path(entry.id).read_text()
    assert "x" * size in log
    # Every line on screen carries the experiment's prefix, and none is unbounded.
    prefix = f"[{entry.name}] "
    lines = "".join(shown).splitlines()
    assert lines.pop() == f"{entry.name}: success"  # the summary, after the runs
    assert all(line.startswith(prefix) for line in lines)
    assert max(len(line) for line in lines) < 70_000
    # The long line is shown in pieces (its unfinished end may wait for more output).
    assert "x" * (size - 65536) in "".join(line.removeprefix(prefix) for line in lines)
