"""Fixtures that build real projects: real git, real files, real subprocesses."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import jupyter_exp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from dvc_env import dvc_executable  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parent.parent


def git(cwd: Path, *args: str, input_text: str | None = None, check_ok: bool = False):
    """git's stdout; with ``check_ok``, whether it succeeded instead."""
    proc = subprocess.run(["git", *args], cwd=cwd, check=not check_ok, capture_output=True, text=True, input=input_text)
    return proc.returncode == 0 if check_ok else proc.stdout


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A new committed project at ``root`` holding ``files`` (path -> text)."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    jupyter_exp.init(str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git work tree, made the current directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "tests@example.com")
    git(repo, "config", "user.name", "Tests")
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def project(git_repo: Path) -> Path:
    """An initialised, committed, empty project."""
    jupyter_exp.init()
    git(git_repo, "commit", "-q", "-m", "init")
    return git_repo


def copy_fixture(name: str, dest: Path) -> None:
    shutil.copytree(FIXTURES / name, dest, dirs_exist_ok=True)


@pytest.fixture
def make_project(git_repo: Path):
    """Copy a named fixture project into the repo, init it, and commit it."""

    def make(name: str, commit: bool = True) -> Path:
        copy_fixture(name, git_repo)
        jupyter_exp.init()
        if commit:
            git(git_repo, "add", "-A")
            git(git_repo, "commit", "-q", "-m", f"fixture {name}")
        return git_repo

    return make


@pytest.fixture
def ran(make_project):
    """two_stage, reproduced and committed: the outputs are in the cache."""
    root = make_project("two_stage")
    jupyter_exp.repro()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "ran")
    return root


@pytest.fixture
def exps(ran):
    """``ran`` with three experiments, e1..e3 (train.lr 0.1, 0.2, 0.3); the workspace
    back at the baseline."""
    for i, lr in enumerate((0.1, 0.2, 0.3)):
        jupyter_exp.run(params={"train.lr": lr}, name=f"e{i + 1}")
    git(ran, "checkout", "-q", "--", ".")
    jupyter_exp.checkout()
    return ran


def cli_command() -> list[str]:
    exe = Path(sys.executable).parent / "jupyter-exp"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-exp")
    assert found, "jupyter-exp is not installed; pip install -e '.[test]'"
    return [found]


@pytest.fixture
def cli():
    """Run ``jupyter-exp ARGS`` in a real subprocess in the current directory."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([*cli_command(), *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"jupyter exp {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def jdvc_command() -> list[str]:
    """``jupyter-dvc``, or its module when the installed package predates the script."""
    exe = Path(sys.executable).parent / "jupyter-dvc"
    found = str(exe) if exe.exists() else shutil.which("jupyter-dvc")
    return [found] if found else [sys.executable, "-m", "jupyter_exp.cli.dvc"]


@pytest.fixture
def jdvc():
    """Run ``jupyter-dvc ARGS`` (``jupyter dvc``) in a real subprocess in the current directory."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([*jdvc_command(), *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"jupyter dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def dvc_exe() -> Path:
    exe = dvc_executable()
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("3."), out
    return exe


@pytest.fixture
def dvc(dvc_exe: Path):
    """Run real DVC in the current directory; returns the completed process."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, DVC_NO_ANALYTICS="1")
        proc = subprocess.run([str(dvc_exe), *args], capture_output=True, text=True, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def ipykernel6_spec(tmp_path_factory) -> str:
    """A kernel spec for ipykernel 6 (this environment has 7): a virtualenv in .cache/
    with ipykernel<7 of its own that sees the packages of the interpreter running the
    tests (a venv's, jupyter_exp's editable install included), through a .pth file that
    adds this interpreter's site directories after its own. ``venv``'s
    ``system_site_packages`` would give the *base* interpreter's packages instead, which
    lack jupyter_exp when the tests run in a virtualenv. One env per interpreter prefix.
    Returns the kernel name; JUPYTER_PATH is pointed at it for the session."""
    import hashlib
    import site
    import sysconfig

    tag = hashlib.sha1(sys.prefix.encode()).hexdigest()[:10]
    env_dir = REPO_ROOT / ".cache" / f"ipykernel6-{tag}"
    python = env_dir / "bin" / "python"
    env_dir.parent.mkdir(exist_ok=True)
    with open(env_dir.parent / "ipykernel6-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel workers: the first one builds it
        if not (env_dir / "ready").exists():
            venv.create(env_dir, with_pip=True, clear=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "ipykernel>=6.25,<7"], check=True)
            purelib = subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            parents = list(dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]]))
            # A line starting with "import" runs: addsitedir also reads the parent's .pth
            # files (the editable install of jupyter_exp is one).
            (Path(purelib) / "_parent_env.pth").write_text(
                "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in parents) + "\n"
            )
            (env_dir / "ready").touch()
    kernels = tmp_path_factory.mktemp("jupyter-path") / "kernels" / "ipykernel6"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (ipykernel 6)",
                "language": "python",
            }
        )
    )
    os.environ["JUPYTER_PATH"] = str(kernels.parent.parent)
    return "ipykernel6"


def wait_for_command(root: Path, text: str, timeout: float = 60) -> int:
    """Wait until a process working in ``root`` runs a command line containing ``text``;
    return its pid. (A condition to wait on before a signal, instead of a fixed sleep.)"""
    import time

    deadline = time.monotonic() + timeout
    while True:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if text in cmdline and cwd.is_relative_to(root):
                return int(entry.name)
        assert time.monotonic() < deadline, f"no process in {root} ran {text!r} within {timeout} s"
        time.sleep(0.02)
