"""DVC's ``--json`` shapes for every engine record, so tools that read DVC's output
read ours: ``exp show`` (a list of ExpState), ``exp diff``/``params diff``/``metrics
diff`` (``{path: {key: {"old", "new"[, "diff"]}}}``) and ``metrics show``
(``{rev: {"data": {file: {"data"|"error"}}}}``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from ..values import DiffRow, FileValues

if TYPE_CHECKING:
    from ..experiments.annotations import Annotations
    from ..experiments.collect import ExpRow
    from ..experiments.diff import ExpDiff


def dumps(data: Any, tty: bool) -> str:
    """JSON as DVC writes it: indented for a terminal, compact (and C-encoded, ten
    times faster) when piped."""
    return json.dumps(data, indent=2 if tty else None, default=str)


def files(values: dict[str, FileValues]) -> dict[str, dict]:
    """``{file: {"data": nested}}`` or ``{file: {"error": {"type", "msg"}}}``."""
    return {path: v.to_dvc() for path, v in values.items()}


# -- differences ---------------------------------------------------------------------
def diff_dict(rows: list[DiffRow]) -> dict[str, dict]:
    """``{path: {key: {"old", "new"[, "diff"]}}}`` as DVC's ``diff``: ``diff`` when both
    sides are numbers (bools included, as Python counts them)."""
    out: dict[str, dict] = {}
    for row in rows:
        item = {"old": row.old, "new": row.new}
        if isinstance(row.old, (int, float)) and isinstance(row.new, (int, float)):
            item["diff"] = row.new - row.old
        out.setdefault(row.path, {})[row.key] = item
    return out


def diff_json(rows: list[DiffRow], with_change: bool = True, tty: bool = False) -> str:
    """``params diff --json`` / ``metrics diff --json``."""
    return dumps(diff_dict(rows), tty)


def exp_diff(result: ExpDiff, tty: bool = False) -> str:
    """``dvc exp diff --json``."""
    return dumps({"metrics": diff_dict(list(result.metrics)), "params": diff_dict(list(result.params))}, tty)


# -- metrics show -------------------------------------------------------------------
def metrics_show(shown: dict[str, dict[str, FileValues]]) -> dict[str, dict]:
    """``dvc metrics show --json``'s shape: ``{rev: {"data": {file: {"data": nested}}}}``."""
    return {rev: {"data": files(values)} for rev, values in shown.items()}


# -- exp show -------------------------------------------------------------------------
def _iso(ts: int | None) -> str | None:
    return dt.datetime.fromtimestamp(ts).isoformat() if ts is not None else None


def _serializable(row: ExpRow, annotations: Annotations | None = None) -> dict:
    return {
        "rev": row.rev,
        "timestamp": _iso(row.created) if row.kind != "workspace" else None,
        "params": files(row.data.params),
        "metrics": files(row.data.metrics),
        "deps": row.data.deps,
        "outs": row.data.outs,
        "meta": _meta(row, annotations),
    }


def _meta(row: ExpRow, annotations: Annotations | None) -> dict:
    """DVC's free-form ``meta`` (always ``{}`` from DVC): the row's note, tags and
    message when it has any, keys DVC's readers do not look for."""
    from ..experiments.annotations import annotation_of

    found = annotation_of(annotations, row)
    if found is None:
        return {}
    meta: dict = {}
    if found.error is not None:
        meta["note_error"] = found.error
    if found.note:
        meta["note"] = found.note
    if found.tags:
        meta["tags"] = list(found.tags)
    if found.message:
        meta["message"] = found.message
    if found.trial:
        meta["trial"] = found.trial
    return meta


def _state(row: ExpRow, annotations: Annotations | None = None) -> dict:
    return {
        "rev": row.rev,
        "name": row.name if row.kind != "workspace" else None,
        "data": _serializable(row, annotations),
        "error": {"msg": row.data.error, "type": ""} if row.data.error else None,
        "experiments": None,
    }


def exp_show(rows: list[ExpRow], annotations: Annotations | None = None) -> list[dict]:
    """DVC's list-of-ExpState shape (``dvc exp show --json`` since 2.55); a checkpoint
    experiment lists its steps in ``revs``, newest first, as DVC 2 chains did; a
    baseline without experiments has ``experiments: null``, as DVC writes it.
    ``annotations``: notes, tags and messages go into each row's ``data.meta``."""
    result: list[dict] = []
    current: dict | None = None
    for row in rows:
        if row.kind == "workspace":
            result.append(_state(row))
        elif row.kind == "baseline":
            current = _state(row, annotations)
            result.append(current)
        elif current is None:
            continue
        elif row.kind == "checkpoint" and current["experiments"]:
            current["experiments"][-1]["revs"].append(_state(row, annotations))
        else:
            executor = None
            if row.state and row.state != "success":
                executor = {
                    "state": row.state,
                    "name": "jupyter-exp",
                    "local": {"root": None, "log": None, "pid": None, "returncode": None, "task_id": None},
                }
            if current["experiments"] is None:
                current["experiments"] = []
            current["experiments"].append({"name": row.name, "executor": executor, "revs": [_state(row, annotations)]})
    return result
