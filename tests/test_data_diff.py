"""``diff`` of DVC-tracked data (``dvc diff``): text, --json, --md and --show-hash byte for
byte against DVC 3 on twin projects, against the workspace and between commits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dvc_twins import build_base, cli, git, run_dvc, twin
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, dvc_exe: Path) -> Path:
    return build_base(dvc_exe, tmp_path_factory.mktemp("base") / "base")


def _changes(root: Path) -> None:
    """A modified file inside the tracked directory, one added, one deleted, one renamed
    (same bytes), a modified tracked file and a modified stage output."""
    (root / "data" / "f2").write_text("two\n")
    (root / "data" / "f9").write_text("nine\n")
    (root / "data" / "f1").unlink()
    (root / "data" / "f3").rename(root / "data" / "f3-renamed")
    (root / "raw.csv").write_text("raw, edited\n")
    (root / "out.txt").write_text("by hand\n")


@pytest.fixture
def twins(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    ours, theirs = twin(base, tmp_path / "ours"), twin(base, tmp_path / "theirs")
    monkeypatch.chdir(ours)
    return ours, theirs


FORMATS = [[], ["--json"], ["--md"], ["--show-hash"], ["--json", "--show-hash"], ["--md", "--show-hash"]]


def _same_output(ours: Path, theirs: Path, dvc_exe: Path, *argv: str) -> str:
    code, out, err = cli(ours, "diff", *argv)
    dvc = run_dvc(dvc_exe, theirs, "diff", *argv)
    assert (code, err) == (0, "")
    assert out == dvc.stdout
    return out


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: " ".join(f) or "text")
def test_workspace_diff_matches_dvc(twins, dvc_exe, fmt):
    ours, theirs = twins
    _changes(ours)
    _changes(theirs)
    out = _same_output(ours, theirs, dvc_exe, *fmt)
    if not fmt:
        assert "Renamed:\n    data/f3 -> data/f3-renamed\n" in out
        assert out.endswith("files summary: 1 added, 1 deleted, 1 renamed, 3 modified\n")


@pytest.mark.parametrize("fmt", FORMATS[:3], ids=lambda f: " ".join(f) or "text")
def test_diff_between_commits_matches_dvc(twins, dvc_exe, fmt):
    ours, theirs = twins
    for root in (ours, theirs):
        _changes(root)
        run_dvc(dvc_exe, root, "commit", "-f")
        (root / "data" / "new-dir-file").write_text("x\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "second")
    _same_output(ours, theirs, dvc_exe, *fmt, "HEAD~1", "HEAD")
    _same_output(ours, theirs, dvc_exe, *fmt, "HEAD", "HEAD~1")
    _same_output(ours, theirs, dvc_exe, *fmt, "HEAD~1")  # against the workspace
    _same_output(ours, theirs, dvc_exe, *fmt, "--targets", "data", "--", "HEAD~1", "HEAD")
    _same_output(ours, theirs, dvc_exe, *fmt, "--targets", "data/f2", "raw.csv", "--", "HEAD~1")


def test_objects_missing_from_the_cache_are_reported_as_dvc_does(twins, dvc_exe):
    ours, theirs = twins
    for root in (ours, theirs):
        shutil.rmtree(root / ".dvc" / "cache" / "files" / "md5" / "23")  # raw.csv's object
        (root / "data" / "f2").write_text("two\n")
    for fmt in ([], ["--json"], ["--md"], ["--hide-missing"], ["--json", "--hide-missing"]):
        _same_output(ours, theirs, dvc_exe, *fmt)
    assert jupyter_exp.data_diff()["not in cache"] == [{"path": "raw.csv"}]


def test_no_difference_prints_nothing_as_dvc(twins, dvc_exe):
    ours, theirs = twins
    for fmt in FORMATS[:3]:
        _same_output(ours, theirs, dvc_exe, *fmt)
        _same_output(ours, theirs, dvc_exe, *fmt, "HEAD", "HEAD")
    assert jupyter_exp.data_diff() == {}


def test_a_deleted_output_and_a_removed_stage(twins, dvc_exe):
    ours, theirs = twins
    for root in (ours, theirs):
        (root / "model.txt").unlink()
        shutil.rmtree(root / "data")
    for fmt in FORMATS[:3]:
        _same_output(ours, theirs, dvc_exe, *fmt)


@pytest.mark.parametrize(
    "argv", [["no-such-rev"], ["--", "-x"], ["HEAD", "nope"], ["--targets", "../outside"], ["--targets", ".git/x"]]
)
def test_bad_revisions_and_targets_are_one_line_and_change_nothing(twins, tmp_path, argv):
    ours, _ = twins
    before = Snapshot.take(ours, outside=[tmp_path])
    code, out, err = cli(ours, "diff", *argv)
    assert code in (1, 2) and out == ""
    assert err.startswith("ERROR: ") and err.count("\n") == 1, err
    before.assert_unchanged()


def test_a_crafted_lock_path_is_refused(twins):
    ours, _ = twins
    lock = ours / "dvc.lock"
    lock.write_text(lock.read_text().replace("path: model.txt", "path: ../../etc/passwd"))
    (ours / "dvc.yaml").write_text((ours / "dvc.yaml").read_text().replace("- model.txt", "- ../../etc/passwd"))
    git(ours, "commit", "-qam", "crafted")
    with pytest.raises(JupyterExpError, match="leaves the project"):
        jupyter_exp.data_diff("HEAD~1", "HEAD")
