"""The experiment table as JSON, CSV or Markdown text, answered from the last answer
when nothing it read moved (:mod:`.show_stamp`).

Every front end that asks for the table as text (the CLI, ``%exp show --json``, a
Python caller of ``show_text``) goes through here, so each gets the cache.
"""

from __future__ import annotations

import json

from ..project import Project
from . import show_stamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..options import ShowOptions

FORMATS = ("json", "csv", "md")


def formatted(
    project: Project,
    options: ShowOptions,
    fmt: str,
    *,
    precision: int | None = None,
    sha: bool = False,
    tty: bool = False,
) -> str:
    """The table in ``fmt`` (json, csv or md); see ``jupyter_exp.show_text``."""
    if fmt not in FORMATS:
        from ..errors import JupyterExpError

        raise JupyterExpError(f"Unknown table format '{fmt}'; use one of {', '.join(FORMATS)}.")
    options = options._replace(deps=fmt == "csv")  # CSV carries the dependency columns, as DVC's
    key = dict(options.key(), format=fmt, precision=precision, sha=sha, tty=tty)
    if not options.force:
        known = show_stamp.lookup(project, key)
        if known is not None:
            return known  # without importing the table's engine
    from ..render import json as render_json
    from ..render import text as render_text
    from . import show
    from .annotations import annotate

    if not options.force:
        taken = show_stamp.file_stats(show.workspace_files(project))
    rows, cols = show.select(project, options)
    notes = annotate(project, rows)  # notes, tags, `-m` messages: extra columns / meta keys
    if fmt == "json":
        # Indented for people; compact (and C-encoded, ten times faster) for programs.
        text = json.dumps(render_json.exp_show(rows, notes), indent=2 if tty else None, default=str) + "\n"
    else:
        digits = precision if precision is not None else (None if fmt == "csv" else 5)
        cells = render_text.table_rows(rows, cols, digits, sha, csv_mode=fmt == "csv", annotations=notes)
        text = render_text.csv_text(*cells) if fmt == "csv" else render_text.pipe_markdown(*cells)
    # Not kept: rows with errors (a pull may mend them) or running (their engine may
    # die without a file changing).
    if not options.force and not any(
        (row.data.has_errors and row.kind != "workspace") or row.state == "running" for row in rows
    ):
        show_stamp.record(project, key, text, taken)
    return text
