"""What people wrote about experiments, beside their params and metrics: the note and
tags (``notes.py``) and the ``exp run -m`` message, by commit, for the rows of ``exp
show`` and the table. Two git processes whatever the number of rows.

DVC writes ``dvc: commit experiment <hash>`` when no ``-m`` was given (so do we), and a
queued entry's snapshot says ``jupyter-exp queue: ...``: those say nothing a person
wrote, and show as no message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..project import Project
from .notes import Note, read_notes

if TYPE_CHECKING:
    from ..studies.progress import Progress
    from .collect import ExpRow

DEFAULT_MESSAGES = ("dvc: commit experiment ", "jupyter-exp queue: ")
ANNOTATION_COLUMNS = ("note", "tags", "message", "trial")  # their ids in the table and the DataFrame
HEADERS = {"note": "Note", "tags": "Tags", "message": "Message", "trial": "Trial"}
EDITABLE = ("note", "tags")  # what a person writes in the table; the others are read


@dataclass(frozen=True)
class Annotation:
    """A row's note, tags and message; ``error``: why its stored note cannot be read;
    ``trial``: which trial of an Optuna search the experiment is (``study #3, best``)."""

    note: str = ""
    tags: tuple[str, ...] = ()
    message: str = ""
    error: str | None = None
    trial: str = ""

    def value(self, column: str) -> str | tuple[str, ...] | None:
        """The cell of ``column`` (note, tags, message or trial): None when empty."""
        if column == "tags":
            return self.tags or None
        return {"note": self.note, "message": self.message, "trial": self.trial}[column] or None


Annotations = dict[str, Annotation]  # by commit (and by "commit@name": see annotation_of)


def annotation_of(annotations: Annotations | None, row: ExpRow) -> Annotation | None:
    """The annotation of ``row``: its commit's, unless experiments of one commit are
    different trials (two searches sampled the same params: one commit, two names); then
    each experiment's own, kept under ``commit@name``. The workspace has none."""
    if not annotations or row.kind == "workspace":
        return None
    return annotations.get(f"{row.rev}@{row.name}") or annotations.get(row.rev)


# Messages by commit, for this process: a commit never changes, and its SHA names it in
# any repository, so a live table's refreshes ask git only about commits it has not seen.
_known: set[str] = set()  # commits whose message was read
_said: dict[str, str] = {}  # those of them with a message a person wrote
MAX_KNOWN = 100_000


def messages(project: Project, revs: set[str]) -> dict[str, str]:
    """The commit message of each of ``revs`` that a person wrote (no git process for
    those seen before; the others read together)."""
    asked = list(revs - _known)
    if asked:
        found = project.git.commit_messages(asked)
        if len(_known) > MAX_KNOWN:
            _known.clear()
            _said.clear()
        for rev, body in found:
            body = body.strip()
            if body and not body.startswith(DEFAULT_MESSAGES):
                _said[rev] = body
        _known.update(rev for rev, _ in found)
    return {r: _said[r] for r in revs & _said.keys()}


def annotate(
    project: Project, rows: list[ExpRow], notes: dict[str, Note] | None = None, trials: dict[str, str] | None = None
) -> Annotations:
    """The annotation of every row that has one, by its commit (the workspace has none).
    Set operations, not a lookup per row: a live table of 10,000 rows calls this on
    each update. ``trials``: the trial of each searched experiment, by name (read from
    the project's studies when not given: :func:`trial_labels`)."""
    notes = read_notes(project) if notes is None else notes
    trials = trial_labels(project) if trials is None else trials
    committed = {r.rev for r in rows if r.kind in ("experiment", "checkpoint") and r.state != "queued"}
    said = messages(project, committed)
    noted = notes.keys() & {r.rev for r in rows if r.kind != "workspace"} if notes else set()
    carried = _carried_notes(rows, noted) if noted else {}
    tried = {r.rev: trials[r.name] for r in rows if r.kind == "experiment" and r.name in trials} if trials else {}
    result: Annotations = {}
    for rev in said.keys() | noted | carried.keys() | tried.keys():
        note = notes.get(rev) or notes.get(carried.get(rev, ""))
        message, trial = said.get(rev, ""), tried.get(rev, "")
        if note is None:
            result[rev] = Annotation(message=message, trial=trial)
        else:
            result[rev] = Annotation(note.text, note.tags, message, note.error, trial)
    # A commit that is two trials (two searches sampled the same params), or a trial and
    # an experiment run by hand: each experiment's own label.
    for row in rows if tried else []:
        own = trials.get(row.name or "", "")
        if row.kind == "experiment" and row.rev in tried and own != tried[row.rev]:
            result[f"{row.rev}@{row.name}"] = replace(result[row.rev], trial=own)
    return result


# The trial labels of the project's studies, by its study file's stat: read again only
# when a search wrote to it.
_trials: dict[str, tuple[tuple, dict[str, str]]] = {}


def trial_labels(project: Project) -> dict[str, str]:
    """``study #3``, ``study #3, best`` or ``study #4, pruned`` for each experiment an
    Optuna search (``exp run --search``) ran, by experiment name; {} without a search."""
    from ..studies.labels import read_labels

    # Straight from the file (no Optuna import, ~0.9 s of CPU); through Optuna only when
    # its tables are not the ones that reader knows.
    return _by_study_file(project, _trials, read_labels, _labels_through_optuna)


def _by_study_file(project: Project, kept: dict, read: Callable[[Path], Any], through_optuna: Callable) -> Any:
    """What ``read`` finds in the project's study file ({} without one), kept in ``kept``
    by the file's stat (and its ``-wal``'s: SQLite writes there first) and read again only
    when a search wrote to it; read by ``through_optuna`` when ``read`` cannot (None)."""
    from ..studies.study import STUDY_FILE

    path = project.search_dir / STUDY_FILE
    stamp = (_stat(path), _stat(path.with_name(path.name + "-wal")))
    if stamp[0] is None:
        return {}
    known = kept.get(str(path))
    if known is not None and known[0] == stamp:
        return known[1]
    found = read(path)
    if found is None:
        found = through_optuna(project)
        if found is None:
            return {}
    kept[str(path)] = (stamp, found)
    return found


def _labels_through_optuna(project: Project) -> dict[str, str] | None:
    """:func:`trial_labels` read by Optuna; None when it is not installed."""
    from ..errors import JupyterExpError
    from ..studies.study import study_names, trial_infos

    labels = {}
    try:
        for study in study_names(project):
            for t in trial_infos(project, study):
                words = [*(["best"] if t.best else []), *([t.state] if t.state in ("pruned", "failed") else [])]
                labels[t.experiment] = ", ".join([f"{t.study} #{t.number}", *words])
    except JupyterExpError:  # Optuna uninstalled since: the table shows no Trial column
        return None
    return labels


# Each study's progress line, by the study file's stat, as the trial labels.
_progress: dict[str, tuple[tuple, dict[str, Progress]]] = {}


def study_progress(project: Project) -> dict[str, Progress]:
    """Each search study's progress (``23 / 40 trials, 3 running, best 0.914 (st-17)``
    and its best experiment), by study name; {} without a search. Read again only when
    a search wrote to the study file (two stats otherwise), without importing Optuna
    unless the file's tables are not the ones ``studies.progress`` knows."""
    from ..studies.progress import read_progress

    return _by_study_file(project, _progress, read_progress, _progress_through_optuna)


def _progress_through_optuna(project: Project) -> dict[str, Progress] | None:
    """:func:`study_progress` read by Optuna; None when it is not installed."""
    from ..errors import JupyterExpError
    from ..studies.progress import Progress
    from ..studies.study import status_line, study_names, trial_infos

    found = {}
    try:
        names = study_names(project)
    except JupyterExpError:  # Optuna uninstalled since
        return None
    for study in names:
        try:
            best = next((t.experiment for t in trial_infos(project, study) if t.best), None)
            found[study] = Progress(status_line(project, study), best)
        except JupyterExpError:  # not a study `exp run --search` started
            continue
    return found


def _carried_notes(rows: list[ExpRow], noted: set[str]) -> dict[str, str]:
    """A checkpoint experiment that went on after a note was written on its tip: its
    row (the new tip) shows the newest note along its chain. Tip commit -> the noted
    checkpoint commit, for experiments whose tip has no note of its own. A commit in
    the chains of two experiments (one went on from the other's steps) is neither's to
    carry: its note stays on its own row."""
    owners: dict[str, set[tuple]] = {}
    for row in rows:
        if row.kind in ("experiment", "checkpoint") and row.rev in noted:
            owners.setdefault(row.rev, set()).add((row.baseline, row.name))
    newest: dict[tuple, ExpRow] = {}
    for row in rows:
        if row.kind == "checkpoint" and row.rev in noted and len(owners[row.rev]) == 1:
            key = (row.baseline, row.name)
            if key not in newest or (row.step or 0) > (newest[key].step or 0):
                newest[key] = row
    if not newest:
        return {}
    return {
        row.rev: newest[(row.baseline, row.name)].rev
        for row in rows
        if row.kind == "experiment" and (row.baseline, row.name) in newest and row.rev not in noted and row.rev
    }


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)
