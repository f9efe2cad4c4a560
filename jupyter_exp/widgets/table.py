"""The interactive experiment table: an anywidget whose Python side holds traits and
forwards the front end's messages to pure functions (view.py, plots.py) and to the
api. Nothing here sorts, filters or edits a repository by itself."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..errors import JupyterExpError
from ..experiments import show as show_table
from ..experiments.checkpoints import read_progress
from ..experiments.collect import ExpRow
from ..experiments.workers import list_workers
from ..project import Project
from ..serialize import write_text_atomic
from . import plots, view

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
POLL_SECONDS = 0.5  # how often the watcher looks at file stats (no git process)
MIN_REFRESH_SECONDS = 1.0  # at most one re-collection a second while things change
CPU_SHARE = 0.03  # and no more often than keeps refreshing under 3% of a core
# Re-running a cell leaves the old table's model alive (ipywidgets keeps every widget
# until it is closed): only the newest few tables of a project follow it live.
MAX_LIVE_TABLES = 3
_live_tables: dict[Path, list[weakref.ref]] = {}
ROW_ACTIONS = ("apply", "branch", "rename", "remove", "push", "requeue")
MULTI_ACTIONS = ("diff", "plot")


def prefs_path(project: Project) -> Path:
    return project.own_tmp_dir / "table.json"


def load_prefs(project: Project) -> view.TableState:
    try:
        return view.TableState.from_json(json.loads(prefs_path(project).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return view.TableState()


def save_prefs(project: Project, state: view.TableState) -> None:
    path = prefs_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(state.to_json(), indent=1))


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
    pending = traitlets.Dict(help="a question to the user before an action runs").tag(sync=True)
    panel = traitlets.Dict(help="diff or plots: {'kind', 'title', 'html'}").tag(sync=True)
    live = traitlets.Bool(False, help="whether the table follows running experiments").tag(sync=True)

    def __init__(self, root: str | None = None, *, live: bool = True, **options: Any) -> None:
        super().__init__()
        self.project = Project.find(root)
        self._options = options  # show.select's: num, all_branches, all_commits, ...
        self._lock = threading.RLock()
        self._state = load_prefs(self.project)
        self._rows: list[ExpRow] = []
        self._cols: list[show_table.Column] = []
        self._progress: dict[str, dict] = {}
        self._workers = 0
        self._watcher: _Watcher | None = None
        self.on_msg(self._on_message)
        self.refresh()
        if live:
            self.start_live()

    # -- data ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Collect the experiments again and redraw."""
        with self._lock:
            self._rows, self._cols = show_table.select(self.project, **self._options)
            self._progress = running_progress(self.project, self._rows)
            self._workers = len(list_workers(self.project))
            self._redraw()

    def _redraw(self) -> None:
        table = view.build(view.with_running(self._rows, self._progress), self._cols, self._state,
                           self._progress)
        table["counts"]["workers"] = self._workers
        with self.hold_sync():
            self.table = table
            self.prefs = self._state.to_json()

    def to_dataframe(self):
        """The same DataFrame as ``jupyter_exp.show()``, in collection order."""
        return show_table.to_dataframe(self._rows, self._cols)

    # Not ``state``/``set_state``: ipywidgets' own set_state receives the front end's
    # trait updates.
    @property
    def preferences(self) -> view.TableState:
        """The table's preferences (sort, filters, columns, stars)."""
        return self._state

    def set_preferences(self, state: view.TableState) -> None:
        """Change the preferences (saved for the project) and redraw."""
        with self._lock:
            self._set_state(state)

    def column_for(self, name: str) -> str:
        """The column id of a param or metric named as ``--sort-by`` takes it."""
        return view.column_id(show_table.find_column(self._cols, name))

    def _set_state(self, state: view.TableState) -> None:
        self._state = state
        save_prefs(self.project, state)
        self._redraw()

    # -- messages from the front end ----------------------------------------------
    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        try:
            with self._lock:
                self.handle(content)
        except JupyterExpError as exc:
            self._say(str(exc), "error")
        except Exception as exc:  # noqa: BLE001 - the widget must survive; the log keeps the traceback
            log.exception("experiment table: %s failed", content.get("type"))
            self._say(f"{type(exc).__name__}: {exc}", "error")

    def handle(self, content: dict) -> None:
        """One message as the front end sends it (also the Python way to drive the table)."""
        kind = content.get("type")
        state = self._state
        if kind == "sort":
            self._set_state(view.toggle_sort(state, content["column"], bool(content.get("add"))))
        elif kind == "filter":
            flt = view.Filter(content["column"], content["op"], str(content.get("value", "")))
            kinds = {c["id"]: c["type"] for c in self.table["all_columns"]}
            self._set_state(view.add_filter(state, flt, kinds))
        elif kind == "unfilter":
            index = int(content["index"])
            self._set_state(replace(state, filters=state.filters[:index] + state.filters[index + 1:]))
        elif kind == "option":  # only_changed, starred_only
            name = content["name"]
            if name not in ("only_changed", "starred_only"):
                raise JupyterExpError(f"Unknown table option '{name}'.")
            self._set_state(replace(state, **{name: bool(content["value"])}))
        elif kind == "star":
            self._set_state(replace(state, starred=view.toggle(state.starred, content["key"])))
        elif kind == "expand":
            self._set_state(replace(state, expanded=view.toggle(state.expanded, content["key"])))
        elif kind == "hide":
            self._set_state(replace(state, hidden=view.toggle(state.hidden, content["column"])))
        elif kind == "move":
            ids = [c["id"] for c in self.table["all_columns"]]
            self._set_state(view.move_column(state, ids, content["column"], int(content["by"])))
        elif kind == "reset":
            self._set_state(replace(view.TableState(), starred=state.starred))
        elif kind == "select":
            self.selected = [str(k) for k in content["keys"]]
        elif kind == "refresh":
            self.refresh()
        elif kind == "cancel":
            self.pending = {}
        elif kind == "close-panel":
            self.panel = {}
        elif kind == "queue":  # the toolbar's run / stop buttons
            self._queue(content.get("op"), int(content.get("jobs") or 1))
        elif kind == "action":
            self._action(content["action"], list(content.get("keys") or self.selected),
                         content.get("arg"), bool(content.get("confirmed")))
        else:
            raise JupyterExpError(f"Unknown table message '{kind}'.")

    def _queue(self, op: str | None, jobs: int) -> None:
        import jupyter_exp as api

        root = str(self.project.root)
        if op == "start":
            # A thread of this kernel, as `%exp queue start` starts it; the table follows.
            api.queue_start(jobs, threads=True, root=root)
            self._say(f"Started a queue worker running {jobs} at a time.")
        elif op == "stop":
            api.queue_stop(root=root)
            self._say("The queue stops after the experiments running now.")
        else:
            raise JupyterExpError(f"Unknown queue operation '{op}'; use start or stop.")
        self.refresh()

    def _say(self, text: str, kind: str = "info") -> None:
        with self.hold_sync():
            self.message = text.strip().splitlines()[0] if text.strip() else ""
            self.message_kind = kind

    # -- actions --------------------------------------------------------------------
    def _row(self, key: str) -> ExpRow:
        for row in self._rows:
            if view.row_key(row) == key:
                return row
        raise JupyterExpError(f"No row '{key}' in the table any more; refresh it.")

    @staticmethod
    def _exp_name(row: ExpRow, action: str) -> str:
        if row.kind == "checkpoint":
            return row.rev
        if row.kind != "experiment":
            raise JupyterExpError(f"{action.capitalize()} works on experiments; pick an experiment row.")
        return row.name or row.rev

    def _action(self, action: str, keys: list[str], arg: Any, confirmed: bool) -> None:
        import jupyter_exp as api

        if action not in ROW_ACTIONS + MULTI_ACTIONS:
            raise JupyterExpError(f"Unknown action '{action}'.")
        if not keys:
            raise JupyterExpError(f"Select a row to {action}.")
        rows = [self._row(k) for k in keys]
        root = str(self.project.root)
        self.pending = {}
        if action in ("apply", "branch", "rename", "requeue") and len(rows) != 1:
            raise JupyterExpError(f"{action.capitalize()} takes one experiment; select one row.")
        if action == "diff":
            if len(rows) > 2:
                raise JupyterExpError("Diff compares two rows; select one or two.")
            a, b = (self._rev_spec(rows[0]), None) if len(rows) == 1 else map(self._rev_spec, rows)
            from ..display import ExpDiffView

            result = api.diff(a, b, root=root) if len(rows) == 2 else api.diff(a, root=root)
            shown = ExpDiffView(result)
            self.panel = {"kind": "diff", "title": f"Diff {result.a_name} → {result.b_name}",
                          "html": shown._repr_html_() or "<p>No changes.</p>"}
            self._say("")
            return
        if action == "plot":
            x, y = arg if isinstance(arg, list) and len(arg) == 2 else (None, None)
            colours = plots.assign_colours(dict(self._state.colours), [r.name or r.rev[:7] for r in rows])
            if colours != dict(self._state.colours):
                self._set_state(replace(self._state, colours=tuple(colours.items())))
            shown, x, y = plots.render(self.project, rows, self._rows, self._cols, x, y, colours)
            params, metrics = plots.axes(rows, self._cols)
            self.panel = {"kind": "plot", "title": "Plots of " + ", ".join(r.name or r.rev[:7] for r in rows),
                          "html": shown, "keys": keys, "x": x, "y": y, "params": params, "metrics": metrics}
            self._say("")
            return
        names = [self._exp_name(r, action) for r in rows]
        shown = ", ".join(r.name or r.rev[:7] for r in rows)
        if action == "apply":
            api.apply(names[0], root=root, echo=lambda _text: None)
            self._say(f"Applied '{shown}' to the workspace.")
        elif action in ("branch", "rename"):
            if not arg:
                verb = "Branch name for" if action == "branch" else "New name for"
                self.pending = {"action": action, "keys": keys, "prompt": f"{verb} '{shown}':",
                                "input": True, "value": ""}
                return
            if action == "branch":
                api.branch(names[0], str(arg), root=root)
                self._say(f"Created branch '{arg}' from '{shown}'.")
            else:
                api.rename(names[0], str(arg), root=root)
                self._say(f"Renamed '{shown}' to '{arg}'.")
        elif action == "remove":
            if not confirmed:
                self.pending = {"action": "remove", "keys": keys, "input": False,
                                "prompt": f"Remove {len(rows)} experiment(s): {shown}?"}
                return
            removed = api.remove(names, root=root)
            self.selected = [k for k in self.selected if k not in keys]
            self._say(f"Removed {', '.join(removed)}.")
        elif action == "push":
            remote = arg or self._default_remote()
            if not remote:
                self.pending = {"action": "push", "keys": keys, "prompt": "Push to git remote:",
                                "input": True, "value": ""}
                return
            pushed = api.push(str(remote), names, root=root)
            self._say(f"Pushed {', '.join(pushed) or 'nothing new'} to {remote}.")
        elif action == "requeue":
            row = rows[0]
            if not isinstance(arg, dict):
                self.pending = {"action": "requeue", "keys": keys, "input": False,
                                "prompt": f"Queue '{shown}' again with these params:",
                                "params": view.param_fields(row, self._cols)}
                return
            overrides = view.requeue_overrides(row, self._rows, self._cols, arg)
            (entry, *_) = api.run(queue=True, set_params=overrides or None, root=root)
            self._say(f"Queued '{entry.name}' ({len(overrides)} param(s) set); "
                      "run it with `%exp queue start`.")
        self.refresh()

    @staticmethod
    def _rev_spec(row: ExpRow) -> str | None:
        if row.kind == "workspace":
            return "workspace"
        return row.name if row.kind == "experiment" and row.name else row.rev

    def _default_remote(self) -> str | None:
        remotes = self.project.git.run("remote").split()
        return "origin" if "origin" in remotes else (remotes[0] if len(remotes) == 1 else None)

    # -- live updates -------------------------------------------------------------------
    def start_live(self) -> None:
        """Follow the project: new experiments, queue states and checkpoint progress
        appear without re-running the cell (a daemon thread that stats files)."""
        if self._watcher is None:
            self._watcher = _Watcher(self)
            self._watcher.start()
        self.live = True
        tables = [ref for ref in _live_tables.get(self.project.root, [])
                  if (t := ref()) is not None and t is not self and t._watcher is not None]
        tables.append(weakref.ref(self))
        for ref in tables[:-MAX_LIVE_TABLES]:
            if (older := ref()) is not None:
                older.stop_live()
        _live_tables[self.project.root] = tables[-MAX_LIVE_TABLES:]

    def stop_live(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.live = False

    def close(self) -> None:
        self.stop_live()
        super().close()

    # -- static renderers (nbconvert, GitHub, a terminal) -------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        from ..display import ExperimentTable

        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        static = ExperimentTable(self._rows, self._cols)
        data["text/plain"] = str(static)
        data["text/html"] = static._repr_html_()
        return bundle

    def __repr__(self) -> str:
        return f"<ExperimentTableWidget: {len(self._rows)} rows>"


def running_progress(project: Project, rows: list[ExpRow]) -> dict[str, dict]:
    """Progress of each running experiment, by name: the latest checkpoint event
    (step, total, metrics) and, for queued runs, when its worker started it (the front
    end counts the elapsed time from there)."""
    running = {r.name for r in rows if r.state == "running" and r.name}
    progress = {e["experiment"]: dict(e) for e in read_progress(project)
                if e.get("state") == "running" and e.get("experiment")}
    if running:
        from ..experiments.queue import QueueStore

        for entry in QueueStore(project).entries():
            if entry.state == "running" and entry.name in running:
                event = progress.setdefault(entry.name, {"experiment": entry.name, "step": None,
                                                         "total": None, "metrics": {}})
                event["started"] = entry.started
    return progress


class _Watcher:
    """Polls file stats; on a change, refreshes the table (at most once a second).

    It holds the widget weakly: a widget that is dropped or closed ends the thread.
    Trait updates go straight out over IOPub, which is thread-safe (ipykernel 6 and
    7.0.1+): a foreground ``%exp run`` blocks the kernel's loop, and the table must
    move while it runs.
    """

    def __init__(self, widget: ExperimentTableWidget) -> None:
        self._widget = weakref.ref(widget)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jupyter-exp-table", daemon=True)
        self._project = widget.project
        self._files: list[Path] = show_table.workspace_files(self._project)
        self._last = self._stamp()
        self.refreshes = 0

    def _stamp(self) -> tuple:
        project = self._project
        stats = []
        folders = [project.own_tmp_dir / "progress", project.own_tmp_dir / "queue"]
        for folder in folders:
            try:
                stats.extend((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder))
            except FileNotFoundError:
                pass
        for path in self._files:
            try:
                st = path.stat()
                stats.append((str(path), st.st_mtime_ns, st.st_size))
            except OSError:
                pass
        return (project.git.refs_stamp(), tuple(sorted(stats)))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        next_allowed = 0.0
        while not self._stop.wait(POLL_SECONDS):
            widget = self._widget()
            if widget is None or widget.comm is None:  # closed
                return
            try:
                stamp = self._stamp()
                if stamp == self._last or time.monotonic() < next_allowed:
                    continue
                self._last = stamp
                started, cpu = time.monotonic(), time.thread_time()
                widget.refresh()
                self._files = show_table.workspace_files(self._project)
                self.refreshes += 1
                # A big table costs more to refresh: wait longer, keep the kernel's share small.
                cost = time.thread_time() - cpu
                next_allowed = started + max(MIN_REFRESH_SECONDS, cost / CPU_SHARE)
            except Exception as exc:  # noqa: BLE001 - a broken refresh must not kill the thread
                log.exception("experiment table: live refresh failed")
                widget._say(f"Live refresh failed: {exc}", "error")
            del widget  # hold it only while refreshing
