"""Data through an SSH (SFTP) remote served on localhost by asyncssh (tests/ssh_server.py),
with DVC 3.67.1 and dvc-ssh on the other side: each tool pulls what the other pushed,
byte for byte, the server holds the same names and bytes whichever tool pushed, and a
bad host, port or key is one line that changes nothing."""

from __future__ import annotations

import subprocess

import pytest
from conftest import git
from remote_fixtures import cache_objects, data_files, dvc_file_md5, make_data_project, tree_files, verify_objects
from ssh_server import sftp_server  # noqa: F401  (fixture)


@pytest.fixture(scope="session")
def dvc_ssh(dvc_exe):
    """DVC with its SSH support (``dvc-ssh``, from the pinned plugin list) beside it."""
    from dvc_env import ensure_dvc_plugins

    ensure_dvc_plugins(dvc_exe)
    probe = subprocess.run([str(dvc_exe.parent / "python"), "-c", "import dvc_ssh"], capture_output=True)
    assert probe.returncode == 0, probe.stderr
    return dvc_exe


@pytest.fixture
def ssh_origin(tmp_path, dvc, dvc_ssh, sftp_server, monkeypatch):  # noqa: F811
    """The data project, its default remote ``ssh`` the server's empty ``/store`` (the
    key in ``.dvc/config.local``, where a user keeps it), committed; a bare git remote
    ``origin`` holding main."""
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    dvc("remote", "add", "-d", "ssh", sftp_server.url("store"))
    git(root, "commit", "-qam", "ssh remote")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    dvc("remote", "modify", "--local", "ssh", "keyfile", str(sftp_server.keyfile))
    return root, sftp_server


def _clone(tmp_path, name, monkeypatch, dvc, keyfile):
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(clone))
    monkeypatch.chdir(clone)
    dvc("remote", "modify", "--local", "ssh", "keyfile", str(keyfile))
    return clone


def test_our_ssh_push_is_dvcs_and_dvc_pulls_it(ssh_origin, tmp_path, monkeypatch, dvc, jdvc):
    root, server = ssh_origin
    expected = data_files(root)
    assert jdvc("push").stdout == "8 files pushed\n"
    ours = tree_files(server.root / "store")
    assert (
        len(verify_objects(ours, "files/md5/")) == 8
    )  # whole objects only, each named by its md5, no temporary name left
    dvc("remote", "add", "--local", "theirs", server.url("theirs"))
    dvc("remote", "modify", "--local", "theirs", "keyfile", str(server.keyfile))
    dvc("push", "-r", "theirs")
    assert tree_files(server.root / "theirs") == ours  # the same names and bytes whichever tool pushed
    clone = _clone(tmp_path, "clone", monkeypatch, dvc, server.keyfile)
    dvc("pull")
    assert data_files(clone) == expected
    assert "up to date" in dvc("status").stdout


def test_dvcs_ssh_push_is_pulled_by_us(ssh_origin, tmp_path, monkeypatch, dvc, jdvc):
    root, server = ssh_origin
    expected = data_files(root)
    dvc("push")
    clone = _clone(tmp_path, "clone", monkeypatch, dvc, server.keyfile)
    assert jdvc("pull").stdout.splitlines()[-1] == "8 files fetched and 7 files added"
    assert data_files(clone) == expected
    assert cache_objects(clone) == verify_objects(tree_files(server.root / "store"), "files/md5/")
    assert "up to date" in dvc("status").stdout
    assert jdvc("push").stdout == "Everything is up to date.\n"


BAD = [
    ("url", "ssh://tester@127.0.0.1:{closed}/store", "check the host and port"),  # nothing listens there
    ("keyfile", "{other_key}", "keyfile"),  # a key the server does not know
    ("keyfile", "{missing_key}", "keyfile"),  # no such file
    ("user", "nobody", "keyfile"),  # a user the key is not authorized for
]


def test_a_bad_host_port_or_key_is_one_line_and_changes_nothing(ssh_origin, tmp_path, jdvc):
    """Each bad setting in turn (in config.local, as a user sets it): push, fetch and pull
    each fail in one line naming the fix; the server's files and the cache stay as they were."""
    import socket

    import asyncssh

    root, server = ssh_origin
    jdvc("push")
    (root / "data" / "table.csv").write_text("a,b\n5,6\n")
    jdvc("add", "data/table.csv")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    other = tmp_path / "other_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(other))
    remote_before, cache_before = tree_files(server.root / "store"), cache_objects(root)
    for option, value, fix in BAD:
        value = value.format(closed=closed, other_key=other, missing_key=tmp_path / "no_such_key")
        jdvc("remote", "modify", "--local", "ssh", option, value)
        for verb in ("push", "fetch", "pull"):
            proc = jdvc(verb, check=False)
            assert proc.returncode == 1 and proc.stderr.count("\n") == 1, (option, proc.stderr)
            assert proc.stderr.startswith("ERROR: ") and "'ssh'" in proc.stderr and fix in proc.stderr, proc.stderr
        assert tree_files(server.root / "store") == remote_before
        assert cache_objects(root) == cache_before
        jdvc("remote", "modify", "--local", "--unset", "ssh", option)
        jdvc("remote", "modify", "--local", "ssh", "keyfile", str(server.keyfile))
    assert jdvc("push").stdout == "1 file pushed\n"  # and with the settings right again, it goes


def test_a_push_killed_mid_upload_completes_on_the_next_push(ssh_origin, tmp_path, monkeypatch, dvc, jdvc):
    """SIGKILL while a 64 MiB object is being written over SFTP: the server holds whole
    objects under their names (the partial one only under a temporary name), the next
    push sends what is missing and sweeps the leftover, and DVC pulls it all."""
    import os
    import signal
    import time

    from conftest import jdvc_command

    import jupyter_exp

    root, server = ssh_origin
    with open(root / "data" / "big.bin", "wb") as fobj:
        for _ in range(16):
            fobj.write(os.urandom(1 << 22))
    jupyter_exp.add(["data/big.bin"])
    git(root, "add", "-A")
    git(root, "commit", "-qm", "big")
    git(root, "push", "-q", "origin", "main")
    store = server.root / "store"
    big = git(root, "show", "HEAD:data/big.bin.dvc").split("md5: ")[1].split()[0]

    def partly_sent() -> bool:  # the big object's temporary upload, with bytes in it
        for path in store.glob(f"files/md5/{big[:2]}/.{big[2:]}.*.tmp"):
            try:
                if path.stat().st_size > 0:
                    return True
            except FileNotFoundError:  # renamed into place meanwhile
                continue
        return False

    proc = subprocess.Popen([*jdvc_command(), "push", "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    caught = False
    while not caught and time.monotonic() < deadline and proc.poll() is None:
        caught = partly_sent()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert caught, "the push finished before it could be interrupted"
    whole = {k: v for k, v in tree_files(store).items() if not k.rsplit("/", 1)[-1].startswith(".")}
    after_kill = verify_objects(whole, "files/md5/")
    assert big not in after_kill
    out = jdvc("push").stdout
    files = tree_files(store)
    assert not [k for k in files if k.rsplit("/", 1)[-1].startswith(".")], "a temporary upload was left behind"
    pushed = verify_objects(files, "files/md5/")
    assert big in pushed and out == f"{len(pushed - after_kill)} files pushed\n"
    clone = _clone(tmp_path, "clone", monkeypatch, dvc, server.keyfile)
    dvc("pull")
    assert data_files(clone) == data_files(root)
    assert (clone / "data" / "big.bin").read_bytes() == (root / "data" / "big.bin").read_bytes()


@pytest.mark.parametrize("size", [100, 20 << 20], ids=["small", "large"])
def test_a_corrupted_cache_object_never_reaches_the_ssh_remote(ssh_origin, size, jdvc):
    """A cache file whose bytes no longer hash to its name: one line, nothing of it on
    the server under any name (a large one is hashed while it goes, under a temporary
    name that is removed), every other object whole; fixed, the next push sends it."""
    import os

    import jupyter_exp

    root, server = ssh_origin
    (root / "data" / "blob.bin").write_bytes(os.urandom(size))
    jupyter_exp.add(["data/blob.bin"])
    blob = dvc_file_md5(root, "data/blob.bin.dvc")
    obj = root / ".dvc" / "cache" / "files" / "md5" / blob[:2] / blob[2:]
    good = obj.read_bytes()
    obj.chmod(0o644)
    obj.write_bytes(os.urandom(size))
    proc = jdvc("push", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"cache object {blob} is corrupted" in proc.stderr
    store = server.root / "store"
    files = tree_files(store)
    assert not [k for k in files if k.rsplit("/", 1)[-1].startswith(".")], "a temporary upload was left behind"
    pushed = verify_objects(files, "files/md5/")  # every object there is whole and named right
    assert blob not in pushed and pushed
    obj.write_bytes(good)
    assert jdvc("push").stdout == "1 file pushed\n"
    assert blob in verify_objects(tree_files(store), "files/md5/")


def test_boundary_sizes_to_a_remote_path_with_spaces_are_dvcs(ssh_origin, tmp_path, monkeypatch, dvc, jdvc):
    """Objects of 0 bytes, either side of 1 MiB (one SFTP write, or asyncssh's put) and
    of 16 MiB (hashed before, or while, it goes), to a remote whose path has spaces: the
    same names and bytes DVC pushes, and DVC pulls ours."""
    import os

    import jupyter_exp

    root, server = ssh_origin
    sizes = {"empty.bin": 0, "under.bin": (1 << 20) - 1, "mib.bin": 1 << 20, "over.bin": (1 << 20) + 1}
    sizes |= {"large-1.bin": (16 << 20) - 1, "large.bin": 16 << 20}
    for name, size in sizes.items():
        (root / "data" / name).write_bytes(os.urandom(size))
    jupyter_exp.add([f"data/{name}" for name in sizes])
    git(root, "add", "-A")
    git(root, "commit", "-qm", "sizes")
    git(root, "push", "-q", "origin", "main")
    spaced = "my store/dvc data"
    jdvc("remote", "modify", "ssh", "url", server.url(spaced))
    dvc("remote", "add", "--local", "theirs", server.url("their store/dvc data"))
    dvc("remote", "modify", "--local", "theirs", "keyfile", str(server.keyfile))
    assert jdvc("push").stdout == "14 files pushed\n"
    dvc("push", "-r", "theirs")
    ours = tree_files(server.root / spaced)
    assert ours == tree_files(server.root / "their store" / "dvc data")
    assert len(verify_objects(ours, "files/md5/")) == 14
    git(root, "commit", "-qam", "spaced remote")
    git(root, "push", "-q", "origin", "main")
    clone = _clone(tmp_path, "clone", monkeypatch, dvc, server.keyfile)
    dvc("pull")
    assert data_files(clone) == data_files(root)
    assert jdvc("push").stdout == "Everything is up to date.\n"
