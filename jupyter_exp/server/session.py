"""One open project in the server: its ``TableController``, shared by every request and
socket that names the project, and the messages that go out to those sockets.

Threads. Collecting experiments (a refresh, a table message, the watcher's refresh)
never runs on the server's IO loop: requests run in the registry's thread pool and the
watcher refreshes on its own thread. Each change of the controller's state reaches
``ProjectSession._changed`` on the thread that made it, under the controller's lock (so
changes arrive one at a time, in order); it is diffed and serialised there, and only
the writing to sockets is handed to the loop, with ``call_soon_threadsafe``.

Versions. Every message a socket receives carries ``version``, one more than the last;
``GET table`` answers with the state and its version, so a client that sees a gap asks
for the table again. A ``table`` change goes out as a row-level ``table-diff`` (the few
rows a running experiment changed), the other keys as a ``patch`` of those that changed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import math
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..experiments.records import same_ends
from ..project import Project
from ..table.controller import TableController
from . import queue_info
from .table_diff import table_diff, unique_keys

log = logging.getLogger(__name__)
GRACE_SECONDS = 30.0  # the watcher outlives the last socket this long (a page reload reconnects)
# The watcher's re-collections may take this share of a core: below the table's own 3%,
# which is the budget of the whole server process (sockets, diffs, requests) here.
WATCH_CPU_SHARE = 0.02
POOL_THREADS = 4
T = TypeVar("T")


class Socket(Protocol):
    def send_text(self, text: str) -> None: ...


def dumps(value: Any) -> str:
    """JSON for the browser: no NaN or Infinity (JSON.parse refuses them), anything
    else that JSON lacks as text."""
    try:
        return json.dumps(value, allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _settle() -> None:
    """Keep the cyclic garbage collector off the table just built (when a project is
    opened, and when a socket starts following it). A table of 10,000 experiments is a
    million objects that live as long as the server watches; each full collection
    walked them all again (0.7 s on a small machine, every minute or so while
    experiments run). Frozen, they are still freed by reference counting when a refresh
    drops them; only a cycle among them (they hold none), or among the few other
    objects alive at these two moments, would never be collected."""
    gc.freeze()


class ProjectSession:
    """The table of one project and the sockets following it. Made on a pool thread
    (making the controller collects the experiments)."""

    def __init__(self, project: Project, registry: SessionRegistry) -> None:
        self.project = project
        self.registry = registry
        self.sockets: set[Socket] = set()
        self.version = 0
        self.params_memo: dict[str, dict] = {}  # queue entries' params by snapshot commit
        self._lock = threading.Lock()  # guards state, version and status
        self._capture = threading.local()  # the messages a request's own table message made
        self._status: dict[str, int] | None = None
        self._stop_timer: asyncio.TimerHandle | None = None
        self._live_lock = threading.Lock()  # starting and stopping the watcher, one at a time
        self._aliases: dict[str, str] = {}  # row keys made unique for the wire (see unique_keys)
        # The last table's rows and how many of them have each key, while every key is
        # its own: an update then looks only at the keys of the rows that changed.
        self._keyed: tuple[list[dict], Counter[str]] | None = None
        self.controller = TableController(project, queue_in_process=False)
        self.state: dict[str, Any] = dict(self.controller.state)  # as the sockets last heard it
        self.state["table"], self._aliases = self._unique_keys(self.state["table"])
        self.controller.on_change(self._changed)
        _settle()

    # -- state out --------------------------------------------------------------------
    def snapshot(self) -> tuple[dict[str, Any], int]:
        """The state and its version, as one consistent pair."""
        with self._lock:
            return dict(self.state), self.version

    def _changed(self, patch: dict[str, Any]) -> None:
        """A change of the controller's state (any thread, the controller's lock held)."""
        messages: list[dict[str, Any]] = []
        if "table" in patch:
            table, aliases = self._unique_keys(patch["table"])
            patch = dict(patch, table=table)
        with self._lock:
            if "table" in patch:
                self._aliases = aliases
            changed = {k: v for k, v in patch.items() if k not in self.state or self.state[k] != v}
            if "table" in changed:
                diff = table_diff(self.state.get("table"), changed["table"], unique=True)
                if diff is not None:
                    self.version += 1
                    messages.append({"type": "table-diff", "version": self.version, **diff})
            others = {k: v for k, v in changed.items() if k != "table"}
            if others:
                self.version += 1
                messages.append({"type": "patch", "patch": others, "version": self.version})
            self.state.update(changed)
            captured = getattr(self._capture, "messages", None)
            if captured is not None:
                captured.extend(messages)
        if "table" in patch and self.sockets:  # each refresh: the queue may change off the table
            status = queue_info.status(self.project)  # files read outside the lock
            with self._lock:
                if status != self._status:
                    self._status = status
                    messages.append({"type": "status", "status": status})
        if messages and self.sockets:
            texts = [dumps(m) for m in messages]
            self.registry.call_on_loop(self._send, texts)

    def _unique_keys(self, table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """``unique_keys(table)``, looking only at the rows between the unchanged start
        and end of the last table's rows (the same dicts: the view keeps them) while its
        keys were unique (on the controller's lock: one table at a time)."""
        rows = table.get("rows") or []
        if self._keyed is not None:
            old, counts = self._keyed
            start, end = same_ends(old, rows)
            came = rows[start : len(rows) - end]
            counts.subtract(r["key"] for r in old[start : len(old) - end])
            counts.update(r["key"] for r in came)
            if all(counts[r["key"]] == 1 for r in came):
                self._keyed = (rows, counts)
                return table, {}
        unique, aliases = unique_keys(table)
        self._keyed = None if aliases else (rows, Counter(r["key"] for r in rows))
        return unique, aliases

    def _send(self, texts: list[str]) -> None:
        """On the loop: write to every socket of the project."""
        for socket in list(self.sockets):
            for text in texts:
                try:
                    socket.send_text(text)
                except Exception:  # noqa: BLE001 - a closed socket leaves on its own close
                    log.debug("jupyter_exp: a live socket refused a message", exc_info=True)
                    break

    # -- messages in ------------------------------------------------------------------
    def real_key(self, key: str) -> str:
        """The row key the controller knows for a key a client sent (maybe an alias)."""
        return self._aliases.get(key, key)

    def handle(self, message: dict) -> tuple[dict, list[dict[str, Any]], int]:
        """One table message (on a pool thread): the controller's reply, the versioned
        messages its changes made (as the sockets get them: a ``table-diff`` for the
        table, a ``patch`` for other keys) and the version after it."""
        message = dict(message)
        if isinstance(message.get("key"), str):
            message["key"] = self.real_key(message["key"])
        if isinstance(message.get("keys"), list):
            message["keys"] = [self.real_key(k) if isinstance(k, str) else k for k in message["keys"]]
        self._capture.messages = []
        try:
            reply = self.controller.handle(message)
            messages = self._capture.messages
        finally:
            self._capture.messages = None
        with self._lock:
            return reply, messages, self.version

    def refresh_unless_live(self) -> None:
        """Collect again when no watcher keeps the table current (on a pool thread)."""
        if self.controller.watcher is None:
            self.controller.refresh()

    # -- sockets ----------------------------------------------------------------------
    async def attach(self, socket: Socket) -> None:
        """A socket follows the project: the watcher runs while one does."""
        self.sockets.add(socket)
        if self._stop_timer is not None:
            self._stop_timer.cancel()
            self._stop_timer = None
        await self.registry.run(self._live_if_watched)

    def _live_if_watched(self) -> None:
        """Start the watcher if a socket follows the project (on a pool thread). The
        socket is added before this runs and removed before ``_stop_unless_watched``
        runs, and both hold one lock: whichever runs last sees the sockets as they are."""
        with self._live_lock:
            if self.sockets and self.controller.watcher is None:
                # Watching first, then collecting: a change in between is seen by the watcher.
                self.controller.start_live()
                if self.controller.watcher is not None:
                    self.controller.watcher.cpu_share = WATCH_CPU_SHARE
                self.controller.refresh()
                _settle()

    def _stop_unless_watched(self) -> None:
        with self._live_lock:
            if not self.sockets and self.controller.watcher is not None:
                self.controller.stop_live()

    def detach(self, socket: Socket) -> None:
        """A socket closed; the last one stops the watcher after a grace period."""
        self.sockets.discard(socket)
        if not self.sockets and self._stop_timer is None:
            loop = asyncio.get_running_loop()
            self._stop_timer = loop.call_later(self.registry.grace, self._stop_if_unwatched)

    def _stop_if_unwatched(self) -> None:
        self._stop_timer = None
        if not self.sockets:
            # Off the loop: stopping emits a patch under the controller's lock, which a
            # refresh may hold for a while.
            self.registry.submit(self._stop_unless_watched)

    def close(self) -> None:
        if self._stop_timer is not None:
            self._stop_timer.cancel()
        self.controller.close()


class SessionRegistry:
    """Every open project of the server, by the real path of its root, and the thread
    pool that requests and sessions use."""

    def __init__(self, server_root: Path, grace: float = GRACE_SECONDS, threads: int = POOL_THREADS) -> None:
        self.root = Path(server_root).resolve()
        self.grace = grace
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jupyter-exp")
        self._sessions: dict[Path, ProjectSession] = {}
        self._opening: dict[Path, asyncio.Lock] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the pool, awaited on the loop."""
        self._loop = asyncio.get_running_loop()
        return await self._loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))

    def submit(self, fn: Callable[[], Any]) -> None:
        self.executor.submit(fn)

    def call_on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the server's loop, from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    def get(self, project: Project) -> ProjectSession | None:
        return self._sessions.get(project.root)

    async def open(self, project: Project) -> ProjectSession:
        """The project's session, made (on the pool) by the first request naming it."""
        self._loop = asyncio.get_running_loop()
        session = self._sessions.get(project.root)
        if session is not None:
            return session
        lock = self._opening.setdefault(project.root, asyncio.Lock())
        async with lock:
            session = self._sessions.get(project.root)
            if session is None:
                session = await self.run(ProjectSession, project, self)
                self._sessions[project.root] = session
        return session

    def close(self) -> None:
        """Stop every watcher and the pool (the server is stopping)."""
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
        self.executor.shutdown(wait=False, cancel_futures=True)
