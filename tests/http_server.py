"""An HTTP data remote on localhost for the HTTP remote tests: Python's threading HTTP
server serving a temporary directory (GET, HEAD) and storing uploads (POST or PUT, with
a Content-Length or chunked, as aiohttp streams a file), the way a plain upload-capable
web server behind DVC's http remote does. An upload lands under a temporary name and is
renamed when whole; a path with ``..`` is refused. Every request's method and path is
recorded, so a test can tell which verb each tool used."""

from __future__ import annotations

import os
import posixpath
import threading
import uuid
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest


@dataclass
class HttpServer:
    """A running server: ``port`` on 127.0.0.1 serving ``root``; ``requests``: (method, path)."""

    port: int
    root: Path
    requests: list[tuple[str, str]] = field(default_factory=list)
    authorization: str | None = None  # when set, the Authorization header every request must carry

    def url(self, path: str = "store") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


class _Handler(SimpleHTTPRequestHandler):
    server_info: HttpServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (quiet)
        pass

    def _refused(self) -> bool:
        expected = self.server_info.authorization
        if expected is None or self.headers.get("Authorization") == expected:
            return False
        self.send_error(401)
        return True

    def send_head(self):  # type: ignore[no-untyped-def]
        self.server_info.requests.append((self.command, self.path))
        if self._refused():
            return None
        return super().send_head()

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()  # the blank line after the last chunk
                    return
                yield self.rfile.read(size)
                self.rfile.readline()  # CRLF after each chunk
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def _store(self) -> None:
        self.server_info.requests.append((self.command, self.path))
        if self._refused():
            return
        rel = posixpath.normpath(unquote(urlparse(self.path).path)).lstrip("/")
        if rel.startswith("..") or not rel or rel == ".":
            self.send_error(403)
            return
        target = self.server_info.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".upload-{uuid.uuid4().hex}"
        with open(temp, "wb") as out:
            for chunk in self._body():
                out.write(chunk)
        os.replace(temp, target)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = _store
    do_PUT = _store


def start(root: Path) -> tuple[HttpServer, ThreadingHTTPServer, threading.Thread]:
    """Serve ``root`` on a free localhost port from a thread; returns the record, the server and its thread."""
    info = HttpServer(0, root)
    handler = type("Handler", (_Handler,), {"server_info": info})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    server.daemon_threads = True
    info.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="http-remote")
    thread.start()
    return info, server, thread


@pytest.fixture
def http_server(tmp_path):
    """A fresh upload-capable HTTP server over an empty ``tmp_path/http-root``; stopped after the test."""
    root = tmp_path / "http-root"
    root.mkdir()
    info, server, thread = start(root)
    yield info
    server.shutdown()
    server.server_close()
    thread.join(10)


if __name__ == "__main__":  # bench/remote.py runs it in a process of its own: ROOT
    import sys

    info, _server, thread = start(Path(sys.argv[1]))
    print(info.port, flush=True)
    thread.join()
