"""What changed between two states of the table (``view.build``'s dict), row by row, so
that a live update while experiments run carries the few rows that moved instead of
the whole table, even when the table has 10,000 rows.

A diff is ``{"rows", "order", "order_edit", "remap", "table"}``; a client applies it in
this order (see /work/api-contract.md, ``table-diff``, and :func:`apply_diff`):

1. ``remap`` (when the visible columns changed): every row it holds gets
   ``cells = [fill if i < 0 else cells[i] for i in remap["index"]]``, so that a new,
   hidden or moved column does not resend every row, only those whose cells then
   still differ;
2. ``rows``: replace or add each row, by ``key``;
3. ``order`` (a list): reorder by it, dropping keys not in it; or ``order_edit``: drop
   the ``removed`` keys, then for each ``[key, after]`` of ``moves`` in turn, take
   ``key`` out of the list if it is there and put it right after ``after`` (first when
   ``after`` is null). The smaller of the two is sent; both absent or null: the keys
   and their order did not change;
4. ``table``: merge into the other keys (``columns``, ``counts``, ...).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..experiments.columns import MISSING
from ..experiments.records import same_ends


def unique_keys(table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``table`` with every row key unique, and the aliases given (alias -> key).

    The view can show two rows with one key: a queue entry that failed and an experiment
    of the same name (the run queued again and recorded), or two failed runs of one name
    (DVC too lists each). A client indexes rows by key, so the second gets ``<key>#2``
    on the wire; messages naming the alias are mapped back to the key. (A running
    checkpoint experiment is one row: the engine shows its ref in its entry's state.)
    """
    rows = table.get("rows") or []
    if len({row["key"] for row in rows}) == len(rows):
        return table, {}
    seen: dict[str, int] = {}
    aliases: dict[str, str] = {}
    renamed: list[dict] | None = None
    for i, row in enumerate(rows):
        n = seen[row["key"]] = seen.get(row["key"], 0) + 1
        if n > 1:
            renamed = renamed if renamed is not None else list(rows)
            alias = f"{row['key']}#{n}"
            aliases[alias] = row["key"]
            renamed[i] = dict(row, key=alias)
    return (table if renamed is None else dict(table, rows=renamed)), aliases


def table_diff(old: dict[str, Any] | None, new: dict[str, Any], unique: bool = False) -> dict[str, Any] | None:
    """The diff turning ``old`` into ``new``; None when they are equal. ``unique``: the
    row keys of both are known to be unique (``unique_keys`` made them so)."""
    old = old or {}
    old_rows: list[dict] = old.get("rows") or []
    new_rows: list[dict] = new.get("rows") or []
    remap = _remap(old.get("columns"), new.get("columns"), new_rows) if "rows" in old else None
    if unique and "rows" in old and remap is None:
        return _between_kept_rows(old, new)
    new_keys = [r["key"] for r in new_rows]
    diff: dict[str, Any] = {"rows": [], "order": None}
    if remap is not None:
        diff["remap"] = remap
        old_rows = [dict(r, cells=_remapped(r["cells"], remap)) for r in old_rows]
    old_keys = [r["key"] for r in old_rows]
    if len(set(new_keys)) == len(new_keys):
        before = dict(zip(old_keys, old_rows))
        # A row the view did not draw anew is the same dict: no compare of its cells.
        diff["rows"] = [r for r in new_rows if (o := before.get(r["key"])) is not r and o != r]
    else:
        # Two rows with one key (a queue entry named as an experiment): a client that
        # indexes by key cannot tell them apart, so it gets every row and the order.
        diff["rows"] = list(new_rows)
        old_keys = []
    if "rows" not in old or old_keys != new_keys:
        edit = _order_edit(old_keys, new_keys) if "rows" in old and len(set(old_keys)) == len(old_keys) else None
        if edit is not None and 2 * len(edit["moves"]) + len(edit["removed"]) < len(new_keys):
            diff["order_edit"] = edit
        else:
            diff["order"] = new_keys
    diff["table"] = {k: v for k, v in new.items() if k != "rows" and (k not in old or old[k] != v)}
    if not diff["rows"] and diff["order"] is None and "order_edit" not in diff and not diff["table"]:
        return None
    return diff


def _between_kept_rows(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """``table_diff`` of two tables with unique keys and the same columns, looking only
    between the rows both start and end with (the same dicts: the view kept them). A
    key between them is nowhere else in either table, so this is the same diff."""
    old_rows, new_rows = old["rows"], new["rows"]
    start, same_end = same_ends(old_rows, new_rows)
    old_middle = old_rows[start : len(old_rows) - same_end]
    new_middle = new_rows[start : len(new_rows) - same_end]
    before = {r["key"]: r for r in old_middle}
    diff: dict[str, Any] = {"rows": [r for r in new_middle if (o := before.get(r["key"])) is not r and o != r]}
    diff["order"] = None
    old_keys, new_keys = [r["key"] for r in old_middle], [r["key"] for r in new_middle]
    if old_keys != new_keys:
        # The row above the change anchors its first move, as in the whole list.
        anchor = [old_rows[start - 1]["key"]] if start else []
        edit = _order_edit(anchor + old_keys, anchor + new_keys)
        if 2 * len(edit["moves"]) + len(edit["removed"]) < len(new_rows):
            diff["order_edit"] = edit
        else:
            diff["order"] = [r["key"] for r in new_rows]
    diff["table"] = {k: v for k, v in new.items() if k != "rows" and (k not in old or old[k] != v)}
    if not diff["rows"] and diff["order"] is None and "order_edit" not in diff and not diff["table"]:
        return None
    return diff


def _remap(old_cols: list[dict] | None, new_cols: list[dict] | None, new_rows: list[dict]) -> dict | None:
    """How to turn the old visible columns' cells into the new ones (None: unchanged)."""
    old_ids = [c["id"] for c in old_cols or []]
    new_ids = [c["id"] for c in new_cols or []]
    if old_ids == new_ids:
        return None
    at = {cid: i for i, cid in enumerate(old_ids)}
    index = [at.get(cid, -1) for cid in new_ids]
    added = [j for j, i in enumerate(index) if i < 0]
    # The commonest cell of the new columns (usually "-": few rows have a new metric).
    common = Counter(r["cells"][j] for r in new_rows for j in added if j < len(r["cells"])).most_common(1)
    return {"index": index, "fill": common[0][0] if common else MISSING}


def _remapped(cells: list, remap: dict) -> list:
    return [remap["fill"] if i < 0 or i >= len(cells) else cells[i] for i in remap["index"]]


def _order_edit(old_keys: list[str], new_keys: list[str]) -> dict[str, list]:
    """``{"removed", "moves"}`` turning ``old_keys`` into ``new_keys``: the keys that
    keep their relative order (a longest increasing run of their new positions) stay,
    every other key is placed after its predecessor in the new order."""
    # Keys the lists share at their start and end stay (a run of their positions found
    # over the whole lists holds them all too: they are its smallest and largest), so
    # the run is looked for between them: a move near the top of 10,000 rows is cheap.
    start, end, shortest = 0, 0, min(len(old_keys), len(new_keys))
    while start < shortest and old_keys[start] == new_keys[start]:
        start += 1
    while end < shortest - start and old_keys[-1 - end] == new_keys[-1 - end]:
        end += 1
    position = {k: i for i, k in enumerate(new_keys)}
    middle = old_keys[start : len(old_keys) - end]
    kept = [k for k in middle if k in position]
    stable = _longest_increasing(kept, [position[k] for k in kept])
    moves = [
        [k, new_keys[i - 1] if i else None]
        for i, k in enumerate(new_keys[start : len(new_keys) - end], start)
        if k not in stable
    ]
    return {"removed": [k for k in middle if k not in position], "moves": moves}


def _longest_increasing(items: list[str], values: list[int]) -> set[str]:
    """The items of a longest strictly increasing subsequence of ``values``."""
    tails: list[int] = []  # tails[n]: index of the smallest last value of a run of n + 1
    previous: list[int] = [-1] * len(values)
    for i, v in enumerate(values):
        n = _bisect(tails, values, v)
        if n:
            previous[i] = tails[n - 1]
        if n == len(tails):
            tails.append(i)
        else:
            tails[n] = i
    found: set[str] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        found.add(items[i])
        i = previous[i]
    return found


def _bisect(tails: list[int], values: list[int], v: int) -> int:
    """The first run length whose tail value is not below ``v``."""
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[tails[mid]] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


def apply_diff(old: dict[str, Any] | None, diff: dict[str, Any]) -> dict[str, Any]:
    """The table a client holds after applying ``diff`` to ``old``: the contract's
    algorithm, here so that the tests check the server's diffs against it."""
    old = old or {}
    rows = old.get("rows") or []
    if diff.get("remap"):
        rows = [dict(r, cells=_remapped(r["cells"], diff["remap"])) for r in rows]
    by_key = {r["key"]: r for r in rows}
    for row in diff["rows"]:
        by_key[row["key"]] = row
    keys = [r["key"] for r in rows]
    if diff.get("order") is not None:
        keys = diff["order"]
    elif diff.get("order_edit"):
        removed = set(diff["order_edit"]["removed"])
        keys = [k for k in keys if k not in removed]
        for key, after in diff["order_edit"]["moves"]:
            if key in keys:
                keys.remove(key)
            keys.insert(keys.index(after) + 1 if after is not None else 0, key)
    table = {k: v for k, v in old.items() if k != "rows"}
    table.update(diff["table"])
    table["rows"] = [by_key[k] for k in keys if k in by_key]
    return table
