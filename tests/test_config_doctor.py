"""``jupyter dvc config`` writes and reads what ``dvc config`` does, byte for byte;
``jupyter dvc doctor`` says what a bug report needs (issue 17)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from safety import Snapshot


def _run(cmd: list[str], cwd: Path) -> tuple[int, str, str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def twins(tmp_path: Path, dvc_exe: Path, monkeypatch):
    # Global and system levels of their own: the machine's are nobody's business here.
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    made = []
    for name in ("ours", "theirs"):
        root = tmp_path / name / "repo"  # the same depth: absolute paths differ only by the name
        root.mkdir(parents=True)
        git(root, "init", "-q")
        _run([str(dvc_exe), "init", "-q"], root)
        made.append(root)
    return made


STEPS = [
    ["core.autostage", "true"],
    ["core.autostage"],
    ["cache.type", "reflink,copy"],
    ["cache.type"],
    ["--local", "cache.type", "symlink"],
    ["cache.type"],
    ["--project", "cache.type"],
    ["-l"],
    ["-l", "--show-origin"],
    ["--local", "-l"],
    ["-u", "core.autostage"],
    ["core.remote", "store"],
    ["cache.dir", "../shared-cache"],
    ["cache.dir"],
    ["remote.r.url", "/srv/x"],
    ["remote.r.url"],
    ["--local", "remote.r.url", "rel/x"],
    ["remote.r.url"],
    ["-l"],
    ["-u", "--local", "cache.type"],
    ["--global", "core.check_update", "false"],
    ["-l", "--show-origin"],
]


def test_config_steps_write_and_print_what_dvc_does(twins, dvc_exe):
    ours, theirs = twins
    for step in STEPS:
        mine = _run([*jdvc_command(), "config", *step], ours)
        real = _run([str(dvc_exe), "config", *step], theirs)
        expected = (real[0], real[1].replace("/theirs/", "/ours/"), real[2])
        assert mine == expected, (step, mine, real)
        for name in ("config", "config.local"):
            a, b = ours / ".dvc" / name, theirs / ".dvc" / name
            assert (a.read_bytes() if a.exists() else None) == (b.read_bytes() if b.exists() else None), (step, name)
    assert (ours.parent.parent / "global" / "config").read_bytes() == (
        theirs.parent.parent / "global" / "config"
    ).read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["core.remote=a\n[x]"], "Invalid config name"),
        (["core.remote=a\n[x]", "v"], "Invalid config name"),
        (["core.remote", "a\n[x]"], "has a line break"),
        (['remote."x".url', "/y"], "Invalid config name"),
        (["core.nosuch", "1"], "Unknown option 'nosuch' in section 'core'"),
        (["nosuch.x", "1"], "Unknown config section 'nosuch'"),
        (["core"], "Invalid config name"),
        (["remote.nosuch.region", "eu"], "remote 'nosuch' does not exist"),
        (["-u", "core.remote"], "doesn't exist"),
        (["core.remote"], "is not set"),
        (["-l", "core.remote"], "takes no name"),
    ],
)
def test_a_bad_config_line_is_one_line_and_changes_nothing(project, tmp_path, args, message):
    before = Snapshot.take(project, outside=[tmp_path / "x"])
    code, out, err = _run([*jdvc_command(), "config", *args], project)
    assert code == 1 and out == "" and err.count("\n") == 1 and message in err, err
    before.assert_unchanged()


def test_doctor_says_what_a_bug_report_needs(project, dvc):
    dvc("remote", "add", "-d", "store", "/srv/store")
    code, out, err = _run([*jdvc_command(), "doctor"], project)
    assert code == 0 and err == "", err
    lines = out.splitlines()
    assert lines[0].startswith("jupyter_exp version: ") and set(lines[1]) == {"-"}
    assert any(line.startswith("DVC compatibility: 3.") for line in lines)
    assert any(line.startswith("Platform: Python ") for line in lines)
    assert any(line.startswith("Git: 2.") for line in lines)
    # The link types were tried on this file system: hard and symbolic links work on any Linux one.
    cache_types = next(line for line in lines if line.startswith("Cache types: "))
    assert "hardlink" in cache_types and "symlink" in cache_types
    assert "Remotes: store (/srv/store)" in lines and "Default remote: store" in lines
    # The probe left nothing behind.
    assert not [p for p in project.rglob(".doctor-*")]


def test_doctor_outside_a_project_still_gives_the_versions(tmp_path):
    code, out, _ = _run([*jdvc_command(), "doctor"], tmp_path)
    assert code == 0 and "Platform: Python" in out and "Project: none here" in out
