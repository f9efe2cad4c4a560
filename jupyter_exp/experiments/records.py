"""The records of the experiment table: what a commit (or the workspace) holds, and
one row of ``exp show``. Collecting (``collect.py``) makes them; rendering (text, JSON,
DataFrame, the interactive table) reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter, is_not
from typing import Literal

from ..values import FileValues

Shape = tuple[tuple[str, tuple[str, ...]], ...]  # (file, its flat keys) of a params or metrics group
_SHAPES: dict[tuple, tuple] = {}  # one object for each shape (and pair of shapes) seen
MAX_SHAPES = 4096


def _interned(shape: tuple) -> tuple:
    if len(_SHAPES) > MAX_SHAPES:
        _SHAPES.clear()  # only a shortcut: shapes made before stay valid
    return _SHAPES.setdefault(shape, shape)


def same_ends(old: Sequence[object], new: Sequence[object]) -> tuple[int, int]:
    """How many items ``old`` and ``new`` start with that are the same objects, and how
    many they then end with (never overlapping the start): a table following its
    project keeps its unchanged rows, so only what lies between needs a look. At C
    speed (10,000 rows compared in a fraction of a millisecond)."""
    shorter = min(len(old), len(new))
    # The first index where the items differ: compress yields only those (no list made).
    start = next(compress(count(), map(is_not, old, new)), shorter)
    end = next(compress(count(), map(is_not, reversed(old), reversed(new))), shorter)
    return start, min(end, shorter - start)


def shapes(rows: list[ExpRow]) -> list[tuple[Shape, Shape]]:
    """``row.data.shape()`` of every row, at C speed once each record has its own."""
    try:
        return list(map(attrgetter("data._shape"), rows))
    except AttributeError:  # a record not asked before
        return [row.data.shape() for row in rows]


# What a row is: the workspace, a baseline commit, an experiment (done, queued, running
# or failed: see its state), or a checkpoint of a checkpoint experiment.
RowKind = Literal["workspace", "baseline", "experiment", "checkpoint"]
# An experiment's run: recorded (success), in the queue, running, failed, or (checkpoint
# experiments) interrupted after committing some checkpoints.
RowState = Literal["success", "queued", "running", "failed", "interrupted"]


@dataclass(frozen=True)
class ExpData:
    """What a commit (or the workspace) holds: DVC's SerializableExp fields."""

    params: dict[str, FileValues] = field(default_factory=dict)  # by file
    metrics: dict[str, FileValues] = field(default_factory=dict)
    deps: dict[str, dict] = field(default_factory=dict)  # path -> {hash, size, nfiles}
    outs: dict[str, dict] = field(default_factory=dict)
    error: str | None = None

    @property
    def has_errors(self) -> bool:
        """Whether reading again might give another answer (a file missing from the
        commit is a fact about the commit; an object missing from the cache is not)."""
        return self.error is not None or any(
            v.error is not None and not v.absent for v in (*self.params.values(), *self.metrics.values())
        )

    def keys(self, group: str) -> Shape:
        """The flat keys of each file of ``group`` (params or metrics), in file order."""
        return self.shape()[0 if group == "metrics" else 1]

    def shape(self) -> tuple[Shape, Shape]:
        """The flat keys of each metrics file and of each params file. Worked out once
        per record, and one object for every record of the same shape: listing the
        columns of 10,000 rows then looks at each shape once (``columns.columns``)."""
        known = self.__dict__.get("_shape")
        if known is None:
            metrics, params = (
                _interned(tuple((file, tuple(values.flat)) for file, values in files.items()))
                for files in (self.metrics, self.params)
            )
            known = _interned((metrics, params))
            object.__setattr__(self, "_shape", known)  # frozen: a cache, not a field
        return known


@dataclass(frozen=True)
class ExpRow:
    """One row of the experiment table."""

    rev: str  # a commit SHA, or "workspace"
    kind: RowKind
    data: ExpData
    name: str | None = None  # experiment name, or branch/tag of a baseline
    baseline: str | None = None
    state: RowState | None = None  # for experiments
    created: int | None = None  # committer time, seconds since the epoch (UTC)
    parent: str | None = None
    step: int | None = None  # checkpoint experiments: the step this commit records
