"""Vega-Lite templates: DVC's (from ``dvc-render``) and the project's own.

A template name is looked up as DVC looks it up (``dvc_render.vega_templates``):
``.dvc/plots/NAME`` or ``.dvc/plots/NAME.json``, then NAME as a path from the
current directory, then DVC's built-in templates. Unlike dvc-render we read the file
ourselves, after confining it: a template (a name from ``dvc.yaml`` or a flag) may
not leave the project or read through a symlink that does. A file that is not a
JSON mapping holding the ``<DVC_METRIC_DATA>`` anchor is refused in one line.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from ..errors import JupyterExpError
from ..project import Project
from .charts import CHART_TEMPLATES

DATA_ANCHOR = "<DVC_METRIC_DATA>"
_cache: dict[tuple[str, int, int, int], Any] = {}  # loaded template files by (path, inode, size, mtime)


class TemplateError(JupyterExpError):
    """A plot template that cannot be found or used."""


def builtin_names() -> list[str]:
    """DVC's template names, in ``dvc plots templates``' order."""
    from dvc_render.vega_templates import TEMPLATES

    return [t.DEFAULT_NAME for t in TEMPLATES]


def builtin_content(name: str) -> dict:
    """A built-in template's Vega-Lite spec, anchors unfilled (``dvc plots templates NAME``).

    Raises:
        TemplateError: no built-in template has that name.
    """
    from dvc_render.vega_templates import TEMPLATES

    for template in TEMPLATES:
        if template.DEFAULT_NAME == name:
            return template.DEFAULT_CONTENT
    raise TemplateError(f"Unexpected template: {name}; use one of {', '.join(builtin_names())}.")


def _confined(project: Project, path: Path, name: str) -> Path:
    """``path`` with its symlinks resolved, refused outside the project or in ``.git``."""
    root = project.root.resolve()
    real = path.resolve()
    if not real.is_relative_to(root):
        raise TemplateError(f"Template '{name}' is outside the project ({real}); put it in .dvc/plots/.")
    if real.relative_to(root).parts[:1] == (".git",):
        raise TemplateError(f"Template '{name}' is inside .git; put it in .dvc/plots/.")
    return real


def find_template(project: Project, name: str) -> Path | None:
    """The file a template name designates, confined to the project; None for a built-in.

    Raises:
        TemplateError: a name that leaves ``.dvc/plots``/the project, or is not known.
    """
    if not name or "\0" in name:
        raise TemplateError(f"Template {name!r} is not a valid name; use a built-in name or a file in .dvc/plots/.")
    templates_dir = project.plot_templates_dir
    for candidate in (templates_dir / name, templates_dir / f"{name}.json"):
        if os.path.lexists(candidate) and not candidate.is_dir():
            found = _confined(project, candidate, name)
            if not found.is_relative_to(templates_dir.resolve()) and ".." in Path(name).parts:
                raise TemplateError(f"Template '{name}' leaves .dvc/plots/; name a file inside it.")
            return found
    as_path = Path(os.getcwd()) / name
    if as_path.is_file():
        return _confined(project, as_path, name)
    if name in builtin_names() or name in CHART_TEMPLATES:
        return None
    raise TemplateError(
        f"Template '{name}' not found; use one of {', '.join(builtin_names())} or a JSON file in .dvc/plots/."
    )


def load_template(project: Project, name: str | None):
    """The ``dvc_render`` Template for ``name`` (default ``linear``), read safely.

    Raises:
        TemplateError: unknown, unreadable, not JSON, not a mapping, or without the data anchor.
    """
    from dvc_render.vega_templates import Template, get_template

    name = name or "linear"
    path = find_template(project, name)
    if path is None:
        if name in CHART_TEMPLATES:
            return Template(copy.deepcopy(CHART_TEMPLATES[name]), name=name)
        return get_template(name)  # a built-in: dvc-render's own class
    try:
        stat = path.stat()
    except OSError as exc:
        raise TemplateError(f"Cannot read template '{name}': {exc.strerror or exc}; fix the file.") from None
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        _cache[key] = _read(path, name)
    return Template(_cache[key], name=name)


def _read(path: Path, name: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"Template '{name}' is not UTF-8 text; save it as UTF-8 JSON.") from None
    except OSError as exc:
        raise TemplateError(f"Cannot read template '{name}': {exc.strerror or exc}; fix the file.") from None
    try:
        content = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        problem = getattr(exc, "msg", "too deeply nested")
        raise TemplateError(f"Template '{name}' is not valid JSON ({problem}); fix the file.") from None
    if not isinstance(content, dict):
        raise TemplateError(f"Template '{name}' must be a JSON object (a Vega-Lite spec); fix the file.")
    if DATA_ANCHOR not in text:
        raise TemplateError(f"Template '{name}' does not use the {DATA_ANCHOR} anchor; add it where the data goes.")
    return content
