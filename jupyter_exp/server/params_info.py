"""The workspace's params as the "Run experiment with params" form shows them: every
params file the pipeline names (stage ``params``, top-level ``params``, ``params.yaml``
in full, files that ``${...}`` interpolation reads), each key with its value and type.

The keys are those ``params show`` and ``params diff`` read (``compare.read_params``),
so a field the form shows is one that ``-S`` may set without ``+``. Read-only.
"""

from __future__ import annotations

import math
from typing import Any

from ..params_metrics import read_params, tree_for
from ..project import Project


def value_type(value: Any) -> str:
    """The form's field type: int, float, bool, str, list, dict or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    for kind in (int, float, str, list, dict):
        if isinstance(value, kind):
            return kind.__name__
    return "str"


def _plain(value: Any) -> Any:
    """``value`` as JSON can carry it: YAML dates and other scalars as text, and
    non-finite floats as text too (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def params_files(project: Project) -> dict[str, list[dict[str, Any]]]:
    """``{"files": [{"path", "params": [{"name", "value", "type"}], "error"}]}``, the
    paths relative to the project, params.yaml first; ``error`` is set (and ``params``
    empty) for a file that cannot be read."""
    files: list[dict[str, Any]] = []
    for path, values in read_params(project, tree_for(project, None)).items():
        if values.error is not None:
            files.append({"path": path, "params": [], "error": values.error.msg})
            continue
        params = [{"name": k, "value": _plain(v), "type": value_type(v)} for k, v in values.flat.items()]
        files.append({"path": path, "params": params, "error": None})
    return {"files": files}
