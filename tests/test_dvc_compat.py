"""Both directions against real DVC 3, installed in a virtualenv of its own."""

import shutil
from pathlib import Path

import pytest
from conftest import copy_fixture, git

import jupyter_exp

pytestmark = pytest.mark.dvc

TEMPLATED = {
    "params.yaml": "sizes:\n  small: 1\n  large: 2\nname: demo\n",
    "dvc.yaml": """stages:
  gen:
    foreach: ${sizes}
    do:
      cmd: mkdir -p out/${key} && echo ${name}-${item} > out/${key}/v.txt && echo ${item} > out/${key}/n.txt
      params:
      - name
      outs:
      - out/${key}
  summary:
    cmd:
    - cat out/small/v.txt out/large/v.txt > summary.txt
    - "echo '{\\"lines\\": 2}' > summary.json"
    deps:
    - out/small
    - out/large
    outs:
    - summary.txt
    metrics:
    - summary.json:
        cache: false
""",
}


def _make(root: Path, fixture: str | None = None, files: dict | None = None) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    if fixture:
        copy_fixture(fixture, root)
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    jupyter_exp.init(str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def _tree(root: Path, sub: str) -> dict[str, bytes]:
    base = root / sub
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def _gitignores(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in root.rglob(".gitignore")
        if ".dvc" not in p.relative_to(root).parts
    }


@pytest.mark.parametrize("fixture,files", [("two_stage", None), (None, TEMPLATED)])
def test_we_write_what_dvc_writes_byte_for_byte(tmp_path: Path, monkeypatch, dvc, fixture, files):
    ours = _make(tmp_path / "ours", fixture, files)
    theirs = _make(tmp_path / "theirs", fixture, files)
    monkeypatch.chdir(theirs)
    dvc("repro")
    monkeypatch.chdir(ours)
    jupyter_exp.repro()
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert _gitignores(ours) == _gitignores(theirs)
    assert _tree(ours, ".dvc/cache/files") == _tree(theirs, ".dvc/cache/files")
    assert _tree(ours, ".dvc/cache/runs") == _tree(theirs, ".dvc/cache/runs")


def test_after_dvc_repro_nothing_runs_for_us(tmp_path: Path, monkeypatch, dvc):
    root = _make(tmp_path / "p", "two_stage")
    monkeypatch.chdir(root)
    dvc("repro")
    results = jupyter_exp.repro()
    assert {r.stage: r.status for r in results} == {"prepare": "skipped", "train": "skipped"}


def test_after_our_repro_dvc_is_up_to_date_and_checks_out(tmp_path: Path, monkeypatch, dvc):
    root = _make(tmp_path / "p", None, TEMPLATED)
    monkeypatch.chdir(root)
    jupyter_exp.repro()
    assert "Data and pipelines are up to date." in dvc("status").stdout
    shutil.rmtree(root / "out")
    (root / "summary.txt").unlink()
    dvc("checkout")
    assert (root / "out" / "large" / "v.txt").read_text() == "demo-2\n"
    assert (root / "summary.txt").read_text() == "demo-1\ndemo-2\n"
    assert "Data and pipelines are up to date." in dvc("status").stdout


def test_we_use_dvc_run_cache_and_dvc_uses_ours(tmp_path: Path, monkeypatch, dvc):
    root = _make(tmp_path / "p", "two_stage")
    monkeypatch.chdir(root)
    dvc("repro")
    jupyter_exp.apply_params(["train.lr=0.5"])
    dvc("repro")
    jupyter_exp.apply_params(["train.lr=0.01"])
    assert {r.stage: r.status for r in jupyter_exp.repro()}["train"] == "restored"
    jupyter_exp.apply_params(["train.epochs=9"])
    jupyter_exp.repro()
    jupyter_exp.apply_params(["train.epochs=3"])
    jupyter_exp.repro()
    jupyter_exp.apply_params(["train.epochs=9"])
    out = dvc("repro").stdout
    assert "Stage 'train' is cached - skipping run, checking out outputs" in out


def test_add_writes_what_dvc_add_writes(tmp_path: Path, monkeypatch, dvc):
    ours, theirs = _make(tmp_path / "ours"), _make(tmp_path / "theirs")
    for root in (ours, theirs):
        (root / "data.csv").write_text("a,b\n1,2\n")
        (root / "imgs" / "sub").mkdir(parents=True)
        (root / "imgs" / "x.txt").write_text("x")
        (root / "imgs" / "sub" / "y.txt").write_text("yy")
    monkeypatch.chdir(theirs)
    dvc("add", "data.csv", "imgs")
    monkeypatch.chdir(ours)
    jupyter_exp.add(["data.csv", "imgs"])
    for name in ("data.csv.dvc", "imgs.dvc", ".gitignore"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert _tree(ours, ".dvc/cache/files") == _tree(theirs, ".dvc/cache/files")
    assert "Data and pipelines are up to date." in dvc("status").stdout
    shutil.rmtree(ours / "imgs")
    dvc("checkout")
    assert (ours / "imgs" / "sub" / "y.txt").read_text() == "yy"


def test_dvcignore_patterns_leave_out_what_dvc_leaves_out(tmp_path: Path, monkeypatch, dvc):
    ours, theirs = _make(tmp_path / "ours"), _make(tmp_path / "theirs")
    for root in (ours, theirs):
        with open(root / ".dvcignore", "a") as ignore:
            ignore.write("*.log\n!keep.log\ntmp/\n/data/top.txt\n")
        for name, text in {
            "a.txt": "a",
            "b.log": "b",
            "top.txt": "t",
            "sub/c.log": "c",
            "sub/keep.log": "k",
            "sub/top.txt": "nested",
            "tmp/x.txt": "x",
            "sub/tmp/y.txt": "y",
        }.items():
            (root / "data" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "data" / name).write_text(text)
        git(root, "add", ".dvcignore")
        git(root, "commit", "-qm", "ignore")
    monkeypatch.chdir(theirs)
    dvc("add", "data")
    monkeypatch.chdir(ours)
    jupyter_exp.add(["data"])
    assert (ours / "data.dvc").read_bytes() == (theirs / "data.dvc").read_bytes()
    assert _tree(ours, ".dvc/cache/files") == _tree(theirs, ".dvc/cache/files")
    manifest = next(v for k, v in _tree(ours, ".dvc/cache/files").items() if k.endswith(".dir"))
    assert b"a.txt" in manifest and b"keep.log" in manifest and b"sub/top.txt" in manifest
    assert b"b.log" not in manifest and b"tmp/" not in manifest and b'"top.txt"' not in manifest
    assert "Data and pipelines are up to date." in dvc("status").stdout


def test_we_check_out_what_dvc_added(tmp_path: Path, monkeypatch, dvc):
    root = _make(tmp_path / "p")
    (root / "big.txt").write_text("payload\n")
    monkeypatch.chdir(root)
    dvc("add", "big.txt")
    (root / "big.txt").unlink()
    assert jupyter_exp.checkout() == ["big.txt"]
    assert (root / "big.txt").read_text() == "payload\n"
