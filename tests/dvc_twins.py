"""Twin projects for byte-for-byte comparisons with real DVC.

``build_base`` makes a project with real DVC (a two-stage ``dvc.yaml`` with comments, a
tracked directory ``data`` and a tracked file ``raw.csv``), reproduced and committed;
``twin`` copies it (cache included) so that jupyter_exp works on one copy and DVC on the
other from the same bytes; ``project_files`` reads what must come out identical.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

DVC_YAML = """\
# the pipeline
stages:
  prep:  # first
    cmd: cp in.txt out.txt
    deps:
    - in.txt
    outs:
    - out.txt
  train:
    cmd: cp out.txt model.txt
    deps:
    - out.txt
    outs:
    - model.txt
"""


def run_dvc(dvc_exe: Path, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Real DVC in ``cwd``; returns the completed process."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    proc = subprocess.run([str(dvc_exe), *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and proc.returncode:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def build_base(dvc_exe: Path, root: Path, files: int = 3) -> Path:
    """A DVC project at ``root`` (made by DVC itself), reproduced and committed."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    run_dvc(dvc_exe, root, "init", "-q")
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "in.txt").write_text("hi\n")
    (root / "data").mkdir()
    for i in range(1, files + 1):
        (root / "data" / f"f{i}").write_text(f"{i}\n")
    (root / "raw.csv").write_text("raw\n")
    run_dvc(dvc_exe, root, "add", "-q", "data", "raw.csv")
    run_dvc(dvc_exe, root, "repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def twin(base: Path, dest: Path) -> Path:
    """A copy of ``base`` (git, cache and all) at ``dest``."""
    shutil.copytree(base, dest, symlinks=True)
    return dest


def project_files(root: Path) -> dict[str, bytes]:
    """Every file of the work tree and ``.dvc/config``: relpath -> bytes (``.git``,
    DVC's tmp and cache left out; the cache is compared by :func:`cache_objects`)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".git/", ".dvc/tmp", ".dvc/cache")) or rel == ".git" or path.is_dir():
            continue
        found[rel] = path.read_bytes()
    return found


def cache_objects(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / ".dvc" / "cache").rglob("*") if p.is_file()}


def assert_same(ours: Path, theirs: Path) -> None:
    mine, dvcs = project_files(ours), project_files(theirs)
    assert sorted(mine) == sorted(dvcs)
    for name in mine:
        assert mine[name] == dvcs[name], f"{name} differs:\n--- ours\n{mine[name]!r}\n--- DVC\n{dvcs[name]!r}"
    assert cache_objects(ours) == cache_objects(theirs)


@contextlib.contextmanager
def inside(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def cli(root: Path, *argv: str) -> tuple[int, str, str]:
    """``jupyter dvc ARGV`` in-process in ``root``: (exit status, stdout, stderr)."""
    from jupyter_exp.cli import dvc_main as main

    out, err = io.StringIO(), io.StringIO()
    with inside(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
