"""The columns of the experiment table and a row's value in each: the model every
rendering of ``exp show`` (text, CSV, JSON, DataFrame, the interactive table) reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import JupyterExpError, option
from .records import shapes

if TYPE_CHECKING:  # rows are only read here: the table's renderers import this module
    from .collect import ExpRow

MISSING = "-"  # DVC's fill value: no such param or metric in this row
ERROR = "!"  # DVC's error value: the file holding it could not be read
INFO_HEADERS = ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")


@dataclass(frozen=True)
class Column:
    group: str  # metrics | params | deps
    file: str
    key: str
    label: str  # key, or file:key when the key is in several files


def columns(rows: list[ExpRow], deps: bool = False) -> list[Column]:
    """Metrics columns, then params, in first-seen order (then deps, sorted)."""
    # Each distinct shape of the rows' metrics and params (one object for all records
    # alike: 10,000 rows have a few), in the order the rows first show it; the rows are
    # walked once, at C speed.
    found = shapes(rows)
    return columns_of(list(dict(zip(map(id, found), found)).values()), rows if deps else None)


def columns_of(distinct: list, rows: list[ExpRow] | None = None) -> list[Column]:
    """``columns`` from the distinct (metrics, params) shapes of the rows in the order
    they first show them; with ``rows``, the deps columns too."""
    seen: dict[tuple[str, str, str], None] = {}
    for index, group in enumerate(("metrics", "params")):
        for shape in dict((id(pair[index]), pair[index]) for pair in distinct).values():
            for file, keys in shape:
                for key in keys:
                    seen.setdefault((group, file, key))
    if rows is not None:  # sorted by path, as DVC orders them
        for path in sorted({path for row in rows for path in row.data.deps}):
            seen.setdefault(("deps", path, path))
    files_of: dict[str, set[str]] = {}
    for group, file, key in seen:
        if group != "deps":
            files_of.setdefault(key, set()).add(file)
    result = []
    for group, file, key in seen:
        ambiguous = group != "deps" and (len(files_of[key]) > 1 or key in INFO_HEADERS)
        result.append(Column(group, file, key, f"{file}:{key}" if ambiguous else key))
    return result


def value(row: ExpRow, column: Column) -> Any:
    """The cell's native value, MISSING, or ERROR."""
    if column.group == "deps":
        dep = row.data.deps.get(column.file)
        return dep["hash"] if dep and dep.get("hash") else MISSING
    entry = getattr(row.data, column.group).get(column.file)
    if entry is None:
        return MISSING
    if entry.error is not None:
        return ERROR
    return entry.flat.get(column.key, MISSING)


def filter_columns(
    rows: list[ExpRow],
    cols: list[Column],
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    only_changed: bool = False,
) -> list[Column]:
    """``--drop``/``--only-changed`` remove columns; ``--keep`` protects them (re.match)."""
    keep_re = [re.compile(p) for p in keep or []]
    drop_re = [re.compile(p) for p in drop or []]

    def kept(col: Column) -> bool:
        return any(r.match(col.label) for r in keep_re)

    result = []
    for col in cols:
        if kept(col):
            result.append(col)
            continue
        if any(r.match(col.label) for r in drop_re):
            continue
        if only_changed:
            values = {repr(value(r, col)) for r in rows}
            if len(values) <= 1:
                continue
        result.append(col)
    return result


def find_column(cols: list[Column], name: str, flag: str = option("sort_by", label=True)) -> Column:
    """The column ``name`` (``key`` or ``file:key``) designates."""
    matches = [c for c in cols if name in (c.label, f"{c.file}:{c.key}", c.key)]
    exact = [c for c in matches if name in (c.label, f"{c.file}:{c.key}")]
    matches = exact or matches
    if not matches:
        raise JupyterExpError(f"Unknown column '{name}' for {flag}; use a param or metric name.")
    if len(matches) > 1:
        options = ", ".join(f"{c.file}:{c.key}" for c in matches)
        raise JupyterExpError(f"Ambiguous {flag} '{name}'; use one of {options}.")
    return matches[0]
