"""What the experiment table shows: pure functions from experiment rows and the
table's preferences to the rows and columns on screen. No widget, no IPython here;
the controller (controller.py) holds the result, and each host (the notebook widget,
the JupyterLab panel) only shows it and forwards clicks."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from ..experiments.annotations import EDITABLE, Annotations
from ..experiments.collect import ExpData, ExpRow
from ..experiments.columns import ERROR, MISSING, Column, value
from ..overrides import literal
from ..params import DEFAULT_PARAMS_FILE
from ..render.text import format_value
from .cells import NOTE_COLUMNS, Cells, _display, column_type, noted_columns
from .filters import OPERATORS, OPERATORS_BY_TYPE, Filter, FilterError, check, matches, usable
from .reasons import BROKEN, cell_reasons, common_reasons

if TYPE_CHECKING:
    from .view_memo import ViewMemo

# The info columns, by id; params and metrics columns are "params.<label>", "metrics.<label>".
INFO_COLUMNS = {"experiment": "Experiment", "state": "State", "created": "Created"}
FILTER_NOTE = "Filters and Starred only choose experiments; the workspace and baseline rows always show."


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
    """A row's identity across refreshes (stars and expansion follow it), unique in a
    table: a queued or failed run is its queue entry's (``<baseline>/<name>@<snapshot>``),
    beside a run of the same name recorded, or another entry of that name; a checkpoint
    is its experiment's (two chains can share commits: ``more`` goes on from ``ck``)."""
    if row.kind == "workspace":
        return "workspace"
    if row.kind in ("experiment", "checkpoint") and row.name:
        key = f"{(row.baseline or '')[:7]}/{row.name}"
        if row.kind == "checkpoint":
            return f"{key}:{row.rev}"
        return f"{key}@{row.rev[:12]}" if row.state in ("queued", "failed") and row.rev else key
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
    check(flt, columns)
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


def with_running(rows: list[ExpRow], progress: dict[str, dict]) -> list[ExpRow]:
    """``rows`` plus a row for each experiment that runs in a workspace now and has no
    commit yet (a foreground ``exp run`` announces itself), under its baseline. Its
    params are the workspace's: a workspace run applied its ``-S`` there first."""
    result = list(rows)
    if not any(not event.get("rev") and event.get("baseline") for event in progress.values()):
        return result  # no run without a commit yet (the usual case: no pass over 10,000 rows)
    known = {(r.baseline, r.name) for r in rows if r.kind == "experiment"}
    workspace = next((r for r in rows if r.kind == "workspace"), None)
    params = workspace.data.params if workspace is not None else {}
    for name, event in progress.items():
        baseline = event.get("baseline")
        if event.get("rev") or not baseline or (baseline, name) in known:
            continue
        row = ExpRow(
            "",
            "experiment",
            ExpData(params=params),
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
@dataclass(frozen=True)
class Block:
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


def _sort_key(v: Any, kind: str):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return (1, 0)
    if kind in ("number", "date"):
        return (0, float(v))
    return (0, format_value(v, None).lower())


@dataclass(frozen=True)
class Layout:
    """The table in order, before formatting: what ``build`` draws and an export writes."""

    shown: list[tuple[ExpRow, int, Block | None]]  # (row, depth, its block when it heads one)
    visible: list[str]  # column ids on screen, in order
    all_ids: list[str]  # every column id, in the user's order
    kinds: dict[str, str]  # column id -> number | text | date
    filters: list[Filter]  # the saved filters that apply
    cells: Cells
    by_id: dict[str, Column]
    blocks: list[Block]  # every block, filtered or not


def layout(
    rows: list[ExpRow],
    cols: list[Column],
    state: TableState,
    annotations: Annotations | None = None,
    memo: ViewMemo | None = None,
) -> Layout:
    """The rows that pass the filters, sorted within each baseline, checkpoints under
    their expanded experiment, and the visible columns (Note, Tags and Message when a
    row has one). ``memo``: cells kept from the last build of this table."""
    by_id = {column_id(c): c for c in cols}
    cells = memo.cells(by_id, annotations) if memo is not None else Cells(by_id, annotations)
    data_ids = list(by_id)
    note_ids = note_columns(annotations, state)
    kinds = column_kinds(rows, cells, note_ids, memo)
    filters = [f for f in state.filters if usable(f, kinds.get(f.column))]
    sort = [(c, d) for c, d in state.sort if c in kinds]

    groups = blocks(rows)
    starred = set(state.starred)
    out_blocks: list[Block] = []
    pending: list[Block] = []

    def passes(block: Block) -> bool:
        head = block.head
        if head.kind in ("workspace", "baseline"):
            return True
        if state.starred_only and row_key(head) not in starred:
            return False
        return all(matches(f, cells.get(head, f.column), kinds[f.column]) for f in filters)

    def flush() -> None:
        kept = [b for b in pending if passes(b)]
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
    all_ids = ordered(list(INFO_COLUMNS) + note_ids + data_ids, state.order)
    fixed = set(INFO_COLUMNS) | set(note_ids)
    visible = [cid for cid in all_ids if cid not in state.hidden and (cid in fixed or cid in visible_data)]
    expanded = set(state.expanded)
    shown: list[tuple[ExpRow, int, Block | None]] = []
    for block in out_blocks:
        head = block.head
        shown.append((head, 0 if head.kind in ("workspace", "baseline") else 1, block))
        if row_key(head) in expanded:
            shown += [(child, 2, None) for child in block.children]
    return Layout(shown, visible, all_ids, kinds, filters, cells, by_id, groups)


def note_columns(annotations: Annotations | None, state: TableState) -> list[str]:
    """The Note, Tags and Message columns shown: filled by a row, or filtered on."""
    noted = noted_columns(annotations)
    return [c for c in NOTE_COLUMNS if c in noted or any(f.column == c for f in state.filters)]


def column_kinds(rows: list[ExpRow], cells: Cells, note_ids: list[str], memo: ViewMemo | None) -> dict[str, str]:
    """Each column's type (number, text, date), the data columns' from their first 2,000 rows."""
    kinds: dict[str, str] = {"experiment": "text", "state": "text", "created": "date"}
    kinds.update({c: "text" for c in note_ids})
    if memo is not None:
        kinds.update(memo.kinds(rows[:2000]))
    else:
        for cid in cells.cols:
            kinds[cid] = column_type([cells.get(r, cid) for r in rows[:2000]])
    return kinds


def build(
    rows: list[ExpRow],
    cols: list[Column],
    state: TableState,
    progress: dict[str, dict] | None = None,
    annotations: Annotations | None = None,
    memo: ViewMemo | None = None,
) -> dict:
    """The table as the front end draws it: visible columns (grouped), rows in order
    with depth and flags, formatted cells, counts, and every column for the menus.

    Saved filters and sort keys that no longer fit (their column is gone, or its type
    changed) are left out, and listed under ``inactive_filters``; ``filters`` describes
    each saved filter as its chip shows it. ``operators_by_type`` is what the filter
    menu offers for a column of each type.

    Why a cell shows ``!``: its row's ``errors[column]``, else its column's ``error`` (the
    reason most of that column's ``!`` cells share, e.g. a metrics file the experiments
    lack). Kept there, a live update that adds a column resends no row for it.

    ``memo``: what the last build of this table derived, reused where its rows are the
    same objects (the output is the same without it).
    """
    progress = progress or {}
    if memo is not None and (patched := memo.patched(rows, cols, state, progress, annotations)) is not None:
        return patched
    out = layout(rows, cols, state, annotations, memo)
    reasons = {
        id(row): cell_reasons(row, out.cells.values(row), out.visible, out.by_id, out.cells.annotations)
        for row, _, _ in out.shown
        if out.cells.broken(row)
    }
    common = common_reasons(reasons.values())
    starred, expanded = set(state.starred), set(state.expanded)
    filtering = bool(out.filters) or state.starred_only
    make = memo.row if memo is not None else _row
    key_of = memo.key if memo is not None else row_key
    out_rows = []
    for row, depth, block in out.shown:
        key = key_of(row)
        item = make(
            row,
            out.visible,
            out.cells,
            key,
            depth,
            key in starred,
            len(block.children) if block else 0,
            key in expanded,
            progress.get(row.name or "") if row.kind == "experiment" and block else None,
            filtering and row.kind in ("workspace", "baseline"),
        )
        if id(row) in reasons:  # (a drawn row is shared with the memo: changed as a copy)
            item = dict(item, errors={c: r for c, r in reasons[id(row)].items() if common.get(c) != r})
        out_rows.append(item)
    experiments = [b.head for b in out.blocks if b.head.kind == "experiment"]
    by_state = Counter(r.state or "success" for r in experiments)
    counts = {s: by_state[s] for s in ("queued", "running", "failed", "success")}
    counts["experiments"] = len(experiments)
    counts["shown"] = sum(1 for r, _, block in out.shown if block is not None and r.kind == "experiment")
    labels = {cid: column_info(cid, out.by_id, out.kinds)["label"] for cid in out.all_ids}
    table = {
        "columns": [dict(column_info(cid, out.by_id, out.kinds), **_error_of(cid, common)) for cid in out.visible],
        "all_columns": [
            dict(column_info(cid, out.by_id, out.kinds), hidden=cid in state.hidden) for cid in out.all_ids
        ],
        "rows": out_rows,
        "counts": counts,
        "operators": list(OPERATORS),
        "operators_by_type": {kind: list(ops) for kind, ops in OPERATORS_BY_TYPE.items()},
        "filters": [
            {
                "index": i,
                "column": f.column,
                "label": labels.get(f.column, f.column),
                "op": f.op,
                "value": f.value,
                "text": f.describe(labels.get(f.column)),
                "active": f in out.filters,
            }
            for i, f in enumerate(state.filters)
        ],
        "filter_note": FILTER_NOTE if filtering else "",
        "inactive_filters": [i for i, f in enumerate(state.filters) if f not in out.filters],
    }
    if memo is not None:
        memo.keep_only(rows)
        memo.remember(rows, state, out.kinds, out.visible, progress, table)
    return table


def _error_of(cid: str, common: dict[str, str]) -> dict:
    return {"error": common[cid]} if cid in common else {}


def column_info(cid: str, by_id: dict[str, Column], kinds: dict[str, str]) -> dict:
    if cid in INFO_COLUMNS:
        return {"id": cid, "label": INFO_COLUMNS[cid], "group": "info", "type": kinds[cid]}
    if cid in NOTE_COLUMNS:
        return {"id": cid, "label": NOTE_COLUMNS[cid], "group": "info", "type": "text", "editable": cid in EDITABLE}
    col = by_id[cid]
    return {"id": cid, "label": col.label, "group": col.group, "file": col.file, "type": kinds[cid]}


def _row(
    row: ExpRow,
    visible: list[str],
    cells: Cells,
    key: str,
    depth: int,
    starred: bool,
    children: int,
    expanded: bool,
    progress: dict | None,
    filters_skip: bool,
) -> dict:
    values = cells.values(row)
    shown = [ERROR if values[cid] is BROKEN else _display(values[cid], cid) for cid in visible]
    running = row.state == "running"
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
        "errors": {},  # filled by build: what the column's own error does not say
        "cells": shown,
        "progress": progress,
        # A running experiment has no result yet: nothing to apply, and its key may still
        # change (a workspace run's row becomes its commit's).
        "can_apply": row.kind in ("experiment", "checkpoint") and not running,
        "can_star": row.kind == "experiment" and not running,
        "can_note": row.kind != "workspace" and bool(row.rev) and row.state not in ("queued", "running", "failed"),
        "filters_skip": filters_skip,
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
