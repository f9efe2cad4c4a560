"""Why a cell of the table shows ``!``: the file it comes from and why that file could
not be read (or, for the Note column, why the stored note could not)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..experiments.annotations import Annotation, Annotations

if TYPE_CHECKING:
    from ..experiments.collect import ExpRow
    from ..experiments.columns import Column

BROKEN = object()  # a cell of a file that failed to parse (not a str: values can be "!")


def cell_reasons(
    row: ExpRow, values: dict[str, Any], visible: list[str], by_id: dict[str, Column], annotations: Annotations
) -> dict[str, str]:
    """Column id -> ``file: reason`` for each of ``row``'s visible cells that is BROKEN."""
    found = {}
    for cid in visible:
        if values[cid] is not BROKEN:
            continue
        if cid == "note":
            noted = annotations.get(row.rev) or Annotation()
            found[cid] = f"note: {noted.error}"
            continue
        col = by_id[cid]
        entry = getattr(row.data, col.group).get(col.file)
        reason = (entry.error.msg if entry is not None and entry.error is not None else "").strip()
        found[cid] = f"{col.file}: {reason.splitlines()[0] if reason else 'cannot be read'}"
    return found


def common_reasons(found: Iterable[dict[str, str]]) -> dict[str, str]:
    """Column id -> the reason most of its ``!`` cells share."""
    counted: dict[str, Counter] = {}
    for errors in found:
        for cid, reason in errors.items():
            counted.setdefault(cid, Counter())[reason] += 1
    return {cid: counter.most_common(1)[0][0] for cid, counter in counted.items()}
