"""The table's filters: what each operator means for a column's type, and which
operators a column of each type offers. Pure functions; ``view.py`` applies them."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from typing import Any

from ..errors import JupyterExpError
from ..render.text import format_value

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "contains", "empty", "before", "after", "study")
# "study": the trials of one search study, on the Trial column (``st #3, best``); the
# table's study lines add it, so no column's menu offers it.
STUDY_COLUMN = "trial"
# What the filter menu offers for a column of each type (view.build hands it over).
OPERATORS_BY_TYPE = {
    "number": ("=", "!=", "<", "<=", ">", ">=", "empty"),
    "text": ("=", "!=", "contains", "empty"),
    "date": ("before", "after", "empty"),
}
PRECISION = 5


class FilterError(JupyterExpError):
    """A filter that cannot be applied: unknown column or operator, or a bad value."""


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str = ""

    def describe(self, label: str | None = None) -> str:
        """The filter as its chip reads: ``lr > 0.1`` (``label``: the column's display name)."""
        shown = {"empty": "is empty", "study": f"of study {self.value}"}.get(self.op, f"{self.op} {self.value}")
        return f"{label or self.column} {shown}".rstrip()


def parse_date(text: str) -> float:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(f"'{text}' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    if when.tzinfo is None:
        when = when.astimezone()  # as the user reads the Created column: local time
    return when.timestamp()


def operand(flt: Filter, kind: str) -> Any:
    """The filter's value as the column's type compares it; FilterError if it cannot be."""
    if flt.op == "empty":
        return None
    if flt.op in ("before", "after"):
        if kind != "date":
            raise FilterError(f"'{flt.op}' compares dates; use <, > on '{flt.column}'.")
        return parse_date(flt.value)
    if kind == "date":
        if flt.op == "contains":
            return flt.value
        return parse_date(flt.value)
    if kind == "number" and flt.op in ("<", "<=", ">", ">=", "=", "!="):
        try:
            return float(flt.value)
        except ValueError:
            if flt.op in ("=", "!="):
                return flt.value
            raise FilterError(f"'{flt.value}' is not a number; '{flt.column}' {flt.op} needs one.") from None
    return flt.value


def when(ts: int | None) -> str:
    """A timestamp as the Created column shows it (local time)."""
    return "" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def matches(flt: Filter, v: Any, kind: str) -> bool:
    """Whether a cell's value passes the filter (a missing value passes only 'empty'
    and '!=')."""
    value = operand(flt, kind)
    if flt.op == "empty":
        return v is None or v == ""
    if flt.op == "study":  # a trial label: "<study> #<number>[, best][, pruned]"
        return isinstance(v, str) and v.rsplit(" #", 1)[0] == value
    if v is None:
        return flt.op == "!="
    if flt.op == "contains":
        shown = format_value(v, PRECISION) if kind != "date" else when(v)
        return str(value).lower() in shown.lower()
    if flt.op in ("before", "after"):
        return v < value if flt.op == "before" else v > value
    if isinstance(value, float) and isinstance(v, (int, float)) and not isinstance(v, bool):
        return _COMPARE[flt.op](float(v), value)
    return _COMPARE[flt.op](format_value(v, None), str(value))  # as text: = and != too


_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def usable(flt: Filter, kind: str | None) -> bool:
    """A saved filter still applies: its column exists and its value fits the column
    (a column's type can change as experiments come and go)."""
    if kind is None:
        return False
    try:
        operand(flt, kind)
    except FilterError:
        return False
    return True


def check(flt: Filter, columns: dict[str, str]) -> None:
    """Refuse a filter on an unknown column, with an unknown operator or a value the
    column cannot compare; ``columns`` maps column ids to their types."""
    if flt.column not in columns:
        raise FilterError(f"Unknown column '{flt.column}' for a filter; pick one of the table's columns.")
    if flt.op not in OPERATORS:
        raise FilterError(f"Unknown filter operator '{flt.op}'; use one of {', '.join(OPERATORS)}.")
    if flt.op == "study" and flt.column != STUDY_COLUMN:
        raise FilterError(f"'study' filters the Trial column; filter '{STUDY_COLUMN}' by study, not '{flt.column}'.")
    operand(flt, columns[flt.column])  # raises on a value that cannot be compared
