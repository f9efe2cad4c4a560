"""Hostile paths, hashes and encodings in the files a project reads (issue 12, items 1, 2,
6, 16 and 19): each case is refused with one line and changes nothing, inside the project
or outside it.

Every case builds a real project (git, ``jupyter_exp.init()``, crafted files committed),
puts a sentinel directory beside it that the unfixed engine would delete, replace or read
into the workspace, runs the command as a user would (the CLI in a subprocess, the api,
or ``%%stage`` in a real IPython shell), and asserts the exact line and a Snapshot.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError, PathError
from jupyter_exp.pipeline.stage_add import StageExistsError
from jupyter_exp.serialize import parse_lock, parse_yaml

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.fixture
def hostile(git_repo: Path, tmp_path: Path) -> Path:
    """An initialised, committed project with a README, and ``tmp_path/outside`` beside it:
    a directory with ``keep.txt`` and ``secret.txt`` that no case may touch or read in."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep me\n")
    (outside / "secret.txt").write_text("secret\n")
    jupyter_exp.init()
    (git_repo / "README.md").write_text("# readme\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "init")
    # The lock file is bookkeeping any command creates; make it before the snapshots.
    with jupyter_exp.project.Project(git_repo).lock():
        pass
    return git_repo


def commit(root: Path, files: dict[str, str | bytes], message: str = "hostile") -> None:
    """Write ``files`` (text or bytes) and commit everything."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def refused(cli, args: list[str], message: str, root: Path, tmp_path: Path) -> None:
    """Run ``jupyter exp ARGS``: it must print exactly ``ERROR: message`` and change nothing."""
    before = Snapshot.take(root, outside=[tmp_path])
    if args[0] in ("add", "checkout", "init"):  # pipeline verbs: `jupyter dvc` (issue 17)
        proc = subprocess.run([*jdvc_command(), *args], capture_output=True, text=True)
    else:
        proc = cli(*args, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"ERROR: {message}", proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    before.assert_unchanged()


def stage_yaml(outs: list[str], extra: str = "") -> str:
    lines = "".join(f"    - {json.dumps(o)}\n" for o in outs)
    return f"stages:\n  s:\n    cmd: echo hi > made.txt\n{extra}    outs:\n{lines}"


# -- 1. outputs that name the project or its machinery ------------------------------------
ROOT = "output '{o}' overlaps the project root; name a file or directory inside the project."
GIT = "'{o}' is inside .git, which belongs to git or DVC; use a path outside it."
DVC = "'{o}' is inside .dvc, which belongs to git or DVC; use a path outside it."
DVCFILE = "DVC file '{o}' cannot be an output; use another name."
LEAVES = "'{o}' leaves the project; use a path inside it."


@pytest.mark.parametrize(
    "out, problem",
    [
        (".", ROOT),
        ("./", ROOT),
        ("data/..", ROOT),
        (".git", GIT),
        (".git/objects", GIT),
        (".dvc", DVC),
        (".dvc/cache", DVC),
        ("dvc.yaml", DVCFILE),
        ("dvc.lock", DVCFILE),
        ("data.dvc", DVCFILE),
        ("../outside", LEAVES),
        ("data/../../outside", LEAVES),
    ],
)
def test_outputs_naming_the_project_are_refused_at_load(hostile, cli, tmp_path, out, problem):
    commit(hostile, {"dvc.yaml": stage_yaml([out])})
    message = f"dvc.yaml, stage 's', outs: {problem.format(o=out)}"
    refused(cli, ["repro"], message, hostile, tmp_path)
    refused(cli, ["run"], message, hostile, tmp_path)


@pytest.mark.parametrize("out", ["lnk/file", "lnk"])
def test_outputs_through_a_symlink_to_outside_are_refused(hostile, cli, tmp_path, out):
    (hostile / "lnk").symlink_to(tmp_path / "outside")
    commit(hostile, {"dvc.yaml": stage_yaml([out])})
    real = (tmp_path / "outside" / out.removeprefix("lnk").lstrip("/")).resolve()
    message = (
        f"dvc.yaml, stage 's', outs: '{out}' leads through a symlink to {real}, "
        "outside the project; use a path inside it."
    )
    refused(cli, ["repro"], message, hostile, tmp_path)


def test_output_through_a_symlink_into_git_is_refused(hostile, cli, tmp_path):
    (hostile / "lnk").symlink_to(".git")
    commit(hostile, {"dvc.yaml": stage_yaml(["lnk/objects"])})
    refused(
        cli,
        ["repro"],
        "dvc.yaml, stage 's', outs: 'lnk/objects' is inside .git, which belongs to git or DVC; use a path outside it.",
        hostile,
        tmp_path,
    )


def test_output_in_a_configured_cache_inside_the_project_is_refused(hostile, cli, tmp_path):
    commit(hostile, {".dvc/config": "[cache]\n    dir = ../store\n", "dvc.yaml": stage_yaml(["store/files"])})
    refused(
        cli,
        ["repro"],
        "dvc.yaml, stage 's', outs: 'store/files' is inside the DVC cache; use a path outside it.",
        hostile,
        tmp_path,
    )


def test_output_inside_the_project_through_a_symlink_still_runs(hostile, cli):
    (hostile / "real").mkdir()
    (hostile / "lnk").symlink_to("real")
    commit(hostile, {"dvc.yaml": "stages:\n  s:\n    cmd: echo hi > lnk/made.txt\n    outs: [lnk/made.txt]\n"})
    cli("repro")
    assert (hostile / "real" / "made.txt").read_text() == "hi\n"


@pytest.fixture
def shell():
    from test_magics import TestingShell
    from traitlets.config import Config

    config = Config()
    config.HistoryAccessor.enabled = False
    ip = TestingShell.instance(config=config)
    ip.run_line_magic("load_ext", "jupyter_exp")
    return ip


@pytest.mark.parametrize(
    "flag, message",
    [
        ("-o .", "%%stage outs: output '.' overlaps the project root; name a file or directory inside the project."),
        ("-o .git", "%%stage outs: '.git' is inside .git, which belongs to git or DVC; use a path outside it."),
        ("-o dvc.yaml", "%%stage outs: DVC file 'dvc.yaml' cannot be an output; use another name."),
        ("-O ../outside", "%%stage outs: '../outside' leaves the project; use a path inside it."),
    ],
)
def test_stage_magic_refuses_outputs_naming_the_project(hostile, shell, tmp_path, flag, message):
    before = Snapshot.take(hostile, outside=[tmp_path])
    with pytest.raises(PathError) as caught:
        shell.run_cell(f"%%stage s {flag} --no-run\nprint(1)\n")
    assert str(caught.value) == message
    before.assert_unchanged()


# -- 2. paths and hashes from .dvc files, dvc.lock and the cache ----------------------------
def dvc_file(path, md5=EMPTY_MD5, size=0) -> str:
    return f"outs:\n- md5: {json.dumps(md5)}\n  size: {json.dumps(size)}\n  hash: md5\n  path: {json.dumps(path)}\n"


FIX_DVC = "restore it from git or track the data again with `jupyter dvc add`."
FIX_HASH = "restore the file from git or rerun the stage that wrote it."


def _dvc_cases(tmp: Path) -> list[tuple[str, str | bytes, str]]:
    secret = tmp / "outside" / "secret.txt"
    return [
        ("path-escape", dvc_file("../outside"), "data.dvc: '../outside' leaves the project; use a path inside it."),
        ("path-deep", dvc_file("../../x"), "data.dvc: '../../x' leaves the project; use a path inside it."),
        (
            "path-absolute",
            dvc_file(str(tmp / "outside")),
            f"data.dvc: '{tmp / 'outside'}' is outside the project; use a path inside it.",
        ),
        ("path-root", dvc_file("."), f"data.dvc: {ROOT.format(o='.')}"),
        ("path-git", dvc_file(".git"), f"data.dvc: {GIT.format(o='.git')}"),
        ("path-dvc-file", dvc_file("dvc.yaml"), f"data.dvc: {DVCFILE.format(o='dvc.yaml')}"),
        (
            "md5-abs-path",
            dvc_file("data", md5=f"ab/{secret}"),
            f"data.dvc, 'data': 'ab/{secret}' is not an md5 hash; {FIX_HASH}",
        ),
        (
            "md5-dotdot",
            dvc_file("data", md5="ab/../../../../outside/secret.txt"),
            f"data.dvc, 'data': 'ab/../../../../outside/secret.txt' is not an md5 hash; {FIX_HASH}",
        ),
        (
            "md5-upper",
            dvc_file("data", md5=EMPTY_MD5.upper()),
            f"data.dvc, 'data': '{EMPTY_MD5.upper()}' is not an md5 hash; {FIX_HASH}",
        ),
        (
            "md5-list",
            "outs:\n- md5: [1]\n  size: 0\n  path: data\n",
            f"data.dvc, 'data': [1] is not an md5 hash; {FIX_HASH}",
        ),
        (
            "size-str",
            dvc_file("data", size="x"),
            f"data.dvc, 'data': 'size' must be a non-negative integer, not 'x'; {FIX_HASH}",
        ),
        (
            "path-int",
            "outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  path: 7\n",
            "data.dvc: path 7 is not a valid path; write it as a relative path.",
        ),
        ("outs-int", "outs: 5\n", f"data.dvc: 'outs' must be a list, not 5; {FIX_DVC}"),
        ("not-utf8", b"outs:\n- path: caf\xe9\n", "data.dvc is not UTF-8 text (byte 17); save it as UTF-8."),
    ]


@pytest.mark.parametrize("case", [c[0] for c in _dvc_cases(Path("/t"))])
def test_hostile_dvc_file_is_refused_by_checkout(hostile, cli, tmp_path, case):
    _, content, message = next(c for c in _dvc_cases(tmp_path) if c[0] == case)
    commit(hostile, {"data.dvc": content})
    refused(cli, ["checkout"], message, hostile, tmp_path)


def test_dvc_file_escape_would_have_replaced_an_outside_directory(hostile, cli, tmp_path, jdvc):
    """The case of the issue: a cached object and a committed .dvc file naming ../outside;
    checkout used to delete ``outside/`` and put the object in its place."""
    (hostile / "d.txt").write_text("data\n")
    jdvc("add", "d.txt")
    text = (hostile / "d.txt.dvc").read_text().replace("path: d.txt", "path: ../outside")
    (hostile / "d.txt").unlink()
    commit(hostile, {"d.txt.dvc": text})
    refused(cli, ["checkout"], "d.txt.dvc: '../outside' leaves the project; use a path inside it.", hostile, tmp_path)
    assert (tmp_path / "outside" / "keep.txt").read_text() == "keep me\n"


LOCKED_STAGE = "stages:\n  s:\n    cmd: echo hi > model.bin\n    outs: [model.bin]\n"


def lock_with(out: str) -> str:
    return f"schema: '2.0'\nstages:\n  s:\n    cmd: echo hi > model.bin\n    outs:\n{out}"


def _lock_cases(tmp: Path) -> list[tuple[str, str | bytes, str]]:
    secret = tmp / "outside" / "secret.txt"
    where = "dvc.lock, stage 's'"
    return [
        (
            "md5-abs-path",
            lock_with(f"    - path: model.bin\n      hash: md5\n      md5: ab/{secret}\n      size: 7\n"),
            f"{where}, outs 'model.bin': 'ab/{secret}' is not an md5 hash; {FIX_HASH}",
        ),
        (
            "md5-list",
            lock_with("    - path: model.bin\n      md5: [1]\n      size: 7\n"),
            f"{where}, outs 'model.bin': [1] is not an md5 hash; {FIX_HASH}",
        ),
        (
            "size-str",
            lock_with(f"    - path: model.bin\n      md5: {EMPTY_MD5}\n      size: x\n"),
            f"{where}, outs 'model.bin': 'size' must be a non-negative integer, not 'x'; {FIX_HASH}",
        ),
        (
            "hash-sha",
            lock_with(f"    - path: model.bin\n      hash: sha256\n      md5: {EMPTY_MD5}\n"),
            f"{where}, outs 'model.bin': hash 'sha256' is not supported, only md5; {FIX_HASH}",
        ),
        (
            "path-int",
            lock_with(f"    - path: 7\n      md5: {EMPTY_MD5}\n"),
            f"{where}: outs entry {{'path': 7, 'md5': '{EMPTY_MD5}'}} needs a relative 'path'; "
            "restore it from git or delete it and rerun.",
        ),
        (
            "path-abs",
            lock_with(f"    - path: {secret}\n      md5: {EMPTY_MD5}\n"),
            f"{where}: outs entry {{'path': '{secret}', 'md5': '{EMPTY_MD5}'}} needs a relative 'path'; "
            "restore it from git or delete it and rerun.",
        ),
        (
            "outs-int",
            "schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs: 5\n",
            f"{where}: 'outs' must be a list, not 5; restore it from git or delete it and rerun.",
        ),
        (
            "cmd-int",
            "schema: '2.0'\nstages:\n  s:\n    cmd: 5\n",
            f"{where}: 'cmd' must be a string or a list of strings; restore it from git or delete it and rerun.",
        ),
        (
            "not-utf8",
            b"schema: '2.0'\nstages:\n  s:\n    cmd: \xff\n",
            "dvc.lock is not UTF-8 text (byte 36); save it as UTF-8.",
        ),
    ]


@pytest.mark.parametrize("case", [c[0] for c in _lock_cases(Path("/t"))])
@pytest.mark.parametrize("command", [["checkout"], ["repro"]])
def test_hostile_lock_is_refused(hostile, cli, tmp_path, case, command):
    _, content, message = next(c for c in _lock_cases(tmp_path) if c[0] == case)
    commit(hostile, {"dvc.yaml": LOCKED_STAGE, "dvc.lock": content})
    refused(cli, command, message, hostile, tmp_path)


def _store(cache: Path, data: bytes, suffix: str = "") -> str:
    md5 = hashlib.md5(data).hexdigest() + suffix
    path = cache / "files" / "md5" / md5[:2] / md5[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5


@pytest.mark.parametrize("relpath", ["../../outside/keep.txt", "/etc/x", "a/../../b", "", "./a"])
def test_manifest_naming_a_path_outside_its_directory_is_refused(hostile, cli, tmp_path, relpath):
    cache = hostile / ".dvc" / "cache"
    file_md5 = _store(cache, b"hostile\n")
    entries = [{"md5": file_md5, "relpath": relpath}]
    manifest = json.dumps(entries).encode()
    dir_md5 = _store(cache, manifest, ".dir")
    commit(hostile, {"data.dvc": f"outs:\n- md5: {dir_md5}\n  size: 8\n  nfiles: 1\n  hash: md5\n  path: data\n"})
    message = (
        f"cache manifest {dir_md5}: entry {entries[0]!r} names a path outside its directory; "
        "remove the manifest from the cache and rerun."
    )
    refused(cli, ["checkout"], message, hostile, tmp_path)


@pytest.mark.parametrize(
    "definition, message",
    [
        (
            "    deps: [../outside/keep.txt]\n",
            "dvc.yaml, stage 's', deps: '../outside/keep.txt' leaves the project; use a path inside it.",
        ),
        (
            "    deps: [.git/config]\n",
            "dvc.yaml, stage 's', deps: '.git/config' is inside .git, which belongs to git or DVC; "
            "use a path outside it.",
        ),
        (
            "    params:\n    - ../outside/p.yaml: [a]\n",
            "dvc.yaml, stage 's', params: '../outside/p.yaml' leaves the project; use a path inside it.",
        ),
        ("    wdir: ..\n", "dvc.yaml, stage 's', wdir: '..' leaves the project; use a path inside it."),
        (
            "    outs: [/etc/passwd]\n",
            "dvc.yaml, stage 's', outs: '/etc/passwd' is an absolute path; use a path relative to the project.",
        ),
    ],
)
def test_hostile_dvc_yaml_paths_are_refused(hostile, cli, tmp_path, definition, message):
    commit(hostile, {"dvc.yaml": f"stages:\n  s:\n    cmd: echo hi\n{definition}"})
    refused(cli, ["repro"], message, hostile, tmp_path)


def test_vars_file_outside_the_project_is_refused(hostile, cli, tmp_path):
    (tmp_path / "outside" / "v.yaml").write_text("x: 1\n")
    commit(hostile, {"dvc.yaml": "vars: [../outside/v.yaml]\nstages:\n  s:\n    cmd: echo ${x}\n"})
    refused(
        cli,
        ["repro"],
        "dvc.yaml, vars: '../outside/v.yaml' leaves the project; use a path inside it.",
        hostile,
        tmp_path,
    )


@pytest.mark.parametrize(
    "path, message",
    [
        ("../outside/keep.txt", "-C/--copy-paths: '../outside/keep.txt' leaves the project; use a path inside it."),
        ("../../../x", "-C/--copy-paths: '../../../x' leaves the project; use a path inside it."),
        (".", "-C/--copy-paths: output '.' overlaps the project root; name a file or directory inside the project."),
        (
            ".git/config",
            "-C/--copy-paths: '.git/config' is inside .git, which belongs to git or DVC; use a path outside it.",
        ),
    ],
)
def test_copy_paths_are_confined(hostile, cli, tmp_path, path, message):
    commit(hostile, {"dvc.yaml": "stages:\n  s:\n    cmd: echo hi > made.txt\n    outs: [made.txt]\n"})
    refused(cli, ["run", "--temp", "-C", path], message, hostile, tmp_path)


# -- 6. %%stage --script -------------------------------------------------------------------
@pytest.mark.parametrize(
    "script, force, error, message",
    [
        (
            "README.md",
            False,
            StageExistsError,
            "'README.md' already exists and is not the script of stage 's'; pick another --script or "
            "rerun with -f to overwrite it.",
        ),
        (
            ".git/hooks/pre-commit",
            True,
            PathError,
            "%%stage --script: '.git/hooks/pre-commit' is inside .git, which belongs to git or DVC; "
            "use a path outside it.",
        ),
        (
            ".dvc/config",
            True,
            PathError,
            "%%stage --script: '.dvc/config' is inside .dvc, which belongs to git or DVC; use a path outside it.",
        ),
        ("dvc.yaml", True, PathError, "%%stage --script: DVC file 'dvc.yaml' cannot be an output; use another name."),
        (
            "../outside/keep.txt",
            True,
            PathError,
            "%%stage --script: '../outside/keep.txt' leaves the project; use a path inside it.",
        ),
    ],
)
def test_stage_script_never_overwrites_other_files(hostile, shell, tmp_path, script, force, error, message):
    before = Snapshot.take(hostile, outside=[tmp_path])
    with pytest.raises(error) as caught:
        shell.run_cell(f"%%stage s --script {script} {'-f' if force else ''} --no-run\nprint(1)\n")
    assert str(caught.value) == message
    before.assert_unchanged()


def test_stage_script_rewrites_its_own_script_and_others_with_force(hostile, shell):
    shell.run_cell("%%stage s --script train.py --no-run\nprint(1)\n")
    shell.run_cell("%%stage s --script train.py --no-run\nprint(2)\n")  # its own: no -f needed
    assert (hostile / "train.py").read_text().endswith("print(2)\n")
    (hostile / "other.py").write_text("keep\n")
    with pytest.raises(StageExistsError):
        shell.run_cell("%%stage t --script other.py --no-run\nprint(3)\n")
    shell.run_cell("%%stage t --script other.py -f --no-run\nprint(3)\n")
    assert (hostile / "other.py").read_text().endswith("print(3)\n")


# -- 16. unreadable files: one line naming the file and the fix ------------------------------
@pytest.mark.parametrize(
    "files, command, message",
    [
        (
            {"dvc.yaml": b"stages:\n  s:\n    cmd: echo \xe9\n"},
            ["repro"],
            "dvc.yaml is not UTF-8 text (byte 27); save it as UTF-8.",
        ),
        (
            {"dvc.yaml": "stages:\n  s:\n    cmd: echo ${a}\n", "params.yaml": b"a: \xe9\n"},
            ["repro"],
            "params.yaml is not UTF-8 text (byte 3); save it as UTF-8.",
        ),
        (
            {"dvc.yaml": "stages:\n  s:\n    cmd: echo hi\n    params: [a]\n", "params.yaml": b"a: \xe9\n"},
            ["repro"],
            "params.yaml is not UTF-8 text (byte 3); save it as UTF-8.",
        ),
        (
            {"dvc.yaml": "stages:\n  s:\n    cmd: echo hi\n    params: [a]\n", "params.yaml/x": "a: 1\n"},
            ["repro"],
            "params.yaml is a directory, not a file; remove it or fix the path.",
        ),
        (
            {"dvc.yaml": "stages:\n  s:\n    cmd: echo ${a}\n", "params.yaml/x": "a: 1\n"},
            ["repro"],
            "Params file 'params.yaml' is a directory, not a file; fix the path.",
        ),
        (
            {".dvc/config": b"[core]\n    remote = caf\xe9\n"},
            ["checkout"],
            ".dvc/config is not UTF-8 text; fix or recreate it.",
        ),
        (
            {".dvc/config": "[cache\ndir = x\n"},
            ["checkout"],
            ".dvc/config, line 1: '[cache' is neither a [section] nor KEY = VALUE; fix the file.",
        ),
        (
            {".dvc/config": "[cache]\ndir = a\ndir = b\n"},
            ["checkout"],
            ".dvc/config, line 3: 'dir' is set twice in one section; keep one.",
        ),
    ],
)
def test_unreadable_files_give_one_line(hostile, cli, tmp_path, files, command, message):
    commit(hostile, files)
    refused(cli, command, message, hostile, tmp_path)


def test_non_utf8_file_name_in_a_dependency_directory(hostile, cli, tmp_path):
    commit(
        hostile,
        {"dvc.yaml": "stages:\n  s:\n    cmd: echo hi > o.txt\n    deps: [d]\n    outs: [o.txt]\n", "d/a.txt": "a\n"},
    )
    (hostile / "d" / os.fsdecode(b"caf\xe9.txt")).write_text("x\n")
    shown = f"{hostile}/d/caf\\xe9.txt"
    refused(
        cli, ["repro"], f"File name '{shown}' is not UTF-8; rename it (DVC cannot track it either).", hostile, tmp_path
    )


# -- 19. dvc.lock is YAML 1.2 ---------------------------------------------------------------
TRICKY = (
    "off: off\nyes: yes\nno: No\non: ON\ny: y\ntime: 1:30\noct: 017\noct2: 0o17\nhex: 0x1F\n"
    "exp: 1e3\nfloat: 1.5e-3\nneg: -.inf\nunder: 1_000\nnull: ~\nempty:\n"
    "date: 2001-12-14\ntrue: True\nstr: '1:30'\n"
)


def test_parse_lock_reads_yaml_1_2_as_dvc_does():
    assert parse_lock(TRICKY, "dvc.lock") == parse_yaml(TRICKY, "dvc.lock")
    data = parse_lock(TRICKY, "dvc.lock")
    assert data["off"] == "off" and data["yes"] == "yes" and data["time"] == "1:30"
    assert data["oct"] == 17 and data["oct2"] == 15 and data["hex"] == 31 and data["exp"] == 1000.0
    assert data[True] is True
    assert math.isnan(parse_lock("a: .nan\n", "x")["a"])


def test_lock_with_an_output_named_off_is_read_back(hostile):
    commit(
        hostile,
        {
            "dvc.yaml": "stages:\n  s:\n    cmd: echo hi > off\n    params: [yes]\n    outs: ['off']\n",
            "params.yaml": "'yes': '1:30'\n",
        },
    )
    jupyter_exp.repro()
    lock = parse_lock((hostile / "dvc.lock").read_text(), "dvc.lock")
    entry = lock["stages"]["s"]
    assert entry["outs"][0]["path"] == "off"
    assert entry["params"]["params.yaml"] == {"yes": "1:30"}


def test_hash_validator_is_used_by_cache_paths(hostile):
    from jupyter_exp.errors import CacheError
    from jupyter_exp.pipeline.cache import Cache
    from jupyter_exp.pipeline.hashing import Hasher

    cache = Cache(hostile / ".dvc" / "cache", Hasher(None), ["copy"])
    with pytest.raises(CacheError, match="is not an md5 hash"):
        cache.object_path("ab/../../../../etc/passwd")
    with pytest.raises(JupyterExpError):
        cache.read_manifest("ab/../x.dir")


@pytest.mark.parametrize(
    "files, message",
    [
        ({"data.dvc": dvc_file("../outside")}, "data.dvc: '../outside' leaves the project; use a path inside it."),
        ({"data.dvc": dvc_file("data", md5="ab/../../../../etc/passwd")}, None),
        (
            {
                "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    outs: [o]\n",
                "dvc.lock": "schema: '2.0'\nstages:\n  s:\n    cmd: echo\n    outs:\n    - path: o\n"
                "      hash: md5\n      md5: ab/../../../outside/secret.txt\n      size: 1\n",
            },
            None,
        ),
    ],
)
def test_exp_apply_refuses_an_experiment_with_hostile_files_before_changing_anything(
    hostile, cli, tmp_path, files, message
):
    """An experiment that arrives with ``exp pull`` carrying a crafted .dvc file or lock:
    apply refuses it before it saves the workspace or writes a file."""
    head = git(hostile, "rev-parse", "HEAD").strip()
    for name, text in files.items():
        (hostile / name).write_text(text)
    git(hostile, "add", "-A")
    tree = git(hostile, "write-tree").strip()
    git(hostile, "reset", "-q", "--hard", head)
    rev = git(hostile, "commit-tree", tree, "-p", head, "-m", "pulled").strip()
    git(hostile, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/evil", rev)
    (hostile / "README.md").write_text("# unsaved work\n")  # apply would save it first
    before = Snapshot.take(hostile, outside=[tmp_path])
    proc = cli("apply", "evil", check=False)
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout + proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("ERROR: ")
    if message:
        assert line == f"ERROR: {message}"
    else:
        assert "md5" in line or "hash" in line
    before.assert_unchanged()


def test_exp_push_of_an_experiment_with_a_malformed_lock_is_one_line(hostile, cli, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(hostile, "remote", "add", "origin", str(remote))
    (hostile / ".dvc" / "config").write_text(
        f"[core]\n    remote = store\n['remote \"store\"']\n    url = {tmp_path / 'store'}\n"
    )
    git(hostile, "commit", "-qam", "a DVC remote")
    head = git(hostile, "rev-parse", "HEAD").strip()
    (hostile / "dvc.lock").write_text("schema: '2.0'\nstages:\n  s: 5\n")
    git(hostile, "add", "-A")
    rev = git(hostile, "commit-tree", git(hostile, "write-tree").strip(), "-p", head, "-m", "x").strip()
    git(hostile, "reset", "-q", "--hard", head)
    git(hostile, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/odd", rev)
    before = Snapshot.take(hostile, outside=[tmp_path])
    proc = cli("push", "origin", "odd", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"ERROR: dvc.lock of {rev[:7]}"), proc.stderr
    before.assert_unchanged()


# -- found by an adversarial review ------------------------------------------------------
@pytest.mark.parametrize("field", ["outs: [LP/x]", "outs: [LP]", "deps: [LP]", "params: [{LP: []}]", "wdir: LP"])
def test_a_symlink_loop_is_one_line_everywhere(hostile, cli, jdvc, tmp_path, field):
    (hostile / "LP").symlink_to("LP")
    commit(hostile, {"dvc.yaml": f"stages:\n  s:\n    cmd: echo a > o\n    {field}\n"})
    before = Snapshot.take(hostile, outside=[tmp_path])
    for run, verb in ((cli, ["repro"]), (jdvc, ["checkout"]), (cli, ["show"]), (cli, ["params", "diff"])):
        proc = run(*verb, check=False)
        assert "Traceback" not in proc.stderr, (verb, proc.stderr)
        if proc.returncode:
            assert proc.stderr.count("\n") == 1 and "symlink" in proc.stderr or "LP" in proc.stderr, proc.stderr
    before.assert_unchanged()


def test_a_gitignore_that_is_a_symlink_is_replaced_never_written_through(hostile, cli, tmp_path):
    victim = tmp_path / "outside" / "keep.txt"
    (hostile / ".gitignore").symlink_to(victim)
    commit(hostile, {"dvc.yaml": "stages:\n  s:\n    cmd: echo a > o.txt\n    outs: [o.txt]\n"})
    cli("repro")
    assert victim.read_text() == "keep me\n"
    assert not (hostile / ".gitignore").is_symlink() and (hostile / ".gitignore").read_text() == "/o.txt\n"


@pytest.mark.parametrize(
    "lock",
    [
        "stages: [1, 2]",
        "stages: {s: 5}",
        "stages: {s: {outs: 5}}",
        "stages: {s: {cmd: echo, outs: [5]}}",
        "stages: {s: {cmd: echo, outs: [{path: [1]}]}}",
        "stages: {s: {cmd: echo, outs: [{path: o, md5: [1]}]}}",
    ],
)
def test_exp_show_and_diff_read_a_malformed_lock_as_a_row_error(hostile, cli, lock):
    commit(
        hostile,
        {"dvc.yaml": "stages:\n  s:\n    cmd: echo a > o\n    outs: [o]\n", "dvc.lock": f"schema: '2.0'\n{lock}\n"},
    )
    for args in (["show"], ["show", "--json"], ["diff", "HEAD~1", "HEAD"], ["metrics", "show"]):
        proc = cli(*args, check=False)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
    rows = json.loads(cli("show", "--json").stdout)
    assert rows[0]["error"] or rows[0]["data"].get("error") or "dvc.lock" in json.dumps(rows)


def _crafted_experiment(root: Path, name: str, files: dict[str, str], links: dict[str, str]) -> str:
    """An experiment commit made by hand (as one could arrive with `exp pull`): ``files``
    and ``links`` (path -> symlink target) over HEAD's tree, under refs/exps."""
    head = git(root, "rev-parse", "HEAD").strip()
    index = root / ".git" / "crafted-index"
    env_index = {"GIT_INDEX_FILE": str(index)}
    import os as _os

    env = dict(_os.environ, **env_index)
    subprocess.run(["git", "read-tree", head], cwd=root, env=env, check=True)
    for path, text in files.items():
        oid = git(root, "hash-object", "-w", "--stdin", input_text=text).strip()
        subprocess.run(
            ["git", "update-index", "--add", "--cacheinfo", f"100644,{oid},{path}"], cwd=root, env=env, check=True
        )
    for path, target in links.items():
        oid = git(root, "hash-object", "-w", "--stdin", input_text=target).strip()
        subprocess.run(
            ["git", "update-index", "--add", "--cacheinfo", f"120000,{oid},{path}"], cwd=root, env=env, check=True
        )
    tree = subprocess.run(
        ["git", "write-tree"], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    index.unlink()
    rev = git(root, "commit-tree", tree, "-p", head, "-m", "crafted").strip()
    git(root, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/{name}", rev)
    return rev


@pytest.mark.parametrize(
    "files, links, says",
    [
        ({".dvc/cache/files/md5/98/56b42d9279343cc9fba01ee70f0da1": "POISON"}, {}, "writes '.dvc/cache/"),
        ({".dvc/tmp/jupyter_exp/planted": "x"}, {}, "writes '.dvc/tmp/"),
        ({".dvc/config.local": "[core]\n"}, {}, "writes '.dvc/config.local'"),
        (
            {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    outs: [newdir/pwn]\n"},
            {"newdir": "../outside"},
            "makes 'newdir' a symlink to '../outside'",
        ),
        ({}, {".gitignore": "/etc/passwd"}, "makes '.gitignore' a symlink to '/etc/passwd'"),
        ({}, {"inner": ".git/hooks"}, "makes 'inner' a symlink to '.git/hooks'"),
    ],
)
def test_exp_apply_refuses_an_experiment_that_writes_machinery_or_escaping_links(
    hostile, cli, tmp_path, files, links, says
):
    rev = _crafted_experiment(hostile, "crafted", files, links)
    (hostile / "README.md").write_text("# unsaved work\n")
    before = Snapshot.take(hostile, outside=[tmp_path])
    proc = cli("apply", "crafted", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"ERROR: Experiment commit {rev[:7]} {says}"), proc.stderr
    before.assert_unchanged()


def test_copy_paths_through_a_symlink_leading_outside_is_refused(hostile, cli, tmp_path):
    (hostile / "lnk").symlink_to(tmp_path / "outside")
    (hostile / ".gitignore").write_text("/lnk\n")
    commit(hostile, {"dvc.yaml": "stages:\n  s:\n    cmd: ls\n"})
    before = Snapshot.take(hostile, outside=[tmp_path])
    proc = cli("run", "--temp", "-C", "lnk", check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("ERROR: -C/--copy-paths: 'lnk' leads through a symlink"), (
        proc.stderr
    )
    before.assert_unchanged()


@pytest.mark.parametrize("name", ["-x", "--force", "HEAD"])
def test_experiment_names_that_read_as_options_or_head_are_refused(hostile, cli, tmp_path, name):
    commit(hostile, {"dvc.yaml": "stages:\n  s:\n    cmd: echo a > o\n    outs: [o]\n"})
    before = Snapshot.take(hostile, outside=[tmp_path])
    proc = cli("run", f"--name={name}", check=False)
    assert proc.returncode == 1 and proc.stderr.startswith(f"ERROR: Invalid experiment name '{name}'"), proc.stderr
    before.assert_unchanged()


def test_a_cache_object_that_is_a_symlink_is_never_copied_out(hostile, cli, tmp_path, jdvc):
    (hostile / "data.txt").write_text("data\n")
    jdvc("add", "data.txt")
    commit(hostile, {})
    md5 = "6137cde4893c59f76f005a8123d8e8e6"  # of "data\n"
    obj = hostile / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    obj.chmod(0o644)
    obj.unlink()
    obj.symlink_to(tmp_path / "outside" / "secret.txt")
    (hostile / "data.txt").unlink()
    before = Snapshot.take(hostile, outside=[tmp_path])
    proc = jdvc("checkout", check=False)
    assert (
        proc.returncode == 1
        and "ERROR: Missing from the cache: data.txt" in proc.stderr
        or proc.stderr.startswith(f"ERROR: Cache object {md5} is a symlink")
    ), proc.stderr
    assert not (hostile / "data.txt").exists()
    before.assert_unchanged()
