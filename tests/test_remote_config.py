"""``jupyter dvc remote ...`` writes ``.dvc/config`` and ``config.local`` byte for byte as
``dvc remote ...`` does, on twin repositories, and refuses what DVC refuses in one line."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import git
from safety import Snapshot

from jupyter_exp.api import data as api
from jupyter_exp.dvc_config import parse, render
from jupyter_exp.errors import ConfigError
from jupyter_exp.project import Project
from jupyter_exp.remote.config import resolve


@pytest.fixture
def twins(tmp_path: Path, monkeypatch, dvc):
    """Two DVC-initialised repositories: ``ours`` and ``theirs``."""
    made = []
    for name in ("ours", "theirs"):
        root = tmp_path / name
        root.mkdir()
        git(root, "init", "-q")
        monkeypatch.chdir(root)
        dvc("init", "-q")
        (root / "sub").mkdir()
        made.append(root)
    return made


def _files(root: Path) -> dict[str, bytes | None]:
    found = {}
    for name in ("config", "config.local"):
        path = root / ".dvc" / name
        found[name] = path.read_bytes() if path.exists() else None
    return found


def _run_both(twins, jdvc, dvc, monkeypatch, steps, cwd="."):
    ours, theirs = twins
    outputs = []
    for step in steps:
        monkeypatch.chdir(theirs / cwd)
        expected = dvc(*step)
        monkeypatch.chdir(ours / cwd)
        got = jdvc(*step)
        outputs.append((got.stdout, expected.stdout))
    return outputs


SCENARIOS = {
    "s3 options, quoting, local secrets": (
        ".",
        [
            ["remote", "add", "-d", "store", "../store"],
            ["remote", "add", "s3r", "s3://bucket/path"],
            ["remote", "modify", "s3r", "endpointurl", "http://localhost:5000"],
            ["remote", "modify", "s3r", "access_key_id", "a b#c"],
            ["remote", "modify", "--local", "s3r", "secret_access_key", "s e"],
            ["remote", "modify", "s3r", "ssl_verify", "/p,c"],
            ["remote", "modify", "s3r", "region", "it's"],
            ["remote", "modify", "s3r", "profile", "dev"],
            ["remote", "modify", "-u", "s3r", "profile"],
            ["remote", "modify", "s3r", "listobjects", "true"],
        ],
    ),
    "rename, default, remove (config.local appears as DVC makes it)": (
        ".",
        [
            ["remote", "add", "-d", "B", "./z"],
            ["remote", "add", "other", "gs://b/p"],
            ["remote", "default", "other"],
            ["remote", "rename", "b", "c"],
            ["remote", "default", "--unset"],
            ["remote", "remove", "c"],
            ["remote", "modify", "other", "url", "azure://container/p"],
            ["remote", "modify", "other", "account_name", "acc"],
        ],
    ),
    "paths relative to the current directory, local level": (
        "sub",
        [
            ["remote", "add", "--local", "-d", "loc", "../../elsewhere/./x/"],
            ["remote", "add", "rel", "store"],
            ["remote", "add", "-f", "rel", "/abs/store"],
            ["remote", "modify", "rel", "url", "a/../b"],
            ["remote", "add", "ssh1", "ssh://user@host:2222/path"],
            ["remote", "modify", "ssh1", "keyfile", "keys/id"],
            ["remote", "modify", "ssh1", "port", "2200"],
        ],
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_remote_verbs_write_what_dvc_writes(twins, jdvc, dvc, monkeypatch, scenario):
    cwd, steps = SCENARIOS[scenario]
    outputs = _run_both(twins, jdvc, dvc, monkeypatch, steps, cwd)
    ours, theirs = twins
    assert _files(ours) == _files(theirs)
    assert [o for o, _ in outputs] == [t for _, t in outputs]  # "Setting 'x' as a default remote." too
    for level in ([], ["--project"]):  # DVC's --local list fails on a section without url
        # DVC prints through rich, which turns tabs into spaces and wraps at 80 columns, even
        # inside a long path (how long depends on the temporary directory): the text is
        # compared with all white space taken out.
        monkeypatch.chdir(theirs)
        expected = "".join(dvc("remote", "list", *level).stdout.split()).replace(str(theirs), "<root>")
        monkeypatch.chdir(ours)
        assert "".join(jdvc("remote", "list", *level).stdout.split()).replace(str(ours), "<root>") == expected


def test_a_hand_written_config_is_rewritten_as_dvc_rewrites_it(twins, jdvc, dvc, monkeypatch):
    """Comments go, keys are lower-cased, sections reordered, a list stays a list."""
    text = (
        "# team settings\n['remote \"Old\"']\n  URL = s3://b/x   # inline\n"
        "[core]\n  Remote = old\n  autostage = true\n[cache]\n  type = reflink, copy\n  dir = ./c/../cache2/\n"
    )
    for root in twins:
        (root / ".dvc" / "config").write_text(text)
    _run_both(twins, jdvc, dvc, monkeypatch, [["remote", "add", "new", "s3://b/y"]])
    ours, theirs = twins
    assert _files(ours) == _files(theirs)
    assert b"# team" not in _files(ours)["config"]


@pytest.mark.parametrize(
    "step, message",
    [
        (["remote", "modify", "store", "nosuchoption", "1"], "has no option 'nosuchoption'"),
        (["remote", "modify", "store", "verify", "maybe"], "is not true or false"),
        (["remote", "modify", "missing", "url", "/x"], "Remote 'missing' doesn't exist"),
        (["remote", "remove", "missing"], "Remote 'missing' doesn't exist"),
        (["remote", "default", "missing"], "Remote 'missing' doesn't exist"),
        (["remote", "add", "store", "/other"], "Remote 'store' already exists; use -f"),
        (["remote", "add", "x", "ftp://host/path"], "unsupported URL type ftp://"),
        (["remote", "modify", "store", "--unset", "url"], "Remote 'store' has no url"),
    ],
)
def test_what_dvc_refuses_is_refused_in_one_line_and_nothing_is_written(twins, jdvc, dvc, monkeypatch, step, message):
    ours, theirs = twins
    for root in twins:
        monkeypatch.chdir(root)
        dvc("remote", "add", "-d", "store", "/srv/store")
    monkeypatch.chdir(theirs)
    assert dvc(*step, check=False).returncode != 0
    monkeypatch.chdir(ours)
    before = Snapshot.take(ours)
    proc = jdvc(*step, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    before.assert_unchanged()
    assert _files(ours) == _files(theirs)


@pytest.mark.parametrize("name", ['a"b', "-x", "a b", "..", "a]b"])
def test_a_name_that_cannot_be_a_config_section_is_refused(project, jdvc, name):
    before = Snapshot.take(project)
    proc = jdvc("remote", "add", "--", name, "/x", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "is not a remote name" in proc.stderr
    before.assert_unchanged()


def test_remote_default_shows_the_default_or_says_there_is_none(project, jdvc):
    proc = jdvc("remote", "default", check=False)
    assert proc.returncode == 1 and "No default remote set" in proc.stderr
    jdvc("remote", "add", "-d", "store", "/srv/x")
    assert jdvc("remote", "default").stdout == "store\n"
    assert api.remote_default() == "store"


def test_resolve_makes_a_relative_url_absolute_from_the_file_that_set_it(project, jdvc):
    jdvc("remote", "add", "-d", "store", "../store")
    jdvc("remote", "add", "--local", "mine", "elsewhere")
    spec = resolve(Project(project))
    assert spec is not None and spec.url == os.path.abspath(project.parent / "store")
    assert resolve(Project(project), "mine").url == str(project / "elsewhere")
    assert (project / ".dvc" / "config.local").read_text() == "['remote \"mine\"']\n    url = ../elsewhere\n"
    assert resolve(Project(project), "MINE").name == "mine"  # names are lower-case, as in DVC


@pytest.mark.parametrize(
    "text, message",
    [
        ("[core\n", "is neither a [section] nor KEY = VALUE"),
        ("[core]\nremote = a\nremote = b\n", "'remote' is set twice"),
        ("remote = a\n", "is outside any [section]"),
        ('[core]\nremote = "a\n', "unbalanced quote"),
        ("[core]\n[core]\n", "appears twice"),
        ("[[core]]\n", "nested sections"),
    ],
)
def test_a_malformed_config_is_one_line_naming_the_file_and_line(project, text, message):
    (project / ".dvc" / "config").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        api.remote_list()
    assert str(caught.value).startswith(".dvc/config, line ")


@pytest.mark.parametrize(
    "text",
    [
        "[core]\n    remote = store\n",
        '[cache]\n    type = "reflink,copy"\n    shared = group\n',
        "[cache]\n    type = reflink, copy\n['remote \"s\"']\n    url = s3://b/p\n    access_key_id = ' a\"b'\n",
        '[x]\n    single = a,\n    empty = ""\n',
    ],
)
def test_render_of_parse_is_the_file_dvc_writes(text):
    assert render(parse(text, "t")) == text


def test_values_are_quoted_as_configobj_quotes_them(dvc_exe):
    """The renderer against ConfigObj itself (DVC's writer), on values that need care."""
    values = ["plain", "a b", " lead", "trail ", "a,b", "a#b", 'a"b', "a'b", '"q"', "'q'", "", "x=y", "tab\tin"]
    lists = [["reflink", "copy"], ["one"], []]
    script = (
        "import io, json, sys\nfrom configobj import ConfigObj\n"
        "values, lists = json.loads(sys.argv[1])\n"
        "conf = {'s': {f'k{i}': v for i, v in enumerate(values + lists)}}\n"
        "out = io.BytesIO(); ConfigObj(conf).write(out); sys.stdout.write(out.getvalue().decode())\n"
    )
    import json

    golden = subprocess.run(
        [str(dvc_exe.parent / "python"), "-c", script, json.dumps([values, lists])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ours = render({"s": {f"k{i}": v for i, v in enumerate(values + lists)}})
    assert ours == golden
    assert parse(ours, "t") == {"s": {f"k{i}": v for i, v in enumerate(values + lists)}}
