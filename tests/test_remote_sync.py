"""Data ``push``/``pull``/``fetch`` with a local-directory remote, against DVC 3.67.1 on
the same remote: what one tool pushes the other pulls, the remote holds what DVC's
push puts there byte for byte, revisions and targets choose what travels, and an
interrupted push, a hostile remote or a full disk lose nothing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from remote_fixtures import (
    cache_objects,
    data_files,
    dvc_file_md5,
    lock_md5,
    make_data_project,
    verify_local_remote,
    write_images,
)
from safety import Snapshot

import jupyter_exp
from jupyter_exp.api import data as api
from jupyter_exp.errors import JupyterExpError


@pytest.fixture
def origin(tmp_path, dvc, monkeypatch):
    """The data project with the committed default remote ``store`` (empty)."""
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    dvc("remote", "add", "-d", "store", str(tmp_path / "store"))
    git(root, "commit", "-qam", "remote")
    return root


def _clone(tmp_path: Path, origin: Path, name: str, monkeypatch) -> Path:
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    monkeypatch.chdir(clone)
    return clone


def _tree(top: Path) -> dict[str, tuple[int, bytes | None]]:
    return {
        p.relative_to(top).as_posix(): (p.stat().st_mode & 0o777, p.read_bytes() if p.is_file() else None)
        for p in sorted(top.rglob("*"))
    }


def test_our_push_is_byte_for_byte_dvcs_and_dvc_pulls_it(origin, tmp_path, monkeypatch, cli, dvc, jdvc):
    expected = data_files(origin)
    dvc("remote", "add", "--local", "theirs", str(tmp_path / "theirs"))
    assert jdvc("push").stdout == "8 files pushed\n"  # 5 images, their manifest, the table, the model
    dvc("push", "-r", "theirs")
    assert _tree(tmp_path / "store") == _tree(tmp_path / "theirs")
    assert jdvc("push").stdout == "Everything is up to date.\n"
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    dvc("pull")
    assert data_files(clone) == expected
    assert "up to date" in dvc("status").stdout


def test_dvcs_push_is_pulled_by_us(origin, tmp_path, monkeypatch, cli, dvc, jdvc):
    expected = data_files(origin)
    dvc("push")
    theirs = _clone(tmp_path, origin, "theirs", monkeypatch)
    said = dvc("pull").stdout
    assert data_files(theirs) == expected
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    out = jdvc("pull").stdout
    assert out == said  # DVC's words, byte for byte
    assert out.splitlines() == [
        "A       data/images/",
        "A       data/table.csv",
        "A       model.bin",
        "8 files fetched and 7 files added",
    ]
    assert data_files(clone) == expected
    assert "up to date" in dvc("status").stdout
    assert jdvc("pull").stdout == "Everything is up to date.\n"
    assert cache_objects(clone) == verify_local_remote(tmp_path / "store")


def test_fetch_fills_the_cache_only_and_checkout_does_the_rest(origin, tmp_path, monkeypatch, cli, jdvc):
    jdvc("push")
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    assert jdvc("fetch").stdout == "8 files fetched\n"
    assert not (clone / "model.bin").exists()
    jdvc("checkout")
    assert data_files(clone) == data_files(origin)


def test_targets_choose_what_travels(origin, tmp_path, monkeypatch, cli, dvc, jdvc):
    images = dvc_file_md5(origin, "data/images.dvc")
    jdvc("push", "data/table.csv.dvc")
    assert verify_local_remote(tmp_path / "store") == {dvc_file_md5(origin, "data/table.csv.dvc")}
    jdvc("push", "train")  # a stage name: its cached outputs
    assert lock_md5(origin, "model.bin") in verify_local_remote(tmp_path / "store")
    before = verify_local_remote(tmp_path / "store")
    # A file inside a tracked directory: that file and the directory's manifest (as DVC
    # sends them: a fresh clone finds the file through it), none of the other files.
    assert jdvc("push", "data/images/2.png").stdout == "2 files pushed\n"
    assert verify_local_remote(tmp_path / "store") - before == {
        images,
        hashlib.md5((origin / "data/images/2.png").read_bytes()).hexdigest(),
    }
    jdvc("push", "data/images")
    assert len(verify_local_remote(tmp_path / "store") - before) == 6  # the manifest and its 5 files
    proc = jdvc("push", "nosuch", check=False)
    assert proc.returncode == 1 and proc.stderr == "ERROR: Nothing tracked matches nosuch; check the names.\n"


def test_a_stage_address_with_its_dvc_yaml_is_a_target(origin, tmp_path, dvc, jdvc):
    """``push dvc.yaml:train`` (and ``-d``) sends what DVC's sends, as ``push train`` does."""
    for flags in ((), ("-d",)):
        pushed = {}
        for tool, name in ((jdvc, "ours"), (dvc, "theirs")):
            store = tmp_path / f"{name}{len(flags)}"
            tool("remote", "add", "--local", "-f", name, str(store))
            tool("push", "-r", name, *flags, "dvc.yaml:train")
            pushed[name] = verify_local_remote(store)
        assert pushed["ours"] == pushed["theirs"] and lock_md5(origin, "model.bin") in pushed["ours"]


def test_a_target_that_is_a_link_into_the_cache_names_the_link(origin, tmp_path, monkeypatch, dvc, jdvc):
    """With ``cache.type: symlink`` a tracked file is a link into the cache: ``./x``,
    ``/abs/x`` and ``../x`` from a subfolder name the tracked file, as in DVC."""
    dvc("config", "--local", "cache.type", "symlink")
    dvc("checkout", "--relink", "-q")
    table = origin / "data" / "table.csv"
    assert table.is_symlink()
    expected = {dvc_file_md5(origin, "data/table.csv.dvc")}
    (origin / "sub").mkdir()
    for where, typed in ((origin, "./data/table.csv"), (origin, str(table)), (origin / "sub", "../data/table.csv")):
        store = tmp_path / f"store-{len(typed)}"
        monkeypatch.chdir(where)
        jdvc("remote", "add", "--local", "-f", "t", str(store))
        jdvc("push", "-r", "t", typed)
        assert verify_local_remote(store) == expected, typed


def test_pulling_a_file_of_a_directory_leaves_the_rest_of_it_alone(origin, tmp_path, monkeypatch, dvc, jdvc):
    """``pull [-f] data/images/1.png`` restores that file; an edit to another file of the
    directory survives, with and without -f, as with DVC (twin clones)."""
    jdvc("push")
    results = {}
    for tool, name in ((jdvc, "ours"), (dvc, "theirs")):
        for force in ((), ("-f",)):
            clone = _clone(tmp_path, origin, f"{name}{len(force)}", monkeypatch)
            jdvc("pull")
            (clone / "data" / "images" / "1.png").unlink()
            (clone / "data" / "images" / "2.png").write_bytes(b"edited here")
            tool("pull", *force, "data/images/1.png")
            results[(name, force)] = _tree(clone / "data" / "images")
            assert results[(name, force)]["2.png"][1] == b"edited here"
            assert (clone / "data" / "images" / "1.png").read_bytes() == (origin / "data/images/1.png").read_bytes()
    assert (
        results[("ours", ())] == results[("theirs", ())] and results[("ours", ("-f",))] == results[("theirs", ("-f",))]
    )


def test_revisions_choose_what_travels(origin, tmp_path, monkeypatch, cli, dvc, jdvc):
    old_table = dvc_file_md5(origin, "data/table.csv.dvc")
    git(origin, "tag", "v1")
    (origin / "data" / "table.csv").write_text("a,b\n5,6\n")
    dvc("add", "-q", "data/table.csv")
    dvc("repro", "-q")
    git(origin, "commit", "-qam", "v2")
    git(origin, "branch", "side", "HEAD~1")
    store = tmp_path / "store"
    jdvc("push")
    assert old_table not in verify_local_remote(store)
    for flags in (["-T"], ["-a"], ["-A"]):
        for path in list((store / "files").rglob("*")):
            if path.is_file():
                path.unlink()
        jdvc("push", *flags)
        assert old_table in verify_local_remote(store), flags
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    jdvc("fetch", "-T")
    assert old_table in cache_objects(clone)


def test_experiments_data_travels_for_all_or_for_the_named(origin, tmp_path, monkeypatch, cli, jdvc):
    models = {}
    for name, lr in (("e1", 0.3), ("e2", 0.7)):
        jupyter_exp.run(params={"lr": lr}, name=name)
        models[name] = lock_md5(origin, "model.bin")
    git(origin, "checkout", "-q", "--", ".")
    store = tmp_path / "store"
    jdvc("push")
    assert not set(models.values()) & verify_local_remote(store)
    jdvc("push", "-e", "e1")
    assert models["e1"] in verify_local_remote(store) and models["e2"] not in verify_local_remote(store)
    jdvc("push", "--all-experiments")
    assert set(models.values()) <= verify_local_remote(store)
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    git(clone, "fetch", "-q", "origin", "refs/exps/*:refs/exps/*")
    jdvc("fetch", "--all-experiments")
    assert set(models.values()) <= cache_objects(clone)


def test_missing_objects_warn_on_push_and_fail_pull_in_one_line_after_the_rest(
    origin, tmp_path, monkeypatch, cli, jdvc
):
    model = lock_md5(origin, "model.bin")
    (origin / ".dvc" / "cache" / "files" / "md5" / model[:2] / model[2:]).unlink()
    proc = jdvc("push")
    assert proc.stdout == "7 files pushed\n"
    assert (
        proc.stderr.count("\n") == 1
        and proc.stderr.startswith("WARNING: 1 cache file(s)")
        and "model.bin" in proc.stderr
    )
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    proc = jdvc("pull", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "1 file(s) are missing from remote 'store': model.bin" in proc.stderr
    assert (clone / "data" / "table.csv").exists() and not (clone / "model.bin").exists()  # the rest is there
    assert jdvc("pull", "--allow-missing").returncode == 0


def test_no_remote_is_one_line_naming_the_fix(project, cli, jdvc):
    proc = jdvc("push", check=False)
    assert proc.returncode == 1
    assert proc.stderr == (
        "ERROR: No remote provided and no default remote set; add one with "
        "`jupyter dvc remote add -d NAME URL` or pass -r NAME.\n"
    )
    proc = jdvc("fetch", "-r", "nosuch", check=False)
    assert proc.stderr.startswith("ERROR: No DVC remote named 'nosuch'")


# -- interrupted -------------------------------------------------------------------------


def test_a_push_killed_mid_file_leaves_no_partial_object_and_the_next_push_completes(origin, tmp_path, cli, dvc, jdvc):
    """SIGKILL while a large object is being written: nothing under a final name is
    partial, and a second push sends exactly what is missing, every object verified."""
    big = origin / "data" / "big.bin"
    with open(big, "wb") as fobj:
        for _ in range(48):
            fobj.write(os.urandom(1 << 20) * 4)  # 192 MiB, slow enough to be caught mid-copy
    for i in range(40):
        (origin / "data" / "images" / f"extra{i}.png").write_bytes(os.urandom(4096))
    jupyter_exp.add(["data/big.bin", "data/images"])
    dvc("remote", "add", "--local", "theirs", str(tmp_path / "theirs"))
    store = tmp_path / "store"
    proc = subprocess.Popen([*jdvc_command(), "push", "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    partial = None
    while partial is None and time.monotonic() < deadline and proc.poll() is None:
        for path in store.rglob(".*.tmp") if store.exists() else []:
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # renamed to its object between the listing and the stat
                continue
            if size > 1 << 20:  # the big object's, half-written (a small one is renamed at once)
                partial = path
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial is not None, "the push finished before it could be interrupted"
    big_md5 = dvc_file_md5(origin, "data/big.bin.dvc")
    dvc("push", "-r", "theirs")  # what DVC pushes for this workspace: what we must end with
    wanted = verify_local_remote(tmp_path / "theirs")
    after_kill = verify_local_remote(store)  # whole objects only under their names
    assert big_md5 not in after_kill and after_kill < wanted
    assert list(store.rglob(".*.tmp")), "the kill left no temporary upload to clean"
    foreign = store / "files" / "md5" / big_md5[:2] / ".notes.tmp"
    foreign.parent.mkdir(parents=True, exist_ok=True)
    foreign.write_text("not ours\n")
    out = jdvc("push").stdout
    assert out == f"{len(wanted - after_kill)} files pushed\n"
    assert verify_local_remote(store) == wanted
    # The killed push's temporary uploads are gone; a name not of their form is left alone.
    assert list(store.rglob(".*.tmp")) == [foreign]
    assert foreign.read_text() == "not ours\n"


# -- hostile and full ---------------------------------------------------------------------


def _manifest(entries: list[tuple[str, str]]) -> tuple[bytes, str]:
    import hashlib

    data = json.dumps([{"md5": m, "relpath": r} for r, m in sorted(entries)]).encode()
    return data, hashlib.md5(data).hexdigest() + ".dir"


@pytest.mark.parametrize("relpath", ["../escape.txt", "ok/../../escape.txt", "/etc/passwd", ".git/config"])
def test_a_remote_manifest_naming_paths_outside_its_directory_is_refused(
    tmp_path, monkeypatch, cli, relpath, dvc, jdvc
):
    """A commit names a directory whose manifest, on the remote, writes outside it."""
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    store = tmp_path / "store"
    dvc("remote", "add", "-d", "store", str(store))
    payload = b"evil\n"
    import hashlib

    payload_md5 = hashlib.md5(payload).hexdigest()
    data, md5 = _manifest([(relpath, payload_md5)])
    for digest, blob in ((md5, data), (payload_md5, payload)):
        target = store / "files" / "md5" / digest[:2] / digest[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    (root / "evil.dvc").write_text(f"outs:\n- md5: {md5}\n  size: 5\n  nfiles: 1\n  hash: md5\n  path: evil\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "evil")
    clone = _clone(tmp_path, root, "clone", monkeypatch)
    (clone / ".dvc" / "tmp").mkdir()  # made by any command (the project lock lives there)
    before = Snapshot.take(clone, outside=[tmp_path])
    proc = jdvc("pull", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"Remote 'store' holds a bad manifest {md5}" in proc.stderr
    before.assert_unchanged()
    assert not (tmp_path / "escape.txt").exists()


def test_a_corrupted_remote_object_is_never_taken_into_the_cache(origin, tmp_path, monkeypatch, cli, jdvc):
    jdvc("push")
    table = dvc_file_md5(origin, "data/table.csv.dvc")
    obj = tmp_path / "store" / "files" / "md5" / table[:2] / table[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not the table\n")
    clone = _clone(tmp_path, origin, "clone", monkeypatch)
    proc = jdvc("pull", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert f"object {table} on remote 'store' is corrupted" in proc.stderr
    assert table not in cache_objects(clone)
    assert not list((clone / ".dvc" / "cache").rglob("*.tmp"))


@pytest.mark.parametrize(
    "url, message",
    [
        ("s3://bucket/../other", "has '.' or '..' segments"),
        ("s3://bucket/a/./b", "has '.' or '..' segments"),
        ("{root}/.git/objects", "overlaps the git directory"),
        ("{root}/.dvc/cache", "overlaps the DVC cache"),
        ("{root}/.dvc", "overlaps the DVC cache"),
        ("ftp://host/x", "unsupported URL type ftp://"),
    ],
)
def test_a_remote_url_that_leads_somewhere_wrong_is_one_line(origin, tmp_path, cli, url, message, jdvc):
    (origin / ".dvc" / "config.local").write_text(f"['remote \"bad\"']\n    url = {url.format(root=origin)}\n")
    before = Snapshot.take(origin, outside=[tmp_path])
    for verb in ("push", "pull", "fetch"):
        proc = jdvc(verb, "-r", "bad", check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    before.assert_unchanged()


def test_a_target_outside_the_project_is_one_line(origin, tmp_path, jdvc):
    jdvc("push")
    before = Snapshot.take(origin, outside=[tmp_path])
    for verb in ("push", "pull", "fetch"):
        for target in ("..", str(tmp_path), "../origin/data/table.csv.dvc/../../.."):
            proc = jdvc(verb, "-R", target, check=False)
            assert proc.returncode == 1 and proc.stderr == (
                f"ERROR: '{target}' is outside the project; name a path, .dvc file or stage inside it.\n"
            ), proc.stderr
    before.assert_unchanged()


def test_a_missing_driver_is_one_line_naming_the_extra(origin, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gcsfs", None)  # as if not installed
    api.remote_add("gcs", "gs://bucket/path")
    with pytest.raises(JupyterExpError) as caught:
        api.data_push(remote="gcs")
    assert str(caught.value) == (
        "Remote 'gcs' needs gcsfs, which is not installed; install it with `pip install 'jupyter_exp[gs]'`."
    )


@pytest.fixture
def tiny_cache(tmp_path):
    """A 384 KiB tmpfs to hold a clone's cache (needs root and mount, as CI has)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    assert made.returncode == 0, f"these tests run as root and mount a tmpfs: {made.stderr}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_mid_pull_is_one_line_and_loses_nothing(tmp_path, monkeypatch, cli, dvc, tiny_cache, jdvc):
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch, images=0)
    write_images(root, 0)
    images = root / "data" / "images"
    for i in range(12):
        (images / f"{i}.bin").write_bytes(os.urandom(64 * 1024))  # 768 KiB: twice the disk
    dvc("add", "-q", "data/images")
    dvc("repro", "-q")
    dvc("remote", "add", "-d", "store", str(tmp_path / "store"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    jdvc("push")
    clone = _clone(tmp_path, root, "clone", monkeypatch)
    (clone / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {tiny_cache}\n")
    (clone / "data" / "images").mkdir(parents=True)
    (clone / "data" / "images" / "mine.txt").write_text("work in progress\n")
    (clone / ".dvc" / "tmp").mkdir()  # made by any command (the project lock lives there)
    before = Snapshot.take(clone, outside=[tmp_path / "store"])
    proc = jdvc("pull", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "No space left on device" in proc.stderr and "Cannot write to the cache at" in proc.stderr, proc.stderr
    before.assert_unchanged()  # the workspace, git, the remote: untouched
    for path in tiny_cache.rglob("*"):
        assert not path.name.endswith(".tmp"), f"{path} left behind"
        if path.is_file():
            import hashlib

            assert hashlib.md5(path.read_bytes()).hexdigest() == path.parent.name + path.name


@pytest.fixture
def http_store(tmp_path):
    """A local directory served read-only over HTTP on localhost (Python's file server)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    store = tmp_path / "store"
    store.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(store)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield store, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_an_http_remote_is_pulled_through_the_same_code_path_by_both_tools(
    tmp_path, monkeypatch, cli, dvc, http_store, jdvc
):
    store, url = http_store
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    dvc("remote", "add", "store", str(store))
    dvc("push", "-r", "store")
    dvc("remote", "add", "-d", "web", url)
    git(root, "commit", "-qam", "web remote")
    expected = data_files(root)
    ours = _clone(tmp_path, root, "ours", monkeypatch)
    assert jdvc("pull").stdout.splitlines()[-1] == "8 files fetched and 7 files added"
    assert data_files(ours) == expected
    theirs = _clone(tmp_path, root, "theirs", monkeypatch)
    dvc("pull")
    assert data_files(theirs) == expected
    proc = jdvc("pull", "-r", "web", "data/nosuch", check=False)
    assert proc.returncode == 1 and "Nothing tracked matches data/nosuch" in proc.stderr


@pytest.mark.parametrize("size", [100, 20 << 20], ids=["small", "large"])
def test_a_corrupted_cache_object_is_never_pushed(origin, tmp_path, cli, size, jdvc):
    (origin / "data" / "blob.bin").write_bytes(os.urandom(size))
    jupyter_exp.add(["data/blob.bin"])
    blob = dvc_file_md5(origin, "data/blob.bin.dvc")
    obj = origin / ".dvc" / "cache" / "files" / "md5" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(os.urandom(size))  # as an in-place write through a hard link would
    proc = jdvc("push", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"cache object {blob} is corrupted" in proc.stderr
    pushed = verify_local_remote(tmp_path / "store")
    assert blob not in pushed and len(pushed) == 8  # the others went through
    assert not list((tmp_path / "store").rglob("*.tmp"))


def test_in_a_notebook_a_push_shows_a_progress_widget_and_the_summary(origin, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext jupyter_exp"), nbformat.v4.new_code_cell("%dvc push")]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(origin)}}).execute()
    outputs = nb.cells[1]["outputs"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), outputs
    assert "8 files pushed" in "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert len(verify_local_remote(tmp_path / "store")) == 8
