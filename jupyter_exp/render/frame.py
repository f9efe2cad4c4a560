"""pandas DataFrames for every engine record, with native types: ints stay ints
where a row lacks the value, floats stay floats. Imported only when a frame is asked
for (pandas is heavy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..experiments.columns import ERROR, MISSING, Column, value
from ..values import DiffRow, FileValues

if TYPE_CHECKING:
    from ..experiments.annotations import Annotations
    from ..experiments.collect import ExpRow
    from ..experiments.comparison import Comparison
    from ..experiments.queue_store import QueueEntry

INFO = ["experiment", "rev", "baseline", "kind", "state", "created", "parent", "step"]


def experiments(rows: list[ExpRow], cols: list[Column], annotations: Annotations | None = None) -> pd.DataFrame:
    """One row per workspace / baseline / experiment, a column per param and metric
    (``params.<label>``, ``metrics.<label>``); a missing or unreadable value is None.
    With ``annotations``: ``note``, ``tags`` (comma-separated) and ``message`` columns
    after the info columns, and ``trial`` when an Optuna search ran some of them."""
    from ..experiments.annotations import annotation_of

    notes = ["note", "tags", "message"] if annotations is not None else []
    if annotations and any(a.trial for a in annotations.values()):
        notes.append("trial")
    records = []
    for row in rows:
        record: dict[str, Any] = {
            "experiment": "workspace" if row.kind == "workspace" else row.name or row.rev[:7],
            "rev": row.rev,
            "baseline": row.baseline,
            "kind": row.kind,
            "state": row.state,
            "created": pd.Timestamp(row.created, unit="s", tz="UTC") if row.created is not None else pd.NaT,
            "parent": row.parent,
            "step": row.step,
        }
        if annotations is not None:
            found = annotation_of(annotations, row)
            record["note"] = found.note or None if found else None
            record["tags"] = ", ".join(found.tags) or None if found else None
            record["message"] = found.message or None if found else None
            record["trial"] = found.trial or None if found else None
        for col in cols:
            v = value(row, col)
            record[f"{col.group}.{col.label}"] = None if v in (MISSING, ERROR) else v
        records.append(record)
    data_cols = [f"{c.group}.{c.label}" for c in cols]
    frame = pd.DataFrame.from_records(records, columns=INFO + notes + data_cols)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    frame["step"] = frame["step"].astype("Int64")
    for name in data_cols:
        # From the values as read: the frame has already turned a missing int into NaN.
        dtype = _dtype([r[name] for r in records if r[name] is not None])
        if dtype:
            frame[name] = frame[name].astype(dtype)
    return frame


def _dtype(values: list[Any]) -> str | None:
    """A nullable pandas dtype that keeps the Python type of every value, if one does.

    Ints stay ints when a row lacks the value (no float NaN), and floats stay floats
    even when they happen to be whole.
    """
    if not values:
        return None
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Int64"
    if all(isinstance(v, float) for v in values):
        return "Float64"
    if all(isinstance(v, str) for v in values):
        return "string"
    return None


def diff(rows: list[DiffRow]) -> pd.DataFrame:
    """``path, key, old, new, change``, one row per DiffRow."""
    data = [{"path": r.path, "key": r.key, "old": r.old, "new": r.new, "change": r.change} for r in rows]
    return pd.DataFrame(data, columns=["path", "key", "old", "new", "change"])


def exp_diff(metrics: list[DiffRow], params: list[DiffRow]) -> pd.DataFrame:
    """Both tables of ``exp diff``, a ``kind`` column (metric, param) first."""
    frames = []
    for kind, rows in (("metric", metrics), ("param", params)):
        frame = diff(rows)
        frame.insert(0, "kind", kind)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def comparison(result: Comparison) -> pd.DataFrame:
    """An N-way compare: a row per param or metric that differs, indexed as ``show()``'s
    columns (``metrics.acc``, ``params.train.lr``); a column per side (None where it lacks
    the value), then ``Δ <name>`` (the difference from the reference) per other side.
    ``attrs["reference"]`` names the reference."""
    others = [(i, n) for i, n in enumerate(result.names) if i != result.reference]
    records = []
    for row in result.rows:
        record: dict[str, Any] = dict(zip(result.names, row.values))
        record.update({f"Δ {name}": row.deltas[i] for i, name in others})
        records.append(record)
    columns = [*result.names, *(f"Δ {name}" for _, name in others)]
    index = pd.Index([r.column for r in result.rows], name="column")
    frame = (
        pd.DataFrame.from_records(records, columns=columns, index=index)
        if records
        else pd.DataFrame(columns=columns, index=index)
    )
    frame.attrs["reference"] = result.reference_name
    return frame


def metrics(shown: dict[str, dict[str, FileValues]]) -> pd.DataFrame:
    """``rev, path, metric, value``, one row per metric of each file and revision."""
    rows = [
        {"rev": rev or "workspace", "path": path, "metric": key, "value": metric}
        for rev, files in shown.items()
        for path, values in files.items()
        for key, metric in values.flat.items()
    ]
    return pd.DataFrame(rows, columns=["rev", "path", "metric", "value"])


def queue(entries: list[QueueEntry]) -> pd.DataFrame:
    """One row per queue entry, its state and the experiment it made."""
    rows = [
        {
            "id": e.id,
            "name": e.name,
            "created": pd.Timestamp(e.created, unit="s", tz="UTC"),
            "state": e.state,
            "baseline": e.baseline,
            "error": e.error,
            "experiment_rev": e.exp_rev,
        }
        for e in entries
    ]
    return pd.DataFrame(rows, columns=["id", "name", "created", "state", "baseline", "error", "experiment_rev"])
