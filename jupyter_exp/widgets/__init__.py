"""Interactive widgets (anywidget): the experiment table with live progress.

Imported on demand: ``jupyter_exp.show_table()`` and ``%exp show`` in a kernel."""

from .table import ExperimentTableWidget

__all__ = ["ExperimentTableWidget"]
