from pathlib import Path

import pytest

import jupyter_exp
from jupyter_exp.errors import NotAGitRepoError, NotAProjectError

from conftest import git


def test_init_creates_dvc_layout_and_stages_it(git_repo: Path):
    jupyter_exp.init()
    assert (git_repo / ".dvc" / "config").read_text() == ""
    assert (git_repo / ".dvc" / ".gitignore").read_text() == "/config.local\n/tmp\n/cache\n"
    assert (git_repo / ".dvcignore").exists()
    staged = git(git_repo, "diff", "--cached", "--name-only").split()
    assert staged == [".dvc/.gitignore", ".dvc/config", ".dvcignore"]


def test_init_twice_is_harmless(git_repo: Path):
    jupyter_exp.init()
    (git_repo / ".dvc" / "config").write_text("[core]\n    remote = x\n")
    jupyter_exp.init()
    assert (git_repo / ".dvc" / "config").read_text() == "[core]\n    remote = x\n"


def test_init_outside_git_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotAGitRepoError, match="not inside a git repository; run `git init`"):
        jupyter_exp.init()
    proc = cli("init", check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "not inside a git repository" in proc.stderr
    assert not (tmp_path / ".dvc").exists()


def test_commands_outside_a_project_say_init(git_repo: Path, cli):
    with pytest.raises(NotAProjectError, match="run `jupyter exp init`"):
        jupyter_exp.repro()
    proc = cli("repro", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR: ") and proc.stderr.count("\n") == 1


def test_cli_is_a_jupyter_subcommand(project: Path):
    import shutil
    import subprocess

    jupyter = shutil.which("jupyter")
    assert jupyter, "jupyter_core provides the `jupyter` command"
    out = subprocess.run([jupyter, "exp", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"jupyter_exp {jupyter_exp.__version__}"


def test_import_is_cheap_and_light():
    import subprocess
    import sys

    code = (
        "import sys, jupyter_exp; "
        "heavy = [m for m in ('IPython', 'pandas', 'git', 'ruamel', 'hydra', 'ipywidgets') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_surface_is_pinned():
    assert sorted(jupyter_exp.__all__) == sorted([
        "JupyterExpError", "__version__", "add", "add_stage", "apply", "apply_params", "branch", "checkout",
        "diff", "expand_sweeps", "gc", "init", "live", "ls", "make_checkpoint", "metrics_diff", "metrics_show",
        "params_diff", "pull", "push", "queue_kill", "queue_logs", "queue_remove", "queue_retry",
        "queue_start", "queue_status", "queue_stop", "queue_wait", "remove", "rename", "repro", "run", "save", "show", "show_table",
    ])
    for name in jupyter_exp.__all__:
        assert hasattr(jupyter_exp, name), name
