"""What ``view.build`` derived from each row, kept for the next build of the same table.

A table that follows running experiments is rebuilt each time a few of its rows
change; its other rows are the same objects as before (``collect.Collected`` keeps
them), so their cells and their drawn dicts are looked up here instead of being
flattened and formatted again. When the table is in its collection order (no sort,
filter or expanded row), only the rows between the unchanged start and end of the
list are drawn at all: a checkpoint in a table of 10,000 rows costs a few rows. The
output is the same with or without a memo (``tests/test_live_refresh.py`` checks).
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any, NamedTuple

from ..experiments.annotations import Annotations
from ..experiments.collect import ExpRow
from ..experiments.columns import Column
from ..experiments.records import same_ends
from . import view
from .cells import NOTE_COLUMNS, Cells
from .view import TableState

_kind = attrgetter("kind")
Types = tuple[frozenset, frozenset]  # the data columns holding a number, those holding another value


class KeptCells(Cells):
    """``cells.Cells`` kept from build to build: each row is kept with its values (so its
    id stays its own), whether one of them cannot be read, and with which columns hold
    a number or another value in it, one object for all rows alike (``ViewMemo.kinds``).
    Made anew when the columns or the annotations change, it takes from the one
    ``before`` it the values of the columns both have (the notes' are made again)."""

    def __init__(
        self, cols: dict[str, Column], before: KeptCells | None = None, annotations: Annotations | None = None
    ) -> None:
        super().__init__(cols, annotations)
        self._kept: dict[int, tuple[ExpRow, dict[str, Any], Types, bool]] = {}
        self._types: dict[Types, Types] = {}
        self._before = before
        if before is not None:
            # A column's values are its file's and key's: one only relabelled (its key is
            # in another file now too) keeps them.
            was = _by_place(before.cols)
            self._same = {cid: cid for cid in view.INFO_COLUMNS}
            self._same.update({cid: was[_place(col)] for cid, col in cols.items() if _place(col) in was})
            self._order = [*view.INFO_COLUMNS, *NOTE_COLUMNS, *cols]  # Cells.values' order
            self._new = Cells({cid: col for cid, col in cols.items() if cid not in self._same}, annotations)

    def values(self, row: ExpRow) -> dict[str, Any]:
        return self._known(row)[1]

    def types(self, row: ExpRow) -> Types:
        return self._known(row)[2]

    def broken(self, row: ExpRow) -> bool:
        return self._known(row)[3]

    def _known(self, row: ExpRow) -> tuple[ExpRow, dict[str, Any], Types, bool]:
        known = self._kept.get(id(row))
        if known is None or known[0] is not row:
            before = self._before._kept.get(id(row)) if self._before is not None else None
            if before is not None and before[0] is row:
                self._new._rows.clear()  # (by id only: a dead row's id is reused)
                made, kept, same = self._new.values(row), before[1], self._same
                values = {cid: kept[same[cid]] if cid in same else made[cid] for cid in self._order}
            else:
                self._rows.clear()
                values = super().values(row)
            numbers = frozenset(c for c in self.cols if _is_number(values[c]))
            others = frozenset(c for c in self.cols if values[c] is not None and values[c] is not view.BROKEN)
            types = (numbers, others - numbers)
            broken = any(v is view.BROKEN for v in values.values())
            known = self._kept[id(row)] = (row, values, self._types.setdefault(types, types), broken)
        return known

    def keep_only(self, rows: list[ExpRow]) -> None:
        """Forget rows that are not in ``rows`` (once they outnumber them)."""
        if len(self._kept) > 2 * len(rows) + 100:
            self._kept = {id(r): self._kept[id(r)] for r in rows if id(r) in self._kept}
            self._before = None  # (its rows are all taken by now)


def _place(col: Column) -> tuple[str, str, str]:
    return (col.group, col.file, col.key)


def _by_place(cols: dict[str, Column]) -> dict[tuple[str, str, str], str]:
    """Column ids by what the column shows (its group, file and key)."""
    return {_place(col): cid for cid, col in cols.items()}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Last(NamedTuple):
    """The last build: its input, what it depended on, and its table."""

    rows: list[ExpRow]
    cells: Cells
    annotations: Annotations | None
    state: TableState
    kinds: dict[str, str]
    visible: list[str]
    progress: dict[str, dict]
    table: dict  # (its counts are the host's to change: a copy is in `counts`)
    counts: dict[str, int]
    checkpoints: int  # checkpoint rows in `rows`


class ViewMemo:
    """What ``build`` derived from each row, for the next build of the same table: a
    table that follows running experiments rebuilds its view each time a few rows
    change, and its other rows (the same row objects) cost a lookup, not a formatting.
    A host keeps one per table; the output is the same with or without it."""

    def __init__(self) -> None:
        self._cols: dict[str, Column] | None = None
        self._annotations: Annotations | None = None
        self._cells: KeptCells | None = None
        self._visible: list[str] | None = None
        self._generation = 0  # of the visible columns
        self._drawn: tuple[list[str] | None, dict] = (None, {})  # the visible columns before, and theirs
        self._drawn_cols: dict[str, Column] = {}
        # Where each visible cell was drawn before (-1: read it), and the columns to read.
        self._plan: tuple[int, list[tuple[int, str]], Cells] = (-1, [], Cells({}))
        # id -> (row, what else made it, its dict, the generation of the columns it shows)
        self._rows: dict[int, tuple[ExpRow, tuple, dict, int]] = {}
        self._keys: dict[int, tuple[ExpRow, str]] = {}
        self._last: _Last | None = None

    def cells(self, by_id: dict[str, Column], annotations: Annotations | None) -> KeptCells:
        """The cells of columns ``by_id``, kept while the columns and the annotations (the
        same object: a host keeps it while it is equal) are."""
        if annotations is not self._annotations:
            self._rows.clear()  # drawn rows show notes, tags and messages: drawn again
            self._last = None
        if self._cells is None or self._cols != by_id or annotations is not self._annotations:
            self._cols, self._annotations = by_id, annotations
            self._cells = KeptCells(by_id, self._cells, annotations)
        return self._cells

    def kinds(self, sample: list[ExpRow]) -> dict[str, str]:
        """Each data column's type from its values in ``sample`` (``view.column_type``
        of each column), looking once at each set of rows alike."""
        assert self._cells is not None
        numbers: set[str] = set()
        others: set[str] = set()
        seen: set[int] = set()
        for row in sample:
            types = self._cells.types(row)
            if id(types) not in seen:
                seen.add(id(types))
                numbers |= types[0]
                others |= types[1]
        return {cid: "number" if cid in numbers and cid not in others else "text" for cid in self._cells.cols}

    def key(self, row: ExpRow) -> str:
        """``view.row_key(row)``, worked out once per row."""
        known = self._keys.get(id(row))
        if known is None or known[0] is not row:
            known = self._keys[id(row)] = (row, view.row_key(row))
        return known[1]

    def row(self, row: ExpRow, visible: list[str], cells: Cells, *args: Any) -> dict:
        """``view._row(row, visible, cells, *args)`` as made before, if made from the same row and
        arguments; after the visible columns changed, its cells moved to their new
        places (and only new columns' cells formatted)."""
        if visible != self._visible or cells.cols is not self._drawn_cols:
            # (a column of the same id may show another file's values now: moved by place)
            self._drawn = (self._visible, self._drawn_cols)
            self._visible, self._generation = list(visible), self._generation + 1
        self._drawn_cols = cells.cols
        known = self._rows.get(id(row))
        if known is not None and known[0] is row and known[1] == args:
            if known[3] == self._generation:
                return known[2]
            if known[3] == self._generation - 1 and self._drawn[0] is not None:
                made = dict(known[2], cells=self._moved(row, known[2]["cells"], visible, cells))
                self._rows[id(row)] = (row, args, made, self._generation)
                return made
        made = view._row(row, visible, cells, *args)
        self._rows[id(row)] = (row, args, made, self._generation)
        return made

    def _moved(self, row: ExpRow, drawn: list, visible: list[str], cells: Cells) -> list:
        """Cells drawn for the last visible columns, for ``visible`` (``view._row``'s):
        only the columns that are new (or another file's now) are read from the row."""
        if self._plan[0] != self._generation:
            before, cols_before = self._drawn
            drawn_at = {cid: i for i, cid in enumerate(before or [])}
            was = _by_place(cols_before)  # a relabelled column's cells are its own still
            at = {cid: drawn_at.get(cid, -1) for cid in [*view.INFO_COLUMNS, *NOTE_COLUMNS]}
            at.update({cid: drawn_at.get(was.get(_place(col), ""), -1) for cid, col in cells.cols.items()})
            plan = [(at.get(cid, -1), cid) for cid in visible]
            new = Cells({cid: cells.cols[cid] for i, cid in plan if i < 0 and cid in cells.cols}, cells.annotations)
            self._plan = (self._generation, plan, new)
        _, plan, new = self._plan
        new._rows.clear()  # (by id only: a dead row's id is reused)
        values = new.values(row) if any(i < 0 for i, _ in plan) else {}
        broken, error, display = view.BROKEN, view.ERROR, view._display
        return [
            drawn[i] if i >= 0 else error if values[cid] is broken else display(values[cid], cid) for i, cid in plan
        ]

    def keep_only(self, rows: list[ExpRow]) -> None:
        if self._cells is not None:
            self._cells.keep_only(rows)
        if len(self._rows) > 2 * len(rows) + 100:
            self._rows = {id(r): self._rows[id(r)] for r in rows if id(r) in self._rows}
        if len(self._keys) > 2 * len(rows) + 100:
            self._keys = {id(r): self._keys[id(r)] for r in rows if id(r) in self._keys}

    def remember(
        self,
        rows: list[ExpRow],
        state: TableState,
        kinds: dict,
        visible: list[str],
        progress: dict,
        table: dict,
        checkpoints: int | None = None,
    ) -> None:
        """What ``build`` made last, for ``patched``. ``checkpoints``: how many of
        ``rows`` are checkpoint rows, if known (``patched`` counts only its changed rows)."""
        assert self._cells is not None
        if checkpoints is None:
            checkpoints = list(map(_kind, rows)).count("checkpoint")
        self._last = _Last(
            rows,
            self._cells,
            self._annotations,
            state,
            kinds,
            visible,
            dict(progress),
            table,
            dict(table["counts"]),
            checkpoints,
        )

    def patched(
        self, rows: list[ExpRow], cols: list[Column], state: TableState, progress: dict, annotations: Annotations | None
    ) -> dict | None:
        """The table for ``rows`` made from the last one, if the table is in collection
        order (no sort, filter, star filter, expanded row or only-changed columns) and
        nothing but the rows changed (no cell that cannot be read among them): the
        unchanged start and end of the list keep their drawn rows, the rows between are
        drawn. None when that does not hold."""
        last = self._last
        if last is None or last.state != state or last.annotations is not annotations:
            return None
        cells = self.cells({view.column_id(c): c for c in cols}, annotations)
        if last.cells is not cells:
            return None
        kinds = view.column_kinds(rows, cells, view.note_columns(annotations, state), self)
        if (
            last.kinds != kinds
            or state.sort
            or state.filters
            or state.starred_only
            or state.only_changed
            or state.expanded
        ):
            return None
        old = last.rows
        start, same_end = same_ends(old, rows)
        # Both ends on a row that starts a block (a checkpoint belongs to the row above).
        while start > 0 and any(r[start].kind == "checkpoint" for r in (old, rows) if start < len(r)):
            start -= 1
        while same_end > 0 and old[len(old) - same_end].kind == "checkpoint":
            same_end -= 1
        old_middle, new_middle = old[start : len(old) - same_end], rows[start : len(rows) - same_end]
        if any(map(cells.broken, old_middle)) or any(map(cells.broken, new_middle)):
            return None  # the reasons columns share may change: a full build says them
        groups = view.blocks(new_middle)
        if any(b.head.kind == "checkpoint" for b in groups) or (old_middle and old_middle[0].kind == "checkpoint"):
            return None  # a checkpoint row of no experiment: blocks are not one per other row
        changed = {n for n in {*last.progress, *progress} if last.progress.get(n) != progress.get(n)}
        if changed - {b.head.name for b in groups if b.head.kind == "experiment"}:
            return None  # progress of a row outside the changed ones (found by a full pass)
        # One drawn row per block: the blocks before and after the changed rows.
        before = start - list(map(_kind, old[:start])).count("checkpoint")
        middle_checkpoints = list(map(_kind, old_middle)).count("checkpoint")
        after = same_end - (last.checkpoints - (start - before) - middle_checkpoints)
        starred = set(state.starred)
        drawn = []
        for block in groups:
            head = block.head
            key = self.key(head)
            top = head.kind in ("workspace", "baseline")
            shown = progress.get(head.name or "") if head.kind == "experiment" else None
            depth = 0 if top else 1
            drawn.append(
                self.row(
                    head, last.visible, cells, key, depth, key in starred, len(block.children), False, shown, False
                )
            )
        old_rows = last.table["rows"]
        counts = Counter(last.counts)
        counts.subtract(_counts([r for r in old_middle if r.kind != "checkpoint"]))
        counts.update(_counts([b.head for b in groups]))
        table = dict(
            last.table, rows=[*old_rows[:before], *drawn, *old_rows[len(old_rows) - after :]], counts=dict(counts)
        )
        checkpoints = last.checkpoints - middle_checkpoints + list(map(_kind, new_middle)).count("checkpoint")
        self.remember(rows, state, kinds, last.visible, progress, table, checkpoints)
        return table


def _counts(heads: list[ExpRow]) -> Counter[str]:
    """What a build counts of these block heads (experiments by state, and shown)."""
    experiments = [r for r in heads if r.kind == "experiment"]
    found: Counter[str] = Counter(r.state or "success" for r in experiments)
    found["experiments"] = found["shown"] = len(experiments)
    return found
