"""Each search study's progress line, read straight from the study file without
importing Optuna: what ``study.status_line`` says (``23 / 40 trials, 3 running, best
0.914 (NAME-17)``), for the experiment table, which reads it again whenever a search
writes to the file. Same schema check as ``labels.py``: a file laid out otherwise gives
None, and the caller reads the study through Optuna instead.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .labels import BEST_ORDER, DIRECTIONS, SETUP_ATTR, STATE_WORDS, STATES, connect_read_only, known_schema

INFINITE = {"INF_NEG": float("-inf"), "INF_POS": float("inf")}


@dataclass(frozen=True)
class Progress:
    """A study's progress line and the experiment of its best trial (None before one completes)."""

    line: str
    best: str | None


def line_of(
    done: int, total: int, counts: dict[str, int], best: tuple[float, str] | None, asked: int | None = None
) -> str:
    """``23 / 40 trials, 3 running[, 2 pruned][, 1 failed], best 0.914 (st-17)``: the
    words of ``study.status_line``. ``counts``: trials by state word; ``asked``: the
    trial count asked for, when a grid of fewer points made it ``total``."""
    grid = f" (a grid of {total} points; {asked} asked)" if asked is not None and asked > total else ""
    parts = [f"{done} / {total} trials{grid}", f"{counts.get('running', 0)} running"]
    parts += [f"{counts[state]} {state}" for state in ("pruned", "failed") if counts.get(state)]
    parts.append(f"best {best[0]:.6g} ({best[1]})" if best is not None else "no best yet")
    return ", ".join(parts)


def read_progress(path: Path) -> dict[str, Progress] | None:
    """The progress of each search study in Optuna's SQLite file ``path``, by study
    name; None when the file is not laid out as expected (read it through Optuna then)."""
    connection = connect_read_only(path)
    if connection is None:
        return None
    try:
        with contextlib.closing(connection):
            return _progress(connection)
    except (sqlite3.Error, ValueError, TypeError, KeyError):  # a schema or values not as expected
        return None


def _progress(db: sqlite3.Connection) -> dict[str, Progress] | None:
    if not known_schema(db):
        return None
    setups = dict(db.execute("SELECT study_id, value_json FROM study_user_attributes WHERE key = ?", (SETUP_ATTR,)))
    found: dict[str, Progress] = {}
    for study_id, name in db.execute("SELECT study_id, study_name FROM studies ORDER BY study_id").fetchall():
        if study_id not in setups:
            continue  # not a study `exp run --search` started
        setup = json.loads(json.loads(setups[study_id]))  # (a JSON text kept as a JSON value)
        asked, points = int(setup["trials"]), setup.get("points")
        total = min(asked, int(points)) if points is not None else asked
        directions = db.execute("SELECT direction FROM study_directions WHERE study_id = ?", (study_id,)).fetchall()
        if len(directions) != 1 or directions[0][0] not in DIRECTIONS:
            return None
        counts: dict[str, int] = {}
        for state, count in db.execute(
            "SELECT state, COUNT(*) FROM trials WHERE study_id = ? GROUP BY state", (study_id,)
        ).fetchall():
            if state not in STATES:
                return None
            counts[STATE_WORDS[state]] = int(count)
        done = sum(counts.get(s, 0) for s in ("complete", "pruned", "failed"))
        best = db.execute(BEST_ORDER.format(order=DIRECTIONS[directions[0][0]]), (study_id,)).fetchone()
        shown: tuple[float, str] | None = None
        if best is not None:
            number, value, kind = db.execute(
                "SELECT t.number, v.value, v.value_type FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id "
                "WHERE t.trial_id = ? AND v.objective = 0",
                (best[0],),
            ).fetchone()
            named = db.execute(
                "SELECT value_json FROM trial_user_attributes WHERE trial_id = ? AND key = 'experiment'", (best[0],)
            ).fetchone()
            experiment = str(json.loads(named[0])) if named else f"{name}-{number + 1}"
            shown = (INFINITE[kind] if kind in INFINITE else float(value), experiment)
        found[name] = Progress(line_of(done, total, counts, shown, asked), shown[1] if shown else None)
    return found
