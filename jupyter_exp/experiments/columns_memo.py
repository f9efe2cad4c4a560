"""The columns of a table that follows running experiments, worked out from what
changed since the last time.

The columns are the keys of the rows' (metrics, params) shapes in the order the rows
first show them (``columns.columns``). From one update to the next most rows are the
same objects: only the rows between the unchanged start and end of the list are
looked at, and the shapes first seen after them keep their order, unless a shape the
rows between showed first is nowhere else among them now (then every row is looked at).
"""

from __future__ import annotations

from .columns import Column, columns, columns_of
from .records import ExpRow, same_ends, shapes


class ColumnsMemo:
    """``columns(rows)`` of one table, from the last answer where it holds."""

    def __init__(self) -> None:
        # The rows, their distinct shapes in order, where each was first, the columns.
        self._last: tuple[list[ExpRow], list, dict[int, int], list[Column]] | None = None

    def columns(self, rows: list[ExpRow]) -> list[Column]:
        """The same as ``columns.columns(rows)``."""
        last = self._last
        if last is None:
            return self._anew(rows)
        old, distinct, first, cols = last
        start, same_end = same_ends(old, rows)
        found = shapes(rows[: len(rows) - same_end])  # before the unchanged end
        seen: dict[int, int] = {}
        for at, pair in enumerate(found):
            seen.setdefault(id(pair), at)
        end = len(old) - same_end
        rest = [pair for pair in distinct if id(pair) not in seen]
        if any(first[id(pair)] < end for pair in rest):
            return self._anew(rows)  # a shape no longer where it was first: where is it now?
        heads = list(dict(zip(map(id, found), found)).values())
        now = [*heads, *rest]
        where = {**seen, **{id(pair): first[id(pair)] - len(old) + len(rows) for pair in rest}}
        if len(now) != len(distinct) or any(a is not b for a, b in zip(now, distinct)):
            cols = columns_of(now)
        self._last = (rows, now, where, cols)
        return cols

    def _anew(self, rows: list[ExpRow]) -> list[Column]:
        found = shapes(rows)
        first: dict[int, int] = {}
        for at, pair in enumerate(found):
            first.setdefault(id(pair), at)
        distinct = list(dict(zip(map(id, found), found)).values())
        cols = columns_of(distinct)
        self._last = (rows, distinct, first, cols)
        return cols


__all__ = ["ColumnsMemo", "columns"]
