"""git commands that talk to a remote (push, fetch, ls-remote): never a prompt, always
a timeout, and a remote name that can never be read as an option.

No terminal prompt, no askpass helper, ssh in batch mode, and at most
``JUPYTER_EXP_GIT_TIMEOUT`` seconds (default 300): a kernel never waits for a
password nobody can type.
"""

from __future__ import annotations

import os
import signal
import subprocess

from .errors import GitError, RemoteUnavailableError, explain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import Git

NETWORK_TIMEOUT_ENV = "JUPYTER_EXP_GIT_TIMEOUT"
DEFAULT_NETWORK_TIMEOUT = 300.0

# What git says when the remote itself is the problem (missing, unreachable, refused).
_REMOTE_MISSING = (
    "does not appear to be a git repository",
    "Could not read from remote repository",
    "not found",
    "unable to access",
    "Could not resolve host",
    "terminal prompts disabled",
    "Authentication failed",
    "Permission denied",
)


def check_remote(remote: str) -> str:
    """Return ``remote`` (a remote name or URL) if git can take it as one; raise GitError.

    A name that starts with ``-`` would be read as an option (``--upload-pack=CMD``
    runs CMD), so it is refused before any git process starts.
    """
    if not remote or remote.startswith("-") or any(c in remote for c in "\0\n\r"):
        raise GitError(f"Invalid git remote {remote!r}: name a remote (`git remote -v`) or a URL, not an option.")
    return remote


def run_network(git: Git, verb: str, remote: str, *args: str, options: tuple[str, ...] = ()) -> str:
    """Run ``git VERB OPTIONS -- REMOTE ARGS...`` in ``git``'s work tree without prompts
    and with a timeout; return its stdout.

    Raises:
        GitError: ``remote`` looks like an option, or git failed.
        RemoteUnavailableError: the remote is missing or unreadable, or the command
            did not finish within the timeout.
    """
    check_remote(remote)
    timeout = network_timeout()
    cmd = ["git", verb, *options, "--", remote, *args]
    # A session of its own: on timeout or interrupt the whole group (git and its ssh
    # or https helper) gets SIGTERM first, on which git removes its lock files.
    env = {**os.environ, **git.env}
    if not (env.get("GIT_SSH_COMMAND") or env.get("GIT_SSH")):
        configured = git.run("config", "--get", "core.sshCommand", check=False).strip()
        env.update(network_env(ssh_command=configured or None))
    else:
        env.update(network_env(ssh_command=env.get("GIT_SSH_COMMAND") or env["GIT_SSH"]))
    proc = subprocess.Popen(
        cmd,
        cwd=git.root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process_group(proc)
        raise RemoteUnavailableError(
            f"git {verb} to '{remote}' did not finish within {timeout:g} s; check the remote and the "
            f"network, or set {NETWORK_TIMEOUT_ENV} to wait longer."
        ) from None
    except BaseException:
        stop_process_group(proc)
        raise
    stderr = err.decode(errors="replace")
    if proc.returncode != 0:
        if any(marker in stderr for marker in _REMOTE_MISSING):
            detail = next((line.strip() for line in stderr.splitlines() if line.startswith("fatal:")), "")
            raise RemoteUnavailableError(
                f"Git remote '{remote}' is missing or cannot be read ({detail}); check `git remote -v` "
                "or the URL and your access rights.",
                stderr,
            )
        raise GitError(explain((verb,), stderr, git.root), stderr)
    return out.decode(errors="replace")


def network_timeout() -> float:
    """Seconds a push, fetch or ls-remote may take (``JUPYTER_EXP_GIT_TIMEOUT``)."""
    value = os.environ.get(NETWORK_TIMEOUT_ENV, "")
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_NETWORK_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_NETWORK_TIMEOUT


def network_env(ssh_command: str | None = None) -> dict[str, str]:
    """Environment for git commands that talk to a remote: never prompt.

    No terminal prompt, no askpass program (a GUI dialog nobody sees from a kernel),
    and ssh in batch mode unless the user chose an ssh command (``ssh_command``:
    ``GIT_SSH_COMMAND``, ``GIT_SSH`` or ``core.sshCommand``), which is kept as it is.
    """
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "GCM_INTERACTIVE": "never"}
    if ssh_command is None:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    return env


def stop_process_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group of ``proc`` (git cleans up its locks on it), then SIGKILL;
    return once no process of the group runs (its ssh or https helper included)."""
    from ..processes import start_time, stop_group

    stop_group(proc.pid, start_time(proc.pid), signals=(signal.SIGTERM, signal.SIGKILL), grace=grace)
    proc.wait()
