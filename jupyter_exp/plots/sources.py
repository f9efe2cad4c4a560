"""A plot's data file at one revision: its parsed contents, or the error DVC reports.

DVC reads plot files through its own filesystem and, when one cannot be read, keeps
going: the error is reported with the plot (``plots show --json``'s ``errors``) and
the other plots render. We do the same, with DVC's error names and messages so that
the JSON matches (``FileNotFoundError``, ``EncodingError``, ``JSONFileCorruptedError``
...), plus our own refusal of a path that leaves the project (``PathError``).

Every path goes through ``Project.resolve_relpath`` first; in the workspace its
symlinks are followed and must stay inside the project.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import posixpath
from dataclasses import dataclass
from typing import Any

from ..errors import JupyterExpError
from ..project import Project
from ..revision import RevisionTree
from ..tree import WorkspaceTree

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".gif", ".png", ".svg"})  # dvc-render's ImageRenderer's
DATA_EXTENSIONS = frozenset({".json", ".yaml", ".yml", ".toml", ".py", ".csv", ".tsv"})


@dataclass(frozen=True)
class PlotError:
    """An error as DVC's ``--json`` names it: the exception's class name and message."""

    type: str
    msg: str

    @classmethod
    def of(cls, exc: BaseException) -> PlotError:
        return cls(getattr(exc, "dvc_name", type(exc).__name__), str(exc))

    def line(self) -> str:
        """The message on one line (DVC's type error spans two)."""
        return " ".join(self.msg.split())


def _unreadable(path: str, problem: str) -> str:
    return f"unable to read: '{path}', {problem}"


def read_source(project: Project, view: RevisionTree, path: str, header: bool = True) -> tuple[Any, PlotError | None]:
    """The parsed contents of ``path`` at ``view`` (bytes for an image), or the error.

    ``header`` False reads a CSV/TSV file's columns as ``"0"``, ``"1"``, ... (``--no-header``).
    """
    try:
        rel = project.resolve_relpath(path, where="plots", follow_links=isinstance(view.inner, WorkspaceTree))
    except JupyterExpError as exc:
        return None, PlotError.of(exc)
    ext = posixpath.splitext(rel)[1]
    if ext not in IMAGE_EXTENSIONS and ext not in DATA_EXTENSIONS:
        # DVC's message, word for word (it is part of the --json output)
        return None, PlotError(
            "PlotMetricTypeError", f"'{rel}' - file type error\nOnly JSON, YAML, CSV and TSV formats are supported."
        )
    try:
        raw = view.read(rel)
    except JupyterExpError as exc:  # a malformed lock, an object not in the cache
        return None, PlotError.of(exc)
    if raw is None:
        return None, PlotError.of(FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), rel))
    if ext in IMAGE_EXTENSIONS:
        return raw, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, PlotError("EncodingError", _unreadable(rel, "is not valid utf8"))
    try:
        return parse(text, rel, ext, header), None
    except _Corrupted as exc:
        return None, PlotError(
            f"{exc.kind}FileCorruptedError", _unreadable(rel, f"{exc.kind} file structure is corrupted")
        )


def _records(names: list[str], rows) -> list[dict]:
    """Rows as mappings, as ``csv.DictReader`` makes them (blank rows skipped, missing
    fields None, extra fields in a list under the key None), at a third of its cost."""
    width = len(names)
    found: list[dict] = []
    for row in rows:
        if not row:
            continue
        if len(row) == width:
            found.append(dict(zip(names, row)))
        elif len(row) < width:
            found.append(dict(zip(names, row + [None] * (width - len(row)))))
        else:
            record: dict = dict(zip(names, row))
            record[None] = row[width:]
            found.append(record)
    return found


class _Corrupted(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


def parse(text: str, rel: str, ext: str, header: bool = True) -> Any:
    """Text of a plot file as DVC parses it: rows of strings for CSV/TSV (a header
    first unless ``header`` is False), the document for JSON/YAML/TOML/.py (an empty
    one as ``{}``).

    Raises:
        _Corrupted: the text does not parse (the kind names the format: JSON, YAML, TOML).
    """
    if ext in (".csv", ".tsv"):
        rows = csv.reader(io.StringIO(text), delimiter="\t" if ext == ".tsv" else ",")
        first = next(rows, None)
        if first is None:
            return []
        names = first if header else [str(i) for i in range(len(first))]
        return _records(names, rows if header else [first, *rows])
    if ext == ".json":
        try:
            return json.loads(text) or {}
        except json.JSONDecodeError:
            raise _Corrupted("JSON") from None
    if ext in (".toml", ".py"):
        from ..params import parse_params

        try:
            return parse_params(text, rel) or {}
        except JupyterExpError:
            raise _Corrupted("TOML" if ext == ".toml" else "YAML") from None
    from ruamel.yaml import YAMLError

    from ..serialize import parse_yaml

    try:
        return parse_yaml(text, rel) or {}
    except (JupyterExpError, YAMLError):
        raise _Corrupted("YAML") from None
