"""Option objects passed whole: the reproduction flags and the ``exp show`` selection.

Each is frozen: one value built at the front end (from flags or keywords) travels
unchanged to the engine, instead of a dozen keywords repeated at every layer. They are
NamedTuples rather than frozen dataclasses because ``dataclasses`` costs 5 ms to import
(it imports ``inspect``), a twentieth of a no-op ``repro`` whose path holds this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class ReproOptions(NamedTuple):
    """Which stages a reproduction considers and how it treats failures (``dvc repro``'s flags).

    ``force``: run even if nothing changed; ``single_item``: only the targets;
    ``downstream``: the targets and what depends on them; ``pipeline``: the whole
    pipelines of the targets; ``all_pipelines``: every stage; ``force_downstream``:
    rerun everything after a changed stage; ``keep_going``: continue past failures,
    skipping their dependents; ``ignore_errors``: continue past failures;
    ``recursive``: a directory target stands for the stages inside it;
    ``allow_missing``: skip stages whose only change is missing data; ``pull``: fetch
    missing outputs from the DVC remote; ``interactive``: ask before each stage.
    """

    force: bool = False
    single_item: bool = False
    downstream: bool = False
    pipeline: bool = False
    all_pipelines: bool = False
    force_downstream: bool = False
    keep_going: bool = False
    ignore_errors: bool = False
    recursive: bool = False
    allow_missing: bool = False
    pull: bool = False
    interactive: bool = False

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any]) -> ReproOptions:
        """The options among a call's keywords: an api function that keeps the flags as
        keywords of its own passes ``locals()`` first thing, so the list is written once."""
        return cls(**{name: bool(keywords[name]) for name in cls._fields if name in keywords})

    @classmethod
    def from_record(cls, flags: Mapping[str, Any]) -> ReproOptions:
        """The options a queue record holds (see :meth:`record`); unknown keys ignored."""
        return cls(**{name: bool(flags.get(name)) for name in _RECORDED})

    @property
    def may_skip(self) -> bool:
        """Whether an up-to-date pipeline may be answered from its recorded no-op
        (nothing forces a run, fetches data or asks the user)."""
        return not (self.force or self.force_downstream or self.pull or self.interactive or self.allow_missing)

    def record(self) -> dict[str, bool]:
        """The flags as a queue record keeps them (JSON). Without ``interactive``: a
        queued run asks nobody. ``recursive``, ``allow_missing`` and ``pull`` only when
        set, so a record reads as those written before they existed."""
        flags = {name: getattr(self, name) for name in _RECORDED[:8]}
        flags.update({name: True for name in _RECORDED[8:] if getattr(self, name)})
        return flags


# What a queue record holds: always the first eight, the others when set.
_RECORDED = (
    "force",
    "single_item",
    "downstream",
    "pipeline",
    "all_pipelines",
    "force_downstream",
    "keep_going",
    "ignore_errors",
    "recursive",
    "allow_missing",
    "pull",
)


class ShowOptions(NamedTuple):
    """Which rows and columns the experiment table holds, in which order (``exp show``'s
    selection; how it is rendered is the caller's).

    ``revs``/``num``/``all_branches``/``all_tags``/``all_commits``: the baselines;
    ``hide_workspace``/``hide_queued``/``hide_failed``: rows left out; ``param_deps``:
    only params stages depend on; ``sort_by``/``sort_order``: row order;
    ``only_changed``/``keep``/``drop``: columns; ``deps``: dependency columns too;
    ``force``: read again, ignoring what was cached. ``revs``, ``keep`` and ``drop``
    are tuples (:meth:`of` takes lists, or one string, as users pass them).
    """

    revs: tuple[str, ...] | None = None
    num: int = 1
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    hide_workspace: bool = False
    hide_queued: bool = False
    hide_failed: bool = False
    param_deps: bool = False
    sort_by: str | None = None
    sort_order: str = "asc"
    only_changed: bool = False
    keep: tuple[str, ...] | None = None
    drop: tuple[str, ...] | None = None
    deps: bool = False
    force: bool = False

    @classmethod
    def of(
        cls,
        revs: list[str] | tuple[str, ...] | str | None = None,
        *,
        keep: list[str] | tuple[str, ...] | None = None,
        drop: list[str] | tuple[str, ...] | None = None,
        **selection: Any,
    ) -> ShowOptions:
        """ShowOptions with ``revs``/``keep``/``drop`` given as lists or one string."""
        return cls(revs=_tuple(revs), keep=_tuple(keep), drop=_tuple(drop), **selection)

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any]) -> ShowOptions:
        """The selection among a call's keywords (``locals()`` of an api function that
        keeps them as keywords of its own), as :meth:`of` takes them."""
        return cls.of(**{name: keywords[name] for name in cls._fields if name in keywords})

    def key(self) -> dict[str, Any]:
        """The selection as plain JSON data (what a cached output is keyed by)."""
        return {name: (list(value) if isinstance(value, tuple) else value) for name, value in self._asdict().items()}


def _tuple(value: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)
