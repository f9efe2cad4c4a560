"""Data ``push``/``fetch``/``pull`` flags against DVC 3.67.1 on twin projects: ``-d``,
``-R``, ``--glob``, and outputs' ``push: false`` and ``remote:`` choose what travels and
where, as DVC's do; hostile targets are one line and move nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from remote_fixtures import make_data_project, verify_local_remote


@pytest.fixture
def origin(tmp_path, dvc, monkeypatch):
    """The data project (``data/images``, ``data/table.csv``, stage ``train`` writing
    ``model.bin``), a default remote ``store`` and a second remote ``other``; ``data/``
    gets a sub-project file ``data/more.dvc`` so that ``-R data`` means something."""
    root = make_data_project(tmp_path / "origin", dvc, monkeypatch)
    (root / "data" / "more.txt").write_text("more\n")
    dvc("add", "-q", "data/more.txt")
    dvc("remote", "add", "-d", "store", str(tmp_path / "store"))
    dvc("remote", "add", "other", str(tmp_path / "other"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "remotes")
    return root


def _twins(origin: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Copies of ``origin`` whose remotes are their own directories (set in config.local)."""
    made = []
    for name in ("ours", "theirs"):
        root = tmp_path / name
        shutil.copytree(origin, root, symlinks=True)
        for remote in ("store", "other"):
            (tmp_path / f"{name}-{remote}").mkdir()
        (root / ".dvc" / "config.local").write_text(
            f"['remote \"store\"']\n    url = {tmp_path / f'{name}-store'}\n"
            f"['remote \"other\"']\n    url = {tmp_path / f'{name}-other'}\n"
        )
        made.append(root)
    return made[0], made[1]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)


def _remotes(tmp_path: Path, name: str) -> tuple[set[str], set[str]]:
    return verify_local_remote(tmp_path / f"{name}-store"), verify_local_remote(tmp_path / f"{name}-other")


@pytest.mark.parametrize(
    "args",
    [
        ["train", "-d"],
        ["model.bin", "--with-deps"],
        ["data", "-R"],
        ["--glob", "data/*.dvc"],
        ["--glob", "data/**/*.txt.dvc"],
        ["data/images.dvc", "-r", "other"],
    ],
)
def test_push_flags_send_what_dvcs_send(origin, tmp_path, dvc_exe, args):
    ours, theirs = _twins(origin, tmp_path)
    mine = _run([*jdvc_command(), "push", *args], ours)
    real = _run([str(dvc_exe), "push", *args], theirs)
    assert mine.returncode == real.returncode == 0, (mine.stderr, real.stderr)
    assert _remotes(tmp_path, "ours") == _remotes(tmp_path, "theirs"), args
    assert any(_remotes(tmp_path, "ours")), args
    assert mine.stdout.splitlines()[-1] == real.stdout.splitlines()[-1]  # "N files pushed"


def _mark(root: Path) -> None:
    """``model.bin``: ``push: false``; ``data/table.csv``: ``remote: other``."""
    text = (root / "dvc.yaml").read_text().replace("    - model.bin\n", "    - model.bin:\n        push: false\n")
    (root / "dvc.yaml").write_text(text)
    dvc_file = root / "data" / "table.csv.dvc"
    dvc_file.write_text(dvc_file.read_text().replace("  path: table.csv\n", "  path: table.csv\n  remote: other\n"))


@pytest.mark.parametrize("args", [[], ["-r", "store"], ["-r", "other"]])
def test_push_false_and_an_outputs_remote_route_data_as_dvc_does(origin, tmp_path, dvc_exe, args):
    ours, theirs = _twins(origin, tmp_path)
    for root in (ours, theirs):
        _mark(root)
    mine = _run([*jdvc_command(), "push", *args], ours)
    real = _run([str(dvc_exe), "push", *args], theirs)
    assert mine.returncode == real.returncode == 0, (mine.stderr, real.stderr)
    assert _remotes(tmp_path, "ours") == _remotes(tmp_path, "theirs"), args
    # Then each tool fetches into a clean cache what the other pushed, from the same places.
    for root in (ours, theirs):
        shutil.rmtree(root / ".dvc" / "cache")
    mine = _run([*jdvc_command(), "fetch", *args], theirs)  # ours reads DVC's remotes
    real = _run([str(dvc_exe), "fetch", *args], ours)
    got_mine = {p.name for p in (theirs / ".dvc" / "cache").rglob("*") if p.is_file()}
    got_real = {p.name for p in (ours / ".dvc" / "cache").rglob("*") if p.is_file()}
    assert got_mine == got_real and got_mine, (args, mine.stderr, real.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--glob", "nothing*"], "has no matches"),
        (["--glob", "../*"], "outside the project"),
        (["--glob", ".git/*"], ".git"),
        (["-d", "-x"], "unrecognized arguments"),
    ],
)
def test_hostile_or_unsupported_targets_are_one_line_and_push_nothing(origin, tmp_path, args, message):
    ours, _ = _twins(origin, tmp_path)
    (tmp_path / "outside.txt").write_text("outside\n")
    mine = _run([*jdvc_command(), "push", *args], ours)
    assert mine.returncode != 0
    lines = mine.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR:") and message in lines[0], mine.stderr
    assert _remotes(tmp_path, "ours") == (set(), set())


def test_a_symlink_out_of_the_project_is_refused_by_glob(origin, tmp_path):
    ours, _ = _twins(origin, tmp_path)
    (ours / "data" / "link.dvc").symlink_to(tmp_path / "origin" / "data" / "more.txt.dvc")
    mine = _run([*jdvc_command(), "push", "--glob", "data/link*"], ours)
    assert mine.returncode != 0 and len(mine.stderr.strip().splitlines()) == 1, mine.stderr
    assert _remotes(tmp_path, "ours") == (set(), set())


def _runs(top: Path) -> dict[str, bytes]:
    base = top / "runs"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def test_run_cache_travels_as_dvcs_does_both_ways(origin, tmp_path, dvc_exe):
    ours, theirs = _twins(origin, tmp_path)
    entries = _runs(origin / ".dvc" / "cache")
    assert entries, "DVC's repro left no run-cache entry to move"
    # Strays beside the entries never travel: a file of another name, a symlinked entry.
    runs = ours / ".dvc" / "cache" / "runs"
    key_dir = next(p for p in runs.glob("*/*") if p.is_dir())
    (key_dir / "notes.txt").write_text("not an entry\n")
    (key_dir / ("f" * 64)).symlink_to(tmp_path / "outside")
    (tmp_path / "outside").write_text("outside\n")
    mine = _run([*jdvc_command(), "push", "--run-cache"], ours)
    real = _run([str(dvc_exe), "push", "--run-cache"], theirs)
    assert mine.returncode == real.returncode == 0, (mine.stderr, real.stderr)
    assert _runs(tmp_path / "ours-store") == _runs(tmp_path / "theirs-store") == entries
    assert mine.stdout.splitlines()[-1] == real.stdout.splitlines()[-1]  # entries count as files pushed
    # Each tool fetches the other's run history into an empty cache.
    for root in (ours, theirs):
        shutil.rmtree(root / ".dvc" / "cache")
    mine = _run([*jdvc_command(), "fetch", "--run-cache"], theirs)  # from DVC's push
    real = _run([str(dvc_exe), "fetch", "--run-cache"], ours)  # from ours
    assert mine.returncode == real.returncode == 0, (mine.stderr, real.stderr)
    assert _runs(theirs / ".dvc" / "cache") == _runs(ours / ".dvc" / "cache") == entries
    assert mine.stdout == real.stdout
    # pull --run-cache too, and a stray name on the remote is never fetched.
    (tmp_path / "theirs-store" / "runs" / "zz").mkdir()
    (tmp_path / "theirs-store" / "runs" / "zz" / "x").write_text("stray\n")
    shutil.rmtree(theirs / ".dvc" / "cache")
    mine = _run([*jdvc_command(), "pull", "--run-cache"], theirs)
    assert mine.returncode == 0, mine.stderr
    assert _runs(theirs / ".dvc" / "cache") == entries
