"""Rendering the experiment rows: DVC's ``--json`` shape, the text tree, CSV,
Markdown, and the pandas DataFrame. Rendering only reads the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from ..errors import JupyterExpError
from ..params import flatten
from .collect import ExpRow

MISSING = "-"
ERROR = "!"
INFO_HEADERS = ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")


@dataclass(frozen=True)
class Column:
    group: str  # metrics | params | deps
    file: str
    key: str
    label: str  # key, or file:key when the key is in several files


def _flat(files: dict[str, dict]) -> dict[str, dict[str, Any]]:
    return {f: flatten(v["data"]) for f, v in files.items() if "data" in v}


def columns(rows: list[ExpRow], deps: bool = False) -> list[Column]:
    """Metrics columns, then params, in first-seen order (then deps, sorted)."""
    seen: dict[tuple[str, str, str], None] = {}
    for group in ("metrics", "params"):
        for row in rows:
            for file, values in _flat(getattr(row.data, group)).items():
                for key in values:
                    seen.setdefault((group, file, key))
    if deps:  # sorted by path, as DVC orders them
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
    files = getattr(row.data, column.group)
    entry = files.get(column.file)
    if entry is None:
        return MISSING
    if "error" in entry:
        return ERROR
    return flatten(entry["data"]).get(column.key, MISSING)


# -- selection of columns and order of rows --------------------------------------------
def filter_columns(rows: list[ExpRow], cols: list[Column], keep: list[str] | None = None,
                   drop: list[str] | None = None, only_changed: bool = False) -> list[Column]:
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


def find_column(cols: list[Column], name: str, flag: str = "--sort-by") -> Column:
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


def sort_rows(rows: list[ExpRow], cols: list[Column], sort_by: str | None,
              sort_order: str = "asc") -> list[ExpRow]:
    """Sort experiments within each baseline by a column (``key`` or ``file:key``)."""
    if not sort_by:
        return rows
    col = find_column(cols, sort_by)

    def key(row: ExpRow):
        v = value(row, col)
        missing = v in (MISSING, ERROR)
        return (missing, 0 if missing else (0, v) if isinstance(v, (int, float)) else (1, str(v)))

    result: list[ExpRow] = []
    group: list[ExpRow] = []

    def flush() -> None:
        present = sorted([r for r in group if not key(r)[0]], key=key, reverse=sort_order == "desc")
        absent = [r for r in group if key(r)[0]]
        result.extend(present + absent)
        group.clear()

    for row in rows:
        if row.kind in ("workspace", "baseline"):
            flush()
            result.append(row)
        else:
            group.append(row)
    flush()
    return result


# -- formats --------------------------------------------------------------------
def _iso(ts: int | None) -> str | None:
    return dt.datetime.fromtimestamp(ts).isoformat() if ts is not None else None


def _serializable(row: ExpRow) -> dict:
    return {
        "rev": row.rev,
        "timestamp": _iso(row.created) if row.kind != "workspace" else None,
        "params": row.data.params,
        "metrics": row.data.metrics,
        "deps": row.data.deps,
        "outs": row.data.outs,
        "meta": {},
    }


def _state(row: ExpRow, with_data: bool = True) -> dict:
    return {
        "rev": row.rev,
        "name": row.name if row.kind != "workspace" else None,
        "data": _serializable(row) if with_data else None,
        "error": {"msg": row.data.error, "type": ""} if row.data.error else None,
        "experiments": None,
    }


def to_json(rows: list[ExpRow]) -> list[dict]:
    """DVC's list-of-ExpState shape (``dvc exp show --json`` since 2.55); a checkpoint
    experiment lists its steps in ``revs``, newest first, as DVC 2 chains did."""
    result: list[dict] = []
    current: dict | None = None
    for row in rows:
        if row.kind == "workspace":
            result.append(_state(row))
        elif row.kind == "baseline":
            current = _state(row)
            current["experiments"] = []
            result.append(current)
        elif row.kind == "checkpoint" and current is not None and current["experiments"]:
            current["experiments"][-1]["revs"].append(_state(row))
        elif current is not None:
            executor = None
            if row.state and row.state != "success":
                executor = {"state": row.state, "name": "jupyter-exp",
                            "local": {"root": None, "log": None, "pid": None, "returncode": None, "task_id": None}}
            current["experiments"].append({"name": row.name, "executor": executor, "revs": [_state(row)]})
    return result


def format_value(v: Any, precision: int | None) -> str:
    if v is None:
        return "None"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and precision is not None:
        return f"{v:.{precision}g}"
    if isinstance(v, (list, dict)):
        return str(v)
    return str(v)


def _created(ts: int | None, iso: bool) -> str:
    if ts is None:
        return MISSING
    when = dt.datetime.fromtimestamp(ts)
    if iso:
        return when.isoformat()
    return when.strftime("%I:%M %p") if when.date() == dt.date.today() else when.strftime("%b %d, %Y")


def _label(row: ExpRow, last: bool, sha: bool, under_last: bool = False) -> str:
    if row.kind == "workspace":
        return "workspace"
    if row.kind == "baseline":
        return row.rev[:7] if sha or not row.name else row.name
    if row.kind == "checkpoint":
        return f"{' ' if under_last else '│'}   {'└' if last else '├'} {row.rev[:7]} (step {row.step})"
    branch = "└──" if last else "├──"
    step = f" (step {row.step})" if row.step else ""
    return f"{branch} {row.rev[:7]} [{row.name}]{step}"


def table_rows(rows: list[ExpRow], cols: list[Column], precision: int | None, sha: bool,
               csv_mode: bool = False) -> tuple[list[str], list[list[str]]]:
    headers = ["Experiment", "rev", "typ", "Created", "parent", "State", "Executor"] if csv_mode \
        else ["Experiment", "Created"]
    show_state = csv_mode or any(r.state and r.state != "success" for r in rows)
    if show_state and not csv_mode:
        headers.append("State")
    headers += [c.label for c in cols]
    body = []
    experiment_was_last = False
    for i, row in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if row.kind == "checkpoint":
            last = nxt is None or nxt.kind != "checkpoint"
        else:
            following = next((r for r in rows[i + 1:] if r.kind != "checkpoint"), None)
            last = following is None or following.kind in ("workspace", "baseline")
            experiment_was_last = last
        cells = [v for v in (value(row, c) for c in cols)]
        rendered = [c if c in (MISSING, ERROR) else format_value(c, precision) for c in cells]
        if csv_mode:
            info = _csv_info(row, last)
            rendered = ["" if c == MISSING else c for c in rendered]
        else:
            info = [_label(row, last, sha, experiment_was_last), _created(row.created, False)]
            if show_state:
                info.append(row.state.capitalize() if row.state and row.kind != "baseline" else MISSING)
        body.append(info + rendered)
    if csv_mode:  # as DVC: State and Executor only when some row has one
        for column in ("Executor", "State"):
            index = headers.index(column)
            if not any(line[index] for line in body):
                del headers[index]
                for line in body:
                    del line[index]
    return headers, body


# DVC's executor names for the runs it shows as queued or running (a run in the
# workspace shows as Tempdir here too: the row does not say where it runs).
_EXECUTOR = {"queued": "Dvc-task", "running": "Tempdir"}


def _csv_info(row: ExpRow, last: bool) -> list[str]:
    """The first columns of ``exp show --csv``, as DVC writes them: the workspace and
    baselines as ``typ`` baseline with no name, experiments as branch_commit (branch_base
    for a baseline's last), no parent, State only for runs not recorded as done."""
    created = _created(row.created, True) if row.created else ""
    if row.kind == "workspace":
        return ["", "workspace", "baseline", created, "", "", ""]
    if row.kind == "baseline":
        return ["", row.name or row.rev[:7], "baseline", created, "", "", ""]
    typ = "checkpoint" if row.kind == "checkpoint" else ("branch_base" if last else "branch_commit")
    state = row.state.capitalize() if row.state and row.state != "success" else ""
    return [row.name or "", row.rev[:7], typ, created, "", state, _EXECUTOR.get(row.state or "", "")]


def render_text(headers: list[str], body: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("─" * len(lines[0]))
    for row in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines) + "\n"


def render_md(headers: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def render_csv(headers: list[str], body: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)  # "\r\n" after each row, as DVC writes it
    writer.writerow(headers)
    writer.writerows(body)
    return buf.getvalue()


def to_dataframe(rows: list[ExpRow], cols: list[Column]):
    """One DataFrame row per workspace / baseline / experiment, native types."""
    import pandas as pd

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
        for col in cols:
            v = value(row, col)
            record[f"{col.group}.{col.label}"] = None if v in (MISSING, ERROR) else v
        records.append(record)
    info = ["experiment", "rev", "baseline", "kind", "state", "created", "parent", "step"]
    data_cols = [f"{c.group}.{c.label}" for c in cols]
    frame = pd.DataFrame.from_records(records, columns=info + data_cols)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    frame["step"] = frame["step"].astype("Int64")
    for col in data_cols:
        dtype = _dtype([v for v in frame[col] if v is not None])
        if dtype:
            frame[col] = frame[col].astype(dtype)
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


def select(
    project,
    *,
    revs: list[str] | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
    force: bool = False,
    sort_by: str | None = None,
    sort_order: str = "asc",
    only_changed: bool = False,
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    deps: bool = False,
    hide_queued: bool = False,
    hide_failed: bool = False,
) -> tuple[list[ExpRow], list[Column]]:
    """Collect the rows and choose and order the columns, as ``exp show`` flags say
    (``hide_queued``/``hide_failed``: leave out queued or failed experiments, as DVC)."""
    from .collect import collect

    if sort_order not in ("asc", "desc"):
        raise JupyterExpError(f"Unknown sort order '{sort_order}'; use asc or desc.")
    rows = collect(
        project, revs=revs, num=num, all_branches=all_branches, all_tags=all_tags,
        all_commits=all_commits, hide_workspace=hide_workspace, param_deps=param_deps, force=force,
    )
    hidden = {"queued"} if hide_queued else set()
    hidden |= {"failed"} if hide_failed else set()
    rows = [row for row in rows if row.kind != "experiment" or row.state not in hidden]
    cols = columns(rows, deps=deps)
    rows = sort_rows(rows, cols, sort_by, sort_order)
    cols = filter_columns(rows, cols, keep=keep, drop=drop, only_changed=only_changed)
    return rows, cols


def workspace_files(project) -> list:
    """Every file the workspace row of ``exp show`` reads (for the output stamp)."""
    from ..compare import read_metrics, read_params
    from ..pipeline.dvcfile import load_pipeline
    from ..pipeline.lock import lock_path_for
    from ..tree import WorkspaceTree

    tree = WorkspaceTree(project.root)
    try:
        pipeline = load_pipeline(project.root, tree=tree)
    except JupyterExpError:
        return [project.root / "dvc.yaml"]
    files = {*pipeline.sources, lock_path_for(pipeline.dvcfile), "params.yaml"}
    files |= set(read_params(project, tree, pipeline=pipeline)) | set(read_metrics(project, tree, pipeline=pipeline))
    paths = [project.root / f for f in sorted(files)]
    # The queue's records: an entry that starts, fails or succeeds changes the table.
    return paths + [project.dvc_dir / "config", project.dvc_dir / "config.local",
                    project.own_tmp_dir / "queue"]
