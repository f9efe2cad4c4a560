"""A plot definition and its files as the datapoints a Vega template is filled with.

The rules are DVC's (``dvc/render/converter/vega.py``), so ``--json`` matches:

- ``y`` as a field or list names fields of the plot's own file (the id); as
  ``{file: field(s)}`` it names other files. No ``y``: the last field of the file's
  first record. ``x`` as a field applies to each ``y`` file; no ``x``: ``step``, the
  record's index.
- Records are the lists of mappings found anywhere in a file (a CSV's rows, a JSON
  list, lists nested in mappings); the n-th records of several lists are merged.
- Each datapoint gets ``rev``, ``filename`` (the ``y`` file, less the prefix all ``y``
  files share) and ``field``. Several ``y`` fields are copied to
  ``dvc_inferred_y_value``, several ``x`` fields to ``dvc_inferred_x_value``, and the
  properties name those (``anchors_y_definitions`` lists every ``y``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ..errors import JupyterExpError

INDEX = "step"
INFERRED_X = "dvc_inferred_x_value"
INFERRED_Y = "dvc_inferred_y_value"


class PlotDataError(JupyterExpError):
    """A definition that does not fit its data (a missing field, lengths that differ)."""

    dvc_name = "DvcException"  # the ``type`` DVC's --json gives it


class FieldNotFoundError(PlotDataError):
    """An axis field the data lacks."""

    dvc_name = "FieldNotFoundError"


def _record_lists(blob: Any) -> Iterator[list]:
    """Every list in ``blob`` (itself, or values of nested mappings), in order."""
    if isinstance(blob, list):
        yield blob
    elif isinstance(blob, dict):
        for value in blob.values():
            if isinstance(value, dict):
                yield from _record_lists(value)
            elif isinstance(value, list):
                yield value


def _is_records(items: list) -> bool:
    """A non-empty list of mappings that all have the first one's keys."""
    if not items or not all(isinstance(i, dict) for i in items):
        return False
    return set(items[0]) == set().union(*items)


def records(content: Any) -> list[dict]:
    """The datapoints of one file: its record lists merged index by index."""
    lists = [items for items in _record_lists(content) if _is_records(items)]
    if len(lists) == 1:
        return lists[0]  # one list (a CSV/TSV file): nothing to merge; callers copy before changing
    merged: list[dict] = []
    for items in _record_lists(content):
        if _is_records(items):
            for index, record in enumerate(items):
                if index == len(merged):
                    merged.append({})
                merged[index].update(record)
    return merged


def _pairs(axis: Any) -> list[tuple[str, str]]:
    """``{file: field | [fields]}`` as (file, field) pairs."""
    pairs = []
    for file, fields in (axis or {}).items():
        for field in [fields] if isinstance(fields, str) else fields if isinstance(fields, list) else []:
            pairs.append((file, field))
    return pairs


def _infer_axes(inner_id: str, props: dict, data: dict[str, Any]) -> dict:
    """``x`` and ``y`` as ``{file: field(s)}`` (x only when given)."""
    x, y = props.get("x"), props.get("y")
    inferred: dict[str, Any] = {}
    if isinstance(x, str):
        if isinstance(y, dict):  # the x field in each y file, once per y field
            inferred["x"] = {f: [x] * len(v) if isinstance(v, list) else x for f, v in y.items()}
        else:
            inferred["x"] = {inner_id: x}
    if y is None:
        inferred["y"] = None
        for items in _record_lists(data.get(inner_id)) if inner_id in data else ():
            if items and all(isinstance(i, dict) for i in items):
                inferred["y"] = {inner_id: list(items[0])[-1]} if items[0] else None
                break
    elif not isinstance(y, dict):
        inferred["y"] = {inner_id: y}
    return inferred


def _label(props: dict, axis: str, default: str | None) -> str | None:
    """The axis title: as given, else the one field the axis names, else the axis name."""
    if props.get(f"{axis}_label") is not None:
        return props[f"{axis}_label"]
    value = props.get(axis)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return axis
    if not isinstance(value, dict):
        return default
    fields = {field for _, field in _pairs(value)}
    return next(iter(fields)) if len(fields) == 1 else axis


def _checked(pairs: list[tuple[str, str]], by_file: dict[str, list[dict]]) -> list[tuple[str, str]]:
    for file, field in pairs:
        if by_file.get(file) and field not in by_file[file][0]:
            found = ", ".join(by_file[file][0])
            raise FieldNotFoundError(f"Could not find provided field ('{field}') in data fields ('{found}').")
    return pairs


def vega_datapoints(inner_id: str, props: dict, data: dict[str, Any], rev: str) -> tuple[list[dict], dict]:
    """The datapoints of one revision and the properties for the template (empty when
    there is nothing to plot).

    ``data`` maps each file the definition reads (that could be read) to its contents.

    Raises:
        PlotDataError: an axis field the data lacks, or ``x`` and ``y`` files that cannot be paired.
    """
    props = {**props, **_infer_axes(inner_id, props, data)}
    props["y_label"] = _label(props, "y", None)
    props["x_label"] = _label(props, "x", INDEX)
    by_file = {file: records(content) for file, content in data.items()}

    xs = _checked(_pairs(props.get("x") if isinstance(props.get("x"), dict) else None), by_file)
    ys = _checked(_pairs(props.get("y")), by_file)
    x_file, x_field = xs[0] if xs else (None, INDEX)
    several_x = len(xs) > 1 and len({f for _, f in xs}) > 1
    if len(xs) > 1 and len(xs) != len(ys):
        raise PlotDataError(
            f"Cannot have different number of x and y data sources. Found {len(xs)} x and {len(ys)} y data sources."
        )
    y_fields = {field for _, field in ys}
    y_files = {file for file, _ in ys}
    update: dict[str, Any] = {
        "x": INFERRED_X if several_x else x_field,
        "y": INFERRED_Y if len(y_fields) > 1 else next(iter(y_fields), None),
    }
    prefix = len(os.path.commonpath(sorted(y_files))) if len(y_files) > 1 else 0

    def short(file: str) -> str:
        return file[prefix:].strip("/\\")

    update["anchors_y_definitions"] = [{"filename": short(f), "field": field} for f, field in ys]

    points: list[dict] = []
    for i, (y_file, y_field) in enumerate(ys):
        if len(xs) > 1:
            x_file, x_field = xs[i]
        tail = {"rev": rev, "filename": short(y_file), "field": y_field}
        if update["y"] != INFERRED_Y and x_file == y_file and not several_x:
            # x and y from one file's records: each point is its record and the tail (the
            # common case, thousands of steps a revision), no join.
            points += [{**d, **tail} for d in by_file.get(y_file, [])]
            continue
        series = [dict(d) for d in by_file.get(y_file, [])]
        if update["y"] == INFERRED_Y:
            for d in series:
                if y_field in d:
                    d[INFERRED_Y] = d[y_field]
        if x_file is None and x_field == INDEX:
            for index, d in enumerate(series):
                d[INDEX] = index
        else:
            source = by_file.get(x_file or "", [])
            if len(source) != len(series):
                raise PlotDataError(
                    f"Cannot join '{x_field}' from '{x_file}' and '{y_field}' from '{y_file}'. "
                    "They have to have same length."
                )
            name = INFERRED_X if several_x else x_field
            for d, s in zip(series, source):
                if x_field in s:
                    d[name] = s[x_field]
        for d in series:
            d.update(tail)
        points += series
    if not points:
        return [], {}
    return points, {**props, **update}
