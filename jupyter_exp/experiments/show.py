"""``exp show``: the rows collected, the columns chosen and the rows ordered as the
flags say. Rendering them lives in ``render/`` (text, JSON, DataFrame); ``columns.py``
is the model they share."""

from __future__ import annotations

from ..errors import JupyterExpError
from .collect import ExpRow
from .columns import ERROR, MISSING, Column, columns, filter_columns, find_column, value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .columns_memo import ColumnsMemo


def sort_rows(rows: list[ExpRow], cols: list[Column], sort_by: str | None, sort_order: str = "asc") -> list[ExpRow]:
    """Sort experiments within each baseline by a column (``key`` or ``file:key``)."""
    if not sort_by:
        return rows
    col = find_column(cols, sort_by)

    def key(row: ExpRow):
        v = value(row, col)
        missing = v in (MISSING, ERROR)
        return (missing, 0 if missing else (0, v) if isinstance(v, (int, float)) else (1, str(v)))

    result: list[ExpRow] = []
    group: list[ExpRow] = []

    def flush() -> None:
        present = sorted([r for r in group if not key(r)[0]], key=key, reverse=sort_order == "desc")
        absent = [r for r in group if key(r)[0]]
        result.extend(present + absent)
        group.clear()

    for row in rows:
        if row.kind in ("workspace", "baseline"):
            flush()
            result.append(row)
        else:
            group.append(row)
    flush()
    return result


def select(
    project,
    *,
    revs: list[str] | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
    force: bool = False,
    sort_by: str | None = None,
    sort_order: str = "asc",
    only_changed: bool = False,
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    deps: bool = False,
    hide_queued: bool = False,
    hide_failed: bool = False,
) -> tuple[list[ExpRow], list[Column]]:
    """Collect the rows and choose and order the columns, as ``exp show`` flags say
    (``hide_queued``/``hide_failed``: leave out queued or failed experiments, as DVC)."""
    from .collect import collect

    if sort_order not in ("asc", "desc"):
        raise JupyterExpError(f"Unknown sort order '{sort_order}'; use asc or desc.")
    rows = collect(
        project,
        revs=revs,
        num=num,
        all_branches=all_branches,
        all_tags=all_tags,
        all_commits=all_commits,
        hide_workspace=hide_workspace,
        param_deps=param_deps,
        force=force,
    )
    return arrange(
        rows,
        sort_by=sort_by,
        sort_order=sort_order,
        only_changed=only_changed,
        keep=keep,
        drop=drop,
        deps=deps,
        hide_queued=hide_queued,
        hide_failed=hide_failed,
    )


def arrange(
    rows: list[ExpRow],
    *,
    sort_by: str | None = None,
    sort_order: str = "asc",
    only_changed: bool = False,
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    deps: bool = False,
    hide_queued: bool = False,
    hide_failed: bool = False,
    memo: ColumnsMemo | None = None,
) -> tuple[list[ExpRow], list[Column]]:
    """Collected rows as ``select`` gives them: the columns chosen, rows left out and
    ordered as the flags say. ``memo``: the columns worked out from the last answer (a
    table that follows its project)."""
    if sort_order not in ("asc", "desc"):
        raise JupyterExpError(f"Unknown sort order '{sort_order}'; use asc or desc.")
    hidden = {"queued"} if hide_queued else set()
    hidden |= {"failed"} if hide_failed else set()
    if hidden:
        rows = [row for row in rows if row.kind != "experiment" or row.state not in hidden]
    cols = memo.columns(rows) if memo is not None and not deps else columns(rows, deps=deps)
    rows = sort_rows(rows, cols, sort_by, sort_order)
    cols = filter_columns(rows, cols, keep=keep, drop=drop, only_changed=only_changed)
    return rows, cols


def workspace_files(project) -> list:
    """Every file the workspace row of ``exp show`` reads (for the output stamp)."""
    from ..compare import read_metrics, read_params
    from ..pipeline.dvcfile import load_pipeline
    from ..pipeline.lock import lock_path_for
    from ..tree import WorkspaceTree

    tree = WorkspaceTree(project.root)
    try:
        pipeline = load_pipeline(project.root, tree=tree)
    except JupyterExpError:
        return [project.root / "dvc.yaml"]
    files = {*pipeline.sources, lock_path_for(pipeline.dvcfile), "params.yaml"}
    files |= set(read_params(project, tree, pipeline=pipeline)) | set(read_metrics(project, tree, pipeline=pipeline))
    paths = [project.root / f for f in sorted(files)]
    # The queue's records: an entry that starts, fails or succeeds changes the table.
    return paths + [project.dvc_dir / "config", project.dvc_dir / "config.local", project.own_tmp_dir / "queue"]


def to_dataframe(rows: list[ExpRow], cols: list[Column]):
    """Moved to ``render/frame.py`` (``experiments``); kept here, lazy, for callers of
    the old name: pandas is imported only when a frame is asked for."""
    from ..render import frame

    return frame.experiments(rows, cols)
