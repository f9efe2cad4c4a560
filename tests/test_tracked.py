import hashlib
import os
import stat
from pathlib import Path

import pytest

import jupyter_exp
from jupyter_exp.errors import CheckoutError, PipelineError
from jupyter_exp.serialize import load_yaml


def test_add_file_writes_dvc_file_cache_and_gitignore(project: Path, cli, jdvc):
    data = project / "data"
    data.mkdir()
    (data / "raw.csv").write_text("a,b\n1,2\n")
    proc = jdvc("add", "data/raw.csv")
    assert "git add data/.gitignore data/raw.csv.dvc" in proc.stdout
    md5 = hashlib.md5(b"a,b\n1,2\n").hexdigest()
    assert (data / "raw.csv.dvc").read_text() == f"outs:\n- md5: {md5}\n  size: 8\n  hash: md5\n  path: raw.csv\n"
    obj = project / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    assert obj.read_text() == "a,b\n1,2\n"
    assert not obj.stat().st_mode & stat.S_IWUSR
    assert (data / ".gitignore").read_text() == "/raw.csv\n"


def test_add_directory_and_checkout_restores_it(project: Path):
    d = project / "images"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("a")
    (d / "sub" / "b.txt").write_text("bb")
    jupyter_exp.add(["images"])
    entry = load_yaml(project / "images.dvc")["outs"][0]
    assert list(entry) == ["md5", "size", "nfiles", "hash", "path"]
    assert entry["md5"].endswith(".dir") and entry["nfiles"] == 2 and entry["size"] == 3
    import shutil

    shutil.rmtree(d)
    assert jupyter_exp.checkout() == ["images"]
    assert (d / "sub" / "b.txt").read_text() == "bb"
    assert jupyter_exp.checkout() == []  # already in place


def test_checkout_restores_stage_outputs_by_target(make_project):
    root = make_project("two_stage")
    jupyter_exp.repro()
    before = (root / "model.bin").read_text()
    (root / "model.bin").unlink()
    import shutil

    shutil.rmtree(root / "prepared")
    assert jupyter_exp.checkout(["train"]) == ["model.bin"]
    assert (root / "model.bin").read_text() == before
    assert not (root / "prepared").exists()
    assert jupyter_exp.checkout() == ["prepared"]


def test_checkout_reports_objects_missing_from_the_cache(project: Path):
    (project / "f.txt").write_text("x")
    jupyter_exp.add("f.txt")
    import shutil

    shutil.rmtree(project / ".dvc" / "cache")
    os.remove(project / "f.txt")
    with pytest.raises(CheckoutError, match=r"^Missing from the cache: f.txt; pull them with `dvc pull`"):
        jupyter_exp.checkout()


def test_add_refuses_stage_outputs_and_missing_paths(make_project):
    make_project("two_stage")
    jupyter_exp.repro()
    with pytest.raises(PipelineError, match="'model.bin' is an output of stage 'train'"):
        jupyter_exp.add("model.bin")
    from jupyter_exp.errors import JupyterExpError

    with pytest.raises(JupyterExpError, match="'nope.csv' does not exist"):
        jupyter_exp.add("nope.csv")


def test_tracked_data_as_a_stage_dependency(project: Path):
    (project / "in.txt").write_text("data\n")
    jupyter_exp.add("in.txt")
    (project / "dvc.yaml").write_text(
        "stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps:\n    - in.txt\n    outs:\n    - out.txt\n"
    )
    assert [r.status for r in jupyter_exp.repro()] == ["ran"]
    assert (project / "out.txt").read_text() == "data\n"


def test_add_refuses_files_git_tracks(project: Path):
    from conftest import git

    from jupyter_exp.errors import JupyterExpError

    (project / "notes.txt").write_text("n")
    git(project, "add", "notes.txt")
    with pytest.raises(
        JupyterExpError, match=r"^'notes.txt' is tracked by git; untrack it with `git rm -r --cached notes.txt` first.$"
    ):
        jupyter_exp.add("notes.txt")
    assert not (project / "notes.txt.dvc").exists()


def test_a_bad_dvcignore_pattern_is_one_line_and_adds_nothing(project):
    (project / "imgs").mkdir()
    (project / "imgs" / "x.txt").write_text("x")
    (project / ".dvcignore").write_text("*.log\n\\\n")
    with pytest.raises(jupyter_exp.JupyterExpError) as info:
        jupyter_exp.add(["imgs"])
    assert str(info.value) == ".dvcignore: Invalid git pattern: '\\\\'; fix or remove that pattern."
    assert not (project / "imgs.dvc").exists()


def test_checkout_keeps_unsaved_edits_unless_forced_as_dvc(ran, cli, dvc, jdvc):
    """An edited output or a file added to a tracked directory is never silently lost."""
    (ran / "model.bin").write_text("precious edit\n")
    (ran / "prepared" / "notes.txt").write_text("mine\n")
    ours = jdvc("checkout", check=False)
    theirs = dvc("checkout", check=False)
    assert ours.returncode != 0 and theirs.returncode != 0  # both refuse
    assert ours.stderr.startswith("ERROR: Can't remove the following unsaved files without confirmation: ")
    assert "model.bin" in ours.stderr and "prepared/notes.txt" in ours.stderr
    assert (ran / "model.bin").read_text() == "precious edit\n"
    assert (ran / "prepared" / "notes.txt").read_text() == "mine\n"
    assert jdvc("checkout", "--force").returncode == 0
    assert not (ran / "prepared" / "notes.txt").exists() and (ran / "model.bin").read_text() != "precious edit\n"
