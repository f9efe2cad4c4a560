"""Import stages: ``.dvc`` files written by ``dvc import`` / ``dvc import-url``.

Such a file has ``deps`` besides its ``outs``: ``[{path, repo: {url, rev_lock}}]`` for
an import from a DVC or git repository, ``[{path: URL, ...}]`` for ``import-url``. Its
data comes from elsewhere, so jupyter_exp never re-hashes it as plain data: status,
repro, commit and checkout name it in one line and leave updating it to DVC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..project import Project
from ..serialize import parse_yaml, read_text
from .results import ImportSource


def _one_line(value: Any) -> str:
    # A crafted file must not smuggle newlines or control characters into our output.
    return " ".join(str(value).split()) or "?"


def import_source(data: Any, dvcfile: str) -> ImportSource | None:
    """The import a parsed ``.dvc`` file describes, None for plain tracked data."""
    deps = data.get("deps") if isinstance(data, dict) else None
    if not isinstance(deps, list) or not deps:
        return None
    frozen = bool(data.get("frozen"))
    for dep in deps:
        repo = dep.get("repo") if isinstance(dep, dict) else None
        if isinstance(repo, dict):
            rev = repo.get("rev_lock") or repo.get("rev")
            return ImportSource(
                dvcfile,
                _one_line(repo.get("url")),
                _one_line(rev) if rev else None,
                _one_line(dep.get("path")),
                frozen,
            )
    first = deps[0]
    path = first.get("path") if isinstance(first, dict) else first
    return ImportSource(dvcfile, _one_line(path), None, _one_line(path), frozen)


def read_import(project: Project, dvcfile: str) -> ImportSource | None:
    """:func:`import_source` of the project's ``dvcfile`` (project-relative).

    Raises:
        YAMLFileError: not UTF-8 or not YAML.
    """
    path: Path = project.root / dvcfile
    return import_source(parse_yaml(read_text(path, dvcfile), dvcfile), dvcfile)


def collect_imports(project: Project) -> list[ImportSource]:
    """Every import ``.dvc`` file git knows about or that sits in the work tree."""
    found = []
    for name in project.git.ls_files("*.dvc", check=False):
        if name.endswith(".dvc") and (project.root / name).is_file():
            source = read_import(project, name)
            if source is not None:
                found.append(source)
    return found
