"""Which outputs a data verb's targets name, against DVC 3.67.1 on twin projects: a
directory without ``-R`` names nothing (an error in both tools, nothing moved); ``-R``
on a directory takes the ``.dvc`` files and stages in it (none in an output directory);
a revision where a target names nothing is skipped; ``-d`` widens targets at each
revision by that revision's own pipelines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import git, jdvc_command
from test_remote_flags import _remotes, _run, _twins, origin  # noqa: F401  (fixture)


def _data_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".dvc" not in p.relative_to(root).parts[:1] and ".git" not in p.relative_to(root).parts[:1]
    }


def _cache(root: Path) -> set[str]:
    base = root / ".dvc" / "cache" / "files" / "md5"
    return {p.parent.name + p.name for p in base.glob("*/*") if p.is_file()} if base.exists() else set()


TARGETS = [
    ["data"],
    ["data/"],
    ["."],
    [".", "-R"],
    ["data", "-R"],
    ["data/images", "-R"],  # an output directory holds no .dvc file: DVC moves nothing
    ["data/table.csv", "nosuch"],  # one target naming nothing fails the revision
    ["-a", "data"],
    ["data/images/2.png"],  # a file inside a directory output: it and the manifest, as DVC sends them
    ["data/images/1.png", "data/images/3.png"],
]


@pytest.mark.parametrize("args", TARGETS, ids=[" ".join(a) for a in TARGETS])
def test_push_targets_name_what_dvcs_name(origin, tmp_path, dvc_exe, args):  # noqa: F811
    ours, theirs = _twins(origin, tmp_path)
    mine = _run([*jdvc_command(), "push", *args], ours)
    real = _run([str(dvc_exe), "push", *args], theirs)
    assert (mine.returncode == 0) == (real.returncode == 0), (mine.stderr, real.stderr)
    assert _remotes(tmp_path, "ours") == _remotes(tmp_path, "theirs"), args
    if real.returncode:
        assert len(mine.stderr.strip().splitlines()) == 1 and mine.stderr.startswith("ERROR: "), mine.stderr
        assert _remotes(tmp_path, "ours") == (set(), set())
    else:
        assert mine.stdout.splitlines()[-1] == real.stdout.splitlines()[-1]


PULLED = [["data"], ["data", "-R"], ["data/images", "-R"], [".", "-R"], ["nosuch"], ["data/images/2.png"]]


@pytest.mark.parametrize("verb", ["fetch", "pull"])
@pytest.mark.parametrize("args", PULLED, ids=[" ".join(a) for a in PULLED])
def test_fetch_and_pull_targets_name_what_dvcs_name(origin, tmp_path, dvc_exe, verb, args):  # noqa: F811
    """Each twin's remote holds everything (pushed by DVC); the cache and the tracked
    data are gone; then the same fetch or pull in each: the same objects come, the same
    files are checked out, and both fail alike."""
    ours, theirs = _twins(origin, tmp_path)
    for root in (ours, theirs):
        assert _run([str(dvc_exe), "push"], root).returncode == 0
        shutil.rmtree(root / ".dvc" / "cache")
        for rel in ("data/images", "data/table.csv", "data/more.txt", "model.bin"):
            path = root / rel
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    mine = _run([*jdvc_command(), verb, *args], ours)
    real = _run([str(dvc_exe), verb, *args], theirs)
    assert (mine.returncode == 0) == (real.returncode == 0), (mine.stderr, real.stderr)
    assert _cache(ours) == _cache(theirs), args
    assert _data_files(ours) == _data_files(theirs), args
    if real.returncode:
        assert len(mine.stderr.strip().splitlines()) == 1 and mine.stderr.startswith("ERROR: "), mine.stderr


@pytest.fixture
def history(origin, dvc):  # noqa: F811
    """``origin`` with a first commit (tag ``v1``) where stage ``train`` also depends on
    ``data/old.csv`` (tracked by ``data/old.csv.dvc``), and a head where neither is."""
    root = origin
    (root / "data" / "old.csv").write_text("old,1\n")
    dvc("add", "-q", "data/old.csv")
    yaml_text = (root / "dvc.yaml").read_text()
    (root / "dvc.yaml").write_text(yaml_text.replace("    - train.py\n", "    - train.py\n    - data/old.csv\n"))
    dvc("repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "train reads old.csv")
    git(root, "tag", "v1")
    git(root, "rm", "-q", "data/old.csv.dvc")
    (root / "dvc.yaml").write_text(yaml_text)
    dvc("repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "old.csv dropped")
    return root


WIDENED = [["-A", "-d", "train"], ["-T", "-d", "train"], ["-A", "train"], ["-T", "data/old.csv.dvc"]]


@pytest.mark.parametrize("args", WIDENED, ids=[" ".join(a) for a in WIDENED])
def test_with_deps_widens_at_each_revision_as_dvc_does(history, tmp_path, dvc_exe, args):
    """At ``v1`` stage ``train`` depends on ``data/old.csv.dvc``, which the workspace no
    longer has: ``-d train`` at ``-A``/``-T`` sends old.csv too, as DVC does (widening
    from the workspace's pipelines alone would not); a target the workspace lacks skips
    the workspace and is taken from the commits that have it."""
    old = git(history, "show", "v1:data/old.csv.dvc").split("md5: ")[1].split()[0]
    ours, theirs = _twins(history, tmp_path)
    mine = _run([*jdvc_command(), "push", *args], ours)
    real = _run([str(dvc_exe), "push", *args], theirs)
    assert mine.returncode == real.returncode == 0, (mine.stderr, real.stderr)
    assert _remotes(tmp_path, "ours") == _remotes(tmp_path, "theirs"), args
    assert mine.stdout.splitlines()[-1] == real.stdout.splitlines()[-1]
    assert (old in _remotes(tmp_path, "ours")[0]) == ("-d" in args or "data/old.csv.dvc" in args)


@pytest.mark.parametrize("pusher", ["ours", "dvc"])
def test_a_file_pushed_alone_from_a_directory_is_pulled_alone_by_a_fresh_clone(origin, tmp_path, dvc_exe, pusher):  # noqa: F811
    """``push data/images/2.png`` then, in a fresh clone, ``pull data/images/2.png`` by
    the other tool and by the same one: the manifest went with the file, so the clone
    finds it; the other images stay unpulled, and our remote status still names them."""
    ours, _ = _twins(origin, tmp_path)
    push = [*jdvc_command(), "push"] if pusher == "ours" else [str(dvc_exe), "push"]
    assert _run([*push, "data/images/2.png"], ours).returncode == 0
    status = _run([*jdvc_command(), "status", "-c"], ours)
    assert "\tnew:                data/images/1.png\n" in status.stdout, status.stdout
    assert "data/images/2.png" not in status.stdout
    for puller in ([*jdvc_command(), "pull"], [str(dvc_exe), "pull"]):
        clone = tmp_path / f"clone-{len(list(tmp_path.glob('clone-*')))}"
        shutil.copytree(origin, clone, symlinks=True)
        shutil.rmtree(clone / ".dvc" / "cache")
        for rel in ("data/images", "data/table.csv", "data/more.txt", "model.bin"):
            path = clone / rel
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        shutil.copy(ours / ".dvc" / "config.local", clone / ".dvc" / "config.local")
        pulled = _run([*puller, "data/images/2.png"], clone)
        assert pulled.returncode == 0, (puller, pulled.stderr)
        images = sorted(p.name for p in (clone / "data" / "images").iterdir())
        assert images == ["2.png"], (puller, images)
        assert (clone / "data/images/2.png").read_bytes() == (origin / "data/images/2.png").read_bytes()


CHECKOUTS = [
    ([], ""),
    (["data/images/2.png"], ""),
    (["data/images"], ""),
    (["--summary"], ""),
    ([], "data"),  # from a subdirectory: paths relative to it
    (["images/1.png"], "data"),
]


@pytest.mark.parametrize("args, where", CHECKOUTS, ids=[f"{' '.join(a)} in '{w}'" for a, w in CHECKOUTS])
def test_checkout_and_pull_say_what_dvc_says(origin, tmp_path, dvc_exe, args, where):  # noqa: F811
    """After an edit, a deleted file, a stray file in a tracked directory and a missing
    output: ``checkout -f`` (and a fresh ``pull``) print DVC's lines, byte for byte:
    ``M       data/images/``, ``A       model.bin``, and its summary words."""
    ours, theirs = _twins(origin, tmp_path)
    for root in (ours, theirs):
        assert _run([str(dvc_exe), "push"], root).returncode == 0
        (root / "data/images/1.png").chmod(0o644)
        (root / "data/images/1.png").write_bytes(b"edited")
        (root / "data/images/3.png").unlink()
        (root / "data/images/stray.png").write_bytes(b"stray")
        (root / "model.bin").unlink()
    mine = _run([*jdvc_command(), "checkout", "-f", *args], ours / where)
    real = _run([str(dvc_exe), "checkout", "-f", *args], theirs / where)
    assert (mine.returncode, mine.stdout) == (real.returncode, real.stdout), (mine, real)
    assert _data_files(ours) == _data_files(theirs)
    if args and args[0] == "--summary":
        return
    for root in (ours, theirs):  # a fresh pull: everything added
        shutil.rmtree(root / ".dvc" / "cache")
        for rel in ("data/images", "data/table.csv", "data/more.txt", "model.bin"):
            path = root / rel
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    mine = _run([*jdvc_command(), "pull", *args], ours / where)
    real = _run([str(dvc_exe), "pull", *args], theirs / where)
    assert (mine.returncode, mine.stdout) == (real.returncode, real.stdout), (mine, real)
