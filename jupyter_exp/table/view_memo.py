"""What ``view.build`` derived from each row, kept for the next build of the same table.

A table that follows running experiments is rebuilt each time a few of its rows
change; its other rows are the same objects as before (``collect.Collected`` keeps
them), so their cells and their drawn dicts are looked up here instead of being
flattened and formatted again. The output is the same with or without a memo.
"""

from __future__ import annotations

from typing import Any

from ..experiments.collect import ExpRow
from ..experiments.columns import Column
from . import view
from .view import Cells


class ViewMemo:
    """What ``build`` derived from each row, for the next build of the same table: a
    table that follows running experiments rebuilds its view each time a few rows
    change, and its other rows (the same row objects) cost a lookup, not a formatting.
    A host keeps one per table; the output is the same with or without it."""

    def __init__(self) -> None:
        self._cols: dict[str, Column] | None = None
        self._cells: Cells | None = None
        self._visible: list[str] | None = None
        self._rows: dict[int, tuple[ExpRow, tuple, dict]] = {}  # id -> (row, what else made it, its dict)
        self._kinds: tuple[Cells, list[ExpRow], dict[str, str]] | None = None

    def cells(self, by_id: dict[str, Column]) -> Cells:
        if self._cells is None or self._cols != by_id:
            self._cols, self._cells = by_id, view.Cells(by_id)
        return self._cells

    def kinds(self, sample: list[ExpRow], cells: Cells) -> dict[str, str]:
        """``view._kinds(sample, cells)``, as worked out before if the sample is the same rows."""
        known = self._kinds
        if (
            known is None
            or known[0] is not cells
            or len(known[1]) != len(sample)
            or not all(a is b for a, b in zip(known[1], sample))
        ):
            known = self._kinds = (cells, sample, view._kinds(sample, cells))
        return known[2]

    def row(self, row: ExpRow, visible: list[str], cells: Cells, *args: Any) -> dict:
        """``view._row(row, *args)`` as made before, if made from the same row and arguments."""
        if visible != self._visible:
            self._visible, self._rows = list(visible), {}
        known = self._rows.get(id(row))
        if known is not None and known[0] is row and known[1] == args:
            return known[2]
        made = view._row(row, args[0], visible, cells, *args[1:])
        self._rows[id(row)] = (row, args, made)
        return made

    def keep_only(self, rows: list[ExpRow]) -> None:
        if self._cells is not None:
            self._cells.keep_only(rows)
        if len(self._rows) > 2 * len(rows) + 100:
            self._rows = {id(r): self._rows[id(r)] for r in rows if id(r) in self._rows}
