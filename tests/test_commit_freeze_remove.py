"""``commit``, ``freeze`` / ``unfreeze`` and the removal of stages and ``.dvc`` files,
byte for byte against DVC 3 on twin projects; hostile targets change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from dvc_twins import assert_same, build_base, cli, git, run_dvc, twin
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, dvc_exe: Path) -> Path:
    """The project DVC builds, once per module; each test works on copies."""
    return build_base(dvc_exe, tmp_path_factory.mktemp("base") / "base")


@pytest.fixture
def twins(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    ours, theirs = twin(base, tmp_path / "ours"), twin(base, tmp_path / "theirs")
    monkeypatch.chdir(ours)
    return ours, theirs


def test_freeze_and_unfreeze_write_what_dvc_writes(twins, dvc_exe):
    ours, theirs = twins
    for verb in ("freeze", "unfreeze"):
        for target in ("prep", "raw.csv.dvc"):
            code, out, err = cli(ours, verb, target)
            dvc = run_dvc(dvc_exe, theirs, verb, target)
            assert (code, out, err) == (0, dvc.stdout, "")
            assert_same(ours, theirs)
        if verb == "freeze":
            text = (ours / "dvc.yaml").read_text()
            assert "# the pipeline" in text and "prep:  # first" in text
            assert "    - out.txt\n    frozen: true\n  train:" in text
            assert (ours / "raw.csv.dvc").read_text().endswith("frozen: true\n")
    assert (ours / "dvc.yaml").read_bytes() == (theirs / "dvc.yaml").read_bytes()


def test_repro_skips_a_frozen_stage_and_keeps_its_lock_entry(twins):
    ours, _ = twins
    jupyter_exp.freeze("prep")
    lock = (ours / "dvc.lock").read_bytes()
    (ours / "in.txt").write_text("changed\n")
    results = {r.stage: r.status for r in jupyter_exp.repro()}
    assert results["prep"] == "frozen"
    assert (ours / "out.txt").read_text() == "hi\n"
    assert (ours / "dvc.lock").read_bytes() == lock
    jupyter_exp.unfreeze("prep")
    assert {r.stage: r.status for r in jupyter_exp.repro()}["prep"] == "ran"
    assert (ours / "out.txt").read_text() == "changed\n"


def _edit_workspace(root: Path) -> None:
    (root / "out.txt").write_text("edited by hand\n")
    (root / "data" / "f2").write_text("two\n")
    (root / "data" / "f9").write_text("nine\n")
    (root / "raw.csv").write_text("raw, edited\n")


def test_commit_refuses_changed_stages_without_force_as_dvc_does(twins, dvc_exe):
    ours, theirs = twins
    _edit_workspace(ours)
    _edit_workspace(theirs)
    before = Snapshot.take(ours)
    code, out, err = cli(ours, "commit", "prep")
    assert code == 1 and out == ""
    assert err == "ERROR: Stage 'prep' changed (output 'out.txt' changed); rerun with -f to commit it.\n"
    before.assert_unchanged()
    assert run_dvc(dvc_exe, theirs, "commit", "prep", check=False).returncode == 1
    with pytest.raises(JupyterExpError, match=r"^'raw.csv.dvc' changed \(its data changed\); rerun with force=True"):
        jupyter_exp.commit("raw.csv.dvc")
    before.assert_unchanged()


@pytest.mark.parametrize(
    "argv",
    [["-f"], ["-f", "prep"], ["-f", "raw.csv.dvc", "data.dvc"], ["-f", "-d", "train"], ["-f", "-R", "."]],
    ids=["all", "stage", "dvc-files", "with-deps", "recursive"],
)
def test_commit_force_writes_the_lock_and_dvc_files_dvc_writes(twins, dvc_exe, argv):
    ours, theirs = twins
    _edit_workspace(ours)
    _edit_workspace(theirs)
    code, out, err = cli(ours, "commit", *argv)
    dvc = run_dvc(dvc_exe, theirs, "commit", *argv)
    assert (code, out, err) == (0, dvc.stdout, "")
    assert_same(ours, theirs)


def test_commit_of_an_unchanged_project_changes_nothing(twins, dvc_exe):
    ours, theirs = twins
    for argv in ([], ["-f"], ["data"], ["prep", "-d"]):
        assert cli(ours, "commit", *argv) == (0, run_dvc(dvc_exe, theirs, "commit", *argv).stdout, "")
    assert_same(ours, theirs)
    assert git(ours, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "argv",
    [["prep"], ["train", "--outs"], ["prep", "train"], ["raw.csv.dvc"], ["data.dvc", "--outs"]],
    ids=["stage", "stage-outs", "last-stages", "dvc-file", "dvc-file-outs"],
)
def test_remove_matches_dvc(twins, dvc_exe, argv):
    ours, theirs = twins
    code, out, err = cli(ours, "remove", *argv)
    dvc = run_dvc(dvc_exe, theirs, "remove", *argv)
    assert (code, out, err) == (0, dvc.stdout, "")
    assert_same(ours, theirs)


def test_remove_keeps_comments_outside_the_stage(twins):
    ours, _ = twins
    jupyter_exp.remove_stages("train")
    text = (ours / "dvc.yaml").read_text()
    assert text.startswith("# the pipeline\nstages:\n  prep:  # first\n") and "train" not in text
    assert "/model.txt" not in (ours / ".gitignore").read_text() and (ours / "model.txt").exists()


def test_remove_of_a_tracked_path_names_its_dvc_file(twins):
    ours, _ = twins
    before = Snapshot.take(ours)
    code, out, err = cli(ours, "remove", "raw.csv")
    assert (code, out) == (1, "")
    assert err == "ERROR: 'raw.csv' is not a .dvc file; did you mean 'raw.csv.dvc'?\n"
    before.assert_unchanged()


# -- hostile input: one line, nothing changed ------------------------------------------

VERBS = [["commit", "-f"], ["freeze"], ["unfreeze"], ["remove"], ["remove", "--outs"]]


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: " ".join(v))
@pytest.mark.parametrize(
    "target",
    ["../outside.dvc", ".git/config.dvc", ".git/x", "link-out.dvc", "evil.dvc", "--", "nosuchstage", "../x"],
)
def test_hostile_targets_change_nothing(twins, tmp_path, verb, target):
    ours, _ = twins
    (tmp_path / "outside.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: outside\n")
    (ours / "link-out.dvc").symlink_to(tmp_path / "outside.dvc")
    (ours / "evil.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  path: ../../etc/passwd\n"
    )
    before = Snapshot.take(ours, outside=[tmp_path])
    argv = [*verb, "--", target] if target != "--" else [*verb, "--", "-x"]
    code, out, err = cli(ours, *argv)
    assert code in (1, 2), (out, err)
    assert err.startswith("ERROR: ") and err.count("\n") == 1, err
    before.assert_unchanged()


@pytest.mark.parametrize(
    "verb", [["commit"], ["commit", "-f"], ["freeze", "prep"], ["unfreeze", "prep"], ["remove", "prep"]]
)
@pytest.mark.parametrize("damage", ["non-utf8", "not-yaml", "path-out"])
def test_a_damaged_dvc_yaml_stops_every_verb_in_one_line(twins, tmp_path, verb, damage):
    ours, _ = twins
    if damage == "non-utf8":
        (ours / "dvc.yaml").write_bytes((ours / "dvc.yaml").read_bytes().replace(b"first", b"f\xffrst"))
    elif damage == "not-yaml":
        (ours / "dvc.yaml").write_text("stages:\n  prep: [\n")
    else:
        (ours / "dvc.yaml").write_text((ours / "dvc.yaml").read_text().replace("- out.txt", "- ../../etc/passwd", 1))
    before = Snapshot.take(ours, outside=[tmp_path])
    code, out, err = cli(ours, *verb)
    assert code == 1 and out == "", (out, err)
    assert err.startswith("ERROR: ") and err.count("\n") == 1, err
    before.assert_unchanged()


def test_a_stage_named_like_an_option_is_only_a_name(twins):
    ours, _ = twins
    before = Snapshot.take(ours)
    with pytest.raises(JupyterExpError, match="^'-rf' does not exist|^Stage '-rf'|-rf"):
        jupyter_exp.remove_stages(["-rf"])
    before.assert_unchanged()
