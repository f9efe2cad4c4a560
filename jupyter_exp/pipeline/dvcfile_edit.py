"""Round-trip edits of ``dvc.yaml``, ``dvc.lock`` and ``.dvc`` files, as DVC makes them.

DVC loads these files with ruamel's round-trip loader, changes one key and dumps the
document again (block style), so comments, key order and quoting outside the edited
entry stay as they were. :func:`load_round_trip` / :func:`dump_round_trip` do the same;
:func:`unignore` drops a ``.gitignore`` entry as scmrepo does (an emptied file is deleted).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import YAMLFileError
from ..serialize import read_text, write_text_atomic


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    return yaml


def load_round_trip(path: Path, name: str) -> Any:
    """The document at ``path`` with its comments (``name`` labels errors).

    Raises:
        YAMLFileError: not UTF-8 or not YAML (one line naming ``name``).
    """
    from ruamel.yaml import YAMLError

    text = read_text(path, name)  # refuses non-UTF-8 with one line
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise YAMLFileError(f"{name} is not valid YAML{where}; fix the file and rerun.") from None


def dump_round_trip(path: Path, doc: Any) -> None:
    """Write ``doc`` to ``path`` atomically, as DVC's ``dump_yaml`` writes it."""
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    write_text_atomic(path, buf.getvalue())


def unignore(root: Path, relpath: str) -> Path | None:
    """Drop ``/<name>`` of ``relpath`` from its directory's ``.gitignore`` (deleted when
    nothing is left); return the file when it changed. A ``.gitignore`` that is a symlink
    is left alone (we never write through a link)."""
    parent, _, name = relpath.rpartition("/")
    gitignore = root / parent / ".gitignore" if parent else root / ".gitignore"
    if gitignore.is_symlink() or not gitignore.is_file():
        return None
    lines = read_text(gitignore, ".gitignore").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != f"/{name}"]
    if len(kept) == len(lines):
        return None
    if not kept:
        gitignore.unlink()
    else:
        write_text_atomic(gitignore, "".join(kept))
    return gitignore
