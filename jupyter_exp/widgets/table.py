"""The experiment table in a notebook: an anywidget that holds the table's state as
traits and forwards the front end's messages to a host-neutral ``TableController``
(``jupyter_exp.table``). Nothing here sorts, filters, collects or edits a repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..project import Project
from ..table.controller import TableController
from ..table.view import TableState

HERE = Path(__file__).parent


class ExperimentTableWidget(anywidget.AnyWidget):
    """The experiment table of ``%exp show`` and ``jupyter_exp.show_table()``.

    The rows are those of ``jupyter_exp.show()`` (``to_dataframe()`` returns that
    DataFrame); sorting, filters, column choices and stars persist per project.
    """

    _esm = HERE / "table.js"
    _css = HERE / "table.css"

    table = traitlets.Dict(help="the rows and columns on screen (view.build)").tag(sync=True)
    prefs = traitlets.Dict(help="sort, filters, columns and stars (view.TableState)").tag(sync=True)
    selected = traitlets.List(traitlets.Unicode(), help="keys of the selected rows").tag(sync=True)
    message = traitlets.Unicode("", help="the last action's one-line outcome").tag(sync=True)
    message_kind = traitlets.Unicode("", help="info | error").tag(sync=True)
    message_time = traitlets.Float(0.0, help="when the message was said (epoch seconds), to fade it").tag(sync=True)
    pending = traitlets.Dict(help="a question to the user before an action runs").tag(sync=True)
    panel = traitlets.Dict(help="diff, plots or compare: {'kind', 'title', ...}").tag(sync=True)
    download = traitlets.Dict(help="an export to save: {'filename', 'mime', 'text'}").tag(sync=True)
    live = traitlets.Bool(False, help="whether the table follows running experiments").tag(sync=True)

    def __init__(self, root: str | None = None, *, live: bool = True, **options: Any) -> None:
        super().__init__()
        self.controller = TableController(Project.find(root), options, is_open=lambda: self.comm is not None)
        self._push(self.controller.state)
        self.controller.on_change(self._push)
        self.observe(self._selection_from_front_end, names="selected")  # a checkbox's save_changes()
        self.on_msg(self._on_message)
        if live:
            self.start_live()

    def _push(self, patch: dict) -> None:
        with self.hold_sync():
            for name, value in patch.items():
                setattr(self, name, value)

    def _selection_from_front_end(self, change: dict) -> None:
        self.controller.handle({"type": "select", "keys": change["new"]})

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        self.controller.handle(content)

    def handle(self, content: dict) -> None:
        """One message as the front end sends it (also the Python way to drive the
        table); raises what goes wrong."""
        self.controller.dispatch(content)

    # -- the controller's, for Python users ---------------------------------------------
    @property
    def project(self) -> Project:
        return self.controller.project

    @property
    def _rows(self) -> list:  # the collected rows (tests name rows by them)
        return self.controller.rows

    @property
    def _watcher(self):
        return self.controller.watcher

    def refresh(self) -> None:
        """Collect the experiments again and redraw."""
        self.controller.refresh()

    def to_dataframe(self, visible: bool = False):
        """The same DataFrame as ``jupyter_exp.show()``, in collection order; with
        ``visible``, the rows and columns the table shows, in its order."""
        return self.controller.to_dataframe(visible=visible)

    # Not ``state``/``set_state``: ipywidgets' own set_state receives the front end's
    # trait updates.
    @property
    def preferences(self) -> TableState:
        """The table's preferences (sort, filters, columns, stars)."""
        return self.controller.preferences

    def set_preferences(self, state: TableState) -> None:
        """Change the preferences (saved for the project) and redraw."""
        self.controller.set_preferences(state)

    def column_for(self, name: str) -> str:
        """The column id of a param or metric named as ``--sort-by`` takes it."""
        return self.controller.column_for(name)

    def start_live(self) -> None:
        """Follow the project: new experiments, queue states and checkpoint progress
        appear without re-running the cell."""
        self.controller.start_live()

    def stop_live(self) -> None:
        self.controller.stop_live()

    def close(self) -> None:
        controller = getattr(self, "controller", None)  # None when __init__ failed
        if controller is not None:
            controller.close()
        super().close()

    # -- static renderers (nbconvert, GitHub, a terminal) -------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        from ..display import ExperimentTable

        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if data is None:  # nothing to add the static views to
            return bundle
        static = ExperimentTable(self.controller.rows, self.controller.cols, annotations=self.controller.annotations)
        data["text/plain"] = str(static)
        data["text/html"] = static._repr_html_()
        return bundle

    def __repr__(self) -> str:
        return f"<ExperimentTableWidget: {len(self.controller.rows)} rows>"
