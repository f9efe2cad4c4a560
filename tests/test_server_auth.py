"""The server extension refuses what it must: requests without credentials (every
route, found in the running server so that a new route is covered without listing it),
users whose authorizer withholds ``write`` or ``execute``, and project paths outside the
server's root. And no handler class of ``jupyter_exp.server`` lacks its decorators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tornado.httpclient
import tornado.websocket
from conftest import make_repo
from jupyter_server.auth import Authorizer
from jupyter_server.serverapp import _has_tornado_web_authenticated
from safety import Snapshot
from server_helpers import *  # noqa: F403 - pytest-jupyter's fixtures and the server's
from server_helpers import PIPELINE, SESSIONS, fetch_json, on_loop
from tornado.routing import PathMatches

from jupyter_exp.server import handlers


def our_routes(web_app) -> list[tuple[str, type]]:
    """(path pattern, handler class) of every route of jupyter_exp.server the server has."""
    found = []

    def walk(router) -> None:
        for rule in getattr(router, "rules", []):
            if isinstance(rule.target, type):
                if rule.target.__module__.startswith("jupyter_exp.server") and isinstance(rule.matcher, PathMatches):
                    found.append((rule.matcher.regex.pattern, rule.target))
            else:
                walk(rule.target)

    walk(web_app.default_router)
    return found


def implemented(handler: type) -> list[str]:
    """The HTTP methods a handler class of ours defines."""
    return [m for m in handler.SUPPORTED_METHODS if m.lower() in vars(handler) or _inherited_ours(handler, m)]


def _inherited_ours(handler: type, method: str) -> bool:
    return any(k.__module__.startswith("jupyter_exp.server") and method.lower() in vars(k) for k in handler.__mro__[1:])


def test_the_server_has_every_route(jp_serverapp):
    routes = our_routes(jp_serverapp.web_app)
    assert {cls for _, cls in routes} == {cls for _, cls in handlers.ROUTES}
    base = jp_serverapp.base_url
    assert all(pattern.startswith(f"{base}jupyter-exp/") for pattern, _ in routes)


@pytest.mark.parametrize(("allow_unauthenticated", "disable_xsrf"), [(False, False), (True, True)])
@on_loop
async def test_every_route_refuses_requests_without_credentials(jp_serverapp, http_server_client, jp_http_port, proj):
    """With ``allow_unauthenticated_access`` True (and no XSRF check) the server itself
    lets requests without credentials through to the handlers: only our decorators
    refuse them then."""
    routes = our_routes(jp_serverapp.web_app)
    assert len(routes) == len(handlers.ROUTES)
    before = Snapshot.take(proj)
    for pattern, cls in routes:
        path = pattern.rstrip("$") + "?project=proj"
        if issubclass(cls, tornado.websocket.WebSocketHandler):
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{jp_http_port}{path}")
            assert refused.value.code == 403, path
            continue
        for method in implemented(cls):
            body = None if method == "GET" else json.dumps({"type": "queue", "op": "start", "queue": False})
            response = await http_server_client.fetch(path, method=method, body=body, raise_error=False)
            assert response.code == 403, f"{method} {path}: {response.code}"
    before.assert_unchanged()
    assert not (proj / ".dvc" / "tmp" / "jupyter_exp" / "queue").exists()


def decorator_chain(method) -> list[str]:
    """The qualified names of the wrappers around ``method``, outermost first."""
    names = []
    while method is not None:
        names.append(method.__code__.co_qualname)
        method = getattr(method, "__wrapped__", None)
    return names


def missing_decorators(cls: type) -> list[str]:
    """What a handler class of ours lacks: each method authenticated (outermost) and,
    for HTTP routes, authorized under it."""
    problems = []
    websocket = issubclass(cls, tornado.websocket.WebSocketHandler)
    for name in implemented(cls):
        method = getattr(cls, name.lower())
        chain = decorator_chain(method)
        if websocket:
            if not chain[0].startswith("ws_authenticated") or "pre_get" not in vars(cls):
                problems.append(f"{name} of {cls.__name__}: not @ws_authenticated with an authorizing pre_get")
            continue
        if not _has_tornado_web_authenticated(method):
            problems.append(f"{name} of {cls.__name__}: not @web.authenticated (outermost)")
        if not any(q.startswith("authorized.") for q in chain[1:]):
            problems.append(f"{name} of {cls.__name__}: not @authorized under @web.authenticated")
        if getattr(cls, "auth_resource", None) != "jupyter_exp":
            problems.append(f"{cls.__name__}: auth_resource is not 'jupyter_exp'")
    return problems


def test_no_handler_lacks_its_auth_decorators(jp_serverapp):
    classes = [
        v
        for v in vars(handlers).values()
        if isinstance(v, type) and v.__module__ == handlers.__name__ and hasattr(v, "SUPPORTED_METHODS")
    ]
    assert {cls for _, cls in handlers.ROUTES} <= set(classes)
    problems = [p for cls in classes for p in missing_decorators(cls)]
    assert not problems, "\n".join(problems)
    # jupyter_server's own check (what ServerApp.allow_unauthenticated_access=False warns about).
    web_app = jp_serverapp.web_app
    assert [m for pattern, cls in our_routes(web_app) for m in web_app._check_handler_auth(pattern, cls)] == []


def test_the_decorator_check_finds_a_bare_handler():
    class Bare(handlers.ExpHandler):
        async def get(self) -> None: ...

    class AuthenticatedOnly(handlers.ExpHandler):
        @tornado.web.authenticated
        async def post(self) -> None: ...

    assert missing_decorators(Bare) == [
        "GET of Bare: not @web.authenticated (outermost)",
        "GET of Bare: not @authorized under @web.authenticated",
    ]
    assert missing_decorators(AuthenticatedOnly) == [
        "POST of AuthenticatedOnly: not @authorized under @web.authenticated"
    ]


class ReadOnly(Authorizer):
    """A dashboard user: may look, not change or run."""

    def is_authorized(self, handler, user, action, resource):
        return resource == "jupyter_exp" and action == "read"


class NoExecute(Authorizer):
    """May change the project (stars, sort, apply), not run pipeline code."""

    def is_authorized(self, handler, user, action, resource):
        return action in ("read", "write")


class Nobody(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        return False


async def status_of(jp_fetch, route: str, method: str = "GET", body=None) -> int:
    kwargs = {"method": method, "params": {"project": "proj"}, "raise_error": False}
    if method != "GET":
        kwargs["body"] = json.dumps(body if body is not None else {})
    return (await jp_fetch("jupyter-exp", route, **kwargs)).code


@pytest.mark.parametrize("authorizer_class", [ReadOnly])
@on_loop
async def test_a_read_only_user_reads_and_runs_nothing(jp_fetch, proj):
    for route in ("table", "status", "params", "queue"):
        assert await status_of(jp_fetch, route) == 200, route
    before = Snapshot.take(proj)
    refused = [
        ("run", {"set_params": ["train.lr=0.2"], "queue": False}),
        ("queue/start", {"jobs": 1}),
        ("queue/retry", {"ids": ["x"]}),
        ("queue/stop", {}),
        ("queue/remove", {"all": True}),
        ("table", {"type": "queue", "op": "start"}),
        ("table", {"type": "sort", "column": "params.params.yaml:train.lr"}),
        ("table", {"type": "action", "action": "requeue", "keys": ["x"], "arg": {}}),
    ]
    for route, body in refused:
        assert await status_of(jp_fetch, route, "POST", body) == 403, (route, body)
    before.assert_unchanged()
    assert not (proj / ".dvc" / "tmp" / "jupyter_exp" / "queue").exists()


@pytest.mark.parametrize("authorizer_class", [NoExecute])
@on_loop
async def test_writing_is_not_running(jp_fetch, proj):
    """``write`` sorts and stops; only ``execute`` runs, queues, retries, and starts the
    queue from a table message."""
    assert await status_of(jp_fetch, "table", "POST", {"type": "option", "name": "only_changed", "value": True}) == 200
    assert await status_of(jp_fetch, "queue/stop", "POST", {}) == 200
    before = Snapshot.take(proj)
    for route, body in [
        ("table", {"type": "queue", "op": "start", "jobs": 1}),
        ("table", {"type": "action", "action": "requeue", "keys": ["x"], "arg": {}}),
        ("run", {"set_params": ["train.lr=0.2"]}),
        ("queue/start", {"jobs": 1}),
        ("queue/retry", {"ids": ["x"]}),
    ]:
        assert await status_of(jp_fetch, route, "POST", body) == 403, (route, body)
    before.assert_unchanged()
    assert not list((proj / ".dvc" / "tmp" / "jupyter_exp" / "workers").glob("*.json"))  # no worker started
    assert not (proj / ".dvc" / "tmp" / "jupyter_exp" / "queue").exists()


@pytest.mark.parametrize("authorizer_class", [Nobody])
@on_loop
async def test_the_socket_needs_read(jp_ws_fetch, proj):
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await jp_ws_fetch("jupyter-exp", "live", params={"project": "proj"})
    assert refused.value.code == 403


@pytest.fixture
def outside(tmp_path: Path, jp_root_dir: Path) -> Path:
    """A project outside the server's root, and ways to name it from inside: a symlink
    to it, and a symlink to its parent."""
    root = make_repo(tmp_path / "outside" / "proj", PIPELINE)
    (jp_root_dir / "link").symlink_to(root)
    (jp_root_dir / "up").symlink_to(tmp_path / "outside")
    return root


BAD_PATHS = ["..", "../outside/proj", "proj/../..", "/", "link", "up/proj", "proj/.dvc", "proj/.git", "nowhere"]


@on_loop
async def test_paths_outside_the_root_are_refused(jp_fetch, jp_ws_fetch, jp_root_dir, proj, outside, tmp_path):
    bad = [*BAD_PATHS, str(outside), str(proj), "~", "proj\\..\\.."]
    before = Snapshot.take(outside, outside=[tmp_path / "outside"])
    inside = Snapshot.take(proj)
    for path in bad:
        for route, method, body in [
            ("table", "GET", None),
            ("run", "POST", {"set_params": ["train.lr=0.9"], "queue": False}),
            ("queue/start", "POST", {"jobs": 1}),
            ("table", "POST", {"type": "star", "key": "workspace"}),
        ]:
            kwargs = {"method": method, "params": {"project": path}, "raise_error": False}
            if body is not None:
                kwargs["body"] = json.dumps(body)
            response = await jp_fetch("jupyter-exp", route, **kwargs)
            assert response.code == 404, (path, route, response.code)
            message = json.loads(response.body)["message"]
            assert message and "\n" not in message, message
        response = await jp_fetch("jupyter-exp", "project", params={"path": path}, raise_error=False)
        assert response.code == 404, path
        with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
            await jp_ws_fetch("jupyter-exp", "live", params={"project": path})
        assert refused.value.code == 404, path
    before.assert_unchanged()
    inside.assert_unchanged()
    for root in (outside, proj):
        assert not (root / ".dvc" / "tmp" / "jupyter_exp" / "queue").exists()
        assert not (root / ".dvc" / "tmp" / "jupyter_exp" / "table.json").exists()


@on_loop
async def test_a_project_is_found_at_or_above_the_folder_but_not_above_the_root(jp_fetch, jp_root_dir, proj, registry):
    (proj / "notebooks").mkdir()
    (proj / "notebooks" / "a.ipynb").write_text("{}")
    for path in ("proj", "proj/", "proj/notebooks", "proj/notebooks/a.ipynb", "./proj/notebooks"):
        assert await fetch_json(jp_fetch, "project", path=path) == {"project": "proj", "name": "proj", "root_abs": None}
    # A project above the server's root is not found from inside it.
    registry.root = proj / "notebooks"
    response = await jp_fetch("jupyter-exp", "project", params={"path": ""}, raise_error=False)
    assert response.code == 404
    assert "jupyter dvc init" in json.loads(response.body)["message"]


def test_the_session_registry_is_closed_with_the_server(jp_serverapp):
    assert jp_serverapp.web_app.settings[SESSIONS].root == Path(jp_serverapp.root_dir).resolve()
