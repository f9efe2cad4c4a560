"""Data through an HTTP remote served on localhost (tests/http_server.py: GET and HEAD
serve a directory, POST and PUT store uploads), with DVC 3.67.1 and its bundled
dvc-http on the other side: each tool pulls what the other pushed, byte for byte, both
upload with the configured ``method`` (POST unless told), and a server that is not
there is one line that changes nothing."""

from __future__ import annotations

import shutil
import socket

import pytest
from conftest import git
from http_server import http_server  # noqa: F401  (fixture)
from remote_fixtures import cache_objects, data_files, make_data_project, tree_files, verify_objects


@pytest.fixture
def http_origin(tmp_path, dvc, http_server, monkeypatch):  # noqa: F811
    """The data project, its default remote ``web`` the server's empty ``/store``,
    committed; a bare git remote ``origin`` holding main."""
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    dvc("remote", "add", "-d", "web", http_server.url("store"))
    git(root, "commit", "-qam", "http remote")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    return root, http_server


def _clone(tmp_path, name, monkeypatch):
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(clone))
    monkeypatch.chdir(clone)
    return clone


def _uploads(server, prefix):
    return {method for method, path in server.requests if path.startswith(prefix) and method in ("POST", "PUT")}


def test_our_http_push_is_dvcs_and_dvc_pulls_it(http_origin, tmp_path, monkeypatch, dvc, jdvc):
    root, server = http_origin
    expected = data_files(root)
    assert jdvc("push").stdout == "8 files pushed\n"
    ours = tree_files(server.root / "store")
    assert len(verify_objects(ours, "files/md5/")) == 8
    assert _uploads(server, "/store/") == {"POST"}  # DVC's default upload method
    assert "in sync" in dvc("status", "-c").stdout
    dvc("remote", "add", "--local", "theirs", server.url("theirs"))
    dvc("push", "-r", "theirs")
    assert tree_files(server.root / "theirs") == ours  # the same names and bytes whichever tool pushed
    clone = _clone(tmp_path, "clone", monkeypatch)
    dvc("pull")
    assert data_files(clone) == expected
    assert "up to date" in dvc("status").stdout


def test_dvcs_http_push_is_pulled_by_us(http_origin, tmp_path, monkeypatch, dvc, jdvc):
    root, server = http_origin
    expected = data_files(root)
    dvc("push")
    clone = _clone(tmp_path, "clone", monkeypatch)
    assert jdvc("pull").stdout.splitlines()[-1] == "8 files fetched and 7 files added"
    assert data_files(clone) == expected
    assert cache_objects(clone) == verify_objects(tree_files(server.root / "store"), "files/md5/")
    assert "up to date" in dvc("status").stdout
    before = list(server.requests)
    assert jdvc("push").stdout == "Everything is up to date.\n"
    assert not _uploads(type(server)(0, server.root, server.requests[len(before) :]), "/")
    # An HTTP server cannot be listed (DVC cannot either): gc -c says so and removes nothing.
    cached = cache_objects(clone)
    proc = jdvc("gc", "-w", "-c", "-f", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "cannot be listed" in proc.stderr, proc.stderr
    assert cache_objects(clone) == cached and verify_objects(tree_files(server.root / "store"), "files/md5/") == cached


def test_method_put_is_used_by_both_tools(http_origin, tmp_path, monkeypatch, dvc, jdvc):
    root, server = http_origin
    jdvc("remote", "modify", "web", "method", "PUT")
    git(root, "commit", "-qam", "upload with PUT")
    git(root, "push", "-q", "origin", "main")
    jdvc("push")
    assert _uploads(server, "/store/") == {"PUT"}
    dvc("remote", "add", "--local", "theirs", server.url("theirs"))
    dvc("remote", "modify", "--local", "theirs", "method", "PUT")
    dvc("push", "-r", "theirs")
    assert _uploads(server, "/theirs/") == {"PUT"}
    assert tree_files(server.root / "theirs") == tree_files(server.root / "store")
    clone = _clone(tmp_path, "clone", monkeypatch)
    dvc("pull")
    assert data_files(clone) == data_files(root)


def test_a_server_that_is_not_there_is_one_line_and_changes_nothing(http_origin, jdvc):
    """A push to a closed port, and a fetch and pull into an empty cache from it: one
    line naming the fix; the server's files, the cache and the workspace stay as they were."""
    root, server = http_origin
    jdvc("push")
    (root / "data" / "table.csv").write_text("a,b\n5,6\n")
    jdvc("add", "data/table.csv")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    jdvc("remote", "modify", "--local", "web", "url", f"http://127.0.0.1:{closed}/store")
    remote_before, workspace = tree_files(server.root), data_files(root)
    for verb in ("push", "fetch", "pull"):
        if verb == "fetch":
            shutil.rmtree(root / ".dvc" / "cache")
        proc = jdvc(verb, check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("ERROR: ") and "'web'" in proc.stderr, proc.stderr
        assert "check the host and port" in proc.stderr, proc.stderr
        assert tree_files(server.root) == remote_before
        assert data_files(root) == workspace
    assert cache_objects(root) == set()


def test_basic_auth_both_ways_and_a_wrong_password_is_one_line(http_origin, tmp_path, monkeypatch, dvc, jdvc):
    """A server that wants HTTP basic auth: with DVC's ``auth``/``user``/``password`` keys
    (the password in config.local) each tool reads what the other pushed; with a wrong
    password a push is one line naming the settings, and nothing is stored."""
    import base64

    root, server = http_origin
    server.authorization = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    jdvc("remote", "modify", "web", "auth", "basic")
    jdvc("remote", "modify", "web", "user", "alice")
    git(root, "commit", "-qam", "basic auth")
    git(root, "push", "-q", "origin", "main")
    jdvc("remote", "modify", "--local", "web", "password", "wrong")
    proc = jdvc("push", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "401" in proc.stderr and "password" in proc.stderr, proc.stderr
    assert tree_files(server.root) == {}
    jdvc("remote", "modify", "--local", "web", "password", "s3cret")
    assert jdvc("push").stdout == "8 files pushed\n"
    clone = _clone(tmp_path, "clone", monkeypatch)
    dvc("remote", "modify", "--local", "web", "password", "s3cret")
    dvc("pull")
    assert data_files(clone) == data_files(root)
