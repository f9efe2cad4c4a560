"""What the experiment table shows: pure functions from experiment rows and the
table's preferences to the rows and columns on screen. No widget, no IPython here;
the controller (controller.py) holds the result, and each host (the notebook widget,
the JupyterLab panel) only shows it and forwards clicks."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import JupyterExpError
from ..experiments.collect import ExpData, ExpRow
from ..experiments.columns import ERROR, MISSING, Column, value
from ..overrides import literal
from ..params import DEFAULT_PARAMS_FILE
from ..render.text import format_value

if TYPE_CHECKING:
    from .view_memo import ViewMemo

# The info columns, by id; params and metrics columns are "params.<label>", "metrics.<label>".
INFO_COLUMNS = {"experiment": "Experiment", "state": "State", "created": "Created"}
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "contains", "empty", "before", "after")
PRECISION = 5


class FilterError(JupyterExpError):
    """A filter that cannot be applied: unknown column or operator, or a bad value."""


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str = ""

    def describe(self) -> str:
        return f"{self.column} {self.op} {self.value}".rstrip()


@dataclass(frozen=True)
class TableState:
    """The table's preferences: what the user chose, persisted per project."""

    sort: tuple[tuple[str, str], ...] = ()  # (column id, "asc" | "desc"), first is primary
    filters: tuple[Filter, ...] = ()
    only_changed: bool = False
    hidden: tuple[str, ...] = ()
    order: tuple[str, ...] = ()  # column ids in the user's order; others follow
    starred: tuple[str, ...] = ()  # row keys
    starred_only: bool = False
    expanded: tuple[str, ...] = ()  # row keys of experiments whose checkpoints show
    colours: tuple[tuple[str, str], ...] = ()  # (experiment name, plot colour), once plotted

    def to_json(self) -> dict:
        data = asdict(self)
        data["sort"] = [list(s) for s in self.sort]
        data["filters"] = [asdict(f) for f in self.filters]
        data["colours"] = dict(self.colours)
        for key in ("hidden", "order", "starred", "expanded"):  # JSON's lists, as a host receives them
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict) -> TableState:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["sort"] = tuple((str(c), "desc" if d == "desc" else "asc") for c, d in known.get("sort", ()))
        known["filters"] = tuple(Filter(**f) for f in known.get("filters", ()))
        for key in ("hidden", "order", "starred", "expanded"):
            known[key] = tuple(known.get(key, ()))
        known["colours"] = tuple((str(k), str(v)) for k, v in dict(known.get("colours") or {}).items())
        return cls(**known)


def row_key(row: ExpRow) -> str:
    """A row's identity across refreshes (stars and expansion follow it)."""
    if row.kind == "workspace":
        return "workspace"
    if row.kind == "experiment" and row.name:
        return f"{(row.baseline or '')[:7]}/{row.name}"
    return row.rev


def column_id(col: Column) -> str:
    return f"{col.group}.{col.label}"


# -- state changes (each returns a new state) -------------------------------------------
def toggle_sort(state: TableState, column: str, add: bool) -> TableState:
    """A click on a header: asc, then desc, then unsorted. ``add`` (shift+click) keeps
    the other sort columns, as secondary keys."""
    current = dict(state.sort)
    following = {None: "asc", "asc": "desc", "desc": None}[current.get(column)]
    sort = [s for s in state.sort if s[0] != column] if add else []
    if following:
        if add and column in current:
            sort = [(c, following if c == column else d) for c, d in state.sort]
        else:
            sort.append((column, following))
    return replace(state, sort=tuple(sort))


def add_filter(state: TableState, flt: Filter, columns: dict[str, str]) -> TableState:
    """Add a filter after checking it; ``columns`` maps column ids to their types."""
    if flt.column not in columns:
        raise FilterError(f"Unknown column '{flt.column}' for a filter; pick one of the table's columns.")
    if flt.op not in OPERATORS:
        raise FilterError(f"Unknown filter operator '{flt.op}'; use one of {', '.join(OPERATORS)}.")
    _operand(flt, columns[flt.column])  # raises on a value that cannot be compared
    return replace(state, filters=state.filters + (flt,))


def toggle(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return tuple(i for i in items if i != item) if item in items else items + (item,)


def move_column(state: TableState, ids: list[str], column: str, by: int) -> TableState:
    order = list(ordered(ids, state.order))
    if column not in order:
        raise FilterError(f"Unknown column '{column}'.")
    i = order.index(column)
    j = max(0, min(len(order) - 1, i + by))
    order.insert(j, order.pop(i))
    return replace(state, order=tuple(order))


def ordered(ids: list[str], order: tuple[str, ...]) -> list[str]:
    """``ids`` in the user's order; ids the user never placed keep their own order."""
    placed = [i for i in order if i in ids]
    rest = [i for i in ids if i not in placed]
    return placed + rest


# -- cells ------------------------------------------------------------------------------
def cell(row: ExpRow, column: str, cols: dict[str, Column]) -> Any:
    """The native value of a row's cell, or None when it has none."""
    if column == "experiment":
        return "workspace" if row.kind == "workspace" else row.name or row.rev[:7]
    if column == "state":
        return row.state
    if column == "created":
        return row.created
    v = value(row, cols[column])
    return None if v in (MISSING, ERROR) else v


BROKEN = _BROKEN = object()  # a cell of a file that failed to parse (not a str: values can be "!")


class Cells:
    """Every cell of every row, each params/metrics file flattened once per row (a
    thousand rows by twenty columns would otherwise flatten each file twenty times)."""

    def __init__(self, cols: dict[str, Column]) -> None:
        self.cols = cols
        self._rows: dict[int, dict[str, Any]] = {}

    def values(self, row: ExpRow) -> dict[str, Any]:
        known = self._rows.get(id(row))
        if known is None:
            known = {"experiment": cell(row, "experiment", self.cols), "state": row.state, "created": row.created}
            flat: dict[tuple[str, str], dict | None] = {}
            for cid, col in self.cols.items():
                if col.group == "deps":
                    known[cid] = cell(row, cid, self.cols)
                    continue
                where = (col.group, col.file)
                if where not in flat:
                    entry = getattr(row.data, col.group).get(col.file)
                    flat[where] = None if entry is None else _BROKEN if entry.error is not None else entry.flat
                data = flat[where]
                known[cid] = _BROKEN if data is _BROKEN else None if data is None else data.get(col.key)
            self._rows[id(row)] = known
        return known

    def get(self, row: ExpRow, column: str) -> Any:
        v = self.values(row)[column]
        return None if v is _BROKEN else v


def column_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "number"
    return "text"


def _parse_date(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(f"'{text}' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    if when.tzinfo is None:
        when = when.astimezone()  # as the user reads the Created column: local time
    return when.timestamp()


def _operand(flt: Filter, kind: str) -> Any:
    if flt.op == "empty":
        return None
    if flt.op in ("before", "after"):
        if kind != "date":
            raise FilterError(f"'{flt.op}' compares dates; use <, > on '{flt.column}'.")
        return _parse_date(flt.value)
    if kind == "date":
        if flt.op == "contains":
            return flt.value
        return _parse_date(flt.value)
    if kind == "number" and flt.op in ("<", "<=", ">", ">=", "=", "!="):
        try:
            return float(flt.value)
        except ValueError:
            if flt.op in ("=", "!="):
                return flt.value
            raise FilterError(f"'{flt.value}' is not a number; '{flt.column}' {flt.op} needs one.") from None
    return flt.value


def matches(flt: Filter, v: Any, kind: str) -> bool:
    """Whether a cell's value passes the filter (a missing value passes only 'empty'
    and '!=')."""
    operand = _operand(flt, kind)
    if flt.op == "empty":
        return v is None or v == ""
    if v is None:
        return flt.op == "!="
    if flt.op == "contains":
        shown = format_value(v, PRECISION) if kind != "date" else _when(v)
        return str(operand).lower() in shown.lower()
    if flt.op in ("before", "after"):
        return v < operand if flt.op == "before" else v > operand
    if isinstance(operand, float) and isinstance(v, (int, float)) and not isinstance(v, bool):
        a, b = float(v), operand
    else:
        a, b = format_value(v, None), str(operand)
        if flt.op in ("=", "!="):
            return (a == b) == (flt.op == "=")
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[flt.op]


def _when(ts: int | None) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _display(v: Any, column: str) -> str:
    if column == "created":
        return _when(v)
    return format_value(v, PRECISION)  # None: MISSING


def with_running(rows: list[ExpRow], progress: dict[str, dict]) -> list[ExpRow]:
    """``rows`` plus a row for each experiment that runs in a workspace now and has no
    commit yet (a foreground ``exp run`` announces itself), under its baseline."""
    result = list(rows)
    if not any(not event.get("rev") and event.get("baseline") for event in progress.values()):
        return result  # no run without a commit yet (the usual case: no pass over 10,000 rows)
    known = {(r.baseline, r.name) for r in rows if r.kind == "experiment"}
    for name, event in progress.items():
        baseline = event.get("baseline")
        if event.get("rev") or not baseline or (baseline, name) in known:
            continue
        row = ExpRow(
            "",
            "experiment",
            ExpData(),
            name=name,
            baseline=baseline,
            state="running",
            created=int(event.get("started") or 0) or None,
            parent=baseline,
        )
        at = next((i + 1 for i, r in enumerate(result) if r.kind == "baseline" and r.rev == baseline), None)
        if at is not None:
            result.insert(at, row)
    return result


# -- the view ---------------------------------------------------------------------------
class Block(NamedTuple):
    """A top-level row (workspace, baseline) or an experiment with its checkpoints."""

    head: ExpRow
    children: tuple[ExpRow, ...] = ()


def blocks(rows: list[ExpRow]) -> list[Block]:
    grouped: list[tuple[ExpRow, list[ExpRow]]] = []
    for row in rows:
        if row.kind == "checkpoint" and grouped and grouped[-1][0].kind == "experiment":
            grouped[-1][1].append(row)
        else:
            grouped.append((row, []))
    return [Block(head, tuple(children)) for head, children in grouped]


def _usable(flt: Filter, kind: str | None) -> bool:
    """A saved filter still applies: its column exists and its value fits the column
    (a column's type can change as experiments come and go)."""
    if kind is None:
        return False
    try:
        _operand(flt, kind)
    except FilterError:
        return False
    return True


def _sort_key(v: Any, kind: str):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return (1, 0)
    if kind in ("number", "date"):
        return (0, float(v))
    return (0, format_value(v, None).lower())


def build(
    rows: list[ExpRow],
    cols: list[Column],
    state: TableState,
    progress: dict[str, dict] | None = None,
    memo: ViewMemo | None = None,
) -> dict:
    """The table as the front end draws it: visible columns (grouped), rows in order
    with depth and flags, formatted cells, counts, and every column for the menus.

    Saved filters and sort keys that no longer fit (their column is gone, or its type
    changed) are left out, and listed under ``inactive_filters``. ``memo``: what the
    last build of this table derived, reused where its rows are the same objects.
    """
    by_id = {column_id(c): c for c in cols}
    cells = memo.cells(by_id) if memo is not None else Cells(by_id)
    data_ids = list(by_id)
    kinds: dict[str, str] = {"experiment": "text", "state": "text", "created": "date"}
    if memo is not None:
        kinds.update(memo.kinds(rows[:2000]))
    else:
        for cid in data_ids:
            kinds[cid] = column_type([cells.get(r, cid) for r in rows[:2000]])
    progress = progress or {}
    if memo is not None and (patched := memo.patched(rows, cells, state, kinds, progress)) is not None:
        return patched
    filters = [f for f in state.filters if _usable(f, kinds.get(f.column))]
    sort = [(c, d) for c, d in state.sort if c in kinds]

    groups = blocks(rows)
    starred = set(state.starred)
    out_blocks: list[Block] = []
    pending: list[Block] = []

    everything = not filters and not state.starred_only

    def passes(block: Block) -> bool:
        head = block.head
        if head.kind in ("workspace", "baseline"):
            return True
        if state.starred_only and row_key(head) not in starred:
            return False
        return all(matches(f, cells.get(head, f.column), kinds[f.column]) for f in filters)

    def flush() -> None:
        kept = list(pending) if everything else [b for b in pending if passes(b)]
        for column, direction in reversed(sort):  # stable sorts, last key first
            present = [b for b in kept if cells.get(b.head, column) is not None]
            absent = [b for b in kept if cells.get(b.head, column) is None]
            present.sort(key=lambda b: _sort_key(cells.get(b.head, column), kinds[column]), reverse=direction == "desc")
            kept = present + absent  # missing values last, whichever the direction
        out_blocks.extend(kept)
        pending.clear()

    for block in groups:
        if block.head.kind in ("workspace", "baseline"):
            flush()
            out_blocks.append(block)
        else:
            pending.append(block)
    flush()

    shown_rows = [b.head for b in out_blocks]
    visible_data = data_ids
    if state.only_changed:
        visible_data = [cid for cid in data_ids if len({repr(cells.get(r, cid)) for r in shown_rows}) > 1]
    all_ids = ordered(list(INFO_COLUMNS) + data_ids, state.order)
    visible = [cid for cid in all_ids if cid not in state.hidden and (cid in INFO_COLUMNS or cid in visible_data)]

    expanded = set(state.expanded)
    out_rows = []
    make = memo.row if memo is not None else _unmemoized_row
    key_of = memo.key if memo is not None else row_key
    for block in out_blocks:
        head = block.head
        key = key_of(head)
        out_rows.append(
            make(
                head,
                visible,
                cells,
                key,
                0 if head.kind in ("workspace", "baseline") else 1,
                key in starred,
                len(block.children),
                key in expanded,
                progress.get(head.name or "") if head.kind == "experiment" else None,
            )
        )
        if key in expanded:
            for child in block.children:
                out_rows.append(make(child, visible, cells, key_of(child), 2, False, 0, False, None))
    if memo is not None:
        memo.keep_only(rows)
    experiments = [b.head for b in groups if b.head.kind == "experiment"]
    by_state = Counter(r.state or "success" for r in experiments)
    counts = {s: by_state[s] for s in ("queued", "running", "failed", "success")}
    counts["experiments"] = len(experiments)
    counts["shown"] = sum(1 for b in out_blocks if b.head.kind == "experiment")
    table = {
        "columns": [_column(cid, by_id, kinds) for cid in visible],
        "all_columns": [dict(_column(cid, by_id, kinds), hidden=cid in state.hidden) for cid in all_ids],
        "rows": out_rows,
        "counts": counts,
        "operators": list(OPERATORS),
        "inactive_filters": [i for i, f in enumerate(state.filters) if f not in filters],
    }
    if memo is not None:
        memo.remember(rows, state, kinds, visible, progress, table)
    return table


def _column(cid: str, by_id: dict[str, Column], kinds: dict[str, str]) -> dict:
    if cid in INFO_COLUMNS:
        return {"id": cid, "label": INFO_COLUMNS[cid], "group": "info", "type": kinds[cid]}
    col = by_id[cid]
    return {"id": cid, "label": col.label, "group": col.group, "file": col.file, "type": kinds[cid]}


def _unmemoized_row(row: ExpRow, visible: list[str], cells: Cells, key: str, *args: Any) -> dict:
    return _row(row, key, visible, cells, *args)


def _row(
    row: ExpRow,
    key: str,
    visible: list[str],
    cells: Cells,
    depth: int,
    starred: bool,
    children: int,
    expanded: bool,
    progress: dict | None,
) -> dict:
    values = cells.values(row)
    shown = [ERROR if values[cid] is _BROKEN else _display(values[cid], cid) for cid in visible]
    return {
        "key": key,
        "kind": row.kind,
        "depth": depth,
        "rev": row.rev[:7] if row.kind != "workspace" else "",
        "state": row.state or "",
        "step": row.step,
        "starred": starred,
        "children": children,
        "expanded": expanded,
        "error": row.data.error or "",
        "cells": shown,
        "progress": progress,
    }


# -- queue again with modified params -----------------------------------------------
def param_fields(row: ExpRow, cols: list[Column]) -> list[dict]:
    """The row's params as editable fields: column id, file, key, ``-S`` text."""
    fields = []
    for col in cols:
        v = value(row, col) if col.group == "params" else MISSING
        if v not in (MISSING, ERROR):
            fields.append({"id": column_id(col), "file": col.file, "key": col.key, "value": literal(v)})
    return fields


def requeue_overrides(row: ExpRow, rows: list[ExpRow], cols: list[Column], edits: dict) -> list[str]:
    """``-S`` overrides that give the workspace ``row``'s params with ``edits`` (column
    id → ``-S`` text) on top: one for every param that differs from the workspace's."""
    workspace = next((r for r in rows if r.kind == "workspace"), None)
    current = {f["id"]: f["value"] for f in param_fields(workspace, cols)} if workspace else {}
    result = []
    for field in param_fields(row, cols):
        text = str(edits.get(field["id"], field["value"])).strip()
        if text != current.get(field["id"]):
            prefix = "" if field["file"] == DEFAULT_PARAMS_FILE else f"{field['file']}:"
            result.append(f"{prefix}{field['key']}={text}")
    return result
