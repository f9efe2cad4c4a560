"""The interactive experiment table: a notebook widget over the host-neutral table
controller, whose actions (apply, branch, queue again ...) call the other api modules.
It sits on top of them: nothing in the api imports it back."""

from __future__ import annotations

from . import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..widgets.table import ExperimentTableWidget

__all__ = ["show_table"]


def show_table(
    *,
    revs: list[str] | str | None = None,
    num: int = 1,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    hide_workspace: bool = False,
    param_deps: bool = False,
    live: bool = True,
    root: str | None = None,
) -> ExperimentTableWidget:
    """The interactive experiment table (what ``%exp show`` displays in a notebook).

    The rows of ``show()``, with multi-column sort, filters, column choices and stars
    (kept per project in ``.dvc/tmp/jupyter_exp/table.json``), row actions (apply,
    branch, rename, remove, push, queue again, diff, plot) and, with ``live``, progress
    of running experiments as they go.
    """
    from ..widgets.table import ExperimentTableWidget

    return ExperimentTableWidget(
        root,
        live=live,
        revs=as_list(revs),
        num=num,
        all_branches=all_branches,
        all_tags=all_tags,
        all_commits=all_commits,
        hide_workspace=hide_workspace,
        param_deps=param_deps,
    )
