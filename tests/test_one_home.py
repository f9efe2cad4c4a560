"""One home each (issue 14): the pipeline loaded once per command, one atomic writer,
typed git commands, ref names and bookkeeping paths in one place."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

import jupyter_exp
import jupyter_exp.pipeline.dvcfile as dvcfile
from jupyter_exp.git import Git, GitError
from jupyter_exp.project import Project
from jupyter_exp.refs import ExpRef, queue_ref, saved_ref
from jupyter_exp.serialize import load_yaml, replacing, write_bytes_atomic, write_text_atomic


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``dvc.yaml`` parsed from the work tree during the test, by path."""
    seen: list[str] = []
    original = dvcfile.load_pipeline

    def counting(root, dvc_file="dvc.yaml", tree=None):
        if tree is None:
            seen.append(dvc_file)
        return original(root, dvc_file, tree=tree)

    monkeypatch.setattr(dvcfile, "load_pipeline", counting)
    return seen


def test_exp_run_parses_dvc_yaml_once(ran: Path, parses: list[str]):
    # Before issue 14: four walks (checkpoint check, record checks, reproduce, snapshot).
    exp = jupyter_exp.run(set_params=["train.epochs=5"])
    assert parses == ["dvc.yaml"]
    assert git(ran, "show", f"{exp.rev}:params.yaml").count("epochs: 5") == 1


def test_exp_run_reloads_when_overrides_change_interpolated_stages(ran: Path, parses: list[str]):
    dvc_yaml = ran / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().replace("cmd: python train.py", "cmd: python train.py ${train.epochs}"))
    git(ran, "commit", "-qam", "interpolated")
    exp = jupyter_exp.run(set_params=["train.epochs=7"])
    assert parses == ["dvc.yaml", "dvc.yaml"]  # params.yaml feeds dvc.yaml: loaded again after -S
    lock = load_yaml(ran / "dvc.lock")["stages"]["train"]
    assert lock["cmd"] == "python train.py 7"
    assert "python train.py 7" in git(ran, "show", f"{exp.rev}:dvc.lock")


def test_tracked_does_not_import_repro():
    code = "import sys, jupyter_exp.pipeline.tracked; print('jupyter_exp.pipeline.repro' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_atomic_writers_leave_the_old_file_on_failure(tmp_path: Path):
    target = tmp_path / "file.txt"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with replacing(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["file.txt"]  # no sibling left
    write_bytes_atomic(target, b"new", mode=0o444)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o444
    assert os.listdir(tmp_path) == ["file.txt"]


def test_typed_git_commands(ran: Path):
    g = Git(ran)
    head = g.head()
    assert "dvc.yaml" in g.ls_tree(head) and g.ls_tree("no-such-rev", check=False) == []
    (ran / "new.dvc").write_text("outs: []\n")
    assert "new.dvc" in g.ls_files("*.dvc") and "new.dvc" not in g.ls_files("*.dvc", untracked=False)
    assert g.tree_of(head) == git(ran, "rev-parse", "HEAD^{tree}").strip()
    assert g.git_path("index") == ran / ".git" / "index"
    git(ran, "add", "new.dvc")
    assert g.diff_index(head) == ["new.dvc"]
    git(ran, "commit", "-qm", "second")
    assert g.first_parent_chain(g.head(), head) == [g.head()]
    assert len(g.first_parent_chain(g.head())) == 3
    ref = str(ExpRef(head, "cas"))
    g.update_ref(ref, head, "0" * 40)
    with pytest.raises(GitError):  # compare-and-swap: it exists now
        g.update_ref(ref, g.head(), "0" * 40)
    assert g.rev_parse(ref) == head


def test_ref_names_and_bookkeeping_paths(tmp_path: Path):
    assert queue_ref("abc") == "refs/jupyter-exp/queue/abc"
    assert saved_ref("workspace-1") == "refs/jupyter-exp/saved/workspace-1"
    project = Project(tmp_path)
    own = tmp_path / ".dvc" / "tmp" / "jupyter_exp"
    assert project.state_db == own / "state.db"
    assert project.queue_dir == own / "queue"
    assert project.running_stage_file == own / "running-stage"
    assert project.lock_file == tmp_path / ".dvc" / "tmp" / "lock"
    assert project.checkpoint_signal_file == tmp_path / ".dvc" / "tmp" / "DVC_CHECKPOINT"


# -- nothing comes back: each concern spelled only in its home ------------------------
PACKAGE = Path(jupyter_exp.__file__).resolve().parent
GIT_HOME = "git/"  # the package that runs git
OWN_PATH_ROOTS = ("own_tmp_dir", "tmp_dir", "dvc_dir")  # Project's; what lives below them is named there


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _spellings_outside_their_home() -> list[str]:
    """Every place in the package's code (not its docstrings or comments) that spells a
    ref name, a bookkeeping path, a temp-and-rename or a git command line itself."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(), filename=rel)
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if "refs/" in node.value and rel != "refs.py":
                    found.append(f"{where}: a ref name ({node.value[:40]!r}); name it in refs.py")
                if ".dvc/tmp" in node.value and rel != "project.py":
                    found.append(f"{where}: a path under .dvc/tmp ({node.value[:40]!r}); use a Project property")
            elif (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Div)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr in OWN_PATH_ROOTS
                and isinstance(node.right, ast.Constant)
                and rel != "project.py"
            ):
                found.append(f"{where}: {ast.unparse(node)}; add a Project property for it")
            elif isinstance(node, ast.Call):
                func, name = node.func, ast.unparse(node.func)
                if rel != "serialize.py" and (
                    name in ("os.replace", "os.rename", "shutil.move")
                    or (
                        isinstance(func, ast.Attribute)
                        and func.attr in ("replace", "rename")  # Path's: one argument, the target
                        and len(node.args) == 1
                        and name != "dataclasses.replace"
                    )
                ):
                    found.append(f"{where}: {name}(...) renames a file; write through serialize.replacing")
                if rel.startswith(GIT_HOME):
                    continue
                if isinstance(func, ast.Attribute) and func.attr in ("run", "run_network"):
                    owner = ast.unparse(func.value)
                    if owner.endswith("git") or owner.startswith("Git("):
                        found.append(f"{where}: {ast.unparse(node)[:60]}; add a typed method to jupyter_exp/git/")
                first = node.args[0] if node.args else None
                if isinstance(first, (ast.List, ast.Tuple)) and first.elts and ast.unparse(first.elts[0]) == "'git'":
                    found.append(f"{where}: a git process started here; add a typed method to jupyter_exp/git/")
    return found


def test_each_concern_is_spelled_only_in_its_home():
    """Ref names only in refs.py, bookkeeping paths only as Project properties, one
    atomic writer (serialize.py), git command lines only in jupyter_exp/git/."""
    found = _spellings_outside_their_home()
    assert not found, "\n".join(found)


def test_the_home_check_sees_each_kind_of_spelling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The check itself: a module holding one of each is reported four times over."""
    fake = tmp_path / "jupyter_exp"
    fake.mkdir()
    (fake / "stray.py").write_text(
        "import os\n"
        "def f(project, git, tmp, path):\n"
        "    ref = 'refs/exps/' + path\n"
        "    folder = project.own_tmp_dir / 'mine'\n"
        "    os.replace(tmp, path)\n"
        "    return git.run('rev-parse', ref)\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = _spellings_outside_their_home()
    assert sorted(line.split(": ", 1)[0] for line in found) == ["stray.py:3", "stray.py:4", "stray.py:5", "stray.py:6"]
