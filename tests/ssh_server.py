"""An SFTP server on localhost for the SSH remote tests: asyncssh's server on its own
event loop in a thread, its SFTP subsystem rooted (chroot) in a temporary directory,
public-key auth with a client key the fixture generates. No system sshd, no shell:
only SFTP, which is all an SSH data remote needs (DVC's driver and ours are sshfs)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "tester"


@dataclass
class SftpServer:
    """A running server: ``port`` on 127.0.0.1, ``root`` (what ``/`` is to a client),
    ``keyfile`` (the client's private key, OpenSSH format)."""

    port: int
    root: Path
    keyfile: Path
    user: str = USER

    def url(self, path: str = "store") -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}/{path}"


def _start(root: Path, keydir: Path) -> tuple[SftpServer, asyncio.AbstractEventLoop, threading.Thread, object]:
    import asyncssh

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    keyfile = keydir / "id_ed25519"
    client_key.write_private_key(str(keyfile))
    keyfile.chmod(0o600)
    client_key.write_public_key(str(keyfile) + ".pub")
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())

    class Server(asyncssh.SSHServer):
        """Only ``USER`` with the generated key gets in (any other user: no key is accepted)."""

        def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
            self.conn = conn

        def begin_auth(self, username: str) -> bool:
            if username == USER:
                self.conn.set_authorized_keys(authorized)
            return True

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def listen() -> None:
            holder["server"] = await asyncssh.listen(
                "127.0.0.1",
                0,
                server_host_keys=[host_key],
                server_factory=Server,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root)),
                allow_scp=False,
            )
            ready.set()

        loop.run_until_complete(listen())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True, name="sftp-server")
    thread.start()
    assert ready.wait(30), "the SFTP server did not start"
    server = holder["server"]
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return SftpServer(port, root, keyfile), loop, thread, server


@pytest.fixture
def sftp_server(tmp_path):
    """A fresh SFTP server whose root is an empty ``tmp_path/sftp-root``; stopped after the test."""
    root = tmp_path / "sftp-root"
    root.mkdir()
    keys = tmp_path / "keys"
    keys.mkdir()
    info, loop, thread, server = _start(root, keys)
    yield info

    async def stop() -> None:
        server.close()  # type: ignore[attr-defined]
        await server.wait_closed()  # type: ignore[attr-defined]

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


if __name__ == "__main__":  # bench/remote.py runs it in a process of its own: ROOT KEYDIR
    import sys

    info, _loop, thread, _server = _start(Path(sys.argv[1]), Path(sys.argv[2]))
    print(info.port, flush=True)
    thread.join()
