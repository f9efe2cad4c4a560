"""The table as the user sees it (its sort, filters, expanded checkpoints and visible
columns), out of the table: a DataFrame for Python, CSV for a download.

Values are the native ones (full precision), not the five digits on screen: an export
is for computing with. The CSV is written as ``exp show --csv`` writes its cells
(empty where a row lacks a value, ``!`` where its file cannot be read, dates in ISO
form), with the table's own column names.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..errors import JupyterExpError
from ..experiments.columns import ERROR
from ..render.text import csv_text, format_value
from .reasons import BROKEN
from .view import Layout, column_info

if TYPE_CHECKING:
    import pandas

FORMATS = {"csv": "text/csv"}


def _native(out: Layout) -> list[list[Any]]:
    return [[out.cells.values(row)[cid] for cid in out.visible] for row, _, _ in out.shown]


def to_dataframe(out: Layout) -> pandas.DataFrame:
    """The visible rows, in order, with the visible columns, named as ``show()`` names
    them (``experiment``, ``created``, ``note``, ``params.lr``); ``created`` in UTC."""
    import pandas as pd

    records = []
    for values in _native(out):
        record = {}
        for cid, v in zip(out.visible, values):
            if cid == "created":
                v = pd.Timestamp(v, unit="s", tz="UTC") if v is not None else pd.NaT
            record[cid] = None if v is BROKEN else v
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=out.visible)
    if "created" in frame:
        frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame


def _csv_cell(v: Any, cid: str) -> str:
    if v is BROKEN:
        return ERROR
    if v is None:
        return ""
    if cid == "created":
        return dt.datetime.fromtimestamp(v).isoformat()
    return format_value(v, None)


def to_csv(out: Layout) -> str:
    """The visible rows and columns as CSV, headed by the labels on screen."""
    headers = [column_info(cid, out.by_id, out.kinds)["label"] for cid in out.visible]
    body = [[_csv_cell(v, cid) for cid, v in zip(out.visible, values)] for values in _native(out)]
    return csv_text(headers, body)


def download(out: Layout, fmt: str, name: str) -> dict:
    """What a front end offers to save: ``{"filename", "mime", "text"}``."""
    if fmt not in FORMATS:
        raise JupyterExpError(f"Unknown export format '{fmt}'; use {', '.join(FORMATS)}.")
    return {"filename": f"{name}.{fmt}", "mime": FORMATS[fmt], "text": to_csv(out)}
