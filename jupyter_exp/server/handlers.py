"""The REST routes and the live socket under ``{base_url}jupyter-exp/``, as the
contract with the JupyterLab front end names them (/work/api-contract.md).

Every handler is authenticated (``@web.authenticated``; the socket ``@ws_authenticated``)
and authorized on the resource ``jupyter_exp``: reads need ``read``, changes ``write``,
and whatever runs pipeline code (run, queue start, retry, a table message that queues)
needs ``execute``, the trust level of kernels and terminals. A handler only parses,
resolves the project and calls the engine on the session registry's thread pool: the
IO loop never collects experiments, and no read takes the project lock.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketHandler

from ..errors import JupyterExpError
from ..project import Project
from ..table import view
from . import apply_preview, params_info, plots_info, queue_actions, queue_info
from .paths import ProjectNotFound, find_project, relative_to_root
from .session import ProjectSession, SessionRegistry, dumps

AUTH_RESOURCE = "jupyter_exp"
SETTINGS_KEY = "jupyter_exp_sessions"
URL_PREFIX = "jupyter-exp"
# Table messages that run pipeline code (or queue it): they need "execute" besides "write".
EXECUTING = {("queue", "start"), ("action", "requeue")}


class Refused(web.HTTPError):
    """An answer other than 200 with a one-line ``{"message"}`` for the front end."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status)
        self.message = message


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def answering() -> Iterator[None]:
    """The engine's errors as the contract's answers: a project that is not there (or
    not allowed) is a 404, any other JupyterExpError a 400 with its line."""
    try:
        yield
    except ProjectNotFound as exc:
        raise Refused(404, one_line(exc)) from None
    except JupyterExpError as exc:
        raise Refused(400, one_line(exc)) from None


class ExpHandler(APIHandler):
    """What every route shares: the registry, the project named by ``?project=``, the
    JSON body and JSON answers."""

    auth_resource = AUTH_RESOURCE

    @property
    def registry(self) -> SessionRegistry:
        return self.settings[SETTINGS_KEY]

    def project(self, argument: str = "project") -> Project:
        return find_project(self.registry.root, self.get_query_argument(argument, ""))

    async def session(self) -> ProjectSession:
        return await self.registry.open(self.project())

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise Refused(400, "The request body is not JSON; send a JSON object.") from None
        if not isinstance(data, dict):
            raise Refused(400, "The request body must be a JSON object.")
        return data

    def answer(self, value: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(value if isinstance(value, str) else dumps(value))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, Refused):
            self.set_header("Content-Type", "application/json")
            self.finish(dumps({"message": exc.message}))
            return
        super().write_error(status_code, **kwargs)


class ProjectHandler(ExpHandler):
    """GET project?path=DIR: the project containing a folder or file."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with answering():
            project = self.project("path")
        self.answer(
            {"project": relative_to_root(self.registry.root, project.root), "name": project.root.name, "root_abs": None}
        )


class TableHandler(ExpHandler):
    """GET table: the state and its version; POST table: one message of the table,
    answered with the versioned messages it made (``table-diff``, ``patch``)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with answering():
            session = await self.session()
            await self.registry.run(session.refresh_unless_live)
            state, version = session.snapshot()
            self.answer(await self.registry.run(dumps, {"state": state, "version": version}))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        message = self.body()
        if not isinstance(message.get("type"), str):
            raise Refused(400, 'A table message needs a "type".')
        step = (message["type"], message.get("op") if message["type"] == "queue" else message.get("action"))
        if step in EXECUTING:
            allowed = await ensure_async(
                self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)
            )
            if not allowed:
                raise Refused(403, f"You are not allowed to run experiments here ({' '.join(map(str, step))}).")
        with answering():
            session = await self.session()
            reply, messages, version = await self.registry.run(session.handle, message)
        # What changed, as the live socket sends it (a row-level diff of the table, not
        # the table): the client applies each message once, whichever way it came first.
        patch = {k: v for m in messages if m["type"] == "patch" for k, v in m["patch"].items()}
        answer = {
            "messages": messages,
            "patch": patch,
            "version": version,
            "ok": reply["ok"],
            "error": reply.get("error"),
        }
        self.answer(await self.registry.run(dumps, answer))


class StatusHandler(ExpHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        with answering():
            self.answer(await self.registry.run(queue_info.status, self.project()))


class ParamsHandler(ExpHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        with answering():
            self.answer(await self.registry.run(params_info.params_files, self.project()))


class PlotsHandler(ExpHandler):
    """GET plots: the plots the sidebar offers (DVC's with the Plot panel's ids, trends,
    studies'); with ``?plot=ID`` (``&revisions=["label=rev", ...]``, ``&metric=``) that plot drawn."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        plot = self.get_query_argument("plot", None)
        with answering():
            if plot is None:
                self.answer(await self.registry.run(plots_info.plots, self.project()))
            else:
                revisions, metric = self.get_query_argument("revisions", "[]"), self.get_query_argument("metric", None)
                self.answer(await self.registry.run(plots_info.draw, self.project(), plot, revisions, metric))


class RunHandler(ExpHandler):
    """POST run: queue experiments (a sweep is several), and unless ``queue`` start a
    detached worker for them."""

    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body()
        with answering():
            self.answer(await self.registry.run(queue_actions.run, self.project(), body))


class QueueHandler(ExpHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        with answering():
            session = await self.session()
            self.answer(await self.registry.run(queue_info.entries, session.project, session.params_memo))


class QueueStartHandler(ExpHandler):
    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body()
        with answering():
            self.answer(await self.registry.run(queue_actions.queue_start, self.project(), body))


class QueueStopHandler(ExpHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        with answering():
            self.answer(await self.registry.run(queue_actions.queue_stop, self.project(), body))


class QueueKillHandler(ExpHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        with answering():
            self.answer(await self.registry.run(queue_actions.queue_kill, self.project(), body))


class QueueRetryHandler(ExpHandler):
    @web.authenticated
    @authorized(action="execute")
    async def post(self) -> None:
        body = self.body()
        with answering():
            self.answer(await self.registry.run(queue_actions.queue_retry, self.project(), body))


class QueueRemoveHandler(ExpHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        with answering():
            self.answer(await self.registry.run(queue_actions.queue_remove, self.project(), body))


class LogsHandler(ExpHandler):
    """GET logs?entry=ID&offset=N: a queue entry's log from byte N."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        entry = self.get_query_argument("entry", "")
        offset = self.get_query_argument("offset", "0")
        if not entry:
            raise Refused(400, "Name the queue entry: ?entry=ID.")
        if not offset.isdigit():
            raise Refused(400, f"offset '{offset}' is not a byte offset; give a whole number from 0.")
        with answering():
            self.answer(await self.registry.run(queue_info.log_from, self.project(), entry, int(offset)))


class ApplyPreviewHandler(ExpHandler):
    """GET apply-preview?key=ROWKEY: the files (relative to the server's root) that
    applying the row would change."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        with answering():
            session = await self.session()
            key = session.real_key(self.get_query_argument("key", ""))
            row = next((r for r in session.controller.rows if view.row_key(r) == key), None)
            if row is None:
                raise Refused(400, f"No row '{key}' in the table any more; refresh it.")
            paths = await self.registry.run(apply_preview.changed_by_apply, session.project, row)
        base = relative_to_root(self.registry.root, session.project.root)
        self.answer({"paths": [f"{base}/{p}" if base else p for p in paths]})


class LiveHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """WS live?project=P: the project's changes, pushed (server to client only)."""

    auth_resource = AUTH_RESOURCE
    _session: ProjectSession | None = None

    @property
    def registry(self) -> SessionRegistry:
        return self.settings[SETTINGS_KEY]

    async def pre_get(self) -> None:
        """Authorize (``read``) and find the project before the socket opens."""
        allowed = await ensure_async(self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE))
        if not allowed:
            raise web.HTTPError(403)
        try:
            project = find_project(self.registry.root, self.get_query_argument("project", ""))
        except ProjectNotFound:
            raise web.HTTPError(404) from None
        self._session = await self.registry.open(project)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        result = super().get(*args, **kwargs)
        if result is not None:
            await result

    async def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        assert self._session is not None  # set in pre_get
        await self._session.attach(self)

    def on_message(self, message: str | bytes) -> None:
        """The socket only pushes; the front end sends through POST table."""

    def on_close(self) -> None:
        if self._session is not None:
            self._session.detach(self)

    def send_text(self, text: str) -> None:
        self.write_message(text)


ROUTES: list[tuple[str, type]] = [
    ("project", ProjectHandler),
    ("table", TableHandler),
    ("status", StatusHandler),
    ("params", ParamsHandler),
    ("plots", PlotsHandler),
    ("run", RunHandler),
    ("queue", QueueHandler),
    ("queue/start", QueueStartHandler),
    ("queue/stop", QueueStopHandler),
    ("queue/kill", QueueKillHandler),
    ("queue/retry", QueueRetryHandler),
    ("queue/remove", QueueRemoveHandler),
    ("logs", LogsHandler),
    ("apply-preview", ApplyPreviewHandler),
    ("live", LiveHandler),
]


def setup_handlers(web_app: Any, registry: SessionRegistry) -> None:
    """Register the routes under ``{base_url}jupyter-exp/``."""
    web_app.settings[SETTINGS_KEY] = registry
    base = url_path_join(web_app.settings.get("base_url", "/"), URL_PREFIX)
    web_app.add_handlers(".*$", [(url_path_join(base, route) + "$", handler) for route, handler in ROUTES])
