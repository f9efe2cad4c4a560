"""Text, Markdown and CSV for every engine record, laid out as DVC's CLI lays them out.

One ``format_value`` for every cell: a missing value (None) is ``-``, DVC's fill
value. Three table layouts: ``table`` (DVC's tabulate ``plain`` and ``github``, for
``params|metrics diff|show``, ``exp diff`` and ``queue status``), ``ruled`` (the
``exp show`` text tree) and ``pipe_markdown`` (``exp show --md``), plus ``csv_text``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING, Any

from ..experiments.columns import ERROR, MISSING, Column, value
from ..values import DiffRow, FileValues

if TYPE_CHECKING:
    from ..experiments.annotations import Annotations
    from ..experiments.collect import ExpRow
    from ..experiments.diff import ExpDiff
    from ..experiments.queue_store import QueueEntry

Cells = tuple[list[str], list[list[str]]]


def format_value(value: Any, precision: int | None = None, round_digits: bool = False) -> str:
    """A cell as DVC writes it: ``-`` for None; a float to ``precision`` significant
    digits, or with ``round_digits`` that many digits after the point (``metrics
    show|diff``); anything else as ``str``."""
    if value is None:
        return MISSING
    if isinstance(value, float) and precision is not None:
        return str(round(value, precision)) if round_digits else f"{value:.{precision}g}"
    return str(value)


# -- layouts -------------------------------------------------------------------------
def table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """A plain-text or Markdown table, laid out as DVC's (tabulate's ``plain`` and
    ``github``: a column is at least its header plus two wide)."""
    widths = [max(len(h) + 2, *(len(r[i]) for r in rows)) if rows else len(h) + 2 for i, h in enumerate(headers)]
    if markdown:
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in [headers, *rows]]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines) + "\n\n"  # DVC ends a Markdown table with an empty line
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [headers, *rows]) + "\n"


def ruled(headers: list[str], body: list[list[str]]) -> str:
    """The ``exp show`` text table: columns two apart, a rule under the headers."""
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("─" * len(lines[0]))
    for row in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines) + "\n"


def pipe_markdown(headers: list[str], body: list[list[str]]) -> str:
    """``exp show --md``: unpadded Markdown, ``|`` in a cell escaped."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def csv_text(headers: list[str], body: list[list[str]]) -> str:
    """CSV with ``\\r\\n`` after each row, as DVC writes it."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    writer.writerows(body)
    return buf.getvalue()


# -- params and metrics: diffs and metrics show -------------------------------------
def diff_cells(
    rows: list[DiffRow],
    a_name: str,
    b_name: str,
    what: str,
    with_change: bool = True,
    precision: int | None = None,
    round_digits: bool = False,
    on_empty_diff: str | None = None,
) -> Cells:
    """``Path, <what>, <a>, <b>[, Change]``, one line per DiffRow; a change that is not a
    number reads ``on_empty_diff`` when given (``exp diff``: DVC's "diff not supported")."""
    headers = ["Path", what, a_name, b_name] + (["Change"] if with_change else [])
    body = []
    for row in rows:
        cells = [
            row.path,
            row.key,
            format_value(row.old, precision, round_digits),
            format_value(row.new, precision, round_digits),
        ]
        if with_change:
            empty = row.change is None and on_empty_diff is not None
            cells.append(str(on_empty_diff) if empty else format_value(row.change, precision, round_digits))
        body.append(cells)
    return headers, body


def diff_table(
    rows: list[DiffRow],
    a_name: str,
    b_name: str,
    with_change: bool,
    markdown: bool = False,
    precision: int | None = None,
    what: str | None = None,
    round_digits: bool = False,
    on_empty_diff: str | None = None,
) -> str:
    """``params diff`` / ``metrics diff`` (and ``exp diff``'s tables) as DVC prints them."""
    what = what or ("Metric" if with_change else "Param")
    cells = diff_cells(rows, a_name, b_name, what, with_change, precision, round_digits, on_empty_diff)
    return table(*cells, markdown)


EXP_DIFF_EMPTY = "diff not supported"  # DVC's exp diff, where a change is not a number


def exp_diff(result: ExpDiff, markdown: bool = False, precision: int | None = None) -> str:
    """``exp diff``: the metrics table, an empty line, the params table (params as
    they are, as DVC shows them); nothing when nothing differs."""
    if not (result.metrics or result.params):
        return ""
    metrics = (
        diff_table(
            list(result.metrics),
            result.a_name,
            result.b_name,
            True,
            markdown,
            precision,
            "Metric",
            False,
            EXP_DIFF_EMPTY,
        )
        if result.metrics
        else ""
    )
    params = (
        diff_table(
            list(result.params), result.a_name, result.b_name, True, markdown, None, "Param", False, EXP_DIFF_EMPTY
        )
        if result.params
        else ""
    )
    return metrics + "\n" + params  # DVC's separator, printed even when a table is empty


def metrics_cells(
    shown: dict[str, dict[str, FileValues]], precision: int | None = 5, with_revision: bool = False
) -> Cells:
    """DVC's ``metrics show`` table: one row per file (and revision), a column per
    flattened metric, sorted; ``-`` where a file has no such metric."""
    rows: list[dict[str, str]] = []
    for rev, files in shown.items():
        for path, metric in files.items():
            row = {"Revision": rev, "Path": path}
            for key, val in metric.flat.items():
                # DVC rounds digits here, not significant ones; precision 0 leaves it
                row[key] = format_value(val, precision or None, round_digits=True)
            rows.append(row)
    keys = sorted({k for row in rows for k in row} - {"Revision", "Path"})
    headers = (["Revision"] if with_revision else []) + ["Path", *keys]
    return headers, [[row.get(h, MISSING) for h in headers] for row in rows]


# -- the queue ------------------------------------------------------------------------
def queue_cells(entries: list[QueueEntry]) -> Cells:
    """``queue status``: one line per entry, as DVC's ``queue status``."""
    body = []
    for e in entries:
        created = dt.datetime.fromtimestamp(e.created).strftime("%b %d %H:%M:%S")
        body.append([e.id[:7], e.name, created, e.state.capitalize(), e.error or ""])
    return ["Task", "Name", "Created", "Status", "Message"], body


# -- the experiment table ---------------------------------------------------------------
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


def table_rows(
    rows: list[ExpRow],
    cols: list[Column],
    precision: int | None,
    sha: bool,
    csv_mode: bool = False,
    annotations: Annotations | None = None,
) -> Cells:
    """The cells of ``exp show``'s text and Markdown tables, or with ``csv_mode`` of
    its CSV (DVC's info columns, empty cells where a value is missing). ``annotations``
    adds Note, Tags and Message columns last, each only when some row has one (so a
    table without them is DVC's)."""
    headers = (
        ["Experiment", "rev", "typ", "Created", "parent", "State", "Executor"]
        if csv_mode
        else ["Experiment", "Created"]
    )
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
            following = next((r for r in rows[i + 1 :] if r.kind != "checkpoint"), None)
            last = following is None or following.kind in ("workspace", "baseline")
            experiment_was_last = last
        cells = [value(row, c) for c in cols]
        rendered = [c if c == ERROR else format_value(c, precision) for c in cells]
        if csv_mode:
            info = _csv_info(row, last)
            rendered = ["" if c == MISSING else c for c in rendered]  # DVC's CSV fill value
        else:
            info = [_label(row, last, sha, experiment_was_last), _created(row.created, False)]
            if show_state:
                info.append(row.state.capitalize() if row.state and row.kind != "baseline" else MISSING)
        body.append(info + rendered)
    if annotations:
        _annotation_cells(rows, annotations, headers, body, csv_mode)
    if csv_mode:  # as DVC: State and Executor only when some row has one
        for column in ("Executor", "State"):
            index = headers.index(column)
            if not any(line[index] for line in body):
                del headers[index]
                for line in body:
                    del line[index]
    return headers, body


def _annotation_cells(
    rows: list[ExpRow], annotations: Annotations, headers: list[str], body: list[list[str]], csv_mode: bool
) -> None:
    """Append the Note, Tags and Message columns some row has (a note's first line in a
    text table; whole in CSV), in place."""
    from ..experiments.annotations import ANNOTATION_COLUMNS, HEADERS, annotation_of

    fill = "" if csv_mode else MISSING
    for column in ANNOTATION_COLUMNS:
        cells = []
        for row in rows:
            found = annotation_of(annotations, row)
            v = found.value(column) if found is not None else None
            if found is not None and found.error is not None and column == "note":
                v = ERROR
            text = ", ".join(v) if isinstance(v, tuple) else (v or fill)
            cells.append(text if csv_mode else text.splitlines()[0] if text else fill)
        if any(c != fill for c in cells):
            headers.append(HEADERS[column])
            for line, cell in zip(body, cells):
                line.append(cell)


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
