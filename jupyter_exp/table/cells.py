"""The table's cells: each row's value in each column (info, notes, params, metrics,
deps), flattened once per row, and how a value is drawn."""

from __future__ import annotations

from typing import Any

from ..experiments.annotations import ANNOTATION_COLUMNS, HEADERS, Annotations, annotation_of
from ..experiments.collect import ExpRow
from ..experiments.columns import ERROR, MISSING, Column, value
from ..render.text import format_value
from .filters import PRECISION, when
from .reasons import BROKEN

# Note, Tags and Message (annotations.py): shown after the info columns when a row has one.
NOTE_COLUMNS = {c: HEADERS[c] for c in ANNOTATION_COLUMNS}


def cell(row: ExpRow, column: str, cols: dict[str, Column], annotations: Annotations | None = None) -> Any:
    """The native value of a row's cell, or None when it has none (tags: ``a, b``)."""
    if column in NOTE_COLUMNS:
        return _annotation(row, column, annotations)
    if column == "experiment":
        return "workspace" if row.kind == "workspace" else row.name or row.rev[:7]
    if column == "state":
        return row.state
    if column == "created":
        return row.created
    v = value(row, cols[column])
    return None if v in (MISSING, ERROR) else v


def _annotation(row: ExpRow, column: str, annotations: Annotations | None) -> str | None:
    found = annotation_of(annotations, row)
    v = found.value(column) if found is not None else None
    return ", ".join(v) if isinstance(v, tuple) else v


class Cells:
    """Every cell of every row, each params/metrics file flattened once per row (a
    thousand rows by twenty columns would otherwise flatten each file twenty times)."""

    def __init__(self, cols: dict[str, Column], annotations: Annotations | None = None) -> None:
        self.cols = cols
        self.annotations = annotations or {}
        self._rows: dict[int, dict[str, Any]] = {}

    def values(self, row: ExpRow) -> dict[str, Any]:
        known = self._rows.get(id(row))
        if known is None:
            known = {"experiment": cell(row, "experiment", self.cols), "state": row.state, "created": row.created}
            for column in NOTE_COLUMNS:
                known[column] = _annotation(row, column, self.annotations)
            noted = self.annotations.get(row.rev) if row.kind != "workspace" else None
            if noted is not None and noted.error is not None:
                known["note"] = BROKEN
            flat: dict[tuple[str, str], dict | object | None] = {}  # a file's values, None or BROKEN
            for cid, col in self.cols.items():
                if col.group == "deps":
                    known[cid] = cell(row, cid, self.cols)
                    continue
                where = (col.group, col.file)
                if where not in flat:
                    entry = getattr(row.data, col.group).get(col.file)
                    flat[where] = None if entry is None else BROKEN if entry.error is not None else entry.flat
                data = flat[where]
                known[cid] = data.get(col.key) if isinstance(data, dict) else data
            self._rows[id(row)] = known
        return known

    def get(self, row: ExpRow, column: str) -> Any:
        v = self.values(row)[column]
        return None if v is BROKEN else v

    def broken(self, row: ExpRow) -> bool:
        """Whether a cell of ``row`` comes from a file (or note) that cannot be read."""
        return any(v is BROKEN for v in self.values(row).values())


def noted_columns(annotations: Annotations | None) -> set[str]:
    """The Note, Tags and Message columns some row fills (an unreadable note fills Note
    with ``!``): read from the annotations, not from every row."""
    found: set[str] = set()
    for annotation in (annotations or {}).values():
        found.update(c for c in NOTE_COLUMNS if annotation.value(c) is not None)
        if annotation.error is not None:
            found.add("note")
    return found


def column_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "number"
    return "text"


def _display(v: Any, column: str) -> str:
    if column == "created":
        return when(v)
    return format_value(v, PRECISION)  # None: MISSING
