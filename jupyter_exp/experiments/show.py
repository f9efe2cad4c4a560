"""``exp show``: the rows collected, the columns chosen and the rows ordered as the
flags say. Rendering them lives in ``render/`` (text, JSON, DataFrame); ``columns.py``
is the model they share."""

from __future__ import annotations

from ..errors import JupyterExpError
from ..options import ShowOptions
from ..project import Project
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


def select(project: Project, options: ShowOptions = ShowOptions()) -> tuple[list[ExpRow], list[Column]]:
    """Collect the rows and choose and order the columns as ``options`` say (``exp
    show``'s selection; queued or failed experiments left out on request, as DVC)."""
    from .collect import collect

    if options.sort_order not in ("asc", "desc"):
        raise JupyterExpError(f"Unknown sort order '{options.sort_order}'; use asc or desc.")
    rows = collect(
        project,
        revs=list(options.revs) if options.revs is not None else None,
        num=options.num,
        all_branches=options.all_branches,
        all_tags=options.all_tags,
        all_commits=options.all_commits,
        hide_workspace=options.hide_workspace,
        param_deps=options.param_deps,
        force=options.force,
    )
    return arrange(rows, options)


def arrange(
    rows: list[ExpRow], options: ShowOptions = ShowOptions(), memo: ColumnsMemo | None = None
) -> tuple[list[ExpRow], list[Column]]:
    """Collected rows as ``select`` gives them: the columns chosen, rows left out and
    ordered as ``options`` say (its collection fields are not read here). ``memo``: the
    columns worked out from the last answer (a table that follows its project)."""
    if options.sort_order not in ("asc", "desc"):
        raise JupyterExpError(f"Unknown sort order '{options.sort_order}'; use asc or desc.")
    hidden = {"queued"} if options.hide_queued else set()
    hidden |= {"failed"} if options.hide_failed else set()
    if hidden:
        rows = [row for row in rows if row.kind != "experiment" or row.state not in hidden]
    cols = memo.columns(rows) if memo is not None and not options.deps else columns(rows, deps=options.deps)
    rows = sort_rows(rows, cols, options.sort_by, options.sort_order)
    keep = list(options.keep) if options.keep is not None else None
    drop = list(options.drop) if options.drop is not None else None
    cols = filter_columns(rows, cols, keep=keep, drop=drop, only_changed=options.only_changed)
    return rows, cols


def workspace_files(project) -> list:
    """Every file the workspace row of ``exp show`` reads (for the output stamp)."""
    from ..params_metrics import read_metrics, read_params
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
    return paths + [project.config_file, project.local_config_file, project.queue_dir]


def to_dataframe(rows: list[ExpRow], cols: list[Column]):
    """Moved to ``render/frame.py`` (``experiments``); kept here, lazy, for callers of
    the old name: pandas is imported only when a frame is asked for."""
    from ..render import frame

    return frame.experiments(rows, cols)
