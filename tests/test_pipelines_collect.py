"""Every dvc.yaml of a project, as DVC 3 collects them, side by side with real DVC.

Twin repositories: the same files, reproduced by ``dvc`` in one and by us in the other;
the lock files beside each dvc.yaml must be byte-identical and ``dvc status`` clean.
"""

import json
import os
from pathlib import Path

import pytest
from conftest import git, make_repo
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.pipeline.dvcfile import collect_dvcfiles, load_all
from jupyter_exp.project import Project
from jupyter_exp.tree import GitTree

ROOT_YAML = """stages:
  prepare:
    cmd: echo prepared > prepared.txt
    outs:
    - prepared.txt
"""
SUB_YAML = """stages:
  train:
    cmd: python train.py && cat ../prepared.txt > model.txt
    deps:
    - ../prepared.txt
    - train.py
    params:
    - k
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
"""
SHAPED = {
    "dvc.yaml": ROOT_YAML,
    "sub/dvc.yaml": SUB_YAML,
    "sub/params.yaml": "k: 1\n",
    "sub/train.py": "import json\nk = int(open('params.yaml').read().split(':')[1])\n"
    "json.dump({'score': k * 2}, open('metrics.json', 'w'))\n",
    # DVC skips these: git-ignored, .dvcignore'd, a sub-repository, inside .dvc-like dirs.
    "ignored/dvc.yaml": "stages:\n  nope:\n    cmd: echo no > nope.txt\n    outs: [nope.txt]\n",
    "hidden/dvc.yaml": "stages:\n  hid:\n    cmd: echo no > hid.txt\n    outs: [hid.txt]\n",
    "nested/dvc.yaml": "stages:\n  inner:\n    cmd: echo no > inner.txt\n    outs: [inner.txt]\n",
    "nested/.dvc/config": "",
    ".gitignore": "/ignored/\n",
    ".dvcignore": "hidden\n",
    "nodvc/readme.txt": "nothing here\n",
    # DVCLive's own file: only metrics and plots, no stages.
    "dvclive/dvc.yaml": "metrics:\n- metrics.json\nplots:\n- plots/metrics:\n    x: step\n",
    "dvclive/metrics.json": '{"acc": 0.5}\n',
}


@pytest.fixture
def twins(tmp_path: Path):
    return make_repo(tmp_path / "ours", SHAPED), make_repo(tmp_path / "theirs", SHAPED)


def test_collects_what_dvc_collects(twins):
    ours, _ = twins
    project = Project(ours)
    assert collect_dvcfiles(project) == ["dvc.yaml", "dvclive/dvc.yaml", "sub/dvc.yaml"]
    # The committed tree lists the same (git-ignored files are not in it).
    assert collect_dvcfiles(project, GitTree(project.git, "HEAD")) == ["dvc.yaml", "dvclive/dvc.yaml", "sub/dvc.yaml"]
    dvclive = [p for p in load_all(project) if p.dvcfile == "dvclive/dvc.yaml"][0]
    assert dvclive.stages == () and dvclive.metrics == ("dvclive/metrics.json",)


@pytest.mark.dvc
def test_repro_sub_dvcyaml_side_by_side_with_dvc(twins, monkeypatch, dvc):
    ours, theirs = twins
    monkeypatch.chdir(theirs)
    dvc("repro", "sub/dvc.yaml")
    monkeypatch.chdir(ours)
    results = jupyter_exp.repro("sub/dvc.yaml")
    assert [r.stage for r in results if r.status == "ran"] == ["prepare", "sub/dvc.yaml:train"]
    for name in ("dvc.lock", "sub/dvc.lock", ".gitignore", "sub/.gitignore"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    for skipped in ("ignored/nope.txt", "hidden/hid.txt", "nested/inner.txt"):
        assert not (ours / skipped).exists() and not (theirs / skipped).exists()
    assert "up to date" in dvc("status").stdout  # DVC agrees with what we recorded

    # All pipelines, both sides: nothing left to do, and DVC's stage addresses.
    assert "Data and pipelines are up to date." in dvc("repro", "-P").stdout
    lines: list[str] = []
    jupyter_exp.repro(all_pipelines=True, echo=lines.append)
    assert "Stage 'sub/dvc.yaml:train' didn't change, skipping\n" in lines


@pytest.mark.dvc
def test_default_target_is_the_current_directorys_dvcyaml(twins, monkeypatch, dvc):
    ours, theirs = twins
    for root in (ours, theirs):
        monkeypatch.chdir(root)
        jupyter_exp.repro("dvc.yaml")  # only the root file
    assert not (ours / "sub/dvc.lock").exists()
    monkeypatch.chdir(theirs / "sub")
    dvc("repro")
    monkeypatch.chdir(ours / "sub")
    ran = [r.stage for r in jupyter_exp.repro() if r.status == "ran"]
    assert ran == ["sub/dvc.yaml:train"]
    assert (ours / "sub/dvc.lock").read_bytes() == (theirs / "sub/dvc.lock").read_bytes()
    # A stage name from a sub-directory is a stage of that directory's dvc.yaml.
    assert [r.status for r in jupyter_exp.repro("train", single_item=True)] == ["skipped"]
    # Where there is no dvc.yaml DVC fails; so do we, in one line.
    monkeypatch.chdir(theirs / "nodvc")
    assert "does not exist" in dvc("repro", check=False).stderr
    monkeypatch.chdir(ours / "nodvc")
    with pytest.raises(JupyterExpError, match=r"^'nodvc/dvc.yaml' does not exist; "):
        jupyter_exp.repro()


@pytest.mark.parametrize(
    "args,match",
    [
        (("sub/nosuch.yaml",), "Unknown stage 'sub/nosuch.yaml'"),  # DVC: a stage name
        (("nosuch/dvc.yaml",), "'nosuch/dvc.yaml' does not exist"),
        (("train",), "Unknown stage 'train'"),  # not in the root dvc.yaml
        (("sub/dvc.yaml:nope",), "Unknown stage 'sub/dvc.yaml:nope'"),
        (("sub/dvc.lock",), "Did you mean: `sub/dvc.yaml`"),
        (("ignored/dvc.yaml",), "'ignored/dvc.yaml' does not exist"),
    ],
)
def test_a_target_that_names_nothing_is_one_line_and_changes_nothing(twins, monkeypatch, tmp_path, args, match):
    ours, _ = twins
    monkeypatch.chdir(ours)
    before = Snapshot.take(ours, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match=match) as info:
        jupyter_exp.repro(list(args))
    assert "\n" not in str(info.value)
    before.assert_unchanged()


def test_recursive_directory_targets(twins, monkeypatch, tmp_path):
    ours, _ = twins
    monkeypatch.chdir(ours)
    ran = [r.stage for r in jupyter_exp.repro("sub", recursive=True) if r.status == "ran"]
    assert ran == ["prepare", "sub/dvc.yaml:train"]
    before = Snapshot.take(ours, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match="No stages inside 'nodvc'"):
        jupyter_exp.repro("nodvc", recursive=True)
    before.assert_unchanged()


def test_up_to_date_stamp_sees_new_and_changed_dvcyaml(twins, monkeypatch):
    ours, _ = twins
    monkeypatch.chdir(ours)
    jupyter_exp.repro(all_pipelines=True)
    assert {r.status for r in jupyter_exp.repro(all_pipelines=True)} <= {"skipped"}
    (ours / "sub2").mkdir()
    (ours / "sub2/dvc.yaml").write_text("stages:\n  more:\n    cmd: echo more > more.txt\n    outs: [more.txt]\n")
    ran = [r.stage for r in jupyter_exp.repro(all_pipelines=True) if r.status == "ran"]
    assert ran == ["sub2/dvc.yaml:more"]
    assert (ours / "sub2/dvc.lock").exists()
    (ours / "sub2/dvc.yaml").write_text("stages:\n  more:\n    cmd: echo other > more.txt\n    outs: [more.txt]\n")
    ran = [r.stage for r in jupyter_exp.repro(all_pipelines=True) if r.status == "ran"]
    assert ran == ["sub2/dvc.yaml:more"]
    assert (ours / "sub2/more.txt").read_text() == "other\n"


def test_exp_run_set_param_in_sub_params_records_fresh_metric(twins, monkeypatch):
    ours, _ = twins
    monkeypatch.chdir(ours)
    exp = jupyter_exp.run(set_params=["sub/params.yaml:k=5"], all_pipelines=True, name="k5")
    assert json.loads(git(ours, "show", f"{exp.rev}:sub/metrics.json")) == {"score": 10}
    assert "k: 5" in git(ours, "show", f"{exp.rev}:sub/dvc.lock")
    assert "prepare" in git(ours, "show", f"{exp.rev}:dvc.lock")


def test_outputs_overlapping_across_files_are_refused(twins, monkeypatch, tmp_path):
    ours, _ = twins
    (ours / "other").mkdir()
    (ours / "other/dvc.yaml").write_text(
        "stages:\n  dup:\n    cmd: echo x > ../prepared.txt\n    outs: [../prepared.txt]\n"
    )
    monkeypatch.chdir(ours)
    before = Snapshot.take(ours, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match="overlaps output 'prepared.txt' of stage 'prepare'"):
        jupyter_exp.repro(all_pipelines=True)
    before.assert_unchanged()


# -- the flags a DVC user types -------------------------------------------------------------


def test_exp_run_dry_records_nothing(twins, monkeypatch, tmp_path):
    ours, _ = twins
    monkeypatch.chdir(ours)
    before = Snapshot.take(ours, outside=[tmp_path])
    lines: list[str] = []
    results = jupyter_exp.run(all_pipelines=True, dry=True, echo=lines.append)
    assert [r.status for r in results] == ["dry", "dry"]
    assert "> echo prepared > prepared.txt\n" in lines
    before.assert_unchanged()
    assert git(ours, "for-each-ref", "refs/exps") == ""


def test_interactive_no_aborts_before_the_stage(twins, monkeypatch, tmp_path):
    ours, _ = twins
    monkeypatch.chdir(ours)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    before = Snapshot.take(ours, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match="aborted by the user at stage 'prepare'"):
        jupyter_exp.repro(interactive=True)
    before.assert_unchanged()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert [r.status for r in jupyter_exp.repro(interactive=True)] == ["ran"]


def test_quiet_pull_and_allow_missing(twins, monkeypatch, capsys):
    ours, _ = twins
    monkeypatch.chdir(ours)
    jupyter_exp.repro(quiet=True)
    assert capsys.readouterr().out == ""
    lines: list[str] = []
    jupyter_exp.repro(pull=True, echo=lines.append)
    assert lines[0].startswith("WARNING: no DVC remote is configured, so no missing output was pulled")
    os.unlink(ours / "prepared.txt")
    assert [r.status for r in jupyter_exp.repro(allow_missing=True)] == ["skipped"]
    assert not (ours / "prepared.txt").exists()
    assert [r.status for r in jupyter_exp.repro()] == ["ran"]


def test_cli_accepts_dvc_repro_flags(twins, monkeypatch, cli):
    ours, _ = twins
    monkeypatch.chdir(ours)
    proc = cli("repro", "-q", "-R", "sub")
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    proc = cli("run", "--dry", "-v", "-P", "--allow-missing")
    assert proc.returncode == 0, proc.stderr
    assert git(ours, "for-each-ref", "refs/exps") == ""


@pytest.mark.dvc
def test_dvc2_cache_layout_is_found(twins, monkeypatch, dvc):
    """A ``.dvc`` file written by DVC 2 (no ``hash: md5``) whose object sits in DVC 2's
    ``.dvc/cache/xx/...``: DVC 3 checks it out, and so do we."""
    ours, theirs = twins
    data = b"legacy data\n"
    import hashlib

    md5 = hashlib.md5(data).hexdigest()
    for root in (ours, theirs):
        obj = root / ".dvc/cache" / md5[:2] / md5[2:]
        obj.parent.mkdir(parents=True)
        obj.write_bytes(data)
        obj.chmod(0o444)
        (root / "data.txt.dvc").write_text(f"outs:\n- md5: {md5}\n  size: {len(data)}\n  path: data.txt\n")
        (root / ".gitignore").write_text("/ignored/\n/data.txt\n")
    monkeypatch.chdir(theirs)
    dvc("checkout", "data.txt.dvc")
    monkeypatch.chdir(ours)
    jupyter_exp.checkout(["data.txt.dvc"])
    assert (ours / "data.txt").read_bytes() == (theirs / "data.txt").read_bytes() == data


@pytest.mark.dvc
def test_dvc_file_as_repro_target_like_dvc(twins, monkeypatch, dvc, tmp_path):
    """``repro data.txt.dvc``: unchanged data is skipped; changed data is cached and the
    .dvc file rewritten byte for byte as DVC rewrites it; missing data is one line."""
    ours, theirs = twins
    for root in (ours, theirs):
        monkeypatch.chdir(root)
        (root / "data.txt").write_text("one\n")
        dvc("add", "data.txt")
    monkeypatch.chdir(ours)
    lines: list[str] = []
    assert [r.status for r in jupyter_exp.repro("data.txt.dvc", echo=lines.append)] == ["skipped"]
    assert lines == ["'data.txt.dvc' didn't change, skipping\n", "Data and pipelines are up to date.\n"]
    for root in (ours, theirs):
        (root / "data.txt").write_text("two\n")
    monkeypatch.chdir(theirs)
    dvc("repro", "data.txt.dvc")
    monkeypatch.chdir(ours)
    assert [r.status for r in jupyter_exp.repro("data.txt.dvc")] == ["ran"]
    assert (ours / "data.txt.dvc").read_bytes() == (theirs / "data.txt.dvc").read_bytes()
    assert "up to date" in dvc("status", "data.txt.dvc").stdout
    os.unlink(ours / "data.txt")
    before = Snapshot.take(ours, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match="missing data 'source': data.txt;"):
        jupyter_exp.repro("data.txt.dvc")
    before.assert_unchanged()
