"""What changed between two states of the table (``view.build``'s dict), row by row, so
that a live update while experiments run carries the few rows that moved instead of
the whole table.

A client applies a diff by indexing its rows by ``key``, replacing or adding the rows
given, reordering by ``order`` when it is given (dropping keys not in it) and merging
``table`` into the other keys (see /work/api-contract.md, ``table-diff``).
"""

from __future__ import annotations

from typing import Any


def table_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any] | None:
    """``{"rows", "order", "table"}`` turning ``old`` into ``new``; None when they are
    equal. ``order`` is None when the row keys and their order did not change."""
    old = old or {}
    old_rows: list[dict] = old.get("rows") or []
    new_rows: list[dict] = new.get("rows") or []
    old_keys = [r["key"] for r in old_rows]
    new_keys = [r["key"] for r in new_rows]
    if len(set(new_keys)) == len(new_keys):
        before = dict(zip(old_keys, old_rows))
        rows = [r for r in new_rows if before.get(r["key"]) != r]
    else:
        # Two rows with one key (a queue entry named as an experiment): a client that
        # indexes by key cannot tell them apart, so it gets every row again.
        rows = list(new_rows)
    order = None if "rows" in old and old_keys == new_keys else new_keys
    table = {k: v for k, v in new.items() if k != "rows" and (k not in old or old[k] != v)}
    if not rows and order is None and not table:
        return None
    return {"rows": rows, "order": order, "table": table}


def apply_diff(old: dict[str, Any] | None, diff: dict[str, Any]) -> dict[str, Any]:
    """The table a client holds after applying ``diff`` to ``old`` (the contract's
    algorithm, here so that tests and the front end's tests can check one against the
    other)."""
    old = old or {}
    by_key = {r["key"]: r for r in old.get("rows") or []}
    for row in diff["rows"]:
        by_key[row["key"]] = row
    keys = diff["order"] if diff["order"] is not None else [r["key"] for r in old.get("rows") or []]
    table = {k: v for k, v in old.items() if k != "rows"}
    table.update(diff["table"])
    table["rows"] = [by_key[k] for k in keys if k in by_key]
    return table
