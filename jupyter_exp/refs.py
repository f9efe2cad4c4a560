"""All ref names in one place.

Experiments live where DVC looks for them: ``refs/exps/<b[:2]>/<b[2:]>/<name>``
with ``b`` the 40-hex baseline commit. DVC parses every ref under ``refs/exps``
except its own ``apply/ celery/ exec/ temp/`` namespaces and stashes, so our own
bookkeeping stays out of it, under ``refs/jupyter-exp/``. Notes and tags on
experiments are git notes under ``refs/notes/jupyter-exp`` (keyed by commit, pushed
and pulled beside the experiments), where neither DVC nor ``git log`` looks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import JupyterExpError

EXPS_NAMESPACE = "refs/exps"
EXPS_GLOB = f"{EXPS_NAMESPACE}/*"  # every experiment ref of a remote (``git ls-remote``)
HEADS = "refs/heads"
TAGS = "refs/tags"
OWN_NAMESPACE = "refs/jupyter-exp"
OWN_GLOB = f"{OWN_NAMESPACE}/*"
SAVED_NAMESPACE = f"{OWN_NAMESPACE}/saved"  # workspaces saved by apply, by name
QUEUE_NAMESPACE = f"{OWN_NAMESPACE}/queue"  # keeps each queue entry's snapshot alive, by id
NOTES_REF = "refs/notes/jupyter-exp"  # notes and tags on experiment commits (git notes)
NOTES_INCOMING_REF = "refs/notes/jupyter-exp-incoming"  # a remote's notes while `exp pull` merges them
NOTES_OUTGOING_REF = "refs/notes/jupyter-exp-outgoing"  # the notes `exp push` sends, while it sends them
NOTES_DIR = "refs/notes"  # the folder whose stats move when the notes ref is written
# Every namespace whose change can change what ``exp show`` prints.
SHOWN_NAMESPACES = (EXPS_NAMESPACE, HEADS, TAGS, OWN_NAMESPACE, NOTES_REF)
DVC_SKIP = frozenset({"apply", "celery", "exec", "temp"})
DVC_STASHES = frozenset({f"{EXPS_NAMESPACE}/stash", f"{EXPS_NAMESPACE}/celery/stash"})
_SHA = re.compile(r"^[0-9a-f]{40}$")
# git check-ref-format rules for one component, plus DVC's: no "/".
MAX_NAME_BYTES = 200
# (and no undecodable byte: a command line's, as a lone surrogate, is no UTF-8 ref name)
_BAD_NAME = re.compile(r"(^[.-]|\.\.|[\x00-\x20\x7f~^:?*\[\\/\ud800-\udfff]|@\{|\.lock$|\.$|^@$|^HEAD$)")


class InvalidExpNameError(JupyterExpError):
    pass


def check_name(name: str) -> str:
    """Return ``name`` if it can be an experiment name; raise InvalidExpNameError."""
    if not name or _BAD_NAME.search(name):
        raise InvalidExpNameError(
            f"Invalid experiment name '{name}': use letters, digits, '-', '_' or '.', "
            "with no '/', spaces, '..', leading '.' or '-', and not HEAD."
        )
    if len(name.encode()) > MAX_NAME_BYTES:
        # git check-ref-format accepts any length, but the ref is a file (and so is its
        # .lock, and the name's progress file): past the file system's 255 bytes, git
        # would fail only after the run.
        raise InvalidExpNameError(
            f"Experiment name '{name[:24]}...' is {len(name.encode())} bytes long; "
            f"use a name of at most {MAX_NAME_BYTES} bytes."
        )
    return name


@dataclass(frozen=True, order=True)
class ExpRef:
    """``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>``."""

    baseline: str
    name: str

    def __str__(self) -> str:
        return f"{EXPS_NAMESPACE}/{self.baseline[:2]}/{self.baseline[2:]}/{self.name}"

    @classmethod
    def parse(cls, ref: str) -> ExpRef | None:
        """The ExpRef of ``ref``, or None for refs DVC skips or that are not experiments."""
        if not ref.startswith(EXPS_NAMESPACE + "/") or ref in DVC_STASHES:
            return None
        parts = ref.split("/")
        if len(parts) != 5 or parts[2] in DVC_SKIP:
            return None
        baseline = parts[2] + parts[3]
        if not _SHA.match(baseline):
            return None
        return cls(baseline, parts[4])


def branch_ref(name: str) -> str:
    """``refs/heads/<name>``."""
    return f"{HEADS}/{name}"


def saved_ref(name: str) -> str:
    """The ref of a workspace ``exp apply`` saved: ``refs/jupyter-exp/saved/<name>``."""
    return f"{SAVED_NAMESPACE}/{name}"


def queue_ref(entry_id: str) -> str:
    """The ref keeping queue entry ``entry_id``'s snapshot alive."""
    return f"{QUEUE_NAMESPACE}/{entry_id}"
