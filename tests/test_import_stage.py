"""Import stages (``.dvc`` files ``dvc import`` writes, with ``deps: [{path, repo}]``):
recognized and named in one line by repro, commit and checkout, never re-hashed as plain
data; freeze / unfreeze of one byte for byte as DVC. The fixture is DVC's own example
project's import (tests/fixtures/import_stage/README.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dvc_twins import cli, git, run_dvc, twin
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import CheckoutError

FIXTURE = Path(__file__).parent / "fixtures" / "import_stage"
NAME = "data/data.xml.dvc"
URL = "https://github.com/iterative/dataset-registry"
REV = "cf6481baf56f156aa0876709cc231aaf3f3a3c29"
NOTICE = f"{NAME} is a frozen import from {URL}@{REV}; update it with DVC (`dvc update {NAME}`)."


@pytest.fixture
def imported(tmp_path: Path, dvc_exe: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DVC project holding the import ``.dvc`` file, its data present but not cached."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    run_dvc(dvc_exe, root, "init", "-q")
    shutil.copytree(FIXTURE / "data", root / "data")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "import")
    (root / "data" / "data.xml").write_text("<xml>not what the import recorded</xml>\n")
    monkeypatch.chdir(root)
    return root


def test_the_import_is_listed_with_its_source(imported):
    (source,) = jupyter_exp.imports()
    assert (source.dvcfile, source.url, source.rev, source.path, source.frozen) == (
        NAME,
        URL,
        REV,
        "get-started/data.xml",
        True,
    )
    assert source.notice == NOTICE


def test_repro_names_the_import_and_leaves_it(imported):
    before = Snapshot.take(imported)
    code, out, err = cli(imported, "repro", NAME)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == NOTICE
    before.assert_unchanged()


@pytest.mark.parametrize("argv", [[], ["-f"], [NAME], ["-f", NAME], ["-f", "data/data.xml"]])
def test_commit_names_the_import_and_never_rehashes_it(imported, argv):
    before = Snapshot.take(imported)
    code, out, err = cli(imported, "commit", *argv)
    assert (code, out, err) == (0, NOTICE + "\n", "")
    before.assert_unchanged()


def test_checkout_says_the_data_comes_from_an_import(imported):
    (imported / "data" / "data.xml").unlink()
    before = Snapshot.take(imported)
    with pytest.raises(CheckoutError) as caught:
        jupyter_exp.checkout()
    assert str(caught.value) == f"Missing from the cache: data/data.xml; {NOTICE}"
    before.assert_unchanged()


def test_unfreeze_and_freeze_an_import_as_dvc(imported, dvc_exe, tmp_path):
    theirs = twin(imported, tmp_path / "theirs")
    for verb in ("unfreeze", "freeze"):
        assert cli(imported, verb, NAME) == (0, "", "")
        run_dvc(dvc_exe, theirs, verb, NAME)
        assert (imported / NAME).read_bytes() == (theirs / NAME).read_bytes()
    assert (imported / NAME).read_text().endswith("  path: data.xml\nfrozen: true\n")
    cli(imported, "unfreeze", NAME)
    (source,) = jupyter_exp.imports()
    assert source.notice == NOTICE.replace("a frozen import", "an import")


def test_an_import_url_and_a_crafted_source_stay_one_line(imported):
    (imported / "data" / "other.dvc").write_text(
        "deps:\n- path: https://example.com/x.csv\n  etag: abc\nouts:\n- md5: 0123456789abcdef0123456789abcdef\n"
        "  size: 1\n  hash: md5\n  path: other.csv\n"
    )
    (imported / "data" / "evil.dvc").write_text(
        'deps:\n- path: x\n  repo:\n    url: "https://e.x/\\n\\rERROR: fake"\n    rev_lock: r\nouts:\n'
        "- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  hash: md5\n  path: evil.csv\n"
    )
    notices = {s.dvcfile: s.notice for s in jupyter_exp.imports()}
    assert notices["data/other.dvc"] == (
        "data/other.dvc is an import from https://example.com/x.csv; update it with DVC (`dvc update data/other.dvc`)."
    )
    assert "\n" not in notices["data/evil.dvc"] and "\r" not in notices["data/evil.dvc"]
