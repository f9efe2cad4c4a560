"""Notes and tags on experiments: git notes under ``refs/notes/jupyter-exp``.

A note is keyed by the commit it annotates (an experiment's commit, a checkpoint's or a
baseline's), so it follows the experiment through ``exp rename`` and, pushed and pulled
with ``exp push``/``exp pull``, to every clone; DVC reads only ``refs/exps/`` and never
sees it. Each note is one line of JSON, ``{"tags": [...], "text": "..."}``; a note
written by hand (``git notes --ref=jupyter-exp add -m ...``) reads as its text.

Notes come from other clones, so reading one is reading untrusted input: a note over
``MAX_NOTE_BYTES`` is never read, one that is not UTF-8 or not our shape is a
:class:`Note` with its ``error`` set (shown as ``!``), never an exception.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ..git import GitError
from ..notices import warn
from ..project import Project
from ..refs import NOTES_INCOMING_REF, NOTES_REF
from .exceptions import NoteError

MAX_NOTE_BYTES = 64 * 1024  # a note larger than this is never read (a crafted remote's)
MAX_TEXT_CHARS = 10_000
MAX_TAG_CHARS = 64
MAX_TAGS = 32
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Note:
    """The note and tags on one commit. ``error``: why the stored note could not be read
    (then ``text`` and ``tags`` are empty and writing over it needs ``clear``)."""

    rev: str
    text: str = ""
    tags: tuple[str, ...] = ()
    error: str | None = None
    label: str = ""  # the experiment as the user named it

    @property
    def empty(self) -> bool:
        return not self.text and not self.tags and self.error is None

    def describe(self) -> str:
        """The note as ``jupyter exp note NAME`` prints it."""
        who = f"{self.label or self.rev[:7]} ({self.rev[:7]})" if self.label != self.rev[:7] else self.rev[:7]
        if self.error is not None:
            return f"{who}: the stored note cannot be read ({self.error}); replace it with --clear.\n"
        if self.empty:
            return f"{who}: no note; add one with `jupyter exp note {self.label or self.rev[:7]} TEXT`.\n"
        lines = [f"{who}:"]
        if self.tags:
            lines.append("Tags: " + ", ".join(self.tags))
        if self.text:
            lines.append(self.text)
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.describe()

    def _repr_pretty_(self, printer, _cycle) -> None:  # IPython shows the note, not the dataclass
        printer.text(self.describe().rstrip("\n"))


# -- checking what a user writes ------------------------------------------------------
def _controls(text: str, allowed: str = "") -> list[str]:
    return [c for c in text if c not in allowed and unicodedata.category(c) in ("Cc", "Cf", "Cs")]


def check_text(text: str) -> str:
    """The note's text, stripped; raise NoteError on NUL or control characters (tabs and
    newlines are fine) or more than MAX_TEXT_CHARS characters."""
    text = text.strip()
    bad = _controls(text, "\n\t\r")
    if bad:
        raise NoteError(f"A note cannot hold the control character {bad[0]!r}; write plain text.")
    if len(text) > MAX_TEXT_CHARS:
        raise NoteError(f"The note is {len(text)} characters long; keep it under {MAX_TEXT_CHARS}.")
    return text


def check_tag(tag: str) -> str:
    """A tag, stripped; raise NoteError if it is empty, too long, holds a comma or a
    control character (a newline, NUL, ...)."""
    shown = tag[:24] + ("..." if len(tag) > 24 else "")
    bad = _controls(tag)
    if bad:
        raise NoteError(f"Tag {shown!r} holds the control character {bad[0]!r}; use a word or two.")
    tag = tag.strip()
    if not tag:
        raise NoteError("An empty tag; give the tag a name, e.g. --tag best.")
    if "," in tag:
        raise NoteError(f"Tag {shown!r} holds a comma; give each tag its own --tag.")
    if len(tag) > MAX_TAG_CHARS:
        raise NoteError(f"Tag {shown!r} is {len(tag)} characters long; keep tags under {MAX_TAG_CHARS}.")
    return tag


# -- reading --------------------------------------------------------------------------
def parse_note(rev: str, blob: bytes) -> Note:
    """The note stored for ``rev``: our JSON, or plain text written by hand."""
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return Note(rev, error="not UTF-8 text")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            note, tags = data.get("text", ""), data.get("tags", [])
            if not isinstance(note, str) or not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return Note(rev, error="not a jupyter_exp note (text and tags of the wrong types)")
            try:
                return Note(rev, check_text(note), tuple(check_tag(t) for t in tags[:MAX_TAGS]))
            except NoteError as exc:
                return Note(rev, error=str(exc).rstrip("."))
    try:
        return Note(rev, check_text(text))
    except NoteError as exc:
        return Note(rev, error=str(exc).rstrip("."))


def _notes_commit(project: Project) -> str | None:
    """The notes ref's commit; None when there are no notes. A ref that points at
    something else (a crafted remote's) is left alone, with a warning."""
    rows = project.git.for_each_ref(NOTES_REF, ["refname", "objecttype", "objectname"])
    found = [r for r in rows if r[0] == NOTES_REF]
    if not found:
        return None
    if found[0][1] != "commit":
        warn(f"{NOTES_REF} points at a {found[0][1]}, not a notes history; notes are not shown.")
        return None
    return found[0][2]


def _unreadable(rev: str, kind: str, size: str) -> Note | None:
    """The note, with its error, for a notes-tree entry that is not read: not a blob, or
    larger than a note may be (never loaded into memory); None for one to read."""
    if kind != "blob":
        return Note(rev, error=f"a {kind}, not a note")
    if not size.isdigit() or int(size) > MAX_NOTE_BYTES:
        return Note(rev, error=f"{size} bytes, over the {MAX_NOTE_BYTES // 1024} KiB a note may hold")
    return None


def read_notes(project: Project) -> dict[str, Note]:
    """Every note, by the commit it annotates: one ``ls-tree`` and one ``cat-file``
    exchange, whatever their number."""
    commit = _notes_commit(project)
    if commit is None:
        return {}
    wanted: dict[str, str] = {}
    notes: dict[str, Note] = {}
    for _mode, kind, oid, size, path in project.git.sized_tree_entries(commit):
        rev = path.replace("/", "")  # git fans notes out as ab/cdef... when there are many
        if not _HEX40.match(rev):
            continue  # not a note (git notes ignores such entries too)
        refused = _unreadable(rev, kind, size)
        if refused is not None:
            notes[rev] = refused
        else:
            wanted[rev] = oid
    revs = list(wanted)
    for rev, found in zip(revs, project.git.read_objects([wanted[r] for r in revs])):
        notes[rev] = parse_note(rev, found[2]) if found and found[1] == "blob" else Note(rev, error="missing")
    return notes


def read_note(project: Project, rev: str) -> Note:
    """The note on commit ``rev`` (an empty Note when it has none)."""
    commit = _notes_commit(project)
    if commit is None:
        return Note(rev)
    entries = project.git.sized_tree_entries(commit, (rev, f"{rev[:2]}/{rev[2:]}"), recursive=False)
    for _mode, kind, oid, size, _path in entries:
        refused = _unreadable(rev, kind, size)
        if refused is not None:
            return refused
        found = project.git.read_object(oid)
        return parse_note(rev, found[2]) if found and found[1] == "blob" else Note(rev, error="missing")
    return Note(rev)


# -- writing --------------------------------------------------------------------------
@contextlib.contextmanager
def _notes_lock(project: Project) -> Iterator[None]:
    """One writer at a time: ``git notes add`` rewrites the ref without a compare-and-swap,
    so two writers at once would lose one note."""
    path = project.notes_lock_file
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def encode(note: Note) -> bytes:
    """The stored form: one line of JSON (``git notes`` strips trailing blank lines)."""
    return json.dumps({"tags": list(note.tags), "text": note.text}, ensure_ascii=False, sort_keys=True).encode()


def update_note(
    project: Project,
    rev: str,
    text: str | None = None,
    add: list[str] | None = None,
    remove: list[str] | None = None,
    clear: bool = False,
) -> Note:
    """Change the note on commit ``rev``: ``text`` replaces its text (``""`` removes it),
    ``add``/``remove`` change its tags, ``clear`` drops the whole note first. Returns
    the note as stored; nothing changes if an argument is refused.

    Raises:
        NoteError: a bad text or tag, or a stored note that cannot be read (without ``clear``).
        GitError: git could not write the note (no identity, a read-only repository).
    """
    new_text = None if text is None else check_text(text)
    adding = [check_tag(t) for t in add or []]
    removing = {t.strip() for t in remove or []}
    with _notes_lock(project):
        current = Note(rev) if clear else read_note(project, rev)
        if current.error is not None:
            raise NoteError(f"The stored note on {rev[:7]} cannot be read ({current.error}); replace it with --clear.")
        tags = [t for t in current.tags if t not in removing]
        tags += [t for t in dict.fromkeys(adding) if t not in tags]
        if len(tags) > MAX_TAGS:
            raise NoteError(f"{len(tags)} tags on one experiment; keep it to {MAX_TAGS}.")
        note = replace(current, text=current.text if new_text is None else new_text, tags=tuple(tags))
        if note == current and not clear:
            return note
        if note.empty:
            project.git.notes_remove(NOTES_REF, rev)
        else:
            project.git.notes_add(NOTES_REF, rev, encode(note))
        return note


# -- sharing --------------------------------------------------------------------------
def merge_notes(project: Project, git_remote: str) -> str | None:
    """Fetch the remote's notes and merge them into ours (``exp pull`` calls this): a note
    only the remote changed is taken, one changed on both sides keeps ours. Returns the
    remote's notes commit (None: it has no notes).

    Raises:
        NoteError: the remote's notes are not a notes history (ours stay as they were).
        GitError: git could not fetch or merge.
    """
    try:
        project.git.fetch(git_remote, [f"+{NOTES_REF}:{NOTES_INCOMING_REF}"])
    except GitError as exc:
        if "couldn't find remote ref" in exc.stderr:
            return None
        raise
    try:
        incoming = project.git.rev_parse(NOTES_INCOMING_REF)
        if incoming is None:
            raise NoteError(f"{NOTES_REF} on '{git_remote}' is not a notes history")
        with _notes_lock(project):
            if _notes_commit(project) is None:
                project.git.update_ref(NOTES_REF, incoming, "0" * 40)
            else:
                project.git.notes_merge(NOTES_REF, NOTES_INCOMING_REF, strategy="ours")
    finally:
        project.git.delete_ref(NOTES_INCOMING_REF, check=False)
    return incoming
