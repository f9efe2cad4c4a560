"""Results that render themselves: as text in a terminal, as HTML in a notebook, and
as a pandas DataFrame on request. The CLI prints ``str(result)``; a magic returns the
object and Jupyter renders it. pandas is imported only when a frame is asked for.

Each class wraps engine records it is given (rows, diffs, queue entries); none calls
back into the api. The queue's status line asks the engine for fresh counts."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .render import text
from .values import DiffRow, FileValues

if TYPE_CHECKING:
    from .experiments.executor import Outcome


def _html_table(headers: list[str], body: list[list[str]], caption: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="jupyter-exp">{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


class ExperimentTable:
    """The ``exp show`` table: ``.to_dataframe()``, ``.to_json()``, text and HTML."""

    def __init__(
        self, rows: list, columns: list, precision: int | None = 5, sha: bool = False, annotations: dict | None = None
    ) -> None:
        self.rows = rows
        self.columns = columns
        self.precision = precision
        self.sha = sha
        self.annotations = annotations  # notes, tags and messages by commit (experiments/annotations.py)

    def to_dataframe(self):
        from .render import frame

        return frame.experiments(self.rows, self.columns, self.annotations)

    def to_json(self) -> list[dict]:
        from .render import json

        return json.exp_show(self.rows, self.annotations)

    def _cells(self) -> text.Cells:
        return text.table_rows(self.rows, self.columns, self.precision, self.sha, annotations=self.annotations)

    def __str__(self) -> str:
        return text.ruled(*self._cells())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return _html_table(*self._cells())

    def __len__(self) -> int:
        return len(self.rows)


class DiffTable:
    """Differences of params or metrics between two sides, as rows of DiffRow."""

    def __init__(
        self,
        rows: list[DiffRow],
        a_name: str,
        b_name: str,
        what: str,
        with_change: bool = True,
        precision: int | None = 5,
        round_digits: bool = False,
        on_empty_diff: str | None = None,
    ) -> None:
        self.rows = list(rows)
        self.round_digits = round_digits
        self.on_empty_diff = on_empty_diff  # the Change of a value that is not a number
        self.a_name, self.b_name = a_name, b_name
        self.what = what  # "Param" or "Metric"
        self.with_change = with_change
        self.precision = precision

    def _cells(self) -> text.Cells:
        return text.diff_cells(
            self.rows,
            self.a_name,
            self.b_name,
            self.what,
            self.with_change,
            self.precision,
            self.round_digits,
            self.on_empty_diff,
        )

    def to_dataframe(self):
        from .render import frame

        return frame.diff(self.rows)

    def __str__(self) -> str:
        return text.table(*self._cells()) if self.rows else ""

    def __repr__(self) -> str:
        return str(self) or f"No {self.what.lower()} changes."

    def _repr_html_(self) -> str:
        return _html_table(*self._cells()) if self.rows else f"<p>No {self.what.lower()} changes.</p>"


class ExpDiffView:
    """``exp diff``: a metrics table and a params table."""

    def __init__(self, result: Any, precision: int | None = 5) -> None:
        self.result = result
        empty = text.EXP_DIFF_EMPTY
        self.metrics = DiffTable(
            list(result.metrics), result.a_name, result.b_name, "Metric", True, precision, on_empty_diff=empty
        )
        self.params = DiffTable(  # params as they are, as DVC
            list(result.params), result.a_name, result.b_name, "Param", True, None, on_empty_diff=empty
        )

    def to_dataframe(self):
        from .render import frame

        return frame.exp_diff(self.metrics.rows, self.params.rows)

    def __str__(self) -> str:
        # DVC prints both tables with an empty line between, an empty table as nothing
        return (str(self.metrics) + "\n" + str(self.params)) if self.metrics.rows or self.params.rows else ""

    def __repr__(self) -> str:
        return str(self) or "No changes."

    def _repr_html_(self) -> str:
        return self.metrics._repr_html_() + self.params._repr_html_()


class MetricsView:
    """``metrics show``: ``{rev: {"data": {file: {"data": nested}}}}`` (DVC's shape, as the
    api returns it) as DVC's table: one row per file, a column per metric."""

    def __init__(self, shown: dict[str, dict], precision: int | None = 5, with_revision: bool = False) -> None:
        self.shown = shown
        self.precision = precision
        self.with_revision = with_revision
        self._records = {
            rev: {path: FileValues.from_dvc(v) for path, v in value.get("data", {}).items()}
            for rev, value in shown.items()
        }

    def _cells(self) -> text.Cells:
        return text.metrics_cells(self._records, self.precision, self.with_revision)

    def markdown(self) -> str:
        headers, body = self._cells()
        return text.table(headers, body, markdown=True) if body else ""

    def to_dataframe(self):
        from .render import frame

        return frame.metrics(self._records)

    def __str__(self) -> str:
        headers, body = self._cells()
        return text.table(headers, body) if body else ""

    def __repr__(self) -> str:
        return str(self) or "No metrics."

    def _repr_html_(self) -> str:
        return _html_table(*self._cells())


class QueueStatus:
    """``queue status``: every entry with its state, and the workers."""

    def __init__(self, entries: list, workers: list) -> None:
        self.entries = entries
        self.workers = workers

    def _cells(self) -> text.Cells:
        return text.queue_cells(self.entries)

    def to_dataframe(self):
        from .render import frame

        return frame.queue(self.entries)

    def counts(self) -> dict[str, int]:
        from .experiments.live_state import count_states

        return count_states(self.entries)

    def _workers_line(self) -> str:
        if not self.workers:
            return "Workers: none"
        kinds = ", ".join(f"{w.kind} {w.pid} (-j {w.jobs})" for w in self.workers)
        return f"Workers: {len(self.workers)} alive: {kinds}"

    def __str__(self) -> str:
        headers, body = self._cells()
        table = text.table(headers, body) if body else "No experiments in the queue.\n"
        return table + self._workers_line() + "\n"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return _html_table(*self._cells()) + f"<p>{html.escape(self._workers_line())}</p>"


class QueueStatusLine:
    """One line in a notebook cell, updated in place (an IPython display handle) as the
    background worker finishes experiments: "Queue: 1 running, 2 queued, 3 done, 1 failed"."""

    def __init__(self, handle: Any, root: str | None = None) -> None:
        self.handle = handle  # an IPython display handle (None until shown)
        self.root = root
        self.jobs: int | None = None
        self.last: Outcome | None = None

    def show(self, started: int) -> None:
        """Display the line in the current cell (until then, ``refresh`` shows nothing)."""
        from IPython.display import display

        self.jobs = started
        self.handle = display(_Line(self.text()), display_id=True)

    def text(self) -> str:
        from .experiments.live_state import queue_counts
        from .project import Project

        counts = queue_counts(Project.find(self.root))
        parts = [f"{counts['running']} running", f"{counts['queued']} queued", f"{counts['success']} done"]
        if counts["failed"]:
            parts.append(f"{counts['failed']} failed")
        head = f"Queue (-j {self.jobs}): " if self.jobs else "Queue: "
        tail = f"; last: {self.last.name} {self.last.state}" if self.last is not None else ""
        return head + ", ".join(parts) + tail

    def refresh(self, outcome: Outcome | None = None, started: int | None = None) -> None:
        """Called from the worker thread; throttled by nature (once per experiment)."""
        if started is not None:
            self.jobs = started
        if outcome is not None:
            self.last = outcome
        if self.handle is not None:
            self.handle.update(_Line(self.text()))


class _Line:
    def __init__(self, text: str) -> None:
        self.value = text

    def __repr__(self) -> str:
        return self.value

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(self.value)}</code>"
