"""Reading git objects through one persistent ``git cat-file --batch`` process per
repository: reading many files at a revision costs one process, not one each."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import IO

Found = tuple[str, str, bytes]  # (oid, type, bytes)


class ObjectReader:
    """The ``cat-file --batch`` process of one work tree, started on first use and
    shared by the threads of this process (one exchange at a time)."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def read_object(self, spec: str) -> Found | None:
        """``(oid, type, bytes)`` of the object ``spec`` names, or None if missing."""
        with self._lock:
            stdin, stdout = self._pipes()
            if not _askable(spec):
                return None
            stdin.write(f"{spec}\n".encode())
            stdin.flush()
            header = _parse_header(stdout.readline())
            if header is None:
                return None
            data = stdout.read(header[2])
            stdout.read(1)
            return header[0], header[1], data

    def read_objects(self, specs: list[str]) -> list[Found | None]:
        """Many ``read_object`` answers in one pipelined exchange with the batch process.

        A writer thread feeds the requests while this thread reads the answers, so
        neither side can block the other on a full pipe.
        """
        if not specs:
            return []
        with self._lock:
            stdin, stdout = self._pipes()
            payload = "".join(f"{spec}\n" for spec in specs if _askable(spec)).encode()

            def feed() -> None:
                stdin.write(payload)
                stdin.flush()

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            answers: list[Found | None] = []
            for spec in specs:
                if not _askable(spec):
                    answers.append(None)
                    continue
                header = _parse_header(stdout.readline())
                if header is None:
                    answers.append(None)
                    continue
                data = stdout.read(header[2])
                stdout.read(1)
                answers.append((header[0], header[1], data))
            writer.join()
            return answers

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """stdin and stdout of the batch process, started (again) if it is not running."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                env={**os.environ, **self.env} if self.env else None,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert self._proc.stdin is not None and self._proc.stdout is not None  # both are pipes
        return self._proc.stdin, self._proc.stdout

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass


def _askable(spec: str) -> bool:
    """Whether ``spec`` can go to ``cat-file --batch``: one request per line, so a
    newline in it would split it in two and shift every later answer."""
    return bool(spec) and "\n" not in spec and "\r" not in spec


def _parse_header(line: bytes) -> tuple[str, str, int] | None:
    """``(oid, type, size)`` from a ``cat-file --batch`` header, or None for
    ``<spec> missing`` / ``<spec> ambiguous`` (whatever spaces the spec holds)."""
    text = line.decode(errors="replace").rstrip("\n")
    if text.endswith((" missing", " ambiguous")) or not text:
        return None
    parts = text.split(" ")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])
