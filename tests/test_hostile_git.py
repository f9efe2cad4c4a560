"""Hostile git input and odd git states: injected options, remotes that are missing,
hang or ask for a password, repositories git refuses, merges in progress under
``exp apply``, ref lock files left by killed commands, odd object names.

Each refusal asserts the one line the user sees and that nothing changed
(tests/safety.py); where the command legitimately changes things (apply), exactly
what changed."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import cli_command, git
from helpers import alive
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError, LockError
from jupyter_exp.git import Git, network_env
from jupyter_exp.project import Project

# -- 5. git argument injection ----------------------------------------------------------

VERBS = {
    "list": lambda remote: jupyter_exp.ls(remote),
    "pull": lambda remote: jupyter_exp.pull(remote, all_commits=True),
    "push": lambda remote: jupyter_exp.push(remote, all_commits=True),
    "remove": lambda remote: jupyter_exp.remove(all_commits=True, git_remote=remote),
}


@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("option", ["--upload-pack", "--receive-pack", "--exec"])
def test_a_remote_that_is_an_option_runs_nothing(verb, option, exps, tmp_path):
    marker = tmp_path / "injected"
    remote = f"{option}=touch {marker};"
    before = Snapshot.take(exps, outside=[tmp_path])
    with pytest.raises(JupyterExpError) as error:
        VERBS[verb](remote)
    assert str(error.value) == (
        f"Invalid git remote {remote!r}: name a remote (`git remote -v`) or a URL, not an option."
    )
    assert not marker.exists()
    before.assert_unchanged()


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--", "--upload-pack=touch {m};"),
        ("pull", "--", "--upload-pack=touch {m};"),
        ("push", "-A", "--", "--receive-pack=touch {m};"),
        ("remove", "-A", "--git-remote=--upload-pack=touch {m};"),
    ],
)
def test_the_command_line_refuses_an_option_as_remote_in_one_line(args, exps, tmp_path):
    marker = tmp_path / "injected"
    before = Snapshot.take(exps, outside=[tmp_path])
    proc = subprocess.run([*cli_command(), *(a.format(m=marker) for a in args)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Invalid git remote '--" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists()
    before.assert_unchanged()


def test_the_tables_push_with_an_option_as_remote_runs_nothing(exps, tmp_path):
    from jupyter_exp.table import view
    from jupyter_exp.widgets.table import ExperimentTableWidget

    table = ExperimentTableWidget(str(exps), live=False)
    key = next(view.row_key(r) for r in table._rows if r.name == "e2")  # as the front end sends it
    marker = tmp_path / "injected"
    remote = f"--receive-pack=touch {marker};"
    before = Snapshot.take(exps, outside=[tmp_path])
    table._on_message(table, {"type": "action", "action": "push", "keys": [key], "arg": remote, "confirmed": True}, [])
    assert (table.message_kind, table.message) == (
        "error",
        f"Invalid git remote {remote!r}: name a remote (`git remote -v`) or a URL, not an option.",
    )
    assert not marker.exists()
    before.assert_unchanged()


def test_a_revision_that_is_an_option_is_an_unknown_revision(exps, tmp_path):
    out = tmp_path / "written"
    before = Snapshot.take(exps, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match=r"^Unknown revision '--output=.*'; use a commit, branch or tag\.$"):
        jupyter_exp.ls(revs=[f"--output={out}"])
    assert not out.exists()
    before.assert_unchanged()


# -- 18 / 23. remotes that are missing, hang, or ask for a password ---------------------


def test_push_and_pull_to_a_missing_remote_say_it_is_missing(exps, tmp_path):
    before = Snapshot.take(exps, outside=[tmp_path])
    expected = (
        "Git remote 'nosuch' is missing or cannot be read (fatal: 'nosuch' does not appear to be a "
        "git repository); check `git remote -v` or the URL and your access rights."
    )
    for call in (
        lambda: jupyter_exp.push("nosuch", all_commits=True),
        lambda: jupyter_exp.pull("nosuch"),
        lambda: jupyter_exp.ls("nosuch"),
        lambda: jupyter_exp.remove("e1", git_remote="nosuch"),
    ):
        with pytest.raises(JupyterExpError) as error:
            call()
        assert str(error.value) == expected
    before.assert_unchanged()


def test_a_rejected_push_still_says_pull_first(exps, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    jupyter_exp.push(str(remote), "e1")
    head = git(exps, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/e1"
    git(exps, "update-ref", ref, git(exps, "rev-parse", f"refs/exps/{head[:2]}/{head[2:]}/e2").strip())
    with pytest.raises(JupyterExpError, match=r"was rejected .*; pull first or push with force=True\.$"):
        jupyter_exp.push(str(remote), "e1")


def test_a_remote_that_never_answers_times_out_in_one_line(exps, tmp_path, tmp_path_factory, monkeypatch):
    tools = tmp_path_factory.mktemp("tools")  # not watched: the fake ssh writes its pid there
    pidfile = tools / "ssh.pid"
    fake_ssh = tools / "fake-ssh"
    fake_ssh.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 60\n")
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    monkeypatch.setenv("JUPYTER_EXP_GIT_TIMEOUT", "1")
    before = Snapshot.take(exps, outside=[tmp_path])
    started = time.monotonic()
    with pytest.raises(JupyterExpError) as error:
        jupyter_exp.pull("ssh://example.invalid/repo.git")
    assert time.monotonic() - started < 15
    assert str(error.value) == (
        "git ls-remote to 'ssh://example.invalid/repo.git' did not finish within 1 s; check the remote and "
        "the network, or set JUPYTER_EXP_GIT_TIMEOUT to wait longer."
    )
    assert not alive(int(pidfile.read_text()))  # the hanging transport went with git
    before.assert_unchanged()


class _AskForPassword(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="private"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_remote_that_asks_for_a_password_never_prompts(exps, tmp_path, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AskForPassword)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    marker = tmp_path / "asked"
    askpass = tmp_path / "askpass"
    askpass.write_text(f"#!/bin/sh\ntouch {marker}\necho secret\n")
    askpass.chmod(0o755)
    monkeypatch.setenv("GIT_ASKPASS", str(askpass))  # a GUI helper, in a kernel: nobody answers
    monkeypatch.setenv("SSH_ASKPASS", str(askpass))
    url = f"http://127.0.0.1:{server.server_address[1]}/repo.git"
    before = Snapshot.take(exps, outside=[tmp_path])
    try:
        with pytest.raises(JupyterExpError) as error:
            jupyter_exp.pull(url)
    finally:
        server.shutdown()
    assert str(error.value) == (
        f"Git remote '{url}' is missing or cannot be read (fatal: could not read Username for "
        f"'http://127.0.0.1:{server.server_address[1]}': terminal prompts disabled); check `git remote -v` "
        "or the URL and your access rights."
    )
    assert not marker.exists()
    before.assert_unchanged()


def test_network_git_never_prompts_and_keeps_a_chosen_ssh_command():
    assert network_env() == {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GCM_INTERACTIVE": "never",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
    }
    assert "GIT_SSH_COMMAND" not in network_env(ssh_command="ssh -i key")


# -- 18. repositories git refuses ----------------------------------------------------------


def test_a_repository_of_another_owner_names_safe_directory(exps, tmp_path, cli):
    before = Snapshot.take(exps, outside=[tmp_path])
    subprocess.run(["chown", "-R", "12345:12345", str(exps)], check=True)
    try:
        proc = cli("run", check=False)
        listing = cli("list", check=False)
    finally:
        subprocess.run(["chown", "-R", f"{os.getuid()}:{os.getgid()}", str(exps)], check=True)
    expected = (
        f"ERROR: git refuses the repository at {exps}: it belongs to another user; if you trust it, "
        f"run `git config --global --add safe.directory {exps}`.\n"
    )
    assert (proc.returncode, proc.stderr) == (1, expected)
    assert (listing.returncode, listing.stderr) == (1, expected)
    before.assert_unchanged()


def test_a_git_file_naming_a_missing_directory_says_so(exps, tmp_path, cli):
    before = Snapshot.take(exps, outside=[tmp_path])
    moved = tmp_path / "moved.git"
    shutil.move(exps / ".git", moved)
    (exps / ".git").write_text(f"gitdir: {tmp_path}/gone.git\n")
    try:
        proc = cli("run", check=False)
    finally:
        (exps / ".git").unlink()
        shutil.move(moved, exps / ".git")
    assert (proc.returncode, proc.stderr) == (
        1,
        f"ERROR: {exps}/.git names {tmp_path}/gone.git, which is not a git repository; fix the path in "
        f"{exps}/.git or remove that file.\n",
    )
    before.assert_unchanged()


# -- 20. cat-file --batch answers ----------------------------------------------------------


def test_object_names_with_spaces_or_newlines_are_read_in_step(exps):
    repo = Git(exps)
    params = (exps / "params.yaml").read_bytes()
    assert repo.read_blob("HEAD", "a b") is None  # "HEAD:a b missing": three words
    assert repo.read_blob("HEAD", "x 1 missing") is None
    assert repo.read_blob("HEAD", "two\nlines") is None  # would be two requests
    assert repo.read_blob("HEAD", "params.yaml") == params  # still in step
    answers = repo.read_objects(["HEAD:a b", "HEAD:two\nlines", "HEAD:params.yaml", "HEAD: blob 3"])
    assert [a and a[2] for a in answers] == [None, None, params, None]
    assert repo.read_blob("HEAD", "params.yaml") == params
    repo.close()


# -- 12. ref lock files left by killed transactions ---------------------------------------


def _many_refs(root: Path, n: int) -> None:
    head = git(root, "rev-parse", "HEAD").strip()
    rev = git(root, "for-each-ref", "--format=%(objectname)", "--count=1", "refs/exps").strip()
    lines = "".join(f"create refs/exps/{head[:2]}/{head[2:]}/bulk-{i} {rev}\n" for i in range(n))
    git(root, "update-ref", "--stdin", input_text=lines)


def _lock_files(root: Path) -> list[Path]:
    return list((root / ".git" / "refs" / "exps").rglob("*.lock"))


def test_an_interrupted_remove_leaves_no_ref_lock_files(exps, tmp_path):
    _many_refs(exps, 3000)
    prepared = tmp_path / "prepared"
    hook = exps / ".git" / "hooks" / "reference-transaction"
    # git runs this with every ref locked: the moment a kill hurts most.
    hook.write_text(f'#!/bin/sh\n[ "$1" = prepared ] && touch {prepared} && exec sleep 60\nexit 0\n')
    hook.chmod(0o755)
    proc = subprocess.Popen(
        [*cli_command(), "remove", "-A"], cwd=exps, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not prepared.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    assert len(_lock_files(exps)) >= 3000
    proc.send_signal(signal.SIGINT)  # the engine alone, as a kernel interrupt is
    assert proc.wait(timeout=30) == 130
    assert _lock_files(exps) == []
    assert len(jupyter_exp.ls(all_commits=True)[git(exps, "rev-parse", "HEAD").strip()]) == 3003
    hook.unlink()
    assert len(jupyter_exp.remove(all_commits=True)) == 3003


def test_stale_ref_lock_files_are_cleared_and_fresh_ones_refused(exps, tmp_path, cli):
    _many_refs(exps, 300)
    head = git(exps, "rev-parse", "HEAD").strip()
    folder = exps / ".git" / "refs" / "exps" / head[:2] / head[2:]
    fresh = folder / "e1.lock"
    fresh.write_text("")
    before = Snapshot.take(exps, outside=[tmp_path])
    proc = cli("remove", "-A", check=False)
    assert (proc.returncode, proc.stderr) == (
        1,
        f"ERROR: A ref is locked ({fresh}): another git command is running, or one was killed; if none is "
        "running, delete that file and retry.\n",
    )
    before.assert_unchanged()
    # Left by a SIGKILLed transaction two minutes ago: nobody holds them.
    old = time.time() - 120
    for i in range(200):
        stale = folder / f"bulk-{i}.lock"
        stale.write_text("")
        os.utime(stale, (old, old))
    os.utime(fresh, (old, old))
    proc = cli("remove", "-A", check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "Removed 201 stale ref lock file(s) left under refs/exps by a killed git command.\n"
    assert _lock_files(exps) == [] and git(exps, "for-each-ref", "refs/exps") == ""


# -- 4. exp apply ------------------------------------------------------------------------


def _index(root: Path) -> str:
    return git(root, "ls-files", "-s")


def test_apply_refuses_during_a_merge_with_conflicts(exps, tmp_path):
    git(exps, "checkout", "-q", "-b", "side")
    (exps / "params.yaml").write_text((exps / "params.yaml").read_text() + "# side\n")
    git(exps, "commit", "-qam", "side")
    git(exps, "checkout", "-q", "main")
    (exps / "params.yaml").write_text((exps / "params.yaml").read_text() + "# main\n")
    git(exps, "commit", "-qam", "main")
    assert not git(exps, "merge", "-q", "side", check_ok=True)
    before = Snapshot.take(exps, outside=[tmp_path])
    with pytest.raises(JupyterExpError) as error:
        jupyter_exp.apply("e2")
    assert str(error.value) == (
        "Cannot apply an experiment during a merge; finish it (`git commit`) or abort it (`git merge --abort`) first."
    )
    before.assert_unchanged()
    assert before.state["merge"] == ["MERGE_HEAD"]


def test_apply_refuses_during_a_clean_merge_and_a_rebase(exps, tmp_path):
    git(exps, "checkout", "-q", "-b", "side")
    (exps / "side.txt").write_text("side")
    git(exps, "add", "side.txt")
    git(exps, "commit", "-qm", "side")
    git(exps, "checkout", "-q", "main")
    git(exps, "merge", "-q", "--no-commit", "--no-ff", "side")
    before = Snapshot.take(exps, outside=[tmp_path])
    with pytest.raises(JupyterExpError, match=r"^Cannot apply an experiment during a merge;"):
        jupyter_exp.apply("e2")
    before.assert_unchanged()
    git(exps, "merge", "--abort")
    (exps / "side.txt").write_text("main")
    git(exps, "add", "side.txt")
    git(exps, "commit", "-qm", "main")
    git(exps, "checkout", "-q", "side")
    assert not git(exps, "rebase", "-q", "main", check_ok=True)
    before = Snapshot.take(exps, outside=[tmp_path])
    with pytest.raises(JupyterExpError) as error:
        jupyter_exp.apply("e2")
    assert str(error.value) == (
        "Cannot apply an experiment during a rebase; finish it (`git rebase --continue`) "
        "or abort it (`git rebase --abort`) first."
    )
    before.assert_unchanged()


def test_apply_refuses_while_the_index_has_conflicts(exps, tmp_path):
    (exps / "params.yaml").write_text((exps / "params.yaml").read_text() + "# stashed\n")
    git(exps, "stash", "-q")
    (exps / "params.yaml").write_text((exps / "params.yaml").read_text() + "# other\n")
    git(exps, "commit", "-qam", "other")
    assert not git(exps, "stash", "pop", "-q", check_ok=True)  # conflicts, and no MERGE_HEAD
    before = Snapshot.take(exps, outside=[tmp_path])
    with pytest.raises(JupyterExpError) as error:
        jupyter_exp.apply("e2")
    assert str(error.value) == (
        "Cannot apply an experiment while 'params.yaml' has unresolved conflicts; "
        "resolve them and `git add` the files first."
    )
    before.assert_unchanged()


def test_apply_waits_for_the_project_lock(exps, tmp_path, monkeypatch):
    monkeypatch.setattr(Project.lock.__wrapped__, "__defaults__", (0.3,))  # do not wait 10 s
    (exps / "params.yaml").write_text((exps / "params.yaml").read_text() + "# mine\n")
    before = Snapshot.take(exps, outside=[tmp_path])
    import fcntl

    with open(exps / ".dvc" / "tmp" / "lock", "a") as held:  # an exp run in another process
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(LockError) as error:
            jupyter_exp.apply("e2")
    assert str(error.value) == (
        "Another DVC or jupyter_exp command is running in this project; wait for it to finish and retry."
    )
    before.assert_unchanged()


def _staged_work(root: Path) -> dict[str, str]:
    """A staged new file the experiment also has (edited after staging), a staged change
    to a file the experiment has as HEAD has it, a staged new file the experiment does
    not know, and an unstaged edit."""
    (root / "notes.txt").write_text("notes, staged\n")
    (root / "train.py").write_text((root / "train.py").read_text() + "# staged edit\n")
    (root / "draft.txt").write_text("draft, staged\n")
    git(root, "add", "notes.txt", "train.py", "draft.txt")
    (root / "notes.txt").write_text("notes, staged, then edited\n")
    (root / "params.yaml").write_text((root / "params.yaml").read_text() + "# unstaged\n")
    return {p: (root / p).read_text() for p in ("notes.txt", "train.py", "draft.txt", "params.yaml")}


def test_apply_keeps_the_index_and_saves_staged_files(exps, tmp_path):
    (exps / "notes.txt").write_text("the experiment's notes\n")
    jupyter_exp.save(name="noted", include_untracked=["notes.txt"], force=True)
    (exps / "notes.txt").unlink()
    files = _staged_work(exps)
    index_before = _index(exps)
    staged_before = git(exps, "diff", "--cached")
    out: list[str] = []
    applied = jupyter_exp.apply("noted", echo=out.append)
    assert applied.saved and out[0] == (
        f"Your previous workspace was saved as '{applied.saved}'; bring it back "
        f"with: jupyter exp apply {applied.saved}\n"
    )
    # What changed: the experiment's paths, in the workspace and (back to HEAD) in the index.
    assert (exps / "notes.txt").read_text() == "the experiment's notes\n"
    assert "# unstaged" not in (exps / "params.yaml").read_text()
    assert "# staged edit" not in (exps / "train.py").read_text()
    changed = {line.split("\t")[1] for line in set(index_before.splitlines()) ^ set(_index(exps).splitlines())}
    assert changed == {"notes.txt", "train.py"}  # as HEAD has them: notes.txt untracked, train.py unstaged
    assert "notes.txt" not in git(exps, "ls-files") and git(exps, "diff", "--cached", "--", "train.py") == ""
    assert (exps / "draft.txt").read_text() == files["draft.txt"]  # the experiment does not know it
    assert git(exps, "diff", "--cached", "--name-only") == "draft.txt\n"  # still staged
    assert git(exps, "rev-parse", "HEAD").strip() == git(exps, "rev-parse", "main").strip()
    # The printed command brings back the workspace, and the index as it was.
    proc = subprocess.run([*cli_command(), "apply", applied.saved], cwd=exps, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {p: (exps / p).read_text() for p in files} == files
    assert _index(exps) == index_before and git(exps, "diff", "--cached") == staged_before
    saved = f"refs/jupyter-exp/saved/{applied.saved}"
    assert git(exps, "show", f"{saved}:notes.txt") == "notes, staged, then edited\n"  # the workspace
    assert git(exps, "show", f"{saved}^2:notes.txt") == "notes, staged\n"  # the index


def test_apply_in_a_clean_workspace_saves_nothing_and_stages_nothing(exps, tmp_path):
    before = Snapshot.take(exps, outside=[tmp_path])
    applied = jupyter_exp.apply("e2", echo=lambda _: None)
    assert applied.saved is None
    changes = before.changes()
    assert set(changes) <= {"status", "workspace"}, changes
    assert git(exps, "diff", "--cached") == "" and "lr: 0.2" in (exps / "params.yaml").read_text()


def test_show_while_remove_and_gc_run_reads_whole_tables(exps, cli):
    """Readers never take the lock; removals under them leave them whole tables, never a
    traceback: every `exp show --json` answers valid JSON while 2000 refs go."""
    _many_refs(exps, 2000)
    remover = subprocess.Popen(
        [*cli_command(), "remove", "-A"], cwd=exps, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    answers = []
    while remover.poll() is None or len(answers) < 3:
        proc = cli("show", "--json", check=False)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        answers.append(json.loads(proc.stdout))
    out, err = remover.communicate()
    assert remover.returncode == 0, err
    rows = json.loads(cli("show", "--json").stdout)
    assert [r["rev"] for r in rows] == ["workspace", git(exps, "rev-parse", "HEAD").strip()]
    assert not rows[1].get("experiments")
    cli("gc", "-w", "-f")
    assert cli("show", "--json").returncode == 0
