"""The table's search studies (issue 19): one progress line for each study with trials
among the rows, the row of its best trial, and the filter that shows only its trials.

The lines come from ``annotations.study_progress``, read again only when a search
wrote to the study file: a live table asks on each refresh for two stats."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..experiments.annotations import study_progress, trial_labels
from ..experiments.collect import ExpRow
from ..project import Project
from .filters import STUDY_COLUMN, Filter
from .view import TableState, add_filter, row_key


@dataclass(frozen=True)
class StudyRows:
    """A study with trials in the table: its name, progress line and best trial's row key."""

    name: str
    line: str
    best_key: str | None


def study_of(label: str) -> str:
    """The study of a trial label (``st #3, best`` -> ``st``)."""
    return label.rsplit(" #", 1)[0]


def among(project: Project, rows: list[ExpRow]) -> list[StudyRows]:
    """The studies that have trials among ``rows``, by name, with their progress."""
    trials = trial_labels(project)
    if not trials:
        return []
    progress = study_progress(project)
    if not progress:
        return []
    named: dict[str, ExpRow] = {}
    shown: set[str] = set()
    for row in rows:
        if row.kind == "experiment" and row.name in trials:
            shown.add(study_of(trials[row.name]))
            if row.state not in ("queued", "failed"):  # (a failed run's entry may share the name)
                named[row.name] = row
    found = []
    for name in sorted(shown & progress.keys()):
        best = progress[name].best
        found.append(StudyRows(name, progress[name].line, row_key(named[best]) if best in named else None))
    return found


def study_filter(name: str) -> Filter:
    return Filter(STUDY_COLUMN, "study", name)


def lines(studies: list[StudyRows], prefs: TableState) -> list[dict]:
    """The studies as the table draws them above its rows; ``filtered``: the table shows
    only that study's trials."""
    return [
        {"name": s.name, "line": s.line, "best_key": s.best_key, "filtered": study_filter(s.name) in prefs.filters}
        for s in studies
    ]


def toggle_filter(prefs: TableState, name: str, columns: dict[str, str]) -> TableState:
    """Show only study ``name``'s trials (instead of another study's), or all again when
    they are what is shown. ``columns``: the table's column types."""
    flt = study_filter(name)
    if flt in prefs.filters:
        return replace(prefs, filters=tuple(f for f in prefs.filters if f != flt))
    others = tuple(f for f in prefs.filters if f.op != "study")
    return add_filter(replace(prefs, filters=others), flt, columns)
