"""An N-way :class:`~jupyter_exp.experiments.comparison.Comparison` as text, Markdown,
CSV, JSON and HTML.

The layout follows ``exp diff``'s: a metrics table, an empty line, a params table, in
DVC's plain (or GitHub Markdown) style. Columns: ``Path``, ``Metric``/``Param``, the
reference's values (``<name> (reference)``), then for each other side its values and
``Δ <name>``, its difference from the reference. Metrics and every difference are
shown to ``precision`` significant digits, params as they are (as ``exp diff``).
CSV has one table with a ``Type`` column (metric, param) and full precision; JSON is
``{"reference", "experiments", "metrics": {path: {key: {"values": {name: v}, "diff":
{name: d}}}}, "params": ...}``.
"""

from __future__ import annotations

import html as html_lib
from typing import TYPE_CHECKING, Any

from . import json as render_json
from .text import csv_text, format_value, table

if TYPE_CHECKING:
    from ..experiments.comparison import CompareRow, Comparison

WHAT = {"metrics": "Metric", "params": "Param"}
KIND = {"metrics": "metric", "params": "param"}


def headers(result: Comparison) -> list[str]:
    """The value and difference columns, in order: reference first, each side then its Δ."""
    found = [f"{result.reference_name} (reference)"]
    for i, name in enumerate(result.names):
        if i != result.reference:
            found += [name, f"Δ {name}"]
    return found


def cells(result: Comparison, row: CompareRow, precision: int | None, fill: str = "-") -> list[str]:
    """A row's value and difference cells, in the order of :func:`headers`."""
    digits = precision if row.group == "metrics" else None

    def shown(v: Any, p: int | None) -> str:
        return fill if v is None else format_value(v, p)

    found = [shown(row.values[result.reference], digits)]
    for i, v in enumerate(row.values):
        if i != result.reference:
            found += [shown(v, digits), shown(row.deltas[i], precision)]
    return found


def text(result: Comparison, markdown: bool = False, precision: int | None = 5) -> str:
    """Both tables; nothing when nothing differs."""
    parts = []
    for group in ("metrics", "params"):
        rows = result.group(group)
        if rows:
            body = [[r.path, r.key, *cells(result, r, precision)] for r in rows]
            parts.append(table(["Path", WHAT[group], *headers(result)], body, markdown))
        else:
            parts.append("")
    if not any(parts):
        return ""
    return parts[0] + "\n" + parts[1]  # exp diff's separator


def csv(result: Comparison) -> str:
    """One table, full precision, empty cells where a side lacks the value."""
    body = [[KIND[r.group], r.path, r.key, *cells(result, r, None, fill="")] for r in result.rows]
    return csv_text(["Type", "Path", "Key", *headers(result)], body)


def to_dict(result: Comparison) -> dict:
    """The JSON document (see the module's docstring)."""
    out: dict[str, Any] = {"reference": result.reference_name, "experiments": list(result.names)}
    for group in ("metrics", "params"):
        found: dict[str, dict] = {}
        for row in result.group(group):
            diff = {n: d for i, (n, d) in enumerate(zip(result.names, row.deltas)) if i != result.reference}
            found.setdefault(row.path, {})[row.key] = {
                "values": dict(zip(result.names, row.values)),
                "diff": {n: d for n, d in diff.items() if d is not None},
            }
        out[group] = found
    return out


def json_text(result: Comparison, tty: bool = False) -> str:
    return render_json.dumps(to_dict(result), tty)


def html(result: Comparison, precision: int | None = 5) -> str:
    """Both tables as HTML (the notebook's and the table panel's view); a difference
    cell says whether it is up or down."""
    if not result.rows:
        return f"<p>No differences among {html_lib.escape(', '.join(result.names))}.</p>"
    parts = []
    for group in ("metrics", "params"):
        rows = result.group(group)
        if not rows:
            continue
        names = ["Path", WHAT[group], *headers(result)]
        head = "".join(f"<th>{html_lib.escape(h)}</th>" for h in names)
        body = []
        for row in rows:
            values = cells(result, row, precision)
            tds = [f"<td>{html_lib.escape(row.path)}</td>", f"<td>{html_lib.escape(row.key)}</td>"]
            for index, value in enumerate(values):
                cls = ""
                if index and index % 2 == 0 and value not in ("-", "0"):  # a Δ column
                    cls = ' class="jupyter-exp-down"' if value.startswith("-") else ' class="jupyter-exp-up"'
                tds.append(f"<td{cls}>{html_lib.escape(value)}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        parts.append(f'<table class="jupyter-exp"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')
    return "".join(parts)
