"""Trial labels read straight from the study file, without importing Optuna.

``exp show`` marks each trial of a search (``st #3, best``); importing Optuna for that
costs ~0.9 s of CPU (SQLAlchemy, its models, its samplers). The labels need four of
Optuna's tables (its RDB schema: studies, study directions, trials, their values and
user attributes), read here with the standard library's ``sqlite3``. A file whose
tables are not those (another Optuna's schema revision) gives None, and the caller reads the
study through Optuna instead.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

# The columns read, by table: what a file must have for this reader to trust it.
COLUMNS = {
    "studies": {"study_id", "study_name"},
    "study_directions": {"study_id", "direction", "objective"},
    "study_user_attributes": {"study_id", "key", "value_json"},
    "trials": {"trial_id", "number", "study_id", "state"},
    "trial_values": {"trial_id", "objective", "value", "value_type"},
    "trial_user_attributes": {"trial_id", "key", "value_json"},
}
# Optuna's schema revisions (alembic's) whose tables above are as read here: 3.2 to 5.0.
REVISIONS = {"v3.2.0.a"}
# Optuna's trial states, and the word each is shown as.
STATE_WORDS = {"RUNNING": "running", "COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "WAITING": "waiting"}
STATES = set(STATE_WORDS)
DIRECTIONS = {"MINIMIZE": "ASC", "MAXIMIZE": "DESC"}
SETUP_ATTR = "jupyter_exp"  # the study user attribute a search's setup is kept in (study.Setup)

# Optuna's order for the best trial: +-inf are kept as a type with no value.
BEST_ORDER = """
SELECT t.trial_id FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id
WHERE t.study_id = ? AND t.state = 'COMPLETE' AND v.objective = 0
ORDER BY CASE v.value_type WHEN 'INF_NEG' THEN -1 WHEN 'FINITE' THEN 0 WHEN 'INF_POS' THEN 1 END {order},
         v.value {order}
LIMIT 1
"""


def read_labels(path: Path) -> dict[str, str] | None:
    """``study #3``, ``study #3, best`` or ``study #4, pruned`` for each trial of each
    search study in Optuna's SQLite file ``path``, by experiment name; None when the
    file is not laid out as expected (read it through Optuna then)."""
    connection = connect_read_only(path)
    if connection is None:
        return None
    try:
        with contextlib.closing(connection):
            return _labels(connection)
    except (sqlite3.Error, ValueError, TypeError):  # a schema or values not as expected
        return None


def connect_read_only(path: Path) -> sqlite3.Connection | None:
    """``path`` opened read-only (never created), or None. The URI is quoted: a ``?``,
    ``#`` or ``%`` in the project's path must not cut it short or drop ``mode=ro``."""
    try:
        return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    except (sqlite3.Error, OSError, ValueError):
        return None


def known_schema(db: sqlite3.Connection) -> bool:
    """Whether the file's tables are those read here (Optuna's schema revision and columns)."""
    if {row[0] for row in db.execute("SELECT version_num FROM alembic_version")} - REVISIONS:
        return False  # a later Optuna's schema: its tables may mean something else
    for table, needed in COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}  # noqa: S608 - our own names
        if not needed <= have:
            return False
    return True


def _labels(db: sqlite3.Connection) -> dict[str, str] | None:
    if not known_schema(db):
        return None
    searches = {
        study_id
        for (study_id,) in db.execute("SELECT study_id FROM study_user_attributes WHERE key = ?", (SETUP_ATTR,))
    }
    labels: dict[str, str] = {}
    for study_id, name in db.execute("SELECT study_id, study_name FROM studies ORDER BY study_id").fetchall():
        if study_id not in searches:
            continue  # not a study `exp run --search` started
        directions = db.execute(
            "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective", (study_id,)
        ).fetchall()
        if len(directions) != 1 or directions[0][0] not in DIRECTIONS:
            return None
        best = db.execute(BEST_ORDER.format(order=DIRECTIONS[directions[0][0]]), (study_id,)).fetchone()
        experiments = dict(
            db.execute(
                "SELECT a.trial_id, a.value_json FROM trial_user_attributes a JOIN trials t ON t.trial_id = a.trial_id "
                "WHERE t.study_id = ? AND a.key = 'experiment'",
                (study_id,),
            ).fetchall()
        )
        trials = db.execute(
            "SELECT trial_id, number, state FROM trials WHERE study_id = ? ORDER BY number", (study_id,)
        )
        for trial_id, number, state in trials.fetchall():
            if state not in STATES:
                return None
            shown = number + 1  # 1-based, as in the experiment's name
            experiment = json.loads(experiments[trial_id]) if trial_id in experiments else f"{name}-{shown}"
            words = [
                *(["best"] if best is not None and best[0] == trial_id else []),
                *({"PRUNED": ["pruned"], "FAIL": ["failed"]}.get(state, [])),
            ]
            labels[str(experiment)] = ", ".join([f"{name} #{shown}", *words])
    return labels
