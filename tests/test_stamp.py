"""The no-op fast path: a recorded no-op is answered from stats, and anything that
moves sends the reproduction back through the engine."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import statuses

import jupyter_exp
from jupyter_exp.serialize import load_yaml


def noop_twice(root: Path) -> None:
    jupyter_exp.repro()
    assert set(statuses(jupyter_exp.repro()).values()) == {"skipped"}  # records the stamp
    assert list((root / ".dvc/tmp/jupyter_exp/uptodate").iterdir())


def test_a_recorded_noop_does_not_load_the_engine(make_project):
    root = make_project("two_stage")
    noop_twice(root)
    code = (
        "import sys, jupyter_exp\n"
        "r = jupyter_exp.repro(echo=lambda s: None)\n"
        "print([x.status for x in r], 'jupyter_exp.pipeline.repro' in sys.modules, 'ruamel.yaml' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['skipped', 'skipped'] False False"


def _edit_dep(root):
    (root / "data/raw.csv").write_text("9\n")


def _edit_param(root):
    jupyter_exp.apply_params(["train.epochs=4"])


def _add_file_to_dep_dir(root):
    (root / "prepared" / "extra.txt").write_text("x")


def _remove_cache_object(root):
    lock = load_yaml(root / "dvc.lock")["stages"]
    md5 = next(o["md5"] for o in lock["train"]["outs"] if o["path"] == "model.bin")
    obj = root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    obj.unlink()


def _edit_dvc_yaml(root):
    text = (root / "dvc.yaml").read_text().replace("python train.py", "python train.py --again")
    (root / "dvc.yaml").write_text(text)


def _delete_output(root):
    shutil.rmtree(root / "prepared")


@pytest.mark.parametrize(
    "change,expect",
    [
        (_edit_dep, {"prepare": "ran", "train": "ran"}),
        (_edit_param, {"prepare": "skipped", "train": "ran"}),
        (_add_file_to_dep_dir, {"prepare": "restored", "train": "skipped"}),
        (_remove_cache_object, {"prepare": "skipped", "train": "ran"}),
        (_edit_dvc_yaml, {"prepare": "skipped", "train": "ran"}),
        (_delete_output, {"prepare": "restored", "train": "skipped"}),
    ],
)
def test_any_change_goes_back_through_the_engine(make_project, change, expect):
    root = make_project("two_stage")
    noop_twice(root)
    change(root)
    assert statuses(jupyter_exp.repro()) == expect


def test_a_changed_vars_file_is_noticed(project: Path):
    (project / "extra.yaml").write_text("x: 1\n")
    (project / "dvc.yaml").write_text(
        "vars:\n  - extra.yaml\nstages:\n  s:\n    cmd: echo ${x} > out.txt\n    outs:\n    - out.txt\n"
    )
    noop_twice(project)
    (project / "extra.yaml").write_text("x: 2\n")
    assert statuses(jupyter_exp.repro()) == {"s": "ran"}
    assert (project / "out.txt").read_text() == "2\n"
