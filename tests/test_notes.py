"""Notes and tags on experiments (issue 16, item 5): ``jupyter exp note``, ``jupyter_exp.note``,
the Note / Tags / Message columns of ``exp show`` and of the table, kept as git notes
under ``refs/notes/jupyter-exp`` — where DVC never looks (checked with real DVC)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import git

import jupyter_exp
from jupyter_exp.experiments.exceptions import NoteError
from jupyter_exp.project import Project
from jupyter_exp.refs import NOTES_REF
from jupyter_exp.table import TableController


def rev_of(root, name: str) -> str:
    return next(line.split()[0] for line in git(root, "for-each-ref", "refs/exps").splitlines() if line.endswith(name))


def test_note_tag_untag_clear_and_show_from_the_shell(exps, cli):
    out = cli("note", "e1", "lr too low?", "--tag", "baseline", "--tag", "lr").stdout
    rev = rev_of(exps, "e1")
    assert out == f"e1 ({rev[:7]}):\nTags: baseline, lr\nlr too low?\n"
    # Stored as a git note on the experiment's commit, one line of JSON.
    stored = git(exps, "notes", f"--ref={NOTES_REF}", "show", rev)
    assert json.loads(stored) == {"tags": ["baseline", "lr"], "text": "lr too low?"}
    assert cli("note", "e1").stdout == out
    cli("note", "e1", "--untag", "lr", "--tag", "best", "--tag", "best")
    assert cli("note", "e1").stdout == f"e1 ({rev[:7]}):\nTags: baseline, best\nlr too low?\n"
    cli("note", "e1", "")  # an empty text removes the text, the tags stay
    assert cli("note", "e1").stdout == f"e1 ({rev[:7]}):\nTags: baseline, best\n"
    cli("note", "e1", "--clear")
    assert cli("note", "e1").stdout == f"e1 ({rev[:7]}): no note; add one with `jupyter exp note e1 TEXT`.\n"
    assert git(exps, "notes", f"--ref={NOTES_REF}", "list").strip() == ""  # the note itself is gone


def test_note_from_python_and_a_multiline_text(exps):
    found = jupyter_exp.note("e2", "first line\nsecond line", tags=["keep"])
    assert (found.text, found.tags, found.label, found.error) == ("first line\nsecond line", ("keep",), "e2", None)
    assert jupyter_exp.note("e2", untag="keep").tags == ()
    assert jupyter_exp.note("e2") == found.__class__(found.rev, "first line\nsecond line", (), None, "e2")
    # A baseline (any revision) can carry a note too.
    assert jupyter_exp.note("main", tags="release").tags == ("release",)


def test_notes_tags_and_messages_are_columns_of_exp_show(exps, cli):
    jupyter_exp.run(params={"train.lr": 0.4}, name="e4", message="try a bigger lr\n\nbecause the loss plateaus")
    git(exps, "checkout", "-q", "--", ".")
    before = cli("show", "--csv").stdout  # no note yet: e4's message only
    assert before.splitlines()[0].endswith(",Message") and "Note" not in before.splitlines()[0]
    cli("note", "e1", "the first, with a comma", "--tag", "a", "--tag", "b")
    rows = list(csv.DictReader(io.StringIO(cli("show", "--csv").stdout)))
    by_name = {r["Experiment"] or r["rev"]: r for r in rows}
    assert by_name["e1"]["Note"] == "the first, with a comma" and by_name["e1"]["Tags"] == "a, b"
    assert by_name["e4"]["Message"] == "try a bigger lr\n\nbecause the loss plateaus"
    assert by_name["e2"]["Note"] == by_name["e2"]["Message"] == ""  # DVC's default message is no message
    text = cli("show").stdout
    header = text.splitlines()[0]
    assert header.split()[-3:] == ["Note", "Tags", "Message"]
    assert "try a bigger lr" in text and "because the loss" not in text  # a text table shows the first line
    shown = json.loads(cli("show", "--json").stdout)
    exps_json = {e["name"]: e["revs"][0]["data"]["meta"] for e in shown[1]["experiments"]}
    assert exps_json["e1"] == {"note": "the first, with a comma", "tags": ["a", "b"]}
    assert exps_json["e4"] == {"message": "try a bigger lr\n\nbecause the loss plateaus"}
    assert exps_json["e2"] == {} and shown[0]["data"]["meta"] == {}  # as DVC writes meta
    df = jupyter_exp.show()
    assert list(df.columns[7:11]) == ["step", "note", "tags", "message"]
    df = df.set_index("experiment")
    assert df.loc["e1", "tags"] == "a, b" and df.loc["e4", "message"].startswith("try a bigger lr")
    # The warm answer of `exp show` follows a note written since.
    cli("note", "e2", "now noted")
    again = {r["Experiment"]: r for r in csv.DictReader(io.StringIO(cli("show", "--csv").stdout))}
    assert again["e2"]["Note"] == "now noted"


@pytest.mark.dvc
def test_a_message_dvc_wrote_is_the_message_column(exps, dvc, cli):
    dvc("exp", "run", "-S", "train.lr=0.9", "-n", "by-dvc", "-m", "written by dvc exp run -m")
    rows = {r["Experiment"]: r for r in csv.DictReader(io.StringIO(cli("show", "--csv").stdout))}
    assert rows["by-dvc"]["Message"] == "written by dvc exp run -m"
    assert rows["e1"]["Message"] == ""


@pytest.mark.dvc
def test_dvc_does_not_see_the_notes(exps, dvc, tmp_path):
    """exp show, list, push, pull, remove, clean and gc of real DVC (3 has no exp gc) act
    as if there were no notes."""
    show_before = dvc("exp", "show", "--json").stdout
    list_before = sorted(dvc("exp", "list", "--all-commits").stdout.splitlines())  # ties in time: any order
    for name in ("e1", "e2", "e3"):
        jupyter_exp.note(name, f"about {name}", tags=["x"])
    assert dvc("exp", "show", "--json").stdout == show_before
    assert sorted(dvc("exp", "list", "--all-commits").stdout.splitlines()) == list_before
    remote = tmp_path / "dvc-remote.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    git(exps, "remote", "add", "origin", str(remote))
    git(exps, "push", "-q", "origin", "main")
    dvc("exp", "push", "origin", "e1", "e2")
    on_remote = git(remote, "for-each-ref", "--format=%(refname)")
    assert "refs/notes" not in on_remote and on_remote.count("refs/exps/") == 2  # DVC pushes its refs only
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    pulled = dvc_in(clone, dvc, "exp", "pull", "origin", "e1")
    assert pulled.returncode == 0, pulled.stderr
    dvc("exp", "remove", "e3")
    dvc("exp", "clean")
    dvc("gc", "--workspace", "--all-experiments", "--force")
    listed = dvc("exp", "list").stdout  # names in brackets: a commit id may hold "e3"
    assert "[e1]" in listed and "[e3]" not in listed
    # Our notes are where they were (e3's too: its commit's note is no experiment's now).
    assert jupyter_exp.note("e1").text == "about e1"
    assert git(exps, "fsck", "--no-progress", check_ok=True)


def dvc_in(root, dvc, *args):
    import os

    here = os.getcwd()
    os.chdir(root)
    try:
        return dvc(*args, check=False)
    finally:
        os.chdir(here)


def test_the_tables_note_and_tag_messages(exps):
    table = TableController(Project(exps))
    try:
        keys = {r["cells"][0]: r["key"] for r in table.state["table"]["rows"]}
        assert "note" not in [c["id"] for c in table.state["table"]["columns"]]  # no note anywhere yet
        assert table.handle({"type": "note", "key": keys["e2"], "text": "promising"}) == {"ok": True}
        assert table.state["message"] == "Noted 'e2'."
        assert table.handle({"type": "tag", "key": keys["e2"], "add": ["best", "lr"]}) == {"ok": True}
        assert table.handle({"type": "tag", "key": keys["e3"], "add": ["lr"]}) == {"ok": True}
        assert table.state["message"] == "Tags of 'e3': lr."
        columns = [c["id"] for c in table.state["table"]["columns"]]
        assert columns[:5] == ["experiment", "state", "created", "note", "tags"]
        note_col = next(c for c in table.state["table"]["columns"] if c["id"] == "note")
        assert note_col == {"id": "note", "label": "Note", "group": "info", "type": "text", "editable": True}
        row = next(r for r in table.state["table"]["rows"] if r["key"] == keys["e2"])
        assert row["cells"][3:5] == ["promising", "best, lr"] and row["can_note"] is True
        # Filterable with the table's own operators.
        assert table.handle({"type": "filter", "column": "tags", "op": "contains", "value": "best"}) == {"ok": True}
        shown = [r["cells"][0] for r in table.state["table"]["rows"]]
        assert shown == ["workspace", "main", "e2"]
        assert table.state["table"]["filters"][0]["text"] == "Tags contains best"
        table.handle({"type": "unfilter", "index": 0})
        table.handle({"type": "filter", "column": "note", "op": "empty"})
        assert sorted(r["cells"][0] for r in table.state["table"]["rows"])[2:] == ["main", "workspace"]
        assert sorted(r["cells"][0] for r in table.state["table"]["rows"])[:2] == ["e1", "e3"]
        table.handle({"type": "unfilter", "index": 0})
        assert table.handle({"type": "tag", "key": keys["e2"], "remove": ["best"]})["ok"]
        assert jupyter_exp.note("e2").tags == ("lr",)
        reply = table.handle({"type": "note", "key": "workspace", "text": "x"})
        assert reply == {
            "ok": False,
            "error": "The workspace has no commit to note; note an experiment or a baseline.",
        }
        reply = table.handle({"type": "tag", "key": keys["e1"], "add": ["a\nb"]})
        assert reply == {"ok": False, "error": "Tag 'a\\nb' holds the control character '\\n'; use a word or two."}
        # A note written elsewhere shows after a refresh (the live watcher sees the notes' ref move).
        jupyter_exp.note("e1", "from the shell")
        table.refresh()
        row = next(r for r in table.state["table"]["rows"] if r["key"] == keys["e1"])
        assert row["cells"][3] == "from the shell"
    finally:
        table.close()


def test_a_queued_entry_cannot_be_noted(exps):
    jupyter_exp.queue(params={"train.lr": 0.9}, name="later")
    table = TableController(Project(exps))
    try:
        row = next(r for r in table.state["table"]["rows"] if r["cells"][0] == "later")
        assert row["can_note"] is False
        reply = table.handle({"type": "note", "key": row["key"], "text": "x"})
        assert reply == {"ok": False, "error": "'later' has no commit of its own yet; note it once it has run."}
    finally:
        table.close()


def test_notes_survive_a_rename_and_stay_on_the_commit(exps):
    jupyter_exp.note("e1", "kept")
    jupyter_exp.rename("e1", "renamed")
    assert jupyter_exp.note("renamed").text == "kept"


def test_the_live_table_sees_a_note_written_elsewhere(exps):
    from jupyter_exp.experiments import live_state
    from jupyter_exp.experiments import show as show_table

    project = Project(exps)
    files = show_table.workspace_files(project)
    before = live_state.change_stamp(project, files)
    jupyter_exp.note("e1", "moved")
    assert live_state.change_stamp(project, files) != before


def test_too_many_tags_is_one_line_and_nothing_changes(exps):
    jupyter_exp.note("e1", tags=[f"t{i}" for i in range(32)])
    before = git(exps, "rev-parse", NOTES_REF)
    with pytest.raises(NoteError, match=r"^33 tags on one experiment; keep it to 32\.$"):
        jupyter_exp.note("e1", tags="one-more")
    assert git(exps, "rev-parse", NOTES_REF) == before
