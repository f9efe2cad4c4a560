"""Notes travel with ``exp push`` / ``exp pull`` through a bare git remote (merged, never
clobbering local ones), and hostile notes — from a crafted remote or typed — are one
line each with nothing lost."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from conftest import cli_command, git
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.experiments.exceptions import NoteError
from jupyter_exp.refs import NOTES_REF


@pytest.fixture
def clones(make_project, tmp_path):
    """Two clones of one project through a bare git remote, with a DVC remote directory;
    the first has experiments e1 and e2."""
    first = make_project("two_stage")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    storage = tmp_path / "storage"
    (first / ".dvc" / "config").write_text(f"[core]\n    remote = shared\n['remote \"shared\"']\n    url = {storage}\n")
    git(first, "add", ".dvc/config")
    git(first, "commit", "-qm", "remote")
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "-q", "origin", "main")
    jupyter_exp.run(params={"train.lr": 0.2}, name="e1")
    jupyter_exp.run(params={"train.lr": 0.3}, name="e2")
    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(remote), str(second))
    git(second, "config", "user.email", "b@example.com")
    git(second, "config", "user.name", "B")
    return first, second, remote


def notes_in(root) -> dict[str, str]:
    """Experiment name -> note text, as `exp show --csv` prints them."""
    out = subprocess.run([*cli_command(), "show", "--csv"], cwd=root, capture_output=True, text=True, check=True).stdout
    return {r["Experiment"]: r.get("Note", "") for r in csv.DictReader(io.StringIO(out)) if r["Experiment"]}


def test_notes_survive_push_fresh_clone_and_pull(clones, monkeypatch, cli):
    first, second, remote = clones
    jupyter_exp.note("e1", "the first", tags=["a"])
    jupyter_exp.note("e2", "the second")
    assert "Pushed experiment(s) e1, e2" in cli("push", "origin", "e1", "e2").stdout
    assert NOTES_REF in git(remote, "for-each-ref", "--format=%(refname)")
    monkeypatch.chdir(second)
    assert git(second, "for-each-ref", NOTES_REF) == ""  # a clone does not fetch notes
    assert "Pulled experiment(s)" in cli("pull", "origin").stdout
    assert jupyter_exp.note("e1").text == "the first" and jupyter_exp.note("e1").tags == ("a",)
    assert notes_in(second) == {"e1": "the first", "e2": "the second"}
    assert git(second, "for-each-ref", "refs/notes/jupyter-exp-incoming") == ""  # the fetched copy is gone

    # Both sides change notes: a pull merges, the local side wins where both changed one.
    jupyter_exp.note("e1", "second's own view")
    monkeypatch.chdir(first)
    jupyter_exp.note("e1", "first changed it too")
    jupyter_exp.note("e2", "first's update")
    cli("push", "origin", "e1", "e2")
    monkeypatch.chdir(second)
    cli("pull", "origin")
    assert notes_in(second) == {"e1": "second's own view", "e2": "first's update"}

    # The second pushes after the first pushed again: rejected, merged, pushed.
    monkeypatch.chdir(first)
    jupyter_exp.note("e2", "first, once more", tags=["late"])
    cli("push", "origin", "e1", "e2")
    monkeypatch.chdir(second)
    jupyter_exp.note("e1", "second's final word", tags=["b"])
    proc = cli("push", "origin", "e1", "e2")
    assert "notes were not pushed" not in proc.stderr
    monkeypatch.chdir(first)
    cli("pull", "origin")
    # first had not changed e1 since it pushed it: the second's change comes in; e2 is as
    # first left it (the second never changed it).
    assert notes_in(first) == {"e1": "second's final word", "e2": "first, once more"}
    third = remote.parent / "third"
    git(remote.parent, "clone", "-q", str(remote), str(third))
    git(third, "config", "user.email", "c@example.com")
    git(third, "config", "user.name", "C")
    monkeypatch.chdir(third)
    jupyter_exp.pull("origin", no_cache=True)
    assert notes_in(third) == {"e1": "second's final word", "e2": "first, once more"}
    assert jupyter_exp.note("e1").tags == ("a", "b")  # the second added b to the a it pulled


def test_a_pull_with_no_new_experiments_still_brings_the_notes(clones, monkeypatch):
    first, second, _ = clones
    jupyter_exp.push("origin", ["e1", "e2"])
    monkeypatch.chdir(second)
    jupyter_exp.pull("origin")
    monkeypatch.chdir(first)
    jupyter_exp.note("e2", "a note added later")
    jupyter_exp.push("origin", ["e1", "e2"])
    monkeypatch.chdir(second)
    assert jupyter_exp.pull("origin", ["e2"]) == ["e2"]
    assert jupyter_exp.note("e2").text == "a note added later"


# -- hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "line"),
    [
        (lambda: jupyter_exp.note("-e1", "x"), "Unknown experiment or revision '-e1'"),
        (lambda: jupyter_exp.note("--upload-pack=touch /tmp/x", "x"), "Unknown experiment or revision '--upload"),
        (lambda: jupyter_exp.note("e1", tags=["a\nb"]), "Tag 'a\\nb' holds the control character '\\n'"),
        (lambda: jupyter_exp.note("e1", tags=["a\0b"]), "Tag 'a\\x00b' holds the control character '\\x00'"),
        (lambda: jupyter_exp.note("e1", tags=["x" * 1000]), "Tag 'xxxxxxxxxxxxxxxxxxxxxxxx...' is 1000 characters"),
        (lambda: jupyter_exp.note("e1", tags=[" "]), "An empty tag; give the tag a name"),
        (lambda: jupyter_exp.note("e1", tags=["a,b"]), "Tag 'a,b' holds a comma; give each tag its own --tag."),
        (lambda: jupyter_exp.note("e1", "nul\0inside"), "A note cannot hold the control character '\\x00'"),
        (lambda: jupyter_exp.note("e1", "x" * 10_001), "The note is 10001 characters long; keep it under 10000."),
    ],
)
def test_bad_names_tags_and_texts_are_one_line_and_change_nothing(clones, tmp_path, call, line):
    first, _, _ = clones
    jupyter_exp.note("e1", "kept", tags=["keep"])
    before = Snapshot.take(first, outside=[tmp_path / "storage"])
    with pytest.raises(JupyterExpError) as caught:
        call()
    assert str(caught.value).startswith(line) and "\n" not in str(caught.value)
    before.assert_unchanged()
    assert jupyter_exp.note("e1").text == "kept"


def test_a_name_starting_with_a_dash_from_the_shell(clones, cli):
    proc = cli("note", "--", "-e1", "x", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == "ERROR: Unknown experiment or revision '-e1'; list experiments with `jupyter exp list`.\n"
    proc = cli("note", "e1", "--tag", "a\nb", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1


def _craft(root, remote, rev: str, content: bytes) -> None:
    """Point the remote's notes at a history holding ``content`` as the note on ``rev``."""
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=root, input=content, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    tree = git(root, "mktree", input_text=f"100644 blob {blob}\t{rev}\n").strip()
    commit = git(root, "commit-tree", tree, "-m", "crafted").strip()
    git(root, "push", "-q", "-f", str(remote), f"{commit}:{NOTES_REF}")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe not utf-8 \x80", "not UTF-8 text"),
        (b"x" * 200_000, "200000 bytes, over the 64 KiB a note may hold"),
        (b'{"text": 3, "tags": "no"}', "not a jupyter_exp note (text and tags of the wrong types)"),
        (b'{"text": "ok", "tags": ["a\\nb"]}', "Tag 'a\\nb' holds the control character '\\n'; use a word or two"),
    ],
    ids=["not-utf8", "huge", "wrong-types", "bad-tag"],
)
def test_crafted_notes_from_a_remote_are_shown_as_errors_and_lose_nothing(clones, monkeypatch, cli, content, reason):
    first, second, remote = clones
    jupyter_exp.push("origin", ["e1", "e2"])
    e1 = next(line.split()[0] for line in git(first, "for-each-ref", "refs/exps").splitlines() if line.endswith("/e1"))
    monkeypatch.chdir(second)
    cli("pull", "origin")
    jupyter_exp.note("e2", "mine")  # a local note the next pull must keep
    _craft(first, remote, e1, content)
    cli("pull", "origin")
    assert jupyter_exp.note("e2").text == "mine"
    found = jupyter_exp.note("e1")
    assert found.error == reason and found.text == "" and found.tags == ()
    out = cli("note", "e1").stdout
    assert out == f"e1 ({e1[:7]}): the stored note cannot be read ({reason}); replace it with --clear.\n"
    rows = {r["Experiment"]: r for r in csv.DictReader(io.StringIO(cli("show", "--csv").stdout))}
    assert rows["e1"]["Note"] == "!" and rows["e2"]["Note"] == "mine"
    before = Snapshot.take(second)
    proc = cli("note", "e1", "--tag", "x", check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"ERROR: The stored note on {e1[:7]} cannot be read ({reason}); replace it with --clear.\n")
    before.assert_unchanged()
    from jupyter_exp.project import Project
    from jupyter_exp.table import TableController

    table = TableController(Project(second))
    try:
        row = next(r for r in table.state["table"]["rows"] if r["cells"][0] == "e1")
        columns = table.state["table"]["columns"]
        note_at = [c["id"] for c in columns].index("note")
        assert row["cells"][note_at] == "!"
        assert (row["errors"].get("note") or columns[note_at]["error"]) == f"note: {reason}"
    finally:
        table.close()
    cli("note", "e1", "--clear", "--tag", "fixed")
    assert jupyter_exp.note("e1").tags == ("fixed",) and jupyter_exp.note("e2").text == "mine"


def test_a_remote_notes_ref_that_is_no_history_is_a_warning(clones, monkeypatch, cli):
    first, second, remote = clones
    jupyter_exp.push("origin", ["e1", "e2"])
    blob = git(first, "hash-object", "-w", "--stdin", input_text="not a notes history\n").strip()
    monkeypatch.chdir(second)
    jupyter_exp.pull("origin")
    jupyter_exp.note("e1", "mine")
    git(first, "push", "-q", "-f", str(remote), f"{blob}:{NOTES_REF}")
    notes_before = git(second, "rev-parse", NOTES_REF)
    proc = cli("pull", "origin")
    assert proc.stderr == (
        f"WARNING: the notes of 'origin' were not merged ({NOTES_REF} on 'origin' is not a notes history); "
        "your notes are as they were.\n"
    )
    assert git(second, "rev-parse", NOTES_REF) == notes_before
    assert git(second, "for-each-ref", "refs/notes/jupyter-exp-incoming") == ""
    # A local notes ref that is no history: shown without notes, with one warning.
    git(second, "update-ref", NOTES_REF, blob)
    proc = cli("show", "--csv")
    assert proc.stderr == f"WARNING: {NOTES_REF} points at a blob, not a notes history; notes are not shown.\n"
    with pytest.raises(JupyterExpError) as caught:
        jupyter_exp.note("e1", "x")
    assert "\n" not in str(caught.value)
    assert git(second, "rev-parse", NOTES_REF).strip() == blob  # left as it was


def test_notes_under_a_fanned_out_tree_and_hand_written_ones_read(clones):
    first, _, _ = clones
    e1 = next(line.split()[0] for line in git(first, "for-each-ref", "refs/exps").splitlines() if line.endswith("/e1"))
    git(first, "notes", f"--ref={NOTES_REF}", "add", "-m", "written by hand with git notes", e1)
    assert jupyter_exp.note("e1").text == "written by hand with git notes"
    # git fans notes out (ab/cdef...) once there are many; read the same way.
    blob = git(first, "hash-object", "-w", "--stdin", input_text='{"tags": ["f"], "text": "fanned"}').strip()
    inner = git(first, "mktree", input_text=f"100644 blob {blob}\t{e1[2:]}\n").strip()
    tree = git(first, "mktree", input_text=f"040000 tree {inner}\t{e1[:2]}\n").strip()
    commit = git(first, "commit-tree", tree, "-m", "fanned").strip()
    git(first, "update-ref", NOTES_REF, commit)
    found = jupyter_exp.note("e1")
    assert (found.text, found.tags) == ("fanned", ("f",))
    with pytest.raises(NoteError):
        jupyter_exp.note("e1", "x" * 20_000)


def test_push_sends_only_the_notes_of_the_experiments_pushed(clones, monkeypatch, cli):
    first, second, remote = clones
    refs = {line.rsplit("/", 1)[1]: line.split()[0] for line in git(first, "for-each-ref", "refs/exps").splitlines()}
    jupyter_exp.note("e1", "shared", tags=["a"])
    jupyter_exp.note("e2", "private thoughts")
    jupyter_exp.note("main", "a note on the baseline")  # on a branch commit: no experiment, never sent
    cli("push", "origin", "e1")

    def remote_notes() -> dict[str, str]:
        listed = git(remote, "notes", f"--ref={NOTES_REF}", "list")
        return {
            obj: git(remote, "cat-file", "-p", blob) for blob, obj in (line.split() for line in listed.splitlines())
        }

    assert remote_notes() == {refs["e1"]: '{"tags": ["a"], "text": "shared"}\n'}
    # Nothing else went: no history holding the others, no object naming them.
    history = git(remote, "log", "-p", "--format=%H %P", NOTES_REF)
    assert "private" not in history and "baseline" not in history and refs["e2"] not in history
    assert len(git(remote, "rev-list", NOTES_REF).split()) == 1
    assert jupyter_exp.note("e2").text == "private thoughts"  # ours are as they were

    # Another clone changes e1's note and pushes it; first then pushes e2: e1 stays the
    # other clone's (first had not changed it since it pushed it), e2's note joins it.
    monkeypatch.chdir(second)
    cli("pull", "origin")
    assert notes_in(second) == {"e1": "shared"}
    jupyter_exp.note("e1", "second's view")
    cli("push", "origin", "e1")
    monkeypatch.chdir(first)
    cli("push", "origin", "e2")
    texts = {obj: note.split('"text": ')[1].strip().strip('"}') for obj, note in remote_notes().items()}
    assert texts == {refs["e1"]: "second's view", refs["e2"]: "private thoughts"}
    assert jupyter_exp.note("e1").text == "second's view"  # the push merged the remote's notes in
    # A note removed here is removed there when its experiment is pushed again.
    jupyter_exp.note("e2", clear=True)
    cli("push", "origin", "e2")
    assert set(remote_notes()) == {refs["e1"]}
    assert git(first, "for-each-ref", "refs/notes/jupyter-exp-outgoing") == ""  # the outgoing commit's ref is gone
    assert "baseline" not in git(remote, "log", "-p", NOTES_REF)
