"""The experiment table's logic, free of any host: its state, the messages the front
end sends, refreshing, and following the project live.

A host (the notebook widget in ``widgets/table.py``; JupyterLab's panel over a
websocket) creates a ``TableController``, shows ``state`` and every patch
``on_change`` passes it, and forwards the front end's messages to ``handle``.
Everything going in and out is plain JSON-able dicts, so no host needs a kernel."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import JupyterExpError
from ..experiments import collect, live_collect, live_state
from ..experiments import show as show_table
from ..experiments.annotations import Annotations, annotate, trial_labels
from ..experiments.collect import ExpRow
from ..experiments.columns_memo import ColumnsMemo
from ..experiments.notes import read_notes
from ..experiments.records import same_ends
from ..gc_pause import gc_paused
from ..options import ShowOptions
from ..project import Project
from ..refs import NOTES_DIR
from . import actions, export, studies, view
from .prefs import load_prefs, save_prefs
from .view_memo import ViewMemo
from .watcher import Watcher

log = logging.getLogger(__name__)
# A host that shows a new table without closing the old one (a re-run notebook cell)
# leaves the old one alive: only the newest few tables of a project follow it live.
MAX_LIVE_TABLES = 3
_live_tables: dict[Path, list[weakref.ref]] = {}

Patch = dict[str, Any]
# The options (show.select's) that choose what is collected; the others arrange it.
COLLECT_OPTIONS = ("revs", "num", "all_branches", "all_tags", "all_commits", "hide_workspace", "param_deps")
INITIAL_STATE: dict[str, Any] = {
    "table": {},  # the rows and columns on screen (view.build)
    "prefs": {},  # sort, filters, columns and stars (view.TableState.to_json)
    "selected": [],  # keys of the selected rows
    "message": "",  # the last action's one-line outcome
    "message_kind": "",  # info | error
    "message_time": 0.0,  # when it was said (seconds since the epoch): a front end fades it
    "pending": {},  # a question to the user before an action runs
    "panel": {},  # diff, plots or compare: {"kind", "title", ...}
    "download": {},  # an export to save: {"filename", "mime", "text"}
    "live": False,  # whether the table follows running experiments
}


class TableController:
    """One experiment table: the rows of ``show()`` for ``options`` (``show.select``'s:
    revs, num, all_branches, ...), with the project's saved preferences.

    ``state`` is what the front end draws; every change to it goes to the ``on_change``
    callbacks as a patch (the changed keys and their new values). ``is_open`` tells the
    watcher whether the host still shows the table. ``queue_in_process``: the toolbar's
    queue start runs the worker as a thread of this process (a kernel, which the table
    follows); False starts a detached worker process (a server, which must never run
    experiments itself and whose runs must outlive it).
    """

    def __init__(
        self,
        project: Project,
        options: dict[str, Any] | None = None,
        *,
        is_open: Callable[[], bool] | None = None,
        queue_in_process: bool = True,
    ) -> None:
        self.project = project
        self.options = dict(options or {})
        self.is_open = is_open or (lambda: True)
        self.queue_in_process = queue_in_process
        self.state: dict[str, Any] = {
            k: (type(v)() if isinstance(v, (dict, list)) else v) for k, v in INITIAL_STATE.items()
        }
        self.rows: list[ExpRow] = []
        self.cols: list[show_table.Column] = []
        self.annotations: Annotations = {}  # notes, tags and messages by commit
        self._notes: tuple[tuple, dict] = ((), {})  # the notes ref's folder stamp, and its notes
        self._annotated: tuple[list[ExpRow], dict[str, str]] | None = None  # rows and trials last annotated
        self._collected: collect.Collected | None = None
        self._columns_memo = ColumnsMemo()
        self._view_memo = ViewMemo()
        self.watcher: Watcher | None = None
        # When the last full collection ended, and the CPU seconds it took: the watcher
        # spaces its own full collections by it (whoever asked for the last one).
        self.collected_in_full: tuple[float, float] = (time.monotonic(), 0.0)
        self._prefs = load_prefs(project)
        self._progress: dict[str, dict] = {}
        self._studies: list[studies.StudyRows] = []  # the studies with trials among the rows
        self._workers = 0
        self._callbacks: list[Callable[[Patch], None]] = []
        self._lock = threading.RLock()
        self._closed = False
        self._handlers: dict[str, Callable[[dict], None]] = {
            "sort": self._sort,
            "filter": self._filter,
            "unfilter": self._unfilter,
            "option": self._option,
            "star": self._star,
            "expand": self._expand,
            "hide": self._hide,
            "move": self._move,
            "reset": self._reset,
            "select": self._select,
            "refresh": lambda _msg: self.refresh(),
            "cancel": lambda _msg: self._emit(pending={}),
            "close-panel": lambda _msg: self._emit(panel={}),
            "dismiss": lambda _msg: self._emit(message="", message_kind="", message_time=0.0),
            "queue": self._queue,
            "action": self._action,
            "note": self._note,
            "tag": self._tag,
            "export": self._export,
            "study": self._study,
        }
        self.refresh()

    # -- state out ------------------------------------------------------------------
    def on_change(self, callback: Callable[[Patch], None]) -> Callable[[], None]:
        """Call ``callback(patch)`` after each change of ``state``; returns a function
        that stops the calls."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def _emit(self, **patch: Any) -> None:
        with self._lock:
            self.state.update(patch)
            for callback in list(self._callbacks):
                callback(patch)

    def say(self, text: str, kind: str = "info") -> None:
        """Show a one-line message (the first line of ``text``), stamped with the time
        (``message_time``) so that a front end can let it fade; ``dismiss`` clears it."""
        line = text.strip().splitlines()[0] if text.strip() else ""
        self._emit(message=line, message_kind=kind, message_time=time.time() if line else 0.0)

    # -- data -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Collect the experiments again and redraw."""
        with self._lock, gc_paused():
            cpu = time.thread_time()
            options = ShowOptions.of(**self.options)
            settings = collect.settings_of(**{k: getattr(options, k) for k in COLLECT_OPTIONS})
            self._collected = collect.gather(self.project, settings, force=options.force, previous=self._collected)
            self._notes = ((), {})  # read again
            self._arrange(options)
            self.collected_in_full = (time.monotonic(), time.thread_time() - cpu)

    def refresh_live(self) -> None:
        """Bring the table up to date reading only what moves while experiments run:
        experiment refs added, moved or removed, the queue, progress and the workspace
        row (``live_collect.update``; everything again when HEAD, a branch, a tag or the
        DVC config moved). What the watcher calls on each change."""
        with self._lock, gc_paused():
            if self._collected is None:
                self.refresh()
                return
            self._collected = live_collect.update(self.project, self._collected)
            self._arrange(ShowOptions.of(**self.options))

    def _arrange(self, options: ShowOptions) -> None:
        assert self._collected is not None
        self.rows, self.cols = show_table.arrange(self._collected.rows, options, memo=self._columns_memo)
        self.annotations = self._annotate(self.rows)
        self._progress = live_state.running_progress(self.project, self.rows, running=self._collected.running)
        self._workers = live_state.worker_count(self.project)
        self._studies = studies.among(self.project, self.rows)
        self._redraw()

    def _annotate(self, rows: list[ExpRow]) -> Annotations:
        """The rows' notes, tags and messages; the notes ref is read again only when its
        folder moved (a live update of 10,000 rows runs no git process for them), and the
        last answer is kept when equal (a view memo keeps its cells while it is the same).

        A live update changes a few rows between an unchanged start and end of the list
        (the same row objects). Without notes (a note may be carried along a chain to
        another row) and with the same trials, when none of the rows that left or came
        has an annotation, the others' are as they were: only those rows are looked at."""
        stamp = self.project.git.folders_stamp((NOTES_DIR,)) + self.project.git.refs_stamp(prefixes=())
        fresh = not self._notes[0] or stamp != self._notes[0]
        if fresh:
            self._notes = (stamp, read_notes(self.project))
        trials = trial_labels(self.project)
        last, self._annotated = self._annotated, (rows, trials)
        if not fresh and last is not None and last[1] == trials and not self._notes[1]:
            start, end = same_ends(last[0], rows)
            left, came = last[0][start : len(last[0]) - end], rows[start : len(rows) - end]
            touched = left + came  # (a row that came may share a commit another row has)
            if not any(r.rev in self.annotations for r in touched) and not annotate(self.project, came, {}, trials):
                return self.annotations
        found = annotate(self.project, rows, self._notes[1], trials)
        return self.annotations if found == self.annotations else found

    def _shown_rows(self) -> list[ExpRow]:
        return view.with_running(self.rows, self._progress)

    def _redraw(self) -> None:
        rows = self._shown_rows()
        table = view.build(rows, self.cols, self._prefs, self._progress, self.annotations, memo=self._view_memo)
        table["counts"]["workers"] = self._workers
        # (a copy: the view memo keeps the table it built)
        table = dict(table, studies=studies.lines(self._studies, self._prefs))
        self._emit(table=table, prefs=self._prefs.to_json())

    def to_dataframe(self, visible: bool = False):
        """The same DataFrame as ``jupyter_exp.show()``, in collection order; with
        ``visible``, the table as it is shown: its rows in their order (sort, filters,
        expanded checkpoints) and its visible columns, named as ``show()`` names them."""
        from ..render import frame

        if visible:
            with self._lock:
                return export.to_dataframe(view.layout(self._shown_rows(), self.cols, self._prefs, self.annotations))
        return frame.experiments(self.rows, self.cols, self.annotations)

    @property
    def preferences(self) -> view.TableState:
        """The table's preferences (sort, filters, columns, stars)."""
        return self._prefs

    def set_preferences(self, prefs: view.TableState) -> None:
        """Change the preferences (saved for the project) and redraw."""
        with self._lock:
            self._prefs = prefs
            save_prefs(self.project, prefs)
            self._redraw()

    def column_for(self, name: str) -> str:
        """The column id of a param or metric named as ``--sort-by`` takes it."""
        return view.column_id(show_table.find_column(self.cols, name))

    # -- messages in ----------------------------------------------------------------
    def handle(self, message: dict) -> dict:
        """One message from the front end; returns the reply ``{"ok": True}`` or
        ``{"ok": False, "error": line}``. An error is also shown as the table's message:
        the table survives whatever a message does."""
        try:
            self.dispatch(message)
        except JupyterExpError as exc:
            self.say(str(exc), "error")
            return {"ok": False, "error": self.state["message"]}
        except Exception as exc:  # noqa: BLE001 - the table must survive; the log keeps the traceback
            log.exception("experiment table: %s failed", message.get("type"))
            self.say(f"{type(exc).__name__}: {exc}", "error")
            return {"ok": False, "error": self.state["message"]}
        return {"ok": True}

    def dispatch(self, message: dict) -> None:
        """One message, raising what goes wrong (the Python way to drive the table)."""
        handler = self._handlers.get(message.get("type"))  # type: ignore[arg-type]
        if handler is None:
            raise JupyterExpError(f"Unknown table message '{message.get('type')}'.")
        with self._lock:
            handler(message)

    def _column_types(self) -> dict[str, str]:
        return {c["id"]: c["type"] for c in self.state["table"]["all_columns"]}

    def _sort(self, msg: dict) -> None:
        self.set_preferences(view.toggle_sort(self._prefs, msg["column"], bool(msg.get("add"))))

    def _filter(self, msg: dict) -> None:
        flt = view.Filter(msg["column"], msg["op"], str(msg.get("value", "")))
        self.set_preferences(view.add_filter(self._prefs, flt, self._column_types()))

    def _unfilter(self, msg: dict) -> None:
        index, filters = int(msg["index"]), self._prefs.filters
        self.set_preferences(replace(self._prefs, filters=filters[:index] + filters[index + 1 :]))

    def _study(self, msg: dict) -> None:
        """``{"type": "study", "name"}``: show only that study's trials (a filter on the
        Trial column, as the filter bar shows and removes any); again: show all."""
        self.set_preferences(studies.toggle_filter(self._prefs, str(msg["name"]), self._column_types()))

    def _option(self, msg: dict) -> None:
        name, value = msg["name"], bool(msg["value"])
        if name == "only_changed":
            self.set_preferences(replace(self._prefs, only_changed=value))
        elif name == "starred_only":
            self.set_preferences(replace(self._prefs, starred_only=value))
        else:
            raise JupyterExpError(f"Unknown table option '{name}'.")

    def _star(self, msg: dict) -> None:
        key = str(msg["key"])
        running = next((r for r in self._shown_rows() if view.row_key(r) == key and r.state == "running"), None)
        if running is not None and key not in self._prefs.starred:
            raise JupyterExpError(f"'{running.name}' is still running; star it once it has finished.")
        self.set_preferences(replace(self._prefs, starred=view.toggle(self._prefs.starred, key)))

    def _expand(self, msg: dict) -> None:
        self.set_preferences(replace(self._prefs, expanded=view.toggle(self._prefs.expanded, msg["key"])))

    def _hide(self, msg: dict) -> None:
        self.set_preferences(replace(self._prefs, hidden=view.toggle(self._prefs.hidden, msg["column"])))

    def _move(self, msg: dict) -> None:
        ids = list(self._column_types())
        self.set_preferences(view.move_column(self._prefs, ids, msg["column"], int(msg["by"])))

    def _reset(self, _msg: dict) -> None:
        self.set_preferences(replace(view.TableState(), starred=self._prefs.starred))

    def _select(self, msg: dict) -> None:
        keys = [str(k) for k in msg["keys"]]
        if keys != self.state["selected"]:
            self._emit(selected=keys)

    def _queue(self, msg: dict) -> None:
        """The toolbar's run and stop buttons."""
        from ..api import queue as api

        op, jobs, root = msg.get("op"), int(msg.get("jobs") or 1), str(self.project.root)
        if op == "start":
            # In a kernel a thread of this process, as `%exp queue start` starts it; the
            # table follows. A server host starts a detached process instead.
            api.queue_start(jobs, threads=self.queue_in_process, root=root)
            kind = "" if self.queue_in_process else " process"
            self.say(f"Started a queue worker{kind} running {jobs} at a time.")
        elif op == "stop":
            api.queue_stop(root=root)
            self.say("The queue stops after the experiments running now.")
        else:
            raise JupyterExpError(f"Unknown queue operation '{op}'; use start or stop.")
        self.refresh()

    def _row(self, key: str) -> ExpRow:
        for row in self._shown_rows():
            if view.row_key(row) == key:
                return row
        raise JupyterExpError(f"No row '{key}' in the table any more; refresh it.")

    # -- notes, tags, export ---------------------------------------------------------------
    def _noted(self, key: str) -> ExpRow:
        """The row whose note a message changes: one with a commit of its own."""
        row = self._row(key)
        if row.kind == "workspace":
            raise JupyterExpError("The workspace has no commit to note; note an experiment or a baseline.")
        if row.state in ("queued", "running", "failed") or not row.rev:
            raise JupyterExpError(f"'{row.name}' has no commit of its own yet; note it once it has run.")
        return row

    def _note(self, msg: dict) -> None:
        """``{"type": "note", "key", "text"}``: the row's note becomes ``text``."""
        from ..api.notes import note

        row = self._noted(str(msg["key"]))
        note(row.rev, str(msg.get("text") or ""), root=str(self.project.root))
        self.say(f"Noted '{row.name or row.rev[:7]}'." if msg.get("text") else f"Removed the note of '{row.name}'.")
        self.refresh()

    def _tag(self, msg: dict) -> None:
        """``{"type": "tag", "key", "add": [...], "remove": [...]}``."""
        from ..api.notes import note

        row = self._noted(str(msg["key"]))
        add = [str(t) for t in msg.get("add") or []]
        remove = [str(t) for t in msg.get("remove") or []]
        found = note(row.rev, tags=add, untag=remove, root=str(self.project.root))
        shown = ", ".join(found.tags) or "none"
        self.say(f"Tags of '{row.name or row.rev[:7]}': {shown}.")
        self.refresh()

    def _export(self, msg: dict) -> None:
        """``{"type": "export", "format": "csv"}``: the visible table in ``download``."""
        out = view.layout(self._shown_rows(), self.cols, self._prefs, self.annotations)
        name = f"experiments-{self.project.root.name}"
        found = export.download(out, str(msg.get("format") or "csv"), name)
        # "time" makes each export a change: a host that skips equal values (traitlets)
        # would not save the same table twice.
        self._emit(download={**found, "time": time.time()})
        self.say(f"Exported {len(out.shown)} row(s) to {found['filename']}.")

    def _action(self, msg: dict) -> None:
        name = msg["action"]
        keys = list(msg.get("keys") or self.state["selected"])
        run = actions.check(name, keys)
        chosen = [self._row(k) for k in keys]
        self._emit(pending={})
        req = actions.Request(
            name,
            keys,
            chosen,
            msg.get("arg"),
            bool(msg.get("confirmed")),
            self.project,
            self.rows,
            self.cols,
            self._prefs,
        )
        actions.check_rows(req)
        outcome = run(req)
        if outcome.state is not None:
            self.set_preferences(outcome.state)
        if outcome.pending:
            self._emit(pending=outcome.pending)
            return
        if outcome.panel is not None:
            self._emit(panel=outcome.panel)
        if outcome.deselect:
            self._emit(selected=[k for k in self.state["selected"] if k not in outcome.deselect])
        self.say(outcome.message)
        if outcome.refresh:
            self.refresh()

    # -- following the project ---------------------------------------------------------
    def start_live(self) -> None:
        """Follow the project: new experiments, queue states and checkpoint progress
        appear without asking (a daemon thread that stats files)."""
        with self._lock:
            if self.watcher is None:
                self.watcher = Watcher(self)
                self.watcher.start()
            self._emit(live=True)
        tables = [
            ref
            for ref in _live_tables.get(self.project.root, [])
            if (t := ref()) is not None and t is not self and t.watcher is not None
        ]
        tables.append(weakref.ref(self))
        for ref in tables[:-MAX_LIVE_TABLES]:
            if (older := ref()) is not None:
                older.stop_live()
        _live_tables[self.project.root] = tables[-MAX_LIVE_TABLES:]

    def stop_live(self) -> None:
        """Stop following the project (``refresh`` still works)."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self._emit(live=False)

    @property
    def closed(self) -> bool:
        return self._closed or not self.is_open()

    def close(self) -> None:
        """Stop following the project and stop calling back."""
        self.stop_live()
        self._closed = True
        self._callbacks.clear()

    def __repr__(self) -> str:
        return f"<TableController {self.project.root}: {len(self.rows)} rows>"
